// A production instance (NODE_ENV=production, https issuer, TRUSTED_PROXIES naming the TLS proxy)
// reached over plain http without the proxy's X-Forwarded-Proto: the endpoints that set the provider's
// Secure cookies (/auth, /session/end) refuse with a clear 400 before the provider is reached — in
// the citizen's language, or as OAuth JSON — instead of failing with a 500; through the proxy they work.
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { request } from 'node:https';
import { expect } from 'chai';
import { loadConfig } from '../../src/config/config.ts';
import { buildServer, type Server } from '../../src/server.ts';
import { PROXY_SOURCE_ADDRESS, startTlsTerminatingProxy, type TlsTerminatingProxy } from '../support/tls-terminating-proxy.ts';
import { createTestDatabase, freePort, testConfig, TEST_REDIS_URL, type TestDatabase } from '../support/world.ts';

function listen(app: { callback(): Parameters<typeof createServer>[1] }, port: number): Promise<HttpServer> {
  const http = createServer(app.callback());
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve(http));
  });
}

describe('production over plain http, without the TLS proxy', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let server: Server;
  let http: HttpServer;
  let proxy: TlsTerminatingProxy;
  let direct: string;
  let issuer: string;

  before(async () => {
    database = await createTestDatabase();
    const [port, adminPort, proxyPort] = [await freePort(), await freePort(), await freePort()];
    issuer = `https://localhost:${proxyPort}`;
    direct = `http://127.0.0.1:${port}`;
    const secrets = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), PAIRWISE_KEY: randomBytes(32).toString('base64') };
    const redisKeyPrefix = `test-${randomBytes(4).toString('hex')}:`;
    // Production never loads the demo data: a test-mode build on the same storage seeds it first.
    const seeding = await buildServer(
      testConfig({ port, adminPort, databaseUrl: database.url, redisUrl: TEST_REDIS_URL, overrides: { redisKeyPrefix, keyEncryptionKey: secrets.KEY_ENCRYPTION_KEY, pairwiseKey: secrets.PAIRWISE_KEY } }),
    );
    const { seedDemoData } = await import('../../src/admin/demo-data.ts');
    await seedDemoData(seeding.container);
    await seeding.close();
    server = await buildServer(
      loadConfig({
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        ISSUER: issuer,
        ADMIN_URL: `https://localhost:${await freePort()}`,
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: redisKeyPrefix,
        ...secrets,
        TRUSTED_PROXIES: PROXY_SOURCE_ADDRESS,
        SMTP_URL: 'smtp://127.0.0.1:9',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      }),
    );
    http = await listen(server.publicApp, port);
    proxy = await startTlsTerminatingProxy(port, proxyPort);
  });

  after(async () => {
    await proxy?.close();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await server?.close();
    await database?.drop();
  });

  const authorization = (base: string) =>
    `${base}/auth?${new URLSearchParams({ client_id: 'demo-portal', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:4000/callback', state: 'abcdefgh', nonce: 'n1', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSIrs7HQ', code_challenge_method: 'S256' }).toString()}`;

  it('refuses the authorization endpoint with 400 and a page saying to use https, in Vietnamese and English', async () => {
    const vietnamese = await fetch(authorization(direct), { redirect: 'manual' });
    expect(vietnamese.status).to.equal(400);
    expect(vietnamese.headers.get('set-cookie')).to.equal(null);
    const page = await vietnamese.text();
    expect(page).to.include('lang="vi"').and.include('role="alert"').and.include('https').and.include(issuer);
    // The relying party's ui_locales, as the sign-in pages honour it.
    const english = await fetch(`${authorization(direct)}&ui_locales=en`, { redirect: 'manual' });
    expect(english.status).to.equal(400);
    expect(await english.text()).to.include('lang="en"').and.include('https');
  });

  it('refuses the end-session endpoint, GET and POST, with 400; a program gets OAuth JSON', async () => {
    expect((await fetch(`${direct}/session/end`, { redirect: 'manual' })).status).to.equal(400);
    const posted = await fetch(`${direct}/session/end`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'xsrf=x' });
    expect(posted.status).to.equal(400);
    const json = await fetch(`${direct}/session/end`, { redirect: 'manual', headers: { accept: 'application/json' } });
    expect(json.status).to.equal(400);
    expect(await json.json()).to.include({ error: 'invalid_request' });
  });

  it('serves the same endpoints through the TLS-terminating proxy', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request(authorization(issuer), { rejectUnauthorized: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).to.equal(303);
  });

  it('does not refuse what sets no cookie over plain http (discovery, probes)', async () => {
    expect((await fetch(`${direct}/.well-known/openid-configuration`)).status).to.equal(200);
    expect((await fetch(`${direct}/healthz`)).status).to.equal(200);
  });
});
