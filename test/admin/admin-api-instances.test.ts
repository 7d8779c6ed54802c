// Changes made through the admin API on one instance take effect on another at once, without a
// restart: a suspended client is refused at the authorization endpoint and its tokens introspect as
// inactive; new redirect URIs are accepted and old ones refused. And secret rotation: the previous
// secret works during the overlap (on every instance), not after, and not after a second rotation.
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, FIRST_ADMIN, type AdminCredentials } from '../support/admin.ts';

type Json = Record<string, unknown>;
const CONTACTS = [{ name: 'Ops', email: 'ops@example.vn' }];
const TAX_API = 'https://api.tax.example.vn/';
const OVERLAP_SECONDS = 2;

const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function tokenRequest(server: RunningServer, clientId: string, secret: string, extra: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...extra }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

async function introspect(server: RunningServer, clientId: string, secret: string, token: string): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.issuer}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    body: new URLSearchParams({ token }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

/** The provider's answer to an authorization request: 303 to a sign-in page, or an error page. */
async function authorize(server: RunningServer, clientId: string, redirectUri: string): Promise<{ status: number; body: string; location: string | null }> {
  const url = new URL(`${server.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid',
    state: 'state-1234567890',
    nonce: 'nonce-1234567890',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, body: await response.text(), location: response.headers.get('location') };
}

describe('admin API: changes reach every instance at once', function () {
  this.timeout(60_000);
  let first: RunningServer;
  let second: RunningServer;
  let admin: AdminCredentials;

  before(async () => {
    first = await startTestServer({ overrides: { admin: { secretRotationOverlapSeconds: OVERLAP_SECONDS } } });
    second = await startTestServer({ sameStorageAs: first, overrides: { admin: { secretRotationOverlapSeconds: OVERLAP_SECONDS } } });
    admin = await adminSession(first, FIRST_ADMIN, ['client_admin']);
  });
  after(async () => {
    await second?.close();
    await first?.close();
  });

  const call = <T = Json>(method: string, path: string, body?: unknown) => adminCall<T>(first, admin, method, path, body);

  describe('suspension', () => {
    let taxSecret: string;
    let robotSecret: string;

    before(async () => {
      const portal = await call('POST', '/api/clients', {
        clientId: 'city-portal',
        name: 'City portal',
        profile: 'portal',
        approvedScopes: ['openid'],
        redirectUris: ['https://city.example.vn/cb'],
        contacts: CONTACTS,
        agreementReference: 'AGR-7',
      });
      expect(portal.status).to.equal(201);
      const api = await call<{ secret: string }>('POST', '/api/clients', {
        clientId: 'tax-api',
        name: 'Tax API',
        profile: 'service',
        settings: { resourceServer: { resources: [TAX_API], scopes: ['tax:read'], accessTokenFormat: 'opaque' } },
        contacts: CONTACTS,
        agreementReference: 'AGR-8',
      });
      expect(api.status, JSON.stringify(api.body)).to.equal(201);
      taxSecret = api.body.secret;
      const robot = await call<{ secret: string }>('POST', '/api/clients', {
        clientId: 'tax-robot',
        name: 'Tax robot',
        profile: 'service',
        approvedScopes: ['tax:read'],
        contacts: CONTACTS,
        agreementReference: 'AGR-9',
      });
      expect(robot.status, JSON.stringify(robot.body)).to.equal(201);
      robotSecret = robot.body.secret;
    });

    it('a suspended client can start no flow on the other instance', async () => {
      const before = await authorize(second, 'city-portal', 'https://city.example.vn/cb');
      expect(before.status).to.equal(303);
      expect(before.location).to.include('/interaction/');
      expect((await call('POST', '/api/clients/city-portal/suspend')).status).to.equal(200);
      const after = await authorize(second, 'city-portal', 'https://city.example.vn/cb');
      expect(after.status).to.equal(400);
      expect(after.body).to.include('invalid_client');
      expect((await call('POST', '/api/clients/city-portal/resume')).status).to.equal(200);
      expect((await authorize(second, 'city-portal', 'https://city.example.vn/cb')).status).to.equal(303);
    });

    it("a suspended client's tokens introspect as inactive on the other instance, and it can get no more", async () => {
      const issued = await tokenRequest(second, 'tax-robot', robotSecret, { scope: 'tax:read', resource: TAX_API });
      expect(issued.status, JSON.stringify(issued.body)).to.equal(200);
      const token = issued.body.access_token as string;
      const active = await introspect(second, 'tax-api', taxSecret, token);
      expect(active.body).to.include({ active: true, client_id: 'tax-robot' });

      expect((await call('POST', '/api/clients/tax-robot/suspend')).status).to.equal(200);
      const inactive = await introspect(second, 'tax-api', taxSecret, token);
      expect(inactive.status).to.equal(200);
      expect(inactive.body).to.deep.equal({ active: false });
      expect((await tokenRequest(second, 'tax-robot', robotSecret, { scope: 'tax:read', resource: TAX_API })).status).to.equal(401);
      // Resumed: the same unexpired token is active again, everywhere.
      expect((await call('POST', '/api/clients/tax-robot/resume')).status).to.equal(200);
      expect((await introspect(second, 'tax-api', taxSecret, token)).body).to.include({ active: true });
      expect((await introspect(first, 'tax-api', taxSecret, token)).body).to.include({ active: true });
    });

    it('a deleted client likewise: inactive tokens, no 500', async () => {
      const issued = await tokenRequest(first, 'tax-robot', robotSecret, { scope: 'tax:read', resource: TAX_API });
      const token = issued.body.access_token as string;
      expect((await call('DELETE', '/api/clients/tax-robot')).status).to.equal(204);
      const answer = await introspect(second, 'tax-api', taxSecret, token);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.deep.equal({ active: false });
    });

    it('a new redirect URI works on the other instance at once, the old one no more', async () => {
      const updated = await call('PUT', '/api/clients/city-portal', {
        name: 'City portal',
        profile: 'portal',
        approvedScopes: ['openid'],
        redirectUris: ['https://city.example.vn/new-cb'],
        contacts: CONTACTS,
        agreementReference: 'AGR-7',
      });
      expect(updated.status).to.equal(200);
      expect((await authorize(second, 'city-portal', 'https://city.example.vn/new-cb')).status).to.equal(303);
      const old = await authorize(second, 'city-portal', 'https://city.example.vn/cb');
      expect(old.status).to.equal(400);
      expect(old.body).to.include('redirect_uri');
    });
  });

  describe('secret rotation', () => {
    let original: string;

    before(async () => {
      const created = await call<{ secret: string }>('POST', '/api/clients', {
        clientId: 'rotating-service',
        name: 'Rotating service',
        profile: 'service',
        contacts: CONTACTS,
        agreementReference: 'AGR-10',
      });
      expect(created.status).to.equal(201);
      original = created.body.secret;
    });

    it('the old secret works during the overlap, on both instances; the new one at once; then only the new one', async () => {
      expect((await tokenRequest(second, 'rotating-service', original)).status).to.equal(200);
      const rotated = await call<{ secret: string; previousSecretValidUntil: string }>('POST', '/api/clients/rotating-service/secret');
      expect(rotated.status).to.equal(200);
      const fresh = rotated.body.secret;
      expect(fresh).to.not.equal(original);
      const until = Date.parse(rotated.body.previousSecretValidUntil);
      expect(until - Date.now()).to.be.within(0, OVERLAP_SECONDS * 1000 + 500);
      expect((await call<{ previousSecretValidUntil: string }>('GET', '/api/clients/rotating-service')).body.previousSecretValidUntil).to.equal(rotated.body.previousSecretValidUntil);

      for (const server of [first, second]) {
        expect((await tokenRequest(server, 'rotating-service', fresh)).status).to.equal(200);
        expect((await tokenRequest(server, 'rotating-service', original)).status).to.equal(200);
        expect((await tokenRequest(server, 'rotating-service', 'neither-of-them-secret')).status).to.equal(401);
      }
      await new Promise((resolve) => setTimeout(resolve, until - Date.now() + 300));
      for (const server of [first, second]) {
        const late = await tokenRequest(server, 'rotating-service', original);
        expect(late.status).to.equal(401);
        expect(late.body.error).to.equal('invalid_client');
        expect((await tokenRequest(server, 'rotating-service', fresh)).status).to.equal(200);
      }
    });

    it('a further rotation ends the previous overlap at once; secrets stay sealed at rest', async () => {
      const rotate = async () => (await call<{ secret: string }>('POST', '/api/clients/rotating-service/secret')).body.secret;
      const one = await rotate();
      const two = await rotate();
      expect((await tokenRequest(second, 'rotating-service', two)).status).to.equal(200);
      expect((await tokenRequest(second, 'rotating-service', one)).status).to.equal(200);
      const three = await rotate();
      expect((await tokenRequest(second, 'rotating-service', one)).status).to.equal(401);
      expect((await tokenRequest(second, 'rotating-service', two)).status).to.equal(200);
      expect((await tokenRequest(second, 'rotating-service', three)).status).to.equal(200);
      const row = await first.server.container.db('clients').where({ client_id: 'rotating-service' }).first<{ secret_sealed: string; retired_secret_sealed: string }>();
      expect(row.secret_sealed).to.not.include(three);
      expect(row.retired_secret_sealed).to.be.a('string').and.not.include(two);
    });

    it('a client without a secret has none to rotate', async () => {
      const spa = await call('POST', '/api/clients', {
        clientId: 'secretless-spa',
        name: 'SPA',
        profile: 'spa',
        redirectUris: ['https://spa.example.vn/cb'],
        contacts: CONTACTS,
        agreementReference: 'AGR-11',
      });
      expect(spa.status).to.equal(201);
      const answer = await call('POST', '/api/clients/secretless-spa/secret');
      expect(answer.status).to.equal(409);
      expect(answer.body.code).to.equal('no_secret');
    });
  });
});
