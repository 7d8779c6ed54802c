// A citizen whose account cannot reach the level a service asks for, in a real browser: before the
// service gets unmet_authentication_requirements, a page says in plain words what is missing and
// how to get it, in Vietnamese and English, and its button returns to the service with the error.
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';
import { launchChromium, watchedPage } from '../support/chromium.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const LOA_2 = 'urn:vn:eid:loa:2';
// demo-portal's registered redirect URI, answered by the test (page.route): nothing listens there.
const CALLBACK = 'http://localhost:4000/callback';

describe('the level refusal page in a real browser', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];

  before(async () => {
    world = await startTestServer();
    browser = await launchChromium();
    page = await watchedPage(browser, cspViolations);
    await page.route('http://localhost:4000/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>demo-portal</title>' }));
  });

  after(async () => {
    await browser?.close();
    await world?.close();
  });

  async function signInAtPortal(nationalId: string, password: string): Promise<void> {
    const portal = await client.discovery(new URL(world.issuer), 'demo-portal', undefined, client.ClientSecretBasic('demo-portal-secret'), {
      execute: [client.allowInsecureRequests],
    });
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: CALLBACK,
      scope: 'openid profile',
      state: 'level-two',
      acr_values: LOA_2,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    await page.context().clearCookies();
    await page.goto(url.href);
    await page.fill('input[name=username]', nationalId);
    await page.fill('input[name=password]', password);
    await page.getByRole('button', { name: 'Đăng nhập', exact: true }).click();
  }

  it('tells Bích (level 1) that the service needs a level-2 account and how to get one, then returns the error to the service', async () => {
    await signInAtPortal(BICH.id, BICH.password);
    await page.waitForSelector('h1:has-text("Dịch vụ này cần tài khoản mức 2")');
    const main = await page.textContent('main');
    expect(main).to.include('Tài khoản của bạn là tài khoản mức 1').and.include('mang thẻ căn cước đến cơ quan Công an');
    expect(main).to.not.include('unmet_authentication_requirements');

    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForSelector('html[lang=en]');
    expect(await page.textContent('h1')).to.equal('This service needs a level 2 account');
    expect(await page.textContent('main')).to.include('bring your identity card to your nearest police office');

    await page.getByRole('button', { name: 'Return to the service' }).click();
    await page.waitForURL(/^http:\/\/localhost:4000\/callback\?/);
    const callback = new URL(page.url());
    expect(callback.searchParams.get('error')).to.equal('unmet_authentication_requirements');
    expect(callback.searchParams.get('state')).to.equal('level-two');
    expect(callback.searchParams.get('code')).to.equal(null);
    expect(cspViolations).to.deep.equal([]);
  });

  it('tells a level-2 citizen without a second factor to add one on the account page', async () => {
    const nationalId = `0010990${String(randomInt(0, 100_000)).padStart(5, '0')}`;
    const { container } = world.server;
    await container.registry.upsert({ ...DEMO_CITIZENS[0]!.record, nationalId, fullName: 'Vũ Quang Huy' });
    await container.accounts.enrol({
      nationalId,
      level: 2,
      passwordHash: await container.passwords.hash('Huy#Test-2026'),
      totpSecretSealed: null,
      phoneNumber: null,
      phoneNumberVerified: false,
      email: null,
      emailVerified: false,
    });
    await signInAtPortal(nationalId, 'Huy#Test-2026');
    await page.waitForSelector('h1:has-text("Dịch vụ này cần tài khoản mức 2")');
    expect(await page.textContent('main')).to.include('chưa có yếu tố thứ hai nào').and.include('tại trang tài khoản');
    await page.getByRole('button', { name: 'Quay lại dịch vụ' }).click();
    await page.waitForURL(/^http:\/\/localhost:4000\/callback\?/);
    expect(new URL(page.url()).searchParams.get('error')).to.equal('unmet_authentication_requirements');
  });
});
