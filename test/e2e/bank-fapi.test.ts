// The bank profile end to end (FAPI 2.0 Security Profile): a bank signs a citizen in with pushed
// authorization requests, PKCE, private_key_jwt and DPoP through openid-client, as a bank would; the
// attacks FAPI 2.0 exists to stop are made by hand with jose and must all be refused.
import { expect } from 'chai';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { SignJWT, compactDecrypt, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser } from '../support/browserless.ts';
import {
  clientAssertion,
  discoverBank,
  dpopKey,
  dpopProof,
  importPrivateJwk,
  levelTwoCitizen,
  postForm,
  signingKey,
  type Citizen,
} from '../support/bank.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { buildClientMetadata, InvalidClientRegistration, type ClientRegistration } from '../../src/oidc/clients/clients.ts';
import { DEMO_BANK_PRIVATE_JWK } from '../../src/demo/demo-bank-key.ts';
import { LOA_2 } from '../../src/oidc/consent/assurance.ts';

const BANK_REDIRECT = 'http://127.0.0.1:4003/callback';
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };

describe('bank profile: FAPI 2.0 (end to end, openid-client)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let bank: client.Configuration;
  const demoKey = { privateKey: undefined as unknown as Awaited<ReturnType<typeof importPrivateJwk>>, kid: DEMO_BANK_PRIVATE_JWK.kid };
  let citizen: Citizen;
  /** A browser in which `citizen` signed in once (level 2) and agreed to demo-bank. */
  let browser: Browser;

  before(async function () {
    // A portal's codes live 5 minutes here, so the bank's 60 seconds are the profile's doing.
    world = await startTestServer({ overrides: { ttl: { authorizationCode: 300 } } });
    demoKey.privateKey = await importPrivateJwk(DEMO_BANK_PRIVATE_JWK);
    bank = await discoverBank(world.issuer, 'demo-bank', demoKey);
    citizen = await levelTwoCitizen(world);
    browser = new Browser(world.issuer);
  });
  after(() => world?.close());

  /** The whole front channel: PAR (with a DPoP proof), the citizen's browser, the callback URL. */
  async function authorize(
    config: client.Configuration,
    options: { dpop?: client.DPoPHandle; extra?: Record<string, string>; signIn?: { browser: Browser; citizen: Citizen } } = {},
  ) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await client.buildAuthorizationUrlWithPAR(
      config,
      {
        redirect_uri: BANK_REDIRECT,
        scope: 'openid profile national_id offline_access',
        prompt: 'consent',
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        ...options.extra,
      },
      options.dpop ? { DPoP: options.dpop } : {},
    );
    const who = options.signIn ?? { browser, citizen };
    const callback = await who.browser.signIn(url, who.citizen.id, who.citizen.password, { otp: () => currentTotp(who.citizen.secret) });
    return { url, callback, verifier, state, nonce };
  }

  async function signedIn(options: { extra?: Record<string, string> } = {}) {
    const dpop = client.getDPoPHandle(bank, await client.randomDPoPKeyPair('ES256', { extractable: true }));
    const attempt = await authorize(bank, { dpop, ...options });
    const tokens = await client.authorizationCodeGrant(
      bank,
      attempt.callback,
      { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true },
      undefined,
      { DPoP: dpop },
    );
    return { attempt, tokens, dpop };
  }

  const userinfoUrl = () => new URL('/me', world.issuer).href;

  it('signs a citizen in: PAR, PKCE, private_key_jwt, DPoP-bound tokens at level 2, userinfo with the proof', async function () {
    const fresh = { browser: new Browser(world.issuer), citizen: await levelTwoCitizen(world) };
    const dpop = client.getDPoPHandle(bank, await client.randomDPoPKeyPair('ES256'));
    const attempt = await authorize(bank, { dpop, signIn: fresh });
    const tokens = await client.authorizationCodeGrant(
      bank,
      attempt.callback,
      { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true },
      undefined,
      { DPoP: dpop },
    );
    expect(fresh.browser.lastSteps).to.deep.equal(['login', 'otp', 'consent']);
    expect(new URL(attempt.url).searchParams.get('request_uri')).to.match(/^urn:ietf:params:oauth:request_uri:/);
    expect([...new URL(attempt.url).searchParams.keys()].sort()).to.deep.equal(['client_id', 'request_uri']);
    expect(attempt.callback.searchParams.get('iss')).to.equal(world.issuer);
    expect(tokens.token_type.toLowerCase()).to.equal('dpop');
    expect(tokens.refresh_token).to.be.a('string');
    const claims = tokens.claims()!;
    // No acr_values in the request: the bank's default, level 2, was asked for and given.
    expect(claims.acr).to.equal(LOA_2);
    expect(claims.amr).to.include('otp');
    expect(claims.sub, 'demo-bank has public subjects').to.be.a('string');
    const userinfo = await client.fetchUserInfo(bank, tokens.access_token, claims.sub, { DPoP: dpop });
    expect(userinfo.national_id).to.equal(fresh.citizen.id);
  });

  it('refuses a front-channel authorization request that was not pushed, and issues no code', async function () {
    const url = client.buildAuthorizationUrl(bank, {
      redirect_uri: BANK_REDIRECT,
      scope: 'openid',
      state: client.randomState(),
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    // The redirect URI is registered, so the refusal goes there (with iss), and no sign-in page is shown.
    const page = await browser.fetch(url);
    expect(page.status).to.equal(303);
    const answer = new URL(page.location!);
    expect(answer.origin + answer.pathname).to.equal(BANK_REDIRECT);
    expect(answer.searchParams.get('error')).to.equal('invalid_request');
    expect(answer.searchParams.get('error_description')).to.equal('Pushed Authorization Request must be used');
    expect(answer.searchParams.get('iss')).to.equal(world.issuer);
    expect(answer.searchParams.has('code')).to.equal(false);
  });

  it('refuses client_secret_basic for a bank, at registration and at the token and PAR endpoints', async function () {
    const registration: ClientRegistration = {
      clientId: 'secret-bank',
      name: 'Secret bank',
      profile: 'bank',
      approvedScopes: ['openid'],
      redirectUris: ['https://bank.example.vn/callback'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      secret: 'a-long-enough-secret',
    };
    expect(() => buildClientMetadata(registration)).to.throw(InvalidClientRegistration, /a bank client uses private_key_jwt or tls_client_auth or self_signed_tls_client_auth/);
    const before = await world.server.container.clients.find('secret-bank');
    await world.server.container.clients.save(registration).then(
      () => expect.fail('saved'),
      (error: unknown) => expect(error).to.be.instanceOf(InvalidClientRegistration),
    );
    expect(before).to.equal(undefined);
    expect(await world.server.container.clients.find('secret-bank')).to.equal(undefined);

    const basic = `Basic ${Buffer.from('demo-bank:demo-bank-secret').toString('base64')}`;
    const token = await postForm(bank.serverMetadata().token_endpoint!, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic });
    expect(token.status).to.equal(401);
    expect(token.json.error).to.equal('invalid_client');
    const par = await postForm(bank.serverMetadata().pushed_authorization_request_endpoint!, { response_type: 'code', scope: 'openid' }, { authorization: basic });
    expect(par.status).to.equal(401);
    expect(par.json.error).to.equal('invalid_client');
  });

  describe('a DPoP-bound access token at userinfo', function () {
    let accessToken: string;
    let sub: string;
    let key: Awaited<ReturnType<typeof dpopKey>>;

    before(async function () {
      key = await dpopKey();
      const dpop = client.getDPoPHandle(bank, { privateKey: key.privateKey, publicKey: await crypto.subtle.importKey('jwk', key.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']) });
      const attempt = await authorize(bank, { dpop });
      const tokens = await client.authorizationCodeGrant(
        bank,
        attempt.callback,
        { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce },
        undefined,
        { DPoP: dpop },
      );
      accessToken = tokens.access_token;
      sub = tokens.claims()!.sub;
      expect(decodeJwt(await dpopProof(key, 'GET', userinfoUrl())).htu).to.equal(userinfoUrl());
    });

    const userinfo = (headers: Record<string, string>) => fetch(userinfoUrl(), { headers });

    it('answers with the proof of the bound key', async function () {
      const response = await userinfo({ authorization: `DPoP ${accessToken}`, dpop: await dpopProof(key, 'GET', userinfoUrl(), { accessToken }) });
      expect(response.status).to.equal(200);
      expect(((await response.json()) as { sub: string }).sub).to.equal(sub);
    });

    it('refuses it without a proof, as a bearer token or under the DPoP scheme', async function () {
      const bearer = await userinfo({ authorization: `Bearer ${accessToken}` });
      expect(bearer.status).to.equal(401);
      expect(bearer.headers.get('www-authenticate')).to.match(/^DPoP .*error="invalid_token"/);
      const unproven = await userinfo({ authorization: `DPoP ${accessToken}` });
      expect(unproven.status).to.equal(400);
      expect(await unproven.json()).to.deep.equal({ error: 'invalid_request', error_description: '`DPoP` header not provided' });
    });

    it("refuses it with another key's proof", async function () {
      const thief = await dpopKey();
      const response = await userinfo({ authorization: `DPoP ${accessToken}`, dpop: await dpopProof(thief, 'GET', userinfoUrl(), { accessToken }) });
      expect(response.status).to.equal(401);
      expect(response.headers.get('www-authenticate')).to.match(/invalid_token/);
    });

    it('refuses a replayed proof', async function () {
      const proof = await dpopProof(key, 'GET', userinfoUrl(), { accessToken });
      expect((await userinfo({ authorization: `DPoP ${accessToken}`, dpop: proof })).status).to.equal(200);
      const replay = await userinfo({ authorization: `DPoP ${accessToken}`, dpop: proof });
      expect(replay.status).to.equal(401);
      expect(replay.headers.get('www-authenticate')).to.match(/error="invalid_token"/);
    });

    it('refuses a proof made for another request (method or URL)', async function () {
      for (const proof of [
        await dpopProof(key, 'POST', userinfoUrl(), { accessToken }),
        await dpopProof(key, 'GET', new URL('/token', world.issuer).href, { accessToken }),
      ]) {
        expect((await userinfo({ authorization: `DPoP ${accessToken}`, dpop: proof })).status).to.equal(401);
      }
    });
  });

  describe('refresh tokens', function () {
    let refreshToken: string;
    let otherBank: client.Configuration;

    before(async function () {
      const { tokens } = await signedIn();
      refreshToken = tokens.refresh_token!;
      const otherKey = await signingKey('ES256', 'other-bank-1');
      await world.server.container.clients.save({
        clientId: 'other-bank',
        name: 'Another bank',
        profile: 'bank',
        approvedScopes: ['openid', 'offline_access'],
        redirectUris: [BANK_REDIRECT],
        subjectType: 'public',
        jwks: { keys: [otherKey.publicJwk] },
      });
      otherBank = await discoverBank(world.issuer, 'other-bank', otherKey);
    });

    it('refuses a refresh token presented by another client', async function () {
      const dpop = client.getDPoPHandle(otherBank, await client.randomDPoPKeyPair());
      const error = await client.refreshTokenGrant(otherBank, refreshToken, undefined, { DPoP: dpop }).then(
        () => expect.fail('refreshed'),
        (failure: unknown) => failure,
      );
      expect(error).to.be.instanceOf(client.ResponseBodyError);
      expect((error as client.ResponseBodyError).error).to.equal('invalid_grant');
    });

    it('refuses a refresh without a DPoP proof', async function () {
      const assertion = await clientAssertion(demoKey, 'demo-bank', world.issuer);
      const answer = await postForm(bank.serverMetadata().token_endpoint!, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      });
      expect(answer.status).to.equal(400);
      expect(answer.json.error).to.equal('invalid_grant');
    });

    it("binds the new access token to the refresh request's proof key, and does not rotate the refresh token", async function () {
      const first = await dpopKey();
      const second = await dpopKey();
      const handleOf = async (key: typeof first) =>
        client.getDPoPHandle(bank, {
          privateKey: key.privateKey,
          publicKey: await crypto.subtle.importKey('jwk', key.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']),
        });
      const refreshedOnce = await client.refreshTokenGrant(bank, refreshToken, undefined, { DPoP: await handleOf(first) });
      const refreshedTwice = await client.refreshTokenGrant(bank, refreshToken, undefined, { DPoP: await handleOf(second) });
      // FAPI 2.0: not rotated, so the same refresh token works again.
      expect(refreshedOnce.refresh_token ?? refreshToken).to.equal(refreshToken);
      const call = async (token: string, key: typeof first) =>
        (await fetch(userinfoUrl(), { headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', userinfoUrl(), { accessToken: token }) } })).status;
      expect(await call(refreshedTwice.access_token, second)).to.equal(200);
      expect(await call(refreshedTwice.access_token, first)).to.equal(401);
      expect(await call(refreshedOnce.access_token, first)).to.equal(200);
      expect(await call(refreshedOnce.access_token, second)).to.equal(401);
    });
  });

  describe('request objects (JAR) pushed with PAR', function () {
    const parEndpoint = () => bank.serverMetadata().pushed_authorization_request_endpoint!;
    let rsaKey: Awaited<ReturnType<typeof signingKey>>;

    before(async function () {
      rsaKey = await signingKey('PS256', 'rsa-bank-1');
      // An RSA key without `alg`: what it may sign with is the profile's allow-list.
      const unpinned = Object.fromEntries(Object.entries(rsaKey.publicJwk).filter(([member]) => member !== 'alg'));
      await world.server.container.clients.save({
        clientId: 'rsa-bank',
        name: 'RSA bank',
        profile: 'bank',
        approvedScopes: ['openid'],
        redirectUris: [BANK_REDIRECT],
        subjectType: 'public',
        jwks: { keys: [unpinned] },
      });
    });

    async function requestObject(claims: Record<string, unknown> = {}, sign?: (jwt: SignJWT) => Promise<string>) {
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({
        iss: 'demo-bank',
        aud: world.issuer,
        client_id: 'demo-bank',
        response_type: 'code',
        redirect_uri: BANK_REDIRECT,
        scope: 'openid',
        state: client.randomState(),
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        nbf: now,
        iat: now,
        exp: now + 300,
        jti: crypto.randomUUID(),
        ...claims,
      });
      return sign ? sign(jwt) : jwt.setProtectedHeader({ alg: 'ES256', kid: demoKey.kid }).sign(demoKey.privateKey);
    }

    async function push(request: string, key: { privateKey: CryptoKey; kid: string; alg?: string } = demoKey, clientId = 'demo-bank') {
      return postForm(parEndpoint(), {
        client_id: clientId,
        request,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(key, clientId, world.issuer),
      });
    }

    it('accepts a request object signed with the registered key, and the sign-in completes with it', async function () {
      const answer = await push(await requestObject());
      expect(answer.status, answer.text).to.equal(201);
      const url = new URL('/auth', world.issuer);
      url.searchParams.set('client_id', 'demo-bank');
      url.searchParams.set('request_uri', String(answer.json.request_uri));
      const callback = await browser.signIn(url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
      expect(callback.searchParams.get('code')).to.be.a('string');
      expect(callback.searchParams.get('iss')).to.equal(world.issuer);
    });

    it('takes what openid-client makes of a signed request pushed (buildAuthorizationUrlWithJAR, then PAR)', async function () {
      const dpop = client.getDPoPHandle(bank, await client.randomDPoPKeyPair());
      const verifier = client.randomPKCECodeVerifier();
      const signed = await client.buildAuthorizationUrlWithJAR(
        bank,
        {
          redirect_uri: BANK_REDIRECT,
          scope: 'openid national_id',
          state: 'jar',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        },
        { key: demoKey.privateKey, kid: demoKey.kid },
      );
      expect(decodeProtectedHeader(signed.searchParams.get('request')!).alg).to.equal('ES256');
      const url = await client.buildAuthorizationUrlWithPAR(bank, signed.searchParams, { DPoP: dpop });
      const callback = await browser.signIn(url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
      const tokens = await client.authorizationCodeGrant(bank, callback, { pkceCodeVerifier: verifier, expectedState: 'jar' }, undefined, { DPoP: dpop });
      expect(tokens.token_type.toLowerCase()).to.equal('dpop');
    });

    it('refuses one with a wrong signature', async function () {
      const impostor = await signingKey('ES256', demoKey.kid);
      const answer = await push(await requestObject({}, (jwt) => jwt.setProtectedHeader({ alg: 'ES256', kid: demoKey.kid }).sign(impostor.privateKey)));
      expect(answer.status).to.equal(400);
      expect(answer.json.error).to.equal('invalid_request_object');
    });

    it('refuses an expired one', async function () {
      const now = Math.floor(Date.now() / 1000);
      const answer = await push(await requestObject({ nbf: now - 600, iat: now - 600, exp: now - 300 }));
      expect(answer.status).to.equal(400);
      expect(answer.json.error).to.equal('invalid_request_object');
    });

    it('refuses one living longer than an hour (FAPI 2.0)', async function () {
      const now = Math.floor(Date.now() / 1000);
      const answer = await push(await requestObject({ exp: now + 7200 }));
      expect(answer.status).to.equal(400);
      expect(answer.json.error).to.equal('invalid_request_object');
    });

    it('refuses an unsigned one (alg none) and one signed with HS256', async function () {
      const payload = decodeJwt(await requestObject());
      const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
      const hs256 = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'));
      for (const request of [none, hs256]) {
        const answer = await push(request);
        expect(answer.status, decodeProtectedHeader(request).alg).to.equal(400);
        expect(answer.json.error).to.equal('invalid_request_object');
      }
    });

    it('holds a bank to PS256, ES256, EdDSA: RS256 is refused for request objects and client assertions, PS256 accepted', async function () {
      // The same RSA key, once for each algorithm.
      const privateJwk = await exportJWK(rsaKey.privateKey);
      const keyFor = { PS256: rsaKey.privateKey, RS256: (await importJWK(privateJwk, 'RS256')) as CryptoKey };
      const forRsaBank = (alg: 'PS256' | 'RS256') =>
        requestObject({ iss: 'rsa-bank', client_id: 'rsa-bank' }, (jwt) => jwt.setProtectedHeader({ alg, kid: rsaKey.kid }).sign(keyFor[alg]));
      const accepted = await push(await forRsaBank('PS256'), { ...rsaKey, alg: 'PS256' }, 'rsa-bank');
      expect(accepted.status, accepted.text).to.equal(201);
      const rs256Request = await push(await forRsaBank('RS256'), { ...rsaKey, alg: 'PS256' }, 'rsa-bank');
      expect(rs256Request.status).to.equal(400);
      expect(rs256Request.json.error).to.equal('invalid_request_object');
      const rs256Assertion = await push(await forRsaBank('PS256'), { privateKey: keyFor.RS256, kid: rsaKey.kid, alg: 'RS256' }, 'rsa-bank');
      expect(rs256Assertion.status).to.equal(401);
      expect(rs256Assertion.json.error).to.equal('invalid_client');
    });
  });

  describe('client assertions (private_key_jwt)', function () {
    const parFields = async (assertion: string) => ({
      client_id: 'demo-bank',
      response_type: 'code',
      redirect_uri: BANK_REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });

    it('refuses an assertion used a second time (same jti)', async function () {
      const assertion = await clientAssertion(demoKey, 'demo-bank', world.issuer);
      const first = await postForm(bank.serverMetadata().pushed_authorization_request_endpoint!, await parFields(assertion));
      expect(first.status, first.text).to.equal(201);
      const replay = await postForm(bank.serverMetadata().pushed_authorization_request_endpoint!, await parFields(assertion));
      expect(replay.status).to.equal(401);
      expect(replay.json.error).to.equal('invalid_client');
    });

    it('refuses an assertion whose audience is an endpoint rather than the issuer', async function () {
      const par = bank.serverMetadata().pushed_authorization_request_endpoint!;
      const answer = await postForm(par, await parFields(await clientAssertion(demoKey, 'demo-bank', par)));
      expect(answer.status).to.equal(401);
      expect(answer.json.error).to.equal('invalid_client');
    });
  });

  describe('keys by reference (jwks_uri)', function () {
    let http: HttpServer;
    let base: string;
    const served: string[] = [];
    let key: Awaited<ReturnType<typeof signingKey>>;

    before(async function () {
      key = await signingKey('ES256', 'uri-bank-1');
      http = createServer((request, response) => {
        served.push(request.url ?? '');
        if (request.url === '/jwks') return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
        if (request.url === '/huge') return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk], padding: 'x'.repeat(100_000) }));
        return response.writeHead(302, { location: '/jwks' }).end();
      });
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      for (const [clientId, path] of [['uri-bank', '/jwks'], ['huge-uri-bank', '/huge'], ['moved-uri-bank', '/moved']] as const) {
        await world.server.container.clients.save({
          clientId,
          name: clientId,
          profile: 'bank',
          approvedScopes: ['openid'],
          redirectUris: [BANK_REDIRECT],
          subjectType: 'public',
          jwksUri: `${base}${path}`,
        });
      }
    });
    after(async function () {
      http?.closeAllConnections();
      await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    });

    const push = async (clientId: string) =>
      postForm(bank.serverMetadata().pushed_authorization_request_endpoint!, {
        client_id: clientId,
        response_type: 'code',
        redirect_uri: BANK_REDIRECT,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(key, clientId, world.issuer),
      });

    it("verifies a client assertion with the keys fetched from the bank's jwks_uri", async function () {
      const answer = await push('uri-bank');
      expect(answer.status, answer.text).to.equal(201);
      expect(served).to.include('/jwks');
    });

    it('refuses when the jwks_uri answers too much, or redirects (no redirect is followed)', async function () {
      const huge = await push('huge-uri-bank');
      expect(huge.status).to.equal(401);
      expect(huge.json.error).to.equal('invalid_client');
      const moved = await push('moved-uri-bank');
      expect(moved.status).to.equal(401);
      expect(served.filter((url) => url === '/moved')).to.have.length(1);
      expect(served.filter((url) => url === '/jwks'), 'the redirect was not followed').to.have.length(1);
    });
  });

  describe('iss in authorization responses (RFC 9207)', function () {
    it('is in a refusal by the citizen', async function () {
      const verifier = client.randomPKCECodeVerifier();
      const url = await client.buildAuthorizationUrlWithPAR(bank, {
        redirect_uri: BANK_REDIRECT,
        scope: 'openid profile',
        prompt: 'consent',
        state: 'refused',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const callback = await browser.signIn(url, citizen.id, citizen.password, { consent: false, otp: () => currentTotp(citizen.secret) });
      expect(callback.searchParams.get('error')).to.equal('access_denied');
      expect(callback.searchParams.get('iss')).to.equal(world.issuer);
      expect(callback.searchParams.get('state')).to.equal('refused');
    });

    it('is in the refusal of a level-1 citizen, whom the bank default (level 2) does not admit', async function () {
      const url = await client.buildAuthorizationUrlWithPAR(bank, {
        redirect_uri: BANK_REDIRECT,
        scope: 'openid',
        state: 'level-one',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const callback = await new Browser(world.issuer).signIn(url, BICH.id, BICH.password);
      expect(callback.searchParams.get('error')).to.equal('unmet_authentication_requirements');
      expect(callback.searchParams.get('iss')).to.equal(world.issuer);
    });

    it('is in a portal\'s response too (every client, not only banks)', async function () {
      const portal = await client.discovery(new URL(world.issuer), 'demo-portal', undefined, client.ClientSecretBasic('demo-portal-secret'), {
        execute: [client.allowInsecureRequests],
      });
      const url = client.buildAuthorizationUrl(portal, {
        redirect_uri: 'http://localhost:4000/callback',
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const callback = await browser.signIn(url, citizen.id, citizen.password);
      expect(callback.searchParams.get('code')).to.be.a('string');
      expect(callback.searchParams.get('iss')).to.equal(world.issuer);
    });
  });

  it('lets a bank code live 60 seconds, while a portal keeps the configured lifetime', async function () {
    const { provider } = world.server.container;
    const bankAttempt = await authorize(bank);
    const bankCode = await provider.AuthorizationCode.find(bankAttempt.callback.searchParams.get('code')!);
    expect(bankCode!.exp! - bankCode!.iat).to.equal(60);
    const portal = await client.discovery(new URL(world.issuer), 'demo-portal', undefined, client.ClientSecretBasic('demo-portal-secret'), {
      execute: [client.allowInsecureRequests],
    });
    const portalCallback = await browser.signIn(
      client.buildAuthorizationUrl(portal, {
        redirect_uri: 'http://localhost:4000/callback',
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
      citizen.id,
      citizen.password,
    );
    const portalCode = await provider.AuthorizationCode.find(portalCallback.searchParams.get('code')!);
    expect(portalCode!.exp! - portalCode!.iat).to.equal(300);
  });

  it('answers in a signed JWT (JARM) when asked, which openid-client verifies', async function () {
    const jarm = await discoverBank(world.issuer, 'demo-bank', demoKey);
    client.useJwtResponseMode(jarm);
    const dpop = client.getDPoPHandle(jarm, await client.randomDPoPKeyPair());
    const attempt = await authorize(jarm, { dpop });
    expect([...attempt.callback.searchParams.keys()]).to.deep.equal(['response']);
    const { payload, protectedHeader } = await jwtVerify(attempt.callback.searchParams.get('response')!, createRemoteJWKSet(new URL('/jwks', world.issuer)), {
      issuer: world.issuer,
      audience: 'demo-bank',
    });
    expect(protectedHeader.alg).to.equal('ES256');
    expect(payload.code).to.be.a('string');
    expect(payload.state).to.equal(attempt.state);
    const tokens = await client.authorizationCodeGrant(
      jarm,
      attempt.callback,
      { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce },
      undefined,
      { DPoP: dpop },
    );
    expect(tokens.claims()!.acr).to.equal(LOA_2);
  });

  it('encrypts ID tokens and userinfo to the keys of a bank that registered them, and the bank decrypts them', async function () {
    const signing = await signingKey('ES256', 'sealed-bank-sig');
    const ecdh = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
    const rsa = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const encKey = async (publicKey: CryptoKey, kid: string): Promise<JWK> => ({ ...(await exportJWK(publicKey)), kid, use: 'enc' });
    await world.server.container.clients.save({
      clientId: 'sealed-bank',
      name: 'Sealed bank',
      profile: 'bank',
      approvedScopes: ['openid', 'national_id'],
      redirectUris: [BANK_REDIRECT],
      subjectType: 'public',
      jwks: { keys: [signing.publicJwk, await encKey(ecdh.publicKey, 'sealed-bank-ecdh'), await encKey(rsa.publicKey, 'sealed-bank-rsa')] },
      idTokenEncryptedResponseAlg: 'ECDH-ES',
      userinfoEncryptedResponseAlg: 'RSA-OAEP-256',
    });
    const sealed = await discoverBank(world.issuer, 'sealed-bank', signing);
    client.enableDecryptingResponses(sealed, ['A256GCM'], { key: ecdh.privateKey, kid: 'sealed-bank-ecdh' }, { key: rsa.privateKey, kid: 'sealed-bank-rsa' });
    const proofKey = await dpopKey();
    const dpop = client.getDPoPHandle(sealed, {
      privateKey: proofKey.privateKey,
      publicKey: await crypto.subtle.importKey('jwk', proofKey.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']),
    });
    const attempt = await authorize(sealed, { dpop, extra: { scope: 'openid national_id' } });
    const tokens = await client.authorizationCodeGrant(
      sealed,
      attempt.callback,
      { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true },
      undefined,
      { DPoP: dpop },
    );
    expect(tokens.id_token!.split('.'), 'a JWE').to.have.length(5);
    expect(decodeProtectedHeader(tokens.id_token!)).to.include({ alg: 'ECDH-ES', enc: 'A256GCM' });
    const inner = new TextDecoder().decode((await compactDecrypt(tokens.id_token!, ecdh.privateKey)).plaintext);
    expect(decodeProtectedHeader(inner).alg, 'signed, then encrypted').to.equal('ES256');
    const claims = tokens.claims()!;
    expect(claims.acr).to.equal(LOA_2);
    const userinfo = await client.fetchUserInfo(sealed, tokens.access_token, claims.sub, { DPoP: dpop });
    expect(userinfo.national_id).to.equal(citizen.id);
    // The same answer by hand: a JWE to the bank's RSA key, holding a signed JWT.
    const userinfoUrl = new URL('/me', world.issuer).href;
    const raw = await fetch(userinfoUrl, {
      headers: { authorization: `DPoP ${tokens.access_token}`, dpop: await dpopProof(proofKey, 'GET', userinfoUrl, { accessToken: tokens.access_token }) },
    });
    expect(raw.headers.get('content-type')).to.match(/^application\/jwt/);
    const jwe = await raw.text();
    expect(decodeProtectedHeader(jwe)).to.include({ alg: 'RSA-OAEP-256', enc: 'A256GCM' });
    const signed = new TextDecoder().decode((await compactDecrypt(jwe, rsa.privateKey)).plaintext);
    expect(decodeJwt(signed).national_id).to.equal(citizen.id);
  });
});
