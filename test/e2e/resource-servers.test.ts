// Resource servers end to end (RFC 8707, 9068, 7662, 7009): a resource server started by the test on
// loopback validates JWT access tokens with jose against the provider's JWKS, and introspects opaque
// ones with its own credentials through openid-client; relying parties are openid-client too.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import type { ClientRegistration } from '../../src/oidc/clients/clients.ts';
import { Browser } from '../support/browserless.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const KIOSK = { id: 'kiosk-portal', secret: 'a-kiosk-secret-for-tests', redirectUri: 'http://localhost:4100/callback' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const LEDGER = 'https://ledger.example.vn/';
const INVENTORY = 'https://inventory.example.vn/';
const PULSE = 'https://pulse.example.vn/';
const SECRET = 'a-service-secret-for-tests';

/** A service client; `resourceServer` makes it the resource server for those indicators. */
function service(clientId: string, approvedScopes: string[], resourceServer?: NonNullable<ClientRegistration['settings']>['resourceServer']): ClientRegistration {
  return {
    clientId,
    name: clientId,
    profile: 'service',
    secret: SECRET,
    approvedScopes,
    ...(resourceServer && { settings: { resourceServer } }),
  };
}

async function rejectionOf(attempt: Promise<unknown>): Promise<{ error?: string; status?: number; message: string }> {
  try {
    await attempt;
  } catch (error) {
    return error as { error?: string; status?: number; message: string };
  }
  expect.fail('expected a refusal');
}

