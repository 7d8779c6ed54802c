// Approving a relying party for verified claims takes two administrators (four eyes), through the admin
// API or the command line; withdrawing is at once; the provider sees each change on its next request.
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, FIRST_ADMIN, SECOND_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { cliEnvironment, runCli } from '../support/cli.ts';

type Json = Record<string, unknown>;

describe('admin: approving a client for verified claims (four eyes)', function () {
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
  const approvedInProvider = async (clientId: string) => (await world.server.container.clients.findMetadata(clientId))?.verified_claims_approved;

  it('the demo portal and the demo bank are approved in the demo data; demo-tax is not', async () => {
    for (const [clientId, approved] of [['demo-portal', true], ['demo-bank', true], ['demo-tax', false]] as const) {
      const answer = await call<{ approved: boolean }>('GET', `/api/clients/${clientId}/verified-claims`);
      expect(answer.status).to.equal(200);
      expect(answer.body.approved, clientId).to.equal(approved);
      expect(await approvedInProvider(clientId)).to.equal(approved);
    }
  });

  it('waits for a second administrator, who alone can approve', async () => {
    const asked = await call<{ approved: boolean; pendingApproval: string }>('PUT', '/api/clients/demo-tax/verified-claims', { approved: true });
    expect(asked.status).to.equal(202);
    expect(asked.body.approved).to.equal(false);
    expect(await approvedInProvider('demo-tax')).to.equal(false);
    const twice = await call('PUT', '/api/clients/demo-tax/verified-claims', { approved: true });
    expect(twice.status).to.equal(409);
    const own = await call('POST', `/api/approvals/${asked.body.pendingApproval}/approve`);
    expect(own.status).to.equal(403);
    expect(await approvedInProvider('demo-tax')).to.equal(false);
    const approved = await call('POST', `/api/approvals/${asked.body.pendingApproval}/approve`, undefined, second);
    expect(approved.status).to.equal(200);
    expect(await approvedInProvider('demo-tax')).to.equal(true);
    expect((await call<{ approved: boolean; pendingApproval: null }>('GET', '/api/clients/demo-tax/verified-claims')).body).to.deep.include({ approved: true, pendingApproval: null });
  });

  it('withdraws at once, and refuses bad input with a 4xx', async () => {
    const withdrawn = await call<{ approved: boolean }>('PUT', '/api/clients/demo-tax/verified-claims', { approved: false });
    expect(withdrawn.status).to.equal(200);
    expect(withdrawn.body.approved).to.equal(false);
    expect(await approvedInProvider('demo-tax')).to.equal(false);
    expect((await call('PUT', '/api/clients/demo-tax/verified-claims', { approved: 'yes' })).status).to.equal(400);
    expect((await call('PUT', '/api/clients/no-such-client/verified-claims', { approved: true })).status).to.equal(404);
    expect((await call('PUT', '/api/clients/account-console/verified-claims', { approved: true })).status).to.be.oneOf([404, 409]);
  });

  it('the command line: one administrator asks, another approves, the asker cannot', async () => {
    const environ = cliEnvironment(world.database.url);
    const asked = await runCli(['clients', 'verified-claims', 'request', 'demo-tax', '--admin', 'Lan'], environ);
    expect(asked.code, asked.stderr).to.equal(0);
    const requestId = /request ([0-9a-f-]{36})/.exec(asked.stdout)?.[1];
    expect(requestId, asked.stdout).to.be.a('string');
    const own = await runCli(['clients', 'verified-claims', 'approve', requestId!, '--admin', 'Lan'], environ);
    expect(own.code).to.equal(2);
    expect(own.stderr).to.match(/second administrator/);
    const missing = await runCli(['clients', 'verified-claims', 'request', 'demo-tax'], environ);
    expect(missing.code).to.equal(2);
    const approved = await runCli(['clients', 'verified-claims', 'approve', requestId!, '--admin', 'Minh'], environ);
    expect(approved.code, approved.stderr).to.equal(0);
    expect(approved.stdout).to.match(/demo-tax: approved for verified claims/);
    const shown = await runCli(['clients', 'verified-claims', 'show', 'demo-tax'], environ);
    expect(shown.stdout).to.match(/demo-tax: approved for verified claims/);
    // (This command line has no Redis to tell the server's client cache; the stored row is what it changed.)
    const stored = async () => (await world.server.container.db('clients').where({ client_id: 'demo-tax' }).first<{ verified_claims_approved: boolean }>('verified_claims_approved'))?.verified_claims_approved;
    expect(await stored()).to.equal(true);
    const revoked = await runCli(['clients', 'verified-claims', 'revoke', 'demo-tax', '--admin', 'Minh'], environ);
    expect(revoked.code, revoked.stderr).to.equal(0);
    expect(await stored()).to.equal(false);
  });
});
