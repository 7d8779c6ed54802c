// Every row of the authentication-parameter table in README.md ("Integrating a portal"), end to end:
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

describe('authentication parameters (the table in the README)', function () {
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

    it('an unknown value (including select_account, not offered yet): invalid_request', async () => {
      for (const prompt of ['sometimes', 'select_account']) {
        const page = await new Browser(world.issuer).get((await authorize(PORTAL, { prompt })).url);
        expect(redirectError(page), prompt).to.equal('invalid_request');
      }
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
