// Level-1 self-registration at /register, seen from outside: a whole server on PostgreSQL and Redis
// with the registration pages mounted, driven through plain HTTP with a cookie jar; codes are read
// from the outbox, as a citizen would read them on the phone the registry knows.
import { expect } from 'chai';
import * as client from 'openid-client';
import type { ConfirmationPolicy } from '../../src/accounts/contact-confirmation.ts';
import { OutboxNotifier } from '../../src/accounts/notifier.ts';
import type { NewRegistryRecord } from '../../src/registry/registry.ts';
import { parseDate } from '../../src/interactions/registration-routes.ts';
import { sameName } from '../../src/accounts/registration.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { alertsOf, Browser, formsOf, type Page } from '../support/browserless.ts';

type World = RunningServer;

function startWorld(confirmationPolicy: Partial<ConfirmationPolicy>): Promise<World> {
  return startTestServer({ confirmationPolicy });
}

const HA = { id: '031190004567', name: 'Phạm Thu Hà', birthDate: '09/01/1990', issued: '01/04/2021', phone: '+84900000004' };
const BICH = { id: '079185000123', name: 'Trần Thị Bích', birthDate: '02/07/1985', issued: '01/04/2021', phone: '+84900000002' };
const TUNG_DECEASED = { id: '036080001111', name: 'Đỗ Văn Tùng', birthDate: '30/05/1980', issued: '01/04/2021' };
const NOBODY = '031190999999';
const GOOD_PASSWORD = 'sông Hồng chảy mãi 77';

/** A person of the registry created for one test, so that no test depends on another's leftovers. */
interface Person {
  readonly id: string;
  readonly name: string;
  readonly birthDate: string;
  readonly issued: string;
  readonly phone: string | null;
  readonly email: string | null;
}

let serial = 0;

async function addPerson(world: World, fields: Partial<NewRegistryRecord> = {}): Promise<Person> {
  serial += 1;
  const id = `031190${String(900000 + serial)}`;
  const record: NewRegistryRecord = {
    nationalId: id,
    fullName: 'Nguyễn Thị Lan',
    birthDate: '1990-03-15',
    gender: 'female',
    birthRegistrationProvince: '031',
    placeOfOrigin: 'Hải Phòng',
    ethnicity: 'Kinh',
    nationality: 'VN',
    idCardIssueDate: '2022-06-01',
    idCardExpiryDate: '2030-03-15',
    permanentAddress: { streetAddress: '1 Đường Lạch Tray', locality: 'Phường Gia Viên', region: 'Thành phố Hải Phòng', country: 'VN' },
    temporaryAddress: null,
    diedOn: null,
    missingSince: null,
    contactPhone: `+8491${String(serial).padStart(7, '0')}`,
    contactEmail: null,
    ...fields,
  };
  await world.server.container.registry.upsert(record);
  const dayFirst = (date: string) => date.split('-').reverse().join('/');
  return {
    id,
    name: record.fullName,
    birthDate: dayFirst(record.birthDate),
    issued: dayFirst(record.idCardIssueDate!),
    phone: record.contactPhone,
    email: record.contactEmail,
  };
}

// ---------------------------------------------------------------------------------------------
// What a citizen does

function details(person: { id: string; name: string; birthDate: string; issued: string }): Record<string, string> {
  return { national_id: person.id, full_name: person.name, birth_date: person.birthDate, card_issue_date: person.issued };
}

/** Opens the form (its cookie), sends the details, follows the redirect to the code page. */
async function apply(world: World, browser: Browser, fields: Record<string, string>): Promise<Page> {
  const form = await browser.get(`${world.issuer}/register`);
  expect(form.status, 'the form').to.equal(200);
  return browser.postForm(`${world.issuer}/register`, { lang: 'vi', ...fields });
}

