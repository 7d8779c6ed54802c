// Password reset at /reset, seen from outside: registry knowledge opens the request, a code sent to
// the account's verified contact (read from the outbox) confirms it, and the new password ends every
// session and refresh token the account had.
import { expect } from 'chai';
import * as client from 'openid-client';
import type { ConfirmationPolicy } from '../../src/accounts/contact-confirmation.ts';
import { OutboxNotifier } from '../../src/accounts/notifier.ts';
import type { NewRegistryRecord } from '../../src/registry/registry.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { alertsOf, Browser, type Page } from '../support/browserless.ts';

type World = RunningServer;

function startWorld(confirmationPolicy: Partial<ConfirmationPolicy>): Promise<World> {
  return startTestServer({ confirmationPolicy });
}

const BICH = { id: '079185000123', password: 'Bich#Demo2026', issued: '01/04/2021', phone: '+84900000002' };
const AN = { id: '001099012345', issued: '01/04/2021', phone: '+84900000001' };
const HA_NO_ACCOUNT = { id: '031190004567', issued: '01/04/2021' };
const TUNG_DECEASED = { id: '036080001111', issued: '01/04/2021', phone: '+84900000005' };
const NEW_PASSWORD = 'mưa Sài Gòn chiều 2026';
const PORTAL_CALLBACK = 'http://localhost:4000/callback';

interface Citizen {
  readonly id: string;
  readonly issued: string;
  readonly password: string;
  readonly accountId: string;
}

let serial = 0;

/** A registry person with an account, made for one test. */
async function addCitizen(
  world: World,
  account: { phone?: string | null; phoneVerified?: boolean; email?: string | null; emailVerified?: boolean; status?: 'active' | 'locked' } = {},
  record: Partial<NewRegistryRecord> = {},
): Promise<Citizen> {
  serial += 1;
  const id = `001099${String(800000 + serial)}`;
  const phone = account.phone === undefined ? `+8492${String(serial).padStart(7, '0')}` : account.phone;
  const { container } = world.server;
  await container.registry.upsert({
    nationalId: id,
    fullName: 'Lê Văn Nam',
    birthDate: '1999-08-12',
    gender: 'male',
    birthRegistrationProvince: '001',
    placeOfOrigin: 'Hà Nội',
    ethnicity: 'Kinh',
    nationality: 'VN',
    idCardIssueDate: '2023-02-01',
    idCardExpiryDate: '2039-08-12',
    permanentAddress: { streetAddress: '5 Phố Huế', locality: 'Phường Hai Bà Trưng', region: 'Thành phố Hà Nội', country: 'VN' },
    temporaryAddress: null,
    diedOn: null,
    missingSince: null,
    contactPhone: phone,
    contactEmail: null,
    ...record,
  });
  const password = 'Nam#Before2026';
  const enrolled = await container.accounts.enrol({
    nationalId: id,
    level: 1,
    passwordHash: await container.passwords.hash(password),
    totpSecretSealed: null,
    phoneNumber: phone,
    phoneNumberVerified: account.phoneVerified ?? phone !== null,
    email: account.email ?? null,
    emailVerified: account.emailVerified ?? account.email != null,
  });
  if (account.status === 'locked') await container.db('accounts').where({ id: enrolled.id }).update({ status: 'locked' });
  return { id, issued: '01/02/2023', password, accountId: enrolled.id };
}

async function requestReset(world: World, browser: Browser, person: { id: string; issued: string }, extra: Record<string, string> = {}): Promise<Page> {
  const form = await browser.get(`${world.issuer}/reset`);
  expect(form.status, 'the form').to.equal(200);
  return browser.postForm(`${world.issuer}/reset`, { lang: 'vi', national_id: person.id, card_issue_date: person.issued, ...extra });
}

function confirm(world: World, browser: Browser, fields: { code?: string; password?: string }): Promise<Page> {
  const password = fields.password ?? NEW_PASSWORD;
  return browser.postForm(`${world.issuer}/reset/confirm`, { lang: 'vi', code: fields.code ?? '', password, password_repeat: password });
}

function outbox(world: World): OutboxNotifier {
  const notifier = world.server.container.notifier;
  if (!(notifier instanceof OutboxNotifier)) throw new Error('tests need the outbox');
  return notifier;
}

async function outboxSize(world: World): Promise<number> {
  await outbox(world).settled();
  const [row] = await world.server.container.db('outbox_messages').count<{ count: string }[]>('* as count');
  return Number(row!.count);
}

