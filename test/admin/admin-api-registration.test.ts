// The admin API's initial access tokens for dynamic client registration: issue (the token shown
// once, never stored in clear), list with limits and usage, revoke; limits that self-registration
// may never allow refused with nothing written; who may call what; the audit of each change.
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, auditEvents, serviceToken, FIRST_ADMIN, SECOND_ADMIN, type AdminCredentials } from '../support/admin.ts';

type Json = Record<string, unknown>;
type TokenView = { id: string; status: string; clientsRegistered: number; maxClients: number; profiles: string[]; scopes: string[]; redirectHosts: string[]; revokedBy: string | null };

function limits(overrides: Json = {}): Json {
  return {
    description: 'Cổng dịch vụ công của Bộ Tài chính',
    profiles: ['portal'],
    scopes: ['openid', 'profile'],
    redirectHosts: ['*.mof.example.vn'],
    maxClients: 5,
    expiresInSeconds: 86_400,
    ...overrides,
  };
}

describe('admin API: initial access tokens', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let admin: AdminCredentials & { kind: 'session' };
  let auditor: AdminCredentials & { kind: 'session' };

  before(async () => {
    world = await startTestServer();
    admin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
    auditor = await adminSession(world, SECOND_ADMIN, ['auditor']);
  });
  after(() => world?.close());

  const call = <T = Json>(method: string, path: string, body?: unknown, who: AdminCredentials = admin) => adminCall<T>(world, who, method, path, body);
  const tokenRows = async () => Number((await world.server.container.db('initial_access_tokens').count<{ count: string }[]>('* as count'))[0]!.count);

  let issued: { token: string; registrationEndpoint: string; initialAccessToken: TokenView };

  it('issues a token with limits, shows it once, and keeps only its hash', async () => {
    const answer = await call<typeof issued>('POST', '/api/registration-tokens', limits());
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    issued = answer.body;
    expect(issued.token).to.be.a('string').with.length.above(30);
    expect(issued.registrationEndpoint).to.equal(`${world.issuer}/reg`);
    expect(issued.initialAccessToken).to.include({ status: 'active', clientsRegistered: 0, maxClients: 5 });
    expect(issued.initialAccessToken.id).to.match(/^iat-[0-9a-f]{16}$/);
    const row = await world.server.container.db('initial_access_tokens').where({ id: issued.initialAccessToken.id }).first<Json>();
    expect(JSON.stringify(row)).to.not.include(issued.token);

    const listed = await call<{ initialAccessTokens: TokenView[] }>('GET', '/api/registration-tokens');
    expect(listed.status).to.equal(200);
    expect(listed.body.initialAccessTokens.map((token) => token.id)).to.include(issued.initialAccessToken.id);
    expect(JSON.stringify(listed.body)).to.not.include(issued.token);

    const [event] = await auditEvents(world, 'admin.action', `account:${admin.accountId}`);
    expect(event!.data).to.include({ action: 'registration_token.issued', initialAccessToken: issued.initialAccessToken.id, maxClients: 5 });
  });

  it('counts the clients each token registered', async () => {
    const response = await fetch(issued.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${issued.token}` },
      body: JSON.stringify({ client_name: 'Tra cứu thuế', redirect_uris: ['https://thue.mof.example.vn/cb'] }),
    });
    expect(response.status).to.equal(201);
    const { client_id: clientId } = (await response.json()) as { client_id: string };
    const listed = await call<{ initialAccessTokens: TokenView[] }>('GET', '/api/registration-tokens');
    expect(listed.body.initialAccessTokens.find((token) => token.id === issued.initialAccessToken.id)?.clientsRegistered).to.equal(1);
    // Listed with the other relying parties, marked with its token.
    const clients = await call<{ clients: { clientId: string; initialAccessToken: string | null }[] }>('GET', '/api/clients?search=reg-');
    expect(clients.body.clients.find((entry) => entry.clientId === clientId)?.initialAccessToken).to.equal(issued.initialAccessToken.id);
  });

  const refused: [string, Json][] = [
    ['a bank profile', { profiles: ['bank'] }],
    ['a sensitive scope', { scopes: ['openid', 'national_id'] }],
    ['ethnicity', { scopes: ['openid', 'ethnicity'] }],
    ['an admin scope', { scopes: ['admin:clients'] }],
    ['a country-wide wildcard host', { redirectHosts: ['*.vn'] }],
    ['a host with a scheme', { redirectHosts: ['https://portal.mof.example.vn'] }],
    ['no redirect host for a portal', { redirectHosts: [] }],
    ['more clients than allowed', { maxClients: 100_000 }],
    ['a lifetime past 90 days', { expiresInSeconds: 91 * 86_400 }],
  ];
  for (const [what, change] of refused) {
    it(`refuses ${what} (400) and writes nothing`, async () => {
      const before = await tokenRows();
      const answer = await call('POST', '/api/registration-tokens', limits(change));
      expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
      expect(answer.body.code).to.equal('invalid_request');
      expect(await tokenRows()).to.equal(before);
    });
  }

  it('lets an auditor list but not issue or revoke; the refusals are audited', async () => {
    expect((await call('GET', '/api/registration-tokens', undefined, auditor)).status).to.equal(200);
    const before = await tokenRows();
    expect((await call('POST', '/api/registration-tokens', limits(), auditor)).status).to.equal(403);
    expect((await call('POST', `/api/registration-tokens/${issued.initialAccessToken.id}/revoke`, undefined, auditor)).status).to.equal(403);
    expect(await tokenRows()).to.equal(before);
    const denied = await auditEvents(world, 'admin.denied', `account:${auditor.accountId}`);
    expect(denied.map((event) => event.data.operation)).to.include.members(['issueInitialAccessToken', 'revokeInitialAccessToken']);
    expect((await call('GET', '/api/registration-tokens', undefined, { kind: 'none' })).status).to.equal(401);
  });

  it('lets automation with admin:clients issue a token', async () => {
    const robot = await serviceToken(world, ['admin:clients']);
    const answer = await call<typeof issued>('POST', '/api/registration-tokens', limits({ description: 'automation' }), robot);
    expect(answer.status).to.equal(201);
    expect(answer.body.initialAccessToken).to.include({ issuedBy: `client:${robot.clientId}` });
  });

  it('revokes a token: registration with it is refused, a second revocation is a conflict, an unknown one 404', async () => {
    const revoked = await call<TokenView>('POST', `/api/registration-tokens/${issued.initialAccessToken.id}/revoke`);
    expect(revoked.status).to.equal(200);
    expect(revoked.body).to.include({ status: 'revoked', revokedBy: `account:${admin.accountId}` });
    const response = await fetch(issued.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${issued.token}` },
      body: JSON.stringify({ client_name: 'Quá muộn', redirect_uris: ['https://muon.mof.example.vn/cb'] }),
    });
    expect(response.status).to.equal(401);
    expect((await call('POST', `/api/registration-tokens/${issued.initialAccessToken.id}/revoke`)).status).to.equal(409);
    expect((await call('POST', '/api/registration-tokens/iat-0000000000000000/revoke')).status).to.equal(404);
    const [event] = await auditEvents(world, 'admin.action', `account:${admin.accountId}`);
    expect(event!.data).to.include({ action: 'registration_token.revoked', initialAccessToken: issued.initialAccessToken.id });
  });
});