function confirm(world: World, browser: Browser, fields: { code?: string; password?: string; password_repeat?: string }): Promise<Page> {
  return browser.postForm(`${world.issuer}/register/confirm`, {
    lang: 'vi',
    code: fields.code ?? '',
    password: fields.password ?? GOOD_PASSWORD,
    password_repeat: fields.password_repeat ?? fields.password ?? GOOD_PASSWORD,
  });
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

/** The code in the newest message to a destination. */
async function codeSentTo(world: World, destination: string): Promise<string> {
  const [message] = await outbox(world).list({ destination, limit: 1 });
  const code = /\b(\d{6})\b/.exec(message?.body ?? '')?.[1];
  if (!code) throw new Error(`no code was sent to ${destination}`);
  return code;
}

function otherCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

async function accountOf(world: World, nationalId: string): Promise<Record<string, unknown> | undefined> {
  return (await world.server.container.db('accounts').where({ national_id: nationalId }).first()) as Record<string, unknown> | undefined;
}

async function auditEvents(world: World, type: string): Promise<{ account_id: string | null; data: Record<string, unknown> }[]> {
  return (await world.server.container.db('audit_events').where({ type }).orderBy('id')) as { account_id: string | null; data: Record<string, unknown> }[];
}

/** The raw markup of the role="alert" element tied to a field, and the field's own tag. */
function fieldAlert(page: Page, id: string): { input: string; alert: string } {
  const input = new RegExp(`<input id="${id}"[^>]*>`).exec(page.body)?.[0];
  const alert = new RegExp(`<p role="alert" id="${id}-error">([\\s\\S]*?)</p>`).exec(page.body)?.[1];
  if (!input || alert === undefined) throw new Error(`no alert for ${id} (HTTP ${page.status})`);
  return { input, alert };
}

describe('self-registration at /register', function () {
  this.timeout(30_000);
  let world: World;

  before(async function () {
    this.timeout(60_000);
    world = await startWorld({ attemptsPerIdPerHour: 100, messagesPerDestinationPerHour: 100 });
  });

  after(async () => {
    await world?.close();
  });

  describe('the form', function () {
    it('is in Vietnamese by default, and in English after the switch, which sticks', async function () {
      const browser = new Browser(world.issuer);
      const vi = await browser.get(`${world.issuer}/register`);
      expect(vi.status).to.equal(200);
      expect(vi.body).to.include('<html lang="vi">').and.include('Số định danh cá nhân').and.include('href="/register?lang=en"');
      const en = await browser.get(`${world.issuer}/register?lang=en`);
      expect(en.body).to.include('<html lang="en">').and.include('Personal identification number');
      const again = await browser.get(`${world.issuer}/register`);
      expect(again.body, 'the language cookie holds').to.include('<html lang="en">');
    });

    it('labels every field, needs no script and carries no inline style', async function () {
      const page = await new Browser(world.issuer).get(`${world.issuer}/register`);
      for (const id of ['national-id', 'full-name', 'birth-date', 'card-issue-date']) {
        expect(page.body, id).to.include(`<label for="${id}">`).and.include(`<input id="${id}"`);
      }
      expect(page.body).to.not.match(/<script|<style|\sstyle=|\son[a-z]+=/i);
      expect(page.headers.get('content-security-policy')).to.include("script-src 'self'");
      const form = formsOf(page).find((candidate) => candidate.action.endsWith('/register'))!;
      expect(form.method).to.equal('post');
    });

    it('keeps its flow id in an HttpOnly, SameSite=Lax cookie', async function () {
      const page = await new Browser(world.issuer).get(`${world.issuer}/register`);
      const cookie = page.headers.getSetCookie().find((line) => line.startsWith('cidp_register='));
      expect(cookie).to.match(/; path=\/register/i).and.match(/samesite=lax/i).and.match(/httponly/i);
      expect(cookie!.split(';')[0]!.split('=')[1]).to.match(/^[A-Za-z0-9_-]{43}$/);
    });
  });

  describe('a successful registration', function () {
    it('sends the code only to the registry’s mobile number; Phạm Thu Hà then signs in through the real login', async function () {
      const browser = new Browser(world.issuer);
      const before = await outboxSize(world);
      const sent = await apply(world, browser, details(HA));
      expect(sent.status).to.equal(200);
      expect(sent.url).to.equal(`${world.issuer}/register/confirm`);
      expect(await outboxSize(world), 'one message').to.equal(before + 1);
      const [message] = await outbox(world).list({ limit: 1 });
      expect(message!.destination).to.equal(HA.phone);
      expect(message!.channel).to.equal('sms');

      const done = await confirm(world, browser, { code: await codeSentTo(world, HA.phone) });
      expect(done.status, alertsOf(done).join(' ')).to.equal(200);
      expect(done.body).to.include('Bây giờ bạn có thể đăng nhập').and.include('+849*****04');

      const account = await accountOf(world, HA.id);
      expect(account).to.include({ level: 1, status: 'active', phone_number: HA.phone, phone_number_verified: true, totp_secret_sealed: null });
      expect(account!.password_hash).to.match(/^\$argon2id\$/);

      // The first sign-in, through the provider's own login page, at demo-portal.
      const config = await client.discovery(new URL(world.issuer), 'demo-portal', undefined, client.ClientSecretBasic('demo-portal-secret'), {
        execute: [client.allowInsecureRequests],
      });
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: 'http://localhost:4000/callback',
        scope: 'openid profile',
        state,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      const callback = await new Browser(world.issuer).signIn(url, HA.id, GOOD_PASSWORD);
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
      expect(tokens.claims()!.acr).to.equal('urn:vn:eid:loa:1');
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      expect(userinfo.name).to.equal('Phạm Thu Hà');

      // Audited, with the ID number masked and no other personal value.
      const [requested] = (await auditEvents(world, 'registration.requested')).filter((event) => event.data.submittedId === '031*******67');
      expect(requested!.data).to.include({ outcome: 'code-sent', channel: 'sms' });
      const [completed] = await auditEvents(world, 'registration.completed');
      expect(completed!.account_id).to.equal(account!.id);
      const trail = JSON.stringify(await world.server.container.db('audit_events').where('type', 'like', 'registration.%').select('data'));
      for (const personal of [HA.id, HA.phone, 'Phạm', '127.0.0.1']) expect(trail).to.not.include(personal);
      // She was told on her phone that the account exists.
      expect((await outbox(world).list({ destination: HA.phone, limit: 1 }))[0]!.subject).to.equal('Đã tạo tài khoản định danh điện tử');
    });

    it('matches the name whatever its case, spacing or Unicode composition', async function () {
      const person = await addPerson(world, { fullName: 'Nguyễn Thị Lan' });
      const browser = new Browser(world.issuer);
      await apply(world, browser, details({ ...person, name: '  NGUYỄN   thị lan '.normalize('NFD') }));
      const done = await confirm(world, browser, { code: await codeSentTo(world, person.phone!) });
      expect(done.status).to.equal(200);
      expect(await accountOf(world, person.id)).to.not.equal(undefined);
      expect(sameName('Phạm Thu Hà', 'Pham Thu Ha'), 'diacritics still count').to.equal(false);
    });

    it('ignores any contact typed into the form: the code goes to the registry’s contact only', async function () {
      const person = await addPerson(world);
      const browser = new Browser(world.issuer);
      await apply(world, browser, {
        ...details(person),
        phone: '+84911111111',
        phone_number: '+84911111111',
        email: 'attacker@example.com',
        destination: '+84911111111',
        contact: 'attacker@example.com',
      });
      for (const foreign of ['+84911111111', 'attacker@example.com']) {
        expect(await outbox(world).list({ destination: foreign }), foreign).to.deep.equal([]);
      }
      await codeSentTo(world, person.phone!);
    });

    it('sends the code by e-mail when the registry holds an e-mail address but no mobile number', async function () {
      const person = await addPerson(world, { contactPhone: null, contactEmail: 'lan.nguyen@example.vn' });
      const browser = new Browser(world.issuer);
      await apply(world, browser, details(person));
      const [message] = await outbox(world).list({ destination: 'lan.nguyen@example.vn', limit: 1 });
      expect(message!.channel).to.equal('email');
      const done = await confirm(world, browser, { code: await codeSentTo(world, 'lan.nguyen@example.vn') });
      expect(done.body).to.include('l*****@e*****.vn');
      expect(await accountOf(world, person.id)).to.include({ email: 'lan.nguyen@example.vn', email_verified: true, phone_number: null });
    });

    it('uses a code once: the same form sent again finds nothing to confirm', async function () {
      const person = await addPerson(world);
      const browser = new Browser(world.issuer);
      await apply(world, browser, details(person));
      const code = await codeSentTo(world, person.phone!);
      const cookie = browser.cookiesFor(`${world.issuer}/register/confirm`).get('cidp_register')!;
      expect((await confirm(world, browser, { code })).status).to.equal(200);
      const hash = (await accountOf(world, person.id))!.password_hash;
      // Replayed with the old cookie, by hand.
      const replay = await fetch(`${world.issuer}/register/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `cidp_register=${cookie}` },
        body: new URLSearchParams({ code, password: 'another password 2026', password_repeat: 'another password 2026' }).toString(),
      });
      expect(replay.status).to.equal(400);
      expect(await replay.text()).to.include('đã hết hạn hoặc đã được dùng');
      expect((await accountOf(world, person.id))!.password_hash, 'unchanged').to.equal(hash);
    });

    it('never overwrites an account that appeared while the code was on its way', async function () {
      const person = await addPerson(world);
      const browser = new Browser(world.issuer);
      await apply(world, browser, details(person));
      const { container } = world.server;
      const existing = await container.accounts.enrol({
        nationalId: person.id,
        level: 2,
        passwordHash: await container.passwords.hash('the existing password 1'),
        totpSecretSealed: null,
        phoneNumber: person.phone,
        phoneNumberVerified: true,
        email: null,
        emailVerified: false,
      });
      const page = await confirm(world, browser, { code: await codeSentTo(world, person.phone!) });
      expect(page.status).to.equal(409);
      expect(page.body).to.include('đã có tài khoản định danh điện tử');
      expect(await accountOf(world, person.id)).to.include({ level: 2, password_hash: existing.passwordHash });
    });
  });

  describe('the neutral answer', function () {
    it('is byte for byte the same for a match and for every wrong or unusable application, and only a match sends a code', async function () {
      const reference = await apply(world, new Browser(world.issuer), details(await addPerson(world)));
      expect(reference.status).to.equal(200);
      expect(reference.body).to.include('Nếu thông tin bạn nhập khớp');
      expect(reference.body, 'says to visit a police office when no code comes').to.include('cơ quan Công an');

      const person = await addPerson(world);
      const missing = await addPerson(world, { missingSince: '2025-08-01' });
      const noContact = await addPerson(world, { contactPhone: null, contactEmail: null });
      const child = await addPerson(world, { fullName: 'Nguyễn Minh Khôi', gender: 'male', birthDate: '2015-05-01', idCardIssueDate: '2024-07-01' });
      const cases: Record<string, Record<string, string>> = {
        'a wrong name': details({ ...person, name: 'Nguyễn Thị Lam' }),
        'a wrong date of birth': details({ ...person, birthDate: '16/03/1990' }),
        'a wrong card issue date': details({ ...person, issued: '02/06/2022' }),
        'an ID number the registry does not know': details({ ...person, id: NOBODY }),
        'a deceased person': details(TUNG_DECEASED),
        'a missing person': details(missing),
        'a person without a contact on record': details(noContact),
        'a child under 14': details(child),
      };
      for (const [label, fields] of Object.entries(cases)) {
        const before = await outboxSize(world);
        const page = await apply(world, new Browser(world.issuer), fields);
        expect(page.status, label).to.equal(200);
        expect(page.body, label).to.equal(reference.body);
        expect(await outboxSize(world), `${label}: nothing sent`).to.equal(before);
      }
      const outcomes = (await auditEvents(world, 'registration.requested')).map((event) => event.data.outcome);
      expect(outcomes).to.include.members(['mismatch', 'unknown-id', 'deceased-or-missing', 'no-contact', 'under-age']);
    });

    it('is the same for someone who already has an account, whose own phone is told of the attempt', async function () {
      const reference = await apply(world, new Browser(world.issuer), details(await addPerson(world)));
      const before = await outbox(world).list({ destination: BICH.phone });
      const page = await apply(world, new Browser(world.issuer), details(BICH));
      expect(page.body).to.equal(reference.body);
      const after = await outbox(world).list({ destination: BICH.phone });
      expect(after).to.have.length(before.length + 1);
      expect(after[0]!.subject).to.equal('Có người thử đăng ký bằng thông tin của bạn');
      expect(after[0]!.body, 'no code in it').to.not.match(/\b\d{6}\b/);
      const [event] = (await auditEvents(world, 'registration.requested')).filter((candidate) => candidate.data.outcome === 'already-registered');
      expect(event!.account_id, 'in her own history').to.equal((await accountOf(world, BICH.id))!.id);
    });

    it('answers a wrong code on a flow that matched nothing exactly as on a real one', async function () {
      const real = new Browser(world.issuer);
      const person = await addPerson(world);
      await apply(world, real, details(person));
      const decoy = new Browser(world.issuer);
      await apply(world, decoy, details({ ...person, name: 'Nguyễn Thị Lam' }));
      const wrong = otherCode(await codeSentTo(world, person.phone!));
      const onReal = await confirm(world, real, { code: wrong });
      const onDecoy = await confirm(world, decoy, { code: wrong });
      expect(onReal.status).to.equal(400);
      expect(onDecoy.status).to.equal(400);
      expect(onDecoy.body).to.equal(onReal.body);
    });
  });

  describe('the confirmation form', function () {
    it('refuses a wrong code, counts down, and drops the flow at the fifth wrong try', async function () {
      const person = await addPerson(world);
      const browser = new Browser(world.issuer);
      await apply(world, browser, details(person));
      const code = await codeSentTo(world, person.phone!);
      for (let tries = 4; tries >= 1; tries -= 1) {
        const page = await confirm(world, browser, { code: otherCode(code) });
        expect(page.status).to.equal(400);
        const { input, alert } = fieldAlert(page, 'code');
        expect(alert).to.equal(`Mã xác nhận không đúng. Bạn còn ${tries} lần thử.`);
        expect(input).to.include('aria-describedby="code-hint code-error"').and.include('aria-invalid="true"');
      }
      const last = await confirm(world, browser, { code: otherCode(code) });
      expect(last.status).to.equal(400);
      expect(alertsOf(last)[0]).to.include('nhập sai mã quá nhiều lần');
      const late = await confirm(world, browser, { code });
      expect(late.status, 'even the right code is too late').to.equal(400);
      expect(await accountOf(world, person.id)).to.equal(undefined);
      const failures = (await auditEvents(world, 'registration.confirmation_failed')).map((event) => event.data.reason);
      expect(failures).to.include('wrong-code').and.include('too-many-tries');
    });

    it('explains each password problem beside the password field, and keeps a confirmed code confirmed', async function () {
      const person = await addPerson(world);
      const browser = new Browser(world.issuer);
      await apply(world, browser, details(person));
      const code = await codeSentTo(world, person.phone!);

      // A wrong code and a short password: both fields say what is wrong.
      const both = await confirm(world, browser, { code: otherCode(code), password: 'short' });
      expect(fieldAlert(both, 'code').alert).to.include('không đúng');
      expect(fieldAlert(both, 'password').alert).to.equal('Mật khẩu cần ít nhất 10 ký tự.');

      const cases: [string, string][] = [
        ['password123', 'Mật khẩu này quá phổ biến nên dễ bị đoán. Hãy chọn mật khẩu khác.'],
        [`lan-${person.id}`, 'Mật khẩu không được chứa số định danh cá nhân của bạn.'],
        ['lan 15/03/1990 ok', 'Mật khẩu không được chứa ngày sinh của bạn.'],
        ['x'.repeat(257), 'Mật khẩu không được dài quá 256 ký tự.'],
        ['tab\there and more', 'Mật khẩu không được chứa ký tự điều khiển.'],
      ];
      let first = true;
      for (const [password, message] of cases) {
        const page = await confirm(world, browser, { code: first ? code : '', password });
        first = false;
        expect(page.status, password).to.equal(400);
        const { input, alert } = fieldAlert(page, 'password');
        expect(alert, password).to.equal(message);
        expect(input).to.include('aria-describedby="password-hint password-error"').and.include('aria-invalid="true"');
        expect(page.body, 'the code is confirmed').to.include('Mã xác nhận đã đúng');
        expect(page.body, 'and not asked again').to.not.include('<input id="code"');
      }
      const mismatch = await confirm(world, browser, { password: GOOD_PASSWORD, password_repeat: `${GOOD_PASSWORD}!` });
      expect(fieldAlert(mismatch, 'password-repeat').alert).to.equal('Hai mật khẩu không giống nhau.');
      expect(await accountOf(world, person.id), 'nothing written yet').to.equal(undefined);

      const done = await confirm(world, browser, {});
      expect(done.status).to.equal(200);
      expect(await accountOf(world, person.id)).to.not.equal(undefined);
    });

    it('shows the code page again on reload, in the other language on request, and sends nothing more', async function () {
      const person = await addPerson(world);
      const browser = new Browser(world.issuer);
      const sent = await apply(world, browser, details(person));
      const before = await outboxSize(world);
      const reload = await browser.get(`${world.issuer}/register/confirm`);
      expect(reload.body).to.equal(sent.body);
      const english = await browser.get(`${world.issuer}/register/confirm?lang=en`);
      expect(english.body).to.include('If the details you gave match');
      expect(await outboxSize(world)).to.equal(before);
    });
  });

  describe('bad input', function () {
    async function unchanged<T>(action: () => Promise<T>): Promise<T> {
      const db = world.server.container.db;
      const count = async (table: string) => Number((await db(table).count<{ count: string }[]>('* as count'))[0]!.count);
      const before = { outbox: await count('outbox_messages'), accounts: await count('accounts'), audit: await count('audit_events') };
      const result = await action();
      expect({ outbox: await count('outbox_messages'), accounts: await count('accounts'), audit: await count('audit_events') }).to.deep.equal(before);
      return result;
    }

    it('marks malformed fields, shows what was typed escaped, and writes nothing', async function () {
      const browser = new Browser(world.issuer);
      const page = await unchanged(() =>
        apply(world, browser, {
          national_id: '03119000456',
          full_name: '<script>alert(1)</script>',
          birth_date: '31/02/1990',
          card_issue_date: '2021-13-01',
        }),
      );
      expect(page.status).to.equal(400);
      for (const id of ['national-id', 'full-name', 'birth-date', 'card-issue-date']) expect(fieldAlert(page, id).input, id).to.include('aria-invalid="true"');
      expect(page.body).to.not.include('<script>alert');
      expect(page.body).to.include('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    });

    it('refuses control characters, quotes, future dates and words for dates', async function () {
      const cases: Record<string, string>[] = [
        { full_name: 'Phạm\u0000Thu Hà' },
        { full_name: 'Phạm "Thu" Hà' },
        { full_name: 'Phạm\u202eThu Hà' },
        { birth_date: 'yesterday' },
        { birth_date: '09/01/2999' },
        { card_issue_date: '1990-01-09T00:00:00Z' },
        { national_id: '03119000456７' },
      ];
      for (const fields of cases) {
        const page = await unchanged(() => apply(world, new Browser(world.issuer), { ...details(HA), ...fields }));
        expect(page.status, JSON.stringify(fields)).to.equal(400);
        expect(alertsOf(page), JSON.stringify(fields)).to.have.length(1);
      }
    });

    it('answers a body over 64 kB with 413, and other content types with 415', async function () {
      const browser = new Browser(world.issuer);
      await browser.get(`${world.issuer}/register`);
      const large = await unchanged(() => browser.postForm(`${world.issuer}/register`, { ...details(HA), padding: 'x'.repeat(70_000) }));
      expect(large.status).to.equal(413);
      const json = await unchanged(() =>
        browser.fetch(`${world.issuer}/register`, { method: 'POST', body: JSON.stringify(details(HA)), headers: { 'content-type': 'application/json' } }),
      );
      expect(json.status).to.equal(415);
      const broken = await unchanged(() =>
        fetch(`${world.issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...browser.cookiesFor(`${world.issuer}/register`)].map(([k, v]) => `${k}=${v}`).join('; ') },
          body: Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3d, 0xff, 0xfe]),
        }),
      );
      expect(broken.status, 'invalid UTF-8').to.equal(400);
    });

    it('refuses a post without the form’s cookie, or from another site, and other methods', async function () {
      const noCookie = await unchanged(() => new Browser(world.issuer).postForm(`${world.issuer}/register`, details(HA)));
      expect(noCookie.status).to.equal(403);
      expect(alertsOf(noCookie)[0]).to.include('Biểu mẫu này đã hết hạn');
      const forged = new Browser(world.issuer);
      await forged.get(`${world.issuer}/register`);
      const crossSite = await unchanged(() =>
        forged.fetch(`${world.issuer}/register`, {
          method: 'POST',
          body: new URLSearchParams(details(HA)).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
        }),
      );
      expect(crossSite.status).to.equal(403);
      const noFlow = await unchanged(() => new Browser(world.issuer).postForm(`${world.issuer}/register/confirm`, { code: '123456', password: GOOD_PASSWORD, password_repeat: GOOD_PASSWORD }));
      expect(noFlow.status).to.equal(400);
      const put = await fetch(`${world.issuer}/register`, { method: 'PUT' });
      expect(put.status).to.equal(405);
    });

    it('reads dates written the Vietnamese way or as ISO dates, and nothing else', function () {
      const today = new Date('2026-06-01T00:00:00Z');
      expect(parseDate('09/01/1990', today)).to.equal('1990-01-09');
      expect(parseDate('9.1.1990', today)).to.equal('1990-01-09');
      expect(parseDate('1990-01-09', today)).to.equal('1990-01-09');
      for (const bad of ['29/02/2023', '00/01/1990', '1990/01/09', '01/09/90', '', '2026-06-02', '31/12/1899']) expect(parseDate(bad, today), bad).to.equal(undefined);
    });
  });
});

