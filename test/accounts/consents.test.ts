// Consent records and the citizen's view of them: what was shown is kept word for word, can be
// printed, and withdrawn from /account in two clicks — which ends the service's grant and tokens —
// and the data-access history shows which service received which claims. A real server on
// PostgreSQL and Redis, portals played by openid-client, pages driven as a browser without JavaScript.
import { expect } from 'chai';
import * as client from 'openid-client';
import { Browser, decodeEntities, formsOf, stepOf, type Page, type PageForm } from '../support/browserless.ts';
import { startAccountServer, type AccountWorld } from '../support/account-world.ts';
import { consentShownText, consentWording } from '../../src/interactions/pages.ts';
import { inClaimOrder } from '../../src/oidc/consent/claims.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const AN = { id: '001099012345', password: 'An#Demo2026' };
const KHOA = { id: '048203000777', password: 'Khoa#Demo2026' };
const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback', name: 'Cổng dịch vụ công (demo)' };
const TAX = { id: 'demo-tax', secret: 'demo-tax-secret', redirectUri: 'http://127.0.0.1:4001/callback', name: 'Thuế điện tử (demo)' };
type Portal = typeof PORTAL;
type Citizen = typeof BICH;
/** The demo accounts' contacts: a verified phone, no e-mail. */
const DEMO_CONTACTS = { phoneNumber: '+84900000001', email: null };

interface ConsentRow {
  id: string;
  account_id: string;
  client_id: string;
  grant_id: string;
  scopes: string[];
  claims: string[];
  shown_text: string;
  locale: string;
  given_at: Date;
  withdrawn_at: Date | null;
}

