// Per-client signing algorithms and lifetimes, end to end with openid-client: ID tokens signed with
// the algorithm a client registered (EdDSA included, its key added to a deployment that had none),
// userinfo as a signed JWT, lifetimes shorter than the provider's; and the registrations refused.
import { expect } from 'chai';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { buildClientMetadata, InvalidClientRegistration, type ClientRegistration } from '../../src/oidc/clients/clients.ts';
import { Browser } from '../support/browserless.ts';
import { runCli } from '../support/cli.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const SECRET = 'a-portal-secret-for-tests';

const ED_PORTAL: ClientRegistration = {
  clientId: 'ed-portal',
  name: 'EdDSA portal',
  profile: 'portal',
  secret: SECRET,
  redirectUris: ['http://localhost:4200/callback'],
  approvedScopes: ['openid', 'profile', 'offline_access'],
  settings: { idTokenSignedResponseAlg: 'EdDSA', userinfoSignedResponseAlg: 'PS256', accessTokenTtl: 120, idTokenTtl: 90, refreshTokenTtl: 3600 },
};
const RSA_PORTAL: ClientRegistration = {
  clientId: 'rsa-portal',
  name: 'RSA portal',
  profile: 'portal',
  secret: SECRET,
  redirectUris: ['http://localhost:4201/callback'],
  approvedScopes: ['openid', 'profile'],
  settings: { idTokenSignedResponseAlg: 'RS256', userinfoSignedResponseAlg: 'EdDSA' },
};
const DEMO_PORTAL = { clientId: 'demo-portal', secret: 'demo-portal-secret', redirectUris: ['http://localhost:4000/callback'] };
const SHORT_SERVICE: ClientRegistration = { clientId: 'short-service', name: 'Short', profile: 'service', secret: SECRET, approvedScopes: [], settings: { accessTokenTtl: 30 } };

async function rejectionOf(attempt: Promise<unknown>): Promise<{ error?: string; status?: number }> {
  try {
    await attempt;
  } catch (error) {
    return error as { error?: string; status?: number };
  }
  expect.fail('expected a refusal');
}

