// Account administration and the audit trail through the admin API (docs/administration.md "Account administration",
// "Audit trail"): finding an account and seeing its factors (never a secret), lock (an existing
// refresh token stops working) and unlock, ending all sessions, four eyes on level 2, resetting the
// second factors (the first new enrolment then needs the code handed over in person), who may call
// what, the audit event of each action, and the audit query and NDJSON export.
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, auditEvents, serviceToken, FIRST_ADMIN, SECOND_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { Browser, alertsOf, formsOf, stepOf, type Page, type PageForm } from '../support/browserless.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { relyingPartyOf } from '../../src/accounts/second-factors.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { composeNationalId } from '../../src/registry/national-id.ts';

type Json = Record<string, unknown>;
const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };

function formWithAction(page: Page, pathname: string): PageForm {
  const form = formsOf(page).find((candidate) => new URL(candidate.action).pathname === pathname);
  if (!form) throw new Error(`no form posting to ${pathname} at ${page.url} (HTTP ${page.status})`);
  return form;
}

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

describe('admin API: accounts and the audit trail', function () {
  this.timeout(90_000);
  let world: RunningServer;
  let officer: AdminCredentials & { kind: 'session' };
  let second: AdminCredentials & { kind: 'session' };
  let auditor: AdminCredentials & { kind: 'session' };
  let portal: client.Configuration;
  let bichId: string;

  before(async () => {
    world = await startTestServer();
    officer = await adminSession(world, FIRST_ADMIN, ['support_officer']);
    second = await adminSession(world, SECOND_ADMIN, ['support_officer', 'auditor']);
    auditor = second;
    portal = await client.discovery(new URL(world.issuer), PORTAL.id, undefined, client.ClientSecretBasic(PORTAL.secret), { execute: [client.allowInsecureRequests] });
    bichId = (await world.server.container.accounts.findByNationalId(BICH.id))!.id;
  });
  after(() => world?.close());

  const call = <T = Json>(method: string, path: string, body?: unknown, who: AdminCredentials = officer) => adminCall<T>(world, who, method, path, body);

  /** A citizen of this suite: a registry record and an account, level 2 with TOTP when `totpSecret` is given. */
  let serial = 700;
  async function enrol(totpSecret?: string): Promise<{ id: string; password: string; accountId: string }> {
    const { container } = world.server;
    serial += 1;
    const nationalId = composeNationalId('001', 1990, 'female', serial);
    const password = `Admin#${serial}Test`;
    await container.registry.upsert({
      nationalId,
      fullName: 'Trần Thị Mai',
      birthDate: '1990-03-04',
      gender: 'female',
      birthRegistrationProvince: '001',
      placeOfOrigin: 'Hà Nội',
      ethnicity: 'Kinh',
      nationality: 'VN',
      idCardIssueDate: '2021-04-01',
      idCardExpiryDate: null,
      permanentAddress: { streetAddress: '1 Tràng Tiền', locality: 'Hoàn Kiếm', region: 'Hà Nội', country: 'VN' },
      temporaryAddress: null,
      diedOn: null,
      missingSince: null,
      contactPhone: null,
      contactEmail: null,
    });
    const account = await container.accounts.enrol({
      nationalId,
      level: totpSecret ? 2 : 1,
      passwordHash: await container.passwords.hash(password),
      totpSecretSealed: totpSecret ? container.sealer.seal(totpSecret, `totp:${nationalId}`) : null,
      phoneNumber: null,
      phoneNumberVerified: false,
      email: null,
      emailVerified: false,
    });
    return { id: nationalId, password, accountId: account.id };
  }

  /** A sign-in at the portal with offline_access: the refresh token. */
  async function refreshTokenOf(citizen: { id: string; password: string }): Promise<string> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: PORTAL.redirectUri,
      scope: 'openid offline_access',
      prompt: 'consent',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await new Browser(world.issuer).signIn(url, citizen.id, citizen.password, { consent: true });
    const tokens = await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.refresh_token, 'a refresh token').to.be.a('string');
    return tokens.refresh_token!;
  }

  async function refreshError(refreshToken: string): Promise<string | undefined> {
    try {
      await client.refreshTokenGrant(portal, refreshToken);
      return undefined;
    } catch (failure) {
      if (failure instanceof client.ResponseBodyError) return failure.error;
      throw failure;
    }
  }

  describe('finding an account', () => {
    it('finds by ID number (in the body, not the URL) and shows status, level and factors, never a secret; the look is audited', async () => {
      const secret = 'JBSWY3DPEHPK3PXQ';
      const citizen = await enrol(secret);
      const answer = await call('POST', '/api/accounts/lookup', { nationalId: citizen.id });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      expect(answer.body).to.deep.include({ accountId: citizen.accountId, nationalId: citizen.id, level: 2, status: 'active', handoverCode: null, pendingLevelTwo: null });
      expect(answer.body.factors).to.deep.include({ passkeys: [], recoveryCodesLeft: 0 });
      expect((answer.body.factors as Json).totp).to.be.an('object');
      const sealed = (await world.server.container.db('accounts').where({ id: citizen.accountId }).first<{ totp_secret_sealed: string | null }>('totp_secret_sealed')).totp_secret_sealed as string;
      expect(JSON.stringify(answer.body)).to.not.include(secret).and.not.include(sealed);
      expect((await call('GET', `/api/accounts/${citizen.accountId}`)).body).to.deep.include({ accountId: citizen.accountId });
      const looks = (await auditEvents(world, 'admin.action', `account:${officer.accountId}`)).filter((event) => event.data.action === 'account.viewed' && event.account_id === citizen.accountId);
      expect(looks).to.have.length(2);
      expect(JSON.stringify(looks)).to.not.include(citizen.id);
    });

    it('answers 404 for nobody, 400 for a malformed ID number', async () => {
      expect((await call('POST', '/api/accounts/lookup', { nationalId: '031190009999' })).status).to.equal(404);
      expect((await call('POST', '/api/accounts/lookup', { nationalId: '0311' })).status).to.equal(400);
      expect((await call('GET', '/api/accounts/not-an-id')).status).to.equal(400);
    });
  });

  describe('lock, unlock and ending sessions', () => {
    it('locks with a reason: the existing refresh token stops working, sign-in is refused, the lock is audited', async () => {
      const citizen = await enrol();
      const refreshToken = await refreshTokenOf(citizen);
      expect(await refreshError(refreshToken), 'the token works before the lock').to.equal(undefined);
      const answer = await call('POST', `/api/accounts/${citizen.accountId}/lock`, { reason: 'Báo mất điện thoại (phiếu HT-77)' });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      expect(answer.body).to.deep.include({ lockedNow: true });
      expect(answer.body.grants).to.be.at.least(1);
      expect(await refreshError(refreshToken)).to.equal('invalid_grant');
      const row = await world.server.container.db('accounts').where({ id: citizen.accountId }).first<{ status: string; lock_reason: string; locked_at: Date }>();
      expect(row).to.deep.include({ status: 'locked', lock_reason: 'Báo mất điện thoại (phiếu HT-77)' });
      const [event] = (await auditEvents(world, 'admin.action', `account:${officer.accountId}`)).filter((item) => item.data.action === 'account.lock' && item.account_id === citizen.accountId);
      expect(event?.data).to.deep.include({ reason: 'Báo mất điện thoại (phiếu HT-77)', via: 'api', lockedNow: true });
      // Locking again changes nothing but is answered.
      expect((await call('POST', `/api/accounts/${citizen.accountId}/lock`, { reason: 'again' })).body).to.deep.include({ lockedNow: false });
    });

    it('refuses a lock without a reason (400), changing nothing', async () => {
      const citizen = await enrol();
      for (const body of [{}, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: 'ok', extra: 1 }]) {
        expect((await call('POST', `/api/accounts/${citizen.accountId}/lock`, body)).status, JSON.stringify(body)).to.equal(400);
      }
      expect(await world.server.container.db('accounts').where({ id: citizen.accountId }).first('status')).to.deep.equal({ status: 'active' });
    });

    it('unlocks with a reason, audited', async () => {
      const citizen = await enrol();
      await call('POST', `/api/accounts/${citizen.accountId}/lock`, { reason: 'suspected fraud' });
      const answer = await call('POST', `/api/accounts/${citizen.accountId}/unlock`, { reason: 'cleared after the in-person check' }, second);
      expect(answer.body).to.deep.equal({ unlockedNow: true });
      expect(await world.server.container.db('accounts').where({ id: citizen.accountId }).first('status', 'lock_reason')).to.deep.equal({ status: 'active', lock_reason: null });
      const events = (await auditEvents(world, 'admin.action', `account:${second.accountId}`)).filter((item) => item.data.action === 'account.unlock' && item.account_id === citizen.accountId);
      expect(events[0]?.data).to.deep.include({ reason: 'cleared after the in-person check', unlockedNow: true });
    });

    it('ends all sessions and refresh tokens without locking; audited', async () => {
      const citizen = await enrol();
      const refreshToken = await refreshTokenOf(citizen);
      const answer = await call('POST', `/api/accounts/${citizen.accountId}/end-sessions`, { reason: 'the citizen asked at the counter' });
      expect(answer.status).to.equal(200);
      expect(answer.body.grants).to.be.at.least(1);
      expect(await refreshError(refreshToken)).to.equal('invalid_grant');
      expect(await world.server.container.db('accounts').where({ id: citizen.accountId }).first('status')).to.deep.equal({ status: 'active' });
      const events = (await auditEvents(world, 'admin.action')).filter((item) => item.data.action === 'account.sessions.ended' && item.account_id === citizen.accountId);
      expect(events).to.have.length(1);
    });
  });

  describe('raising to level 2: four eyes', () => {
    it('one officer asks with evidence; the same officer cannot confirm; a second one does', async () => {
      const requested = await call('POST', `/api/accounts/${bichId}/level-requests`, { evidence: 'CCCD gốc, hồ sơ HS-2026-0107' });
      expect(requested.status, JSON.stringify(requested.body)).to.equal(202);
      const requestId = requested.body.requestId as string;
      expect((await call('POST', '/api/accounts/lookup', { nationalId: BICH.id })).body.pendingLevelTwo).to.deep.include({ requestId });

      const alone = await call('POST', `/api/accounts/level-requests/${requestId}/approve`);
      expect(alone.status).to.equal(403);
      expect(alone.body.code).to.equal('four_eyes');
      expect(await world.server.container.db('accounts').where({ id: bichId }).first('level')).to.deep.equal({ level: 1 });

      const confirmed = await call('POST', `/api/accounts/level-requests/${requestId}/approve`, undefined, second);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      expect(confirmed.body).to.deep.include({ status: 'approved', requestedBy: `account:${officer.accountId}`, decidedBy: `account:${second.accountId}` });
      const row = await world.server.container.db('accounts').where({ id: bichId }).first<{ level: number; level_evidence: string; level_raised_by: string; level_evidence_method: string }>();
      // In person: verified claims report the card as inspected at the counter (src/oidc/consent/verified-claims.ts).
      expect(row).to.deep.include({ level: 2, level_evidence: 'CCCD gốc, hồ sơ HS-2026-0107', level_evidence_method: 'in_person' });
      expect(row.level_raised_by).to.include(officer.accountId).and.include(second.accountId);
      // Decided once: a second decision is a conflict.
      expect((await call('POST', `/api/accounts/level-requests/${requestId}/reject`, undefined, second)).status).to.equal(409);

      const actions = (await auditEvents(world, 'admin.action'))
        .filter((item) => item.account_id === bichId && item.data.action !== 'account.viewed')
        .map((item) => item.data.action)
        .reverse();
      expect(actions).to.deep.equal(['account.level2.requested', 'account.level2.refused', 'account.level2.confirmed']);
      // Already at level 2: no new request.
      expect((await call('POST', `/api/accounts/${bichId}/level-requests`, { evidence: 'again' })).status).to.equal(409);
    });

    it('the generic four-eyes endpoint does not let a client administrator (not a support officer) confirm one', async () => {
      const citizen = await enrol();
      const requestId = (await call('POST', `/api/accounts/${citizen.accountId}/level-requests`, { evidence: 'CCCD gốc' })).body.requestId as string;
      // BICH is at level 2 since the test above, so may hold a role.
      const clientAdmin = await adminSession(world, BICH.id, ['client_admin']);
      const answer = await call('POST', `/api/approvals/${requestId}/approve`, undefined, clientAdmin);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(403);
      expect(await world.server.container.db('accounts').where({ id: citizen.accountId }).first('level')).to.deep.equal({ level: 1 });
      expect(await world.server.container.db('admin_approvals').where({ id: requestId }).first('status')).to.deep.equal({ status: 'pending' });
    });

    it('a rejected request leaves the account at level 1', async () => {
      const citizen = await enrol();
      const requestId = (await call('POST', `/api/accounts/${citizen.accountId}/level-requests`, { evidence: 'photocopy only' })).body.requestId as string;
      const rejected = await call('POST', `/api/accounts/level-requests/${requestId}/reject`, undefined, second);
      expect(rejected.body).to.deep.include({ status: 'rejected' });
      expect(await world.server.container.db('accounts').where({ id: citizen.accountId }).first('level')).to.deep.equal({ level: 1 });
    });
  });

  describe('resetting second factors', () => {
    it('removes TOTP and passkeys, ends access, and the first new enrolment needs the code handed over in person', async () => {
      const { container } = world.server;
      const citizen = await enrol('KRSXG5CTMVRXEZLV');
      await container.db('passkeys').insert({ credential_id: `cred-${citizen.accountId}`, account_id: citizen.accountId, public_key: 'AAAA', name: 'Old phone' });
      const refreshToken = await refreshTokenOf(citizen);

      const reset = await call('POST', `/api/accounts/${citizen.accountId}/reset-second-factors`, { reason: 'lost phone, identity checked at the counter' });
      expect(reset.status, JSON.stringify(reset.body)).to.equal(200);
      const code = reset.body.handoverCode as string;
      expect(code).to.match(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      expect(reset.body.removed).to.deep.equal({ totp: true, passkeys: 1, recoveryCodes: 0 });
      expect(await refreshError(refreshToken)).to.equal('invalid_grant');
      const stored = await container.db('enrolment_handover_codes').where({ account_id: citizen.accountId }).first<{ code_hash: string; issued_by: string }>();
      expect(stored.code_hash).to.not.include(code.replace('-', ''));
      expect(stored.issued_by).to.equal(`account:${officer.accountId}`);
      expect(await container.db('passkeys').where({ account_id: citizen.accountId })).to.have.length(0);
      const view = (await call('POST', '/api/accounts/lookup', { nationalId: citizen.id })).body;
      expect(view.factors).to.deep.include({ totp: null, passkeys: [] });
      expect(view.handoverCode).to.deep.include({ issuedBy: `account:${officer.accountId}` });
      expect(JSON.stringify(view)).to.not.include(code);
      const events = (await auditEvents(world, 'admin.action')).filter((item) => item.data.action === 'account.factors.reset' && item.account_id === citizen.accountId);
      expect(events[0]?.data).to.deep.include({ reason: 'lost phone, identity checked at the counter' });
      expect(JSON.stringify(events)).to.not.include(code);

      // The citizen, with the password alone, reaches the enrolment page: it asks for the handover code.
      const browser = new Browser(world.issuer);
      const page = await openSignedIn(browser, `${world.issuer}/account/totp`, citizen);
      expect(page.url).to.equal(`${world.issuer}/account/totp`);
      expect(page.body).to.include('name="handover_code"').and.include('Mã bàn giao');
      const english = await browser.get(`${world.issuer}/account/totp?lang=en`);
      expect(english.body).to.include('Handover code given to you in person');
      const secret = /data-secret="([A-Z2-7]+)"/.exec(english.body)![1]!;

      const without = await browser.submit(formWithAction(english, '/account/totp'), { code: await currentTotp(secret), handover_code: '' });
      expect(without.status).to.equal(400);
      const wrong = await browser.submit(formWithAction(without, '/account/totp'), { code: await currentTotp(secret), handover_code: 'ZZZZ-ZZZZ' });
      expect(wrong.status).to.equal(400);
      expect(alertsOf(wrong).join(' ')).to.match(/handover code is not right|Mã bàn giao không đúng/);
      expect((await container.db('accounts').where({ id: citizen.accountId }).first<{ totp_secret_sealed: string | null }>('totp_secret_sealed')).totp_secret_sealed).to.equal(null);

      const done = await browser.submit(formWithAction(wrong, '/account/totp'), { code: await currentTotp(secret), handover_code: code.toLowerCase() });
      expect(done.url).to.equal(`${world.issuer}/account`);
      const row = await container.db('accounts').where({ id: citizen.accountId }).first<{ totp_secret_sealed: string | null }>('totp_secret_sealed');
      expect(container.sealer.open(row.totp_secret_sealed!, `totp:${citizen.id}`)).to.equal(secret);
      // Spent: the next enrolment asks for nothing more.
      expect(await container.db('enrolment_handover_codes').where({ account_id: citizen.accountId })).to.have.length(0);
    });

    it('asks for the code at a passkey enrolment too', async () => {
      const { container } = world.server;
      const citizen = await enrol('KRSXG5CTMVRXEZLX');
      const code = (await call('POST', `/api/accounts/${citizen.accountId}/reset-second-factors`, { reason: 'new phone' })).body.handoverCode as string;
      const relyingParty = relyingPartyOf(world.issuer);
      const authenticator = new SoftAuthenticator(relyingParty.origin, relyingParty.id);
      const optionsOf = (page: Page) =>
        JSON.parse(/data-passkey-options="([^"]*)"/.exec(page.body)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&#39;/g, "'")) as { challenge: string; user: { id: string } };
      const browser = new Browser(world.issuer);
      const page = await openSignedIn(browser, `${world.issuer}/account/passkeys/new`, citizen);
      expect(page.body).to.include('name="handover_code"');
      const refused = await browser.submit(formWithAction(page, '/account/passkeys'), {
        name: 'New phone',
        credential: JSON.stringify(authenticator.register(optionsOf(page))),
        handover_code: 'AAAA-AAAA',
      });
      expect(refused.status).to.equal(400);
      expect(alertsOf(refused).join(' ')).to.include('Mã bàn giao không đúng');
      expect(await container.db('passkeys').where({ account_id: citizen.accountId })).to.have.length(0);
      const added = await browser.submit(formWithAction(refused, '/account/passkeys'), {
        name: 'New phone',
        credential: JSON.stringify(new SoftAuthenticator(relyingParty.origin, relyingParty.id).register(optionsOf(refused))),
        handover_code: code,
      });
      expect(added.url, `HTTP ${added.status}: ${alertsOf(added).join(' ')}`).to.equal(`${world.issuer}/account`);
      expect(await container.db('passkeys').where({ account_id: citizen.accountId })).to.have.length(1);
      expect(await container.db('enrolment_handover_codes').where({ account_id: citizen.accountId })).to.have.length(0);
    });

    it('voids the code after five wrong tries: a new reset is needed', async () => {
      const { container } = world.server;
      const citizen = await enrol('KRSXG5CTMVRXEZLW');
      const code = (await call('POST', `/api/accounts/${citizen.accountId}/reset-second-factors`, { reason: 'test' })).body.handoverCode as string;
      const browser = new Browser(world.issuer);
      let page = await openSignedIn(browser, `${world.issuer}/account/totp`, citizen);
      for (let attempt = 0; attempt < 5; attempt += 1) page = await browser.submit(formWithAction(page, '/account/totp'), { code: '123456', handover_code: 'AAAA-AAAA' });
      const secret = /data-secret="([A-Z2-7]+)"/.exec(page.body)![1]!;
      const late = await browser.submit(formWithAction(page, '/account/totp'), { code: await currentTotp(secret), handover_code: code });
      expect(late.status).to.equal(400);
      expect(alertsOf(late).join(' ')).to.include('hết hạn');
      expect((await container.db('accounts').where({ id: citizen.accountId }).first<{ totp_secret_sealed: string | null }>('totp_secret_sealed')).totp_secret_sealed).to.equal(null);
    });
  });

  describe('who may do what', () => {
    it('refuses other roles, and automation where a person must act; each refusal is audited', async () => {
      const clientAdmin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
      const onlyAuditor = await adminSession(world, BICH.id, ['auditor']);
      expect((await call('POST', '/api/accounts/lookup', { nationalId: BICH.id }, onlyAuditor)).status).to.equal(403);
      // FIRST_ADMIN holds support_officer too (granted above): a client_admin-only session is another account.
      expect((await call('GET', '/api/audit/events', undefined, clientAdmin)).status).to.equal(403);
      const robot = await serviceToken(world, ['admin:accounts']);
      const citizen = await enrol();
      expect((await call('POST', `/api/accounts/${citizen.accountId}/lock`, { reason: 'fraud engine rule 12' }, robot)).status).to.equal(200);
      expect((await call('POST', `/api/accounts/${citizen.accountId}/reset-second-factors`, { reason: 'x' }, robot)).status).to.equal(403);
      expect((await call('POST', `/api/accounts/${citizen.accountId}/level-requests`, { evidence: 'x' }, robot)).status).to.equal(403);
      expect((await call('GET', '/api/audit/events', undefined, robot)).status).to.equal(403);
      const denied = await auditEvents(world, 'admin.denied', `client:${robot.clientId}`);
      expect(denied.map((event) => event.data.operation)).to.include.members(['resetSecondFactors', 'requestLevelTwo', 'queryAuditEvents']);
    });
  });

  describe('the audit trail', () => {
    it('answers a query by account and type in pages, for auditors', async () => {
      const seen: Json[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page += 1) {
        const answer = await call<{ events: Json[]; next?: string }>('GET', `/api/audit/events?accountId=${bichId}&type=admin.action&limit=2${cursor ? `&cursor=${cursor}` : ''}`, undefined, auditor);
        expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
        seen.push(...answer.body.events);
        cursor = answer.body.next;
        if (!cursor) break;
      }
      const actions = seen.map((event) => (event.data as Json).action);
      expect(actions).to.include.members(['account.level2.requested', 'account.level2.confirmed']);
      expect(seen.every((event) => event.accountId === bichId && event.type === 'admin.action')).to.equal(true);
      const ids = seen.map((event) => Number(event.id));
      expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
      const byActor = await call<{ events: Json[] }>('GET', `/api/audit/events?actor=${encodeURIComponent(`account:${second.accountId}`)}&type=admin.action`, undefined, auditor);
      expect(byActor.body.events.length).to.be.at.least(1);
      expect(byActor.body.events.every((event) => event.actor === `account:${second.accountId}`)).to.equal(true);
      expect((await call('GET', '/api/audit/events?from=someday', undefined, auditor)).status).to.equal(400);
      expect((await call('GET', '/api/audit/events?limit=100000', undefined, auditor)).status).to.equal(400);
    });

    it('exports NDJSON, streamed, with the filters; the export is audited', async () => {
      const from = new Date(Date.now() - 3600_000).toISOString();
      const response = await fetch(`${world.adminUrl}/api/audit/export?type=admin.action&accountId=${bichId}&from=${encodeURIComponent(from)}`, {
        headers: { cookie: auditor.cookie },
      });
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.include('application/x-ndjson');
      const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as Json);
      expect(lines.length).to.be.at.least(3);
      expect(lines.every((line) => line.type === 'admin.action' && line.accountId === bichId)).to.equal(true);
      const ids = lines.map((line) => Number(line.id));
      expect(ids, 'oldest first').to.deep.equal([...ids].sort((a, b) => a - b));
      expect(lines[0]!.hash).to.match(/^[0-9a-f]{64}$/);
      const exports = (await auditEvents(world, 'admin.action', `account:${auditor.accountId}`)).filter((event) => event.data.action === 'audit.exported');
      expect(exports).to.have.length(1);
    });
  });
});
