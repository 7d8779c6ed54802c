// The demo as a person meets it: a real browser (Debian's chromium through playwright-core) opens
// the demo portal, signs a demo citizen in, sees her registry claims, and signs out. Each page is
// saved as a screenshot under test-results/screenshots/.
import { mkdirSync } from 'node:fs';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, watchedPage } from '../support/chromium.ts';
import { createDemoPortal } from '../../src/demo/portal.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { accessibilityViolations } from '../support/axe.ts';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');

describe('the demo in a real browser', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let portal: HttpServer;
  let browser: Browser;
  let page: Page;
  // Any free port: the demo data registers demo-portal's redirect URI on the configured demo.portalPort.
  let portalPort: number;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    portalPort = await freePort();
    world = await startTestServer({ overrides: { demo: { portalPort } } });
    const app = createDemoPortal({
      issuer: world.issuer,
      clientId: 'demo-portal',
      clientSecret: 'demo-portal-secret',
      baseUrl: `http://localhost:${portalPort}`,
      scope: 'openid profile address national_id phone email',
    });
    portal = createServer(app.callback() as RequestListener);
    await new Promise<void>((resolve, reject) => {
      portal.once('error', (error) => reject(new Error(`port ${portalPort} must be free for the demo portal`, { cause: error })));
      portal.listen(portalPort, '127.0.0.1', resolve);
    });
    browser = await launchChromium();
    page = await watchedPage(browser, cspViolations);
  });

  after(async () => {
    await browser?.close();
    portal?.closeAllConnections();
    await new Promise((resolve) => (portal ? portal.close(resolve) : resolve(undefined)));
    await world?.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const cspViolations: string[] = [];

  /** One of the provider's pages: a screenshot, no serious accessibility finding, no CSP violation. */
  async function checkPage(name: string): Promise<void> {
    await shot(name);
    expect(await accessibilityViolations(page), `accessibility of ${name}`).to.deep.equal([]);
    expect(cspViolations, `CSP violations on ${name}`).to.deep.equal([]);
  }

  it('signs Trần Thị Bích into the demo portal and shows her registry claims', async () => {
    await page.goto(`http://localhost:${portalPort}/`);
    await shot('1-demo-portal');
    await page.getByRole('link', { name: 'Đăng nhập bằng định danh điện tử quốc gia' }).click();

    await page.waitForSelector('input[name=username]');
    expect(await page.getAttribute('html', 'lang')).to.equal('vi');
    await checkPage('2-login');
    await page.fill('input[name=username]', '079185000123');
    await page.fill('input[name=password]', 'Bich#Demo2026');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();

    await page.waitForSelector('text=Chia sẻ thông tin');
    await checkPage('3-consent');
    const items = await page.locator('ul.claims li').allTextContents();
    expect(items).to.include('Họ và tên, ngày sinh, giới tính');
    expect(items).to.include('Số định danh cá nhân (12 chữ số)');
    // In the fixed order, whatever order the portal asked in; no e-mail line: Bích has given none.
    const lines = await page.locator('ul.claims li').all();
    expect(await Promise.all(lines.map((line) => line.getAttribute('data-scope')))).to.deep.equal([
      'openid',
      'profile',
      'national_id',
      'address',
      'phone',
    ]);
    await page.locator('form button[type=submit]').first().click();

    await page.waitForURL(`http://localhost:${portalPort}/`);
    await shot('4-portal-signed-in');
    const body = await page.textContent('body');
    expect(body).to.include('Trần Thị Bích');
    expect(body).to.include('1985-07-02');
    expect(body).to.include('079185000123');
    expect(body).to.include('urn:vn:eid:loa:1');
  });

  it('signs her out of the provider too, without a question since the portal proved who she is', async () => {
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    await page.waitForURL(`http://localhost:${portalPort}/`);
    await shot('6-portal-signed-out');
    expect(await page.textContent('body')).to.include('Đăng nhập bằng định danh điện tử quốc gia');

    // Signing in again needs the password again: the provider session is gone.
    await page.getByRole('link', { name: 'Đăng nhập bằng định danh điện tử quốc gia' }).click();
    await page.waitForSelector('input[name=password]');
  });

  it('asks before signing out when the request does not say who is signing out', async () => {
    // Sign in again (the login page is showing), then call the logout endpoint bare.
    await page.fill('input[name=username]', '079185000123');
    await page.fill('input[name=password]', 'Bich#Demo2026');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    // Signing out revoked her consent too, so the portal asks again.
    await page.getByRole('button', { name: 'Đồng ý chia sẻ' }).click();
    await page.waitForURL(`http://localhost:${portalPort}/`);
    await page.goto(`${world.issuer}/session/end`);
    await page.waitForSelector('#op\\.logoutForm', { state: 'attached' });
    await checkPage('5-logout-confirmation');
    expect(await page.textContent('main')).to.include('Bạn có muốn đăng xuất');
    await page.locator('button[name=logout]').click();
    await page.waitForSelector('[role=status]');
    await page.goto(`http://localhost:${portalPort}/login`);
    await page.waitForSelector('input[name=password]');
  });

  it('shows the login page in English and a wrong password as an alert', async () => {
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForSelector('html[lang=en]');
    await page.fill('input[name=username]', '079185000123');
    await page.fill('input[name=password]', 'not her password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    expect(await alert.textContent()).to.equal('The identification number or password is incorrect.');
    await checkPage('7-login-error-en');
  });

  it('asks Nguyễn Văn An for his authenticator code when a service needs level 2', async () => {
    const url = new URL('/auth', world.issuer);
    url.search = new URLSearchParams({
      client_id: 'demo-portal',
      response_type: 'code',
      redirect_uri: `http://localhost:${portalPort}/callback`,
      scope: 'openid profile',
      acr_values: 'urn:vn:eid:loa:2',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      ui_locales: 'vi',
    }).toString();
    await page.context().clearCookies();
    await page.goto(url.href);
    await page.fill('input[name=username]', '001099012345');
    await page.fill('input[name=password]', 'An#Demo2026');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.waitForSelector('input[name=otp]');
    await checkPage('8-second-factor');
    await page.fill('input[name=otp]', '000000');
    await page.getByRole('button', { name: 'Xác nhận' }).click();
    await page.waitForSelector('[role=alert]');
    await checkPage('9-second-factor-error');
    await page.fill('input[name=otp]', await currentTotp('JBSWY3DPEHPK3PXP'));
    await page.getByRole('button', { name: 'Xác nhận' }).click();
    await page.waitForSelector('text=Chia sẻ thông tin');
  });
});
