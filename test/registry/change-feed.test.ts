// The registry change feed, seen from outside: events applied to a whole server on PostgreSQL and Redis,
// their effects observed through a real relying party (openid-client) and the sign-in pages — a death
// ends sessions, grants and refresh tokens; a rename or a move shows in the next userinfo; a feed
// applied twice changes nothing the second time; bad lines are reported by number, the rest applied.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { alertsOf, Browser, formsOf, stepOf } from '../support/browserless.ts';
import { applyChangeFeed, describeChangeFeedProblem, type ChangeFeedDependencies, type ChangeFeedSummary } from '../../src/registry/change-feed.ts';
import { composeNationalId, type Gender } from '../../src/registry/national-id.ts';

interface Rp {
  readonly id: string;
  readonly secret: string;
  readonly redirectUri: string;
}
const PORTAL: Rp = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const TAX: Rp = { id: 'demo-tax', secret: 'demo-tax-secret', redirectUri: 'http://127.0.0.1:4001/callback' };

interface Citizen {
  readonly id: string;
  readonly password: string;
  readonly accountId: string;
}

const ADDRESS = { streetAddress: '7 Đường Trần Phú', locality: 'Phường Ba Đình', region: 'Thành phố Hà Nội', country: 'VN' as const };

function event(fields: Record<string, unknown>): string {
  return JSON.stringify(fields);
}

function idOf(line: string): string {
  return (JSON.parse(line) as { id: string }).id;
}