describe('resource servers', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let api: HttpServer;
  /** The JWT resource server's indicator: the test's own HTTP server on loopback. */
  let orders: string;
  const configs = new Map<string, client.Configuration>();
  const configOf = (clientId: string) => configs.get(clientId)!;

  before(async () => {
    world = await startTestServer();
    api = createServer((request, response) => {
      void answer(request.url ?? '/', request.headers.authorization).then(({ status, body }) => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    orders = `http://127.0.0.1:${(api.address() as AddressInfo).port}/orders`;

    const registrations: ClientRegistration[] = [
      service('orders-api', [], { resources: [orders], scopes: ['orders:read', 'orders:write'] }),
      service('inventory-api', [], { resources: [INVENTORY], scopes: ['inventory:read'] }),
      service('ledger-api', [], { resources: [LEDGER], scopes: ['ledger:read', 'ledger:write'], accessTokenFormat: 'opaque' }),
      service('pulse-api', [], { resources: [PULSE], scopes: ['pulse:read'], accessTokenFormat: 'opaque', accessTokenTtl: 2 }),
      service('batch-job', ['orders:read', 'ledger:read', 'pulse:read']),
      service('night-job', ['ledger:read']),
      { clientId: KIOSK.id, name: 'Kiosk', profile: 'portal', secret: KIOSK.secret, redirectUris: [KIOSK.redirectUri], approvedScopes: ['openid', 'profile'] },
    ];
    for (const registration of registrations) {
      expect(await world.server.container.clients.create(registration), registration.clientId).to.not.equal(undefined);
      configs.set(
        registration.clientId,
        await client.discovery(new URL(world.issuer), registration.clientId, undefined, client.ClientSecretBasic(registration.secret), {
          execute: [client.allowInsecureRequests],
        }),
      );
    }
    configs.set(
      PORTAL.id,
      await client.discovery(new URL(world.issuer), PORTAL.id, undefined, client.ClientSecretBasic(PORTAL.secret), { execute: [client.allowInsecureRequests] }),
    );
  });

  after(async () => {
    api?.closeAllConnections();
    await new Promise((resolve) => api?.close(resolve));
    await world?.close();
  });

  /**
   * The test's resource server. /orders: a JWT access token, checked with jose against the provider's
   * JWKS (typ at+jwt, iss, aud). /ledger: an opaque token, introspected with ledger-api's credentials.
   */
  async function answer(path: string, authorization: string | undefined): Promise<{ status: number; body: unknown }> {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) return { status: 401, body: { error: 'no bearer token' } };
    if (path.startsWith('/orders')) {
      try {
        const jwks = createRemoteJWKSet(new URL('/jwks', world.issuer));
        const { payload } = await jwtVerify(token, jwks, { issuer: world.issuer, audience: orders, typ: 'at+jwt', algorithms: ['ES256'] });
        return { status: 200, body: { sub: payload.sub, client_id: payload.client_id, scope: payload.scope ?? null } };
      } catch (error) {
        return { status: 401, body: { error: (error as Error).message } };
      }
    }
    if (path.startsWith('/ledger')) {
      const introspection = await client.tokenIntrospection(configOf('ledger-api'), token);
      if (!introspection.active || introspection.aud !== LEDGER) return { status: 401, body: { error: 'inactive' } };
      return { status: 200, body: { client_id: introspection.client_id, scope: introspection.scope } };
    }
    return { status: 404, body: {} };
  }

  const call = async (path: string, token: string) => {
    const response = await fetch(new URL(path, orders), { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  async function tokenFor(clientId: string, parameters: Record<string, string>) {
    return client.clientCredentialsGrant(configOf(clientId), parameters);
  }

  it('publishes introspection and revocation endpoints, and every key with kid, use and alg', async () => {
    const metadata = configOf('batch-job').serverMetadata();
    expect(metadata.introspection_endpoint).to.equal(`${world.issuer}/token/introspection`);
    expect(metadata.revocation_endpoint).to.equal(`${world.issuer}/token/revocation`);
    const { keys } = (await (await fetch(`${world.issuer}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    for (const key of keys) expect(key).to.include.keys('kid', 'use', 'alg');
  });

  describe('JWT access tokens (RFC 9068)', () => {
    it('a service client gets one for a registered resource server, which validates it with jose', async () => {
      const tokens = await tokenFor('batch-job', { resource: orders, scope: 'orders:read orders:write' });
      // orders:write is offered but not approved for batch-job: dropped, not refused.
      expect(tokens.scope).to.equal('orders:read');
      const header = decodeProtectedHeader(tokens.access_token);
      expect(header).to.include({ typ: 'at+jwt', alg: 'ES256' });
      const verified = await call('/orders', tokens.access_token);
      expect(verified).to.deep.equal({ status: 200, body: { sub: 'batch-job', client_id: 'batch-job', scope: 'orders:read' } });

      const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL('/jwks', world.issuer)), { typ: 'at+jwt' });
      expect(payload).to.include({ iss: world.issuer, aud: orders, client_id: 'batch-job', sub: 'batch-job' });
      expect(payload.jti).to.be.a('string');
      expect(payload.exp! - payload.iat!).to.equal(world.config.ttl.clientCredentials);
      expect(tokens.expires_in).to.equal(world.config.ttl.clientCredentials);
    });

    it('the resource server refuses a JWT addressed to another resource server', async () => {
      const tokens = await tokenFor('batch-job', { resource: INVENTORY });
      expect(decodeProtectedHeader(tokens.access_token).typ).to.equal('at+jwt');
      const refused = await call('/orders', tokens.access_token);
      expect(refused.status).to.equal(401);
      expect(String(refused.body.error)).to.match(/aud/);
    });

    it('cannot be introspected or revoked (the resource server checks it itself)', async () => {
      const tokens = await tokenFor('batch-job', { resource: orders });
      const introspection = await rejectionOf(client.tokenIntrospection(configOf('orders-api'), tokens.access_token));
      expect(introspection.error).to.equal('unsupported_token_type');
    });

    it('a portal gets one on behalf of a citizen: aud, its client_id, the sub it sees, no unapproved scope', async () => {
      const portal = configOf(PORTAL.id);
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(portal, {
        redirect_uri: PORTAL.redirectUri,
        scope: 'openid profile offline_access orders:read',
        prompt: 'consent',
        resource: orders,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const callback = await new Browser(world.issuer).signIn(url, BICH.id, BICH.password);
      // Without `resource` at the token endpoint: the userinfo token, opaque, as OpenID libraries expect.
      const tokens = await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: verifier });
      const sub = tokens.claims()!.sub;
      expect(tokens.access_token.split('.')).to.have.length(1);
      expect(tokens.scope!.split(' ')).to.have.members(['openid', 'profile', 'offline_access']);
      expect((await client.fetchUserInfo(portal, tokens.access_token, sub)).name).to.be.a('string');

      // With it (here on refresh): a JWT for the resource server, for the same citizen.
      const forOrders = await client.refreshTokenGrant(portal, tokens.refresh_token!, { resource: orders });
      expect(decodeProtectedHeader(forOrders.access_token).typ).to.equal('at+jwt');
      const verified = await call('/orders', forOrders.access_token);
      // orders:read is not approved for demo-portal (resource scopes are for service clients).
      expect(verified).to.deep.equal({ status: 200, body: { sub, client_id: PORTAL.id, scope: null } });
      // It is not a userinfo token.
      const userinfo = await rejectionOf(client.fetchUserInfo(portal, forOrders.access_token, sub));
      expect(userinfo.status).to.equal(401);
      // A refresh asking for a scope its refresh token does not hold is refused (oidc-provider's rule),
      // unlike an authorization or client-credentials request, where it is dropped.
      const widened = await rejectionOf(client.refreshTokenGrant(portal, forOrders.refresh_token!, { resource: orders, scope: 'openid orders:read' }));
      expect(widened.error).to.equal('invalid_scope');
    });
  });

  describe('introspection (RFC 7662) of opaque tokens', () => {
    it('the resource server a token is addressed to introspects it with its own credentials', async () => {
      const tokens = await tokenFor('batch-job', { resource: LEDGER, scope: 'ledger:read ledger:write' });
      expect(tokens.access_token.split('.')).to.have.length(1);
      expect(tokens.scope).to.equal('ledger:read');
      expect(await call('/ledger', tokens.access_token)).to.deep.equal({ status: 200, body: { client_id: 'batch-job', scope: 'ledger:read' } });
      const introspection = await client.tokenIntrospection(configOf('ledger-api'), tokens.access_token);
      expect(introspection).to.include({ active: true, aud: LEDGER, client_id: 'batch-job', scope: 'ledger:read', token_type: 'Bearer', iss: world.issuer });
      expect(introspection.exp).to.be.a('number');
    });

    it('another resource server, or a token with no audience, gets active: false', async () => {
      const forLedger = await tokenFor('batch-job', { resource: LEDGER });
      expect((await client.tokenIntrospection(configOf('orders-api'), forLedger.access_token)).active).to.equal(false);
      const noAudience = await tokenFor('batch-job', {});
      expect((await client.tokenIntrospection(configOf('ledger-api'), noAudience.access_token)).active).to.equal(false);
      // Its own client may always ask.
      expect((await client.tokenIntrospection(configOf('batch-job'), noAudience.access_token)).active).to.equal(true);
    });

    it('revoked by its client (RFC 7009), a token is inactive at once', async () => {
      const tokens = await tokenFor('batch-job', { resource: LEDGER });
      expect((await client.tokenIntrospection(configOf('ledger-api'), tokens.access_token)).active).to.equal(true);
      // Not by the resource server: only the token's own client revokes it.
      expect((await rejectionOf(client.tokenRevocation(configOf('ledger-api'), tokens.access_token))).error).to.equal('invalid_request');
      expect((await client.tokenIntrospection(configOf('ledger-api'), tokens.access_token)).active).to.equal(true);
      await client.tokenRevocation(configOf('batch-job'), tokens.access_token);
      expect(await client.tokenIntrospection(configOf('ledger-api'), tokens.access_token)).to.deep.equal({ active: false });
      expect((await call('/ledger', tokens.access_token)).status).to.equal(401);
    });

    it('an expired token is inactive', async () => {
      const tokens = await tokenFor('batch-job', { resource: PULSE });
      // pulse-api registered a two-second lifetime for the tokens addressed to it (whole seconds:
      // one second could end before the first question).
      expect(tokens.expires_in).to.equal(2);
      expect((await client.tokenIntrospection(configOf('pulse-api'), tokens.access_token)).active).to.equal(true);
      await new Promise((resolve) => setTimeout(resolve, 3100));
      expect(await client.tokenIntrospection(configOf('pulse-api'), tokens.access_token)).to.deep.equal({ active: false });
    });

    it("a suspended client's tokens are inactive (an answer, not a server error)", async () => {
      // A citizen's token from a portal, addressed to the ledger (opaque): the introspection names the
      // citizen by the sub the portal sees, which needs the portal's client loaded.
      const kiosk = configOf(KIOSK.id);
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(kiosk, {
        redirect_uri: KIOSK.redirectUri,
        scope: 'openid profile',
        resource: LEDGER,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const callback = await new Browser(world.issuer).signIn(url, BICH.id, BICH.password);
      const citizens = await client.authorizationCodeGrant(kiosk, callback, { pkceCodeVerifier: verifier }, { resource: LEDGER });
      const services = await tokenFor('night-job', { resource: LEDGER });
      const seen = await client.tokenIntrospection(configOf('ledger-api'), citizens.access_token);
      expect(seen).to.include({ active: true, aud: LEDGER, client_id: KIOSK.id, sub: citizens.claims()!.sub });
      expect((await client.tokenIntrospection(configOf('ledger-api'), services.access_token)).active).to.equal(true);

      await world.server.container.db('clients').whereIn('client_id', [KIOSK.id, 'night-job']).update({ status: 'suspended' });
      // A write outside ClientRepository tells the instances' client caches itself (src/oidc/clients/client-cache.ts).
      await world.server.container.clients.clientsChanged();
      for (const token of [citizens.access_token, services.access_token]) {
        const response = await fetch(`${world.issuer}/token/introspection`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`ledger-api:${SECRET}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ token }).toString(),
        });
        expect(response.status).to.equal(200);
        expect(await response.json()).to.deep.equal({ active: false });
      }
      // And the suspended client itself is no longer let in.
      const refused = (await rejectionOf(tokenFor('night-job', { resource: LEDGER }))) as { status?: number; cause?: { parameters: { error?: string } }[] };
      expect(refused.status).to.equal(401);
      expect(refused.cause?.[0]?.parameters.error).to.equal('invalid_client');
    });
  });

  describe('unknown resources (RFC 8707): invalid_target', () => {
    it('at the token endpoint', async () => {
      const refused = await rejectionOf(tokenFor('batch-job', { resource: 'https://unknown.example.vn/' }));
      expect(refused.error).to.equal('invalid_target');
    });

    it('at the authorization endpoint, at the redirect URI', async () => {
      const url = client.buildAuthorizationUrl(configOf(PORTAL.id), {
        redirect_uri: PORTAL.redirectUri,
        scope: 'openid',
        resource: 'https://unknown.example.vn/',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const page = await new Browser(world.issuer).get(url);
      expect(new URL(page.location!).searchParams.get('error')).to.equal('invalid_target');
    });

    it("for a resource server that is suspended, and for one the code wasn't granted", async () => {
      await world.server.container.db('clients').where({ client_id: 'inventory-api' }).update({ status: 'suspended' });
      try {
        expect((await rejectionOf(tokenFor('batch-job', { resource: INVENTORY }))).error).to.equal('invalid_target');
      } finally {
        await world.server.container.db('clients').where({ client_id: 'inventory-api' }).update({ status: 'active' });
      }
      const portal = configOf(PORTAL.id);
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(portal, {
        redirect_uri: PORTAL.redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const callback = await new Browser(world.issuer).signIn(url, BICH.id, BICH.password);
      const refused = await rejectionOf(client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: verifier }, { resource: orders }));
      expect(refused.error).to.equal('invalid_target');
    });
  });

  it('the JWT a resource server gets carries only what RFC 9068 lists and the client asked for', async () => {
    const tokens = await tokenFor('batch-job', { resource: orders, scope: 'orders:read' });
    const { payload } = await jwtVerify<JWTPayload & { client_id: string; scope: string }>(
      tokens.access_token,
      createRemoteJWKSet(new URL('/jwks', world.issuer)),
      { issuer: world.issuer, audience: orders, typ: 'at+jwt' },
    );
    expect(Object.keys(payload).sort()).to.deep.equal(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
  });
});
