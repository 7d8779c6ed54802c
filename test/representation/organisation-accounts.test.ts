// Organisations' eID accounts on the account page (/account/organisations) and in the admin API, on a
// real server with PostgreSQL and Redis: a legal representative signed in at level 2 activates the
// organisation's account and grants, revokes and reads authorisations; the grantee declines; refusals
// write nothing; every change is audited and notified; a representative put in place by the register
// inherits the grants; dissolution ends them; uses (written here directly, as the protocol side would)
// are listed for the representative and for a parent. Forms submitted as a browser without JavaScript.
import { expect } from 'chai';
import { Browser, alertsOf, decodeEntities, formsOf, stepOf, type Page, type PageForm } from '../support/browserless.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, serviceToken } from '../support/admin.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { OutboxNotifier, type OutboxMessage } from '../../src/accounts/notifier.ts';
import { todayInVietnam } from '../../src/registry/record-schema.ts';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';

const AN = { id: '001099012345', password: 'An#Demo2026', phone: '+84900000001', totp: 'JBSWY3DPEHPK3PXP' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026', phone: '+84900000002' };
const KHOA = { id: '048203000777', password: 'Khoa#Demo2026', phone: '+84900000003', totp: 'KRSXG5CTMVRXEZLU' };
const HA = '031190004567';
const TUNG = '036080001111';
const CHILD = '001321000999';

// Codes of this suite's own (the demo organisation 0109999999 is another's).
const ORG = '0108888888';
const ORG_NAME = 'Công ty TNHH Thử Nghiệm Bình Minh';
const DISSOLVED = '0107777777';
const BICH_ORG = '0106666666';
const OTHER = '0105555555';

type Citizen = { id: string; password: string; totp?: string };

interface GrantRow {
  id: string;
  enterprise_code: string;
  grantee_national_id: string;
  roles: string[];
  valid_until: Date | null;
  granted_by: string;
  declined_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function formWithAction(page: Page, pathname: string): PageForm {
  const form = formsOf(page).find((candidate) => new URL(candidate.action).pathname === pathname);
  if (!form) throw new Error(`no form posting to ${pathname} at ${page.url} (HTTP ${page.status})`);
  return form;
}

/** A TOTP code not used yet: each accepted code is burnt, so a second step-up waits for the next step. */
const lastCodes = new Map<string, string>();
async function unusedCode(secret: string): Promise<string> {
  for (;;) {
    const code = await currentTotp(secret);
    if (lastCodes.get(secret) !== code) {
      lastCodes.set(secret, code);
      return code;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Opens a page, walking through the provider's login, second-factor and consent pages. */
async function open(browser: Browser, url: string, citizen: Citizen): Promise<Page> {
  let page = await browser.get(url);
  for (let steps = 0; steps < 5; steps += 1) {
    const step = stepOf(page);
    if (step === 'login') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/login'))!, { username: citizen.id, password: citizen.password });
    else if (step === 'otp') page = await browser.submit(formsOf(page).find((form) => 'otp' in form.fields)!, { otp: await unusedCode(citizen.totp!) });
    else if (step === 'consent') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/consent'))!);
    else return page;
  }
  throw new Error(`the sign-in did not finish at ${page.url}`);
}

describe("organisations' eID accounts", function () {
  this.timeout(120_000);
  let world: RunningServer;
  let issuer: string;
  let today = todayInVietnam();
  /** An, signed in at level 2 within the last minutes (one step-up for the suite). */
  let an: Browser;
  let csrfOfAn: string;

  const db = () => world.server.container.db;
  const outbox = async (destination: string): Promise<OutboxMessage[]> => {
    const notifier = world.server.container.notifier;
    return notifier instanceof OutboxNotifier ? notifier.list({ destination }) : [];
  };
  const grantRows = (code = ORG) => db()('organisation_authorisations').where({ enterprise_code: code }).orderBy('granted_at').select<GrantRow[]>('*');
  const grantById = async (id: string) => (await db()('organisation_authorisations').where({ id }).first<GrantRow | undefined>())!;
  const otherGrant = async () => (await grantRows(OTHER))[0]!;
  const activations = (code: string) => db()('organisation_accounts').where({ enterprise_code: code }).select<{ activated_by: string }[]>('activated_by');
  const accountIdOf = async (nationalId: string) => (await world.server.container.accounts.findByNationalId(nationalId))!.id;
  const changes = async (change: string) => {
    await world.server.container.audit.flush();
    return db()('audit_events')
      .where({ type: 'organisation.changed' })
      .whereRaw(`data->>'change' = ?`, [change])
      .orderBy('id', 'desc')
      .select<{ actor: string; account_id: string; data: Record<string, unknown> }[]>('actor', 'account_id', 'data');
  };
  const post = (browser: Browser, path: string, fields: Record<string, string> | URLSearchParams) =>
    browser.fetch(`${issuer}${path}`, {
      method: 'POST',
      body: (fields instanceof URLSearchParams ? fields : new URLSearchParams(fields)).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  const csrfOf = (page: Page) => formsOf(page).find((form) => form.fields.csrf)!.fields.csrf!;
  /** Keeps An's sign-in fresh (at most 5 minutes old) on a slow machine: a page that needs it steps up if it is not. */
  const freshen = async () => {
    const probe = await an.fetch(`${issuer}/account/recovery-codes`);
    if (probe.status !== 303) return;
    const page = await open(an, probe.location!, AN);
    csrfOfAn = csrfOf(page);
  };

  before(async () => {
    world = await startTestServer({ today: () => today });
    issuer = world.issuer;
    const organisations = [
      { enterprise_code: ORG, name: ORG_NAME, name_en: 'Binh Minh Testing Co., Ltd', status: 'active', representative: AN.id },
      { enterprise_code: DISSOLVED, name: 'Công ty Cổ phần Đã Giải Thể', name_en: null, status: 'dissolved', representative: AN.id },
      { enterprise_code: BICH_ORG, name: 'Hộ kinh doanh Bích', name_en: null, status: 'active', representative: BICH.id },
      { enterprise_code: OTHER, name: 'Công ty Khác', name_en: null, status: 'active', representative: HA },
    ];
    for (const { representative, ...organisation } of organisations) {
      await db()('business_organisations').insert({ ...organisation, founded_on: '2020-01-02', head_office: '1 Tràng Tiền, Hoàn Kiếm, Hà Nội' });
      await db()('business_representatives').insert({ enterprise_code: organisation.enterprise_code, national_id: representative, title: 'Giám đốc' });
    }
    // Another organisation's grant, to try from the wrong organisation's page.
    const haAccount = await world.server.container.accounts.enrol({
      nationalId: HA, level: 2, passwordHash: 'x', totpSecretSealed: null, phoneNumber: null, phoneNumberVerified: false, email: null, emailVerified: false,
    });
    await db()('organisation_accounts').insert({ enterprise_code: OTHER, activated_by: haAccount.id });
    await db()('organisation_authorisations').insert({ enterprise_code: OTHER, grantee_national_id: KHOA.id, roles: ['tax'], valid_from: today, granted_by: haAccount.id });

    an = new Browser(issuer);
    const page = await open(an, `${issuer}/account/organisations`, AN);
    csrfOfAn = csrfOf(page);
  });

  after(async () => {
    await world?.close();
  });

  describe('activation', () => {
    it('lists the organisations the register names the citizen representative of, offering activation only for an active one', async () => {
      const page = await an.get(`${issuer}/account/organisations`);
      expect(page.status).to.equal(200);
      expect(page.body).to.match(/<html lang="vi">/);
      expect(decodeEntities(page.body)).to.include(ORG_NAME).and.to.include('Công ty Cổ phần Đã Giải Thể');
      const activations = formsOf(page).filter((form) => new URL(form.action).pathname === '/account/organisations/activate').map((form) => form.fields.enterprise_code);
      expect(activations).to.include(ORG).and.to.not.include(DISSOLVED);
      expect(decodeEntities(page.body)).to.include('không còn hoạt động');
      const english = await an.get(`${issuer}/account/organisations?lang=en`);
      expect(english.body).to.match(/<html lang="en">/);
      expect(english.body).to.include('Organisations you legally represent');
      await an.get(`${issuer}/account/organisations?lang=vi`);
    });

    it('refuses a citizen the register does not name (403) and writes nothing', async () => {
      const khoa = new Browser(issuer);
      const page = await open(khoa, `${issuer}/account/organisations`, KHOA);
      const refused = await post(khoa, '/account/organisations/activate', { csrf: csrfOf(page), enterprise_code: ORG });
      expect(refused.status).to.equal(403);
      expect(alertsOf(refused).join(' ')).to.include('không phải người đại diện theo pháp luật');
      expect(await activations(ORG)).to.have.length(0);
      // Nor may he open the organisation's page.
      expect((await khoa.fetch(`${issuer}/account/organisations/${ORG}`)).status).to.equal(403);
      expect((await khoa.fetch(`${issuer}/account/organisations/0100000000`)).status).to.equal(404);
    });

    it('refuses a level-1 account, its own organisation or not, and says why', async () => {
      const bich = new Browser(issuer);
      const page = await open(bich, `${issuer}/account/organisations`, BICH);
      expect(decodeEntities(page.body)).to.include('Chỉ tài khoản định danh điện tử mức 2');
      expect(formsOf(page).filter((form) => form.action.endsWith('/activate'))).to.deep.equal([]);
      // Her page offers no form: the session's token is taken from the overview's sign-out form.
      const refused = await post(bich, '/account/organisations/activate', { csrf: csrfOf(await bich.get(`${issuer}/account`)), enterprise_code: BICH_ORG });
      expect(refused.status).to.equal(403);
      expect(alertsOf(refused).join(' ')).to.include('mức 2');
      expect(await activations(BICH_ORG)).to.have.length(0);
    });

    it('refuses a form without the session’s CSRF token', async () => {
      const refused = await post(an, '/account/organisations/activate', { csrf: 'forged', enterprise_code: ORG });
      expect(refused.status).to.equal(403);
      expect(await activations(ORG)).to.have.length(0);
    });

    it('sends a representative signed in with a password only to step up to level 2, then activates once, audited and notified', async () => {
      const before = (await outbox(AN.phone)).length;
      const stepUp = await post(an, '/account/organisations/activate', { csrf: csrfOfAn, enterprise_code: ORG });
      expect(stepUp.status).to.equal(303);
      const authorization = new URL(stepUp.location!);
      expect(authorization.pathname).to.equal('/auth');
      expect(authorization.searchParams.get('acr_values')).to.equal('urn:vn:eid:loa:2');
      expect(authorization.searchParams.get('max_age')).to.equal('300');
      expect(await activations(ORG)).to.have.length(0);
      // The second factor, and back on the organisation's page.
      const back = await open(an, stepUp.location!, AN);
      expect(new URL(back.url).pathname).to.equal(`/account/organisations/${ORG}`);
      expect(back.status).to.equal(200);
      csrfOfAn = csrfOf(back);
      const done = await an.submit(formWithAction(back, '/account/organisations/activate'));
      expect(new URL(done.url).pathname).to.equal(`/account/organisations/${ORG}`);
      expect(done.body).to.include('Đã kích hoạt tài khoản của tổ chức.');
      const rows = await activations(ORG);
      expect(rows).to.have.length(1);
      expect(rows[0]?.activated_by).to.equal(await accountIdOf(AN.id));
      const [event] = await changes('organisation.activated');
      expect(event).to.include({ actor: await accountIdOf(AN.id), account_id: await accountIdOf(AN.id) });
      expect(event!.data).to.include({ enterpriseCode: ORG, via: 'account page' });
      const messages = await outbox(AN.phone);
      expect(messages.length).to.equal(before + 1);
      expect(messages[0]!.body).to.include('đã được kích hoạt').and.to.include(ORG);

      const again = await post(an, '/account/organisations/activate', { csrf: csrfOfAn, enterprise_code: ORG });
      expect(again.status).to.equal(409);
      expect(alertsOf(again).join(' ')).to.include('đã được kích hoạt');
      expect(await activations(ORG)).to.have.length(1);
    });

    it('refuses to activate an organisation the register shows dissolved (409)', async () => {
      const refused = await post(an, '/account/organisations/activate', { csrf: csrfOfAn, enterprise_code: DISSOLVED });
      expect(refused.status).to.equal(409);
      expect(await activations(DISSOLVED)).to.have.length(0);
      expect((await post(an, '/account/organisations/activate', { csrf: csrfOfAn, enterprise_code: '12' })).status).to.equal(404);
    });
  });

  describe('authorisations', () => {
    beforeEach(freshen);
    const grantPath = `/account/organisations/${ORG}/grants`;
    const valid = () => ({ grantee: KHOA.id, roles: ['tax'], valid_from: today, valid_until: addDays(today, 30) });
    const grantForm = (fields: { grantee: string; roles: string[]; valid_from: string; valid_until: string }) => {
      const form = new URLSearchParams({ csrf: csrfOfAn, grantee: fields.grantee, valid_from: fields.valid_from, valid_until: fields.valid_until });
      for (const role of fields.roles) form.append('roles', role);
      return form;
    };

    it('grants Lê Minh Khoa the role tax: stored, audited, notified to him and to the representative', async () => {
      const page = await an.get(`${issuer}/account/organisations/${ORG}`);
      const form = formWithAction(page, grantPath);
      expect(form.fields.valid_from).to.equal(today);
      const khoaBefore = (await outbox(KHOA.phone)).length;
      const done = await an.postForm(`${issuer}${grantPath}`, grantForm(valid()));
      expect(done.status).to.equal(200);
      expect(new URL(done.url).pathname).to.equal(`/account/organisations/${ORG}`);
      expect(done.body).to.include('Đã ủy quyền.');
      const row = (await grantRows())[0]!;
      expect(row).to.include({ grantee_national_id: KHOA.id, granted_by: await accountIdOf(AN.id), declined_at: null, revoked_at: null });
      expect(row.roles).to.deep.equal(['tax']);
      expect(decodeEntities(done.body)).to.include('Lê Minh Khoa').and.to.include('Thuế');
      const [event] = await changes('authorisation.granted');
      expect(event!.data).to.include({ enterpriseCode: ORG, authorisationId: row.id, granteeAccountId: await accountIdOf(KHOA.id) });
      const messages = await outbox(KHOA.phone);
      expect(messages.length).to.equal(khoaBefore + 1);
      expect(messages[0]!.body).to.include(ORG_NAME).and.to.include('tax');
      expect((await outbox(AN.phone))[0]!.body).to.include(ORG_NAME);
      // The directory now offers Khoa the organisation for tax.
      const parties = await world.server.container.representation.partiesFor({ nationalId: KHOA.id, level: 2 }, { partyKinds: ['organisation'], roles: ['tax'] });
      expect(parties.map((party) => party.kind === 'organisation' && party.enterpriseCode)).to.include(ORG);
    });

    const refusals: [string, Partial<{ grantee: string; roles: string[]; valid_from: string; valid_until: string }>, number, string][] = [
      ['an ID number that is not 12 digits', { grantee: '12345' }, 400, '12 chữ số'],
      ['an ID number the registry does not hold', { grantee: '001099099999' }, 400, 'không có số định danh'],
      ['the representative himself', { grantee: AN.id }, 400, 'người khác'],
      ['a citizen the registry shows deceased', { grantee: TUNG }, 400, 'Không thể ủy quyền cho người này'],
      ['a role outside the fixed set', { roles: ['tax', 'admin'] }, 400, 'ít nhất một vai trò'],
      ['no role', { roles: [] }, 400, 'ít nhất một vai trò'],
      ['an end before the start', { valid_until: addDays(today, -1) }, 400, 'không được trước ngày bắt đầu'],
      ['a start before today', { valid_from: addDays(today, -3), valid_until: '' }, 400, 'không được trước hôm nay'],
      ['a day that does not exist', { valid_from: '2027-02-30' }, 400, 'ngày hợp lệ'],
      ['a date that is not a date', { valid_until: 'tomorrow' }, 400, 'ngày hợp lệ'],
    ];
    for (const [what, change, status, words] of refusals) {
      it(`refuses ${what} (${status}) with the reason next to the field, and writes and sends nothing`, async () => {
        const before = { rows: (await grantRows()).length, khoa: (await outbox(KHOA.phone)).length, events: (await changes('authorisation.granted')).length };
        const refused = await post(an, grantPath, grantForm({ ...valid(), ...change }));
        expect(refused.status).to.equal(status);
        expect(alertsOf(refused).join(' ')).to.include(words);
        expect(refused.body).to.include('aria-invalid="true"');
        expect((await grantRows()).length).to.equal(before.rows);
        expect((await outbox(KHOA.phone)).length).to.equal(before.khoa);
        expect((await changes('authorisation.granted')).length).to.equal(before.events);
      });
    }

    it('refuses a NUL byte at the door (400) and writes nothing', async () => {
      const before = (await grantRows()).length;
      const refused = await an.fetch(`${issuer}${grantPath}`, {
        method: 'POST',
        body: `csrf=${encodeURIComponent(csrfOfAn)}&grantee=0482030007%0077&roles=tax&valid_from=${today}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(refused.status).to.equal(400);
      expect((await grantRows()).length).to.equal(before);
    });

    it('lets the grantee see the authorisation on his account page and decline it; the representative is told', async () => {
      const grant = (await grantRows())[0]!;
      const khoa = new Browser(issuer);
      const page = await open(khoa, `${issuer}/account/organisations`, KHOA);
      expect(decodeEntities(page.body)).to.include(ORG_NAME);
      expect(page.body).to.include(`data-authorisation="${grant.id}" data-status="current"`);
      const anBefore = (await outbox(AN.phone)).length;
      const decline = formsOf(page).find((form) => form.fields.grant === grant.id)!;
      const done = await khoa.submit(decline);
      expect(done.body).to.include('Bạn đã từ chối ủy quyền.');
      expect(done.body).to.include(`data-authorisation="${grant.id}" data-status="declined"`);
      const row = await grantById(grant.id);
      expect(row.declined_at).to.be.instanceOf(Date);
      const [event] = await changes('authorisation.declined');
      expect(event).to.include({ actor: await accountIdOf(KHOA.id) });
      expect(event!.data).to.include({ authorisationId: grant.id, enterpriseCode: ORG });
      const messages = await outbox(AN.phone);
      expect(messages.length).to.equal(anBefore + 1);
      expect(messages[0]!.body).to.include('từ chối');
      // Declined is final: a second decline is refused, and so is the directory.
      expect((await post(khoa, '/account/organisations/grants/decline', { csrf: csrfOf(page), grant: grant.id })).status).to.equal(409);
      expect(await world.server.container.representation.recheck({ nationalId: KHOA.id, level: 2 }, { kind: 'organisation', enterpriseCode: ORG }, ['tax'])).to.equal(undefined);
    });

    it("refuses to decline someone else's authorisation (404) or a malformed id, and changes nothing", async () => {
      const khoaGrant = await otherGrant();
      const bich = new Browser(issuer);
      const csrf = csrfOf(await open(bich, `${issuer}/account`, BICH));
      const refused = await post(bich, '/account/organisations/grants/decline', { csrf, grant: khoaGrant.id });
      expect(refused.status).to.equal(404);
      expect(alertsOf(refused).join(' ')).to.include('Không tìm thấy ủy quyền này');
      expect((await post(bich, '/account/organisations/grants/decline', { csrf, grant: "1' OR '1'='1" })).status).to.equal(404);
      expect((await grantById(khoaGrant.id)).declined_at).to.equal(null);
    });

    it('revokes in one click: ended at once, audited, the grantee notified', async () => {
      await an.postForm(`${issuer}${grantPath}`, grantForm({ ...valid(), roles: ['customs', 'tax'], valid_until: '' }));
      const grant = (await grantRows()).at(-1)!;
      expect(grant.roles).to.deep.equal(['tax', 'customs']);
      expect(grant.valid_until).to.equal(null);
      const page = await an.get(`${issuer}/account/organisations/${ORG}`);
      const revoke = formsOf(page).find((form) => form.fields.grant === grant.id && form.action.endsWith('/grants/revoke'))!;
      const khoaBefore = (await outbox(KHOA.phone)).length;
      const done = await an.submit(revoke);
      expect(done.body).to.include('Đã thu hồi ủy quyền.');
      const row = await grantById(grant.id);
      expect(row.revoked_at).to.be.instanceOf(Date);
      expect(row.revoked_by).to.equal(await accountIdOf(AN.id));
      expect((await changes('authorisation.revoked'))[0]!.data).to.include({ authorisationId: grant.id });
      const messages = await outbox(KHOA.phone);
      expect(messages.length).to.equal(khoaBefore + 1);
      expect(messages[0]!.body).to.include('thu hồi');
      expect((await post(an, `${grantPath}/revoke`, { csrf: csrfOfAn, grant: grant.id })).status).to.equal(409);
    });

    it("refuses to revoke another organisation's authorisation through this one's page (404), and a non-representative (403)", async () => {
      const other = await otherGrant();
      expect((await post(an, `${grantPath}/revoke`, { csrf: csrfOfAn, grant: other.id })).status).to.equal(404);
      expect((await post(an, `/account/organisations/${OTHER}/grants/revoke`, { csrf: csrfOfAn, grant: other.id })).status).to.equal(403);
      expect((await grantById(other.id)).revoked_at).to.equal(null);
    });

    it('hands the grants to a representative the register puts in place, and ends them when the organisation is dissolved', async () => {
      await an.postForm(`${issuer}${grantPath}`, grantForm({ ...valid(), grantee: HA, roles: ['social_insurance'] }));
      const grant = (await grantRows()).at(-1)!;
      expect(grant.grantee_national_id).to.equal(HA);
      // The register's change feed replaces An with Khoa.
      await db()('business_representatives').where({ enterprise_code: ORG }).update({ national_id: KHOA.id, title: 'Tổng giám đốc' });
      try {
        expect((await an.fetch(`${issuer}/account/organisations/${ORG}`)).status).to.equal(403);
        const khoa = new Browser(issuer);
        const page = await open(khoa, `${issuer}/account/organisations/${ORG}`, KHOA);
        expect(page.status).to.equal(200);
        expect(page.body).to.include(`data-authorisation="${grant.id}" data-status="current"`);
        const done = await khoa.submit(formsOf(page).find((form) => form.fields.grant === grant.id)!);
        expect(done.body).to.include('Đã thu hồi ủy quyền.');
        expect((await grantById(grant.id)).revoked_by).to.equal(await accountIdOf(KHOA.id));
      } finally {
        await db()('business_representatives').where({ enterprise_code: ORG }).update({ national_id: AN.id, title: 'Giám đốc' });
      }

      await an.postForm(`${issuer}${grantPath}`, grantForm({ ...valid(), grantee: HA, roles: ['all'] }));
      const current = (await grantRows()).at(-1)!;
      await db()('business_organisations').where({ enterprise_code: ORG }).update({ status: 'dissolved' });
      try {
        const page = await an.get(`${issuer}/account/organisations/${ORG}`);
        expect(page.body).to.include(`data-authorisation="${current.id}" data-status="ended"`);
        expect(formsOf(page).some((form) => form.action.endsWith('/grants'))).to.equal(false);
        expect(alertsOf(page).join(' ')).to.include('không còn hoạt động');
        expect(await world.server.container.representation.recheck({ nationalId: HA, level: 2 }, { kind: 'organisation', enterpriseCode: ORG }, [])).to.equal(undefined);
        const refused = await post(an, grantPath, grantForm(valid()));
        expect(refused.status).to.equal(409);
      } finally {
        await db()('business_organisations').where({ enterprise_code: ORG }).update({ status: 'active' });
      }
    });

    it('shows a grant not yet in force as upcoming, and one past its last day as ended, by the clock of the rules', async () => {
      await an.postForm(`${issuer}${grantPath}`, grantForm({ ...valid(), valid_from: addDays(today, 2), valid_until: addDays(today, 3) }));
      const grant = (await grantRows()).at(-1)!;
      expect((await an.get(`${issuer}/account/organisations/${ORG}`)).body).to.include(`data-authorisation="${grant.id}" data-status="upcoming"`);
      const real = today;
      today = addDays(real, 4);
      try {
        expect((await an.get(`${issuer}/account/organisations/${ORG}`)).body).to.include(`data-authorisation="${grant.id}" data-status="ended"`);
      } finally {
        today = real;
      }
    });
  });

  describe('uses', () => {
    it("lists every use of the organisation's account: who, which service, when, which roles — newest first, in pages", async () => {
      const khoaAccount = await accountIdOf(KHOA.id);
      await db()('representation_uses').insert(
        Array.from({ length: 52 }, (_, index) => ({
          party_kind: 'organisation',
          enterprise_code: ORG,
          actor_account_id: khoaAccount,
          client_id: index === 51 ? 'demo-tax' : 'demo-portal',
          roles: ['tax'],
          event: 'token.issued',
          used_at: new Date(Date.UTC(2026, 10, 1, 8, index)),
        })),
      );
      // Another organisation's use is never shown here.
      await db()('representation_uses').insert({ party_kind: 'organisation', enterprise_code: OTHER, actor_account_id: khoaAccount, client_id: 'elsewhere-client', roles: ['tax'], event: 'token.issued' });
      const page = await an.get(`${issuer}/account/organisations/${ORG}`);
      const text = decodeEntities(page.body);
      const rows = [...page.body.matchAll(/<tr data-use="/g)];
      expect(rows).to.have.length(50);
      expect(text).to.include('Lê Minh Khoa (048203000777)').and.to.include('Thuế điện tử (demo)').and.to.include('15:51 01/11/2026');
      expect(text).to.not.include('elsewhere-client');
      const older = await an.get(`${issuer}/account/organisations/${ORG}?uses=1`);
      expect([...older.body.matchAll(/<tr data-use="/g)]).to.have.length(2);
      expect(decodeEntities(older.body)).to.include('15:00 01/11/2026');
    });

    it("shows a parent the uses on behalf of their child under 14", async () => {
      const an0 = DEMO_CITIZENS[0]!.record;
      await world.server.container.registry.upsert({ ...an0, nationalId: CHILD, fullName: 'Nguyễn Thử Con', gender: 'female', birthDate: '2021-06-01', contactPhone: null });
      await db()('registry_records').where({ national_id: CHILD }).update({ father_national_id: AN.id });
      await db()('representation_uses').insert({ party_kind: 'child', child_national_id: CHILD, actor_account_id: await accountIdOf(AN.id), client_id: 'demo-portal', event: 'token.issued' });
      const page = await an.get(`${issuer}/account/organisations`);
      expect(decodeEntities(page.body)).to.include('Việc sử dụng thay mặt con của bạn').and.to.include(`Nguyễn Thử Con (${CHILD})`);
      // Not to a citizen the registry does not relate to the child.
      const khoa = new Browser(issuer);
      expect(decodeEntities((await open(khoa, `${issuer}/account/organisations`, KHOA)).body)).to.not.include('Nguyễn Thử Con');
    });
  });

  describe('the admin API', () => {
    it("shows a support officer the register's entry, the activation and every authorisation, and audits the look", async () => {
      const officer = await adminSession(world, KHOA.id, ['support_officer']);
      const answer = await adminCall<{ enterpriseCode: string; status: string; activation: { activatedBy: string } | null; representatives: { nationalId: string }[]; authorisations: { id: string; status: string; granteeNationalId: string; roles: string[] }[] }>(
        world,
        officer,
        'GET',
        `/api/organisations/${ORG}`,
      );
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ enterpriseCode: ORG, status: 'active' });
      expect(answer.body.activation?.activatedBy).to.equal(await accountIdOf(AN.id));
      expect(answer.body.representatives.map((representative) => representative.nationalId)).to.deep.equal([AN.id]);
      const rows = await grantRows();
      expect(answer.body.authorisations.map((grant) => grant.id)).to.have.members(rows.map((row) => row.id));
      expect(answer.body.authorisations.map((grant) => grant.status)).to.include.members(['declined', 'revoked']);
      await world.server.container.audit.flush();
      const viewed = await db()('audit_events').where({ type: 'admin.action' }).whereRaw(`data->>'action' = 'organisation.viewed'`).first<{ actor: string } | undefined>();
      expect(viewed?.actor).to.equal(`account:${officer.accountId}`);
      // Automation with admin:accounts may read it too.
      const automation = await serviceToken(world, ['admin:accounts']);
      expect((await adminCall(world, automation, 'GET', `/api/organisations/${ORG}`)).status).to.equal(200);
    });

    it('answers 404 for an unknown or malformed code, 403 to other roles, and offers no way to write', async () => {
      const officer = await adminSession(world, KHOA.id, ['support_officer']);
      expect((await adminCall(world, officer, 'GET', '/api/organisations/0100000001')).status).to.equal(404);
      expect((await adminCall(world, officer, 'GET', '/api/organisations/abc')).status).to.equal(404);
      const auditor = await adminSession(world, AN.id, ['auditor']);
      expect((await adminCall(world, auditor, 'GET', `/api/organisations/${ORG}`)).status).to.equal(403);
      const before = { grants: (await grantRows()).length, accounts: await db()('organisation_accounts').count<{ count: string }[]>('* as count') };
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const answer = await adminCall(world, officer, method, `/api/organisations/${ORG}`, { status: 'dissolved' });
        expect(answer.status, method).to.be.oneOf([404, 405]);
      }
      expect((await adminCall(world, officer, 'POST', `/api/organisations/${ORG}/authorisations`, { grantee: KHOA.id, roles: ['all'] })).status).to.be.oneOf([404, 405]);
      expect((await grantRows()).length).to.equal(before.grants);
      expect(await db()('organisation_accounts').count<{ count: string }[]>('* as count')).to.deep.equal(before.accounts);
      expect((await db()('business_organisations').where({ enterprise_code: ORG }).first<{ status: string } | undefined>())?.status).to.equal('active');
      // The endpoint is in the OpenAPI document, as a GET only.
      const document = (await (await fetch(`${world.adminUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-roles': string[] }>> };
      expect(Object.keys(document.paths['/api/organisations/{enterpriseCode}'] ?? {})).to.deep.equal(['get']);
      expect(document.paths['/api/organisations/{enterpriseCode}']!.get!['x-roles']).to.deep.equal(['support_officer']);
    });
  });
});
