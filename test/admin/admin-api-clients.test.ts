// The admin API's relying-party endpoints: every endpoint's happy path, each profile rule refused
// through the API with nothing written, four eyes on sensitive scopes, and the audit of each change.
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, auditEvents, serviceToken, FIRST_ADMIN, SECOND_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { signingKey } from '../support/bank.ts';
import { ClientRepository } from '../../src/oidc/clients/clients.ts';

type Json = Record<string, unknown>;
type ClientView = { clientId: string; status: string; approvedScopes: string[]; pendingScopes: string[]; contacts: Json[]; agreementReference: string; hasSecret: boolean; metadata: Json };

const CONTACTS = [{ name: 'Phòng CNTT Bộ Tài chính', email: 'it@mof.example.vn' }];

function portal(clientId: string, overrides: Json = {}): Json {
  return {
    clientId,
    name: 'Cổng dịch vụ công',
    profile: 'portal',
    approvedScopes: ['openid', 'profile'],
    redirectUris: ['https://portal.example.vn/callback'],
    contacts: CONTACTS,
    agreementReference: 'TT-2026/BTC-01',
    ...overrides,
  };
}

describe('admin API: relying parties', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let admin: AdminCredentials & { kind: 'session' };
  let second: AdminCredentials & { kind: 'session' };

  before(async () => {
    world = await startTestServer();
    admin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
    second = await adminSession(world, SECOND_ADMIN, ['client_admin']);
  });
  after(() => world?.close());

  const call = <T = Json>(method: string, path: string, body?: unknown, who: AdminCredentials = admin) => adminCall<T>(world, who, method, path, body);
  const stored = (clientId: string) => world.server.container.clients.find(clientId);

  describe('create, read, list, update, suspend, resume, delete', () => {
    it('registers a portal, shows its generated secret once, and never again', async () => {
      const created = await call<{ client: ClientView; secret: string; pendingApproval: null }>('POST', '/api/clients', portal('mof-portal'));
      expect(created.status).to.equal(201);
      expect(created.body.secret).to.be.a('string').with.length.above(30);
      expect(created.body.pendingApproval).to.equal(null);
      expect(created.body.client).to.include({ clientId: 'mof-portal', status: 'active', hasSecret: true, agreementReference: 'TT-2026/BTC-01' });
      expect(created.body.client.contacts).to.deep.equal(CONTACTS);
      expect(created.body.client.metadata).to.include({ token_endpoint_auth_method: 'client_secret_basic', subject_type: 'pairwise' });

      const read = await call<ClientView>('GET', '/api/clients/mof-portal');
      expect(read.status).to.equal(200);
      expect(JSON.stringify(read.body)).not.to.include(created.body.secret);
      // Sealed at rest: the row never holds the secret in plain text.
      const row = await world.server.container.db('clients').where({ client_id: 'mof-portal' }).first<{ secret_sealed: string }>('secret_sealed');
      expect(row.secret_sealed).to.be.a('string').and.not.include(created.body.secret);
      // And it works at the token endpoint (the provider sees the same client at once).
      const metadata = await world.server.container.clients.findMetadata('mof-portal');
      expect(metadata?.client_secret).to.equal(created.body.secret);
    });

    it('refuses a second client with the same id (409) and leaves the first unchanged', async () => {
      const again = await call('POST', '/api/clients', portal('mof-portal', { name: 'Another' }));
      expect(again.status).to.equal(409);
      expect((await stored('mof-portal'))?.name).to.equal('Cổng dịch vụ công');
    });

    it('lists with search and paging, never more than the limit', async () => {
      for (const id of ['hn-portal-1', 'hn-portal-2', 'hn-portal-3']) {
        expect((await call('POST', '/api/clients', portal(id, { name: `Hà Nội ${id}` }))).status).to.equal(201);
      }
      const first = await call<{ clients: ClientView[]; next?: string }>('GET', '/api/clients?search=HN-PORTAL&limit=2');
      expect(first.status).to.equal(200);
      expect(first.body.clients.map((client) => client.clientId)).to.deep.equal(['hn-portal-1', 'hn-portal-2']);
      expect(first.body.next).to.equal('hn-portal-2');
      const second = await call<{ clients: ClientView[]; next?: string }>('GET', `/api/clients?search=hn-portal&limit=2&cursor=${first.body.next}`);
      expect(second.body.clients.map((client) => client.clientId)).to.deep.equal(['hn-portal-3']);
      expect(second.body.next).to.equal(undefined);
      const byName = await call<{ clients: ClientView[] }>('GET', '/api/clients?search=h%C3%A0%20n%E1%BB%99i');
      expect(byName.body.clients).to.have.length(3);
      // A search is a substring, not a pattern: % and _ match themselves.
      expect((await call<{ clients: ClientView[] }>('GET', '/api/clients?search=%25')).body.clients).to.have.length(0);
      expect((await call('GET', '/api/clients?limit=1000')).status).to.equal(400);
    });

    it('replaces a registration, keeping the status and the secret', async () => {
      const before = await world.server.container.clients.findMetadata('hn-portal-1');
      const updated = await call<{ client: ClientView; secret?: string }>(
        'PUT',
        '/api/clients/hn-portal-1',
        { ...portal('x'), clientId: undefined, name: 'Hà Nội mới', redirectUris: ['https://new.hanoi.example.vn/cb'] },
      );
      expect(updated.status).to.equal(200);
      expect(updated.body.secret).to.equal(undefined);
      expect(updated.body.client.metadata.redirect_uris).to.deep.equal(['https://new.hanoi.example.vn/cb']);
      const after = await world.server.container.clients.findMetadata('hn-portal-1');
      expect(after?.client_secret).to.equal(before?.client_secret);
      expect((await stored('hn-portal-1'))?.name).to.equal('Hà Nội mới');
      expect((await call('PUT', '/api/clients/nobody', { ...portal('x'), clientId: undefined })).status).to.equal(404);
    });

    it('suspends and resumes', async () => {
      const suspended = await call<ClientView>('POST', '/api/clients/hn-portal-2/suspend');
      expect(suspended.status).to.equal(200);
      expect(suspended.body.status).to.equal('suspended');
      expect(await world.server.container.clients.findMetadata('hn-portal-2')).to.equal(undefined);
      const listed = await call<{ clients: ClientView[] }>('GET', '/api/clients?status=suspended');
      expect(listed.body.clients.map((client) => client.clientId)).to.deep.equal(['hn-portal-2']);
      const resumed = await call<ClientView>('POST', '/api/clients/hn-portal-2/resume');
      expect(resumed.body.status).to.equal('active');
      expect(await world.server.container.clients.findMetadata('hn-portal-2')).to.not.equal(undefined);
    });

    it('deletes', async () => {
      expect((await call('DELETE', '/api/clients/hn-portal-3')).status).to.equal(204);
      expect(await stored('hn-portal-3')).to.equal(undefined);
      expect((await call('DELETE', '/api/clients/hn-portal-3')).status).to.equal(404);
      expect((await call('GET', '/api/clients/hn-portal-3')).status).to.equal(404);
    });

    it("leaves the provider's own applications alone", async () => {
      await world.server.container.clients.save({
        clientId: 'account-console',
        name: 'Account',
        profile: 'portal',
        approvedScopes: ['openid'],
        redirectUris: [`${world.issuer}/account/callback`],
        secret: 'a-long-enough-secret',
      });
      for (const [method, path] of [['POST', '/api/clients/account-console/suspend'], ['DELETE', '/api/clients/account-console'], ['POST', '/api/clients/account-console/secret']]) {
        const answer = await call(method!, path!);
        expect(answer.status, path).to.equal(409);
        expect(answer.body.code).to.equal('first_party');
      }
    });

    it('records every change with the acting administrator', async () => {
      const events = await auditEvents(world, 'admin.action', `account:${admin.accountId}`);
      const actions = events.map((event) => `${event.data.action as string}:${event.client_id}`);
      expect(actions).to.include.members([
        'client.created:mof-portal',
        'client.updated:hn-portal-1',
        'client.suspended:hn-portal-2',
        'client.resumed:hn-portal-2',
        'client.removed:hn-portal-3',
      ]);
      // A refused request changed nothing, and so recorded no change.
      expect(actions.filter((action) => action === 'client.created:mof-portal')).to.have.length(1);
    });
  });

  describe('profile rules, each refused with a 400 naming the rule, nothing written', () => {
    const refusals: [string, Json, RegExp][] = [
      ['a bank client cannot be given client_secret_basic', { profile: 'bank', tokenEndpointAuthMethod: 'client_secret_basic' }, /token_endpoint_auth_method: a bank client uses private_key_jwt/],
      ['a bank client needs its keys', { profile: 'bank' }, /jwks|key|certificate/i],
      ['a spa cannot have a secret', { profile: 'spa', tokenEndpointAuthMethod: 'client_secret_basic' }, /a spa client uses none/],
      ['a native app cannot have a secret', { profile: 'native', tokenEndpointAuthMethod: 'client_secret_basic' }, /a native client uses none/],
      ['a portal is not a public client', { tokenEndpointAuthMethod: 'none' }, /a portal client uses client_secret_basic or private_key_jwt/],
      ['a service client has no redirect URIs', { profile: 'service' }, /redirect_uris: a service client has none/],
      ['a portal needs a redirect URI', { redirectUris: [] }, /redirect_uris: at least one/],
      ['redirect URIs are https', { redirectUris: ['http://portal.example.vn/cb'] }, /must use https \(http only on loopback\)/],
      ['redirect URIs have no fragment', { redirectUris: ['https://portal.example.vn/cb#x'] }, /must not have a fragment/],
      ['redirect URIs are absolute', { redirectUris: ['/cb'] }, /is not an absolute URL/],
      ['a web client has no private-use scheme', { profile: 'spa', redirectUris: ['vn.gov.app:/cb'] }, /must use https/],
      ['a native app uses http on loopback, not https', { profile: 'native', redirectUris: ['https://127.0.0.1/cb'] }, /must use http on loopback/],
      ['a pairwise client keeps to one host', { redirectUris: ['https://a.example.vn/cb', 'https://b.example.vn/cb'] }, /share one host/],
      ['scopes are known', { approvedScopes: ['openid', 'everything'] }, /unknown scope "everything"/],
      ['resource scopes are for service clients', { approvedScopes: ['tax:read'] }, /service clients only/],
      ['admin scopes are for service clients', { approvedScopes: ['admin:clients'] }, /service clients only/],
      ['a service client gets no back-channel logout', { profile: 'service', redirectUris: undefined, backchannelLogoutUri: 'https://svc.example.vn/logout' }, /a service client has no sessions/],
      ['a client id has a shape', { clientId: 'No Spaces!' }, /client_id: 3 to 64 characters/],
      ['lifetimes are not longer than the provider allows', { settings: { accessTokenTtl: 10_000_000 } }, /longer than the provider allows/],
      ['a resource scope is offered by a resource server', { profile: 'service', redirectUris: undefined, approvedScopes: ['tax:read'] }, /no registered resource server offers "tax:read"/],
      ['jwks holds public keys only', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'k' }] } }, /private or symmetric key material/],
    ];
    for (const [rule, change, message] of refusals) {
      it(rule, async () => {
        const clientId = (change.clientId as string | undefined) ?? `rule-${Math.random().toString(36).slice(2, 10)}`;
        const answer = await call('POST', '/api/clients', portal(clientId, change));
        expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
        expect(answer.body.code).to.equal('invalid_registration');
        expect(answer.body.detail).to.match(message);
        expect(await stored(clientId)).to.equal(undefined);
      });
    }

    it('names the refused field and why in a stable code, for callers that word it themselves (the console)', async () => {
      const answer = await call('POST', '/api/clients', portal('rule-https', { backchannelLogoutUri: 'http://portal.example.vn/logout' }));
      expect(answer.status).to.equal(400);
      expect(answer.body.issues).to.deep.equal([{ path: 'backchannel_logout_uri', message: answer.body.detail, code: 'https_required' }]);
    });

    it('refuses input of the wrong shape: unknown fields (a secret of our own), no contact, no agreement', async () => {
      for (const [change, field] of [
        [{ secret: 'my-own-secret-123' }, 'body'],
        [{ contacts: [] }, 'body.contacts'],
        [{ contacts: [{ name: 'x', email: 'not-an-email' }] }, 'body.contacts.0.email'],
        [{ agreementReference: undefined }, 'body.agreementReference'],
        [{ profile: 'mainframe' }, 'body.profile'],
      ] as const) {
        const answer = await call<{ code: string; issues: { path: string }[] }>('POST', '/api/clients', portal('shape-check', change));
        expect(answer.status, JSON.stringify(change)).to.equal(400);
        expect(answer.body.code).to.equal('invalid_request');
        expect(answer.body.issues.map((issue) => issue.path)).to.include(field);
      }
      expect(await stored('shape-check')).to.equal(undefined);
    });

    it('refuses a body that is not JSON', async () => {
      const response = await fetch(`${world.adminUrl}/api/clients`, {
        method: 'POST',
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/json' },
        body: '{not json',
      });
      expect(response.status).to.equal(400);
      expect(((await response.json()) as Json).code).to.equal('invalid_json');
    });

    it('in production, a web client on http loopback is refused too (the same rule `clients add` applies)', () => {
      const production = new ClientRepository(world.server.container.db, world.server.container.sealer, { allowLoopbackReceivers: false });
      expect(() =>
        production.check({ clientId: 'dev-portal', name: 'Dev', profile: 'portal', approvedScopes: ['openid'], redirectUris: ['http://127.0.0.1:8080/cb'], secret: 'long-enough-secret' }),
      ).to.throw(/http on loopback only outside production/);
      // Native apps keep RFC 8252's loopback redirect everywhere.
      expect(() => production.check({ clientId: 'app', name: 'App', profile: 'native', approvedScopes: ['openid'], redirectUris: ['http://127.0.0.1:8080/cb'] })).not.to.throw();
    });
  });

  describe('the other profiles, accepted', () => {
    it('a spa gets no secret; a native app a private-use scheme; http on loopback outside production', async () => {
      const spa = await call<{ client: ClientView; secret?: string }>('POST', '/api/clients', portal('city-spa', { profile: 'spa', redirectUris: ['http://localhost:5173/cb'] }));
      expect(spa.status).to.equal(201);
      expect(spa.body.secret).to.equal(undefined);
      expect(spa.body.client.hasSecret).to.equal(false);
      const native = await call('POST', '/api/clients', portal('vneid-app', { profile: 'native', redirectUris: ['vn.gov.vneid:/callback'] }));
      expect(native.status, JSON.stringify(native.body)).to.equal(201);
    });

    it('a bank with inline keys, and a portal with a jwks_uri', async () => {
      const { publicJwk } = await signingKey('PS256', 'bank-key-1');
      const bank = await call<{ client: ClientView; secret?: string }>('POST', '/api/clients', portal('vcb-bank', { profile: 'bank', jwks: { keys: [publicJwk] }, approvedScopes: ['openid'] }));
      expect(bank.status, JSON.stringify(bank.body)).to.equal(201);
      expect(bank.body.secret).to.equal(undefined);
      expect(bank.body.client.metadata).to.include({ token_endpoint_auth_method: 'private_key_jwt' });
      const withUri = await call<{ client: ClientView }>('POST', '/api/clients', portal('jwks-portal', { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'https://portal.example.vn/jwks.json' }));
      expect(withUri.status, JSON.stringify(withUri.body)).to.equal(201);
      expect(withUri.body.client.metadata).to.include({ jwks_uri: 'https://portal.example.vn/jwks.json' });
    });

    it('moving a portal to client_secret_basic issues a secret then, shown once; away from it drops the secret', async () => {
      const moved = await call<{ client: ClientView; secret?: string }>('PUT', '/api/clients/jwks-portal', { ...portal('x'), clientId: undefined });
      expect(moved.status).to.equal(200);
      expect(moved.body.secret).to.be.a('string');
      expect((await world.server.container.clients.findMetadata('jwks-portal'))?.client_secret).to.equal(moved.body.secret);
      const back = await call<{ client: ClientView; secret?: string }>('PUT', '/api/clients/jwks-portal', {
        ...portal('x'),
        clientId: undefined,
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwksUri: 'https://portal.example.vn/jwks.json',
      });
      expect(back.body.secret).to.equal(undefined);
      expect((await world.server.container.clients.findMetadata('jwks-portal'))?.client_secret).to.equal(undefined);
    });
  });

  describe('sensitive scopes need a second administrator (four eyes)', () => {
    let approvalId: string;

    it('registers the client without them, pending approval', async () => {
      const created = await call<{ client: ClientView; pendingApproval: { id: string; scopes: string[] } }>(
        'POST',
        '/api/clients',
        portal('tax-portal', { approvedScopes: ['openid', 'profile', 'national_id', 'ethnicity'] }),
      );
      expect(created.status).to.equal(201);
      expect(created.body.client.approvedScopes).to.deep.equal(['openid', 'profile']);
      expect(created.body.pendingApproval.scopes).to.deep.equal(['national_id', 'ethnicity']);
      approvalId = created.body.pendingApproval.id;
      expect((await stored('tax-portal'))?.approvedScopes).to.deep.equal(['openid', 'profile']);
      const read = await call<ClientView>('GET', '/api/clients/tax-portal');
      expect(read.body.pendingScopes).to.deep.equal(['national_id', 'ethnicity']);
      const queue = await call<{ approvals: { id: string; kind: string; subject: string; requestedBy: string }[] }>('GET', '/api/approvals?subject=tax-portal');
      expect(queue.body.approvals).to.have.length(1);
      expect(queue.body.approvals[0]).to.include({ id: approvalId, kind: 'client.scopes', subject: 'tax-portal', requestedBy: `account:${admin.accountId}` });
    });

    it('the requester cannot approve their own request, nor reject it', async () => {
      for (const verb of ['approve', 'reject']) {
        const own = await call('POST', `/api/approvals/${approvalId}/${verb}`);
        expect(own.status).to.equal(403);
        expect(own.body.code).to.equal('four_eyes');
      }
      expect((await stored('tax-portal'))?.approvedScopes).to.deep.equal(['openid', 'profile']);
    });

    it('nor can automation, even with admin:clients', async () => {
      const robot = await serviceToken(world, ['admin:clients']);
      const answer = await call('POST', `/api/approvals/${approvalId}/approve`, undefined, robot);
      expect(answer.status).to.equal(403);
      expect((await stored('tax-portal'))?.approvedScopes).to.deep.equal(['openid', 'profile']);
    });

    it('a second administrator approves, and the scopes apply at once', async () => {
      const approved = await call<{ status: string; decidedBy: string }>('POST', `/api/approvals/${approvalId}/approve`, undefined, second);
      expect(approved.status).to.equal(200);
      expect(approved.body).to.include({ status: 'approved', decidedBy: `account:${second.accountId}` });
      expect((await stored('tax-portal'))?.approvedScopes).to.deep.equal(['openid', 'profile', 'national_id', 'ethnicity']);
      expect((await world.server.container.clients.findMetadata('tax-portal'))?.approved_scopes).to.include('ethnicity');
      const again = await call('POST', `/api/approvals/${approvalId}/approve`, undefined, second);
      expect(again.status).to.equal(409);
      const events = await auditEvents(world, 'admin.action', `account:${second.accountId}`);
      expect(events.map((event) => event.data.action)).to.include('approval.approved');
    });

    it('keeping approved scopes in an update needs no new approval; adding one does; a rejection applies nothing', async () => {
      const kept = await call<{ pendingApproval: null }>('PUT', '/api/clients/tax-portal', { ...portal('x'), clientId: undefined, approvedScopes: ['openid', 'national_id'] });
      expect(kept.body.pendingApproval).to.equal(null);
      expect((await stored('tax-portal'))?.approvedScopes).to.deep.equal(['openid', 'national_id']);
      const added = await call<{ pendingApproval: { id: string; scopes: string[] } }>('PUT', '/api/clients/tax-portal', {
        ...portal('x'),
        clientId: undefined,
        approvedScopes: ['openid', 'national_id', 'ethnicity'],
      });
      expect(added.body.pendingApproval.scopes).to.deep.equal(['ethnicity']);
      const rejected = await call<{ status: string }>('POST', `/api/approvals/${added.body.pendingApproval.id}/reject`, undefined, second);
      expect(rejected.body.status).to.equal('rejected');
      expect((await stored('tax-portal'))?.approvedScopes).to.deep.equal(['openid', 'national_id']);
    });

    it("the generic queue decides only relying-party requests; other kinds have their own endpoints and officers", async () => {
      const [other] = await world.server.container.db('admin_approvals')
        .insert({ kind: 'account.level', subject: 'someone', change: JSON.stringify({ level: 2 }), requested_by: `account:${admin.accountId}` })
        .returning<{ id: string }[]>('id');
      const answer = await call('POST', `/api/approvals/${other!.id}/approve`, undefined, second);
      expect(answer.status).to.equal(403);
      expect((await world.server.container.db('admin_approvals').where({ id: other!.id }).first<{ status: string }>('status'))?.status).to.equal('pending');
      expect((await call('POST', '/api/approvals/00000000-0000-4000-8000-000000000000/approve', undefined, second)).status).to.equal(404);
    });

    it('a service client asking for an admin scope waits for approval too', async () => {
      const created = await call<{ client: ClientView; pendingApproval: { id: string; scopes: string[] }; secret: string }>(
        'POST',
        '/api/clients',
        portal('audit-robot', { profile: 'service', redirectUris: undefined, approvedScopes: ['admin:audit'] }),
      );
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.client.approvedScopes).to.deep.equal([]);
      expect(created.body.pendingApproval.scopes).to.deep.equal(['admin:audit']);
      expect((await call('POST', `/api/approvals/${created.body.pendingApproval.id}/approve`, undefined, second)).status).to.equal(200);
      expect((await stored('audit-robot'))?.approvedScopes).to.deep.equal(['admin:audit']);
    });
  });
});
