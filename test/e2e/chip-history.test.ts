// The citizen's side of a chip verification (issue 18 item 2, src/audit/access-history.ts): after a
// bank checked Lê Minh Khoa's card, his account page's data-access history has a row naming the bank
// and the result, in Vietnamese by default and in English; a forged chip (not genuine) leaves no row.
import { expect } from 'chai';
import { Browser, decodeEntities, formsOf, stepOf, type Page } from '../support/browserless.ts';
import { startAccountServer, type AccountWorld } from '../support/account-world.ts';
import { chipBank, chipOf, postChip } from '../support/chip.ts';
import { chipRequestBody, newTestAuthority } from '../../src/chip/test-chip.ts';
import { currentTotp } from '../../src/accounts/totp.ts';

const KHOA = { id: '048203000777', password: 'Khoa#Demo2026', secret: 'KRSXG5CTMVRXEZLU' };

describe("chip verification in the citizen's data-access history", function () {
  this.timeout(120_000);
  let world: AccountWorld;

  before(async function () {
    world = await startAccountServer();
  });
  after(() => world?.close());

  async function historyPage(browser: Browser, url: string): Promise<Page> {
    let page = await browser.get(url);
    for (let steps = 0; steps < 5; steps += 1) {
      const step = stepOf(page);
      if (step === 'login') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/login'))!, { username: KHOA.id, password: KHOA.password });
      else if (step === 'otp') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/otp'))!, { otp: await currentTotp(KHOA.secret) });
      else if (step === 'consent') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/consent'))!);
      else return page;
    }
    throw new Error(`the sign-in did not finish at ${page.url}`);
  }
  const rowsOf = (page: Page) =>
    [...page.body.matchAll(/<tr data-kind="chip\.verified">([\s\S]*?)<\/tr>/g)].map((match) => decodeEntities(match[1]!.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim());

  it('shows the bank and the result; a forged chip leaves nothing', async function () {
    const bank = await chipBank(world, 'history-bank');
    expect((await postChip(world, bank, chipRequestBody(await chipOf(world, KHOA.id)))).status).to.equal(200);
    const forged = await chipOf(world, KHOA.id, (await newTestAuthority('forger')).documentSigner);
    expect((await postChip(world, bank, chipRequestBody(forged))).status).to.equal(200);

    const browser = new Browser(world.issuer);
    const vietnamese = rowsOf(await historyPage(browser, `${world.issuer}/account/history`));
    expect(vietnamese).to.have.length(1);
    expect(vietnamese[0]).to.include('Bank history-bank').and.to.include('Đã kiểm tra chip trên thẻ căn cước của bạn: hợp lệ');
    const english = rowsOf(await browser.get(`${world.issuer}/account/history?lang=en`));
    expect(english[0]).to.include('Checked the chip of your identity card: genuine');
  });
});
