// The representation chooser in a real browser (chromium at phone width): An chooses his company by
// clicking its label (no JavaScript needed, no CSP violation), in Vietnamese and English; Bích is told
// she represents no one and her button returns access_denied; a form sent without a choice gets the
// page again with the message in role="alert". The tokens are checked with openid-client.
import { expect } from 'chai';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, watchedPage } from '../support/chromium.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { AN, BICH, CHAU, ORGANISATION, REPRESENTATION_TYPE, RepresentingParty, DEMO_PORTAL } from '../support/representation.ts';

const PHONE = { width: 390, height: 844 };

describe('the representation chooser in a real browser', function () {
  this.timeout(180_000);
  let world: RunningServer;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];
  let callbacks: URL[] = [];

  before(async () => {
    world = await startTestServer();
    browser = await launchChromium();
    page = await watchedPage(browser, cspViolations);
    await page.setViewportSize(PHONE);
    // Every request the browser makes to the portal's callback, routed or not: a quickstart may be
    // serving the real demo portal on :4000 meanwhile (it cannot redeem the code: its state is not this).
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin === 'http://localhost:4000' && url.pathname === '/callback') callbacks.push(url);
    });
    await page.route('http://localhost:4000/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>demo-portal</title>' }));
  });

  after(async () => {
    await browser?.close();
    await world?.close();
  });

  beforeEach(async () => {
    callbacks = [];
    await page.context().clearCookies();
  });

  async function signIn(who: { id: string; password: string }, url: URL, lang: 'vi' | 'en'): Promise<void> {
    await page.goto(url.href);
    await page.fill('input[name=username]', who.id);
    await page.fill('input[name=password]', who.password);
    await page.getByRole('button', { name: lang === 'vi' ? 'Đăng nhập' : 'Sign in', exact: true }).click();
    // Consent (prompt=consent): its first submit button agrees.
    await page.locator('form[action$="/consent"] button[type=submit]').click();
  }

  const width = () => page.evaluate<number>('document.documentElement.scrollWidth');

  for (const lang of ['vi', 'en'] as const) {
    it(`lets An choose his company by its label (${lang}), and the token says so`, async () => {
      const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
      const started = await rp.start({ party_kinds: ['organisation', 'child'], roles: ['tax'] });
      const url = new URL(started.url);
      url.searchParams.set('ui_locales', lang);
      await signIn(AN, url, lang);
      await page.waitForSelector(`h1:has-text("${lang === 'vi' ? 'Chọn bên bạn đại diện' : 'Choose whom you act for'}")`);
      expect(await page.getAttribute('html', 'lang')).to.equal(lang);
      expect(await width(), 'fits a phone').to.be.at.most(PHONE.width);
      // Continuing without a choice: the browser's own `required` stops it; the server's answer is tested below.
      await page.getByLabel(ORGANISATION.name).check();
      expect(await page.getByLabel(CHAU.name).count()).to.equal(1);
      await page.getByRole('button', { name: lang === 'vi' ? 'Tiếp tục' : 'Continue', exact: true }).click();
      await page.waitForURL('http://localhost:4000/**');
      const callback = callbacks.at(-1)!;
      const tokens = await rp.redeem(started, callback);
      expect(tokens.authorization_details).to.deep.equal([
        { type: REPRESENTATION_TYPE, party: { kind: 'organisation', enterprise_code: ORGANISATION.code, name: ORGANISATION.name }, roles: ['tax'] },
      ]);
      expect(cspViolations).to.deep.equal([]);
    });
  }

  it('says a choice is needed, in role="alert", when the form comes without one', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const started = await rp.start({ party_kinds: ['child'] });
    await signIn(AN, started.url, 'vi');
    await page.waitForSelector('form[action$="/representation"]');
    // As a browser without `required` support would send it.
    await page.evaluate('document.querySelectorAll("input[name=party]").forEach((input) => { input.required = false; })');
    await page.getByRole('button', { name: 'Tiếp tục', exact: true }).click();
    await page.waitForSelector('[role=alert]');
    expect(await page.textContent('[role=alert]')).to.include('Hãy chọn một bên bạn đại diện');
  });

  it('tells Bích plainly that she represents no one, and returns access_denied to the service', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const started = await rp.start({ party_kinds: ['organisation', 'child'], roles: ['tax'] });
    await signIn(BICH, started.url, 'vi');
    await page.waitForSelector('h1:has-text("Bạn không đại diện cho ai")');
    expect(await page.textContent('[role=alert]')).to.include('bạn không đại diện cho tổ chức hay trẻ em nào');
    expect(await width()).to.be.at.most(PHONE.width);
    await page.locator('header a.lang').click();
    await page.waitForSelector('h1:has-text("You do not represent anyone")');
    await page.getByRole('button', { name: 'Go back to the service', exact: true }).click();
    await page.waitForURL('http://localhost:4000/**');
    const callback = callbacks.at(-1)!;
    expect(callback.searchParams.get('error')).to.equal('access_denied');
    expect(callback.searchParams.get('code')).to.equal(null);
    await client.authorizationCodeGrant(await rp.config(), callback, { pkceCodeVerifier: started.verifier, expectedState: started.state }).then(
      () => expect.fail('no token after access_denied'),
      (error: unknown) => expect((error as { error?: string }).error).to.equal('access_denied'),
    );
  });
});
