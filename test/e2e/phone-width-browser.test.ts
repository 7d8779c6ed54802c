// Every page a citizen sees fits a 390-pixel phone screen: opened in chromium at 390×844, in
// Vietnamese and English, none scrolls sideways (document width ≤ 390). With SCREENSHOT_DIR set, each
// page is also saved there, at 390 px and at desktop width, to look at.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { currentTotp } from '../../src/accounts/totp.ts';
import { launchChromium } from '../support/chromium.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

const AN = { id: '001099012345', password: 'An#Demo2026', totp: 'JBSWY3DPEHPK3PXP' };
const CALLBACK = 'http://localhost:4000/callback';
const PHONE = { width: 390, height: 844 };
const SCREENSHOTS = process.env.SCREENSHOT_DIR;

describe('every citizen page at 390 pixels', function () {
  this.timeout(240_000);
  let world: RunningServer;
  let browser: Browser;
  let page: Page;
  const overflowing: string[] = [];

  before(async () => {
    world = await startTestServer();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: PHONE });
    await page.route('http://localhost:4000/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>demo-portal</title>' }));
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await world?.close();
  });

  /** Records a page wider than the phone, in this language and the other one. */
  async function fits(name: string): Promise<void> {
    for (const round of [0, 1]) {
      const lang = await page.getAttribute('html', 'lang');
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      if (width > PHONE.width) overflowing.push(`${name} (${lang}): ${width}px`);
      if (SCREENSHOTS) {
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${lang}-390.png`), fullPage: true });
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${lang}-desktop.png`), fullPage: true });
        await page.setViewportSize(PHONE);
      }
      const other = page.locator('header a.lang');
      if (round === 1 || (await other.count()) === 0) break;
      await other.click();
      await page.waitForLoadState();
    }
    // Back to Vietnamese for the next page, as the tests drive it.
    if ((await page.getAttribute('html', 'lang')) === 'en' && (await page.locator('header a.lang').count()) > 0) {
      await page.locator('header a.lang').click();
      await page.waitForLoadState();
    }
  }

  it('fits the sign-in pages: login, second factor, consent, error', async () => {
    const portal = await client.discovery(new URL(world.issuer), 'demo-portal', undefined, client.ClientSecretBasic('demo-portal-secret'), {
      execute: [client.allowInsecureRequests],
    });
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: CALLBACK,
      scope: 'openid profile national_id identity_document address phone email',
      acr_values: 'urn:vn:eid:loa:2',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    await page.goto(url.href);
    await page.waitForSelector('input[name=username]');
    await fits('login');
    await page.fill('input[name=username]', AN.id);
    await page.fill('input[name=password]', AN.password);
    await page.getByRole('button', { name: 'Đăng nhập', exact: true }).click();
    await page.waitForSelector('input[name=otp]');
    await fits('otp');
    await page.fill('input[name=otp]', await currentTotp(AN.totp));
    await page.getByRole('button', { name: 'Xác nhận' }).click();
    await page.waitForSelector('form[action$="/consent"]');
    await fits('consent');
    await page.goto(`${world.issuer}/interaction/no-such-interaction`);
    await fits('error');
  });

  it('fits registration and password reset', async () => {
    await page.goto(`${world.issuer}/register?lang=vi`);
    await fits('register');
    await page.goto(`${world.issuer}/reset?lang=vi`);
    await fits('reset');
  });

  it('fits every page group of the account page, and signing out', async () => {
    await page.goto(`${world.issuer}/account?lang=vi`);
    // The provider session from the first test may still be live: sign in only if asked.
    if (await page.locator('input[name=username]').count()) {
      await page.fill('input[name=username]', AN.id);
      await page.fill('input[name=password]', AN.password);
      await page.getByRole('button', { name: 'Đăng nhập', exact: true }).click();
    }
    await page.waitForURL(`${world.issuer}/account`);
    for (const group of ['', '/contacts', '/security', '/sessions', '/services', '/history', '/approvals', '/password', '/organisations']) {
      await page.goto(`${world.issuer}/account${group}?lang=vi`);
      await fits(`account${group.replace('/', '-') || '-overview'}`);
    }
    await page.goto(`${world.issuer}/session/end`);
    await fits('logout');
  });

  it('serves the favicon the layout links', async () => {
    const icon = await fetch(`${world.issuer}/favicon.ico`);
    expect(icon.status).to.equal(200);
    expect(icon.headers.get('content-type')).to.include('image/svg+xml');
    expect(await page.getAttribute('link[rel=icon]', 'href')).to.equal('/favicon.ico');
  });

  it('found no page wider than the phone', () => {
    expect(overflowing).to.deep.equal([]);
  });
});
