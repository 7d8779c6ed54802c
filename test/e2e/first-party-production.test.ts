// The two first-party sign-ins (the account page and the admin console) as production runs them:
// NODE_ENV=production, an https issuer and an https ADMIN_URL, each app behind a TLS-terminating proxy
// that TRUSTED_PROXIES names (and that is not the loopback address the instance calls itself from),
// real PostgreSQL and Redis; a citizen signs in to /account and an administrator to /console/ in chromium.
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { buildServer, type Server } from '../../src/server.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { AdminRoles } from '../../src/admin/auth-roles.ts';
import { FIRST_ADMIN } from '../support/admin.ts';
import { launchChromium } from '../support/chromium.ts';
import { PROXY_SOURCE_ADDRESS, startTlsTerminatingProxy, type TlsTerminatingProxy } from '../support/tls-terminating-proxy.ts';
import { createTestDatabase, freePort, testConfig, TEST_REDIS_URL, type TestDatabase } from '../support/world.ts';

/** Nguyễn Văn An (docs/design.md "Demo data"): level 2, TOTP. */
const AN = { id: FIRST_ADMIN, password: 'An#Demo2026', totpSecret: 'JBSWY3DPEHPK3PXP' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };

function listen(app: { callback(): Parameters<typeof createServer>[1] }, port: number): Promise<HttpServer> {
  const http = createServer(app.callback());
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve(http));
  });
}

describe('the first-party sign-ins in production, behind a TLS-terminating proxy', function () {
  this.timeout(180_000);
  let database: TestDatabase;
  let server: Server;
  let config: Config;
  const listening: HttpServer[] = [];
  const proxies: TlsTerminatingProxy[] = [];
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let issuer: string;
  let adminUrl: string;

  before(async () => {
    database = await createTestDatabase();
    const [port, adminPort, publicProxyPort, adminProxyPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    issuer = `https://localhost:${publicProxyPort}`;
    adminUrl = `https://localhost:${adminProxyPort}`;
    const secrets = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), PAIRWISE_KEY: randomBytes(32).toString('base64') };
    const redisKeyPrefix = `test-${randomBytes(4).toString('hex')}:`;
    // Production never loads the demo data: a test-mode build on the same storage seeds it first.
    const seeding = await buildServer(
      testConfig({
        port,
        adminPort,
        databaseUrl: database.url,
        redisUrl: TEST_REDIS_URL,
        overrides: { redisKeyPrefix, keyEncryptionKey: secrets.KEY_ENCRYPTION_KEY, pairwiseKey: secrets.PAIRWISE_KEY },
      }),
    );
    const { seedDemoData } = await import('../../src/admin/demo-data.ts');
    await seedDemoData(seeding.container);
    await new AdminRoles(seeding.container.db).grant(AN.id, 'client_admin', 'test');
    await seeding.close();

    config = loadConfig({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      ISSUER: issuer,
      ADMIN_URL: adminUrl,
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redisKeyPrefix,
      ...secrets,
      TRUSTED_PROXIES: PROXY_SOURCE_ADDRESS,
      SMTP_URL: 'smtp://127.0.0.1:9',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    server = await buildServer(config);
    listening.push(await listen(server.publicApp, port), await listen(server.adminApp, adminPort));
    proxies.push(await startTlsTerminatingProxy(port, publicProxyPort), await startTlsTerminatingProxy(adminPort, adminProxyPort));
    browser = await launchChromium();
  });

  beforeEach(async () => {
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
  });

  afterEach(async () => {
    await context?.close();
  });

  after(async () => {
    await browser?.close();
    for (const proxy of proxies) await proxy.close();
    for (const http of listening) {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
    await server?.close();
    await database?.drop();
  });

  it('runs in production with https endpoints in discovery', async () => {
    expect(config.env).to.equal('production');
    const response = await page.goto(`${issuer}/.well-known/openid-configuration`);
    const discovery = (await response!.json()) as { issuer: string; authorization_endpoint: string };
    expect(discovery.issuer).to.equal(issuer);
    expect(discovery.authorization_endpoint).to.match(/^https:\/\/localhost:/);
  });

  it('signs a citizen in to the account page', async () => {
    await page.goto(`${issuer}/account`);
    await page.waitForSelector('input[name=username]');
    expect(new URL(page.url()).origin).to.equal(issuer);
    await page.fill('input[name=username]', BICH.id);
    await page.fill('input[name=password]', BICH.password);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.waitForURL((url) => url.pathname === '/account' || url.pathname.startsWith('/interaction/'));
    if (new URL(page.url()).pathname !== '/account') await page.getByRole('button', { name: 'Đồng ý chia sẻ' }).click();
    await page.waitForURL(`${issuer}/account`);
    expect(await page.textContent('main')).to.include('Trần Thị Bích');
  });

  it('signs an administrator in to the admin console at level 2', async () => {
    await page.goto(`${adminUrl}/console/`);
    await page.waitForSelector('input[name=username]');
    expect(new URL(page.url()).origin).to.equal(issuer);
    await page.fill('input[name=username]', AN.id);
    await page.fill('input[name=password]', AN.password);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.waitForSelector('input[name=otp]');
    await page.fill('input[name=otp]', await currentTotp(AN.totpSecret));
    await page.getByRole('button', { name: 'Xác nhận' }).click();
    await page.waitForURL((url) => url.origin === adminUrl || url.pathname.startsWith('/interaction/'));
    if (new URL(page.url()).origin !== adminUrl) await page.getByRole('button', { name: 'Đồng ý chia sẻ' }).click();
    await page.waitForURL(`${adminUrl}/console/`);
    expect(await page.textContent('main')).to.include('Quản trị dịch vụ liên kết');
  });
});
