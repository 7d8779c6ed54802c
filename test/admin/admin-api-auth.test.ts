// Who may call the admin API: each role allowed and denied, no token, a bad token, a citizen's token,
// a token without an admin scope, a suspended client's token, CSRF; every refusal audited. Roles
// granted with the CLI and through the API; an administrator signing in through the provider at
// level 2; the OpenAPI document and the admin port's security headers.
import { expect } from 'chai';
import { runCli } from '../support/cli.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, auditEvents, serviceToken, FIRST_ADMIN, SECOND_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { Browser } from '../support/browserless.ts';
import { levelTwoCitizen } from '../support/bank.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { AdminRoles } from '../../src/admin/auth-roles.ts';

type Json = Record<string, unknown>;

const NEW_SERVICE = {
  clientId: 'robot-made',
  name: 'Made by a robot',
  profile: 'service',
  approvedScopes: [],
  contacts: [{ name: 'Ops', email: 'ops@example.vn' }],
  agreementReference: 'AGR-1',
};

describe('admin API: authentication and roles', function () {
  this.timeout(60_000);
  let world: RunningServer;
  const none: AdminCredentials = { kind: 'none' };

  before(async () => {
    world = await startTestServer();
  });
  after(() => world?.close());

  const call = <T = Json>(who: AdminCredentials, method: string, path: string, body?: unknown) => adminCall<T>(world, who, method, path, body);

  describe('each role, allowed and denied', () => {
    let clientAdmin: AdminCredentials & { kind: 'session' };
    let officer: AdminCredentials & { kind: 'session' };
    let auditor: AdminCredentials & { kind: 'session' };

    before(async () => {
      const citizen = await levelTwoCitizen(world);
      clientAdmin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
      officer = await adminSession(world, SECOND_ADMIN, ['support_officer']);
      auditor = await adminSession(world, citizen.id, ['auditor']);
    });

    it('client_admin: reads, writes, sees the administrators', async () => {
      expect((await call(clientAdmin, 'POST', '/api/clients', { ...NEW_SERVICE, clientId: 'by-admin' })).status).to.equal(201);
      expect((await call(clientAdmin, 'GET', '/api/clients')).status).to.equal(200);
      expect((await call(clientAdmin, 'GET', '/api/admins')).status).to.equal(200);
      const me = await call<{ roles: string[] }>(clientAdmin, 'GET', '/api/me');
      expect(me.body.roles).to.deep.equal(['client_admin']);
    });

    it('support_officer: reads relying parties; cannot change them nor see the administrators; the refusals are audited', async () => {
      expect((await call(officer, 'GET', '/api/clients/by-admin')).status).to.equal(200);
      const write = await call(officer, 'POST', '/api/clients/by-admin/suspend');
      expect(write.status).to.equal(403);
      expect(write.body.code).to.equal('forbidden');
      expect((await call(officer, 'GET', '/api/admins')).status).to.equal(403);
      expect((await world.server.container.clients.find('by-admin'))?.status).to.equal('active');
      const denied = await auditEvents(world, 'admin.denied', `account:${officer.accountId}`);
      expect(denied.map((event) => event.data.operation)).to.include.members(['suspendClient', 'listAdministrators']);
      expect(denied[0]!.data).to.include({ method: 'GET', path: '/api/admins' });
    });

    it('auditor: reads relying parties, administrators and the four-eyes queue; changes nothing', async () => {
      expect((await call(auditor, 'GET', '/api/clients')).status).to.equal(200);
      expect((await call(auditor, 'GET', '/api/admins')).status).to.equal(200);
      expect((await call(auditor, 'GET', '/api/approvals')).status).to.equal(200);
      for (const [method, path, body] of [
        ['POST', '/api/clients', { ...NEW_SERVICE, clientId: 'by-auditor' }],
        ['PUT', '/api/clients/by-admin', { ...NEW_SERVICE, clientId: undefined, name: 'Changed' }],
        ['DELETE', '/api/clients/by-admin', undefined],
        ['POST', '/api/clients/by-admin/secret', undefined],
        ['PUT', `/api/admins/${SECOND_ADMIN}/roles/auditor`, undefined],
      ] as const) {
        expect((await call(auditor, method, path, body)).status, `${method} ${path}`).to.equal(403);
      }
      expect(await world.server.container.clients.find('by-auditor')).to.equal(undefined);
      expect((await world.server.container.clients.find('by-admin'))?.name).to.equal('Made by a robot');
      expect(await auditEvents(world, 'admin.denied', `account:${auditor.accountId}`)).to.have.length(5);
    });

    it('a session changes nothing without its CSRF token', async () => {
      const answer = await adminCall(world, clientAdmin, 'POST', '/api/clients/by-admin/suspend', undefined, { csrf: false });
      expect(answer.status).to.equal(403);
      expect(answer.body.code).to.equal('csrf');
      expect((await world.server.container.clients.find('by-admin'))?.status).to.equal('active');
      const denied = await auditEvents(world, 'admin.denied', `account:${clientAdmin.accountId}`);
      expect(denied[0]!.data.reason).to.match(/CSRF/);
    });

    it('a revoked role stops working at the next call', async () => {
      await new AdminRoles(world.server.container.db).revoke(SECOND_ADMIN, 'support_officer');
      expect((await call(officer, 'GET', '/api/clients')).status).to.equal(403);
    });
  });

  describe('callers without an admin role or scope', () => {
    it('no credentials: 401, audited as anonymous', async () => {
      const answer = await call(none, 'GET', '/api/clients');
      expect(answer.status).to.equal(401);
      expect(answer.headers.get('www-authenticate')).to.match(/^Bearer/);
      expect(answer.body.code).to.equal('unauthenticated');
      const denied = await auditEvents(world, 'admin.denied', 'anonymous');
      expect(denied[0]!.data).to.include({ operation: 'listClients', reason: 'no credentials' });
    });

    it('a bad token, an unknown session: 401', async () => {
      expect((await call({ kind: 'bearer', token: 'not-a-token-at-all-xxxxxxxx', clientId: '?' }, 'GET', '/api/clients')).status).to.equal(401);
      expect((await call({ kind: 'session', cookie: 'admin_session=' + 'A'.repeat(43), csrf: 'x', accountId: '?' }, 'GET', '/api/clients')).status).to.equal(401);
      const malformed = await fetch(`${world.adminUrl}/api/clients`, { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
      expect(malformed.status).to.equal(401);
    });

    it("a citizen's access token: 401 (only client_credentials tokens count)", async () => {
      const { provider } = world.server.container;
      const account = await world.server.container.accounts.findByNationalId(FIRST_ADMIN);
      const token = new provider.AccessToken({ accountId: account!.id, clientId: 'demo-portal', scope: 'openid admin:clients', grantId: 'g' } as never);
      const value = await token.save();
      const answer = await call({ kind: 'bearer', token: value, clientId: 'demo-portal' }, 'GET', '/api/clients');
      expect(answer.status).to.equal(401);
    });

    it('a service token without an admin scope: 403; asking for one the client is not approved for: 403', async () => {
      const plain = await serviceToken(world, []);
      expect((await call(plain, 'GET', '/api/clients')).status).to.equal(403);
      // oidc-provider puts any non-OpenID scope asked for in a client_credentials token: approval decides.
      const asking = await serviceToken(world, [], { requested: ['admin:clients'] });
      const answer = await call(asking, 'GET', '/api/clients');
      expect(answer.status).to.equal(403);
      const denied = await auditEvents(world, 'admin.denied', `client:${asking.clientId}`);
      expect(denied[0]!.data.reason).to.equal('needs the scope admin:clients');
    });

    it('a client_credentials token not addressed to the admin API (no resource=urn:vn:eid:admin-api): 401', async () => {
      const robot = await serviceToken(world, ['admin:clients']);
      const response = await fetch(`${world.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${robot.clientId}:${robot.secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin:clients' }),
      });
      const { access_token: token } = (await response.json()) as { access_token: string };
      expect((await call({ kind: 'bearer', token, clientId: robot.clientId }, 'GET', '/api/clients')).status).to.equal(401);
      // The admin API's own token works, and is worth nothing at userinfo.
      expect((await call(robot, 'GET', '/api/clients')).status).to.equal(200);
      expect((await fetch(`${world.issuer}/me`, { headers: { authorization: `Bearer ${robot.token}` } })).status).to.equal(401);
    });

    it('a token with the wrong admin scope: 403', async () => {
      const auditRobot = await serviceToken(world, ['admin:audit']);
      expect((await call(auditRobot, 'GET', '/api/clients')).status).to.equal(403);
    });
  });

  describe('automation with admin:clients', () => {
    let robot: Awaited<ReturnType<typeof serviceToken>>;
    before(async () => {
      robot = await serviceToken(world, ['admin:clients']);
    });

    it('manages relying parties, audited as the client', async () => {
      const created = await call<{ client: { clientId: string }; secret: string }>(robot, 'POST', '/api/clients', NEW_SERVICE);
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const events = await auditEvents(world, 'admin.action', `client:${robot.clientId}`);
      expect(events[0]!).to.include({ client_id: 'robot-made' });
      expect(events[0]!.data.action).to.equal('client.created');
    });

    it('cannot decide four-eyes requests nor manage roles', async () => {
      expect((await call(robot, 'PUT', `/api/admins/${SECOND_ADMIN}/roles/auditor`)).status).to.equal(403);
      expect((await call(robot, 'GET', '/api/admins')).status).to.equal(403);
    });

    it('loses access when its client is suspended, or its approval is withdrawn', async () => {
      await world.server.container.clients.setStatus(robot.clientId, 'suspended');
      expect((await call(robot, 'GET', '/api/clients')).status).to.equal(401);
      await world.server.container.clients.setStatus(robot.clientId, 'active');
      expect((await call(robot, 'GET', '/api/clients')).status).to.equal(200);
      await world.server.container.db('clients').where({ client_id: robot.clientId }).update({ approved_scopes: [] });
      // A write outside ClientRepository tells the instances' client caches itself (src/oidc/clients/client-cache.ts).
      await world.server.container.clients.clientsChanged();
      expect((await call(robot, 'GET', '/api/clients')).status).to.equal(403);
    });
  });

  describe('granting roles', () => {
    it('through the API, by a client administrator, never to themselves; audited', async () => {
      const grantor = await adminSession(world, FIRST_ADMIN, ['client_admin']);
      const self = await call(grantor, 'PUT', `/api/admins/${FIRST_ADMIN}/roles/auditor`);
      expect(self.status).to.equal(403);
      expect((await call(grantor, 'DELETE', `/api/admins/${FIRST_ADMIN}/roles/client_admin`)).status).to.equal(403);
      const granted = await call<{ granted: boolean }>(grantor, 'PUT', `/api/admins/${SECOND_ADMIN}/roles/auditor`);
      expect(granted.status).to.equal(200);
      expect(granted.body.granted).to.equal(true);
      const account = await world.server.container.accounts.findByNationalId(SECOND_ADMIN);
      expect([...(await new AdminRoles(world.server.container.db).rolesOf(account!.id))]).to.include('auditor');
      const events = await auditEvents(world, 'admin.action', `account:${grantor.accountId}`);
      expect(events.find((event) => event.data.action === 'admin.role_granted')).to.deep.include({ account_id: account!.id });
      expect((await call(grantor, 'DELETE', `/api/admins/${SECOND_ADMIN}/roles/auditor`)).status).to.equal(204);
      expect((await call(grantor, 'DELETE', `/api/admins/${SECOND_ADMIN}/roles/auditor`)).status).to.equal(404);
    });

    it('refuses a level-1 account, a bad ID number, an unknown role', async () => {
      const grantor = await adminSession(world, FIRST_ADMIN, ['client_admin']);
      expect((await call(grantor, 'PUT', '/api/admins/079185000123/roles/auditor')).body.detail).to.match(/not at level 2/);
      expect((await call(grantor, 'PUT', '/api/admins/12345/roles/auditor')).status).to.equal(400);
      expect((await call(grantor, 'PUT', `/api/admins/${SECOND_ADMIN}/roles/superuser`)).status).to.equal(400);
    });

    it('with the command line (the bootstrap path), audited as the operator', async () => {
      const environ = {
        NODE_ENV: 'test',
        DATABASE_URL: world.database.url,
        KEY_ENCRYPTION_KEY: world.config.keyEncryptionKey!.toString('base64'),
        PAIRWISE_KEY: world.config.pairwiseKey!.toString('base64'),
        LOG_LEVEL: 'silent',
      };
      const citizen = await levelTwoCitizen(world);
      const granted = await runCli(['admins', 'grant', citizen.id, 'support_officer'], environ);
      expect(granted.code, granted.stderr).to.equal(0);
      expect(granted.stdout).to.match(/granted support_officer/);
      const listed = await runCli(['admins', 'list'], environ);
      expect(listed.stdout).to.include(`${citizen.id}  support_officer`);
      const refused = await runCli(['admins', 'grant', '079185000123', 'auditor'], environ);
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.match(/not at level 2/);
      expect((await runCli(['admins', 'grant', citizen.id, 'root'], environ)).code).to.equal(2);
      const revoked = await runCli(['admins', 'revoke', citizen.id, 'support_officer'], environ);
      expect(revoked.code, revoked.stderr).to.equal(0);
      const events = (await auditEvents(world, 'admin.action')).filter((event) => event.actor.startsWith('cli:'));
      expect(events.map((event) => event.data.action)).to.include.members(['admin.role_granted', 'admin.role_revoked']);
    });
  });

  describe('signing in through the provider', () => {
    it('an administrator with a second factor signs in at level 2 and gets a session with a CSRF token', async () => {
      const citizen = await levelTwoCitizen(world);
      await new AdminRoles(world.server.container.db).grant(citizen.id, 'client_admin', 'test');
      const browser = new Browser(world.issuer);
      const start = await browser.fetch(`${world.adminUrl}/auth/sign-in`);
      expect(start.status).to.equal(302);
      expect(start.location).to.include(`${world.issuer}/auth?`);
      expect(new URL(start.location!).searchParams.get('acr_values')).to.equal('urn:vn:eid:loa:2');
      const callback = await browser.signIn(start.location!, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
      expect(browser.lastSteps).to.include('otp');
      expect(callback.origin).to.equal(world.adminUrl);
      const back = await browser.fetch(callback);
      expect(back.status, back.body).to.equal(302);
      // A person lands in the web console; a program reads its session as JSON.
      expect(back.location).to.equal(`${world.adminUrl}/console/`);
      const landing = await browser.fetch(back.location!);
      expect(landing.status).to.equal(200);
      expect(landing.body).to.include('<html lang="vi">');
      const session = await browser.fetch(`${world.adminUrl}/auth/session`);
      const body = JSON.parse(session.body) as { roles: string[]; csrfToken: string; acr: string };
      expect(body.roles).to.deep.equal(['client_admin']);
      expect(body.acr).to.equal('urn:vn:eid:loa:2');
      // The session cookie now authorizes calls; a change carries the CSRF token.
      const created = await browser.fetch(`${world.adminUrl}/api/clients`, {
        method: 'POST',
        body: JSON.stringify({ ...NEW_SERVICE, clientId: 'by-browser' }),
        headers: { 'content-type': 'application/json', 'x-csrf-token': body.csrfToken },
      });
      expect(created.status, created.body).to.equal(201);
      // A replayed callback is refused.
      expect((await browser.fetch(callback)).status).to.equal(400);
      // Signing out ends the session.
      const out = await browser.fetch(`${world.adminUrl}/auth/sign-out`, { method: 'POST', headers: { 'x-csrf-token': body.csrfToken } });
      expect(out.status).to.equal(200);
      expect((await browser.fetch(`${world.adminUrl}/api/clients`)).status).to.equal(401);
    });

    it('an account holding no role is refused after signing in, and the refusal is audited', async () => {
      const citizen = await levelTwoCitizen(world);
      const browser = new Browser(world.issuer);
      const start = await browser.fetch(`${world.adminUrl}/auth/sign-in`);
      const callback = await browser.signIn(start.location!, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
      const back = await browser.fetch(callback);
      expect(back.status).to.equal(403);
      expect(browser.cookiesFor(`${world.adminUrl}/api/clients`).has('admin_session')).to.equal(false);
      const account = await world.server.container.accounts.findByNationalId(citizen.id);
      const denied = await auditEvents(world, 'admin.denied', `account:${account!.id}`);
      expect(denied[0]!.data.reason).to.equal('no administrator role');
    });
  });

  describe('sessions', () => {
    it("an administrator's session ends eight hours after it began, however busy; the account page's has only the idle limit", async () => {
      const { admin, consoleSessions } = world.server.container;
      const now = Math.floor(Date.now() / 1000);
      const base = { accountId: '00000000-0000-4000-8000-000000000001', acr: 'urn:vn:eid:loa:2', authTime: now, csrf: 'c', idToken: 't' };
      const young = await admin.sessions.create({ ...base, createdAt: now - 8 * 3600 + 60 });
      expect(await admin.sessions.get(young)).to.include({ createdAt: now - 8 * 3600 + 60 });
      const old = await admin.sessions.create({ ...base, createdAt: now - 8 * 3600 - 1 });
      expect(await admin.sessions.get(old)).to.equal(undefined);
      // Removed from the store, not left to its idle timer.
      expect(await world.server.container.ephemeral.get(`admin-console:session:{${old}}`)).to.equal(undefined);
      const page = await consoleSessions.create({ ...base, sid: undefined, amr: [] });
      expect(await consoleSessions.get(page)).to.include({ accountId: base.accountId });
    });
  });

  describe('the document and the port', () => {
    it('serves an OpenAPI 3.1 document listing every endpoint with its roles, and the profile rules', async () => {
      const response = await fetch(`${world.adminUrl}/openapi.json`);
      expect(response.status).to.equal(200);
      const document = (await response.json()) as { openapi: string; info: { description: string }; paths: Record<string, Record<string, { 'x-roles': string[]; requestBody?: unknown }>> };
      expect(document.openapi).to.equal('3.1.0');
      expect(Object.keys(document.paths)).to.include.members(['/api/clients', '/api/clients/{clientId}', '/api/clients/{clientId}/secret', '/api/approvals/{approvalId}/approve', '/api/admins/{nationalId}/roles/{role}']);
      expect(document.paths['/api/clients']!.post!['x-roles']).to.deep.equal(['client_admin']);
      expect(document.paths['/api/clients']!.post!.requestBody).to.have.nested.property('content.application/json.schema.properties.profile');
      for (const profile of ['portal', 'bank', 'spa', 'native', 'service']) expect(document.info.description).to.include(`| \`${profile}\` |`);
    });

    it('answers with the security headers, and 404 for anything else', async () => {
      const response = await fetch(`${world.adminUrl}/api/clients`);
      expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(response.headers.get('x-frame-options')).to.equal('DENY');
      expect(response.headers.get('cache-control')).to.equal('no-store');
      expect(response.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
      expect((await fetch(`${world.adminUrl}/api/nothing-here`)).status).to.equal(404);
      expect((await fetch(`${world.adminUrl}/elsewhere`)).status).to.equal(404);
      expect((await fetch(`${world.adminUrl}/api/clients`, { method: 'PATCH' })).status).to.equal(405);
    });
  });

});