async function codeSentTo(world: World, destination: string): Promise<string> {
  const [message] = await outbox(world).list({ destination, limit: 1 });
  const code = /\b(\d{6})\b/.exec(message?.body ?? '')?.[1];
  if (!code) throw new Error(`no code was sent to ${destination}`);
  return code;
}

function otherCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

async function passwordHashOf(world: World, nationalId: string): Promise<string> {
  return ((await world.server.container.db('accounts').where({ national_id: nationalId }).first()) as { password_hash: string }).password_hash;
}

function fieldAlert(page: Page, id: string): string | undefined {
  return new RegExp(`<p role="alert" id="${id}-error">([\\s\\S]*?)</p>`).exec(page.body)?.[1];
}

describe('password reset at /reset', function () {
  this.timeout(30_000);
  let world: World;
  let portal: client.Configuration;

  before(async function () {
    this.timeout(60_000);
    world = await startWorld({ attemptsPerIdPerHour: 100, messagesPerDestinationPerHour: 100 });
    portal = await client.discovery(new URL(world.issuer), 'demo-portal', undefined, client.ClientSecretBasic('demo-portal-secret'), {
      execute: [client.allowInsecureRequests],
    });
  });

  after(async () => {
    await world?.close();
  });

  /** An authorization request of demo-portal, and what redeeming its code needs. */
  async function authorization(extra: Record<string, string> = {}) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: PORTAL_CALLBACK,
      scope: 'openid',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    return { url, codeVerifier, state };
  }

  it('asks for the ID number and the card issue date, in Vietnamese or English', async function () {
    const browser = new Browser(world.issuer);
    const vi = await browser.get(`${world.issuer}/reset`);
    expect(vi.body).to.include('<html lang="vi">').and.include('Ngày cấp thẻ căn cước').and.include('<input id="national-id"');
    expect(vi.body, 'nothing else of the card').to.not.include('id="full-name"');
    const en = await browser.get(`${world.issuer}/reset?lang=en`);
    expect(en.body).to.include('<html lang="en">').and.include('Identity card issue date');
  });

  it('resets Bích’s password: her session and refresh token end, her phone is told, the new password signs in', async function () {
    // Bích is signed in at demo-portal with offline access.
    const signedIn = new Browser(world.issuer);
    const first = await authorization({ scope: 'openid offline_access', prompt: 'consent' });
    const callback = await signedIn.signIn(first.url, BICH.id, BICH.password);
    const tokens = await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: first.codeVerifier, expectedState: first.state });
    expect(tokens.refresh_token).to.be.a('string');
    const silent = await authorization({ prompt: 'none' });
    expect(new URL((await signedIn.get(silent.url)).location!).searchParams.get('code'), 'the session works before').to.be.a('string');

    // Guesses at her old password had locked password sign-in for her ID number.
    const { bruteForce } = world.server.container;
    for (let guess = 0; guess < 5; guess += 1) await bruteForce.recordFailure({ kind: 'password', nationalId: BICH.id }, {});
    expect((await bruteForce.lockOf({ kind: 'password', nationalId: BICH.id })).locked).to.equal(true);

    // Someone with her card details and her phone resets the password, in another browser.
    const resetter = new Browser(world.issuer);
    const sent = await requestReset(world, resetter, BICH);
    expect(sent.status).to.equal(200);
    const done = await confirm(world, resetter, { code: await codeSentTo(world, BICH.phone) });
    expect(done.status, alertsOf(done).join(' ')).to.equal(200);
    expect(done.body).to.include('Mật khẩu của bạn đã được đổi').and.include('+849*****02');

    const afterwards = await authorization({ prompt: 'none' });
    const refused = new URL((await signedIn.get(afterwards.url)).location!);
    expect(refused.searchParams.get('error'), 'the session is gone').to.equal('login_required');
    let refreshError: unknown;
    try {
      await client.refreshTokenGrant(portal, tokens.refresh_token!);
    } catch (error) {
      refreshError = error;
    }
    expect(refreshError).to.be.instanceOf(client.ResponseBodyError);
    expect((refreshError as client.ResponseBodyError).error).to.equal('invalid_grant');
    const grants = await world.server.container
      .db('oidc_models')
      .whereIn('model', ['Grant', 'RefreshToken'])
      .whereRaw(`payload->>'accountId' = ?`, [(await world.server.container.accounts.findByNationalId(BICH.id))!.id]);
    expect(grants, 'no grant or refresh token left in PostgreSQL').to.deep.equal([]);

    const [notice] = await outbox(world).list({ destination: BICH.phone, limit: 1 });
    expect(notice!.subject).to.equal('Mật khẩu đã được đổi');

    expect((await bruteForce.lockOf({ kind: 'password', nationalId: BICH.id })).locked, 'the reset lifted the lock').to.equal(false);
    const again = await authorization();
    const withNew = await new Browser(world.issuer).signIn(again.url, BICH.id, NEW_PASSWORD);
    expect(withNew.searchParams.get('code')).to.be.a('string');
    let oldRefused = false;
    try {
      await new Browser(world.issuer).signIn((await authorization()).url, BICH.id, BICH.password);
    } catch {
      oldRefused = true;
    }
    expect(oldRefused, 'the old password no longer works').to.equal(true);

    const [completed] = (await world.server.container.db('audit_events').where({ type: 'password_reset.completed' })) as { data: Record<string, unknown> }[];
    expect(completed!.data).to.include({ submittedId: '079*******23' });
    expect(completed!.data.sessionsEnded).to.be.at.least(1);
    expect(completed!.data.grantsRevoked).to.be.at.least(1);
    expect(JSON.stringify(completed)).to.not.include(BICH.id);
  });

  it('answers the same, byte for byte, whether or not a code could be sent, and sends nothing otherwise', async function () {
    const reference = await requestReset(world, new Browser(world.issuer), AN);
    expect(reference.status).to.equal(200);
    expect(reference.body).to.include('Nếu thông tin bạn nhập khớp với một tài khoản');
    await codeSentTo(world, AN.phone);

    const locked = await addCitizen(world, { status: 'locked' });
    const unverified = await addCitizen(world, { phoneVerified: false });
    const cases: Record<string, { id: string; issued: string }> = {
      'a wrong card issue date': { id: BICH.id, issued: '02/04/2021' },
      'an ID number the registry does not know': { id: '001099999999', issued: '01/04/2021' },
      'a person without an account': HA_NO_ACCOUNT,
      'a deceased account holder': TUNG_DECEASED,
      'a locked account': locked,
      'an account without a verified contact': unverified,
    };
    for (const [label, person] of Object.entries(cases)) {
      const before = await outboxSize(world);
      const page = await requestReset(world, new Browser(world.issuer), person);
      expect(page.status, label).to.equal(200);
      expect(page.body, label).to.equal(reference.body);
      expect(await outboxSize(world), `${label}: nothing sent`).to.equal(before);
    }
    const outcomes = ((await world.server.container.db('audit_events').where({ type: 'password_reset.requested' })) as { data: { outcome: string } }[]).map(
      (event) => event.data.outcome,
    );
    expect(outcomes).to.include.members(['code-sent', 'mismatch', 'unknown-id', 'no-account', 'deceased-or-missing', 'account-locked', 'no-contact']);
  });

  it('sends the code to the account’s verified contact, not to a number the registry has since recorded', async function () {
    const citizen = await addCitizen(world, { phone: '+84923456789' }, { contactPhone: '+84987654321' });
    await requestReset(world, new Browser(world.issuer), citizen);
    await codeSentTo(world, '+84923456789');
    expect(await outbox(world).list({ destination: '+84987654321' })).to.deep.equal([]);
  });

  it('falls back to a verified e-mail address, and tells every verified contact of the change', async function () {
    const citizen = await addCitizen(world, { phoneVerified: false, email: 'nam.le@example.vn', emailVerified: true });
    const browser = new Browser(world.issuer);
    await requestReset(world, browser, citizen);
    const done = await confirm(world, browser, { code: await codeSentTo(world, 'nam.le@example.vn') });
    expect(done.status).to.equal(200);
    const both = await addCitizen(world, { email: 'nam.le2@example.vn', emailVerified: true });
    const second = new Browser(world.issuer);
    const phone = (await world.server.container.accounts.findByNationalId(both.id))!.phoneNumber!;
    await requestReset(world, second, both);
    await confirm(world, second, { code: await codeSentTo(world, phone) });
    for (const destination of [phone, 'nam.le2@example.vn']) {
      expect((await outbox(world).list({ destination, limit: 1 }))[0]!.subject, destination).to.equal('Mật khẩu đã được đổi');
    }
  });

  it('judges the new password against the birth date only once the code is right', async function () {
    const citizen = await addCitizen(world);
    const phone = (await world.server.container.accounts.findByNationalId(citizen.id))!.phoneNumber!;
    const hash = await passwordHashOf(world, citizen.id);
    const real = new Browser(world.issuer);
    await requestReset(world, real, citizen);
    const decoy = new Browser(world.issuer);
    await requestReset(world, decoy, { ...citizen, issued: '02/02/2023' });
    const code = await codeSentTo(world, phone);
    const withBirthDate = 'nam 12/08/1999 abc';

    const wrongOnReal = await confirm(world, real, { code: otherCode(code), password: withBirthDate });
    const wrongOnDecoy = await confirm(world, decoy, { code: otherCode(code), password: withBirthDate });
    expect(fieldAlert(wrongOnReal, 'code')).to.include('không đúng');
    expect(fieldAlert(wrongOnReal, 'password'), 'the birth date is not judged yet').to.equal(undefined);
    expect(wrongOnDecoy.body, 'a flow that matched nothing answers alike').to.equal(wrongOnReal.body);

    const right = await confirm(world, real, { code, password: withBirthDate });
    expect(right.status).to.equal(400);
    expect(fieldAlert(right, 'password')).to.equal('Mật khẩu không được chứa ngày sinh của bạn.');
    const idInside = await confirm(world, real, { password: `nam-${citizen.id}` });
    expect(fieldAlert(idInside, 'password')).to.equal('Mật khẩu không được chứa số định danh cá nhân của bạn.');
    expect(await passwordHashOf(world, citizen.id), 'unchanged so far').to.equal(hash);
    const done = await confirm(world, real, {});
    expect(done.status).to.equal(200);
    expect(await world.server.container.passwords.verify(await passwordHashOf(world, citizen.id), NEW_PASSWORD)).to.equal(true);
  });

  it('refuses wrong codes and drops the request at the fifth, leaving the password as it was', async function () {
    const citizen = await addCitizen(world);
    const phone = (await world.server.container.accounts.findByNationalId(citizen.id))!.phoneNumber!;
    const hash = await passwordHashOf(world, citizen.id);
    const browser = new Browser(world.issuer);
    await requestReset(world, browser, citizen);
    const code = await codeSentTo(world, phone);
    for (let tries = 4; tries >= 1; tries -= 1) {
      const page = await confirm(world, browser, { code: otherCode(code) });
      expect(fieldAlert(page, 'code')).to.equal(`Mã xác nhận không đúng. Bạn còn ${tries} lần thử.`);
    }
    const last = await confirm(world, browser, { code: otherCode(code) });
    expect(alertsOf(last)[0]).to.include('nhập sai mã quá nhiều lần');
    expect((await confirm(world, browser, { code })).status).to.equal(400);
    expect(await passwordHashOf(world, citizen.id)).to.equal(hash);
  });
});

