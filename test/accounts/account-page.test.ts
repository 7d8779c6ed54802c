// The account page (/account): signed in through the provider as its own client, on a real server
// with PostgreSQL and Redis; forms submitted as a browser without JavaScript would.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Browser, alertsOf, decodeEntities, formsOf, stepOf, type Page, type PageForm } from '../support/browserless.ts';
import { startAccountServer, type AccountWorld } from '../support/account-world.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import {
  PasskeyChallenges,
  passkeyRequestOptions,
  passkeyCreationOptions,
  relyingPartyOf,
  spendRecoveryCode,
  checkPasskeyAssertion,
  registerPasskey,
  PasskeyRejected,
} from '../../src/accounts/second-factors.ts';
import { PostgresAccountStore } from '../../src/accounts/account-store-postgres.ts';
import { normalizePhoneNumber } from '../../src/accounts/self-service.ts';
import { CONSOLE_CLIENT_ID, consoleClientSecret, loopbackFetch } from '../../src/interactions/account-console.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026', phone: '+84900000002' };
const AN = { id: '001099012345', password: 'An#Demo2026', phone: '+84900000001', totp: 'JBSWY3DPEHPK3PXP' };
const KHOA = { id: '048203000777', password: 'Khoa#Demo2026', phone: '+84900000003' };
// Phạm Thu Hà has no account in the demo data; the suite gives her one of its own.
const HA = { id: '031190004567', password: 'Ha#Suite-2026-x', phone: '+84900000004' };

function formWithAction(page: Page, pathname: string): PageForm {
  const form = formsOf(page).find((candidate) => new URL(candidate.action).pathname === pathname);
  if (!form) throw new Error(`no form posting to ${pathname} at ${page.url} (HTTP ${page.status})`);
  return form;
}

/** Opens a page of the account console, walking through the provider's login and consent pages. */
async function openSignedIn(browser: Browser, url: string, citizen: { id: string; password: string }): Promise<Page> {
  let page = await browser.get(url);
  for (let steps = 0; steps < 4; steps += 1) {
    const step = stepOf(page);
    if (step === 'login') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/login'))!, { username: citizen.id, password: citizen.password });
    else if (step === 'consent') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/consent'))!);
    else return page;
  }
  throw new Error(`the sign-in did not finish at ${page.url}`);
}

