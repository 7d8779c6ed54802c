// Idle and absolute session lifetimes (sessions.idleSeconds, sessions.absoluteSeconds), end to end
// with openid-client: single sign-on while the session is in use, a new sign-in once it has been idle
// too long or has reached its absolute end however busy it was; the store forgets it by then; the
// account page ends with it. Lifetimes of a few seconds keep the waits short.
import { expect } from 'chai';
import * as client from 'openid-client';
import { Browser, formsOf, stepOf, type Page } from '../support/browserless.ts';
import { startTestServer } from '../support/world.ts';
import { sessionTtlSeconds, pastAbsoluteLifetime } from '../../src/oidc/sessions/session-lifetime.ts';

const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const redirectError = (page: Page) => (page.location ? new URL(page.location).searchParams.get('error') : `no redirect (HTTP ${page.status})`);
const hasCode = (page: Page) => Boolean(page.location && new URL(page.location).searchParams.get('code'));

/** A test server with the given lifetimes, and the demo portal as an openid-client relying party. */
async function portalWorld(sessions: { idleSeconds: number; absoluteSeconds: number }) {
  const world = await startTestServer({ overrides: { sessions } });
  const config = await client.discovery(new URL(world.issuer), PORTAL.id, undefined, client.ClientSecretBasic(PORTAL.secret), {
    execute: [client.allowInsecureRequests],
  });
  const authorize = async (extra: Record<string, string> = {}) => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: PORTAL.redirectUri,
      scope: 'openid profile',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    return { url, verifier, state };
  };
  /** A browser signed in to the portal; `authTime` from its ID token, `savedBy` when the sign-in ended (ms). */
  const signIn = async () => {
    const browser = new Browser(world.issuer);
    const attempt = await authorize();
    const callback = await browser.signIn(attempt.url, BICH.id, BICH.password);
    const savedBy = Date.now();
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
    return { browser, authTime: tokens.claims()!.auth_time!, savedBy };
  };
  /** prompt=none from the browser: true for a code (single sign-on), else the error. */
  const silent = async (browser: Browser) => {
    const page = await browser.get((await authorize({ prompt: 'none' })).url);
    return hasCode(page) ? true : redirectError(page);
  };
  /** The expiry (epoch seconds) of each of Bích's sessions the store still holds. */
  const storedExpiries = async () => {
    const { accounts, ephemeralModels } = world.server.container;
    const accountId = (await accounts.findByNationalId(BICH.id))!.id;
    const sessions = await Promise.all((await ephemeralModels.sessionIdsOfAccount(accountId)).map((id) => ephemeralModels.find('Session', id)));
    return sessions.flatMap((session) => (session?.accountId === accountId && typeof session.exp === 'number' ? [session.exp] : []));
  };
  return { world, authorize, signIn, silent, storedExpiries };
}

describe('session lifetimes', function () {
  this.timeout(60_000);

  describe('the lifetime arithmetic', () => {
    const lifetimes = { idleSeconds: 1800, absoluteSeconds: 43_200 };

    it('keeps a session for the idle lifetime while much of its absolute one remains', () => {
      expect(sessionTtlSeconds(lifetimes, 1_000_000, 1_000_000 + 60)).to.equal(1800);
    });

    it('never keeps it past its absolute end', () => {
      expect(sessionTtlSeconds(lifetimes, 1_000_000, 1_000_000 + 43_200 - 100)).to.equal(100);
      expect(sessionTtlSeconds(lifetimes, 1_000_000, 1_000_000 + 43_200 + 5)).to.equal(1);
    });

    it('gives a session nobody signed in to yet the idle lifetime', () => {
      expect(sessionTtlSeconds(lifetimes, undefined, 1_000_000)).to.equal(1800);
    });

    it('calls a sign-in old from its absolute lifetime on, not before', () => {
      expect(pastAbsoluteLifetime(lifetimes, 1_000_000, 1_000_000 + 43_199)).to.equal(false);
      expect(pastAbsoluteLifetime(lifetimes, 1_000_000, 1_000_000 + 43_200)).to.equal(true);
      expect(pastAbsoluteLifetime(lifetimes, undefined, 1_000_000)).to.equal(false);
    });
  });

  describe('idle lifetime (2 s; absolute 1 h)', () => {
    let portal: Awaited<ReturnType<typeof portalWorld>>;
    before(async () => {
      portal = await portalWorld({ idleSeconds: 2, absoluteSeconds: 3600 });
    });
    after(() => portal?.world.close());

    it('single sign-on within the idle lifetime, and each use starts it again', async () => {
      const { browser, savedBy } = await portal.signIn();
      await sleep(1200);
      expect(await portal.silent(browser)).to.equal(true);
      // Past the idle lifetime since the sign-in, within it since the last use.
      await sleep(Math.max(0, savedBy + 2400 - Date.now()));
      expect(await portal.silent(browser)).to.equal(true);
    });

    it('idle longer than the lifetime: login_required with prompt=none, the password without', async () => {
      const { browser } = await portal.signIn();
      await sleep(2600);
      expect(await portal.silent(browser)).to.equal('login_required');
      const page = await browser.get((await portal.authorize()).url);
      expect(stepOf(page)).to.equal('login');
      const next = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/login'))!, { username: BICH.id, password: BICH.password });
      const done = stepOf(next) === 'consent' ? await browser.submit(formsOf(next).find((form) => form.action.endsWith('/consent'))!) : next;
      expect(hasCode(done)).to.equal(true);
    });

    it("ends the account page's own session with it", async () => {
      const browser = new Browser(portal.world.issuer);
      let page = await browser.get(`${portal.world.issuer}/account`);
      expect(stepOf(page)).to.equal('login');
      page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/login'))!, { username: BICH.id, password: BICH.password });
      expect(new URL(page.url).pathname).to.equal('/account');
      expect(page.status).to.equal(200);
      await sleep(2600);
      // The console's own session (15 minutes idle) would still be there; the provider session is not.
      expect(stepOf(await browser.get(`${portal.world.issuer}/account`))).to.equal('login');
    });
  });

  describe('absolute lifetime (3 s; idle 2 s)', () => {
    let portal: Awaited<ReturnType<typeof portalWorld>>;
    before(async () => {
      portal = await portalWorld({ idleSeconds: 2, absoluteSeconds: 3 });
    });
    after(() => portal?.world.close());

    it('asks for a new sign-in at its end even though the session is used all along, and the store never keeps it longer', async () => {
      const { browser, authTime } = await portal.signIn();
      const end = (authTime + 3) * 1000;
      const outcomes: { at: number; outcome: true | string | null }[] = [];
      // Used every 0.6 s, well within the idle lifetime, until just past the absolute end.
      while (Date.now() < end + 150) {
        await sleep(Math.min(600, Math.max(0, end + 150 - Date.now())));
        const at = Date.now();
        const outcome = await portal.silent(browser);
        outcomes.push({ at, outcome });
        if (outcome === true) {
          for (const exp of await portal.storedExpiries()) expect(exp, 'stored session expiry').to.be.at.most(authTime + 3);
        }
      }
      const before = outcomes.filter((entry) => entry.at < end - 100);
      expect(before.length, 'uses before the end').to.be.at.least(2);
      expect(before.every((entry) => entry.outcome === true), JSON.stringify(outcomes)).to.equal(true);
      expect(outcomes.at(-1)!.outcome).to.equal('login_required');
      expect(stepOf(await browser.get((await portal.authorize()).url))).to.equal('login');
    });
  });
});
