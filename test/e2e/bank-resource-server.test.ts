// A bank's DPoP-bound access token at a resource server (RFC 9449 §7, RFC 8707): the provider issues
// tokens for a registered resource server that name the bank's DPoP key (cnf.jkt, the key of the
// token request's proof), so a resource server that checks the proof — here the test's own, on
// loopback, for a JWT token and for an opaque one it introspects — can refuse the token without its
// key, with another key, with a replayed proof or with a proof made for another request.
import { expect } from 'chai';
import * as client from 'openid-client';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser } from '../support/browserless.ts';
import { discoverBank, dpopKey, dpopProof, levelTwoCitizen, signingKey, type DpopKey } from '../support/bank.ts';
import { introspectedAccessTokens, jwtAccessTokens, startDpopResourceServer, type AccessTokenCheck, type DpopResourceServer } from '../support/dpop-resource-server.ts';
import { currentTotp } from '../../src/accounts/totp.ts';

const BANK_REDIRECT = 'http://127.0.0.1:4003/callback';
const SERVICE_SECRET = 'a-resource-server-secret-for-tests';

describe('bank profile: a DPoP-bound access token at a resource server', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let bank: client.Configuration;
  /** The accounts API: JWT access tokens (the default format), checked with jose. */
  let accounts: DpopResourceServer;
  /** The payments API: opaque access tokens, introspected with its own credentials. */
  let payments: DpopResourceServer;
  let accountsCheck: AccessTokenCheck;
  let paymentsCheck: AccessTokenCheck;

  before(async function () {
    world = await startTestServer();
    accounts = await startDpopResourceServer('/accounts', () => accountsCheck);
    payments = await startDpopResourceServer('/payments', () => paymentsCheck);
    const { clients } = world.server.container;
    expect(
      await clients.create({
        clientId: 'accounts-api',
        name: 'Accounts API',
        profile: 'service',
        secret: SERVICE_SECRET,
        approvedScopes: [],
        settings: { resourceServer: { resources: [accounts.url], scopes: ['accounts:read'] } },
      }),
    ).to.not.equal(undefined);
    expect(
      await clients.create({
        clientId: 'payments-api',
        name: 'Payments API',
        profile: 'service',
        secret: SERVICE_SECRET,
        approvedScopes: [],
        settings: { resourceServer: { resources: [payments.url], scopes: ['payments:read'], accessTokenFormat: 'opaque' } },
      }),
    ).to.not.equal(undefined);
    const paymentsApi = await client.discovery(new URL(world.issuer), 'payments-api', undefined, client.ClientSecretBasic(SERVICE_SECRET), {
      execute: [client.allowInsecureRequests],
    });
    accountsCheck = jwtAccessTokens(world.issuer, () => accounts.url);
    paymentsCheck = introspectedAccessTokens(paymentsApi, () => payments.url);

    const bankKey = await signingKey('ES256', 'vault-bank-1');
    await clients.save({
      clientId: 'vault-bank',
      name: 'Vault bank',
      profile: 'bank',
      approvedScopes: ['openid'],
      redirectUris: [BANK_REDIRECT],
      subjectType: 'public',
      jwks: { keys: [bankKey.publicJwk] },
    });
    bank = await discoverBank(world.issuer, 'vault-bank', bankKey);
  });
  after(async function () {
    await accounts?.close();
    await payments?.close();
    await world?.close();
  });

  /** A citizen signs in to the bank (PAR with `resource`), the code is exchanged for that resource with a DPoP proof of `key`. */
  async function tokenFor(resource: string, key: DpopKey) {
    const citizen = await levelTwoCitizen(world);
    const dpop = client.getDPoPHandle(bank, {
      privateKey: key.privateKey,
      publicKey: await crypto.subtle.importKey('jwk', key.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']),
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = await client.buildAuthorizationUrlWithPAR(
      bank,
      {
        redirect_uri: BANK_REDIRECT,
        scope: 'openid',
        resource,
        state,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      },
      { DPoP: dpop },
    );
    const callback = await new Browser(world.issuer).signIn(url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
    const tokens = await client.authorizationCodeGrant(bank, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource }, { DPoP: dpop });
    expect(tokens.token_type.toLowerCase()).to.equal('dpop');
    return { tokens, sub: tokens.claims()!.sub };
  }

  const call = async (url: string, headers: Record<string, string>) => {
    const response = await fetch(url, { headers });
    return { status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
  };

  describe('a JWT access token (RFC 9068)', function () {
    let key: DpopKey;
    let accessToken: string;
    let sub: string;
    const proofFor = (signer: DpopKey, method = 'GET', url = accounts.url, token = accessToken) => dpopProof(signer, method, url, { accessToken: token });

    before(async function () {
      key = await dpopKey();
      ({
        tokens: { access_token: accessToken },
        sub,
      } = await tokenFor(accounts.url, key));
    });

    it("is addressed to the resource server and names the key of the token request's proof (cnf.jkt)", async function () {
      expect(decodeProtectedHeader(accessToken).typ).to.equal('at+jwt');
      const claims = decodeJwt(accessToken);
      expect(claims.aud).to.equal(accounts.url);
      expect(claims.client_id).to.equal('vault-bank');
      expect(claims.cnf).to.deep.equal({ jkt: await calculateJwkThumbprint(key.publicJwk) });
      expect(key.thumbprint).to.equal(await calculateJwkThumbprint(key.publicJwk));
    });

    it('is accepted with a proof of the bound key', async function () {
      const answer = await call(accounts.url, { authorization: `DPoP ${accessToken}`, dpop: await proofFor(key) });
      expect(answer).to.deep.include({ status: 200, challenge: null });
      expect(answer.body).to.deep.equal({ sub, client_id: 'vault-bank', jkt: key.thumbprint });
    });

    it('is refused without a proof', async function () {
      const answer = await call(accounts.url, { authorization: `DPoP ${accessToken}` });
      expect(answer.status).to.equal(401);
      expect(answer.body).to.deep.equal({ error: 'invalid_dpop_proof', error_description: 'no DPoP proof' });
      expect(answer.challenge).to.match(/^DPoP error="invalid_dpop_proof"/);
    });

    it('is refused under the Bearer scheme, even with a valid proof', async function () {
      const answer = await call(accounts.url, { authorization: `Bearer ${accessToken}`, dpop: await proofFor(key) });
      expect(answer.status).to.equal(401);
      expect(answer.body.error_description).to.equal('a DPoP-bound access token presented as a bearer token');
      expect(answer.challenge).to.match(/^DPoP error="invalid_token"/);
    });

    it("is refused with another key's proof", async function () {
      const thief = await dpopKey();
      const answer = await call(accounts.url, { authorization: `DPoP ${accessToken}`, dpop: await proofFor(thief) });
      expect(answer.status).to.equal(401);
      expect(answer.body).to.deep.equal({ error: 'invalid_token', error_description: "the DPoP proof's key is not the access token's key (cnf.jkt)" });
    });

    it('is refused with a replayed proof (same jti)', async function () {
      const proof = await proofFor(key);
      expect((await call(accounts.url, { authorization: `DPoP ${accessToken}`, dpop: proof })).status).to.equal(200);
      const replay = await call(accounts.url, { authorization: `DPoP ${accessToken}`, dpop: proof });
      expect(replay.status).to.equal(401);
      expect(replay.body.error_description).to.equal('DPoP proof: jti already used (a replay)');
    });

    it('is refused with a proof made for another method or URL', async function () {
      const otherMethod = await call(accounts.url, { authorization: `DPoP ${accessToken}`, dpop: await proofFor(key, 'POST') });
      expect(otherMethod.status).to.equal(401);
      expect(otherMethod.body.error_description).to.equal('DPoP proof: htm does not match the request method');
      const otherUrl = await call(accounts.url, { authorization: `DPoP ${accessToken}`, dpop: await proofFor(key, 'GET', payments.url) });
      expect(otherUrl.status).to.equal(401);
      expect(otherUrl.body.error_description).to.equal('DPoP proof: htu does not match the request URL');
    });

    it("is refused with a proof whose ath is another token's", async function () {
      const answer = await call(accounts.url, { authorization: `DPoP ${accessToken}`, dpop: await proofFor(key, 'GET', accounts.url, 'another-token') });
      expect(answer.status).to.equal(401);
      expect(answer.body.error_description).to.equal('DPoP proof: ath does not match the access token');
    });

    it('is refused at another resource server (its audience is the accounts API)', async function () {
      const answer = await call(payments.url, { authorization: `DPoP ${accessToken}`, dpop: await proofFor(key, 'GET', payments.url) });
      expect(answer.status).to.equal(401);
      expect(answer.body.error).to.equal('invalid_token');
    });
  });

  describe('an opaque access token, introspected', function () {
    let key: DpopKey;
    let accessToken: string;
    let sub: string;

    before(async function () {
      key = await dpopKey();
      ({
        tokens: { access_token: accessToken },
        sub,
      } = await tokenFor(payments.url, key));
    });

    it("is described to the resource server with the key of the token request's proof (cnf.jkt)", async function () {
      expect(accessToken.split('.'), 'opaque').to.have.length(1);
      const paymentsApi = await client.discovery(new URL(world.issuer), 'payments-api', undefined, client.ClientSecretBasic(SERVICE_SECRET), {
        execute: [client.allowInsecureRequests],
      });
      const introspection = await client.tokenIntrospection(paymentsApi, accessToken);
      expect(introspection).to.deep.include({ active: true, aud: payments.url, client_id: 'vault-bank', token_type: 'DPoP', cnf: { jkt: key.thumbprint } });
    });

    it("is accepted with the bound key's proof; refused without one, as a bearer token, with another key's proof or a replay", async function () {
      const proof = await dpopProof(key, 'GET', payments.url, { accessToken });
      const accepted = await call(payments.url, { authorization: `DPoP ${accessToken}`, dpop: proof });
      expect(accepted).to.deep.include({ status: 200, body: { sub, client_id: 'vault-bank', jkt: key.thumbprint } });

      const replay = await call(payments.url, { authorization: `DPoP ${accessToken}`, dpop: proof });
      expect(replay.body.error_description).to.equal('DPoP proof: jti already used (a replay)');
      const unproven = await call(payments.url, { authorization: `DPoP ${accessToken}` });
      expect(unproven.body.error_description).to.equal('no DPoP proof');
      const bearer = await call(payments.url, { authorization: `Bearer ${accessToken}`, dpop: await dpopProof(key, 'GET', payments.url, { accessToken }) });
      expect(bearer.body.error_description).to.equal('a DPoP-bound access token presented as a bearer token');
      const stolen = await call(payments.url, { authorization: `DPoP ${accessToken}`, dpop: await dpopProof(await dpopKey(), 'GET', payments.url, { accessToken }) });
      expect(stolen.body.error_description).to.equal("the DPoP proof's key is not the access token's key (cnf.jkt)");
      for (const refused of [replay, unproven, bearer, stolen]) expect(refused.status).to.equal(401);
    });
  });
});
