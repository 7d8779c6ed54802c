// The demo bank's chip step in a real browser (issue 18 item 3, src/demo/bank.ts): a person picks a
// demo card, submits the plain form (no script needed), and sees the result the provider signed —
// verified for Lê Minh Khoa's valid card, refused naming citizen_alive for a deceased holder's — with
// each step shown: the chip read, the client_credentials token with its DPoP proof, the POST.
import { expect } from 'chai';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import type { Browser } from 'playwright-core';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';
import { launchChromium, watchedPage } from '../support/chromium.ts';
import { createDemoBank } from '../../src/demo/bank.ts';
import { DEMO_BANK_PRIVATE_JWK } from '../../src/demo/demo-bank-key.ts';
import { ensureTestAuthority, issueTestChip } from '../../src/chip/test-chip.ts';

describe('the demo bank: verifying a chip card, in a browser', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let http: HttpServer;
  let bankUrl: string;
  let browser: Browser;

  before(async function () {
    const bankPort = await freePort();
    world = await startTestServer({ overrides: { demo: { bankPort } } });
    bankUrl = `http://127.0.0.1:${bankPort}`;
    const app = createDemoBank({
      issuer: world.issuer,
      clientId: 'demo-bank',
      privateJwk: DEMO_BANK_PRIVATE_JWK,
      baseUrl: bankUrl,
      scope: 'openid profile national_id identity_document',
      // As the quickstart wires it (src/quickstart.ts).
      readChip: async (nationalId) => {
        const record = await world.server.container.registry.findByNationalId(nationalId);
        return issueTestChip(record!, (await ensureTestAuthority(world.config.dataDir)).documentSigner);
      },
    });
    http = createServer(app.callback() as RequestListener);
    await new Promise<void>((resolve) => http.listen(bankPort, '127.0.0.1', resolve));
    browser = await launchChromium();
  });
  after(async function () {
    await browser?.close();
    http?.closeAllConnections();
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    await world?.close();
  });

  it("verifies Lê Minh Khoa's card and shows the signed result and each step", async function () {
    const violations: string[] = [];
    const page = await watchedPage(browser, violations);
    await page.goto(`${bankUrl}/?lang=en`);
    await page.selectOption('select[name="card"]', '048203000777');
    await page.getByRole('button', { name: 'Verify the chip' }).click();
    await page.waitForSelector('[data-chip-result]');
    expect(await page.getAttribute('[data-chip-result]', 'data-chip-result')).to.equal('verified');
    expect(await page.textContent('[role="status"]')).to.include('048203000777');
    expect(await page.locator('li[data-passed="false"]').count()).to.equal(0);
    expect(await page.locator('li[data-check="document_signer_trusted"]').getAttribute('data-passed')).to.equal('true');
    const text = (await page.textContent('section.chip'))!;
    expect(text).to.include("1. The card's chip is read (NFC)");
    expect(text).to.include(`POST ${world.issuer}/token`);
    expect(text).to.include('urn:vn:eid:chip-verification');
    expect(text).to.include(`POST ${world.issuer}/chip/verifications`);
    expect(text).to.include('chip-verification+jwt');
    expect(violations).to.deep.equal([]);
    await page.close();
  });

  it("refuses a deceased holder's card, in Vietnamese, naming the check in an alert", async function () {
    const page = await browser.newPage();
    await page.goto(`${bankUrl}/?lang=vi`);
    expect(await page.getAttribute('html', 'lang')).to.equal('vi');
    await page.selectOption('select[name="card"]', '036080001111');
    await page.getByRole('button', { name: 'Xác minh chip' }).click();
    await page.waitForSelector('[data-chip-result]');
    expect(await page.getAttribute('[data-chip-result]', 'data-chip-result')).to.equal('refused');
    expect(await page.textContent('section.chip [role="alert"]')).to.include('citizen_alive');
    expect(await page.locator('li[data-check="citizen_alive"]').getAttribute('data-passed')).to.equal('false');
    // The form keeps the card just checked.
    expect(await page.inputValue('select[name="card"]')).to.equal('036080001111');
    await page.close();
  });
});
