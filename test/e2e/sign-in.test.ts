// A citizen signs into portals, seen from outside: a real relying-party library (openid-client)
// against a whole server on PostgreSQL and Redis, with the sign-in pages driven through plain HTTP
// and a cookie jar (test/support/browserless.ts). Demo citizens and clients are docs/design.md's.
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { alertsOf, Browser, formsOf, stepOf, type Page } from '../support/browserless.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const AN = { id: '001099012345', password: 'An#Demo2026' };
// Wrong passwords are spread over Bích and An, so that a failure counter (docs/design.md "Brute force")
// never locks one demo citizen out of the rest of the suite.
const TUNG_DECEASED = { id: '036080001111', password: 'Tung#Demo2026' };
/** In the registry, without an eID account. */
const HA_NO_ACCOUNT = '031190004567';
/** Not in the registry at all (but the right shape). */
const NOBODY = '012345678901';

interface DemoClient {
  readonly id: string;
  readonly secret: string | undefined;
  readonly redirectUri: string;
}
const PORTAL: DemoClient = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const TAX: DemoClient = { id: 'demo-tax', secret: 'demo-tax-secret', redirectUri: 'http://127.0.0.1:4001/callback' };
const SPA: DemoClient = { id: 'demo-spa', secret: undefined, redirectUri: 'http://localhost:4002/callback' };
const PORTAL_POST_LOGOUT = 'http://localhost:4000/';

const LOA_1 = 'urn:vn:eid:loa:1';

/** A started authorization request and what the relying party must remember to finish it. */
interface Attempt {
  readonly url: URL;
  readonly codeVerifier: string;
  readonly state: string;
  readonly nonce: string;
}

/** The OAuth error a rejected promise carries: its `error` code and HTTP status. */
async function oauthFailure(attempt: Promise<unknown>): Promise<{ error: string; status: number }> {
  try {
    await attempt;
  } catch (failure) {
    if (failure instanceof client.ResponseBodyError) return { error: failure.error, status: failure.status };
    if (failure instanceof client.WWWAuthenticateChallengeError) {
      return { error: String(failure.cause[0]?.parameters.error), status: failure.status };
    }
    throw failure;
  }
  throw new Error('expected the request to be refused');
}

/** A page without our own scripts (served from /assets, allowed by the CSP): what is left must hold none. */
function withoutOwnScripts(body: string): string {
  return body.replace(/<script src="\/assets\/[a-z-]+\.js"><\/script>/g, '');
}

function hasElementWithRoleAlert(page: Page): boolean {
  return /<[a-z][a-z0-9]*\b[^>]*\brole="alert"/i.test(page.body);
}

/** The raw markup of the first role="alert" element, as sent. */
function rawAlert(page: Page): string {
  const match = /<([a-z][a-z0-9]*)\b[^>]*\brole="alert"[^>]*>[\s\S]*?<\/\1>/i.exec(page.body);
  if (!match) throw new Error(`no role="alert" element in the page (HTTP ${page.status})`);
  return match[0];
}

