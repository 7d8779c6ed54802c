// Registration to first sign-in in a real browser (Debian's chromium through playwright-core): Phạm
// Thu Hà, who is in the registry without an account, follows the sign-in page's link to /register,
// registers with the code the test reads from the outbox table (as she would read it on her phone),
// goes from the success page back to that sign-in and signs in, then resets her password at /reset
// and goes on to the account page. Each page is checked with axe-core (no serious
// or critical violation) and for Content-Security-Policy errors, and saved under
// test-results/screenshots/registration-*.png.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, watchedPage } from '../support/chromium.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');
const AXE_SOURCE = readFileSync(path.resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js'), 'utf8');
const HA = { id: '031190004567', name: 'Phạm Thu Hà', birthDate: '09/01/1990', issued: '01/04/2021', phone: '+84900000004' };
const PASSWORD = 'Hải Phòng mùa hoa phượng 1990';
const NEW_PASSWORD = 'cầu Rào bên sông Lạch Tray';
// demo-portal's registered redirect URI; nothing needs to listen there: the browser's request is
// answered by the test (page.route), so the port may be in use by anything else.
const CALLBACK = 'http://localhost:4000/callback';

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
}

describe('registration to first sign-in in a real browser', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    world = await startTestServer();
    browser = await launchChromium();
    page = await watchedPage(browser, cspViolations);
  });

  after(async () => {
    await browser?.close();
    await world?.close();
  });

  async function checkPage(name: string): Promise<void> {
    await page.screenshot({ path: path.join(SCREENSHOTS, `registration-${name}.png`), fullPage: true });
    // Evaluated through DevTools, which the page's CSP does not govern (the page itself runs no script).
    await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate<AxeViolation[]>(`axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.length })))`);
    expect(
      violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical'),
      `accessibility of ${name}`,
    ).to.deep.equal([]);
    expect(cspViolations, `CSP violations on ${name}`).to.deep.equal([]);
  }

  /** The code in the newest message to Hà's mobile number, straight from the outbox table. */
  async function codeOnHerPhone(): Promise<string> {
    const row = await world.server.container.db<{ body: string; destination: string; id: number }>('outbox_messages').where({ destination: HA.phone }).orderBy('id', 'desc').first();
    const code = /\b(\d{6})\b/.exec(row?.body ?? '')?.[1];
    if (!code) throw new Error('no code on her phone');
    return code;
  }

  async function startAtPortal() {
    const portal = await client.discovery(new URL(world.issuer), 'demo-portal', undefined, client.ClientSecretBasic('demo-portal-secret'), {
      execute: [client.allowInsecureRequests],
    });
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: CALLBACK,
      scope: 'openid profile',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { portal, codeVerifier, state, url };
  }

  it('offers registration and password reset on the sign-in page, in both languages', async () => {
    const { url } = await startAtPortal();
    await page.goto(url.href);
    await page.waitForSelector('input[name=username]');
    const uid = /\/interaction\/([^/?]+)/.exec(page.url())![1]!;
    expect(await page.getByRole('link', { name: 'Đăng ký tài khoản' }).getAttribute('href')).to.equal(`/register?return=%2Finteraction%2F${uid}&lang=vi`);
    expect(await page.getByRole('link', { name: 'Quên mật khẩu?' }).getAttribute('href')).to.equal(`/reset?return=%2Finteraction%2F${uid}&lang=vi`);
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForSelector('html[lang=en]');
    expect(await page.getByRole('link', { name: 'Register for an account' }).getAttribute('href')).to.equal(`/register?return=%2Finteraction%2F${uid}&lang=en`);
    expect(await page.getByRole('link', { name: 'Forgot your password?' }).getAttribute('href')).to.equal(`/reset?return=%2Finteraction%2F${uid}&lang=en`);
    await page.getByRole('link', { name: 'Tiếng Việt' }).click();
    await page.waitForSelector('html[lang=vi]');
  });

  it('registers Phạm Thu Hà from the sign-in page with the code sent to the mobile number the registry holds, then signs her in', async () => {
    const { portal, codeVerifier, state, url } = await startAtPortal();
    await page.route('http://localhost:4000/**', async (route) => {
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>demo-portal</title><p>back at the portal</p>' });
    });
    await page.goto(url.href);
    await page.waitForSelector('input[name=username]');
    const signIn = page.url();
    await checkPage('0-login');
    await page.getByRole('link', { name: 'Đăng ký tài khoản' }).click();
    await page.waitForURL(/\/register\?/);
    expect(await page.getAttribute('html', 'lang')).to.equal('vi');
    await checkPage('1-form');

    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForSelector('html[lang=en]');
    expect(await page.textContent('h1')).to.equal('Register for an electronic identity account');
    await checkPage('1-form-en');
    await page.getByRole('link', { name: 'Tiếng Việt' }).click();
    await page.waitForSelector('html[lang=vi]');

    // A mistyped date first: the field says so, and keeps what she typed.
    await page.getByLabel('Số định danh cá nhân').fill(HA.id);
    await page.getByLabel('Họ, chữ đệm và tên').fill(HA.name);
    await page.getByLabel('Ngày sinh').fill('31/02/1990');
    await page.getByLabel('Ngày cấp thẻ căn cước').fill(HA.issued);
    await page.getByRole('button', { name: 'Gửi mã xác nhận' }).click();
    await page.waitForSelector('#birth-date-error');
    expect(await page.getAttribute('#birth-date', 'aria-invalid')).to.equal('true');
    expect(await page.inputValue('#full-name')).to.equal(HA.name);
    await checkPage('2-form-error');

    await page.getByLabel('Ngày sinh').fill(HA.birthDate);
    await page.getByRole('button', { name: 'Gửi mã xác nhận' }).click();
    await page.waitForSelector('text=Nhập mã xác nhận');
    expect(page.url()).to.equal(`${world.issuer}/register/confirm`);
    await checkPage('3-code');

    const code = await codeOnHerPhone();
    await page.getByLabel('Mã xác nhận').fill(code === '000000' ? '000001' : '000000');
    await page.getByLabel('Mật khẩu mới', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Nhập lại mật khẩu mới').fill(PASSWORD);
    await page.getByRole('button', { name: 'Tạo tài khoản' }).click();
    await page.waitForSelector('#code-error');
    expect(await page.textContent('#code-error')).to.equal('Mã xác nhận không đúng. Bạn còn 4 lần thử.');
    await checkPage('4-wrong-code');

    await page.getByLabel('Mã xác nhận').fill(code);
    await page.getByLabel('Mật khẩu mới', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Nhập lại mật khẩu mới').fill(PASSWORD);
    await page.getByRole('button', { name: 'Tạo tài khoản' }).click();
    await page.waitForSelector('text=Đã tạo tài khoản');
    // Post/Redirect/Get: the success page has its own address, so a reload shows it again and sends nothing.
    expect(page.url()).to.equal(`${world.issuer}/register/done`);
    expect(await page.textContent('main')).to.include('Bây giờ bạn có thể đăng nhập').and.include('+849*****04');
    await checkPage('5-registered');
    await page.reload();
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForSelector('html[lang=en]');
    expect(await page.textContent('h1')).to.equal('Your account is ready');
    await checkPage('5-registered-en');
    await page.getByRole('link', { name: 'Continue signing in' }).click();

    // Back at the sign-in she started from, which now lets her in.
    await page.waitForSelector('input[name=username]');
    expect(page.url().split('?')[0]).to.equal(signIn.split('?')[0]);
    await checkPage('6-first-login');
    await page.fill('input[name=username]', HA.id);
    await page.fill('input[name=password]', PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Agree and share' }).click();
    await page.waitForURL(/^http:\/\/localhost:4000\/callback\?/);
    const callback = new URL(page.url());
    await page.unroute('http://localhost:4000/**');

    const tokens = await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    const userinfo = await client.fetchUserInfo(portal, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo).to.include({ name: 'Phạm Thu Hà', birthdate: '1990-01-09' });
    expect(tokens.claims()!.acr).to.equal('urn:vn:eid:loa:1');
  });

  it('lets her reset the password with the card issue date and a code to her verified phone', async () => {
    await page.goto(`${world.issuer}/reset?lang=vi`);
    await checkPage('7-reset-form');
    await page.getByLabel('Số định danh cá nhân').fill(HA.id);
    await page.getByLabel('Ngày cấp thẻ căn cước').fill(HA.issued);
    await page.getByRole('button', { name: 'Gửi mã xác nhận' }).click();
    await page.waitForSelector('text=Nhập mã xác nhận');
    await checkPage('8-reset-code');

    await page.getByLabel('Mã xác nhận').fill(await codeOnHerPhone());
    await page.getByLabel('Mật khẩu mới', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Nhập lại mật khẩu mới').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
    await page.waitForSelector('text=Đã đổi mật khẩu');
    expect(page.url()).to.equal(`${world.issuer}/reset/done`);
    await checkPage('9-reset-done');
    // Opened on its own, not from a sign-in: the way on is the account page, which signs her in.
    await page.getByRole('link', { name: 'Đăng nhập vào trang tài khoản' }).click();
    await page.waitForSelector('input[name=username]');
    const account = await world.server.container.accounts.findByNationalId(HA.id);
    expect(await world.server.container.passwords.verify(account!.passwordHash, NEW_PASSWORD)).to.equal(true);
  });
});