describe('password reset limits and expiry', function () {
  this.timeout(30_000);
  let world: World;

  before(async function () {
    this.timeout(60_000);
    world = await startWorld({ codeTtlSeconds: 2, attemptsPerIdPerHour: 3 });
  });

  after(async () => {
    await world?.close();
  });

  it('lets a reset code expire', async function () {
    const citizen = await addCitizen(world);
    const phone = (await world.server.container.accounts.findByNationalId(citizen.id))!.phoneNumber!;
    const hash = await passwordHashOf(world, citizen.id);
    const browser = new Browser(world.issuer);
    await requestReset(world, browser, citizen);
    const code = await codeSentTo(world, phone);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const page = await confirm(world, browser, { code });
    expect(page.status).to.equal(400);
    expect(alertsOf(page)[0]).to.include('đã hết hạn');
    expect(await passwordHashOf(world, citizen.id)).to.equal(hash);
  });

  it('answers 429 after three requests an hour for one ID number, right or wrong', async function () {
    const citizen = await addCitizen(world);
    for (const issued of ['02/02/2023', '03/02/2023', '04/02/2023']) {
      expect((await requestReset(world, new Browser(world.issuer), { ...citizen, issued })).status).to.equal(200);
    }
    const before = await outboxSize(world);
    const page = await requestReset(world, new Browser(world.issuer), citizen);
    expect(page.status).to.equal(429);
    expect(page.headers.get('retry-after')).to.match(/^\d+$/);
    expect(alertsOf(page)[0]).to.include('quá nhiều yêu cầu');
    expect(await outboxSize(world)).to.equal(before);
  });
});