describe('a citizen signs into portals (end to end, openid-client)', function () {
  let world: RunningServer;

  /** Consent is remembered per client across sessions: a test of the consent pages starts from none. */
  async function forgetConsents(citizen: { id: string }): Promise<void> {
    const account = await world.server.container.accounts.findByNationalId(citizen.id);
    await world.server.container.db('oidc_models').where('model', 'Grant').whereRaw(`payload->>'accountId' = ?`, [account!.id]).del();
  }
  const configs = new Map<string, Promise<client.Configuration>>();

  /**
   * openid-client's view of the provider for a demo client. http is allowed (loopback issuer), and
   * ID tokens from the token endpoint have their signatures checked against the JWKS (openid-client
   * skips that by default, trusting TLS).
   */
  function discover(rp: DemoClient): Promise<client.Configuration> {
    let config = configs.get(rp.id);
    if (!config) {
      config = client.discovery(
        new URL(world.issuer),
        rp.id,
        undefined,
        rp.secret === undefined ? client.None() : client.ClientSecretBasic(rp.secret),
        { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
      );
      configs.set(rp.id, config);
    }
    return config;
  }

  /** An authorization request as the relying party builds it: PKCE S256, state and nonce. */
  async function startAuthorization(rp: DemoClient, scope: string, extra: Record<string, string> = {}): Promise<Attempt> {
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
    return { url, codeVerifier, state, nonce };
  }

  /** Exchanges the code at the redirect URL; openid-client verifies the ID token against the JWKS. */
  async function redeem(rp: DemoClient, attempt: Attempt, callback: URL) {
    return client.authorizationCodeGrant(await discover(rp), callback, {
      pkceCodeVerifier: attempt.codeVerifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      idTokenExpected: true,
    });
  }

  /** A whole sign-in: authorization request, pages, code exchange. */
  async function signIn(
    rp: DemoClient,
    scope: string,
    options: { browser?: Browser; citizen?: { id: string; password: string }; extra?: Record<string, string> } = {},
  ) {
    const browser = options.browser ?? new Browser(world.issuer);
    const citizen = options.citizen ?? BICH;
    const attempt = await startAuthorization(rp, scope, options.extra);
    const callback = await browser.signIn(attempt.url, citizen.id, citizen.password, { consent: true });
    expect(`${callback.origin}${callback.pathname}`, 'back at the redirect URI').to.equal(rp.redirectUri);
    expect(callback.searchParams.get('error'), String(callback.searchParams.get('error_description'))).to.equal(null);
    const tokens = await redeem(rp, attempt, callback);
    return { browser, attempt, callback, tokens, claims: tokens.claims()! };
  }

  /** Opens the login page of a fresh authorization request for demo-portal. */
  async function loginPage(browser: Browser, extra: Record<string, string> = {}): Promise<Page> {
    const attempt = await startAuthorization(PORTAL, 'openid profile', extra);
    const page = await browser.get(attempt.url);
    expect(page.status, 'login page').to.equal(200);
    expect(stepOf(page)).to.equal('login');
    return page;
  }

  /** Submits the login form of a page with the given fields (the page's own hidden fields kept). */
  function submitLogin(browser: Browser, page: Page, fields: Record<string, string>): Promise<Page> {
    const form = formsOf(page).find((candidate) => candidate.action.endsWith('/login'));
    if (!form) throw new Error('the page has no login form');
    return browser.submit(form, fields);
  }

  /** No code left the provider: the response is no redirect (and so carries no code anywhere). */
  function expectNoCode(page: Page): void {
    expect(page.location, 'no redirect').to.equal(undefined);
    expect(page.body).to.not.match(/[?&]code=/);
  }

  before(async function () {
    this.timeout(60_000);
    // Many tests here type a wrong password on purpose; the lock after five failures has its own
    // tests (second-factor.test.ts), so here it is set as high as configuration allows.
    world = await startTestServer({
      overrides: { signInLimits: { failuresBeforeLock: 20, firstLockSeconds: 900, maxLockSeconds: 86400, attemptsPerAddressPerMinute: 600 } },
    });
  });

  after(async function () {
    await world?.close();
  });

  describe('the code flow with PKCE', function () {
    it('signs Bích into demo-portal: ID token verified against the JWKS, with acr, amr and auth_time', async function () {
      const before = Math.floor(Date.now() / 1000) - 5;
      const { claims, tokens, attempt } = await signIn(PORTAL, 'openid profile');
      expect(claims.iss).to.equal(world.issuer);
      expect(claims.aud).to.satisfy((aud: unknown) => aud === PORTAL.id || (Array.isArray(aud) && aud.includes(PORTAL.id)));
      expect(claims.nonce).to.equal(attempt.nonce);
      expect(claims.acr).to.equal(LOA_1);
      expect(claims.amr).to.deep.equal(['pwd']);
      expect(claims.auth_time).to.be.a('number').within(before, Math.floor(Date.now() / 1000) + 5);
      expect(tokens.token_type.toLowerCase()).to.equal('bearer');
      expect(tokens.access_token).to.be.a('string').and.not.empty;
    });

    it('checks the ID token signature: a token whose signature was altered on the way is rejected', async function () {
      const config = await client.discovery(new URL(world.issuer), PORTAL.id, undefined, client.ClientSecretBasic('demo-portal-secret'), {
        execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
      });
      const tokenEndpoint = config.serverMetadata().token_endpoint!;
      // Alters one character in the middle of the ID token's signature in the token response.
      config[client.customFetch] = async (url, options) => {
        const response = await fetch(url, options);
        if (url !== tokenEndpoint || !response.ok) return response;
        const body = (await response.json()) as { id_token?: string };
        const [header, payload, signature = ''] = (body.id_token ?? '').split('.');
        const middle = Math.floor(signature.length / 2);
        const altered = `${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
        return Response.json({ ...body, id_token: `${header}.${payload}.${altered}` }, { status: response.status, headers: response.headers });
      };
      const attempt = await startAuthorization(PORTAL, 'openid');
      const callback = await new Browser(world.issuer).signIn(attempt.url, BICH.id, BICH.password);
      let refused: unknown;
      try {
        await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      } catch (error) {
        refused = error;
      }
      expect(refused, 'the altered ID token is refused').to.be.instanceOf(client.ClientError);
      expect(String(((refused as Error).cause as Error | undefined)?.message)).to.equal('JWT signature verification failed');
    });

    it("never uses the national ID (nor the account's internal id) as sub", async function () {
      const { claims } = await signIn(PORTAL, 'openid national_id');
      const account = (await world.server.container.db('accounts').where({ national_id: BICH.id }).first()) as { id: string };
      expect(claims.sub).to.be.a('string').and.not.empty;
      expect(claims.sub).to.not.include(BICH.id);
      expect(claims.sub).to.not.equal(account.id);
    });

    it('releases her registry values for profile, through userinfo', async function () {
      const { claims, tokens } = await signIn(PORTAL, 'openid profile');
      const userinfo = await client.fetchUserInfo(await discover(PORTAL), tokens.access_token, claims.sub);
      expect(userinfo).to.include({
        sub: claims.sub,
        name: 'Trần Thị Bích',
        family_name: 'Trần',
        middle_name: 'Thị',
        given_name: 'Bích',
        birthdate: '1985-07-02',
        gender: 'female',
      });
      for (const absent of ['national_id', 'address', 'phone_number', 'email', 'ethnicity', 'nationality']) {
        expect(userinfo, `${absent} was not asked for`).to.not.have.property(absent);
      }
    });

    it('releases national_id only when that scope is asked for', async function () {
      const without = await signIn(PORTAL, 'openid profile address');
      const config = await discover(PORTAL);
      const plain = await client.fetchUserInfo(config, without.tokens.access_token, without.claims.sub);
      expect(plain).to.not.have.property('national_id');
      expect(without.claims).to.not.have.property('national_id');

      const withIt = await signIn(PORTAL, 'openid national_id');
      const userinfo = await client.fetchUserInfo(config, withIt.tokens.access_token, withIt.claims.sub);
      expect(userinfo.national_id).to.equal(BICH.id);
      expect(withIt.tokens.scope?.split(' ')).to.include('national_id');
    });

    it('releases her permanent address and her phone number for address and phone', async function () {
      const { claims, tokens } = await signIn(PORTAL, 'openid address phone');
      const userinfo = await client.fetchUserInfo(await discover(PORTAL), tokens.access_token, claims.sub);
      expect(userinfo.address).to.deep.equal({
        formatted: '45 Đường Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh, Việt Nam',
        street_address: '45 Đường Lê Lợi',
        locality: 'Phường Sài Gòn',
        region: 'Thành phố Hồ Chí Minh',
        country: 'VN',
      });
      expect(userinfo.phone_number).to.equal('+84900000002');
      expect(userinfo.phone_number_verified).to.equal(true);
      expect(userinfo).to.not.have.property('name');
    });

    it('releases her identity document for identity_document, to demo-tax which is approved for it', async function () {
      const { claims, tokens } = await signIn(TAX, 'openid identity_document');
      const userinfo = await client.fetchUserInfo(await discover(TAX), tokens.access_token, claims.sub);
      expect(userinfo).to.include({ id_card_issue_date: '2021-04-01', nationality: 'VN', place_of_origin: 'TP Hồ Chí Minh' });
      expect(userinfo.id_card_expiry_date).to.match(/^\d{4}-\d{2}-\d{2}$/);
      expect(userinfo).to.not.have.property('national_id');
    });
  });

  describe('single sign-on and subjects', function () {
    it('signs into demo-tax in the same browser without asking for the password again', async function () {
      const browser = new Browser(world.issuer);
      const portal = await signIn(PORTAL, 'openid profile', { browser });
      expect(browser.lastSteps).to.include('login');

      // A wrong password proves it is never asked: the login page would refuse it.
      const tax = await signIn(TAX, 'openid profile', { browser, citizen: { id: BICH.id, password: 'not-her-password' } });
      expect(browser.lastSteps, 'pages shown for demo-tax').to.not.include('login');
      expect(tax.claims.acr).to.equal(LOA_1);
      expect(tax.claims.amr).to.deep.equal(['pwd']);
      expect(tax.claims.auth_time, 'the same sign-in').to.equal(portal.claims.auth_time);
    });

    it('gives the same citizen a different sub at demo-portal and at demo-tax', async function () {
      const browser = new Browser(world.issuer);
      const portal = await signIn(PORTAL, 'openid', { browser });
      const tax = await signIn(TAX, 'openid', { browser });
      expect(portal.claims.sub).to.not.equal(tax.claims.sub);
    });

    it('gives different subs at demo-portal and demo-spa, whose redirect URIs share a host name but not a port', async function () {
      const browser = new Browser(world.issuer);
      const portal = await signIn(PORTAL, 'openid', { browser });
      const spa = await signIn(SPA, 'openid', { browser });
      expect(portal.claims.sub).to.not.equal(spa.claims.sub);
    });

    it('keeps her sub stable across two sign-ins at one client', async function () {
      const first = await signIn(PORTAL, 'openid');
      const second = await signIn(PORTAL, 'openid');
      expect(second.claims.sub).to.equal(first.claims.sub);
    });

    it('gives different citizens different subs at one client', async function () {
      const bich = await signIn(PORTAL, 'openid');
      const an = await signIn(PORTAL, 'openid', { citizen: AN });
      expect(an.claims.sub).to.not.equal(bich.claims.sub);
    });
  });

  describe('consent', function () {
    it('is asked once: a second sign-in at the same client with the same scopes goes straight back', async function () {
      await forgetConsents(BICH);
      const browser = new Browser(world.issuer);
      await signIn(PORTAL, 'openid profile', { browser });
      expect(browser.lastSteps).to.deep.equal(['login', 'consent']);
      await signIn(PORTAL, 'openid profile', { browser });
      expect(browser.lastSteps, 'no page the second time').to.deep.equal([]);
    });

    it('asks only for what is new when a client asks for more', async function () {
      await forgetConsents(BICH);
      const browser = new Browser(world.issuer);
      await signIn(PORTAL, 'openid profile', { browser });
      await signIn(PORTAL, 'openid profile address', { browser });
      expect(browser.lastSteps).to.deep.equal(['consent']);
      const consent = browser.lastPages[0]!;
      expect(consent.body).to.include('data-scope="address"');
      expect(consent.body).to.not.include('data-scope="profile"');
    });

    it('is not asked forever for a scope the client is not approved for', async function () {
      await forgetConsents(BICH);
      const browser = new Browser(world.issuer);
      await signIn(SPA, 'openid profile national_id', { browser });
      await signIn(SPA, 'openid profile national_id', { browser });
      expect(browser.lastSteps, 'the second sign-in at demo-spa').to.deep.equal([]);
    });

    it('is asked again, with everything, under prompt=consent', async function () {
      const browser = new Browser(world.issuer);
      await signIn(PORTAL, 'openid profile', { browser });
      await signIn(PORTAL, 'openid profile', { browser, extra: { prompt: 'consent' } });
      expect(browser.lastSteps).to.deep.equal(['consent']);
      expect(browser.lastPages[0]!.body).to.include('data-scope="profile"');
    });

    it('does not let prompt=login be skipped: the password is asked again despite the session', async function () {
      const browser = new Browser(world.issuer);
      await signIn(PORTAL, 'openid', { browser });
      await signIn(PORTAL, 'openid', { browser, extra: { prompt: 'login' } });
      expect(browser.lastSteps).to.include('login');
    });
  });

  describe('scopes the client is not approved for', function () {
    it('drops national_id for demo-spa instead of failing, and says so in the token response', async function () {
      await forgetConsents(BICH);
      const browser = new Browser(world.issuer);
      const { claims, tokens, callback } = await signIn(SPA, 'openid profile national_id', { browser });
      const consent = browser.lastPages.find((page) => stepOf(page) === 'consent');
      expect(consent, 'a consent page was shown').to.not.equal(undefined);
      expect(consent!.body).to.include('data-scope="profile"');
      expect(consent!.body, 'the consent page does not offer what cannot be given').to.not.include('data-scope="national_id"');
      expect(callback.searchParams.get('code')).to.be.a('string');
      expect(tokens.scope?.split(' ').sort()).to.deep.equal(['openid', 'profile']);
      const userinfo = await client.fetchUserInfo(await discover(SPA), tokens.access_token, claims.sub);
      expect(userinfo).to.not.have.property('national_id');
      expect(userinfo.name).to.equal('Trần Thị Bích');
      expect(claims).to.not.have.property('national_id');
    });

    it('drops the sensitive ethnicity scope for demo-tax, which no administrator approved for it', async function () {
      const { claims, tokens } = await signIn(TAX, 'openid profile ethnicity');
      expect(tokens.scope?.split(' ').sort()).to.deep.equal(['openid', 'profile']);
      const userinfo = await client.fetchUserInfo(await discover(TAX), tokens.access_token, claims.sub);
      expect(userinfo).to.not.have.property('ethnicity');
    });

    it('holds the claims parameter to the same limit: national_id asked for by name is not released to demo-spa', async function () {
      const { claims, tokens } = await signIn(SPA, 'openid', {
        extra: { claims: JSON.stringify({ userinfo: { national_id: { essential: true }, name: null }, id_token: { national_id: null } }) },
      });
      expect(claims).to.not.have.property('national_id');
      const userinfo = await client.fetchUserInfo(await discover(SPA), tokens.access_token, claims.sub);
      expect(userinfo).to.not.have.property('national_id');
      expect(userinfo.name, 'an approved claim asked for by name').to.equal('Trần Thị Bích');
    });
  });

  describe('refresh tokens', function () {
    it('issues a refresh token for offline_access with prompt=consent', async function () {
      const { tokens } = await signIn(PORTAL, 'openid offline_access', { extra: { prompt: 'consent' } });
      expect(tokens.refresh_token).to.be.a('string').and.not.empty;
      expect(tokens.scope?.split(' ')).to.include('offline_access');
    });

    it('gives no refresh token for offline_access without prompt=consent', async function () {
      const { tokens } = await signIn(PORTAL, 'openid offline_access');
      expect(tokens.refresh_token).to.equal(undefined);
      expect(tokens.scope?.split(' ') ?? []).to.not.include('offline_access');
    });

    it('rotates the refresh token on use; reusing the old one is refused and revokes the grant', async function () {
      const config = await discover(PORTAL);
      const { tokens } = await signIn(PORTAL, 'openid offline_access', { extra: { prompt: 'consent' } });
      const first = tokens.refresh_token!;

      const refreshed = await client.refreshTokenGrant(config, first);
      expect(refreshed.refresh_token, 'a new refresh token').to.be.a('string').and.not.equal(first);
      expect(refreshed.access_token).to.be.a('string').and.not.equal(tokens.access_token);
      const second = refreshed.refresh_token!;
      const refreshedIdToken = refreshed.claims();
      expect(refreshedIdToken, 'an ID token from the refresh').to.not.equal(undefined);
      expect(refreshedIdToken).to.include({ acr: LOA_1, auth_time: tokens.claims()!.auth_time });
      expect(refreshedIdToken!.amr).to.deep.equal(['pwd']);

      expect(await oauthFailure(client.refreshTokenGrant(config, first)), 'reusing the rotated token').to.deep.equal({
        error: 'invalid_grant',
        status: 400,
      });
      expect(await oauthFailure(client.refreshTokenGrant(config, second)), 'the new token went with the grant').to.deep.equal({
        error: 'invalid_grant',
        status: 400,
      });
      expect((await client.tokenIntrospection(config, refreshed.access_token)).active, 'access token of the revoked grant').to.equal(false);
      expect((await client.tokenIntrospection(config, tokens.access_token)).active, "the code's access token").to.equal(false);
    });

    it('lets at most one of three concurrent uses of a refresh token through', async function () {
      const config = await discover(PORTAL);
      const { tokens } = await signIn(PORTAL, 'openid offline_access', { extra: { prompt: 'consent' } });
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => client.refreshTokenGrant(config, tokens.refresh_token!)));
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      expect(won, 'exactly one refresh succeeds').to.have.length.at.most(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          expect(await oauthFailure(Promise.reject(outcome.reason as Error))).to.deep.equal({ error: 'invalid_grant', status: 400 });
        }
      }
    });
  });

  describe('failed sign-ins', function () {
    it('shows the login page again with an alert for a wrong password, and issues no code', async function () {
      const browser = new Browser(world.issuer);
      const page = await submitLogin(browser, await loginPage(browser), { username: BICH.id, password: 'Wrong#Demo2026' });
      expect(page.status).to.equal(401);
      expect(stepOf(page), 'the login page again').to.equal('login');
      expect(hasElementWithRoleAlert(page)).to.equal(true);
      expect(alertsOf(page)[0]).to.be.a('string').and.not.empty;
      expectNoCode(page);
    });

    it('lets her correct a wrong password on the same page and continue', async function () {
      const browser = new Browser(world.issuer);
      const wrong = await submitLogin(browser, await loginPage(browser), { username: BICH.id, password: 'Wrong#Demo2026' });
      expect(wrong.status).to.equal(401);
      const next = await submitLogin(browser, wrong, { username: BICH.id, password: BICH.password });
      expect(stepOf(next), 'on to consent').to.equal('consent');
    });

    it('answers an unknown ID number with exactly the wrong-password message', async function () {
      const browser = new Browser(world.issuer);
      const wrong = await submitLogin(browser, await loginPage(browser), { username: AN.id, password: 'Wrong#Demo2026' });
      for (const unknown of [HA_NO_ACCOUNT, NOBODY]) {
        const page = await submitLogin(browser, await loginPage(browser), { username: unknown, password: 'Wrong#Demo2026' });
        expect(page.status, unknown).to.equal(wrong.status);
        expect(stepOf(page), unknown).to.equal('login');
        expect(rawAlert(page), `alert for ${unknown}`).to.equal(rawAlert(wrong));
        expect(alertsOf(page), unknown).to.deep.equal(alertsOf(wrong));
        expectNoCode(page);
      }
    });

    it('refuses the deceased citizen even with the right password, issuing no code', async function () {
      const browser = new Browser(world.issuer);
      const page = await submitLogin(browser, await loginPage(browser), { username: TUNG_DECEASED.id, password: TUNG_DECEASED.password });
      expect(page.status).to.equal(403);
      expect(hasElementWithRoleAlert(page)).to.equal(true);
      expect(alertsOf(page)[0]).to.not.equal(
        alertsOf(await submitLogin(browser, await loginPage(browser), { username: AN.id, password: 'Wrong#Demo2026' }))[0],
        'a refusal, not a wrong password',
      );
      expectNoCode(page);
    });

    it('answers the deceased citizen with a wrong password exactly as anyone with a wrong password', async function () {
      const browser = new Browser(world.issuer);
      const wrong = await submitLogin(browser, await loginPage(browser), { username: AN.id, password: 'Wrong#Demo2026' });
      const page = await submitLogin(browser, await loginPage(browser), { username: TUNG_DECEASED.id, password: 'Wrong#Demo2026' });
      expect(page.status).to.equal(wrong.status);
      expect(rawAlert(page)).to.equal(rawAlert(wrong));
    });

    it('sends access_denied to the client when she refuses consent, with no code', async function () {
      const attempt = await startAuthorization(PORTAL, 'openid profile', { prompt: 'consent' });
      const callback = await new Browser(world.issuer).signIn(attempt.url, BICH.id, BICH.password, { consent: false });
      expect(`${callback.origin}${callback.pathname}`).to.equal(PORTAL.redirectUri);
      expect(callback.searchParams.get('error')).to.equal('access_denied');
      expect(callback.searchParams.get('state')).to.equal(attempt.state);
      expect(callback.searchParams.has('code')).to.equal(false);
    });
  });

  describe('the authorization endpoint', function () {
    it('answers an unregistered redirect URI with an HTML error page, never a redirect', async function () {
      const attempt = await startAuthorization(PORTAL, 'openid', { redirect_uri: 'http://localhost:4000/elsewhere' });
      const page = await new Browser(world.issuer).fetch(attempt.url);
      expect(page.status).to.be.within(400, 499);
      expect(page.location).to.equal(undefined);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect(page.body).to.include('redirect_uri');
      expect(page.body).to.not.match(/[?&]code=/);
    });

    it('refuses a request without PKCE: invalid_request at the redirect URI, no code', async function () {
      const config = await discover(PORTAL);
      const url = client.buildAuthorizationUrl(config, { redirect_uri: PORTAL.redirectUri, scope: 'openid', state: 'no-pkce' });
      const page = await new Browser(world.issuer).fetch(url);
      expect(page.status).to.equal(303);
      const location = new URL(page.location!);
      expect(`${location.origin}${location.pathname}`).to.equal(PORTAL.redirectUri);
      expect(location.searchParams.get('error')).to.equal('invalid_request');
      expect(location.searchParams.get('error_description')).to.match(/PKCE/i);
      expect(location.searchParams.get('state')).to.equal('no-pkce');
      expect(location.searchParams.get('iss')).to.equal(world.issuer);
      expect(location.searchParams.has('code')).to.equal(false);
    });

    it('refuses code_challenge_method=plain: invalid_request at the redirect URI, no code', async function () {
      const config = await discover(PORTAL);
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: PORTAL.redirectUri,
        scope: 'openid',
        state: 'plain-pkce',
        code_challenge: verifier,
        code_challenge_method: 'plain',
      });
      const page = await new Browser(world.issuer).fetch(url);
      expect(page.status).to.equal(303);
      const location = new URL(page.location!);
      expect(`${location.origin}${location.pathname}`).to.equal(PORTAL.redirectUri);
      expect(location.searchParams.get('error')).to.equal('invalid_request');
      expect(location.searchParams.get('error_description')).to.match(/code_challenge_method/);
      expect(location.searchParams.get('state')).to.equal('plain-pkce');
      expect(location.searchParams.has('code')).to.equal(false);
    });
  });

  describe('the end-session endpoint', function () {
    it('answers a post-logout redirect URI it does not know with a page about signing out, not about signing in', async function () {
      const url = new URL(`${world.issuer}/session/end`);
      url.searchParams.set('client_id', PORTAL.id);
      url.searchParams.set('post_logout_redirect_uri', 'http://localhost:4000/elsewhere');
      url.searchParams.set('lang', 'en');
      const page = await new Browser(world.issuer).fetch(url.href, { headers: { accept: 'text/html' } });
      expect(page.status).to.be.within(400, 499);
      expect(page.location).to.equal(undefined);
      expect(page.body).to.include('This sign-out request cannot be completed.');
      expect(page.body).to.not.include('This sign-in request cannot be completed.');
    });
  });

  describe('authorization codes', function () {
    it('work once; a replay is refused and revokes the access token the code issued', async function () {
      const config = await discover(PORTAL);
      const { attempt, callback, tokens } = await signIn(PORTAL, 'openid profile');
      expect((await client.tokenIntrospection(config, tokens.access_token)).active, 'before the replay').to.equal(true);

      expect(await oauthFailure(redeem(PORTAL, attempt, callback))).to.deep.equal({ error: 'invalid_grant', status: 400 });

      expect((await client.tokenIntrospection(config, tokens.access_token)).active, 'after the replay').to.equal(false);
      expect(await oauthFailure(client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck))).to.deep.equal({
        error: 'invalid_token',
        status: 401,
      });
    });

    it('replayed, revoke the refresh token the code issued too', async function () {
      const config = await discover(PORTAL);
      const { attempt, callback, tokens } = await signIn(PORTAL, 'openid offline_access', { extra: { prompt: 'consent' } });
      expect(tokens.refresh_token).to.be.a('string');
      expect(await oauthFailure(redeem(PORTAL, attempt, callback))).to.deep.equal({ error: 'invalid_grant', status: 400 });
      expect(await oauthFailure(client.refreshTokenGrant(config, tokens.refresh_token!))).to.deep.equal({ error: 'invalid_grant', status: 400 });
    });

    it('redeemed concurrently, work at most once and never fail with a server error', async function () {
      const browser = new Browser(world.issuer);
      const attempt = await startAuthorization(PORTAL, 'openid');
      const callback = await browser.signIn(attempt.url, BICH.id, BICH.password);
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => redeem(PORTAL, attempt, callback)));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled'), 'successful redemptions').to.have.length.at.most(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          expect(await oauthFailure(Promise.reject(outcome.reason as Error))).to.deep.equal({ error: 'invalid_grant', status: 400 });
        }
      }
    });
  });

  describe('hostile input at the login form', function () {
    const SCRIPT = '<script>alert(1)</script>';
    const hostile: [string, Record<string, string>][] = [
      ['SQL-like username', { username: "' OR 1=1 --", password: 'x' }],
      ['SQL-like password', { username: BICH.id, password: "' OR 1=1 --" }],
      ['SQL-like both', { username: "079185000123' OR '1'='1", password: "'; DROP TABLE accounts; --" }],
      ['100 kB username', { username: '7'.repeat(100 * 1024), password: 'x' }],
      ['100 kB password', { username: BICH.id, password: 'p'.repeat(100 * 1024) }],
      ['60 kB username (under the body limit)', { username: `${SCRIPT}${'9'.repeat(60 * 1024)}`, password: 'x' }],
      ['60 kB password (under the body limit)', { username: BICH.id, password: `${SCRIPT}${'p'.repeat(60 * 1024)}` }],
      ['control characters', { username: `0791850\u0000\u0007\u001b[2J00123\r\n`, password: `Bich#Demo2026\u0000\u0008\u007f` }],
      ['script in the username', { username: SCRIPT, password: SCRIPT }],
      ['script in a 12-digit-looking username', { username: `079185000123${SCRIPT}`, password: 'x' }],
      ['script in the language field', { username: BICH.id, password: 'x', lang: `"><${SCRIPT}` }],
    ];
    for (const [what, fields] of hostile) {
      it(`never answers ${what} with a 5xx or with the input reflected unescaped`, async function () {
        const browser = new Browser(world.issuer);
        const page = await submitLogin(browser, await loginPage(browser), fields);
        expect(page.status, `HTTP status for ${what}`).to.be.within(400, 499);
        expectNoCode(page);
        expect(page.body).to.not.include(SCRIPT);
        // Our own scripts (served from /assets, allowed by the CSP) are the only script elements.
        expect(withoutOwnScripts(page.body)).to.not.include('<script');
        expect(page.body).to.not.include("' OR 1=1");
        expect(page.body).to.not.include('\u0000');
        expect(page.body).to.not.include('\u001b');
        if (page.status !== 413) expect(hasElementWithRoleAlert(page), 'an alert says what is wrong').to.equal(true);

        // Nothing broke: the citizen can still sign in, on the page she was given when it has the form.
        const retryFrom = stepOf(page) === 'login' ? page : await loginPage(browser);
        const retry = await submitLogin(browser, retryFrom, { username: BICH.id, password: BICH.password });
        expect(stepOf(retry), 'a normal sign-in after the hostile one reaches consent').to.equal('consent');
      });
    }

    it('answers malformed bodies (bad percent-encoding, invalid UTF-8, JSON, multipart) with a 4xx page', async function () {
      const browser = new Browser(world.issuer);
      const page = await loginPage(browser);
      const action = formsOf(page).find((form) => form.action.endsWith('/login'))!.action;
      const bodies: [string, string][] = [
        ['application/x-www-form-urlencoded', 'username=%E0%A4%A&password=%FF%FE%00%'],
        ['application/x-www-form-urlencoded', 'username=079185000123&username=<script>&password=x&password=y'],
        ['application/json', JSON.stringify({ username: BICH.id, password: BICH.password })],
        ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="username"\r\n\r\n${BICH.id}\r\n--x--\r\n`],
        ['text/plain', '<script>alert(1)</script>'],
      ];
      for (const [type, body] of bodies) {
        const answer = await browser.fetch(action, { method: 'POST', body, headers: { 'content-type': type } });
        expect(answer.status, `${type}: ${body}`).to.be.within(400, 499);
        expect(withoutOwnScripts(answer.body)).to.not.include('<script');
        expectNoCode(answer);
      }
    });

    it('never reflects HTML from the authorization request (login_hint, ui_locales) unescaped', async function () {
      const SCRIPT_HINT = '<script>alert(1)</script>';
      const browser = new Browser(world.issuer);
      const attempt = await startAuthorization(PORTAL, 'openid', { login_hint: SCRIPT_HINT, ui_locales: `en ${SCRIPT_HINT}` });
      const page = await browser.get(attempt.url);
      expect(page.status).to.equal(200);
      expect(page.body).to.not.include(SCRIPT_HINT);
      expect(withoutOwnScripts(page.body)).to.not.include('<script');
    });

    it('never reflects HTML from a rejected redirect_uri in the error page', async function () {
      const attempt = await startAuthorization(PORTAL, 'openid', { redirect_uri: 'http://localhost:4000/"><script>alert(1)</script>' });
      const page = await new Browser(world.issuer).fetch(attempt.url);
      expect(page.status).to.be.within(400, 499);
      expect(page.location).to.equal(undefined);
      expect(page.body).to.not.include('<script');
    });
  });

  describe('interactions', function () {
    it('are bound to the browser that started them: another browser gets the expired page, no code', async function () {
      const page = await loginPage(new Browser(world.issuer));
      const stranger = new Browser(world.issuer);
      const shown = await stranger.get(page.url);
      expect(shown.status).to.equal(400);
      expect(stepOf(shown)).to.equal(undefined);
      expect(hasElementWithRoleAlert(shown)).to.equal(true);
      const posted = await submitLogin(stranger, page, { username: BICH.id, password: BICH.password });
      expect(posted.status).to.equal(400);
      expectNoCode(posted);
    });

    it('answers prompt=none for a client she never agreed to with consent_required', async function () {
      await forgetConsents(BICH);
      const browser = new Browser(world.issuer);
      await signIn(PORTAL, 'openid', { browser });
      const silent = await startAuthorization(TAX, 'openid', { prompt: 'none' });
      const answer = await browser.get(silent.url);
      const callback = new URL(answer.location!);
      expect(`${callback.origin}${callback.pathname}`).to.equal(TAX.redirectUri);
      expect(callback.searchParams.get('error')).to.equal('consent_required');
      expect(callback.searchParams.has('code')).to.equal(false);
    });
  });

  describe('RP-initiated logout', function () {
    it('ends the session after confirmation; prompt=none then gets login_required', async function () {
      const browser = new Browser(world.issuer);
      const { tokens } = await signIn(PORTAL, 'openid', { browser });
      const config = await discover(PORTAL);

      const endSession = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: PORTAL_POST_LOGOUT,
        state: 'bye',
      });
      const confirmation = await browser.get(endSession);
      expect(confirmation.status).to.equal(200);
      expect(confirmation.headers.get('content-type')).to.match(/^text\/html/);
      const form = formsOf(confirmation).find((candidate) => candidate.fields.xsrf !== undefined);
      expect(form, 'the confirmation form with its xsrf field').to.not.equal(undefined);
      expect(form!.method).to.equal('post');

      const done = await browser.submit(form!, { logout: 'yes' });
      expect(done.status).to.be.within(300, 399);
      const back = new URL(done.location!);
      expect(`${back.origin}${back.pathname}`).to.equal(PORTAL_POST_LOGOUT);
      expect(back.searchParams.get('state')).to.equal('bye');

      const silent = await startAuthorization(PORTAL, 'openid', { prompt: 'none' });
      const answer = await browser.get(silent.url);
      expect(answer.status).to.be.within(300, 399);
      const callback = new URL(answer.location!);
      expect(`${callback.origin}${callback.pathname}`).to.equal(PORTAL.redirectUri);
      expect(callback.searchParams.get('error')).to.equal('login_required');
      expect(callback.searchParams.has('code')).to.equal(false);

      // The whole session ended, not only demo-portal's part of it.
      const elsewhere = await browser.get((await startAuthorization(TAX, 'openid', { prompt: 'none' })).url);
      expect(new URL(elsewhere.location!).searchParams.get('error'), 'demo-tax, prompt=none').to.equal('login_required');
    });

    it('refuses a logout confirmation without its xsrf token, and keeps the session', async function () {
      const browser = new Browser(world.issuer);
      const { tokens } = await signIn(PORTAL, 'openid', { browser });
      const endSession = client.buildEndSessionUrl(await discover(PORTAL), { id_token_hint: tokens.id_token!, post_logout_redirect_uri: PORTAL_POST_LOGOUT });
      const form = formsOf(await browser.get(endSession)).find((candidate) => candidate.fields.xsrf !== undefined)!;
      const forged = await browser.postForm(form.action, { logout: 'yes', xsrf: 'forged' });
      expect(forged.status).to.be.within(400, 499);
      expect(forged.location).to.equal(undefined);

      const silent = await startAuthorization(PORTAL, 'openid', { prompt: 'none' });
      const callback = new URL((await browser.get(silent.url)).location!);
      expect(callback.searchParams.get('error'), 'still signed in').to.equal(null);
      expect(callback.searchParams.get('code')).to.be.a('string');
    });

    it('without logging out, prompt=none signs her in silently (the control for the test above)', async function () {
      const browser = new Browser(world.issuer);
      await signIn(PORTAL, 'openid', { browser });
      const silent = await startAuthorization(PORTAL, 'openid', { prompt: 'none' });
      const answer = await browser.get(silent.url);
      const callback = new URL(answer.location!);
      expect(callback.searchParams.get('error')).to.equal(null);
      expect(callback.searchParams.get('code')).to.be.a('string');
    });
  });

  describe('the pages', function () {
    it('serve the login page with a strict CSP, anti-framing, no caching and nosniff', async function () {
      const page = await loginPage(new Browser(world.issuer));
      const csp = page.headers.get('content-security-policy') ?? '';
      const directives = new Map(
        csp
          .split(';')
          .map((directive) => directive.trim().split(/\s+/))
          .map(([name = '', ...values]) => [name.toLowerCase(), values] as const),
      );
      expect(directives.get('script-src'), csp).to.deep.equal(["'self'"]);
      expect(directives.get('frame-ancestors'), csp).to.deep.equal(["'none'"]);
      expect(page.headers.get('x-frame-options')).to.equal('DENY');
      expect(page.headers.get('cache-control')).to.include('no-store');
      expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
    });

    it('serve the consent page with the same headers', async function () {
      const browser = new Browser(world.issuer);
      const attempt = await startAuthorization(PORTAL, 'openid profile', { prompt: 'consent' });
      const login = await browser.get(attempt.url);
      const consent = await submitLogin(browser, login, { username: BICH.id, password: BICH.password });
      expect(stepOf(consent)).to.equal('consent');
      expect(consent.headers.get('content-security-policy')).to.include("script-src 'self'").and.include("frame-ancestors 'none'");
      expect(consent.headers.get('x-frame-options')).to.equal('DENY');
      expect(consent.headers.get('cache-control')).to.include('no-store');
      expect(consent.headers.get('x-content-type-options')).to.equal('nosniff');
    });

    it('are in Vietnamese by default', async function () {
      const page = await loginPage(new Browser(world.issuer));
      expect(page.body).to.match(/<html lang="vi"/);
    });

    it('are in English with ?lang=en', async function () {
      const browser = new Browser(world.issuer);
      const page = await loginPage(browser);
      const english = await browser.get(`${page.url}?lang=en`);
      expect(english.status).to.equal(200);
      expect(english.body).to.match(/<html lang="en"/);

      const consent = await submitLogin(browser, english, { username: BICH.id, password: BICH.password });
      expect(stepOf(consent)).to.equal('consent');
      expect(consent.body, 'the consent page keeps the choice').to.match(/<html lang="en"/);
    });

    it('are in English when the client asks with ui_locales=en', async function () {
      const page = await loginPage(new Browser(world.issuer), { ui_locales: 'en' });
      expect(page.body).to.match(/<html lang="en"/);
    });

    it('keep the chosen language when the login form comes back with an error', async function () {
      const browser = new Browser(world.issuer);
      const vietnamese = await submitLogin(browser, await loginPage(browser), { username: AN.id, password: 'Wrong#Demo2026' });
      const page = await loginPage(browser);
      const english = await browser.get(`${page.url}?lang=en`);
      const wrong = await submitLogin(browser, english, { username: AN.id, password: 'Wrong#Demo2026' });
      expect(wrong.status).to.equal(401);
      expect(wrong.body).to.match(/<html lang="en"/);
      expect(alertsOf(wrong)[0]).to.be.a('string').and.not.equal(alertsOf(vietnamese)[0]);
    });

    it('serve the error page with the same headers', async function () {
      const attempt = await startAuthorization(PORTAL, 'openid', { redirect_uri: 'http://localhost:4000/elsewhere' });
      const page = await new Browser(world.issuer).fetch(attempt.url);
      expect(page.headers.get('content-security-policy')).to.include("script-src 'self'").and.include("frame-ancestors 'none'");
      expect(page.headers.get('x-frame-options')).to.equal('DENY');
      expect(page.headers.get('cache-control')).to.include('no-store');
      expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(page.body).to.match(/<html lang="vi"/);
    });

    it('serve the logout confirmation page with the same headers', async function () {
      const browser = new Browser(world.issuer);
      const { tokens } = await signIn(PORTAL, 'openid', { browser });
      const endSession = client.buildEndSessionUrl(await discover(PORTAL), { id_token_hint: tokens.id_token!, post_logout_redirect_uri: PORTAL_POST_LOGOUT });
      const page = await browser.get(endSession);
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-security-policy')).to.include("script-src 'self'").and.include("frame-ancestors 'none'");
      expect(page.headers.get('x-frame-options')).to.equal('DENY');
      expect(page.headers.get('cache-control')).to.include('no-store');
      expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(page.body).to.match(/<html lang="vi"/);
    });
  });

  describe('the audit trail', function () {
    it('records the release of claims to demo-portal by name, without the values, and the consent', async function () {
      const since = new Date(Date.now() - 1000);
      const { claims, tokens } = await signIn(PORTAL, 'openid profile national_id address');
      await client.fetchUserInfo(await discover(PORTAL), tokens.access_token, claims.sub);
      await world.server.container.audit.flush();

      const account = (await world.server.container.db('accounts').where({ national_id: BICH.id }).first()) as { id: string };
      const released = (await world.server.container.db('audit_events')
        .where({ type: 'claims.released', client_id: PORTAL.id, account_id: account.id })
        .andWhere('occurred_at', '>=', since)) as { data: { use?: string; claims?: string[] } }[];
      const userinfoRelease = released.find((row) => row.data.use === 'userinfo');
      expect(userinfoRelease, `claims.released rows: ${JSON.stringify(released)}`).to.not.equal(undefined);
      expect(userinfoRelease!.data.claims).to.include.members(['name', 'family_name', 'given_name', 'birthdate', 'gender', 'national_id', 'address']);
      for (const row of released) {
        const text = JSON.stringify(row.data);
        for (const value of [BICH.id, 'Trần', 'Bích', '1985-07-02', 'Lê Lợi', '+8490']) {
          expect(text, 'no claim value in the audit event').to.not.include(value);
        }
      }

      const consents = (await world.server.container.db('audit_events')
        .where({ type: 'consent.given', client_id: PORTAL.id, account_id: account.id })
        .andWhere('occurred_at', '>=', since)) as { data: { scopes?: string[] } }[];
      expect(consents, 'consent.given').to.have.length.at.least(1);
      expect(consents.at(-1)!.data.scopes).to.include.members(['profile', 'national_id', 'address']);
    });

    it('records failed sign-ins, and never a password, anywhere in the trail', async function () {
      const browser = new Browser(world.issuer);
      const since = new Date(Date.now() - 1000);
      await submitLogin(browser, await loginPage(browser), { username: BICH.id, password: 'Wrong#Audit2026' });
      await world.server.container.audit.flush();
      const failed = (await world.server.container.db('audit_events')
        .where({ type: 'signin.failed' })
        .andWhere('occurred_at', '>=', since)) as { account_id: string | null; data: unknown }[];
      expect(failed, 'signin.failed').to.have.length.at.least(1);
      const everything = JSON.stringify(await world.server.container.db('audit_events').select('*'));
      for (const password of ['Wrong#Audit2026', 'Wrong#Demo2026', BICH.password, AN.password, TUNG_DECEASED.password]) {
        expect(everything, 'a password in the audit trail').to.not.include(password);
      }
    });
  });
});
