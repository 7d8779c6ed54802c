// The admin console in a real browser (Debian's chromium through playwright-core): an administrator
// signs in through the provider with password and TOTP (level 2), registers a new portal in the
// console and reads its secret off the page; then a citizen, in a browser context of her own, signs in
// to that portal (the demo relying party, on a free loopback port) and the portal shows her claims.
// Each console page — the confirmation pages, the four-eyes queue and an account's pages among them —
// is checked with axe-core (no serious or critical violation), no CSP violation may
// appear, and each is saved as a screenshot under test-results/screenshots/.
import { mkdirSync } from 'node:fs';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, watchedPage } from '../support/chromium.ts';
import { createDemoPortal } from '../../src/demo/portal.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { AdminRoles } from '../../src/admin/auth-roles.ts';
import { NEW_CLIENT_PATH } from '../../src/admin/console/console-layout.ts';
import { accessibilityViolations } from '../support/axe.ts';
import { auditEvents, FIRST_ADMIN } from '../support/admin.ts';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');
/** Nguyễn Văn An (docs/design.md "Demo data"): level 2, TOTP. */
const AN = { id: FIRST_ADMIN, password: 'An#Demo2026', totpSecret: 'JBSWY3DPEHPK3PXP' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };

describe('the admin console in a real browser', function () {
  this.timeout(180_000);
  let world: RunningServer;
  let browser: Browser;
  let page: Page;
  let portal: HttpServer | undefined;
  let portalPort: number;
  let secret: string;
  const cspViolations: string[] = [];

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    world = await startTestServer();
    await new AdminRoles(world.server.container.db).grant(AN.id, 'client_admin', 'test');
    portalPort = await freePort();
    browser = await launchChromium();
    page = await watchedPage(browser, cspViolations);
  });

  after(async () => {
    await browser?.close();
    if (portal) {
      portal.closeAllConnections();
      await new Promise((resolve) => portal!.close(resolve));
    }
    await world?.close();
  });

  const shot = (target: Page, name: string) => target.screenshot({ path: path.join(SCREENSHOTS, `admin-console-${name}.png`), fullPage: true });

  async function checkPage(name: string): Promise<void> {
    await shot(page, name);
    expect(await accessibilityViolations(page), `accessibility of ${name}`).to.deep.equal([]);
    expect(cspViolations, `CSP violations on ${name}`).to.deep.equal([]);
  }

  it('signs the administrator in through the provider with password and TOTP, into the console', async () => {
    await page.goto(`${world.adminUrl}/console/`);
    // No session: off to the provider's sign-in, asking for level 2.
    await page.waitForSelector('input[name=username]');
    expect(new URL(page.url()).origin).to.equal(world.issuer);
    await page.fill('input[name=username]', AN.id);
    await page.fill('input[name=password]', AN.password);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.waitForSelector('input[name=otp]');
    await shot(page, '0-second-factor');
    await page.fill('input[name=otp]', await currentTotp(AN.totpSecret));
    await page.getByRole('button', { name: 'Xác nhận' }).click();
    await page.waitForURL((url) => url.origin === world.adminUrl || url.pathname.startsWith('/interaction/'));
    if (new URL(page.url()).origin !== world.adminUrl) await page.getByRole('button', { name: 'Đồng ý chia sẻ' }).click();
    await page.waitForURL(`${world.adminUrl}/console/`);
    expect(await page.getAttribute('html', 'lang')).to.equal('vi');
    expect(await page.textContent('main')).to.include('Quản trị dịch vụ liên kết');
    await checkPage('1-overview');
    const signedIn = await auditEvents(world, 'admin.action');
    expect(signedIn.map((event) => event.data.action)).to.include('admin.signed_in');
  });

  it('lists the relying parties', async () => {
    await page.getByRole('navigation', { name: 'Các mục quản trị' }).getByRole('link', { name: 'Dịch vụ liên kết' }).click();
    await page.waitForURL(`${world.adminUrl}/console/clients`);
    expect(await page.locator('tbody tr').count()).to.be.above(3);
    await checkPage('2-clients');
    await page.fill('#search', 'demo-');
    await page.getByRole('button', { name: 'Tìm' }).click();
    await page.waitForURL(/search=demo-/);
    expect(await page.locator('tbody th a').allTextContents()).to.include.members(['demo-portal', 'demo-tax']);
  });

  it('registers a portal; a form with a mistake comes back with the message by the field', async () => {
    await page.getByRole('link', { name: 'Đăng ký dịch vụ mới' }).click();
    await page.waitForURL(`${world.adminUrl}${NEW_CLIENT_PATH}`);
    await checkPage('3-new-client');
    await page.fill('#clientId', 'browser-portal');
    await page.fill('#name', 'Cổng dịch vụ công thử nghiệm');
    await page.fill('#redirectUris', `http://localhost:${portalPort}/callback`);
    await page.fill('#postLogoutRedirectUris', `http://localhost:${portalPort}/`);
    await page.check('#scope-profile');
    await page.fill('#contactName', 'Phòng CNTT');
    await page.fill('#contactEmail', 'not an email');
    await page.fill('#agreementReference', 'TT-2026/THU-01');
    await page.getByRole('button', { name: 'Đăng ký' }).click();
    await page.waitForSelector('#contactEmail-error');
    expect(await page.getAttribute('#contactEmail', 'aria-invalid')).to.equal('true');
    expect(await world.server.container.clients.find('browser-portal')).to.equal(undefined);
    await checkPage('4-new-client-refused');

    await page.fill('#contactEmail', 'it@portal.example.vn');
    await page.getByRole('button', { name: 'Đăng ký' }).click();
    await page.waitForSelector('#client-secret');
    secret = (await page.textContent('#client-secret'))!.trim();
    expect(secret).to.match(/^[A-Za-z0-9_-]{40,}$/);
    await checkPage('5-client-secret');
    await page.getByRole('link', { name: 'Đến trang dịch vụ' }).click();
    await page.waitForURL(`${world.adminUrl}/console/clients/browser-portal`);
    expect(await page.textContent('#client-status')).to.equal('Đang hoạt động');
    expect(await page.textContent('main')).not.to.include(secret);
    await checkPage('6-client-detail');
    // Rotating asks first, saying what happens; cancelling changes nothing.
    await page.getByRole('link', { name: 'Cấp khóa bí mật mới' }).click();
    await page.waitForURL(`${world.adminUrl}/console/clients/browser-portal/secret`);
    expect(await page.textContent('#consequences')).to.include('Khóa bí mật cũ vẫn dùng được');
    await checkPage('6a-confirm-rotate');
    await page.getByRole('link', { name: 'Hủy' }).click();
    await page.waitForURL(`${world.adminUrl}/console/clients/browser-portal`);
    expect(await world.server.container.clients.openSecret('browser-portal')).to.equal(secret);
  });

  it('and in English', async () => {
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(/lang=en/);
    expect(await page.getAttribute('html', 'lang')).to.equal('en');
    expect(await page.textContent('main')).to.include('Rotate the secret');
    await checkPage('7-client-detail-en');
  });

  it('the other sections pass the accessibility check too: keys, accounts, the audit trail', async () => {
    const roles = new AdminRoles(world.server.container.db);
    await roles.grant(AN.id, 'auditor', 'test');
    await roles.grant(AN.id, 'support_officer', 'test');
    await page.goto(`${world.adminUrl}/console/keys?lang=vi`);
    expect(await page.locator('tbody tr').count()).to.be.above(0);
    await checkPage('9-keys');
    await page.getByRole('navigation', { name: 'Các mục quản trị' }).getByRole('link', { name: 'Tài khoản' }).click();
    await page.waitForURL(`${world.adminUrl}/console/accounts`);
    await checkPage('10-accounts');
    await page.fill('#nationalId', BICH.id);
    await page.getByRole('button', { name: 'Tra cứu' }).click();
    await page.waitForSelector('#account-status');
    await checkPage('11-account');
    await page.getByRole('link', { name: 'Đặt lại yếu tố xác thực thứ hai' }).click();
    await page.waitForSelector('#consequences');
    await checkPage('11a-account-reset-confirm');
    await page.getByRole('link', { name: 'Hủy' }).click();
    await page.waitForSelector('#account-status');
    // The four-eyes queue, with a request of another administrator waiting: AN approves it there.
    await world.server.container.db('admin_approvals').insert({
      kind: 'client.scopes',
      subject: 'browser-portal',
      change: JSON.stringify({ add: ['ethnicity'] }),
      requested_by: 'account:00000000-0000-4000-8000-000000000001',
    });
    await page.getByRole('navigation', { name: 'Các mục quản trị' }).getByRole('link', { name: 'Chờ phê duyệt' }).click();
    await page.waitForURL(`${world.adminUrl}/console/approvals`);
    expect(await page.locator('tbody tr').count()).to.equal(1);
    await checkPage('11b-approvals');
    await page.getByRole('button', { name: 'Phê duyệt: browser-portal' }).click();
    await page.waitForURL(/done=approved/);
    expect((await world.server.container.clients.find('browser-portal'))!.approvedScopes).to.include('ethnicity');
    await checkPage('11c-approvals-done');
    await page.getByRole('navigation', { name: 'Các mục quản trị' }).getByRole('link', { name: 'Nhật ký kiểm toán' }).click();
    await page.fill('#clientId', 'browser-portal');
    await page.getByRole('button', { name: 'Lọc' }).click();
    await page.waitForURL(/clientId=browser-portal/);
    expect(await page.locator('tbody tr').count()).to.be.above(0);
    await checkPage('12-audit');
  });

  it('a citizen then signs in to the new portal, which receives her tokens and claims', async () => {
    const app = createDemoPortal({ issuer: world.issuer, clientId: 'browser-portal', clientSecret: secret, baseUrl: `http://localhost:${portalPort}`, scope: 'openid profile' });
    portal = createServer(app.callback() as RequestListener);
    await new Promise<void>((resolve, reject) => {
      portal!.once('error', reject);
      portal!.listen(portalPort, '127.0.0.1', resolve);
    });
    // Her own browser: nothing of the administrator's provider session.
    const context = await browser.newContext();
    const citizen = await context.newPage();
    await citizen.goto(`http://localhost:${portalPort}/`);
    await citizen.getByRole('link', { name: 'Đăng nhập bằng định danh điện tử quốc gia' }).click();
    await citizen.waitForSelector('input[name=username]');
    expect(await citizen.textContent('main')).to.include('Cổng dịch vụ công thử nghiệm');
    await citizen.fill('input[name=username]', BICH.id);
    await citizen.fill('input[name=password]', BICH.password);
    await citizen.getByRole('button', { name: 'Đăng nhập' }).click();
    await citizen.getByRole('button', { name: 'Đồng ý chia sẻ' }).click();
    await citizen.waitForURL(`http://localhost:${portalPort}/`);
    await shot(citizen, '8-portal-signed-in');
    const body = await citizen.textContent('body');
    expect(body).to.include('Trần Thị Bích');
    expect(body).to.include('browser-portal');
    await context.close();
    await world.server.container.audit.flush();
    const issued = await world.server.container.db('audit_events').where({ client_id: 'browser-portal' }).select('type');
    expect(issued.map((event: { type: string }) => event.type)).to.include('token.issued');
  });

  it('signs the administrator out of the console and of the provider', async () => {
    await page.goto(`${world.adminUrl}/console/`);
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    await page.waitForURL(`${world.adminUrl}/console/signed-out`);
    await checkPage('13-signed-out');
    // The provider's session is gone too: the console asks for the password again.
    await page.goto(`${world.adminUrl}/console/`);
    await page.waitForSelector('input[name=password]');
  });
});
