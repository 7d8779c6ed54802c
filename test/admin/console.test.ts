// The admin web console over HTTP (plain fetch, as a browser without JavaScript would): every page and
// form, its security headers and languages; a refused form (400) writes nothing; a form without the
// session's CSRF token (403) or from a role that may not (403) changes nothing and is audited; the
// relying-party list and the audit viewer page through more rows than one page holds. Forms that
// change something are single-use (a replay is a 409 that does nothing) and the irreversible ones sit
// behind a confirmation page; the four-eyes queue and the account actions work from the console.
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminSession, auditEvents, FIRST_ADMIN, SECOND_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { levelTwoCitizen } from '../support/bank.ts';
import { CLIENTS_PAGE_SIZE } from '../../src/admin/console/console-clients.ts';
import { AUDIT_PAGE_SIZE } from '../../src/admin/console/console-audit.ts';
import { NEW_CLIENT_PATH } from '../../src/admin/console/console-layout.ts';
import { consoleText } from '../../src/admin/console/console-i18n.ts';
import { ISSUE_TEXT, placeIssues } from '../../src/admin/console/console-session.ts';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';

type Session = AdminCredentials & { kind: 'session' };
type FormFields = Record<string, string | readonly string[]>;

interface Answer {
  readonly status: number;
  readonly html: string;
  readonly location: string | null;
  readonly headers: Headers;
}

const PORTAL_FORM: FormFields = {
  clientId: 'console-portal',
  name: 'Cổng thuế điện tử',
  profile: 'portal',
  redirectUris: 'https://thue.example.vn/callback\r\n',
  postLogoutRedirectUris: 'https://thue.example.vn/',
  scope: ['openid', 'profile'],
  subjectType: 'pairwise',
  contactName: 'Phòng CNTT',
  contactEmail: 'it@thue.example.vn',
  agreementReference: 'TT-2026/01',
};

/** The single-use token of the page's form that posts to `action` (undefined: the page has no such form). */
function onceOf(html: string, action: string): string | undefined {
  const start = html.indexOf(`action="${action}"`);
  if (start < 0) return undefined;
  const form = html.slice(start, html.indexOf('</form>', start));
  return /name="once" value="([^"]+)"/.exec(form)?.[1];
}

