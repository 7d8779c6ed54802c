// The two first-party sign-ins (the account page and the admin console) as production runs them:
// NODE_ENV=production, an https issuer and an https ADMIN_URL, each app behind a TLS-terminating proxy
// that TRUSTED_PROXIES names (and that is not the loopback address the instance calls itself from),
// real PostgreSQL and Redis; a citizen signs in to /account and an administrator to /console/ in chromium.
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Config } from '../../src/config/config.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { AdminRoles } from '../../src/admin/auth-roles.ts';
import { FIRST_ADMIN } from '../support/admin.ts';
import { launchChromium } from '../support/chromium.ts';
import { startProductionServer, type ProductionServer } from '../support/production-server.ts';

/** Nguyễn Văn An (docs/design.md "Demo data"): level 2, TOTP. */
const AN = { id: FIRST_ADMIN, password: 'An#Demo2026', totpSecret: 'JBSWY3DPEHPK3PXP' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };

describe('the first-party sign-ins in production, behind a TLS-terminating proxy', function () {
  this.timeout(180_000);
  let production: ProductionServer;
  let config: Config;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let issuer: string;
  let adminUrl: string;

  before(async () => {
    production = await startProductionServer({
      seed: (seeding) => new AdminRoles(seeding.container.db).grant(AN.id, 'client_admin', 'test'),
    });
    ({ config, issuer, adminUrl } = production);
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
    await production?.close();
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
