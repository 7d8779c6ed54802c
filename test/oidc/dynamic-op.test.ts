// The OpenID Foundation's Dynamic OP plan (oidcc-dynamic-certification-test-plan), as far as
// openid-client can play the suite: each module's checks against clients that openid-client
// registers itself with an administrator's initial access token (docs/portals.md "Conformance", Dynamic OP).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import * as client from 'openid-client';
import { decodeProtectedHeader, type JWK } from 'jose';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession } from '../support/admin.ts';
import { Browser } from '../support/browserless.ts';
import { BICH } from '../support/rp-flow.ts';
import { signingKey } from '../support/bank.ts';

type Key = Awaited<ReturnType<typeof signingKey>>;
const RP = 'https://rp.dynamic.example.vn';

describe('Dynamic OP plan (openid-client as the suite)', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let token: string;
  let jwksHost: Server;
  let jwksUri: string;
  /** What the RP publishes at jwks_uri; a test rotates it. */
  let published: JWK[] = [];

  before(async () => {
    world = await startTestServer();
    const admin = await adminSession(world, '001099012345', ['client_admin']);
    const issued = await adminCall<{ token: string }>(world, admin, 'POST', '/api/registration-tokens', {
      description: 'Dynamic OP plan',
      profiles: ['portal'],
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      redirectHosts: ['rp.dynamic.example.vn', '127.0.0.1'],
      maxClients: 50,
      expiresInSeconds: 3600,
    });
    expect(issued.status).to.equal(201);
    token = issued.body.token;
    jwksHost = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwksHost.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(jwksHost.address() as AddressInfo).port}/jwks.json`;
  });
  after(async () => {
    jwksHost?.closeAllConnections();
    await new Promise((resolve) => jwksHost?.close(resolve));
    await world?.close();
  });

  /** openid-client's own dynamic registration (RFC 7591) with the initial access token; private_key_jwt as the plan fixes. */
  async function register(metadata: Partial<client.ClientMetadata>, key: Key): Promise<client.Configuration> {
    const keys = metadata.jwks_uri === undefined ? { jwks: { keys: [key.publicJwk] } } : {};
    return client.dynamicClientRegistration(
      new URL(world.issuer),
      { client_name: 'Dynamic OP', redirect_uris: [`${RP}/cb`], token_endpoint_auth_method: 'private_key_jwt', scope: 'openid profile', ...keys, ...metadata },
      client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
      { initialAccessToken: token, execute: [client.allowInsecureRequests] },
    );
  }

  async function authorize(config: client.Configuration, parameters: Record<string, string> = {}) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: `${RP}/cb`,
      scope: 'openid profile',
      prompt: 'consent',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      ...parameters,
    });
    return { url, codeVerifier, state, nonce };
  }

  /** A whole sign-in: Bích consents, the code is redeemed with the client's assertion. */
  async function signIn(config: client.Configuration, parameters: Record<string, string> = {}) {
    const attempt = await authorize(config, parameters);
    const callback = await new Browser(world.issuer).signIn(attempt.url, BICH.id, BICH.password, { consent: true });
    return client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: attempt.codeVerifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      idTokenExpected: true,
    });
  }

  /** The raw registration request, to see a refusal as sent. */
  async function rawRegister(metadata: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${world.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ client_name: 'Dynamic OP', redirect_uris: [`${RP}/cb`], ...metadata }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('oidcc-discovery-endpoint-verification: discovery names the registration endpoint; code is the only response type', async () => {
    const config = await client.discovery(new URL(world.issuer), 'none', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const metadata = config.serverMetadata();
    expect(metadata.registration_endpoint).to.equal(`${world.issuer}/reg`);
    // The plan's dynamic variant wants id_token and "token id_token" too: not offered (code flow only).
    expect(metadata.response_types_supported).to.deep.equal(['code']);
    expect(metadata.subject_types_supported).to.include('pairwise');
    expect(metadata.token_endpoint_auth_methods_supported).to.include('private_key_jwt');
  });

  it('oidcc-server, oidcc-ensure-client-assertion-with-iss-aud-succeeds: a registered private_key_jwt client signs Bích in', async () => {
    const key = await signingKey('ES256', 'server-key');
    const config = await register({}, key);
    expect(config.clientMetadata().client_id).to.match(/^reg-/);
    const tokens = await signIn(config);
    // openid-client checked iss, aud, nonce and the signature against the JWKS; its assertion's aud is the issuer.
    const claims = tokens.claims()!;
    expect(claims.aud).to.equal(config.clientMetadata().client_id);
    expect(claims).to.include.keys('acr', 'amr', 'auth_time');
  });

  it('oidcc-idtoken-rs256: a client registered for RS256 gets RS256 ID tokens', async () => {
    const key = await signingKey('ES256', 'rs256-key');
    const config = await register({ id_token_signed_response_alg: 'RS256' }, key);
    const tokens = await signIn(config);
    expect(decodeProtectedHeader(tokens.id_token!).alg).to.equal('RS256');
  });

  it('oidcc-idtoken-unsigned: alg none is refused at registration', async () => {
    const refused = await rawRegister({ id_token_signed_response_alg: 'none' });
    expect(refused.status).to.equal(400);
    expect(refused.body.error).to.equal('invalid_client_metadata');
  });

  it('oidcc-userinfo-rs256: userinfo is a JWT signed RS256 for a client registered for it', async () => {
    const key = await signingKey('ES256', 'userinfo-key');
    const config = await register({ userinfo_signed_response_alg: 'RS256' }, key);
    const tokens = await signIn(config);
    const raw = await fetch(`${world.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(raw.headers.get('content-type')).to.match(/^application\/jwt/);
    expect(decodeProtectedHeader(await raw.text()).alg).to.equal('RS256');
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo.given_name).to.be.a('string');
  });

  it('oidcc-redirect-uri-query-OK, -mismatch, -added: a query is part of the registered URI, matched exactly', async () => {
    const key = await signingKey('ES256', 'query-key');
    const config = await register({ redirect_uris: [`${RP}/cb?ministry=moh`] }, key);
    // openid-client strips a callback's whole query to get the redirect URI, so the code is redeemed by hand.
    const attempt = await authorize(config, { redirect_uri: `${RP}/cb?ministry=moh` });
    const callback = await new Browser(world.issuer).signIn(attempt.url, BICH.id, BICH.password, { consent: true });
    expect(callback.searchParams.get('ministry'), 'the registered query is kept').to.equal('moh');
    const ok = await client.genericGrantRequest(config, 'authorization_code', {
      code: callback.searchParams.get('code')!,
      redirect_uri: `${RP}/cb?ministry=moh`,
      code_verifier: attempt.codeVerifier,
    });
    expect(ok.id_token).to.be.a('string');
    for (const redirect of [`${RP}/cb?ministry=mof`, `${RP}/cb?ministry=moh&extra=1`]) {
      const page = await new Browser(world.issuer).get((await authorize(config, { redirect_uri: redirect })).url);
      expect(page.status, redirect).to.equal(400);
      expect(page.location, 'an error page, never a redirect').to.equal(undefined);
    }
    const plain = await register({ redirect_uris: [`${RP}/cb`] }, key);
    const added = await new Browser(world.issuer).get((await authorize(plain, { redirect_uri: `${RP}/cb?added=1` })).url);
    expect([added.status, added.location]).to.deep.equal([400, undefined]);
  });

  it('oidcc-redirect-uri-regfrag: a redirect URI with a fragment is refused at registration', async () => {
    const refused = await rawRegister({ redirect_uris: [`${RP}/cb#fragment`] });
    expect(refused.status).to.equal(400);
    expect(refused.body.error).to.equal('invalid_redirect_uri');
  });

  it('oidcc-registration-logo-uri, -policy-uri, -tos-uri: accepted, not kept (citizens see the client name only)', async () => {
    const key = await signingKey('ES256', 'logo-key');
    const config = await register({ logo_uri: `${RP}/logo.png`, policy_uri: `${RP}/policy`, tos_uri: `${RP}/tos` }, key);
    const metadata = config.clientMetadata();
    expect(metadata).to.not.have.any.keys('logo_uri', 'policy_uri', 'tos_uri');
    expect((await signIn(config)).id_token).to.be.a('string');
  });

  it('oidcc-registration-jwks-uri, oidcc-refresh-token: keys from jwks_uri; the refresh token rotates', async () => {
    const key = await signingKey('ES256', 'rp-key-1');
    published = [key.publicJwk];
    const config = await register({ jwks_uri: jwksUri, scope: 'openid profile offline_access' }, key);
    expect(config.clientMetadata().jwks_uri).to.equal(jwksUri);
    expect(config.clientMetadata().jwks).to.equal(undefined);
    const tokens = await signIn(config, { scope: 'openid profile offline_access' });
    expect(tokens.refresh_token).to.be.a('string');

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).to.be.a('string');
    expect(refreshed.refresh_token, 'rotated').to.be.a('string').and.not.equal(tokens.refresh_token);
    const replay = await client.refreshTokenGrant(config, tokens.refresh_token!).then(
      () => 'accepted',
      (error: unknown) => (error as { error?: string }).error,
    );
    expect(replay).to.equal('invalid_grant');
  });

  it('oidcc-registration-sector-bad: a sector_identifier_uri that cannot vouch for the redirect URIs is refused', async () => {
    const refused = await rawRegister({ sector_identifier_uri: `https://127.0.0.1:1/sector.json` });
    expect(refused.status).to.equal(400);
    expect(refused.body.error).to.equal('invalid_client_metadata');
    expect(String(refused.body.error_description)).to.match(/^sector_identifier_uri: /);
  });
});
