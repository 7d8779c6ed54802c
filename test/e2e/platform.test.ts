// The platform seen from outside, through a real relying-party library (openid-client): discovery,
// the published keys, the client credentials grant and introspection, the authorization endpoint's
// refusals, health and readiness, and the audit event a token leaves behind.
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';

const SERVICE_ID = 'demo-service';
const SERVICE_SECRET = 'demo-service-secret';
const PORTAL_ID = 'demo-portal';
const PORTAL_REDIRECT = 'http://localhost:4000/callback';

/** Loopback issuers are plain http; openid-client refuses those unless told otherwise. */
const insecure = { execute: [client.allowInsecureRequests] };

function discover(world: RunningServer, clientId: string, secret?: string): Promise<client.Configuration> {
  return client.discovery(
    new URL(world.issuer),
    clientId,
    undefined,
    secret === undefined ? undefined : client.ClientSecretBasic(secret),
    insecure,
  );
}

/** The OAuth error a rejected promise carries: its `error` code and HTTP status. */
async function oauthFailure(attempt: Promise<unknown>): Promise<{ error: string; status: number }> {
  try {
    await attempt;
  } catch (failure) {
    if (failure instanceof client.ResponseBodyError) return { error: failure.error, status: failure.status };
    if (failure instanceof client.WWWAuthenticateChallengeError) {
      const challenge = failure.cause[0];
      return { error: String(challenge?.parameters.error), status: failure.status };
    }
    throw failure;
  }
  throw new Error('expected the request to be refused');
}

function portalAuthorizationUrl(world: RunningServer, params: Record<string, string>): URL {
  const url = new URL('/auth', world.issuer);
  const query = { client_id: PORTAL_ID, response_type: 'code', scope: 'openid', redirect_uri: PORTAL_REDIRECT, state: 'st-123', ...params };
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url;
}

