// The account page in a real browser (Debian's chromium through playwright-core): Trần Thị Bích signs
// in to /account, turns on TOTP by reading the secret off the page, makes recovery codes, enrols a
// passkey through Chromium's virtual authenticator (DevTools protocol), changes her password, switches
// to English and ends all her sessions. Each page is checked with axe-core (no serious or critical
// violation), no Content-Security-Policy violation may appear in the console, and each page is saved
// as a screenshot under test-results/screenshots/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { launchChromium, watchedPage } from '../support/chromium.ts';
import { startAccountServer, type AccountWorld } from '../support/account-world.ts';
import { accessibilityViolations } from '../support/axe.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { passkeyRequestOptions, relyingPartyOf, checkPasskeyAssertion } from '../../src/accounts/second-factors.ts';
import { PostgresAccountStore } from '../../src/accounts/account-store-postgres.ts';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');
const BICH = { id: '079185000123', password: 'Bich#Demo2026', newPassword: 'Bích-Mới#2026-Sài-Gòn' };

/** What navigator.credentials.get() resolves to, as far as the test reads it. */
interface BrowserAssertion {
  readonly id: string;
  readonly rawId: ArrayBuffer;
  readonly type: string;
  readonly response: { clientDataJSON: ArrayBuffer; authenticatorData: ArrayBuffer; signature: ArrayBuffer; userHandle: ArrayBuffer | null };
}