describe('the registry change feed (registry apply-changes)', function () {
  let world: RunningServer;
  let deps: ChangeFeedDependencies;
  let serial = 500;
  let eventSerial = 0;
  const configs = new Map<string, Promise<client.Configuration>>();

  function discover(rp: Rp): Promise<client.Configuration> {
    let config = configs.get(rp.id);
    if (!config) {
      config = client.discovery(new URL(world.issuer), rp.id, undefined, client.ClientSecretBasic(rp.secret), { execute: [client.allowInsecureRequests] });
      configs.set(rp.id, config);
    }
    return config;
  }

  /** A citizen of this suite only (registry record and level-1 account with a password, no second factor). */
  async function enrol(fullName: string, gender: Gender, birthDate: string): Promise<Citizen> {
    const { container } = world.server;
    serial += 1;
    const nationalId = composeNationalId('001', Number(birthDate.slice(0, 4)), gender, serial);
    const password = `Feed#${serial}Test`;
    await container.registry.upsert({
      nationalId,
      fullName,
      birthDate,
      gender,
      birthRegistrationProvince: '001',
      placeOfOrigin: 'Hà Nội',
      ethnicity: 'Kinh',
      nationality: 'VN',
      idCardIssueDate: '2021-04-01',
      idCardExpiryDate: null,
      permanentAddress: ADDRESS,
      temporaryAddress: null,
      diedOn: null,
      missingSince: null,
      contactPhone: null,
      contactEmail: null,
    });
    const account = await container.accounts.enrol({
      nationalId,
      level: 1,
      passwordHash: await container.passwords.hash(password),
      totpSecretSealed: null,
      phoneNumber: null,
      phoneNumberVerified: false,
      email: null,
      emailVerified: false,
    });
    return { id: nationalId, password, accountId: account.id };
  }

  /** A whole sign-in through the pages, and the code redeemed. */
  async function signIn(rp: Rp, citizen: Citizen, scope: string, options: { browser?: Browser; prompt?: string } = {}) {
    const config = await discover(rp);
    const browser = options.browser ?? new Browser(world.issuer);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: rp.redirectUri,
      scope,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      ...(options.prompt && { prompt: options.prompt }),
    });
    const callback = await browser.signIn(url, citizen.id, citizen.password, { consent: true });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    return { browser, tokens, sub: tokens.claims()!.sub };
  }

  /** Where an authorization request with prompt=none ends for this browser: the callback URL. */
  async function silently(rp: Rp, browser: Browser): Promise<URL> {
    const config = await discover(rp);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: rp.redirectUri,
      scope: 'openid',
      state: client.randomState(),
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      prompt: 'none',
    });
    const page = await browser.get(url);
    expect(page.location, `prompt=none ends in a redirect (HTTP ${page.status})`).to.be.a('string');
    return new URL(page.location!);
  }

  async function oauthError(attempt: Promise<unknown>): Promise<string> {
    try {
      await attempt;
    } catch (failure) {
      if (failure instanceof client.ResponseBodyError) return failure.error;
      if (failure instanceof client.WWWAuthenticateChallengeError) return String(failure.cause[0]?.parameters.error);
      throw failure;
    }
    throw new Error('expected the request to be refused');
  }

  function feed(...lines: string[]): AsyncIterable<string> {
    return Readable.from(lines);
  }

  function nextEventId(): string {
    eventSerial += 1;
    return `test-${eventSerial}`;
  }

  async function accountStatus(citizen: Citizen): Promise<string> {
    const row = await world.server.container.db<{ id: string; status: string }>('accounts').where({ id: citizen.accountId }).first('status');
    return row!.status;
  }

  async function auditCount(type: string): Promise<number> {
    await world.server.container.audit.flush();
    const [row] = await world.server.container.db('audit_events').where({ type }).count<{ count: string }[]>({ count: '*' });
    return Number(row!.count);
  }

  before(async function () {
    this.timeout(60_000);
    world = await startTestServer();
    const { container } = world.server;
    deps = { db: container.db, audit: container.audit, access: container.sessions, registry: container.registryGateway, actor: 'test:feed' };
  });

  after(async function () {
    await world?.close();
  });

  describe('a death', function () {
    let lan: Citizen;
    let summary: ChangeFeedSummary;
    let held: { browser: Browser; refreshToken: string; accessToken: string; offlineRefreshToken: string };
    const deathId = 'death-of-lan';

    before(async function () {
      this.timeout(30_000);
      lan = await enrol('Vũ Thị Lan', 'female', '1985-04-12');
      // A session with a refresh token, and an offline grant whose session has gone (expired): both must end.
      const online = await signIn(PORTAL, lan, 'openid profile offline_access', { prompt: 'consent' });
      const offline = await signIn(TAX, lan, 'openid offline_access', { prompt: 'consent' });
      const ephemeral = world.server.container.ephemeralModels;
      const offlineSessions = new Set(await ephemeral.sessionIdsOfAccount(lan.accountId));
      // The second browser's session: find it as the one the first browser's cookie does not name.
      for (const id of offlineSessions) {
        const session = await ephemeral.find('Session', id);
        if (session && Object.keys(session.authorizations ?? {}).includes(TAX.id)) await ephemeral.destroy('Session', id);
      }
      held = {
        browser: online.browser,
        refreshToken: online.tokens.refresh_token!,
        accessToken: online.tokens.access_token,
        offlineRefreshToken: offline.tokens.refresh_token!,
      };
      expect((await silently(PORTAL, held.browser)).searchParams.get('code'), 'signed in silently before the death').to.be.a('string');
      summary = await applyChangeFeed(feed(event({ id: deathId, type: 'died', national_id: lan.id, occurred_on: '2026-11-20' })), deps);
    });

    it('is applied and locks the eID account', async function () {
      expect(summary).to.include({ read: 1, applied: 1, unchanged: 0, rejected: 0, accountsLocked: 1 });
      expect(await accountStatus(lan)).to.equal('locked');
      const record = await world.server.container.registry.findByNationalId(lan.id);
      expect(record?.diedOn).to.equal('2026-11-20');
    });

    it('ends her session: prompt=none no longer signs her in silently', async function () {
      expect(summary.sessionsEnded).to.be.at.least(1);
      const callback = await silently(PORTAL, held.browser);
      expect(callback.searchParams.get('code')).to.equal(null);
      expect(callback.searchParams.get('error')).to.equal('login_required');
      expect(await world.server.container.ephemeralModels.sessionIdsOfAccount(lan.accountId)).to.deep.equal([]);
    });

    it('refuses her refresh tokens, including one whose session had already gone', async function () {
      expect(summary.grantsRevoked).to.equal(2);
      expect(await oauthError(client.refreshTokenGrant(await discover(PORTAL), held.refreshToken))).to.equal('invalid_grant');
      expect(await oauthError(client.refreshTokenGrant(await discover(TAX), held.offlineRefreshToken))).to.equal('invalid_grant');
      const left = await world.server.container.db('oidc_models').whereRaw(`payload->>'accountId' = ?`, [lan.accountId]).count({ count: '*' });
      expect(Number((left[0] as { count: string }).count), 'no grant or refresh token left in PostgreSQL').to.equal(0);
    });

    it('refuses her access token at userinfo', async function () {
      const config = await discover(PORTAL);
      expect(await oauthError(client.fetchUserInfo(config, held.accessToken, client.skipSubjectCheck))).to.equal('invalid_token');
    });

    it('refuses her sign-in with the right password, with an alert and no code', async function () {
      const browser = new Browser(world.issuer);
      const config = await discover(PORTAL);
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: PORTAL.redirectUri,
        scope: 'openid',
        state: client.randomState(),
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const login = await browser.get(url);
      expect(stepOf(login)).to.equal('login');
      const form = formsOf(login).find((candidate) => candidate.action.endsWith('/login'))!;
      const page = await browser.submit(form, { username: lan.id, password: lan.password });
      expect(page.status).to.equal(403);
      expect(alertsOf(page)[0]).to.be.a('string').and.not.empty;
      expect(page.location).to.equal(undefined);
    });

    it('is in the audit trail: the registry change and the lock, without personal values', async function () {
      await world.server.container.audit.flush();
      const events = await world.server.container.audit.eventsForAccount(lan.accountId);
      const changed = events.find((recorded) => recorded.type === 'registry.changed');
      expect(changed?.data).to.deep.equal({ eventId: deathId, change: 'died', accountLocked: true, sessionsEnded: summary.sessionsEnded, grantsRevoked: 2 });
      expect(changed?.actor).to.equal('test:feed');
      const locked = events.find((recorded) => recorded.type === 'account.locked');
      expect(locked?.data).to.deep.equal({ reason: 'registry.died', eventId: deathId });
      expect(JSON.stringify(events.filter((recorded) => recorded.type === 'registry.changed'))).to.not.include(lan.id).and.not.include('2026-11-20');
    });
  });

  it('going missing locks the account and refuses the sign-in too', async function () {
    const minh = await enrol('Đặng Văn Minh', 'male', '1979-09-09');
    const { browser } = await signIn(PORTAL, minh, 'openid');
    const summary = await applyChangeFeed(feed(event({ id: nextEventId(), type: 'went_missing', national_id: minh.id, occurred_on: '2026-10-01' })), deps);
    expect(summary).to.include({ applied: 1, accountsLocked: 1, sessionsEnded: 1 });
    expect(await accountStatus(minh)).to.equal('locked');
    expect((await world.server.container.registry.findByNationalId(minh.id))?.missingSince).to.equal('2026-10-01');
    expect((await silently(PORTAL, browser)).searchParams.get('error')).to.equal('login_required');
    let refused: unknown;
    try {
      await signIn(PORTAL, minh, 'openid');
    } catch (error) {
      refused = error;
    }
    expect(String(refused)).to.match(/sign-in refused|HTTP 403/);
  });

  it('a rename and a move show in the next userinfo, with the same access token', async function () {
    const hoa = await enrol('Bùi Thị Hoa', 'female', '1992-02-29');
    const { tokens, sub } = await signIn(PORTAL, hoa, 'openid profile address');
    const config = await discover(PORTAL);
    const beforeChange = await client.fetchUserInfo(config, tokens.access_token, sub);
    expect(beforeChange).to.include({ name: 'Bùi Thị Hoa', given_name: 'Hoa' });

    // The new name arrives decomposed (NFD) and with stray spaces: it is stored NFC, split and folded.
    const summary = await applyChangeFeed(
      feed(
        event({ id: nextEventId(), type: 'renamed', national_id: hoa.id, occurred_on: '2026-11-02', full_name: '  Bùi  Ngọc Hoa Mai '.normalize('NFD') }),
        event({
          id: nextEventId(),
          type: 'moved',
          national_id: hoa.id,
          occurred_on: '2026-11-03',
          permanent_address: { street_address: '99 Đường Nguyễn Huệ', locality: 'Phường Sài Gòn', region: 'Thành phố Hồ Chí Minh' },
        }),
      ),
      deps,
    );
    expect(summary).to.include({ applied: 2, rejected: 0, accountsLocked: 0 });
    expect(await accountStatus(hoa)).to.equal('active');

    const afterChange = await client.fetchUserInfo(config, tokens.access_token, sub);
    expect(afterChange).to.include({ name: 'Bùi Ngọc Hoa Mai', family_name: 'Bùi', middle_name: 'Ngọc Hoa', given_name: 'Mai' });
    expect(afterChange.name).to.equal('Bùi Ngọc Hoa Mai'.normalize('NFC'));
    expect(afterChange.address).to.deep.include({
      street_address: '99 Đường Nguyễn Huệ',
      locality: 'Phường Sài Gòn',
      region: 'Thành phố Hồ Chí Minh',
      formatted: '99 Đường Nguyễn Huệ, Phường Sài Gòn, Thành phố Hồ Chí Minh, Việt Nam',
    });
    const row = await world.server.container.db<{ national_id: string; full_name_folded: string }>('registry_records').where({ national_id: hoa.id }).first('full_name_folded');
    expect(row?.full_name_folded).to.equal('bui ngoc hoa mai');
  });

  it('a reissued card shows its new issue date and the expiry that follows from it', async function () {
    const tuan = await enrol('Hồ Văn Tuấn', 'male', '1985-04-12');
    const { tokens, sub } = await signIn(TAX, tuan, 'openid identity_document');
    const summary = await applyChangeFeed(feed(event({ id: nextEventId(), type: 'card_reissued', national_id: tuan.id, occurred_on: '2026-01-15' })), deps);
    expect(summary.applied).to.equal(1);
    const userinfo = await client.fetchUserInfo(await discover(TAX), tokens.access_token, sub);
    // Issued at 40: the card lasts until the 60th birthday.
    expect(userinfo).to.include({ id_card_issue_date: '2026-01-15', id_card_expiry_date: '2045-04-12' });
  });

  it('a birth adds the record, name split and folded, without an account', async function () {
    const nationalId = composeNationalId('048', 2026, 'female', 4242);
    const summary = await applyChangeFeed(
      feed(
        event({
          id: nextEventId(),
          type: 'born',
          national_id: nationalId,
          occurred_on: '2026-11-01',
          full_name: 'Lê Ngọc Diệp',
          gender: 'female',
          place_of_origin: 'Đà Nẵng',
          ethnicity: 'Kinh',
          permanent_address: { street_address: '8 Đường Bạch Đằng', locality: 'Phường Hải Châu', region: 'Thành phố Đà Nẵng' },
          household_id: 'HH-048-0001',
          relation_to_head: 'child',
        }),
      ),
      deps,
    );
    expect(summary).to.include({ applied: 1, rejected: 0 });
    const record = await world.server.container.registry.findByNationalId(nationalId);
    expect(record).to.include({
      fullName: 'Lê Ngọc Diệp',
      familyName: 'Lê',
      middleName: 'Ngọc',
      givenName: 'Diệp',
      birthDate: '2026-11-01',
      gender: 'female',
      birthRegistrationProvince: '048',
      idCardIssueDate: null,
      diedOn: null,
    });
    expect(record?.permanentAddress).to.deep.equal({ streetAddress: '8 Đường Bạch Đằng', locality: 'Phường Hải Châu', region: 'Thành phố Đà Nẵng', country: 'VN' });
    expect(await world.server.container.accounts.findByNationalId(nationalId)).to.equal(undefined);
  });

  describe('applied twice', function () {
    it('changes nothing the second time: no update, no lock, no audit event', async function () {
      const thu = await enrol('Ngô Thị Thu', 'female', '1970-06-30');
      const lines = [
        event({ id: nextEventId(), type: 'renamed', national_id: thu.id, occurred_on: '2026-09-01', full_name: 'Ngô Thị Thu Hà' }),
        event({ id: nextEventId(), type: 'card_reissued', national_id: thu.id, occurred_on: '2026-09-02' }),
        event({ id: nextEventId(), type: 'died', national_id: thu.id, occurred_on: '2026-09-03' }),
      ];
      const first = await applyChangeFeed(feed(...lines), deps);
      expect(first).to.include({ read: 3, applied: 3, unchanged: 0, rejected: 0, accountsLocked: 1 });
      const updatedAt = async () =>
        (await world.server.container.db<{ national_id: string; updated_at: Date }>('registry_records').where({ national_id: thu.id }).first('updated_at'))!.updated_at.getTime();
      const written = await updatedAt();
      const audits = { changed: await auditCount('registry.changed'), locked: await auditCount('account.locked') };

      const second = await applyChangeFeed(feed(...lines), deps);
      expect(second).to.include({ read: 3, applied: 0, unchanged: 3, rejected: 0, accountsLocked: 0, sessionsEnded: 0, grantsRevoked: 0 });
      expect({ changed: await auditCount('registry.changed'), locked: await auditCount('account.locked') }).to.deep.equal(audits);
      expect(await updatedAt(), 'the record was not written again').to.equal(written);
    });

    it('reads the same feed from a file, and recognises the events applied from it before', async function () {
      const dir = await mkdtemp(path.join(tmpdir(), 'cidp-feed-'));
      try {
        const vy = await enrol('Đoàn Thị Vy', 'female', '2001-12-01');
        const file = path.join(dir, 'changes.ndjson');
        await writeFile(
          file,
          // A byte-order mark, Windows line ends and a trailing blank line are all forgiven.
          `\uFEFF${event({ id: nextEventId(), type: 'renamed', national_id: vy.id, occurred_on: '2026-08-01', full_name: 'Đoàn Thị Tường Vy' })}\r\n` +
            `${event({ id: nextEventId(), type: 'moved', national_id: vy.id, occurred_on: '2026-08-02', permanent_address: { street_address: '1 Lê Duẩn', locality: 'Phường Bến Nghé', region: 'Thành phố Hồ Chí Minh' } })}\r\n\r\n`,
        );
        expect(await applyChangeFeed(file, deps)).to.include({ read: 2, applied: 2, rejected: 0 });
        expect(await applyChangeFeed(file, deps)).to.include({ read: 2, applied: 0, unchanged: 2, rejected: 0 });
        expect((await world.server.container.registry.findByNationalId(vy.id))?.fullName).to.equal('Đoàn Thị Tường Vy');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('finishes an event that a crash left recorded but incomplete: its sessions end, its audit is written', async function () {
      const khanh = await enrol('Trịnh Quốc Khánh', 'male', '1960-01-01');
      const { browser } = await signIn(PORTAL, khanh, 'openid');
      const line = event({ id: nextEventId(), type: 'died', national_id: khanh.id, occurred_on: '2026-07-07' });
      await applyChangeFeed(feed(line), { ...deps, access: { endAllAccess: () => Promise.reject(new Error('the process died here')) } }).then(
        () => expect.fail('the run should have stopped'),
        (error: Error) => expect(error.message).to.equal('the process died here'),
      );
      expect(await accountStatus(khanh), 'locked in the transaction').to.equal('locked');

      const resumed = await applyChangeFeed(feed(line), deps);
      expect(resumed).to.include({ applied: 1, unchanged: 0, sessionsEnded: 1 });
      expect((await silently(PORTAL, browser)).searchParams.get('error')).to.equal('login_required');
      const events = await world.server.container.audit.eventsForAccount(khanh.accountId);
      expect(events.filter((recorded) => recorded.type === 'registry.changed')).to.have.length(1);
      expect(events.filter((recorded) => recorded.type === 'account.locked')).to.have.length(1);
      expect(await applyChangeFeed(feed(line), deps)).to.include({ applied: 0, unchanged: 1 });
    });
  });

  describe('bad lines', function () {
    it('reports each bad line with its number and reason, and applies the good ones', async function () {
      const quang = await enrol('Phan Văn Quang', 'male', '1988-03-03');
      const movedId = nextEventId();
      const moved = { id: movedId, type: 'moved', national_id: quang.id, occurred_on: '2026-11-10', permanent_address: { street_address: '2 Hàng Bài', locality: 'Phường Hoàn Kiếm', region: 'Thành phố Hà Nội' } };
      const lines = [
        /* 1 */ event(moved),
        /* 2 */ '{"id": "broken", "type": "died"',
        /* 3 */ event({ id: nextEventId(), type: 'resurrected', national_id: quang.id, occurred_on: '2026-11-10' }),
        /* 4 */ event({ id: nextEventId(), type: 'died', national_id: '00108800001', occurred_on: '2026-11-10' }),
        /* 5 */ '',
        /* 6 */ event({ id: nextEventId(), type: 'moved', national_id: quang.id, occurred_on: '2026-11-10' }),
        /* 7 */ event({ id: nextEventId(), type: 'died', national_id: '001088999999', occurred_on: '2026-11-10' }),
        /* 8 */ event({ id: nextEventId(), type: 'died', national_id: quang.id, occurred_on: '2099-01-01' }),
        /* 9 */ event({ id: nextEventId(), type: 'died', national_id: quang.id, occurred_on: '1980-01-01' }),
        /* 10 */ event({ id: nextEventId(), type: 'renamed', national_id: quang.id, occurred_on: '2026-11-11', full_name: 'Phan Minh Quang' }),
        /* 11 */ event({ ...moved, permanent_address: { ...moved.permanent_address, street_address: '3 Hàng Bài' } }),
        /* 12 */ event({ id: nextEventId(), type: 'renamed', national_id: quang.id, occurred_on: '2026-11-11', full_name: 'Phan Quang', nickname: 'Q' }),
        /* 13 */ event({
          id: nextEventId(),
          type: 'born',
          national_id: composeNationalId('001', 2026, 'male', 777),
          occurred_on: '2026-11-01',
          full_name: 'Phan Minh Khôi',
          gender: 'female',
          place_of_origin: 'Hà Nội',
          ethnicity: 'Kinh',
          permanent_address: { street_address: '2 Hàng Bài', locality: 'Phường Hoàn Kiếm', region: 'Thành phố Hà Nội' },
        }),
        /* 14 */ '[]',
      ];
      const reported: string[] = [];
      const summary = await applyChangeFeed(feed(...lines), deps, { onProblem: (problem) => reported.push(describeChangeFeedProblem(problem)) });
      expect(summary).to.include({ read: 13, applied: 2, unchanged: 0, rejected: 11, accountsLocked: 0 });
      expect(summary.problems.map((problem) => problem.line)).to.deep.equal([2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14]);
      const reason = (line: number) => summary.problems.find((problem) => problem.line === line)!.reason;
      expect(reason(2)).to.equal('not valid JSON');
      expect(reason(3)).to.match(/^type: expected one of born, died/);
      expect(reason(4)).to.equal('national_id: expected 12 digits');
      expect(reason(6)).to.equal('permanent_address: missing');
      expect(reason(7)).to.equal('national_id: not in the registry mirror');
      expect(reason(8)).to.match(/^occurred_on: expected a date not after today/);
      expect(reason(9)).to.equal('occurred_on: before the person was born');
      expect(reason(11)).to.equal(`id: event ${movedId} was applied before with other content`);
      expect(reason(12)).to.equal('unexpected field "nickname"');
      expect(reason(13)).to.match(/^national_id: expected a number that fits the birth/);
      expect(reason(14)).to.equal('expected a JSON object');
      expect(reported[0]).to.equal('line 2: not valid JSON');
      expect(reported).to.include(`line 7 (event ${idOf(lines[6]!)}): national_id: not in the registry mirror`);

      const record = await world.server.container.registry.findByNationalId(quang.id);
      expect(record?.permanentAddress.streetAddress, 'line 1 applied, line 11 not').to.equal('2 Hàng Bài');
      expect(record?.fullName).to.equal('Phan Minh Quang');
      expect(record?.diedOn, 'no bad death applied').to.equal(null);
      expect(await accountStatus(quang)).to.equal('active');
      // A refused event is not recorded as applied: once the registry's state allows it, it applies.
      const refused: unknown = await world.server.container.db('registry_change_events').where({ id: idOf(lines[8]!) }).first();
      expect(refused).to.equal(undefined);
    });

    it('reports a line that is not UTF-8', async function () {
      const dir = await mkdtemp(path.join(tmpdir(), 'cidp-feed-'));
      try {
        const file = path.join(dir, 'latin1.ndjson');
        const latin1 = Buffer.from(event({ id: nextEventId(), type: 'renamed', national_id: '001088000001', occurred_on: '2026-11-11', full_name: 'Phan Minh Quang' }).replace('Phan', 'Ph\u00e0n'), 'latin1');
        await writeFile(file, latin1);
        const summary = await applyChangeFeed(file, deps);
        expect(summary.problems).to.deep.equal([{ line: 1, reason: 'not valid UTF-8' }]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('refuses a file that cannot be read, before doing anything', async function () {
      let refused: unknown;
      try {
        await applyChangeFeed('/nonexistent/changes.ndjson', deps);
      } catch (error) {
        refused = error;
      }
      expect((refused as NodeJS.ErrnoException).code).to.equal('ENOENT');
    });
  });
});