/** The text of the element with `id`, tags stripped. */
function textOf(html: string, id: string): string | undefined {
  const match = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</`).exec(html);
  return match?.[1]?.replace(/<[^>]+>/g, '').trim();
}

describe('admin console: pages and forms over HTTP', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let admin: Session;
  let officer: Session;
  let auditor: Session;

  before(async () => {
    world = await startTestServer();
    admin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
    officer = await adminSession(world, SECOND_ADMIN, ['support_officer']);
    const citizen = await levelTwoCitizen(world);
    auditor = await adminSession(world, citizen.id, ['auditor']);
  });
  after(() => world?.close());

  async function open(who: Session | undefined, path: string, options: { form?: FormFields; csrf?: string | false; cookie?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    const cookies = [who?.cookie, options.cookie].filter(Boolean);
    if (cookies.length > 0) headers.cookie = cookies.join('; ');
    let body: URLSearchParams | undefined;
    if (options.form) {
      body = new URLSearchParams();
      for (const [name, value] of Object.entries(options.form)) for (const item of typeof value === 'string' ? [value] : value) body.append(name, item);
      if (options.csrf !== false) body.set('csrf', options.csrf ?? who?.csrf ?? '');
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await fetch(`${world.adminUrl}${path}`, { method: body ? 'POST' : 'GET', headers, redirect: 'manual', ...(body && { body }) });
    return { status: response.status, html: await response.text(), location: response.headers.get('location'), headers: response.headers };
  }

  const stored = (clientId: string) => world.server.container.clients.find(clientId);

  /** What a browser does: opens `page`, fills the form that posts to `action` (default: the page itself) and submits it. */
  async function submit(who: Session, page: string, fields: FormFields = {}, action = page.split('?')[0]!): Promise<Answer> {
    const shown = await open(who, page);
    const once = onceOf(shown.html, action);
    expect(once, `a form posting to ${action} on ${page} (${shown.status})`).to.be.a('string');
    return open(who, action, { form: { ...fields, once: once! } });
  }

  describe('the frame', () => {
    it('sends an administrator without a session to sign in through the provider', async () => {
      const answer = await open(undefined, '/console/clients');
      expect(answer.status).to.equal(302);
      expect(answer.location).to.equal('/auth/sign-in');
      const posted = await open(undefined, '/console/clients', { form: PORTAL_FORM, csrf: 'x' });
      expect(posted.status).to.equal(303);
      expect(await stored('console-portal')).to.equal(undefined);
    });

    it('answers with the public pages’ security headers: strict CSP, no framing, no caching, no sniffing, no referrer', async () => {
      const answer = await open(admin, '/console/');
      expect(answer.status).to.equal(200);
      const csp = answer.headers.get('content-security-policy')!;
      expect(csp).to.include("default-src 'none'").and.include("frame-ancestors 'none'").and.include("script-src 'self'").and.not.include('unsafe-inline');
      expect(csp).to.include(`form-action 'self' ${world.issuer}`);
      expect(answer.headers.get('x-frame-options')).to.equal('DENY');
      expect(answer.headers.get('cache-control')).to.equal('no-store');
      expect(answer.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(answer.headers.get('referrer-policy')).to.equal('no-referrer');
      expect(answer.html).not.to.match(/<script|style=/);
      const css = await fetch(`${world.adminUrl}/console/assets/console.css`);
      expect(css.headers.get('content-type')).to.match(/^text\/css/);
      expect(await css.text()).to.include('body.console');
    });

    it('speaks Vietnamese by default and English when asked, and remembers the choice', async () => {
      const vietnamese = await open(admin, '/console/');
      expect(vietnamese.html).to.include('<html lang="vi">').and.include('Tổng quan').and.include('Chuyển đến nội dung chính');
      expect(vietnamese.html).to.include('href="/console/?lang=en"');
      const english = await open(admin, '/console/?lang=en');
      expect(english.html).to.include('<html lang="en">').and.include('Overview').and.include('Skip to main content');
      const cookie = english.headers.get('set-cookie')!.split(';')[0]!;
      expect(cookie).to.equal('lang=en');
      expect((await open(admin, '/console/clients', { cookie })).html).to.include('<html lang="en">').and.include('Relying parties');
    });

    it('shows each role only its sections', async () => {
      const links = (html: string) => [...html.matchAll(/<nav aria-label="[^"]+"><ul>([\s\S]*?)<\/ul><\/nav>/g)].flatMap((match) => [...match[1]!.matchAll(/href="([^"]+)"/g)].map((link) => link[1]));
      expect(links((await open(admin, '/console/')).html)).to.deep.equal(['/console/', '/console/clients', '/console/keys', '/console/approvals']);
      expect(links((await open(officer, '/console/')).html)).to.deep.equal(['/console/', '/console/clients', '/console/accounts', '/console/outbox']);
      expect(links((await open(auditor, '/console/')).html)).to.deep.equal(['/console/', '/console/clients', '/console/keys', '/console/approvals', '/console/audit']);
    });

    it('answers 404 and 405 as pages', async () => {
      expect((await open(admin, '/console/nothing')).status).to.equal(404);
      expect((await open(admin, '/console/keys', { form: {} })).status).to.equal(405);
    });
  });

  describe('relying parties', () => {
    it('registers a portal through the form and shows its secret once', async () => {
      const form = await open(admin, NEW_CLIENT_PATH);
      expect(form.status).to.equal(200);
      expect(form.html).to.include(`name="csrf" value="${admin.csrf}"`).and.include('<label for="redirectUris">');
      const created = await open(admin, '/console/clients', { form: { ...PORTAL_FORM, once: onceOf(form.html, '/console/clients')! } });
      expect(created.status, created.html).to.equal(201);
      const secret = textOf(created.html, 'client-secret')!;
      expect(secret).to.match(/^[A-Za-z0-9_-]{40,}$/);
      expect(await world.server.container.clients.openSecret('console-portal')).to.equal(secret);
      const client = await stored('console-portal');
      expect(client).to.include({ name: 'Cổng thuế điện tử', profile: 'portal', status: 'active' });
      expect(client!.metadata.redirect_uris).to.deep.equal(['https://thue.example.vn/callback']);
      expect(client!.approvedScopes).to.deep.equal(['openid', 'profile']);
      const events = await auditEvents(world, 'admin.action', `account:${admin.accountId}`);
      expect(events[0]).to.deep.include({ client_id: 'console-portal' });
      expect(events[0]!.data.action).to.equal('client.created');
      // The detail page never shows it again.
      const detail = await open(admin, '/console/clients/console-portal');
      expect(detail.status).to.equal(200);
      expect(detail.html).not.to.include(secret);
      expect(detail.html).to.include('https://thue.example.vn/callback').and.include('href="/console/clients/console-portal/edit"');
    });

    it('sends a sensitive scope to four eyes, as the API does', async () => {
      const created = await submit(admin, NEW_CLIENT_PATH, { ...PORTAL_FORM, clientId: 'console-sensitive', scope: ['openid', 'national_id'] }, '/console/clients');
      expect(created.status).to.equal(201);
      expect(created.html).to.include('national_id');
      expect((await stored('console-sensitive'))!.approvedScopes).to.deep.equal(['openid']);
      const detail = await open(admin, '/console/clients/console-sensitive');
      expect(detail.html).to.match(/Phạm vi chờ phê duyệt<\/dt><dd><ul class="plain"><li><code>national_id<\/code>/);
    });

    it('refuses a form with bad fields with 400, the messages by the fields, the input kept, nothing written', async () => {
      const refused = await submit(admin, NEW_CLIENT_PATH, { ...PORTAL_FORM, clientId: 'console-bad', contactEmail: 'not-an-email', redirectUris: '' }, '/console/clients');
      expect(refused.status).to.equal(400);
      expect(refused.html).to.include('role="alert"').and.include('id="contactEmail-error"');
      expect(refused.html).to.include('value="not-an-email"').and.include('value="console-bad"');
      expect(refused.html).to.match(/id="contactEmail"[^>]*aria-invalid="true"/);
      expect(await stored('console-bad')).to.equal(undefined);
      // A rule of the profile (the repository's own check): a portal needs a redirect URI.
      const noRedirect = await submit(admin, NEW_CLIENT_PATH, { ...PORTAL_FORM, clientId: 'console-bad', redirectUris: '' }, '/console/clients');
      expect(noRedirect.status).to.equal(400);
      expect(textOf(noRedirect.html, 'redirectUris-error')).to.include('chưa nhập');
      expect(await stored('console-bad')).to.equal(undefined);
      // A client id that exists: 409, the form again.
      const taken = await submit(admin, NEW_CLIENT_PATH, PORTAL_FORM, '/console/clients');
      expect(taken.status).to.equal(409);
      expect(textOf(taken.html, 'clientId-error')).to.include('đã được dùng cho một dịch vụ khác');
    });

    it('words every refusal of the form in the page’s language: Vietnamese texts of the catalogue on a Vietnamese page, English on an English one', async () => {
      // The API checks a registration in turn (zod first, then the profile's rules, each stopping at
      // the first problem): each submission fixes one field more, so every kind of refusal is shown.
      const bad: FormFields = { ...PORTAL_FORM, clientId: 'console-words', name: '', contactEmail: 'not-an-email', scope: ['openid', 'no_such_scope'], redirectUris: 'not a uri', backchannelLogoutUri: 'http://thue.example.vn/logout' };
      const steps: FormFields[] = [
        bad,
        { ...bad, name: 'Cổng thử', contactEmail: 'it@thue.example.vn' },
        { ...bad, name: 'Cổng thử', contactEmail: 'it@thue.example.vn', scope: ['openid'] },
        { ...bad, name: 'Cổng thử', contactEmail: 'it@thue.example.vn', scope: ['openid'], redirectUris: 'https://thue.example.vn/callback' },
        { ...bad, name: 'Cổng thử', contactEmail: 'it@thue.example.vn', scope: ['openid'], redirectUris: 'https://thue.example.vn/callback\nhttps://khac.example.vn/callback', backchannelLogoutUri: '' },
        { ...PORTAL_FORM, clientId: 'console-words', backchannelLogoutSessionRequired: 'yes' },
      ];
      const errorsOf = (html: string) =>
        [...html.matchAll(/class="field-error" id="([A-Za-z]+)-error">([^<]*)</g)].map((match) => ({ field: match[1]!, text: match[2]!.replace(/^[^:]*:\s*/, '') }));
      const shown = { vi: [] as string[], en: [] as string[] };
      for (const locale of ['vi', 'en'] as const) {
        const words = new Set(Object.values(ISSUE_TEXT).map((key) => consoleText(locale, key)));
        for (const step of steps) {
          const page = await open(admin, `${NEW_CLIENT_PATH}?lang=${locale}`);
          const answer = await open(admin, '/console/clients', { form: { ...step, once: onceOf(page.html, '/console/clients')! }, cookie: `lang=${locale}` });
          expect(answer.status, answer.html).to.equal(400);
          expect(answer.html).to.include(`<html lang="${locale}">`).and.include(consoleText(locale, 'form.invalid'));
          const errors = errorsOf(answer.html);
          expect(errors, answer.html).not.to.deep.equal([]);
          for (const { field, text } of errors) {
            expect(words, `${field} on the ${locale} page`).to.include(text);
            shown[locale].push(`${field}: ${text}`);
          }
          // The API's own words (English, for its callers) never reach a Vietnamese page.
          if (locale === 'vi') expect(answer.html).not.to.match(/must use https|unknown scope|not an absolute URL|at least one|Too small|Invalid|expected string/);
        }
      }
      expect(shown.vi).to.deep.equal([
        'name: chưa nhập, hoặc quá ngắn',
        'contactEmail: sai định dạng',
        'scopes: có phạm vi không tồn tại',
        'redirectUris: không phải địa chỉ URL đầy đủ (https://…)',
        'backchannelLogoutUri: phải dùng https',
        'redirectUris: các địa chỉ chuyển hướng phải cùng một tên miền (dịch vụ riêng), hoặc dịch vụ cần sector_identifier_uri liệt kê chúng',
        'backchannelLogoutSessionRequired: cần địa chỉ đăng xuất kênh sau',
      ]);
      expect(shown.en).to.include.members(['backchannelLogoutUri: must use https', 'scopes: holds a scope that does not exist', 'name: missing or too short']);
      expect(await stored('console-words')).to.equal(undefined);
    });

    it('words an issue about no field of the form by its field, and one without a field or a known code generically', () => {
      const issues = [
        { path: 'settings.accessTokenTtl', message: 'settings.accessTokenTtl: longer than the provider allows', code: 'invalid' },
        { path: '', message: 'something the API said' },
      ];
      expect(placeIssues('vi', issues, () => '')).to.deep.equal({ errors: {}, unplaced: 'Trường settings.accessTokenTtl: giá trị không hợp lệ; Dữ liệu gửi lên không hợp lệ.' });
      expect(placeIssues('en', issues, () => '').unplaced).to.equal('Field settings.accessTokenTtl: not a valid value; The data sent is not valid.');
    });

    it('refuses a form without the session’s CSRF token: 403, nothing written, audited', async () => {
      for (const csrf of [false, 'A'.repeat(43)] as const) {
        const answer = await open(admin, '/console/clients', { form: { ...PORTAL_FORM, clientId: 'console-csrf' }, csrf });
        expect(answer.status).to.equal(403);
        expect(answer.html).to.include('role="alert"');
      }
      expect(await stored('console-csrf')).to.equal(undefined);
      const suspended = await open(admin, '/console/clients/console-portal/suspend', { form: {}, csrf: false });
      expect(suspended.status).to.equal(403);
      expect((await stored('console-portal'))!.status).to.equal('active');
      const denied = await auditEvents(world, 'admin.denied', `account:${admin.accountId}`);
      expect(denied[0]!.data).to.include({ operation: 'suspendClient', reason: 'missing or wrong CSRF token', path: '/console/clients/console-portal/suspend' });
    });

    it('refuses a role that may not: 403 page, nothing written, audited like the API', async () => {
      const posted = await open(auditor, '/console/clients', { form: { ...PORTAL_FORM, clientId: 'console-auditor' } });
      expect(posted.status).to.equal(403);
      expect(posted.html).to.include('client_admin');
      expect(await stored('console-auditor')).to.equal(undefined);
      expect((await open(auditor, NEW_CLIENT_PATH)).status).to.equal(403);
      expect((await open(auditor, '/console/clients/console-portal/suspend')).status).to.equal(403);
      expect((await open(officer, '/console/clients/console-portal/secret', { form: {} })).status).to.equal(403);
      const denied = await auditEvents(world, 'admin.denied', `account:${auditor.accountId}`);
      expect(denied.map((event) => event.data.operation)).to.include.members(['createClient']);
      expect(denied.find((event) => event.data.operation === 'createClient')!.data.reason).to.equal('needs one of the roles client_admin');
      // Reading is theirs: the list and the detail, without the buttons.
      const detail = await open(auditor, '/console/clients/console-portal');
      expect(detail.status).to.equal(200);
      expect(detail.html).not.to.include('/suspend');
    });

    it('edits a registration; a refused edit writes nothing', async () => {
      const form = await open(admin, '/console/clients/console-portal/edit');
      expect(form.status).to.equal(200);
      expect(form.html).to.include('value="Cổng thuế điện tử"').and.include('https://thue.example.vn/callback');
      const bad = await submit(admin, '/console/clients/console-portal/edit', { ...PORTAL_FORM, name: 'Đổi tên', redirectUris: 'not a uri' }, '/console/clients/console-portal');
      expect(bad.status).to.equal(400);
      expect(bad.html).to.include('id="redirectUris-error"');
      expect((await stored('console-portal'))!.name).to.equal('Cổng thuế điện tử');
      const saved = await submit(admin, '/console/clients/console-portal/edit', { ...PORTAL_FORM, name: 'Cổng thuế (mới)', scope: ['openid', 'profile', 'email'] }, '/console/clients/console-portal');
      expect(saved.status, saved.html).to.equal(303);
      expect(saved.location).to.equal('/console/clients/console-portal?done=updated');
      const client = await stored('console-portal');
      expect(client).to.include({ name: 'Cổng thuế (mới)' });
      expect(client!.approvedScopes).to.deep.equal(['openid', 'profile', 'email']);
      // The secret stays.
      expect(await world.server.container.clients.openSecret('console-portal')).to.be.a('string');
      expect((await open(admin, saved.location!)).html).to.include('role="status"');
    });

    it('registers a back-channel logout URI with sid, keeps both through an edit, and refuses a plain-http one by its field', async () => {
      const refused = await submit(admin, NEW_CLIENT_PATH, { ...PORTAL_FORM, clientId: 'console-logout', backchannelLogoutUri: 'http://thue.example.vn/logout' }, '/console/clients');
      expect(refused.status).to.equal(400);
      expect(textOf(refused.html, 'backchannelLogoutUri-error')).to.include('https');
      expect(await stored('console-logout')).to.equal(undefined);
      const form = { ...PORTAL_FORM, clientId: 'console-logout', backchannelLogoutUri: 'https://thue.example.vn/backchannel-logout', backchannelLogoutSessionRequired: 'yes' };
      const created = await submit(admin, NEW_CLIENT_PATH, form, '/console/clients');
      expect(created.status, created.html).to.equal(201);
      expect((await stored('console-logout'))!.metadata).to.include({ backchannel_logout_uri: 'https://thue.example.vn/backchannel-logout', backchannel_logout_session_required: true });
      expect((await open(admin, '/console/clients/console-logout')).html).to.include('id="client-backchannel"><code>https://thue.example.vn/backchannel-logout</code> (sid)');
      const edit = await open(admin, '/console/clients/console-logout/edit');
      expect(edit.html).to.include('value="https://thue.example.vn/backchannel-logout"').and.match(/id="backchannelLogoutSessionRequired"[^>]*checked/);
      const saved = await submit(admin, '/console/clients/console-logout/edit', { ...form, name: 'Cổng thuế (đăng xuất)' }, '/console/clients/console-logout');
      expect(saved.status, saved.html).to.equal(303);
      expect((await stored('console-logout'))!.metadata).to.include({ backchannel_logout_uri: 'https://thue.example.vn/backchannel-logout', backchannel_logout_session_required: true });
    });

    it('does not edit a client whose settings the form cannot carry (the API does), nor the provider’s own', async () => {
      const bank = await open(admin, '/console/clients/demo-bank');
      expect(bank.status).to.equal(200);
      expect(bank.html).not.to.include('/console/clients/demo-bank/edit');
      expect((await open(admin, '/console/clients/demo-bank/edit')).status).to.equal(409);
      const before = await stored('demo-bank');
      expect((await open(admin, '/console/clients/demo-bank', { form: { ...PORTAL_FORM, name: 'Lost keys' } })).status).to.equal(409);
      expect(await stored('demo-bank')).to.deep.equal(before);
      // The demo portal is plain: the form carries it whole.
      expect((await open(admin, '/console/clients/demo-portal')).html).to.include('/console/clients/demo-portal/edit');
    });

    it('suspends and resumes', async () => {
      const suspended = await submit(admin, '/console/clients/console-portal/suspend');
      expect(suspended.status).to.equal(303);
      expect((await stored('console-portal'))!.status).to.equal('suspended');
      expect(textOf((await open(admin, suspended.location!)).html, 'client-status')).to.equal('Tạm dừng');
      const resumed = await submit(admin, '/console/clients/console-portal', {}, '/console/clients/console-portal/resume');
      expect(resumed.status).to.equal(303);
      expect((await stored('console-portal'))!.status).to.equal('active');
      const actions = (await auditEvents(world, 'admin.action', `account:${admin.accountId}`)).map((event) => event.data.action);
      expect(actions).to.include.members(['client.suspended', 'client.resumed']);
    });

    it('rotates the secret, showing the new one once with the old one’s end of overlap', async () => {
      const before = await world.server.container.clients.openSecret('console-portal');
      const rotated = await submit(admin, '/console/clients/console-portal/secret');
      expect(rotated.status).to.equal(200);
      const secret = textOf(rotated.html, 'client-secret')!;
      expect(secret).not.to.equal(before);
      expect(await world.server.container.clients.openSecret('console-portal')).to.equal(secret);
      expect(await world.server.container.clients.retiredSecretMatches('console-portal', before!)).to.equal(true);
    });

    it('asks before suspending or rotating: the detail page only links to a confirmation saying what will happen', async () => {
      const detail = await open(admin, '/console/clients/console-portal');
      expect(detail.html).to.include('href="/console/clients/console-portal/suspend"').and.include('href="/console/clients/console-portal/secret"');
      expect(detail.html).not.to.match(/<form[^>]+action="[^"]*\/(suspend|secret)"/);
      const suspend = await open(admin, '/console/clients/console-portal/suspend');
      expect(suspend.status).to.equal(200);
      expect(textOf(suspend.html, 'consequences')).to.include('ngừng hiệu lực ngay lập tức');
      expect(suspend.html).to.include('href="/console/clients/console-portal"');
      // Opening the confirmation changes nothing.
      expect((await stored('console-portal'))!.status).to.equal('active');
      const overlap = world.server.container.config.admin.secretRotationOverlapSeconds;
      const rotate = await open(admin, '/console/clients/console-portal/secret?lang=en');
      expect(rotate.html).to.include(`The old secret stays valid for ${overlap} seconds`);
      const keys = await open(admin, '/console/keys/rotate');
      expect(keys.status).to.equal(200);
      expect(keys.html).to.include(`sau ${world.server.container.config.keys.publishAheadSeconds} giây`).and.include('id="now"');
      // A client without a secret has nothing to rotate.
      expect((await open(admin, '/console/clients/demo-spa/secret')).status).to.equal(409);
    });

    it('rotates once per form: the same form again (a reload) is a 409 that does nothing, and the first secret stays', async () => {
      const rotations = async () => (await auditEvents(world, 'admin.action', `account:${admin.accountId}`)).filter((event) => event.data.action === 'client.secret_rotated').length;
      const before = await rotations();
      const action = '/console/clients/console-portal/secret';
      const once = onceOf((await open(admin, action)).html, action)!;
      const first = await open(admin, action, { form: { once } });
      expect(first.status).to.equal(200);
      const secret = textOf(first.html, 'client-secret')!;
      const replayed = await open(admin, action, { form: { once } });
      expect(replayed.status).to.equal(409);
      expect(replayed.html).to.include('role="alert"').and.include('đã được gửi').and.not.include('client-secret');
      expect(await world.server.container.clients.openSecret('console-portal')).to.equal(secret);
      expect(await rotations()).to.equal(before + 1);
      // No token, one for another form, or one from another session: 409 too, nothing done.
      expect((await open(admin, action, { form: {} })).status).to.equal(409);
      const suspendOnce = onceOf((await open(admin, '/console/clients/console-portal/suspend')).html, '/console/clients/console-portal/suspend')!;
      expect((await open(admin, action, { form: { once: suspendOnce } })).status).to.equal(409);
      const elsewhere = await adminSession(world, FIRST_ADMIN, ['client_admin']);
      const foreign = await open(elsewhere, action, { form: { once: onceOf((await open(admin, action)).html, action)! } });
      expect(foreign.status).to.equal(409);
      expect(foreign.html).to.include('hết hạn');
      expect(await world.server.container.clients.openSecret('console-portal')).to.equal(secret);
      expect((await stored('console-portal'))!.status).to.equal('active');
      expect(await rotations()).to.equal(before + 1);
    });

    it('of two simultaneous submissions of one form, exactly one rotates', async () => {
      const action = '/console/clients/console-portal/secret';
      const once = onceOf((await open(admin, action)).html, action)!;
      const answers = await Promise.all([open(admin, action, { form: { once } }), open(admin, action, { form: { once } })]);
      expect(answers.map((answer) => answer.status).sort()).to.deep.equal([200, 409]);
      const shown = textOf(answers.find((answer) => answer.status === 200)!.html, 'client-secret');
      expect(await world.server.container.clients.openSecret('console-portal')).to.equal(shown);
    });

    it('opens a client whose id is “new”: the registration form lives at a path no client id can take, and ids are URL-encoded', async () => {
      const created = await submit(admin, NEW_CLIENT_PATH, { ...PORTAL_FORM, clientId: 'new', name: 'Dịch vụ tên new' }, '/console/clients');
      expect(created.status, created.html).to.equal(201);
      expect(created.html).to.include('href="/console/clients/new"');
      const detail = await open(admin, '/console/clients/new');
      expect(detail.status).to.equal(200);
      expect(detail.html).to.include('<h1>Dịch vụ tên new</h1>').and.include('href="/console/clients/new/edit"').and.include('href="/console/clients/new/suspend"');
      expect((await open(admin, '/console/clients?search=new')).html).to.include('<a href="/console/clients/new">new</a>');
      expect((await open(admin, NEW_CLIENT_PATH)).html).to.include('id="clientId"');
      const saved = await submit(admin, '/console/clients/new/edit', { ...PORTAL_FORM, name: 'Dịch vụ đã đổi tên' }, '/console/clients/new');
      expect(saved.status, saved.html).to.equal(303);
      expect(saved.location).to.equal('/console/clients/new?done=updated');
      expect((await stored('new'))!.name).to.equal('Dịch vụ đã đổi tên');
      const suspended = await submit(admin, '/console/clients/new/suspend');
      expect(suspended.location).to.equal('/console/clients/new?done=suspended');
      expect((await stored('new'))!.status).to.equal('suspended');
      // Every character the API allows in an id, and an encoded path reaching the same client.
      const odd = 'x.y_z-9';
      expect((await submit(admin, NEW_CLIENT_PATH, { ...PORTAL_FORM, clientId: odd }, '/console/clients')).status).to.equal(201);
      expect((await open(admin, `/console/clients/${encodeURIComponent(odd)}`)).html).to.include(`href="/console/clients/${encodeURIComponent(odd)}/edit"`);
      expect((await open(admin, '/console/clients/%6Eew')).status).to.equal(200);
      expect((await open(admin, '/console/clients/-')).status).to.equal(404);
    });

    it('pages through more relying parties than a page holds, never loading them all, and searches', async () => {
      const total = CLIENTS_PAGE_SIZE + 5;
      for (let index = 0; index < total; index += 1) {
        await world.server.container.clients.create({
          clientId: `paging-${String(index).padStart(3, '0')}`,
          name: `Dịch vụ ${index}`,
          profile: 'service',
          approvedScopes: [],
          secret: 'paging-secret-long-enough',
          tokenEndpointAuthMethod: 'client_secret_basic',
        });
      }
      const rows = (html: string) => [...html.matchAll(/<th scope="row"><a href="\/console\/clients\/([^"]+)">/g)].map((match) => match[1]);
      const first = await open(admin, '/console/clients?search=paging-');
      expect(first.status).to.equal(200);
      expect(rows(first.html)).to.have.length(CLIENTS_PAGE_SIZE);
      expect(rows(first.html)[0]).to.equal('paging-000');
      const next = /href="([^"]+)" rel="next"/.exec(first.html)![1]!.replaceAll('&amp;', '&');
      expect(next).to.equal(`/console/clients?search=paging-&after=paging-${String(CLIENTS_PAGE_SIZE - 1).padStart(3, '0')}`);
      const second = await open(admin, next);
      expect(rows(second.html)).to.deep.equal(Array.from({ length: 5 }, (_, index) => `paging-${String(CLIENTS_PAGE_SIZE + index).padStart(3, '0')}`));
      expect(second.html).not.to.include('rel="next"');
      // Search by name too, and by status.
      expect(rows((await open(admin, `/console/clients?search=${encodeURIComponent('Dịch vụ 17')}`)).html)).to.deep.equal(['paging-017']);
      await world.server.container.clients.setStatus('paging-003', 'suspended');
      expect(rows((await open(admin, '/console/clients?search=paging-&status=suspended')).html)).to.deep.equal(['paging-003']);
      // A value the API refuses: 400, not a 500.
      expect((await open(admin, `/console/clients?search=${'x'.repeat(101)}`)).status).to.equal(400);
    });
  });

  describe('signing keys', () => {
    it('lists the keys with states and dates; a client administrator rotates, an auditor only reads', async () => {
      const listed = await open(admin, '/console/keys');
      expect(listed.status).to.equal(200);
      const kids = (html: string) => [...html.matchAll(/<th scope="row"><code>([^<]+)<\/code>/g)].map((match) => match[1]);
      const before = kids(listed.html);
      expect(before.length).to.be.above(0);
      expect(listed.html).to.include('Đang ký');
      const auditorView = await open(auditor, '/console/keys');
      expect(auditorView.status).to.equal(200);
      expect(auditorView.html).not.to.include('action="/console/keys/rotate"');
      expect((await open(auditor, '/console/keys/rotate', { form: {} })).status).to.equal(403);
      expect((await open(officer, '/console/keys')).status).to.equal(403);
      expect((await open(auditor, '/console/keys/rotate')).status).to.equal(403);
      const rotated = await submit(admin, '/console/keys/rotate');
      expect(rotated.status).to.equal(303);
      const after = await open(admin, rotated.location!);
      expect(kids(after.html).length).to.be.above(before.length);
      expect(after.html).to.include('Chờ ký').and.include('role="status"');
    });
  });

  describe('accounts', () => {
    const BICH = '079185000123';

    it('finds an account by ID number in a POST (never in a URL), audited', async () => {
      expect((await open(officer, '/console/accounts')).status).to.equal(200);
      const bad = await open(officer, '/console/accounts/lookup', { form: { nationalId: '123' } });
      expect(bad.status).to.equal(400);
      expect(bad.html).to.include('id="nationalId-error"');
      const found = await open(officer, '/console/accounts/lookup', { form: { nationalId: BICH } });
      expect(found.status).to.equal(200);
      expect(found.html).to.include(BICH);
      expect(textOf(found.html, 'account-status')).to.equal('Đang hoạt động');
      const viewed = await auditEvents(world, 'admin.action', `account:${officer.accountId}`);
      expect(viewed.map((event) => event.data.action)).to.include('account.viewed');
      expect((await open(admin, '/console/accounts/lookup', { form: { nationalId: BICH } })).status).to.equal(403);
      expect((await open(officer, '/console/accounts/lookup', { form: { nationalId: '031190004567' } })).status).to.equal(404);
    });

    it('locks with a reason (none: 400, nothing changed) and unlocks', async () => {
      const account = await world.server.container.accounts.findByNationalId(BICH);
      const path = `/console/accounts/${account!.id}`;
      const page = await open(officer, path);
      expect(page.status).to.equal(200);
      const noReason = await submit(officer, path, { reason: '  ' }, `${path}/lock`);
      expect(noReason.status).to.equal(400);
      expect(noReason.html).to.include('id="reason-error"');
      expect((await world.server.container.accounts.findByNationalId(BICH))!.status).to.equal('active');
      const locked = await submit(officer, path, { reason: 'Công dân báo mất thẻ' }, `${path}/lock`);
      expect(locked.status).to.equal(303);
      expect((await world.server.container.accounts.findByNationalId(BICH))!.status).to.equal('locked');
      const shown = await open(officer, locked.location!);
      expect(textOf(shown.html, 'account-status')).to.equal('Đã khóa');
      expect(shown.html).to.include('Công dân báo mất thẻ');
      const unlocked = await submit(officer, path, { reason: 'Đã xác minh lại' }, `${path}/unlock`);
      expect(unlocked.status).to.equal(303);
      expect((await world.server.container.accounts.findByNationalId(BICH))!.status).to.equal('active');
      expect((await open(officer, '/console/accounts/not-a-uuid')).status).to.equal(404);
    });

    it('ends every session and resets the second factors after a confirmation, showing the hand-over code once', async () => {
      const citizen = await levelTwoCitizen(world);
      const { id } = (await world.server.container.accounts.findByNationalId(citizen.id))!;
      const path = `/console/accounts/${id}`;
      const actions = async (action: string) => (await auditEvents(world, 'admin.action', `account:${officer.accountId}`)).filter((event) => event.account_id === id && event.data.action === action).length;
      const page = await open(officer, path);
      expect(page.html).to.include(`href="${path}/end-sessions"`).and.include(`href="${path}/reset-second-factors"`);
      expect(textOf((await open(officer, `${path}/end-sessions`)).html, 'consequences')).to.include('kết thúc ngay');
      const noReason = await submit(officer, `${path}/end-sessions`, { reason: ' ' });
      expect(noReason.status).to.equal(400);
      expect(noReason.html).to.include('id="reason-error"');
      expect(await actions('account.sessions.ended')).to.equal(0);
      const ended = await submit(officer, `${path}/end-sessions`, { reason: 'Công dân báo mất điện thoại' });
      expect(ended.status).to.equal(303);
      expect(ended.location).to.equal(`${path}?done=sessions_ended`);
      expect(await actions('account.sessions.ended')).to.equal(1);

      const confirm = await open(officer, `${path}/reset-second-factors`);
      expect(textOf(confirm.html, 'consequences')).to.include('TOTP');
      const once = onceOf(confirm.html, `${path}/reset-second-factors`)!;
      const reset = await open(officer, `${path}/reset-second-factors`, { form: { reason: 'Đã kiểm tra CCCD trực tiếp', once } });
      expect(reset.status, reset.html).to.equal(200);
      const code = textOf(reset.html, 'handover-code')!;
      expect(code).to.have.length.above(5);
      expect(await world.server.container.db('accounts').where({ id }).first('totp_secret_sealed')).to.deep.equal({ totp_secret_sealed: null });
      // A reload sends the form again: refused, no second code.
      const replayed = await open(officer, `${path}/reset-second-factors`, { form: { reason: 'Đã kiểm tra CCCD trực tiếp', once } });
      expect(replayed.status).to.equal(409);
      expect(replayed.html).not.to.include('handover-code');
      expect(await actions('account.factors.reset')).to.equal(1);
      // The account page says a code is outstanding, never the code.
      const shown = await open(officer, path);
      expect(shown.html).to.include('Mã bàn giao đang chờ dùng').and.not.include(code);
      expect((await open(admin, `${path}/reset-second-factors`)).status).to.equal(403);
    });

    it('raises an account to level 2 on evidence, confirmed only by a second officer', async () => {
      const second = await adminSession(world, (await levelTwoCitizen(world)).id, ['support_officer']);
      const { id } = (await world.server.container.accounts.findByNationalId(BICH))!;
      const path = `/console/accounts/${id}`;
      const level = async () => (await world.server.container.accounts.findByNationalId(BICH))!.level;
      expect((await open(officer, path)).html).to.include(`href="${path}/level-two"`);
      const confirm = await open(officer, `${path}/level-two`);
      expect(confirm.html).to.include('cán bộ hỗ trợ thứ hai').and.include('id="evidence"');
      const empty = await submit(officer, `${path}/level-two`, { evidence: ' ' });
      expect(empty.status).to.equal(400);
      expect(empty.html).to.include('id="evidence-error"');
      const pending = () => world.server.container.db('admin_approvals').where({ kind: 'account.level2', subject: id, status: 'pending' });
      expect(await pending()).to.have.length(0);
      const requested = await submit(officer, `${path}/level-two`, { evidence: 'CCCD gốc, hồ sơ HS-2026-0042' });
      expect(requested.status, requested.html).to.equal(303);
      expect(requested.location).to.equal(`${path}?done=level_requested`);
      const [request] = (await pending()) as { id: string }[];
      const shown = await open(officer, requested.location!);
      expect(shown.html).to.include('id="pending-level"').and.include('yêu cầu của bạn').and.not.include(`href="${path}/level-two"`);
      const decision = `${path}/level-two/${request!.id}`;
      // Four eyes: the requester is offered no decision, and told why.
      expect(onceOf(shown.html, `${decision}/approve`)).to.equal(undefined);
      expect(onceOf(shown.html, `${decision}/reject`)).to.equal(undefined);
      expect(textOf(shown.html, 'four-eyes')).to.include('bốn mắt');
      expect(await level()).to.equal(1);
      const confirmed = await submit(second, path, {}, `${decision}/approve`);
      expect(confirmed.status, confirmed.html).to.equal(303);
      expect(confirmed.location).to.equal(`${path}?done=level_approved`);
      expect(await level()).to.equal(2);
      expect(textOf((await open(second, confirmed.location!)).html, 'account-level')).to.equal('2');
    });
  });

  describe('the four-eyes queue', () => {
    it('a sensitive scope asked for in the console waits: the requester’s own approval is refused, a second administrator’s applies it', async () => {
      const second = await adminSession(world, (await levelTwoCitizen(world)).id, ['client_admin']);
      const created = await submit(admin, NEW_CLIENT_PATH, { ...PORTAL_FORM, clientId: 'console-eyes', scope: ['openid', 'ethnicity'] }, '/console/clients');
      expect(created.status).to.equal(201);
      expect((await stored('console-eyes'))!.approvedScopes).to.deep.equal(['openid']);
      const { id } = (await world.server.container.db('admin_approvals').where({ subject: 'console-eyes', status: 'pending' }).first()) as { id: string };
      const approve = `/console/approvals/${id}/approve`;

      const queue = await open(admin, '/console/approvals');
      expect(queue.status).to.equal(200);
      expect(queue.html).to.include(`id="approval-${id}"`).and.include('<code>ethnicity</code>').and.include('yêu cầu của bạn');
      // Four eyes: no approve or reject on one's own request, and the reason instead.
      expect(onceOf(queue.html, approve)).to.equal(undefined);
      expect(queue.html).not.to.include(approve);
      expect(queue.html).to.include('Đây là yêu cầu của bạn: một quản trị viên khác phải phê duyệt');
      // A form forged with a token of the page still changes nothing (the API's own four-eyes check, or the token's binding).
      const forged = await open(admin, approve, { form: { once: onceOf(queue.html, '/auth/sign-out') ?? 'none' } });
      expect(forged.status).to.be.oneOf([403, 409]);
      expect((await stored('console-eyes'))!.approvedScopes).to.deep.equal(['openid']);
      // An auditor reads the queue without buttons; a support officer does not see it.
      const audited = await open(auditor, '/console/approvals');
      expect(audited.html).to.include(`id="approval-${id}"`).and.not.include(approve);
      expect((await open(officer, '/console/approvals')).status).to.equal(403);

      const once = onceOf((await open(second, '/console/approvals')).html, approve)!;
      const approved = await open(second, approve, { form: { once } });
      expect(approved.status, approved.html).to.equal(303);
      expect(approved.location).to.equal('/console/approvals?done=approved');
      expect((await stored('console-eyes'))!.approvedScopes).to.deep.equal(['openid', 'ethnicity']);
      const after = await open(second, approved.location!);
      expect(after.html).to.include('role="status"').and.not.include(`id="approval-${id}"`);
      // The row's form again (its reject button): already done, nothing changes.
      expect((await open(second, `/console/approvals/${id}/reject`, { form: { once } })).status).to.equal(409);
      expect(await world.server.container.db('admin_approvals').where({ id }).first()).to.include({ status: 'approved', decided_by: `account:${second.accountId}` });
    });
  });

  describe('the audit viewer', () => {
    it('filters, pages through more events than a page holds, and refuses a bad filter with 400', async () => {
      const total = AUDIT_PAGE_SIZE + 7;
      for (let index = 0; index < total; index += 1) {
        await world.server.container.audit.record({ type: 'admin.action', actor: 'test:paging', data: { action: 'test.paging', index } });
      }
      await world.server.container.audit.flush();
      const rows = (html: string) => [...html.matchAll(/&quot;index&quot;:(\d+)/g)].map((match) => Number(match[1]));
      const first = await open(auditor, '/console/audit?actor=test%3Apaging&type=admin.action');
      expect(first.status).to.equal(200);
      expect(rows(first.html)).to.have.length(AUDIT_PAGE_SIZE);
      expect(rows(first.html)[0]).to.equal(total - 1);
      const next = /href="([^"]+)" rel="next"/.exec(first.html)![1]!.replaceAll('&amp;', '&');
      const second = await open(auditor, next);
      expect(rows(second.html)).to.deep.equal([6, 5, 4, 3, 2, 1, 0]);
      expect(second.html).not.to.include('rel="next"');
      // The filter fields keep what was asked.
      expect(first.html).to.include('value="test:paging"');
      // Time filters are UTC, as a datetime-local field sends them.
      const future = await open(auditor, '/console/audit?actor=test%3Apaging&from=2999-01-01T00%3A00');
      expect(future.status).to.equal(200);
      expect(rows(future.html)).to.deep.equal([]);
      const bad = await open(auditor, '/console/audit?accountId=not-a-uuid&from=yesterday');
      expect(bad.status).to.equal(400);
      expect(bad.html).to.include('id="accountId-error"').and.include('id="from-error"');
      expect((await open(admin, '/console/audit')).status).to.equal(403);
    });
  });

  describe('administrators by name', () => {
    /** How a page names an administrator: the holder's name, the account's short id in small muted text. */
    const named = (name: string, accountId: string) => `${name} <small class="muted" title="account:${accountId}">${accountId.slice(0, 8)}</small>`;

    it('names the requester in the four-eyes queue and on the account page, and the signed-in administrator at home', async () => {
      await submit(admin, NEW_CLIENT_PATH, { ...PORTAL_FORM, clientId: 'console-named', scope: ['openid', 'national_id'] }, '/console/clients');
      const queue = await open(auditor, '/console/approvals');
      expect(queue.html).to.include(named('Nguyễn Văn An', admin.accountId)).and.not.include(`<td>account:${admin.accountId}`);
      expect((await open(admin, '/console/')).html).to.include('Nguyễn Văn An <small class="muted">');
      // A level-1 citizen whose raise to level 2 a support officer asks for.
      const { container } = world.server;
      const nationalId = '079185000999';
      await container.registry.upsert({ ...DEMO_CITIZENS[1]!.record, nationalId, fullName: 'Vũ Thị Hạnh' });
      const { id } = await container.accounts.enrol({ nationalId, level: 1, passwordHash: await container.passwords.hash('Hanh#Demo2026'), totpSecretSealed: null, phoneNumber: null, phoneNumberVerified: false, email: null, emailVerified: false });
      const requested = await submit(officer, `/console/accounts/${id}/level-two`, { evidence: 'CCCD gốc, hồ sơ HS-2026-0077' });
      expect(requested.status, requested.html).to.equal(303);
      expect((await open(officer, `/console/accounts/${id}`)).html).to.include(named('Lê Minh Khoa', officer.accountId));
    });

    it('names administrators and service clients in the audit trail, in one read for the whole page, and keeps the ids in the trail', async () => {
      const { container } = world.server;
      for (const actor of [`account:${admin.accountId}`, `account:${officer.accountId}`, 'client:demo-service', 'cli:operator']) {
        await container.audit.record({ type: 'admin.action', actor, data: { action: 'test.named' } });
      }
      await container.audit.flush();
      const reads: string[] = [];
      const listen = (query: { sql: string }) => {
        if (query.sql.includes('registry_records')) reads.push(query.sql);
      };
      container.db.on('query', listen);
      const page = await open(auditor, '/console/audit?type=admin.action');
      container.db.off('query', listen);
      expect(page.status).to.equal(200);
      expect(page.html).to.include(named('Nguyễn Văn An', admin.accountId)).and.include(named('Lê Minh Khoa', officer.accountId));
      expect(page.html).to.include('<code title="client:demo-service">demo-service</code>').and.include('<code>cli:operator</code>');
      expect(reads).to.have.length(1);
      expect((await auditEvents(world, 'admin.action', `account:${admin.accountId}`)).length).to.be.greaterThan(0);
    });
  });

  describe('the outbox', () => {
    it('shows support officers the messages stored instead of sent, escaped; other roles get 403, audited', async () => {
      await world.server.container.notifier.send({ channel: 'sms', destination: '+84900000019', subject: 'Mã xác nhận', body: '<b>654321</b>' });
      const page = await open(officer, '/console/outbox?lang=en');
      expect(page.status).to.equal(200);
      expect(page.html).to.include('+84900000019').and.include('&lt;b&gt;654321&lt;/b&gt;').and.include('<h1>Outbox</h1>');
      expect(page.html).to.include('href="/console/outbox" aria-current="page"');
      const vietnamese = await open(officer, '/console/outbox?lang=vi');
      expect(vietnamese.html).to.include('lang="vi"').and.include('Hộp thư đi');
      for (const who of [admin, auditor]) {
        const refused = await open(who, '/console/outbox');
        expect(refused.status).to.equal(403);
        expect(refused.html).not.to.include('654321');
        expect((await open(who, '/console/')).html).not.to.include('/console/outbox');
      }
      expect((await auditEvents(world, 'admin.denied', `account:${admin.accountId}`)).some((event) => event.data.operation === 'listOutbox')).to.equal(true);
    });
  });

  describe('signing out', () => {
    it('a form with the CSRF token ends the session and continues to the provider’s logout', async () => {
      const leaving = await adminSession(world, FIRST_ADMIN, []);
      expect((await open(leaving, '/auth/sign-out', { form: {}, csrf: 'wrong' })).status).to.equal(403);
      const out = await open(leaving, '/auth/sign-out', { form: {} });
      expect(out.status).to.equal(303);
      expect(out.location).to.match(new RegExp(`^${world.issuer}/session/end\\?`));
      expect((await open(leaving, '/console/')).status).to.equal(302);
      const back = await fetch(`${world.adminUrl}/auth/signed-out`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(back.headers.get('location')).to.equal('/console/signed-out');
      const page = await open(undefined, '/console/signed-out');
      expect(page.status).to.equal(200);
      expect(page.html).to.include('role="status"').and.include('href="/auth/sign-in"');
    });
  });
});