describe('self-registration limits and expiry', function () {
  this.timeout(30_000);
  let world: World;

  before(async function () {
    this.timeout(60_000);
    world = await startWorld({ codeTtlSeconds: 2, attemptsPerIdPerHour: 3, messagesPerDestinationPerHour: 2 });
  });

  after(async () => {
    await world?.close();
  });

  it('lets a code expire after its lifetime', async function () {
    const person = await addPerson(world);
    const browser = new Browser(world.issuer);
    await apply(world, browser, details(person));
    const code = await codeSentTo(world, person.phone!);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const page = await confirm(world, browser, { code });
    expect(page.status).to.equal(400);
    expect(alertsOf(page)[0]).to.include('đã hết hạn');
    expect(await accountOf(world, person.id)).to.equal(undefined);
  });

  it('answers 429 after three requests an hour for one ID number, whatever the details, and audits it once', async function () {
    const person = await addPerson(world);
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const page = await apply(world, new Browser(world.issuer), details({ ...person, name: `Sai Tên ${'a'.repeat(attempt)}` }));
      expect(page.status, `attempt ${attempt}`).to.equal(200);
    }
    const before = await outboxSize(world);
    for (const fields of [details(person), details({ ...person, name: 'Sai Tên' })]) {
      const page = await apply(world, new Browser(world.issuer), fields);
      expect(page.status).to.equal(429);
      expect(Number(page.headers.get('retry-after'))).to.be.within(1, 3600);
      expect(alertsOf(page)[0]).to.match(/^Đã có quá nhiều yêu cầu cho số định danh này trong giờ qua\. Để bảo vệ bạn, hãy thử lại sau \d+ phút\.$/);
    }
    expect(await outboxSize(world), 'the right details sent nothing either').to.equal(before);
    const limited = (await auditEvents(world, 'registration.rate_limited')).filter((event) => event.data.submittedId === `031*******${person.id.slice(-2)}`);
    expect(limited).to.have.length(1);
  });

  it('withholds codes beyond a destination’s hourly allowance, with the same neutral answer', async function () {
    // Two people of one household share a mobile number in the registry.
    const first = await addPerson(world, { contactPhone: '+84919999999' });
    const second = await addPerson(world, { contactPhone: '+84919999999' });
    const answers = [
      await apply(world, new Browser(world.issuer), details(first)),
      await apply(world, new Browser(world.issuer), details(first)),
      await apply(world, new Browser(world.issuer), details(second)),
    ];
    expect(answers.map((page) => page.status)).to.deep.equal([200, 200, 200]);
    expect(answers[2]!.body).to.equal(answers[0]!.body);
    expect(await outbox(world).list({ destination: '+84919999999' }), 'two codes, not three').to.have.length(2);
    const withheld = await world.server.container.db('notifications').where({ destination: '+84919999999' }).whereNotNull('gave_up_at');
    expect(withheld.map((row: { last_error: string }) => row.last_error), 'withheld at delivery').to.deep.equal([
      'withheld: the destination is over its hourly allowance',
    ]);
  });
});