describe('the account page in a real browser', function () {
  this.timeout(180_000);
  let world: AccountWorld;
  let browser: Browser;
  let page: Page;
  let devtools: CDPSession;
  let authenticatorId: string;
  const cspViolations: string[] = [];

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    // WebAuthn needs a domain as relying-party id: the issuer is http://localhost:<port>, and the
    // console's back-channel still goes to 127.0.0.1 (the loopback fetch).
    world = await startAccountServer({ issuerHost: 'localhost' });
    browser = await launchChromium();
    page = await watchedPage(browser, cspViolations);
    devtools = await page.context().newCDPSession(page);
    await devtools.send('WebAuthn.enable');
    ({ authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    }));
  });

  after(async () => {
    await browser?.close();
    await world?.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `account-${name}.png`), fullPage: true });

  async function checkPage(name: string): Promise<void> {
    await shot(name);
    expect(await accessibilityViolations(page), `accessibility of ${name}`).to.deep.equal([]);
    expect(cspViolations, `CSP violations on ${name}`).to.deep.equal([]);
  }

  it('signs Trần Thị Bích in to her account page through the provider', async () => {
    await page.goto(`${world.issuer}/account`);
    await page.waitForSelector('input[name=username]');
    await page.fill('input[name=username]', BICH.id);
    await page.fill('input[name=password]', BICH.password);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    // The console asks for nothing but an identifier; the provider may still ask once.
    await page.waitForURL((url) => url.pathname === '/account' || url.pathname.startsWith('/interaction/'));
    if (new URL(page.url()).pathname.startsWith('/interaction/')) {
      await shot('0-consent');
      await page.getByRole('button', { name: 'Đồng ý chia sẻ' }).click();
    }
    await page.waitForURL(`${world.issuer}/account`);
    expect(await page.getAttribute('html', 'lang')).to.equal('vi');
    const main = await page.textContent('main');
    expect(main).to.include('Trần Thị Bích');
    expect(main).to.include('Cơ sở dữ liệu quốc gia về dân cư');
    await checkPage('1-overview');
    // Each page group is a page of its own, reached from the navigation bar.
    await page.getByRole('navigation', { name: 'Các trang của tài khoản' }).getByRole('link', { name: 'Phiên đăng nhập' }).click();
    await page.waitForURL(`${world.issuer}/account/sessions`);
    expect(await page.getAttribute('nav.account-nav a[aria-current=page]', 'href')).to.equal('/account/sessions');
    expect(await page.textContent('main')).to.include('Trình duyệt này');
    await checkPage('1-sessions');
  });

  it('turns on an authenticator app, the secret read from the page and a code computed from it', async () => {
    await page.goto(`${world.issuer}/account/security`);
    await page.getByRole('link', { name: 'Thêm ứng dụng xác thực' }).click();
    await page.waitForURL(`${world.issuer}/account/totp`);
    expect(await page.locator('figure.qr svg').count()).to.equal(1);
    await checkPage('2-totp');
    const secret = (await page.getAttribute('#totp-secret', 'data-secret'))!;
    expect((await page.textContent('#totp-secret'))!.replace(/\s/g, '')).to.equal(secret);

    await page.fill('#code', '000000' === (await currentTotp(secret)) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Xác nhận và bật' }).click();
    expect(await page.getByRole('alert').textContent()).to.include('Mã không đúng');
    expect(await page.getAttribute('#code', 'aria-invalid')).to.equal('true');
    await checkPage('3-totp-wrong-code');

    await page.fill('#code', await currentTotp(secret));
    await page.getByRole('button', { name: 'Xác nhận và bật' }).click();
    await page.waitForURL(`${world.issuer}/account`);
    expect(await page.getByRole('status').textContent()).to.equal('Đã bật ứng dụng xác thực.');
    await page.goto(`${world.issuer}/account/security`);
    expect(await page.textContent('#totp-status')).to.include('Đang dùng');
  });

  it('makes ten recovery codes and shows them once', async () => {
    await page.getByRole('link', { name: 'Tạo mã khôi phục mới' }).click();
    await page.waitForURL(`${world.issuer}/account/recovery-codes`);
    await checkPage('4-recovery-codes-intro');
    await page.getByRole('button', { name: 'Tạo mã khôi phục mới' }).click();
    await page.waitForSelector('#recovery-codes');
    const codes = await page.locator('#recovery-codes code').allTextContents();
    expect(codes).to.have.length(10);
    for (const code of codes) expect(code).to.match(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    await checkPage('5-recovery-codes');
    await page.getByRole('link', { name: 'Tôi đã lưu các mã' }).click();
    await page.waitForURL(`${world.issuer}/account/security`);
    expect(await page.textContent('#recovery-status')).to.include('10');
  });

  it("enrols a passkey with Chromium's virtual authenticator, and the passkey then verifies a sign-in", async () => {
    await page.getByRole('link', { name: 'Thêm khóa truy cập' }).click();
    await page.waitForURL(`${world.issuer}/account/passkeys/new`);
    // With the script running, the "needs JavaScript" note is hidden.
    expect(await page.locator('[data-passkey-nojs]').isHidden()).to.equal(true);
    await checkPage('6-passkey');
    await page.fill('#passkey-name', 'Chromium (thử nghiệm)');
    await page.getByRole('button', { name: 'Tạo khóa truy cập' }).click();
    await page.waitForURL(`${world.issuer}/account`);
    expect(await page.getByRole('status').textContent()).to.equal('Đã thêm khóa truy cập.');
    await page.goto(`${world.issuer}/account/security`);
    expect(await page.textContent('ul.passkeys')).to.include('Chromium (thử nghiệm)');
    await checkPage('7-overview-with-factors');

    // A discoverable credential on the device, whose user handle is the account's UUID (not the ID number).
    const { credentials } = await devtools.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).to.have.length(1);
    expect(credentials[0]!.isResidentCredential).to.equal(true);
    const { db } = world.server.container;
    const accountId = (await world.server.container.accounts.findByNationalId(BICH.id))!.id;
    expect(Buffer.from(credentials[0]!.userHandle!, 'base64').toString('hex')).to.equal(accountId.replace(/-/g, ''));
    expect(await db('passkeys').where({ account_id: accountId })).to.have.length(1);

    // What the sign-in side will do: options from the server, navigator.credentials.get in the page,
    // the assertion verified on the server.
    const relyingParty = relyingPartyOf(world.issuer);
    const options = await passkeyRequestOptions(new PostgresAccountStore(db), relyingParty, accountId);
    const assertion = await page.evaluate(async (json) => {
      const fromBase64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (char) => char.charCodeAt(0));
      const toBase64url = (buffer: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      // This function runs in the page; the test's TypeScript has no DOM types, so it names what it uses.
      const { credentials } = (globalThis as unknown as { navigator: { credentials: { get(options: unknown): Promise<BrowserAssertion> } } }).navigator;
      const credential = await credentials.get({
        publicKey: {
          challenge: fromBase64url(json.challenge),
          rpId: json.rpId,
          userVerification: 'required',
          allowCredentials: (json.allowCredentials ?? []).map((item) => ({ type: 'public-key', id: fromBase64url(item.id) })),
        },
      });
      const response = credential.response;
      return {
        id: credential.id,
        rawId: toBase64url(credential.rawId),
        type: credential.type,
        clientExtensionResults: {},
        response: {
          clientDataJSON: toBase64url(response.clientDataJSON),
          authenticatorData: toBase64url(response.authenticatorData),
          signature: toBase64url(response.signature),
          ...(response.userHandle && { userHandle: toBase64url(response.userHandle) }),
        },
      };
    }, options);
    expect(await checkPasskeyAssertion(new PostgresAccountStore(db), relyingParty, { credential: assertion, expectedChallenge: options.challenge, accountId })).to.include({ accountId });
  });

  it('changes her password, with the policy explained next to the field', async () => {
    await page.getByRole('link', { name: 'Mật khẩu' }).click();
    await page.waitForURL(`${world.issuer}/account/password`);
    await checkPage('8-password');
    await page.fill('#current-password', BICH.password);
    await page.fill('#new-password', 'matkhau123456');
    await page.fill('#confirm-password', 'matkhau123456');
    await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
    expect(await page.getByRole('alert').textContent()).to.include('phổ biến');
    expect(await page.getAttribute('#new-password', 'aria-describedby')).to.include('new-password-error');
    await checkPage('9-password-error');

    await page.fill('#current-password', BICH.password);
    await page.fill('#new-password', BICH.newPassword);
    await page.fill('#confirm-password', BICH.newPassword);
    await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
    await page.waitForURL(`${world.issuer}/account`);
    expect(await page.getByRole('status').textContent()).to.include('Đã đổi mật khẩu');
    expect((await world.server.container.signIn.signIn(BICH.id, BICH.newPassword, {})).outcome).to.equal('signed-in');
  });

  it('switches to English, and the choice sticks from page to page', async () => {
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForSelector('html[lang=en]');
    expect(await page.textContent('main')).to.include('From the National Population Database');
    await checkPage('10-overview-en');
    await page.getByRole('link', { name: 'Two-factor authentication' }).click();
    await page.getByRole('link', { name: 'Lock my account' }).click();
    await page.waitForURL(`${world.issuer}/account/lock`);
    expect(await page.getAttribute('html', 'lang')).to.equal('en');
    await checkPage('11-lock-en');
    await page.getByRole('link', { name: 'Do not lock; go back' }).click();
    await page.waitForURL(`${world.issuer}/account`);
  });

  it('ends all her sessions, this browser included', async () => {
    await page.goto(`${world.issuer}/account/sessions`);
    await page.getByRole('button', { name: 'End all sessions' }).click();
    await page.waitForSelector('[role=status]');
    expect(await page.textContent('[role=status]')).to.equal('All your sign-in sessions have ended.');
    await checkPage('12-signed-out-en');
    const accountId = (await world.server.container.accounts.findByNationalId(BICH.id))!.id;
    expect(await world.server.container.ephemeralModels.sessionIdsOfAccount(accountId)).to.deep.equal([]);
    // Signed out of the provider too: the account page asks for the password again.
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.waitForSelector('input[name=password]');
    expect(await page.getAttribute('html', 'lang')).to.equal('en');
    const notices = await world.outbox('+84900000002');
    expect(notices.map((message) => message.body).join('\n')).to.include('Every sign-in session of your account was ended');
  });
});
