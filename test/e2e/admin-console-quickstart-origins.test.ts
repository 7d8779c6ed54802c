// The admin console's sign-in on the quickstart's own origins, in chromium: the issuer on
// http://localhost:<port> and the admin side on http://127.0.0.1:<adminPort> — two sites, so the
// callback into the console is a cross-site redirect chain. The administrator must arrive on the console
// after one sign-in (one admin.signed_in event), and a browser that does not keep the session must see
// an explanation instead of being sent round the sign-in again.
import { createServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { currentTotp } from '../../src/accounts/totp.ts';
import { AdminRoles } from '../../src/admin/auth-roles.ts';
import { auditEvents, FIRST_ADMIN } from '../support/admin.ts';
import { levelTwoCitizen } from '../support/bank.ts';
import { launchChromium } from '../support/chromium.ts';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';

/** Nguyễn Văn An (docs/design.md "Demo data"): level 2, TOTP. */
const AN = { id: FIRST_ADMIN, password: 'An#Demo2026', totpSecret: 'JBSWY3DPEHPK3PXP' };

describe('the admin console sign-in on the quickstart origins (localhost issuer, 127.0.0.1 admin)', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let anAccountId: string;
  /** The admin side as the browser reaches it: through a pass-through proxy that can drop the session cookie. */
  let adminUrl: string;
  let adminProxy: HttpServer;
  let dropSessionCookie = false;

  before(async () => {
    const proxyPort = await freePort();
    adminUrl = `http://127.0.0.1:${proxyPort}`;
    world = await startTestServer({ issuerHost: 'localhost', overrides: { admin: { url: adminUrl } } });
    const adminPort = new URL(world.adminUrl).port;
    adminProxy = createServer((incoming, outgoing) => {
      const upstream = httpRequest({ host: '127.0.0.1', port: adminPort, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
        // A browser that does not keep the admin session: its Set-Cookie never arrives.
        const setCookie = answer.headers['set-cookie'];
        if (dropSessionCookie && setCookie) answer.headers['set-cookie'] = setCookie.filter((line) => !line.startsWith('admin_session='));
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      upstream.on('error', () => outgoing.destroy());
      incoming.pipe(upstream);
    });
    await new Promise<void>((resolve) => adminProxy.listen(proxyPort, '127.0.0.1', resolve));
    await new AdminRoles(world.server.container.db).grant(AN.id, 'client_admin', 'test');
    anAccountId = (await world.server.container.accounts.findByNationalId(AN.id))!.id;
    browser = await launchChromium();
  });

  beforeEach(async () => {
    context = await browser.newContext();
    page = await context.newPage();
  });

  afterEach(async () => {
    await context?.close();
  });

  after(async () => {
    await browser?.close();
    adminProxy?.closeAllConnections();
    await new Promise((resolve) => adminProxy?.close(resolve));
    await world?.close();
  });

  const signedInEvents = async (accountId = anAccountId) =>
    (await auditEvents(world, 'admin.action', `account:${accountId}`)).filter((event) => event.data.action === 'admin.signed_in').length;

  async function signInAtTheProvider(administrator: { id: string; password: string; totpSecret: string } = AN): Promise<void> {
    await page.goto(`${adminUrl}/console/`);
    await page.waitForSelector('input[name=username]');
    await page.fill('input[name=username]', administrator.id);
    await page.fill('input[name=password]', administrator.password);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.waitForSelector('input[name=otp]');
    await page.fill('input[name=otp]', await currentTotp(administrator.totpSecret));
    await page.getByRole('button', { name: 'Xác nhận' }).click();
  }

  it('has the two sites the quickstart has', () => {
    expect(new URL(world.issuer).hostname).to.equal('localhost');
    expect(new URL(adminUrl).hostname).to.equal('127.0.0.1');
  });

  it('signs the administrator in once and lands on the console', async () => {
    const before = await signedInEvents();
    await signInAtTheProvider();
    await page.waitForURL((url) => url.origin === adminUrl || url.pathname.startsWith('/interaction/'));
    if (new URL(page.url()).origin !== adminUrl) await page.getByRole('button', { name: 'Đồng ý chia sẻ' }).click();
    await page.waitForURL(`${adminUrl}/console/`);
    expect(await page.textContent('main')).to.include('Quản trị dịch vụ liên kết');
    expect((await signedInEvents()) - before).to.equal(1);
  });

  it('explains, instead of signing in again, when the browser does not keep the session', async () => {
    dropSessionCookie = true;
    // Another administrator: An's TOTP code of this half-minute is spent.
    const citizen = await levelTwoCitizen(world);
    await new AdminRoles(world.server.container.db).grant(citizen.id, 'client_admin', 'test');
    const accountId = (await world.server.container.accounts.findByNationalId(citizen.id))!.id;
    const before = await signedInEvents(accountId);
    const explanation = (response: { url(): string; status(): number }) => response.url() === `${adminUrl}/auth/sign-in` && response.status() === 409;
    const explained = page.waitForResponse(explanation);
    await signInAtTheProvider({ id: citizen.id, password: citizen.password, totpSecret: citizen.secret });
    await explained;
    await page.waitForLoadState();
    expect(page.url()).to.equal(`${adminUrl}/auth/sign-in`);
    expect(await page.getByRole('alert').textContent()).to.include('cookie');
    expect((await signedInEvents(accountId)) - before).to.equal(1);
    // The link on the page starts one new sign-in (the provider, still signed in, sends it straight
    // back), and the browser stops at the explanation again.
    const explainedAgain = page.waitForResponse(explanation);
    await page.getByRole('link', { name: 'Đăng nhập lại · Sign in again' }).click();
    await explainedAgain;
    expect((await signedInEvents(accountId)) - before).to.equal(2);
  });
});