describe('the platform, end to end through openid-client', function () {
  let world: RunningServer;

  before(async function () {
    world = await startTestServer();
  });

  after(async function () {
    await world?.close();
  });

  describe('discovery and keys', function () {
    it('discovers the issuer with ES256 ID tokens and S256 as the only PKCE method', async function () {
      const config = await discover(world, SERVICE_ID, SERVICE_SECRET);
      const metadata = config.serverMetadata();
      expect(metadata.issuer).to.equal(world.issuer);
      expect(metadata.id_token_signing_alg_values_supported).to.include('ES256');
      expect(metadata.code_challenge_methods_supported).to.deep.equal(['S256']);
      expect(metadata.jwks_uri).to.be.a('string');
      expect(metadata.token_endpoint).to.equal(`${world.issuer}/token`);
    });

    it('publishes every key with kid, use and alg and never a private part', async function () {
      const config = await discover(world, SERVICE_ID, SERVICE_SECRET);
      const response = await fetch(config.serverMetadata().jwks_uri!);
      expect(response.status).to.equal(200);
      const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
      expect(keys).to.not.be.empty;
      expect(keys.map((key) => key.alg)).to.include('ES256');
      for (const key of keys) {
        expect(key.kid, 'kid').to.be.a('string').and.not.empty;
        expect(key.use, `use of ${String(key.kid)}`).to.equal('sig');
        expect(key.alg, `alg of ${String(key.kid)}`).to.be.a('string').and.not.empty;
        for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
          expect(key, `${String(key.kid)} must not publish ${part}`).to.not.have.property(part);
        }
      }
      const kids = keys.map((key) => key.kid);
      expect(new Set(kids).size, 'kids are unique').to.equal(kids.length);
    });
  });

  describe('client credentials for a service client', function () {
    it('issues an access token that introspection reports active', async function () {
      const config = await discover(world, SERVICE_ID, SERVICE_SECRET);
      const tokens = await client.clientCredentialsGrant(config);
      expect(tokens.access_token).to.be.a('string').and.not.empty;
      expect(tokens.token_type.toLowerCase()).to.equal('bearer');
      expect(tokens.expires_in).to.be.a('number').above(0);

      const introspection = await client.tokenIntrospection(config, tokens.access_token);
      expect(introspection.active).to.equal(true);
      expect(introspection.client_id).to.equal(SERVICE_ID);
    });

    it('records a token.issued audit event for the grant', async function () {
      const config = await discover(world, SERVICE_ID, SERVICE_SECRET);
      const before = new Date();
      await client.clientCredentialsGrant(config);
      // The event is written as the token is issued; wait for this writer's queue to drain.
      await world.server.container.audit.flush();
      const rows = (await world.server.container.db('audit_events')
        .where({ type: 'token.issued', client_id: SERVICE_ID })
        .andWhere('occurred_at', '>=', before)) as { actor: string | null; data: { grantType?: string } }[];
      expect(rows).to.have.length(1);
      expect(rows[0]!.actor).to.equal(SERVICE_ID);
      expect(rows[0]!.data.grantType).to.equal('client_credentials');
    });

    it('refuses a wrong secret with invalid_client and 401', async function () {
      const config = await discover(world, SERVICE_ID, 'not-the-secret');
      const failure = await oauthFailure(client.clientCredentialsGrant(config));
      expect(failure).to.deep.equal({ error: 'invalid_client', status: 401 });
    });

    it('refuses an unknown client with invalid_client', async function () {
      const config = await discover(world, 'no-such-client', 'whatever');
      const failure = await oauthFailure(client.clientCredentialsGrant(config));
      expect(failure).to.deep.equal({ error: 'invalid_client', status: 401 });
    });
  });

  describe('the authorization endpoint', function () {
    it('refuses a request without PKCE at the redirect URI, issuing no code', async function () {
      const response = await fetch(portalAuthorizationUrl(world, {}), { redirect: 'manual' });
      expect(response.status).to.equal(303);
      const location = new URL(response.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).to.equal(PORTAL_REDIRECT);
      expect(location.searchParams.get('error')).to.equal('invalid_request');
      expect(location.searchParams.get('error_description')).to.match(/PKCE/);
      expect(location.searchParams.get('state')).to.equal('st-123');
      expect(location.searchParams.get('iss')).to.equal(world.issuer);
      expect(location.searchParams.has('code')).to.equal(false);
    });

    it('answers an unregistered redirect URI with an error page, never a redirect', async function () {
      const url = portalAuthorizationUrl(world, {
        redirect_uri: 'https://attacker.example/callback',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status).to.equal(400);
      expect(response.headers.get('location')).to.equal(null);
      expect(response.headers.get('content-type')).to.match(/^text\/html/);
      const page = await response.text();
      expect(page).to.include('redirect_uri');
      expect(page).to.not.include('attacker.example/callback?');
    });
  });

  describe('health', function () {
    it('answers /healthz with 200', async function () {
      const response = await fetch(new URL('/healthz', world.issuer));
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ status: 'ok' });
    });

    it('answers /readyz with 200 and every check ok', async function () {
      const response = await fetch(new URL('/readyz', world.issuer));
      expect(response.status).to.equal(200);
      const report = (await response.json()) as { ready: boolean; checks: Record<string, string> };
      expect(report.ready).to.equal(true);
      expect(Object.keys(report.checks)).to.not.be.empty;
      for (const [name, outcome] of Object.entries(report.checks)) expect(outcome, name).to.equal('ok');
    });
  });

  describe('the admin port', function () {
    it('answers an unknown path with 404 and a JSON error', async function () {
      const response = await fetch(new URL('/no-such-thing', world.adminUrl));
      expect(response.status).to.equal(404);
      expect(await response.json()).to.deep.equal({ error: 'not_found' });
    });

    it('shows the outbox to no one who has not signed in (test/admin/console.test.ts reads it signed in)', async function () {
      await world.server.container.notifier.send({ channel: 'sms', destination: '+84900000009', subject: 'Mã xác nhận', body: '123456' });
      const bare = await fetch(new URL('/outbox', world.adminUrl), { redirect: 'manual' });
      expect(bare.status).to.equal(404);
      expect(await bare.text()).not.to.include('123456');
      const page = await fetch(new URL('/console/outbox', world.adminUrl), { redirect: 'manual' });
      expect(page.status).to.equal(302);
      expect(page.headers.get('location')).to.equal('/auth/sign-in');
      const api = await fetch(new URL('/api/outbox', world.adminUrl));
      expect(api.status).to.equal(401);
      expect(await api.text()).not.to.include('123456');
    });
  });
});