/** The visible text of a page: tags removed, entities decoded, whitespace collapsed. */
function textOf(page: Page): string {
  return decodeEntities(page.body.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ');
}

function formWithAction(page: Page, pathname: string): PageForm {
  const form = formsOf(page).find((candidate) => new URL(candidate.action).pathname === pathname);
  if (!form) throw new Error(`no form posting to ${pathname} at ${page.url} (HTTP ${page.status})`);
  return form;
}

/** No inline script or style: scripts only from /assets, no style attributes or elements. */
function expectNoInlineScriptOrStyle(page: Page): void {
  expect(page.body).to.not.match(/<script(?![^>]*\bsrc="\/assets\/)[^>]*>/i);
  expect(page.body).to.not.match(/<style\b|\sstyle="/i);
}

describe('consent records and the services with access (/account)', function () {
  this.timeout(60_000);
  let world: AccountWorld;
  const configs = new Map<string, Promise<client.Configuration>>();

  before(async () => {
    world = await startAccountServer();
  });

  after(async () => {
    await world?.close();
  });

  function discover(rp: Portal): Promise<client.Configuration> {
    let config = configs.get(rp.id);
    if (!config) {
      config = client.discovery(new URL(world.issuer), rp.id, undefined, client.ClientSecretBasic(rp.secret), { execute: [client.allowInsecureRequests] });
      configs.set(rp.id, config);
    }
    return config;
  }

  /** A portal's sign-in through the pages (consent agreed); returns the tokens and the pages shown. */
  async function portalSignIn(rp: Portal, citizen: Citizen, scope: string, extra: Record<string, string> = {}, browser = new Browser(world.issuer)) {
    const config = await discover(rp);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: rp.redirectUri,
      scope,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    const callback = await browser.signIn(url, citizen.id, citizen.password, { consent: true });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
    const consentPage = browser.lastPages.find((page) => stepOf(page) === 'consent');
    return { browser, tokens, consentPage, steps: [...browser.lastSteps] };
  }

  /** Opens a page of the account console, signing in through the provider's pages. */
  async function openSignedIn(browser: Browser, url: string, citizen: Citizen): Promise<Page> {
    let page = await browser.get(url);
    for (let steps = 0; steps < 4; steps += 1) {
      const step = stepOf(page);
      if (step === 'login') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/login'))!, { username: citizen.id, password: citizen.password });
      else if (step === 'consent') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/consent'))!);
      else return page;
    }
    throw new Error(`the sign-in did not finish at ${page.url}`);
  }

  const accountIdOf = async (citizen: Citizen) => (await world.server.container.accounts.findByNationalId(citizen.id))!.id;
  const newestRecord = async (citizen: Citizen, clientId: string) =>
    (await world.server.container.db<ConsentRow>('consent_records')
      .where({ account_id: await accountIdOf(citizen), client_id: clientId })
      .orderBy('given_at', 'desc')
      .first())!;

  it('keeps a consent record with the exact words of the consent page, in Vietnamese by default', async () => {
    const { consentPage } = await portalSignIn(PORTAL, BICH, 'openid profile address', { prompt: 'consent' });
    expect(consentPage, 'a consent page was shown').to.not.equal(undefined);
    const record = await newestRecord(BICH, PORTAL.id);
    expect(record.locale).to.equal('vi');
    expect(record.scopes).to.have.members(['openid', 'profile', 'address']);
    expect(record.shown_text).to.equal(consentShownText('vi', PORTAL.name, { scopes: ['openid', 'profile', 'address'], claims: [], subjectType: 'pairwise', contacts: DEMO_CONTACTS }));
    expect(record.shown_text).to.include('Họ và tên, ngày sinh, giới tính');
    // Every line of the record is on the page that was shown, word for word.
    const shown = textOf(consentPage!);
    for (const line of record.shown_text.split('\n')) expect(shown).to.include(line.replace(/^- /, ''));
    expect(await world.server.container.provider.Grant.find(record.grant_id), 'the grant it belongs to').to.not.equal(undefined);
  });

  it('keeps the record in English when the consent page was in English', async () => {
    const { consentPage } = await portalSignIn(PORTAL, AN, 'openid profile', { prompt: 'consent', ui_locales: 'en' });
    expect(consentPage!.body).to.include('<html lang="en"');
    const record = await newestRecord(AN, PORTAL.id);
    expect(record.locale).to.equal('en');
    expect(record.shown_text).to.equal(consentShownText('en', PORTAL.name, { scopes: ['openid', 'profile'], claims: [], subjectType: 'pairwise', contacts: DEMO_CONTACTS }));
    expect(record.shown_text).to.include('Your full name, date of birth and gender');
    for (const line of record.shown_text.split('\n')) expect(textOf(consentPage!)).to.include(line.replace(/^- /, ''));
  });

  it('prints a record: the service, the words shown verbatim, when, the scopes and the status', async () => {
    const record = await newestRecord(BICH, PORTAL.id);
    const page = await openSignedIn(new Browser(world.issuer), `${world.issuer}/account/consents/${record.id}`, BICH);
    expect(page.status).to.equal(200);
    expect(page.body).to.include('<html lang="vi"');
    const verbatim = /<pre class="shown-text">([\s\S]*?)<\/pre>/.exec(page.body);
    expect(decodeEntities(verbatim![1]!)).to.equal(record.shown_text);
    const text = textOf(page);
    expect(text).to.include(PORTAL.name);
    expect(text).to.include('openid profile address');
    expect(text).to.include('Đang có hiệu lực');
    expect(page.body).to.include(`datetime="${record.given_at.toISOString()}"`);
    expectNoInlineScriptOrStyle(page);

    const stranger = await new Browser(world.issuer).fetch(`${world.issuer}/account/consents/${record.id}`);
    expect(stranger.status, 'not signed in: sent to sign in').to.equal(303);
  });

  it('lists the services with access and withdraws one in two clicks, ending its grant and tokens at once', async () => {
    const { browser: portalBrowser, tokens } = await portalSignIn(PORTAL, KHOA, 'openid profile offline_access', { prompt: 'consent' });
    const config = await discover(PORTAL);
    expect(tokens.refresh_token).to.be.a('string');
    expect((await client.tokenIntrospection(config, tokens.access_token)).active, 'active before').to.equal(true);
    const record = await newestRecord(KHOA, PORTAL.id);

    const console = new Browser(world.issuer);
    const overview = await openSignedIn(console, `${world.issuer}/account/services`, KHOA);
    const services = /<section aria-labelledby="consents-title">([\s\S]*?)<\/section>/.exec(overview.body)![1]!;
    expect(decodeEntities(services)).to.include(PORTAL.name);
    expect(decodeEntities(services)).to.include('Họ và tên, ngày sinh, giới tính');
    expectNoInlineScriptOrStyle(overview);

    // Click one: the withdraw button; click two: the confirmation.
    const confirm = await console.get(`${world.issuer}/account/consents/${record.id}/withdraw`);
    expect(services).to.include(`href="/account/consents/${record.id}/withdraw"`);
    expect(confirm.status).to.equal(200);
    expect(textOf(confirm)).to.include(PORTAL.name);
    const done = await console.submit(formWithAction(confirm, `/account/consents/${record.id}/withdraw`));
    expect(done.status).to.equal(200);
    expect(new URL(done.url).pathname).to.equal('/account/services');
    expect(textOf(done)).to.include('Đã rút lại sự đồng ý');
    const servicesAfter = /<section aria-labelledby="consents-title">([\s\S]*?)<\/section>/.exec(done.body)![1]!;
    expect(decodeEntities(servicesAfter)).to.not.include(PORTAL.name);

    const after = await newestRecord(KHOA, PORTAL.id);
    expect(after.withdrawn_at).to.be.instanceOf(Date);
    expect(await world.server.container.provider.Grant.find(record.grant_id), 'the grant is gone').to.equal(undefined);
    try {
      await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect.fail('the refresh token still worked');
    } catch (error) {
      expect(error).to.be.instanceOf(client.ResponseBodyError);
      expect((error as client.ResponseBodyError).error).to.equal('invalid_grant');
    }
    expect((await client.tokenIntrospection(config, tokens.access_token)).active, 'introspected by the client itself').to.equal(false);

    await world.server.container.audit.flush();
    const events = await world.server.container.audit.eventsForAccount(await accountIdOf(KHOA));
    const withdrawn = events.find((event) => event.type === 'consent.withdrawn');
    expect(withdrawn?.clientId).to.equal(PORTAL.id);

    // The same browser session at the provider: the next request asks for consent again.
    const again = await portalSignIn(PORTAL, KHOA, 'openid profile', {}, portalBrowser);
    expect(again.steps).to.include('consent');
    expect(again.steps).to.not.include('login');
  });

  it('shows the data-access history: which service received which claims, when, in plain words', async () => {
    const { tokens } = await portalSignIn(TAX, BICH, 'openid profile national_id');
    const config = await discover(TAX);
    const claims = tokens.claims()!;
    await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    await world.server.container.audit.flush();

    const console = new Browser(world.issuer);
    const historyOf = (page: Page) =>
      decodeEntities(/<section aria-labelledby="history-title">([\s\S]*?)<\/section>/.exec(page.body)![1]!.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ');
    const history = historyOf(await openSignedIn(console, `${world.issuer}/account/history`, BICH));
    expect(history).to.include(TAX.name);
    expect(history).to.include('Họ và tên');
    expect(history).to.include('Số định danh cá nhân');
    expect(history).to.include('Bạn đồng ý chia sẻ');
    // Newest first: the userinfo release of demo-tax comes before BICH's earlier consent to demo-portal.
    expect(history.indexOf(TAX.name)).to.be.below(history.indexOf(PORTAL.name));

    const english = historyOf(await console.get(`${world.issuer}/account/history?lang=en`));
    expect(english).to.include('Data-access history');
    expect(english).to.include('Full name');
    expect(english).to.include('Personal identification number');
  });

  it('remembers consent per service across sessions: a new browser is not asked again, a new scope is, and a withdrawal ends it', async () => {
    const first = await portalSignIn(TAX, AN, 'openid profile');
    expect(first.steps).to.include('consent');

    // Another browser (a new session at the provider): the password, no consent page.
    const second = await portalSignIn(TAX, AN, 'openid profile');
    expect(second.steps).to.include('login');
    expect(second.steps).to.not.include('consent');
    expect(second.tokens.scope?.split(' ')).to.include('profile');

    // A scope not consented to yet: asked again, for that.
    const third = await portalSignIn(TAX, AN, 'openid profile address');
    expect(third.steps).to.include('consent');

    // Withdrawn on the account page: the next new session asks again.
    const record = await newestRecord(AN, TAX.id);
    const console = new Browser(world.issuer);
    await openSignedIn(console, `${world.issuer}/account`, AN);
    const confirm = await console.get(`${world.issuer}/account/consents/${record.id}/withdraw`);
    await console.submit(formWithAction(confirm, `/account/consents/${record.id}/withdraw`));
    const fourth = await portalSignIn(TAX, AN, 'openid profile');
    expect(fourth.steps).to.include('consent');
  });

  it("does not show or withdraw another citizen's consent record (404)", async () => {
    const bichs = await newestRecord(BICH, PORTAL.id);
    const console = new Browser(world.issuer);
    const overview = await openSignedIn(console, `${world.issuer}/account`, AN);
    expect(decodeEntities(overview.body)).to.not.include(bichs.id);
    const csrf = formWithAction(overview, '/account/sign-out').fields.csrf!;

    const shown = await console.get(`${world.issuer}/account/consents/${bichs.id}`);
    expect(shown.status).to.equal(404);
    expect(shown.body).to.match(/role="alert"/);
    expect(textOf(shown)).to.not.include(PORTAL.name);
    expect((await console.get(`${world.issuer}/account/consents/${bichs.id}/withdraw`)).status).to.equal(404);
    const posted = await console.postForm(`${world.issuer}/account/consents/${bichs.id}/withdraw`, { csrf });
    expect(posted.status).to.equal(404);
    expect((await newestRecord(BICH, PORTAL.id)).withdrawn_at, "Bích's consent stands").to.equal(null);
  });

  /** The scopes a consent page lists, in the order it lists them. */
  const listedScopes = (page: Page) => [...page.body.matchAll(/<li[^>]* data-scope="([^"]+)"/g)].map((match) => match[1]);
  /** Withdraws the citizen's consent to a service, so that its next consent page asks for everything. */
  async function withdrawConsent(citizen: Citizen, rp: Portal): Promise<void> {
    const record = await newestRecord(citizen, rp.id);
    if (record) await world.server.container.consents.withdraw(record.account_id, record.id);
  }

  it('lists scopes asked in a scrambled order in one fixed order, on the consent page, its record and the services list', async () => {
    const scope = 'address phone national_id profile openid';
    await withdrawConsent(AN, PORTAL);
    const { consentPage } = await portalSignIn(PORTAL, AN, scope, { prompt: 'consent' });
    expect(listedScopes(consentPage!)).to.deep.equal(['openid', 'profile', 'national_id', 'address', 'phone']);
    const record = await newestRecord(AN, PORTAL.id);
    expect(record.shown_text).to.equal(consentShownText('vi', PORTAL.name, { scopes: scope.split(' '), claims: [], subjectType: 'pairwise', contacts: DEMO_CONTACTS }));
    const lines = record.shown_text.split('\n');
    const at = (words: string) => lines.findIndex((line) => line.includes(words));
    expect(at('Họ và tên')).to.be.below(at('Số định danh cá nhân'));
    expect(at('Số định danh cá nhân')).to.be.below(at('Địa chỉ thường trú'));
    expect(at('Địa chỉ thường trú')).to.be.below(at('Số điện thoại'));

    const services = textOf(await openSignedIn(new Browser(world.issuer), `${world.issuer}/account/services`, AN));
    const mayReceive = services.slice(services.indexOf(PORTAL.name));
    expect(mayReceive.indexOf('Họ và tên')).to.be.below(mayReceive.indexOf('Số định danh cá nhân'));
    expect(mayReceive.indexOf('Số định danh cá nhân')).to.be.below(mayReceive.indexOf('Địa chỉ thường trú'));
    expect(mayReceive.indexOf('Địa chỉ thường trú')).to.be.below(mayReceive.indexOf('Số điện thoại'));
  });

  it('orders claim names as the scopes release them, then any other alphabetically', () => {
    expect(inClaimOrder(['email', 'zz_custom', 'address', 'birthdate', 'aa_custom', 'name', 'national_id'])).to.deep.equal([
      'name',
      'birthdate',
      'national_id',
      'address',
      'email',
      'aa_custom',
      'zz_custom',
    ]);
    const wording = consentWording('en', { scopes: ['openid'], claims: ['email', 'gender', 'phone_number', 'name'], subjectType: 'pairwise', contacts: { phoneNumber: null, email: 'an@example.vn' } });
    expect(wording.otherClaims, 'no phone line without a phone').to.equal('Individually requested information: Full name, Gender, Email address');
    const vi = consentWording('vi', { scopes: ['openid'], claims: ['verified_claims', 'zz_custom'], subjectType: 'pairwise', contacts: { phoneNumber: null, email: null } });
    expect(vi.otherClaims, 'in plain words where there are any').to.equal(
      'Thông tin riêng được yêu cầu: Thông tin đã xác minh, kèm cách xác minh (mức tài khoản, thẻ căn cước), zz_custom',
    );
  });

  it('does not grant an e-mail it did not show: one added later reaches the service only after a consent that shows it', async () => {
    await withdrawConsent(AN, PORTAL);
    const first = await portalSignIn(PORTAL, AN, 'openid email phone', { prompt: 'consent' });
    expect(first.tokens.scope?.split(' ')).to.not.include('email');
    const record = await newestRecord(AN, PORTAL.id);
    expect(record.scopes).to.have.members(['openid', 'phone']);

    const anId = await accountIdOf(AN);
    await world.server.container.accounts.saveVerifiedContact(anId, 'email', 'an.nguyen@example.vn');
    try {
      // The same browser, the same request, no prompt: not asked again, and no e-mail released.
      const again = await portalSignIn(PORTAL, AN, 'openid email phone', {}, first.browser);
      expect(again.steps, 'the withheld e-mail counts as answered').to.not.include('consent');
      expect(again.tokens.scope?.split(' ')).to.not.include('email');
      const config = await discover(PORTAL);
      const userinfo = await client.fetchUserInfo(config, again.tokens.access_token, again.tokens.claims()!.sub);
      expect(userinfo).to.not.have.property('email');
    } finally {
      await world.server.container.accounts.removeEmail(anId);
    }
  });

  it('lists the e-mail address on the consent page only when the citizen has one, and records what was shown', async () => {
    await withdrawConsent(AN, PORTAL);
    const { consentPage } = await portalSignIn(PORTAL, AN, 'openid email phone', { prompt: 'consent' });
    expect(listedScopes(consentPage!), 'no e-mail on the demo account').to.deep.equal(['openid', 'phone']);
    const record = await newestRecord(AN, PORTAL.id);
    expect(record.shown_text).to.not.include('Địa chỉ email');
    expect(record.shown_text).to.include('Số điện thoại');
    for (const line of record.shown_text.split('\n')) expect(textOf(consentPage!)).to.include(line.replace(/^- /, ''));

    const anId = await accountIdOf(AN);
    await world.server.container.accounts.saveVerifiedContact(anId, 'email', 'an.nguyen@example.vn');
    try {
      await withdrawConsent(AN, PORTAL);
      const withEmail = await portalSignIn(PORTAL, AN, 'openid email phone', { prompt: 'consent' });
      expect(listedScopes(withEmail.consentPage!)).to.deep.equal(['openid', 'phone', 'email']);
      const recorded = await newestRecord(AN, PORTAL.id);
      expect(recorded.shown_text).to.include('Địa chỉ email');
      for (const line of recorded.shown_text.split('\n')) expect(textOf(withEmail.consentPage!)).to.include(line.replace(/^- /, ''));
    } finally {
      await world.server.container.accounts.removeEmail(anId);
    }
  });
});