/** Follows a sign-in hop by hop (no redirect followed for us) up to the console's callback URL. */
async function walkToCallback(browser: Browser, start: Page, citizen: { id: string; password: string }): Promise<string> {
  let page = start;
  for (let hops = 0; hops < 20; hops += 1) {
    if (page.location !== undefined) {
      if (new URL(page.location).pathname === '/account/callback') return page.location;
      page = await browser.fetch(page.location);
      continue;
    }
    const step = stepOf(page);
    const form = formsOf(page).find((candidate) => candidate.action.endsWith(step === 'login' ? '/login' : '/consent'));
    if (!step || !form) break;
    const fields = step === 'login' ? { ...form.fields, username: citizen.id, password: citizen.password } : form.fields;
    page = await browser.fetch(form.action, {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }
  throw new Error(`no callback reached (HTTP ${page.status} at ${page.url})`);
}

describe('the account page (/account)', function () {
  this.timeout(60_000);
  let world: AccountWorld;
  let issuer: string;

  before(async () => {
    world = await startAccountServer();
    issuer = world.issuer;
    const { container } = world.server;
    await container.accounts.enrol({
      nationalId: HA.id,
      level: 1,
      passwordHash: await container.passwords.hash(HA.password),
      totpSecretSealed: null,
      phoneNumber: HA.phone,
      phoneNumberVerified: true,
      email: null,
      emailVerified: false,
    });
  });

  after(async () => {
    await world?.close();
  });

  const accountIdOf = async (nationalId: string) => (await world.server.container.accounts.findByNationalId(nationalId))!.id;
  const changesOf = async (nationalId: string) =>
    (await world.server.container.audit.eventsForAccount(await accountIdOf(nationalId))).filter((event) => event.type === ('account.changed' as string));

  describe('signing in', () => {
    it('sends a visitor to the provider as the account-console client, with PKCE and only the openid scope', async () => {
      const browser = new Browser(issuer);
      const first = await browser.fetch(`${issuer}/account`);
      expect(first.status).to.equal(303);
      const authorization = new URL(first.location!);
      expect(authorization.origin).to.equal(issuer);
      expect(authorization.searchParams.get('client_id')).to.equal(CONSOLE_CLIENT_ID);
      expect(authorization.searchParams.get('redirect_uri')).to.equal(`${issuer}/account/callback`);
      expect(authorization.searchParams.get('scope')).to.equal('openid');
      expect(authorization.searchParams.get('code_challenge_method')).to.equal('S256');
      expect(authorization.searchParams.get('acr_values')).to.equal(null);
      const client = await world.server.container.clients.find(CONSOLE_CLIENT_ID);
      expect(client?.profile).to.equal('portal');
      expect(client?.metadata.subject_type).to.equal('public');
      expect(client?.approvedScopes).to.have.members(['openid', 'profile', 'phone', 'email']);
    });

    it("shows the citizen's registry data, read-only, saying it comes from the population registry", async () => {
      const browser = new Browser(issuer);
      const page = await openSignedIn(browser, `${issuer}/account`, BICH);
      expect(page.status).to.equal(200);
      expect(page.url).to.equal(`${issuer}/account`);
      expect(page.body).to.match(/<html lang="vi">/);
      expect(page.body).to.include('Trần Thị Bích');
      expect(page.body).to.include('02/07/1985');
      expect(page.body).to.include('Cơ sở dữ liệu quốc gia về dân cư');
      expect(page.body).to.include('45 Đường Lê Lợi');
      // Read-only: no form touches registry data.
      expect(formsOf(page).map((form) => new URL(form.action).pathname)).to.not.include.members(['/account/registry']);
      // Strict CSP holds: no inline script or style anywhere.
      expect(page.body).to.not.match(/<script(?![^>]*\bsrc=)/);
      expect(page.body).to.not.match(/\sstyle=/);
      expect(page.headers.get('content-security-policy')).to.include("script-src 'self'");
    });

    it('releases no claims to the console: it reads what it shows itself', async () => {
      const events = await world.server.container.audit.eventsForAccount(await accountIdOf(BICH.id));
      expect(events.filter((event) => event.type === 'claims.released' && event.clientId === CONSOLE_CLIENT_ID)).to.deep.equal([]);
    });

    it('keeps its session in an HttpOnly, SameSite=Lax cookie, and refuses a replayed callback', async () => {
      const browser = new Browser(issuer);
      const start = await browser.fetch(`${issuer}/account`);
      expect(start.headers.getSetCookie().join('\n')).to.match(/account_signin=[^;]+;.*path=\/account.*httponly/i);
      const callback = await walkToCallback(browser, start, BICH);
      const done = await browser.fetch(callback);
      expect(done.status).to.equal(303);
      const cookie = done.headers.getSetCookie().find((line) => line.startsWith('account_session='))!;
      expect(cookie).to.match(/httponly/i);
      expect(cookie).to.match(/samesite=lax/i);
      expect(cookie).to.match(/path=\/account/i);
      const replay = await browser.fetch(callback);
      expect(replay.status).to.equal(400);
      expect(alertsOf(replay).join(' ')).to.include('hết hạn');
    });

    it('switches to English with a link, and the choice sticks', async () => {
      const browser = new Browser(issuer);
      await openSignedIn(browser, `${issuer}/account`, BICH);
      const english = await browser.get(`${issuer}/account?lang=en`);
      expect(english.body).to.match(/<html lang="en">/);
      expect(english.body).to.include('From the National Population Database');
      const later = await browser.get(`${issuer}/account/password`);
      expect(later.body).to.match(/<html lang="en">/);
      expect(later.body).to.include('Current password');
    });

    it('refuses a change whose form lacks the session token', async () => {
      const browser = new Browser(issuer);
      await openSignedIn(browser, `${issuer}/account`, BICH);
      const page = await browser.postForm(`${issuer}/account/recovery-codes`, {});
      expect(page.status).to.equal(403);
      expect(alertsOf(page)).to.have.length(1);
    });
  });

  describe('second factors', () => {
    it('enrols TOTP: the secret as text and an inline SVG QR code, turned on only by a right code', async () => {
      const browser = new Browser(issuer);
      const page = await openSignedIn(browser, `${issuer}/account/totp`, BICH);
      expect(page.url).to.equal(`${issuer}/account/totp`);
      expect(page.body).to.match(/<svg[^>]*viewBox/);
      expect(page.body).to.not.include('data:image');
      const secret = /data-secret="([A-Z2-7]+)"/.exec(page.body)![1]!;
      expect(secret).to.have.length.of.at.least(32);

      const wrong = await browser.submit(formWithAction(page, '/account/totp'), { code: '000000' === (await currentTotp(secret)) ? '111111' : '000000' });
      expect(wrong.status).to.equal(400);
      expect(wrong.body).to.match(/aria-describedby="code-error"/);
      expect(alertsOf(wrong)[0]).to.include('Mã không đúng');
      // The same secret is offered again until it is confirmed.
      expect(wrong.body).to.include(`data-secret="${secret}"`);

      const done = await browser.submit(formWithAction(wrong, '/account/totp'), { code: await currentTotp(secret) });
      expect(done.url).to.equal(`${issuer}/account`);
      expect(done.body).to.include('Đã bật ứng dụng xác thực.');
      const { container } = world.server;
      const row = await container.db('accounts').where({ national_id: BICH.id }).first<{ totp_secret_sealed: string; totp_enrolled_at: Date }>();
      expect(container.sealer.open(row.totp_secret_sealed, `totp:${BICH.id}`)).to.equal(secret);
      expect(row.totp_enrolled_at).to.be.instanceOf(Date);
      expect((await changesOf(BICH.id)).map((event) => event.data?.change)).to.include('totp.enrolled');
      const notices = await world.outbox(BICH.phone);
      expect(notices[0]?.body).to.include('ứng dụng xác thực');
      expect(notices[0]?.body).to.not.include(secret);
    });

    it('makes ten recovery codes, shows them once, stores only hashes, and each works once', async () => {
      const browser = new Browser(issuer);
      const page = await openSignedIn(browser, `${issuer}/account/recovery-codes`, BICH);
      expect(page.body).to.not.match(/<code>[0-9A-Z]{4}-/);
      const shown = await browser.submit(formWithAction(page, '/account/recovery-codes'));
      const codes = [...shown.body.matchAll(/<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<\/code>/g)].map((match) => match[1]!);
      expect(codes).to.have.length(10);
      expect(new Set(codes).size).to.equal(10);

      const { db } = world.server.container;
      const accountId = await accountIdOf(BICH.id);
      const rows = await db('recovery_codes').where({ account_id: accountId }).select<{ code_hash: string }[]>('code_hash');
      expect(rows).to.have.length(10);
      const stored = JSON.stringify(rows);
      for (const code of codes) expect(stored).to.not.include(code);
      expect(rows.map((row) => row.code_hash)).to.include(createHash('sha256').update(codes[0]!.replace(/-/g, '')).digest('hex'));

      expect(await spendRecoveryCode(new PostgresAccountStore(db), accountId, codes[0]!)).to.equal(true);
      expect(await spendRecoveryCode(new PostgresAccountStore(db), accountId, codes[0]!)).to.equal(false);
      // Typed without hyphens, in lower case: the same code.
      expect(await spendRecoveryCode(new PostgresAccountStore(db), accountId, codes[1]!.replace(/-/g, '').toLowerCase())).to.equal(true);
      expect(await spendRecoveryCode(new PostgresAccountStore(db), accountId, 'ABCD-EFGH-JKMN')).to.equal(false);
      // Another account's codes are not hers.
      expect(await spendRecoveryCode(new PostgresAccountStore(db), await accountIdOf(AN.id), codes[2]!)).to.equal(false);
      // Two racing uses of one code: exactly one wins.
      const race = await Promise.all([spendRecoveryCode(new PostgresAccountStore(db), accountId, codes[3]!), spendRecoveryCode(new PostgresAccountStore(db), accountId, codes[3]!)]);
      expect(race.filter(Boolean)).to.have.length(1);

      const overview = await browser.get(`${issuer}/account/security`);
      expect(overview.body).to.match(/id="recovery-status">7 mã chưa dùng/);
      // A new set replaces the old one entirely.
      const again = await browser.submit(formWithAction(await browser.get(`${issuer}/account/recovery-codes`), '/account/recovery-codes'));
      expect(again.status).to.equal(200);
      expect(await spendRecoveryCode(new PostgresAccountStore(db), accountId, codes[4]!)).to.equal(false);
      expect((await changesOf(BICH.id)).filter((event) => event.data?.change === 'recovery_codes.generated')).to.have.length(2);
    });

    it('offers passkey enrolment with user verification required, for the issuer host, and refuses a forged credential', async () => {
      const browser = new Browser(issuer);
      const page = await openSignedIn(browser, `${issuer}/account/passkeys/new`, BICH);
      const form = formWithAction(page, '/account/passkeys');
      const optionsAttribute = /data-passkey-options="([^"]*)"/.exec(page.body)![1]!;
      const options = JSON.parse(optionsAttribute.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&#39;/g, "'")) as {
        rp: { id: string };
        user: { id: string; name: string };
        authenticatorSelection: { userVerification: string; residentKey: string };
      };
      expect(options.rp.id).to.equal(new URL(issuer).hostname);
      expect(options.authenticatorSelection.userVerification).to.equal('required');
      expect(options.authenticatorSelection.residentKey).to.equal('required');
      // The user handle is the account's UUID, and the ID number is not in the options.
      expect(Buffer.from(options.user.id, 'base64url').toString('hex')).to.equal((await accountIdOf(BICH.id)).replace(/-/g, ''));
      expect(optionsAttribute).to.not.include(BICH.id);
      expect(page.body).to.include('<script src="/assets/passkey.js"></script>');

      const withoutScript = await browser.submit(form, { name: 'Laptop' });
      expect(withoutScript.status).to.equal(400);
      expect(alertsOf(withoutScript).join(' ')).to.include('JavaScript');
      const forged = await browser.submit(formWithAction(withoutScript, '/account/passkeys'), {
        name: 'Laptop',
        credential: JSON.stringify({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: 'e30', attestationObject: 'oA' } }),
      });
      expect(forged.status).to.equal(400);
      expect(alertsOf(forged).join(' ')).to.include('không được chấp nhận');
      expect(await world.server.container.db('passkeys').where({ account_id: await accountIdOf(BICH.id) })).to.have.length(0);
    });

    it('enrols a passkey from a (software) authenticator and verifies sign-in assertions with it', async () => {
      const { db, ephemeral } = world.server.container;
      const relyingParty = relyingPartyOf(issuer);
      const accountId = await accountIdOf(KHOA.id);
      const authenticator = new SoftAuthenticator(relyingParty.origin, relyingParty.id);
      const registration = await passkeyCreationOptions(new PostgresAccountStore(db), relyingParty, { accountId, userName: '048•••777', displayName: 'Lê Minh Khoa' });
      const credential = authenticator.register(registration);
      const stored = await registerPasskey(new PostgresAccountStore(db), relyingParty, { accountId, credential, expectedChallenge: registration.challenge, name: 'Phone' });
      expect(stored.name).to.equal('Phone');
      // The same credential twice is refused.
      const again = await passkeyCreationOptions(new PostgresAccountStore(db), relyingParty, { accountId, userName: 'x', displayName: 'x' });
      expect(again.excludeCredentials?.map((item) => item.id)).to.deep.equal([stored.credentialId]);
      try {
        await registerPasskey(new PostgresAccountStore(db), relyingParty, { accountId, credential: authenticator.register(again), expectedChallenge: again.challenge, name: 'Phone' });
        expect.fail('a registered credential was accepted twice');
      } catch (error) {
        expect(error).to.be.instanceOf(PasskeyRejected);
      }

      const challenges = new PasskeyChallenges(ephemeral);
      const options = await passkeyRequestOptions(new PostgresAccountStore(db), relyingParty, accountId);
      expect(options.userVerification).to.equal('required');
      expect(options.allowCredentials?.map((item) => item.id)).to.deep.equal([stored.credentialId]);
      await challenges.remember('test-interaction', options.challenge);
      const challenge = await challenges.take('test-interaction');
      expect(challenge).to.equal(options.challenge);
      expect(await challenges.take('test-interaction')).to.equal(undefined);
      const assertion = authenticator.assert(challenge!);
      expect(await checkPasskeyAssertion(new PostgresAccountStore(db), relyingParty, { credential: assertion, expectedChallenge: challenge!, accountId })).to.deep.equal({
        accountId,
        credentialId: stored.credentialId,
      });
      // Without an account (a discoverable passkey), the passkey says whose it is.
      const discoverable = await passkeyRequestOptions(new PostgresAccountStore(db), relyingParty);
      expect(discoverable.allowCredentials ?? []).to.deep.equal([]);
      const named = await checkPasskeyAssertion(new PostgresAccountStore(db), relyingParty, { credential: JSON.stringify(authenticator.assert(discoverable.challenge)), expectedChallenge: discoverable.challenge });
      expect(named?.accountId).to.equal(accountId);

      // Refused: another account, another challenge, a counter going back, no user verification.
      expect(await checkPasskeyAssertion(new PostgresAccountStore(db), relyingParty, { credential: authenticator.assert(challenge!), expectedChallenge: challenge!, accountId: await accountIdOf(AN.id) })).to.equal(undefined);
      expect(await checkPasskeyAssertion(new PostgresAccountStore(db), relyingParty, { credential: authenticator.assert('b3RoZXI'), expectedChallenge: challenge! })).to.equal(undefined);
      expect(await checkPasskeyAssertion(new PostgresAccountStore(db), relyingParty, { credential: authenticator.assert(challenge!, { counter: 1 }), expectedChallenge: challenge! })).to.equal(undefined);
      authenticator.verifiesUser = false;
      expect(await checkPasskeyAssertion(new PostgresAccountStore(db), relyingParty, { credential: authenticator.assert(challenge!), expectedChallenge: challenge! })).to.equal(undefined);
      expect(await checkPasskeyAssertion(new PostgresAccountStore(db), relyingParty, { credential: 'not json', expectedChallenge: challenge! })).to.equal(undefined);
      await db('passkeys').where({ account_id: accountId }).delete();
    });
  });

  describe('contacts', () => {
    it('adds an email only once a code sent to it is entered, and tells the contacts on record', async () => {
      const browser = new Browser(issuer);
      const page = await openSignedIn(browser, `${issuer}/account/contacts/email`, HA);
      const invalid = await browser.submit(formWithAction(page, '/account/contacts/email'), { value: 'not an address' });
      expect(invalid.status).to.equal(400);
      expect(invalid.body).to.match(/aria-describedby="contact-value-error"/);
      const sent = await browser.submit(formWithAction(invalid, '/account/contacts/email'), { value: 'Ha.Pham@Example.vn' });
      expect(sent.status).to.equal(200);
      const [message] = await world.outbox('ha.pham@example.vn');
      const code = /\b(\d{6})\b/.exec(message!.body)![1]!;

      const wrong = await browser.submit(formWithAction(sent, '/account/contacts/email/confirm'), { code: code === '000000' ? '111111' : '000000' });
      expect(wrong.status).to.equal(400);
      expect(alertsOf(wrong)[0]).to.include('không đúng');
      const done = await browser.submit(formWithAction(wrong, '/account/contacts/email/confirm'), { code });
      expect(done.url).to.equal(`${issuer}/account`);
      expect((await browser.get(`${issuer}/account/contacts`)).body).to.include('ha.pham@example.vn (đã xác minh)');
      const account = await world.server.container.accounts.findByNationalId(HA.id);
      expect(account).to.include({ email: 'ha.pham@example.vn', emailVerified: true });
      expect((await world.outbox(HA.phone))[0]?.body).to.include('Email liên hệ');
      expect((await world.outbox('ha.pham@example.vn'))[0]?.body).to.include('Email liên hệ');
    });

    it('reads Vietnamese mobile numbers as people write them', () => {
      expect(normalizePhoneNumber('0912 345 678')).to.equal('+84912345678');
      expect(normalizePhoneNumber('+84 912-345-678')).to.equal('+84912345678');
      expect(normalizePhoneNumber('84912345678')).to.equal('+84912345678');
      expect(normalizePhoneNumber('0212345678')).to.equal(undefined);
      expect(normalizePhoneNumber('12345')).to.equal(undefined);
    });
  });

  describe('password and sessions', () => {
    it('changes the password: the current one needed, the policy applied, other sessions and tokens ended', async () => {
      const browser = new Browser(issuer);
      const other = new Browser(issuer);
      await openSignedIn(other, `${issuer}/account`, HA);
      const page = await openSignedIn(browser, `${issuer}/account/password`, HA);
      const submit = (from: Page, fields: Record<string, string>) => browser.submit(formWithAction(from, '/account/password'), fields);

      const wrongCurrent = await submit(page, { current_password: 'not it at all', new_password: 'Hà-Mới#2026-Bền', confirm_password: 'Hà-Mới#2026-Bền' });
      expect(wrongCurrent.status).to.equal(400);
      expect(wrongCurrent.body).to.match(/id="current-password"[^>]*aria-describedby="current-password-error"[^>]*aria-invalid="true"/);
      const weak = await submit(wrongCurrent, { current_password: HA.password, new_password: 'password123', confirm_password: 'password123' });
      expect(weak.status).to.equal(400);
      expect(alertsOf(weak)[0]).to.include('phổ biến');
      expect(weak.body).to.match(/aria-describedby="new-password-hint new-password-error"/);
      const withBirthDate = await submit(weak, { current_password: HA.password, new_password: 'ha-09011990-x', confirm_password: 'ha-09011990-x' });
      expect(alertsOf(withBirthDate)[0]).to.include('ngày sinh');
      const mismatch = await submit(withBirthDate, { current_password: HA.password, new_password: 'Hà-Mới#2026-Bền', confirm_password: 'Hà-Mới#2026-Ben' });
      expect(alertsOf(mismatch)[0]).to.include('không khớp');

      const done = await submit(mismatch, { current_password: HA.password, new_password: 'Hà-Mới#2026-Bền', confirm_password: 'Hà-Mới#2026-Bền' });
      expect(done.url).to.equal(`${issuer}/account`);
      expect(done.body).to.include('Đã đổi mật khẩu');
      // This browser stays; the other one is sent back to sign in.
      expect((await browser.get(`${issuer}/account`)).url).to.equal(`${issuer}/account`);
      expect(stepOf(await other.get(`${issuer}/account`))).to.equal('login');
      const { signIn } = world.server.container;
      expect((await signIn.signIn(HA.id, HA.password, {})).outcome).to.equal('invalid-credentials');
      expect((await signIn.signIn(HA.id, 'Hà-Mới#2026-Bền', {})).outcome).to.equal('signed-in');
      expect((await world.outbox(HA.phone))[0]?.body).to.include('Mật khẩu');
      HA.password = 'Hà-Mới#2026-Bền';
    });

    it('lists the sessions with their services, ends one, and ends all with their refresh tokens', async () => {
      // A service holding a refresh token for Hà, in a browser of its own.
      const portalBrowser = new Browser(issuer);
      const verifier = randomBytes(32).toString('base64url');
      const authorization = new URL(`${issuer}/auth`);
      authorization.search = new URLSearchParams({
        client_id: 'demo-portal',
        response_type: 'code',
        redirect_uri: 'http://localhost:4000/callback',
        scope: 'openid offline_access',
        prompt: 'consent',
        state: 'state-1',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const redirect = await portalBrowser.signIn(authorization, HA.id, HA.password);
      const token = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('demo-portal:demo-portal-secret').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, redirect_uri: 'http://localhost:4000/callback', code_verifier: verifier }),
      }).then((response) => response.json() as Promise<{ refresh_token?: string }>);
      expect(token.refresh_token).to.be.a('string');
      const refresh = () =>
        fetch(`${issuer}/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from('demo-portal:demo-portal-secret').toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token.refresh_token! }),
        });

      const spare = new Browser(issuer);
      await openSignedIn(spare, `${issuer}/account`, HA);
      const browser = new Browser(issuer);
      const page = await openSignedIn(browser, `${issuer}/account/sessions`, HA);
      expect(page.body).to.include('Trình duyệt này');
      expect(page.body).to.include('Cổng dịch vụ công (demo)');
      const sessionForms = formsOf(page).filter((form) => new URL(form.action).pathname === '/account/sessions/end');
      expect(sessionForms.length).to.be.at.least(3);

      // End the spare browser's session: it is sent back to sign in; this one stays.
      const accountId = await accountIdOf(HA.id);
      const { ephemeralModels } = world.server.container;
      const before = await ephemeralModels.sessionIdsOfAccount(accountId);
      const spareSession = await findSessionOf(spare, accountId);
      const ended = await browser.submit(sessionForms.find((form) => form.fields.session === spareSession)!);
      expect(ended.body).to.include('Đã kết thúc phiên đăng nhập.');
      expect(stepOf(await spare.get(`${issuer}/account`))).to.equal('login');
      expect((await ephemeralModels.sessionIdsOfAccount(accountId)).length).to.be.below(before.length + 1);

      expect((await refresh()).status).to.equal(200);
      const all = await browser.submit(formWithAction(await browser.get(`${issuer}/account/sessions`), '/account/sessions/end-all'));
      expect(all.status).to.equal(200);
      expect(all.body).to.include('Mọi phiên đăng nhập của bạn đã kết thúc.');
      const refused = await refresh();
      expect(refused.status).to.equal(400);
      expect(((await refused.json()) as { error: string }).error).to.equal('invalid_grant');
      expect(stepOf(await browser.get(`${issuer}/account`))).to.equal('login');
      expect(stepOf(await portalBrowser.get(authorization))).to.equal('login');
      expect((await changesOf(HA.id)).map((event) => event.data?.change)).to.include.members(['session.ended', 'sessions.ended']);
    });

    /** The provider session a browser is signed in with (the one whose console sid it holds). */
    async function findSessionOf(browser: Browser, accountId: string): Promise<string> {
      const overview = await browser.get(`${issuer}/account/sessions`);
      const current = /<li data-current>[\s\S]*?name="session" value="([^"]+)"/.exec(overview.body)?.[1];
      if (!current) throw new Error(`no current session for ${accountId}`);
      return current;
    }
  });

  describe('page groups', () => {
    it('gives each page group its own URL under one navigation bar, and marks an expired identity card', async () => {
      const browser = new Browser(issuer);
      const overview = await openSignedIn(browser, `${issuer}/account`, AN);
      // An's card expired on 2024-03-15 (the demo data).
      expect(decodeEntities(overview.body)).to.include('15/03/2024 (đã hết hạn)');
      expect(decodeEntities((await browser.get(`${issuer}/account?lang=en`)).body)).to.include('15 Mar 2024 (expired)');
      for (const path of ['/account', '/account/contacts', '/account/security', '/account/password', '/account/sessions', '/account/services', '/account/approvals', '/account/history']) {
        const page = await browser.get(`${issuer}${path}?lang=vi`);
        expect(page.status, path).to.equal(200);
        // The password page and the approvals need a fresh sign-in first.
        if (path !== '/account/approvals' && path !== '/account/password') expect(page.body, path).to.include(`<a href="${path}" aria-current="page">`);
      }
      expect((await browser.fetch(`${issuer}/account?history=2`)).location).to.equal(`${issuer}/account/history?history=2`);
    });
  });

  describe('a level-2 account', () => {
    it('is sent to step up for a factor change without a recent level-2 sign-in, and nothing changes', async () => {
      const browser = new Browser(issuer);
      expect((await openSignedIn(browser, `${issuer}/account`, AN)).body).to.include('Mức 2');
      const removal = formWithAction(await browser.get(`${issuer}/account/security`), '/account/totp/remove');
      const response = await browser.fetch(removal.action, {
        method: 'POST',
        body: new URLSearchParams(removal.fields).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(response.status).to.equal(303);
      const stepUp = new URL(response.location!);
      expect(stepUp.origin + stepUp.pathname).to.equal(`${issuer}/auth`);
      expect(stepUp.searchParams.get('acr_values')).to.equal('urn:vn:eid:loa:2');
      expect(stepUp.searchParams.get('max_age')).to.equal('300');
      expect(stepUp.searchParams.get('client_id')).to.equal(CONSOLE_CLIENT_ID);
      const row = await world.server.container.db('accounts').where({ national_id: AN.id }).first<{ totp_secret_sealed: string | null }>();
      expect(row.totp_secret_sealed).to.be.a('string');
      // Enrolment pages ask for the step-up too, before showing anything.
      const enrol = await browser.fetch(`${issuer}/account/passkeys/new`);
      expect(enrol.status).to.equal(303);
      expect(new URL(enrol.location!).searchParams.get('acr_values')).to.equal('urn:vn:eid:loa:2');
    });

    it('makes the change after a level-2 sign-in with its second factor only (step-up)', async () => {
      const browser = new Browser(issuer);
      await openSignedIn(browser, `${issuer}/account`, AN);
      // The step-up asks only for the second factor: the password session is recent.
      const secondFactor = await browser.get(`${issuer}/account/recovery-codes`);
      const otpForm = formsOf(secondFactor).find((form) => 'otp' in form.fields);
      expect(otpForm, 'the second-factor page').to.not.equal(undefined);
      expect(secondFactor.body).to.not.match(/name="password"/);
      const page = await browser.submit(otpForm!, { otp: await currentTotp(AN.totp) });
      expect(page.url).to.equal(`${issuer}/account/recovery-codes`);
      const shown = await browser.submit(formWithAction(page, '/account/recovery-codes'));
      expect([...shown.body.matchAll(/<code>[0-9A-Z-]{14}<\/code>/g)]).to.have.length(10);
      // A level-2 account keeps its last strong factor.
      const overview = await browser.get(`${issuer}/account/security`);
      const kept = await browser.submit(formWithAction(overview, '/account/totp/remove'));
      expect(kept.body).to.include('Không thể gỡ');
      const row = await world.server.container.db('accounts').where({ national_id: AN.id }).first<{ totp_secret_sealed: string | null }>();
      expect(row.totp_secret_sealed).to.be.a('string');
    });

    it('explains, rather than loops, when a step-up comes back without level 2 (acr_values stripped on the way)', async () => {
      const browser = new Browser(issuer);
      await openSignedIn(browser, `${issuer}/account`, AN);
      const stepUp = await browser.fetch(`${issuer}/account/recovery-codes`);
      const weakened = new URL(stepUp.location!);
      weakened.searchParams.delete('acr_values');
      // The provider answers at once (the password session is recent) at level 1.
      const page = await browser.get(weakened);
      expect(page.url).to.match(/\/account\/callback\?/);
      expect(page.status).to.equal(403);
      expect(alertsOf(page)[0]).to.include('hai yếu tố');
      // Still no change possible: the next attempt asks for level 2 again.
      const again = await browser.fetch(`${issuer}/account/recovery-codes`);
      expect(new URL(again.location!).searchParams.get('acr_values')).to.equal('urn:vn:eid:loa:2');
    });
  });

  describe('lock my account', () => {
    it('locks the account, ends everything, tells the contacts, and sign-in is refused', async () => {
      const browser = new Browser(issuer);
      const page = await openSignedIn(browser, `${issuer}/account/lock`, KHOA);
      expect(page.body).to.include('cơ quan Công an');
      const done = await browser.submit(formWithAction(page, '/account/lock'));
      expect(done.status).to.equal(200);
      expect(done.body).to.include('Tài khoản đã bị khóa');
      const account = await world.server.container.accounts.findByNationalId(KHOA.id);
      expect(account?.status).to.equal('locked');
      expect(await world.server.container.ephemeralModels.sessionIdsOfAccount(account!.id)).to.deep.equal([]);
      expect((await world.outbox(KHOA.phone))[0]?.body).to.include('đã bị khóa');
      const events = await world.server.container.audit.eventsForAccount(account!.id);
      expect(events.find((event) => event.type === 'account.locked')?.data).to.include({ by: 'holder' });
      const again = await browser.get(`${issuer}/account`);
      const refused = await browser.submit(formsOf(again).find((form) => form.action.endsWith('/login'))!, { username: KHOA.id, password: KHOA.password });
      expect(refused.status).to.equal(403);
    });
  });
});

describe('the account console as a relying party', () => {
  it('derives the same client secret on every instance from the key-encryption key', () => {
    const key = randomBytes(32);
    expect(consoleClientSecret(key)).to.equal(consoleClientSecret(Buffer.from(key)));
    expect(consoleClientSecret(key)).to.not.equal(consoleClientSecret(randomBytes(32)));
    expect(consoleClientSecret(key)).to.have.length.of.at.least(40);
  });

  it("sends its back-channel calls to this instance over loopback with the issuer's Host header", async () => {
    const seen: { host?: string; url?: string; body?: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ host: req.headers.host, url: req.url, body });
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const fetchLoopback = loopbackFetch('https://id.example.vn', { host: '127.0.0.1', port });
      const response = await fetchLoopback('https://id.example.vn/token?x=1', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code' }),
        redirect: 'manual',
      } as never);
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ ok: true });
      expect(seen).to.deep.equal([{ host: 'id.example.vn', url: '/token?x=1', body: 'grant_type=authorization_code' }]);
      let refused: unknown;
      try {
        await fetchLoopback('https://elsewhere.example/token', { method: 'GET', headers: {}, redirect: 'manual' } as never);
      } catch (error) {
        refused = error;
      }
      expect(refused).to.be.instanceOf(Error);
    } finally {
      server.close();
    }
  });
});