describe('per-client signing algorithms and lifetimes', function () {
  this.timeout(90_000);
  /** The first start: keys for ES256, PS256 and RS256 only (a deployment from before EdDSA). */
  let firstStart: RunningServer;
  /** The next start on the same storage, which must add the EdDSA key. */
  let world: RunningServer;
  let earlierKids: string[];

  before(async () => {
    firstStart = await startTestServer();
    await firstStart.server.container.db('signing_keys').where({ alg: 'EdDSA' }).delete();
    earlierKids = await firstStart.server.container.db('signing_keys').orderBy('kid').pluck<string[]>('kid');
    world = await startTestServer({ sameStorageAs: firstStart });
    for (const registration of [ED_PORTAL, RSA_PORTAL, SHORT_SERVICE]) {
      expect(await world.server.container.clients.create(registration), registration.clientId).to.not.equal(undefined);
    }
  });

  after(async () => {
    await world?.close();
    await firstStart?.close();
  });

  const jwksOf = (server: RunningServer) => createRemoteJWKSet(new URL('/jwks', server.issuer));

  async function discover(registration: { clientId: string; secret?: string }, metadata: Partial<client.ClientMetadata> = {}) {
    return client.discovery(new URL(world.issuer), registration.clientId, metadata, client.ClientSecretBasic(registration.secret), { execute: [client.allowInsecureRequests] });
  }

  /** Bich signs in to a portal (consent given); the token response and the portal's configuration. */
  async function signIn(registration: { clientId: string; secret?: string; redirectUris?: readonly string[] }, metadata: Partial<client.ClientMetadata> = {}, scope = 'openid profile') {
    const config = await discover(registration, metadata);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: registration.redirectUris![0]!,
      scope,
      ...(scope.includes('offline_access') && { prompt: 'consent' }),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await new Browser(world.issuer).signIn(url, BICH.id, BICH.password);
    return { config, tokens: await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier }) };
  }

  async function userinfoResponse(accessToken: string) {
    const response = await fetch(`${world.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(response.status).to.equal(200);
    return { type: response.headers.get('content-type') ?? '', body: await response.text() };
  }

  describe('the EdDSA signing key', () => {
    it('is added to a deployment that had only ES256, PS256 and RS256 keys, on its next start', async () => {
      const rows = await world.server.container.db('signing_keys').select<{ kid: string; alg: string }[]>('kid', 'alg');
      expect(rows.map((row) => row.alg).sort()).to.deep.equal(['ES256', 'EdDSA', 'PS256', 'RS256']);
      // The keys it had are kept as they were.
      expect(rows.filter((row) => row.alg !== 'EdDSA').map((row) => row.kid).sort()).to.deep.equal(earlierKids);
    });

    it('is published in the JWKS with kid, use and alg, and offered in discovery', async () => {
      const { keys } = (await (await fetch(`${world.issuer}/jwks`)).json()) as { keys: Record<string, unknown>[] };
      const ed = keys.filter((key) => key.alg === 'EdDSA');
      expect(ed).to.have.length(1);
      expect(ed[0]).to.include({ kty: 'OKP', crv: 'Ed25519', use: 'sig' });
      expect(ed[0]!.kid).to.be.a('string').and.not.empty;
      expect(ed[0]).not.to.have.property('d');
      const metadata = (await discover(SHORT_SERVICE)).serverMetadata();
      expect(metadata.id_token_signing_alg_values_supported).to.have.members(['ES256', 'PS256', 'RS256', 'EdDSA']);
      expect(metadata.userinfo_signing_alg_values_supported).to.have.members(['ES256', 'PS256', 'RS256', 'EdDSA']);
    });
  });

  describe('signing algorithms', () => {
    it('signs the ID token of a client registered for EdDSA with the Ed25519 key', async () => {
      const { tokens } = await signIn(ED_PORTAL, { id_token_signed_response_alg: 'EdDSA' });
      const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwksOf(world), {
        issuer: world.issuer,
        audience: ED_PORTAL.clientId,
        algorithms: ['EdDSA'],
      });
      expect(protectedHeader.alg).to.equal('EdDSA');
      expect(payload.sub).to.equal(tokens.claims()!.sub);
    });

    it('signs with RS256 for a client registered so, and ES256 by default', async () => {
      const rsa = await signIn(RSA_PORTAL, { id_token_signed_response_alg: 'RS256' });
      expect((await jwtVerify(rsa.tokens.id_token!, jwksOf(world), { audience: RSA_PORTAL.clientId, algorithms: ['RS256'] })).protectedHeader.alg).to.equal('RS256');
      const demo = await signIn(DEMO_PORTAL);
      expect(decodeProtectedHeader(demo.tokens.id_token!).alg).to.equal('ES256');
    });

    it('answers userinfo as a JWT signed as the client registered, and as JSON otherwise', async () => {
      const ed = await signIn(ED_PORTAL, { id_token_signed_response_alg: 'EdDSA' });
      const signed = await userinfoResponse(ed.tokens.access_token);
      expect(signed.type).to.match(/^application\/jwt/);
      const { payload, protectedHeader } = await jwtVerify(signed.body, jwksOf(world), { issuer: world.issuer, audience: ED_PORTAL.clientId, algorithms: ['PS256'] });
      expect(protectedHeader.alg).to.equal('PS256');
      expect(payload.sub).to.equal(ed.tokens.claims()!.sub);
      expect(payload.name).to.be.a('string');

      const rsa = await signIn(RSA_PORTAL, { id_token_signed_response_alg: 'RS256' });
      const edSigned = await userinfoResponse(rsa.tokens.access_token);
      expect((await jwtVerify(edSigned.body, jwksOf(world), { audience: RSA_PORTAL.clientId, algorithms: ['EdDSA'] })).payload.sub).to.equal(rsa.tokens.claims()!.sub);

      const demo = await signIn(DEMO_PORTAL);
      const plain = await userinfoResponse(demo.tokens.access_token);
      expect(plain.type).to.match(/^application\/json/);
      expect((JSON.parse(plain.body) as { sub: string }).sub).to.equal(demo.tokens.claims()!.sub);
    });
  });

  describe('lifetimes', () => {
    it("gives a client's access, ID and refresh tokens its own shorter lifetimes", async () => {
      const { config, tokens } = await signIn(ED_PORTAL, { id_token_signed_response_alg: 'EdDSA' }, 'openid profile offline_access');
      expect(tokens.expires_in).to.equal(120);
      const idToken = tokens.claims()!;
      expect(idToken.exp - idToken.iat).to.equal(90);
      const refresh = await client.tokenIntrospection(config, tokens.refresh_token!);
      expect(refresh.active).to.equal(true);
      expect(refresh.exp! - refresh.iat!).to.equal(3600);
      const access = await client.tokenIntrospection(config, tokens.access_token);
      expect(access.exp! - access.iat!).to.equal(120);
    });

    it("keeps the provider's lifetimes for a client that registered none", async () => {
      const { tokens } = await signIn(DEMO_PORTAL);
      expect(tokens.expires_in).to.equal(world.config.ttl.accessToken);
      const idToken = tokens.claims()!;
      expect(idToken.exp - idToken.iat).to.equal(world.config.ttl.idToken);
    });

    it("gives a service client's client-credentials tokens its own lifetime", async () => {
      const tokens = await client.clientCredentialsGrant(await discover(SHORT_SERVICE), {});
      expect(tokens.expires_in).to.equal(30);
    });
  });

  describe('registrations refused', () => {
    const ceilings = { accessToken: 600, clientCredentials: 600, idToken: 600, refreshToken: 1_209_600 };
    const rules = { lifetimeCeilings: ceilings };
    const portal = (settings: ClientRegistration['settings'], approvedScopes = ['openid']): ClientRegistration => ({
      clientId: 'some-portal',
      name: 'Some portal',
      profile: 'portal',
      secret: SECRET,
      redirectUris: ['https://portal.example.vn/callback'],
      approvedScopes,
      ...(settings && { settings }),
    });
    const service = (settings: ClientRegistration['settings'], approvedScopes: string[] = []): ClientRegistration => ({
      clientId: 'some-service',
      name: 'Some service',
      profile: 'service',
      secret: SECRET,
      approvedScopes,
      ...(settings && { settings }),
    });
    const cases: [string, ClientRegistration, RegExp][] = [
      ['an algorithm the provider does not offer', portal({ idTokenSignedResponseAlg: 'HS256' }), /id_token_signed_response_alg: "HS256" is not offered; one of ES256, PS256, RS256, EdDSA/],
      ['"none" for userinfo', portal({ userinfoSignedResponseAlg: 'none' }), /userinfo_signed_response_alg: "none" is not offered/],
      ['an algorithm for a service client', service({ idTokenSignedResponseAlg: 'EdDSA' }), /a service client gets no ID tokens/],
      ['an access token longer than the provider allows', portal({ accessTokenTtl: 601 }), /access_token_ttl: 601 seconds is longer than the provider allows \(ttl.accessToken: at most 600 seconds\)/],
      ['an ID token longer than the provider allows', portal({ idTokenTtl: 3600 }), /id_token_ttl: .*at most 600 seconds/],
      ['a refresh token longer than the provider allows', portal({ refreshTokenTtl: 2_000_000 }, ['openid', 'offline_access']), /refresh_token_ttl: .*at most 1209600 seconds/],
      ['a refresh token lifetime without offline_access', portal({ refreshTokenTtl: 3600 }), /not approved for offline_access/],
      ['a lifetime that is not a whole positive number', portal({ accessTokenTtl: 0 }), /access_token_ttl: a whole number of seconds/],
      ['a resource server that is not a service client', portal({ resourceServer: { resources: ['https://api.example.vn/'] } }), /only a service client can be a resource server/],
      ['a resource indicator over http', service({ resourceServer: { resources: ['http://api.example.vn/'] } }), /resource: "http:\/\/api.example.vn\/" must use https/],
      ['a resource indicator with a fragment', service({ resourceServer: { resources: ['https://api.example.vn/#x'] } }), /must not have a fragment/],
      ['a resource indicator with a query', service({ resourceServer: { resources: ['https://api.example.vn/?v=1'] } }), /must not have a query/],
      ['a relative resource indicator', service({ resourceServer: { resources: ['/api'] } }), /is not an absolute URI/],
      ['a loopback resource indicator in production', service({ resourceServer: { resources: ['http://127.0.0.1:8080/api'] } }), /allowed only outside production/],
      ['an OpenID scope offered by a resource server', service({ resourceServer: { resources: ['https://api.example.vn/'], scopes: ['profile'] } }), /must read prefix:name/],
      ['a resource token lifetime longer than the provider allows', service({ resourceServer: { resources: ['https://api.example.vn/'], accessTokenTtl: 601 } }), /resource token ttl: 601 seconds is longer than the provider allows/],
      ['a token format other than jwt or opaque', service({ resourceServer: { resources: ['https://api.example.vn/'], accessTokenFormat: 'paseto' } }), /jwt or opaque/],
      ['a resource scope approved for a portal', portal(undefined, ['openid', 'orders:read']), /"orders:read" is a resource server's scope, for service clients only/],
    ];
    for (const [title, registration, message] of cases) {
      it(title, () => {
        expect(() => buildClientMetadata(registration, rules)).to.throw(InvalidClientRegistration, message);
      });
    }

    it('any lifetime when the provider\'s lifetimes are not known', () => {
      expect(() => buildClientMetadata(portal({ accessTokenTtl: 60 }))).to.throw(InvalidClientRegistration, /cannot be checked/);
    });

    it('accepts the lifetimes at the ceiling, and stores the canonical form of a resource indicator', () => {
      expect(buildClientMetadata(portal({ accessTokenTtl: 600, idTokenTtl: 600 }), rules)).to.include({ access_token_ttl: 600, id_token_ttl: 600 });
      const metadata = buildClientMetadata(service({ resourceServer: { resources: ['https://API.example.vn'], scopes: ['api:read'] } }), rules);
      expect(metadata.resource_server).to.deep.equal({ resources: ['https://api.example.vn/'], scopes: ['api:read'], access_token_format: 'jwt' });
    });
  });

  describe('clients add (the command line)', () => {
    let environ: Record<string, string>;

    before(() => {
      environ = {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        DATABASE_URL: world.database.url,
        KEY_ENCRYPTION_KEY: world.config.keyEncryptionKey!.toString('base64'),
        PAIRWISE_KEY: world.config.pairwiseKey!.toString('base64'),
        CLIENT_SECRET: 'a-command-line-secret',
      };
    });

    const cli = (args: string[]) => runCli(['clients', 'add', ...args], environ);

    /** Everything an add could change. */
    async function snapshot() {
      const db = world.server.container.db;
      return {
        clients: await db('clients').orderBy('client_id').select('client_id', 'metadata', 'approved_scopes'),
        resources: await db('resource_servers').orderBy('resource').select('*'),
        audit: Number(((await db('audit_events').count<{ count: string }[]>({ count: '*' })) as [{ count: string }])[0].count),
      };
    }

    it('registers a resource server and a portal with its own algorithm and lifetimes', async () => {
      const added = await cli(['--id', 'api-server', '--name', 'API', '--profile', 'service', '--resource', 'https://api.example.vn', '--resource-scopes', 'api:read api:write', '--resource-token-ttl', '300']);
      expect(added.code, added.stderr).to.equal(0);
      expect(added.stdout).to.include('resource server for: https://api.example.vn/');
      const server = await world.server.container.db('clients').where({ client_id: 'api-server' }).first<{ metadata: Record<string, unknown> }>();
      expect(server.metadata.resource_server).to.deep.equal({ resources: ['https://api.example.vn/'], scopes: ['api:read', 'api:write'], access_token_format: 'jwt', access_token_ttl: 300 });
      expect(await world.server.container.db('resource_servers').where({ client_id: 'api-server' }).pluck('resource')).to.deep.equal(['https://api.example.vn/']);

      const portal = await cli([
        '--id', 'cli-portal', '--name', 'CLI portal', '--profile', 'portal', '--scopes', 'openid profile offline_access',
        '--redirect-uri', 'https://cli.example.vn/callback',
        '--id-token-signed-alg', 'EdDSA', '--userinfo-signed-alg', 'ES256', '--access-token-ttl', '300', '--id-token-ttl', '300', '--refresh-token-ttl', '86400',
      ]);
      expect(portal.code, portal.stderr).to.equal(0);
      const row = await world.server.container.db('clients').where({ client_id: 'cli-portal' }).first<{ metadata: Record<string, unknown> }>();
      expect(row.metadata).to.include({
        id_token_signed_response_alg: 'EdDSA',
        userinfo_signed_response_alg: 'ES256',
        access_token_ttl: 300,
        id_token_ttl: 300,
        refresh_token_ttl: 86400,
      });
      // A service client approved for the scopes a registered resource server offers.
      const consumer = await cli(['--id', 'api-consumer', '--name', 'Consumer', '--profile', 'service', '--scopes', 'api:read']);
      expect(consumer.code, consumer.stderr).to.equal(0);
    });

    const refusals: [string, string[], RegExp][] = [
      ['an algorithm the provider does not offer', ['--id', 'bad-1', '--name', 'Bad', '--profile', 'portal', '--redirect-uri', 'https://p.example.vn/cb', '--id-token-signed-alg', 'HS256'], /id_token_signed_response_alg: "HS256" is not offered/],
      ['a lifetime longer than the provider allows', ['--id', 'bad-2', '--name', 'Bad', '--profile', 'portal', '--redirect-uri', 'https://p.example.vn/cb', '--access-token-ttl', '86400'], /access_token_ttl: 86400 seconds is longer than the provider allows/],
      ['a lifetime that is not a number', ['--id', 'bad-3', '--name', 'Bad', '--profile', 'service', '--access-token-ttl', '10m'], /--access-token-ttl: a whole number of seconds, got "10m"/],
      ['a resource indicator over http', ['--id', 'bad-4', '--name', 'Bad', '--profile', 'service', '--resource', 'http://api.example.vn/'], /resource: "http:\/\/api.example.vn\/" must use https/],
      ['a resource indicator with a fragment', ['--id', 'bad-5', '--name', 'Bad', '--profile', 'service', '--resource', 'https://api2.example.vn/#top'], /must not have a fragment/],
      ['a resource indicator another client serves', ['--id', 'bad-6', '--name', 'Bad', '--profile', 'service', '--resource', 'https://api.example.vn/'], /resource: "https:\/\/api.example.vn\/" is already served by client "api-server"/],
      ['resource options without --resource', ['--id', 'bad-7', '--name', 'Bad', '--profile', 'service', '--resource-scopes', 'api:read'], /--resource-scopes: needs --resource/],
      ['a scope no resource server offers', ['--id', 'bad-8', '--name', 'Bad', '--profile', 'service', '--scopes', 'nothing:here'], /no registered resource server offers "nothing:here"/],
    ];
    for (const [title, args, message] of refusals) {
      it(`refuses ${title}, writing nothing`, async () => {
        const earlier = await snapshot();
        const result = await cli(args);
        expect(result.code, result.stderr).to.equal(2);
        const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
        expect(lines, result.stderr).to.have.length(1);
        expect(lines[0]).to.match(/^citizen-idp clients add: /).and.to.match(message);
        expect(result.stdout).to.equal('');
        expect(await snapshot()).to.deep.equal(earlier);
      });
    }

    it('removing a resource server frees its resource indicator', async () => {
      await world.server.container.clients.remove('api-server');
      expect(await world.server.container.db('resource_servers').where({ client_id: 'api-server' }).count<{ count: string }[]>({ count: '*' })).to.deep.equal([{ count: '0' }]);
      const unknown = await rejectionOf(client.clientCredentialsGrant(await discover(SHORT_SERVICE), { resource: 'https://api.example.vn/' }));
      expect(unknown.error).to.equal('invalid_target');
    });
  });
});
