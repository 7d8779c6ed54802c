// Level 2 and brute force, end to end: acr_values leads a level-2 account to the second-factor
// page (field `otp`), a password-only session is stepped up without the password, a level-1 account
// gets unmet_authentication_requirements, and failures lock the submitted ID number — the same way
// whether or not it has an account, across two instances sharing Redis.
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import * as client from 'openid-client';
import { Browser, alertsOf, decodeEntities, formsOf, stepOf, type Page } from '../support/browserless.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { passkeyCreationOptions, relyingPartyOf, registerPasskey } from '../../src/accounts/second-factors.ts';
import { PostgresAccountStore } from '../../src/accounts/account-store-postgres.ts';
import { OutboxNotifier } from '../../src/accounts/notifier.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { currentTotp, newTotpSecret } from '../../src/accounts/totp.ts';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';

const LOA_1 = 'urn:vn:eid:loa:1';
const LOA_2 = 'urn:vn:eid:loa:2';
const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };

describe('level 2, step-up and brute force (end to end)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let portal: client.Configuration;

  before(async () => {
    world = await startTestServer({
      overrides: { signInLimits: { failuresBeforeLock: 5, firstLockSeconds: 900, maxLockSeconds: 86400, attemptsPerAddressPerMinute: 600 } },
    });
    portal = await client.discovery(new URL(world.issuer), PORTAL.id, undefined, client.ClientSecretBasic(PORTAL.secret), {
      execute: [client.allowInsecureRequests],
    });
  });
  after(() => world?.close());

  /**
   * A fresh level-2 citizen with a TOTP secret of their own: a TOTP code can be used once per
   * 30-second step and account, so each test that signs in at level 2 gets its own person.
   */
  async function levelTwoCitizen(options: { level?: 1 | 2; totp?: boolean } = {}) {
    const template = DEMO_CITIZENS[0]!.record;
    const nationalId = `0010990${String(randomInt(0, 100_000)).padStart(5, '0')}`;
    const secret = newTotpSecret();
    const { container } = world.server;
    await container.registry.upsert({ ...template, nationalId, fullName: 'Vũ Quang Huy' });
    await container.accounts.enrol({
      nationalId,
      level: options.level ?? 2,
      passwordHash: await container.passwords.hash('Huy#Test-2026'),
      totpSecretSealed: options.totp === false ? null : container.sealer.seal(secret, `totp:${nationalId}`),
      phoneNumber: null,
      phoneNumberVerified: false,
      email: null,
      emailVerified: false,
    });
    return { id: nationalId, password: 'Huy#Test-2026', secret };
  }

  async function authorize(extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: PORTAL.redirectUri,
      scope: 'openid profile',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    return { url, verifier, state };
  }

  async function tokensFor(attempt: { verifier: string; state: string }, callback: URL) {
    const tokens = await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
    return tokens.claims()!;
  }

  function submit(browser: Browser, page: Page, action: string, fields: Record<string, string>) {
    const form = formsOf(page).find((candidate) => candidate.action.endsWith(`/${action}`));
    if (!form) throw new Error(`no ${action} form on the page`);
    return browser.submit(form, fields);
  }

  it('asks a level-2 account for its second factor when acr_values asks for level 2, and says so in acr and amr', async () => {
    const citizen = await levelTwoCitizen();
    const browser = new Browser(world.issuer);
    const attempt = await authorize({ acr_values: LOA_2 });
    const callback = await browser.signIn(attempt.url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
    expect(browser.lastSteps).to.deep.equal(['login', 'otp', 'consent']);
    const claims = await tokensFor(attempt, callback);
    expect(claims.acr).to.equal(LOA_2);
    expect(claims.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
  });

  it('names the second-factor field otp, and refuses a wrong code with an alert', async () => {
    const citizen = await levelTwoCitizen();
    const browser = new Browser(world.issuer);
    const attempt = await authorize({ acr_values: LOA_2 });
    const login = await browser.get(attempt.url);
    const otpPage = await submit(browser, login, 'login', { username: citizen.id, password: citizen.password });
    expect(stepOf(otpPage)).to.equal('otp');
    expect(otpPage.body).to.match(/<input[^>]+name="otp"/);
    const code = await currentTotp(citizen.secret);
    const wrong = await submit(browser, otpPage, 'otp', { otp: String((Number(code) + 1) % 1_000_000).padStart(6, '0') });
    expect(wrong.status).to.equal(401);
    expect(alertsOf(wrong)).to.have.length(1);
    const right = await submit(browser, wrong, 'otp', { otp: code });
    expect(stepOf(right)).to.equal('consent');
  });

  it('refuses a TOTP code already used, even in another sign-in', async () => {
    const citizen = await levelTwoCitizen();
    const code = await currentTotp(citizen.secret);
    const first = await authorize({ acr_values: LOA_2 });
    await new Browser(world.issuer).signIn(first.url, citizen.id, citizen.password, { otp: () => Promise.resolve(code) });
    const browser = new Browser(world.issuer);
    const second = await authorize({ acr_values: LOA_2 });
    const otpPage = await submit(browser, await browser.get(second.url), 'login', { username: citizen.id, password: citizen.password });
    const replay = await submit(browser, otpPage, 'otp', { otp: code });
    expect(replay.status).to.equal(401);
    expect(stepOf(replay)).to.equal('otp');
  });

  it('steps a password-only session up to level 2 by asking only the second factor', async () => {
    const citizen = await levelTwoCitizen();
    const browser = new Browser(world.issuer);
    const first = await authorize();
    const claims1 = await tokensFor(first, await browser.signIn(first.url, citizen.id, citizen.password));
    expect(claims1.acr).to.equal(LOA_1);

    const second = await authorize({ acr_values: LOA_2 });
    const page = await browser.get(second.url);
    expect(stepOf(page), 'no password asked again').to.equal('otp');
    const done = await submit(browser, page, 'otp', { otp: await currentTotp(citizen.secret) });
    expect(done.location).to.match(/^http:\/\/localhost:4000\/callback\?code=/);
    const claims2 = await tokensFor(second, new URL(done.location!));
    expect(claims2.acr).to.equal(LOA_2);
    expect(claims2.sub).to.equal(claims1.sub);
  });

  it('lets a level-2 session satisfy a level-1 request without asking anything, and reports level 2', async () => {
    const citizen = await levelTwoCitizen();
    const browser = new Browser(world.issuer);
    const first = await authorize({ acr_values: LOA_2 });
    await browser.signIn(first.url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
    const second = await authorize({ acr_values: `${LOA_1} ${LOA_2}` });
    const page = await browser.get(second.url);
    expect(page.location, 'straight back to the portal').to.match(/^http:\/\/localhost:4000\/callback\?code=/);
    expect((await tokensFor(second, new URL(page.location!))).acr).to.equal(LOA_2);
  });

  it('asks for level 2 when the claims parameter marks acr essential', async () => {
    const citizen = await levelTwoCitizen();
    const browser = new Browser(world.issuer);
    const attempt = await authorize({ claims: JSON.stringify({ id_token: { acr: { essential: true, values: [LOA_2] } } }) });
    const callback = await browser.signIn(attempt.url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
    expect(browser.lastSteps).to.include('otp');
    expect((await tokensFor(attempt, callback)).acr).to.equal(LOA_2);
  });

  it('ignores unknown acr values and signs in at level 1 with the password alone', async () => {
    const browser = new Browser(world.issuer);
    const attempt = await authorize({ acr_values: 'urn:example:unknown' });
    const callback = await browser.signIn(attempt.url, BICH.id, BICH.password);
    expect(browser.lastSteps).to.not.include('otp');
    expect((await tokensFor(attempt, callback)).acr).to.equal(LOA_1);
  });

  it('answers unmet_authentication_requirements for a level-1 account asked for level 2 — never a weaker token', async () => {
    const browser = new Browser(world.issuer);
    const attempt = await authorize({ acr_values: LOA_2 });
    const callback = await browser.signIn(attempt.url, BICH.id, BICH.password);
    expect(callback.searchParams.get('error')).to.equal('unmet_authentication_requirements');
    expect(callback.searchParams.get('code')).to.equal(null);
  });

  it('answers unmet_authentication_requirements for a level-2 account without a second factor', async () => {
    const citizen = await levelTwoCitizen({ totp: false });
    const browser = new Browser(world.issuer);
    const attempt = await authorize({ acr_values: LOA_2 });
    const callback = await browser.signIn(attempt.url, citizen.id, citizen.password);
    expect(callback.searchParams.get('error')).to.equal('unmet_authentication_requirements');
  });

  it("tells the citizen's contacts about a sign-in from a new device — not the first one, not a known one", async () => {
    const khoa = { id: '048203000777', password: 'Khoa#Demo2026', phone: '+84900000003' };
    // Notices are queued by the sign-in and delivered by the worker after its answer: wait for it to settle.
    const notifier = world.server.container.notifier;
    const outbox = async () => {
      if (notifier instanceof OutboxNotifier) await notifier.settled();
      return world.server.container.db('outbox_messages').where({ destination: khoa.phone }).orderBy('id');
    };
    const before = (await outbox()).length;
    const first = new Browser(world.issuer);
    await first.signIn((await authorize()).url, khoa.id, khoa.password);
    expect((await outbox()).length, 'the first device is where the account is used: no notice').to.equal(before);
    await new Browser(world.issuer).signIn((await authorize()).url, khoa.id, khoa.password);
    const notices = await outbox();
    expect(notices.length).to.equal(before + 1);
    expect((notices.at(-1) as { subject: string }).subject).to.include('new device');
    await first.signIn((await authorize({ prompt: 'login' })).url, khoa.id, khoa.password);
    expect((await outbox()).length, 'a known device again: no notice').to.equal(before + 1);
  });

  describe('brute force', () => {
    async function failPassword(browser: Browser, server: RunningServer, nationalId: string, password = 'not the password!') {
      const verifier = client.randomPKCECodeVerifier();
      const url = new URL('/auth', server.issuer);
      url.search = new URLSearchParams({
        client_id: PORTAL.id,
        response_type: 'code',
        redirect_uri: PORTAL.redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      const login = await browser.get(url);
      return submit(browser, login, 'login', { username: nationalId, password });
    }

    it('locks an ID number after five failures spread across two instances sharing Redis', async () => {
      const citizen = await levelTwoCitizen();
      const second = await startTestServer({ sameStorageAs: world });
      try {
        const results: number[] = [];
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const server = attempt % 2 === 0 ? world : second;
          results.push((await failPassword(new Browser(server.issuer), server, citizen.id)).status);
        }
        expect(results.slice(0, 4)).to.deep.equal([401, 401, 401, 401]);
        expect(results[4], 'the fifth failure locks').to.equal(429);
        const locked = await failPassword(new Browser(second.issuer), second, citizen.id, citizen.password);
        expect(locked.status, 'even the right password is refused during the lock').to.equal(429);
        expect(alertsOf(locked)[0]).to.match(/Đăng nhập bằng mật khẩu tạm thời bị khóa/);
        const event: unknown = await world.server.container.db("audit_events").where({ type: "account.locked" }).orderBy("id", "desc").first();
        expect(event).to.not.equal(undefined);
      } finally {
        await second.close();
      }
    });

    it('locks an ID number that has no account exactly the same way, so a lock reveals nothing', async () => {
      const nobody = '001199000321';
      const someone = (await levelTwoCitizen()).id;
      const pages: Page[] = [];
      for (const nationalId of [nobody, someone]) {
        for (let attempt = 0; attempt < 4; attempt += 1) await failPassword(new Browser(world.issuer), world, nationalId);
        pages.push(await failPassword(new Browser(world.issuer), world, nationalId));
      }
      const [forNobody, forSomeone] = pages.map((page) => ({ status: page.status, alert: alertsOf(page)[0]!.replace(/sau .*\./, 'sau ….') }));
      expect(forNobody).to.deep.equal(forSomeone);
      expect(forNobody!.status).to.equal(429);
    });

    it('still lets a passkey sign in while passwords are locked, at level 2 for a level-2 account', async () => {
      const citizen = await levelTwoCitizen();
      const { db } = world.server.container;
      const relyingParty = relyingPartyOf(world.issuer);
      const account = await world.server.container.accounts.findByNationalId(citizen.id);
      const authenticator = new SoftAuthenticator(relyingParty.origin, relyingParty.id);
      const registration = await passkeyCreationOptions(new PostgresAccountStore(db), relyingParty, { accountId: account!.id, userName: 'x', displayName: 'Vũ Quang Huy' });
      await registerPasskey(new PostgresAccountStore(db), relyingParty, {
        accountId: account!.id,
        credential: authenticator.register(registration),
        expectedChallenge: registration.challenge,
        name: 'Phone',
      });
      for (let attempt = 0; attempt < 5; attempt += 1) await failPassword(new Browser(world.issuer), world, citizen.id);
      expect((await failPassword(new Browser(world.issuer), world, citizen.id, citizen.password)).status, 'passwords are locked').to.equal(429);

      const browser = new Browser(world.issuer);
      const attempt = await authorize({ acr_values: LOA_2 });
      const login = await browser.get(attempt.url);
      const form = formsOf(login).find((candidate) => candidate.action.endsWith('/passkey'))!;
      const options = JSON.parse(decodeEntities(/data-passkey-options="([^"]*)"/.exec(login.body)![1]!)) as { challenge: string };
      let page = await browser.submit(form, { credential: JSON.stringify(authenticator.assert(options.challenge)) });
      expect(stepOf(page)).to.equal('consent');
      page = await submit(browser, page, 'consent', {});
      const claims = await tokensFor(attempt, new URL(page.location!));
      expect(claims.acr).to.equal(LOA_2);
      expect(claims.amr).to.deep.equal(['hwk', 'mfa']);
    });

    it('refuses a passkey assertion over a challenge it was not given', async () => {
      const citizen = await levelTwoCitizen();
      const { db } = world.server.container;
      const relyingParty = relyingPartyOf(world.issuer);
      const account = await world.server.container.accounts.findByNationalId(citizen.id);
      const authenticator = new SoftAuthenticator(relyingParty.origin, relyingParty.id);
      const registration = await passkeyCreationOptions(new PostgresAccountStore(db), relyingParty, { accountId: account!.id, userName: 'x', displayName: 'x' });
      await registerPasskey(new PostgresAccountStore(db), relyingParty, { accountId: account!.id, credential: authenticator.register(registration), expectedChallenge: registration.challenge, name: 'Phone' });
      const browser = new Browser(world.issuer);
      const login = await browser.get((await authorize()).url);
      const form = formsOf(login).find((candidate) => candidate.action.endsWith('/passkey'))!;
      const refused = await browser.submit(form, { credential: JSON.stringify(authenticator.assert('b3RoZXItY2hhbGxlbmdl')) });
      expect(refused.status).to.equal(401);
      expect(stepOf(refused)).to.equal('login');
      expect(alertsOf(refused)).to.have.length(1);
    });

    it("refuses a login page's passkey challenge in another interaction, and a challenge presented a second time", async () => {
      // The login page writes nothing for its challenge (src/accounts/passkey-sign-in.ts): it is sealed
      // to the interaction, and taken once when a passkey is presented.
      const citizen = await levelTwoCitizen();
      const { db } = world.server.container;
      const relyingParty = relyingPartyOf(world.issuer);
      const account = await world.server.container.accounts.findByNationalId(citizen.id);
      const authenticator = new SoftAuthenticator(relyingParty.origin, relyingParty.id);
      const registration = await passkeyCreationOptions(new PostgresAccountStore(db), relyingParty, { accountId: account!.id, userName: 'x', displayName: 'x' });
      await registerPasskey(new PostgresAccountStore(db), relyingParty, { accountId: account!.id, credential: authenticator.register(registration), expectedChallenge: registration.challenge, name: 'Phone' });
      const challengeOf = (page: Page) => (JSON.parse(decodeEntities(/data-passkey-options="([^"]*)"/.exec(page.body)![1]!)) as { challenge: string }).challenge;
      const browser = new Browser(world.issuer);
      const first = await browser.get((await authorize()).url);
      const second = await browser.get((await authorize()).url);
      const secondForm = formsOf(second).find((candidate) => candidate.action.endsWith('/passkey'))!;
      const elsewhere = await browser.submit(secondForm, { credential: JSON.stringify(authenticator.assert(challengeOf(first))) });
      expect(elsewhere.status, "the first interaction's challenge in the second").to.equal(401);

      const own = authenticator.assert(challengeOf(second)) as { response: { signature: string } };
      const tampered = { ...own, response: { ...own.response, signature: Buffer.alloc(64, 1).toString('base64url') } };
      expect((await browser.submit(secondForm, { credential: JSON.stringify(tampered) })).status, 'a bad signature').to.equal(401);
      const again = await browser.submit(secondForm, { credential: JSON.stringify(own) });
      expect(again.status, 'the same challenge, now with a good signature').to.equal(401);
      expect(stepOf(again)).to.equal('login');
    });

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy when limiting by address', async () => {
      const limited = await startTestServer({
        overrides: { signInLimits: { failuresBeforeLock: 20, firstLockSeconds: 900, maxLockSeconds: 86400, attemptsPerAddressPerMinute: 10 } },
      });
      try {
        const statuses: number[] = [];
        for (let attempt = 0; attempt < 11; attempt += 1) {
          const browser = new Browser(limited.issuer);
          const login = await browser.get(
            `${limited.issuer}/auth?${new URLSearchParams({
              client_id: PORTAL.id,
              response_type: 'code',
              redirect_uri: PORTAL.redirectUri,
              scope: 'openid',
              code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
              code_challenge_method: 'S256',
            }).toString()}`,
          );
          const form = formsOf(login).find((candidate) => candidate.action.endsWith('/login'))!;
          // A different spoofed address each time: were it believed, no limit would ever be reached.
          const page = await browser.fetch(form.action, {
            method: 'POST',
            body: new URLSearchParams({ ...form.fields, username: '001199000654', password: 'wrong password' }).toString(),
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.${attempt}` },
          });
          statuses.push(page.status);
        }
        expect(statuses.slice(0, 10).every((status) => status === 401)).to.equal(true);
        expect(statuses[10]).to.equal(429);
      } finally {
        await limited.close();
      }
    });
  });
});
