// Every row of the authentication-parameter table in docs/portals.md ("Authentication parameters"), end to end:
// what the citizen sees and what the portal receives at its redirect URI.
import { expect } from 'chai';
import * as client from 'openid-client';
import { Browser, formsOf, stepOf, type Page } from '../support/browserless.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const TAX = { id: 'demo-tax', secret: 'demo-tax-secret', redirectUri: 'http://127.0.0.1:4001/callback' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const KHOA = { id: '048203000777', password: 'Khoa#Demo2026' };
type Rp = typeof PORTAL;

describe('authentication parameters (the table in docs/portals.md)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  const configs = new Map<string, client.Configuration>();

  before(async () => {
    world = await startTestServer();
    for (const rp of [PORTAL, TAX]) {
      configs.set(
        rp.id,
        await client.discovery(new URL(world.issuer), rp.id, undefined, client.ClientSecretBasic(rp.secret), { execute: [client.allowInsecureRequests] }),
      );
    }
  });
  after(() => world?.close());

  async function authorize(rp: Rp, extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(configs.get(rp.id)!, {
      redirect_uri: rp.redirectUri,
      scope: 'openid profile',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    return { url, verifier, state };
  }

  /** A browser signed in to demo-portal (consent given), and the ID token it got. */
  async function signedIn(citizen = BICH) {
    const browser = new Browser(world.issuer);
    const attempt = await authorize(PORTAL);
    const callback = await browser.signIn(attempt.url, citizen.id, citizen.password);
    const tokens = await client.authorizationCodeGrant(configs.get(PORTAL.id)!, callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
    return { browser, idToken: tokens.id_token!, claims: tokens.claims()! };
  }

  const redirectError = (page: Page) => (page.location ? new URL(page.location).searchParams.get('error') : `no redirect (HTTP ${page.status})`);
  const hasCode = (page: Page) => Boolean(page.location && new URL(page.location).searchParams.get('code'));

  describe('prompt', () => {
    it('none without a session: login_required at the redirect URI', async () => {
      const page = await new Browser(world.issuer).get((await authorize(PORTAL, { prompt: 'none' })).url);
      expect(redirectError(page)).to.equal('login_required');
    });

    it('none with a session but no consent for this service: consent_required', async () => {
      const { browser } = await signedIn();
      const page = await browser.get((await authorize(TAX, { prompt: 'none' })).url);
      expect(redirectError(page)).to.equal('consent_required');
    });

    it('none with a session and consent: a code, no page', async () => {
      const { browser } = await signedIn();
      expect(hasCode(await browser.get((await authorize(PORTAL, { prompt: 'none' })).url))).to.equal(true);
    });

    it('login with a session: the password is asked again', async () => {
      const { browser } = await signedIn();
      expect(stepOf(await browser.get((await authorize(PORTAL, { prompt: 'login' })).url))).to.equal('login');
    });

    it('consent with consent already given: the consent page is shown again', async () => {
      const { browser } = await signedIn();
      expect(stepOf(await browser.get((await authorize(PORTAL, { prompt: 'consent' })).url))).to.equal('consent');
    });

    it('none together with another value: invalid_request', async () => {
      const page = await new Browser(world.issuer).get((await authorize(PORTAL, { prompt: 'none login' })).url);
      expect(redirectError(page)).to.equal('invalid_request');
    });

    it('an unknown value: invalid_request', async () => {
      const page = await new Browser(world.issuer).get((await authorize(PORTAL, { prompt: 'sometimes' })).url);
      expect(redirectError(page)).to.equal('invalid_request');
    });
  });

  describe('prompt=select_account', () => {
    /** The select-account page of an authorization request, and its forms by what they do. */
    async function selectAccountPage(browser: Browser, extra: Record<string, string> = {}) {
      const attempt = await authorize(PORTAL, { prompt: 'select_account', ...extra });
      const page = await browser.get(attempt.url);
      const forms = formsOf(page);
      const form = (suffix: string) => forms.find((candidate) => new URL(candidate.action).pathname.endsWith(suffix));
      return { attempt, page, continueForm: form('/select-account/continue'), anotherForm: form('/select-account/another'), cancelForm: form('/abort') };
    }

    it('with a session: a page naming the citizen by name and a masked ID number, in Vietnamese by default', async () => {
      const { browser } = await signedIn();
      const { page, continueForm, anotherForm } = await selectAccountPage(browser);
      expect(page.status).to.equal(200);
      expect(page.body).to.match(/<html lang="vi">/);
      expect(page.body).to.include('Trần Thị Bích');
      expect(page.body).to.include('••••••••0123');
      expect(page.body, 'the whole ID number is never shown').to.not.include(BICH.id);
      expect(continueForm, 'a form to continue as her').to.not.equal(undefined);
      expect(anotherForm, 'a form to use another account').to.not.equal(undefined);
      expect(page.headers.get('content-security-policy')).to.match(/script-src 'self'/).and.to.match(/form-action 'self' http:\/\/localhost:4000/);
      expect(page.body).to.not.match(/<script/);
    });

    it('in English with ui_locales=en', async () => {
      const { browser } = await signedIn();
      const { page } = await selectAccountPage(browser, { ui_locales: 'en' });
      expect(page.body).to.match(/<html lang="en">/);
      expect(page.body).to.include('Continue as Trần Thị Bích').and.to.include('Use another account');
    });

    it('"continue": single sign-on as the same citizen (a code, no password)', async () => {
      const { browser, claims } = await signedIn();
      const { attempt, continueForm } = await selectAccountPage(browser);
      const page = await browser.submit(continueForm!);
      expect(hasCode(page)).to.equal(true);
      const tokens = await client.authorizationCodeGrant(configs.get(PORTAL.id)!, new URL(page.location!), {
        pkceCodeVerifier: attempt.verifier,
        expectedState: attempt.state,
      });
      expect(tokens.claims()!.sub).to.equal(claims.sub);
    });

    it('"continue" to a service not consented yet: the consent page, then a code', async () => {
      const { browser } = await signedIn();
      const attempt = await authorize(TAX, { prompt: 'select_account' });
      const choice = await browser.get(attempt.url);
      const consent = await browser.submit(formsOf(choice).find((form) => form.action.endsWith('/select-account/continue'))!);
      expect(stepOf(consent)).to.equal('consent');
      const done = await browser.submit(formsOf(consent).find((form) => form.action.endsWith('/consent'))!);
      expect(hasCode(done)).to.equal(true);
    });

    it('"use another account": the old session ends at once, the login page follows, and the new citizen gets a session of their own', async () => {
      const { browser, claims } = await signedIn(BICH);
      const oldCookies = [...browser.cookiesFor(`${world.issuer}/auth`)].map(([name, value]) => `${name}=${value}`).join('; ');
      const bichAccountId = (await world.server.container.accounts.findByNationalId(BICH.id))!.id;
      const liveSessionsOfBich = async () => {
        const models = world.server.container.ephemeralModels;
        const sessions = await Promise.all((await models.sessionIdsOfAccount(bichAccountId)).map((id) => models.find('Session', id)));
        return sessions.filter((session) => session?.accountId === bichAccountId).length;
      };
      const before = await liveSessionsOfBich();
      const { attempt, anotherForm } = await selectAccountPage(browser);
      const login = await browser.submit(anotherForm!);
      expect(stepOf(login)).to.equal('login');
      // Bích's session is gone (the suite's other browsers keep theirs), even for a browser still holding its cookie.
      expect(await liveSessionsOfBich()).to.equal(before - 1);
      const replay = await fetch((await authorize(PORTAL, { prompt: 'none' })).url, { headers: { cookie: oldCookies }, redirect: 'manual' });
      expect(new URL(replay.headers.get('location')!).searchParams.get('error')).to.equal('login_required');
      // Khoa signs in on the same interaction: a code for him, not for her.
      const afterLogin = await browser.submit(formsOf(login).find((form) => form.action.endsWith('/login'))!, { username: KHOA.id, password: KHOA.password });
      const done = stepOf(afterLogin) === 'consent' ? await browser.submit(formsOf(afterLogin).find((form) => form.action.endsWith('/consent'))!) : afterLogin;
      expect(hasCode(done)).to.equal(true);
      const tokens = await client.authorizationCodeGrant(configs.get(PORTAL.id)!, new URL(done.location!), {
        pkceCodeVerifier: attempt.verifier,
        expectedState: attempt.state,
      });
      expect(tokens.claims()!.sub).to.not.equal(claims.sub);
      const userinfo = await client.fetchUserInfo(configs.get(PORTAL.id)!, tokens.access_token, tokens.claims()!.sub);
      expect(userinfo.given_name).to.equal('Khoa');
    });

    it('"use another account" after the session was renewed in another tab: that session ends too', async () => {
      const { browser } = await signedIn(BICH);
      const { anotherForm } = await selectAccountPage(browser);
      // Meanwhile, in another tab, she consents to the tax portal: the session gets a new id.
      const tax = await browser.signIn((await authorize(TAX)).url, BICH.id, BICH.password);
      expect(tax.searchParams.get('code')).to.be.a('string');
      expect(stepOf(await browser.submit(anotherForm!))).to.equal('login');
      // Whatever session cookie the browser holds now signs no one in.
      const cookies = [...browser.cookiesFor(`${world.issuer}/auth`)].map(([name, value]) => `${name}=${value}`).join('; ');
      const replay = await fetch((await authorize(PORTAL, { prompt: 'none' })).url, { headers: { cookie: cookies }, redirect: 'manual' });
      expect(new URL(replay.headers.get('location')!).searchParams.get('error')).to.equal('login_required');
    });

    it('"use another account", then cancel: no one is left signed in, and the service gets access_denied', async () => {
      const { browser } = await signedIn();
      const { anotherForm } = await selectAccountPage(browser);
      const login = await browser.submit(anotherForm!);
      const cancelled = await browser.submit(formsOf(login).find((form) => form.action.endsWith('/abort'))!);
      expect(redirectError(cancelled)).to.equal('access_denied');
      expect(redirectError(await browser.get((await authorize(PORTAL, { prompt: 'none' })).url))).to.equal('login_required');
    });

    it('cancel on the page: access_denied, and the session stays', async () => {
      const { browser } = await signedIn();
      const { cancelForm } = await selectAccountPage(browser);
      expect(redirectError(await browser.submit(cancelForm!))).to.equal('access_denied');
      expect(hasCode(await browser.get((await authorize(PORTAL, { prompt: 'none' })).url))).to.equal(true);
    });

    it('without a session: an ordinary login, no account question after it', async () => {
      const browser = new Browser(world.issuer);
      const attempt = await authorize(PORTAL, { prompt: 'select_account' });
      const callback = await browser.signIn(attempt.url, BICH.id, BICH.password);
      expect(browser.lastSteps[0]).to.equal('login');
      expect(callback.searchParams.get('code')).to.be.a('string');
    });

    it('a form posted for an interaction that asks no account question: the expired page, nothing ended', async () => {
      const { browser } = await signedIn();
      const attempt = await authorize(TAX, {});
      const consent = await browser.get(attempt.url);
      const uid = new URL(formsOf(consent)[0]!.action).pathname.split('/')[2]!;
      const refused = await browser.postForm(new URL(`/interaction/${uid}/select-account/another`, world.issuer), { lang: 'en' });
      expect(refused.status).to.equal(400);
      expect(hasCode(await browser.get((await authorize(PORTAL, { prompt: 'none' })).url))).to.equal(true);
    });

    it('together with none: invalid_request', async () => {
      const { browser } = await signedIn();
      expect(redirectError(await browser.get((await authorize(PORTAL, { prompt: 'select_account none' })).url))).to.equal('invalid_request');
    });
  });

  describe('max_age', () => {
    it('0 asks for the password again even within a session', async () => {
      const { browser } = await signedIn();
      expect(stepOf(await browser.get((await authorize(PORTAL, { max_age: '0' })).url))).to.equal('login');
    });

    it('one hour within a fresh session: single sign-on, and the ID token carries auth_time', async () => {
      const { browser } = await signedIn();
      const attempt = await authorize(PORTAL, { max_age: '3600' });
      const page = await browser.get(attempt.url);
      expect(hasCode(page)).to.equal(true);
      const tokens = await client.authorizationCodeGrant(configs.get(PORTAL.id)!, new URL(page.location!), {
        pkceCodeVerifier: attempt.verifier,
        expectedState: attempt.state,
        maxAge: 3600,
      });
      expect(tokens.claims()!.auth_time).to.be.a('number');
    });

    it('with prompt=none and a session older than max_age: login_required', async () => {
      const { browser } = await signedIn();
      // auth_time is in whole seconds: more than max_age must have passed for certain.
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect(redirectError(await browser.get((await authorize(PORTAL, { prompt: 'none', max_age: '1' })).url))).to.equal('login_required');
    });
  });

  describe('login_hint', () => {
    it('a 12-digit ID number prefills the login form', async () => {
      const page = await new Browser(world.issuer).get((await authorize(PORTAL, { login_hint: BICH.id })).url);
      expect(formsOf(page).find((form) => form.action.endsWith('/login'))!.fields.username).to.equal(BICH.id);
    });

    it('anything else is ignored (the field stays empty)', async () => {
      const page = await new Browser(world.issuer).get((await authorize(PORTAL, { login_hint: 'bich@example.vn' })).url);
      expect(formsOf(page).find((form) => form.action.endsWith('/login'))!.fields.username).to.equal('');
    });
  });

  describe('id_token_hint', () => {
    it("naming the session's citizen: single sign-on", async () => {
      const { browser, idToken } = await signedIn();
      expect(hasCode(await browser.get((await authorize(PORTAL, { id_token_hint: idToken, prompt: 'none' })).url))).to.equal(true);
    });

    it('naming another citizen than the session: login_required with prompt=none, the login page without', async () => {
      const other = await signedIn(KHOA);
      const { browser } = await signedIn(BICH);
      expect(redirectError(await browser.get((await authorize(PORTAL, { id_token_hint: other.idToken, prompt: 'none' })).url))).to.equal('login_required');
      expect(stepOf(await browser.get((await authorize(PORTAL, { id_token_hint: other.idToken })).url))).to.equal('login');
    });

    it('not a token of ours: invalid_request', async () => {
      const page = await new Browser(world.issuer).get((await authorize(PORTAL, { id_token_hint: 'eyJhbGciOiJub25lIn0.e30.' })).url);
      expect(redirectError(page)).to.equal('invalid_request');
    });
  });

  describe('ui_locales', () => {
    it('en shows the pages in English; an unsupported language falls back to Vietnamese', async () => {
      const english = await new Browser(world.issuer).get((await authorize(PORTAL, { ui_locales: 'en-GB vi' })).url);
      expect(english.body).to.match(/<html lang="en">/);
      const french = await new Browser(world.issuer).get((await authorize(PORTAL, { ui_locales: 'fr' })).url);
      expect(french.body).to.match(/<html lang="vi">/);
    });
  });

  describe('claims', () => {
    it('a malformed claims parameter: invalid_request', async () => {
      const page = await new Browser(world.issuer).get((await authorize(PORTAL, { claims: '{"id_token": ' })).url);
      expect(redirectError(page)).to.equal('invalid_request');
    });

    it('an individually requested approved claim is released; an unapproved one is dropped without error', async () => {
      const browser = new Browser(world.issuer);
      const attempt = await authorize(PORTAL, {
        scope: 'openid',
        claims: JSON.stringify({ userinfo: { given_name: null, ethnicity: { essential: true } } }),
      });
      const callback = await browser.signIn(attempt.url, BICH.id, BICH.password);
      const tokens = await client.authorizationCodeGrant(configs.get(PORTAL.id)!, callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
      const userinfo = await client.fetchUserInfo(configs.get(PORTAL.id)!, tokens.access_token, tokens.claims()!.sub);
      expect(userinfo.given_name).to.equal('Bích');
      expect(userinfo).to.not.have.property('ethnicity');
    });
  });
});
