// `clients request-type|confirm-type|withdraw-type` (docs/representation.md "Approving a portal"): one
// officer asks, a second confirms (the same officer cannot), withdrawing applies at once.
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { cliEnvironment, runCli } from '../support/cli.ts';

const TYPE = 'urn:vn:eid:representation';

describe('command line: approving a client for acting for others', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let environ: Record<string, string>;

  before(async () => {
    world = await startTestServer({ redis: false });
    environ = cliEnvironment(world.database.url, world.config.keyEncryptionKey);
  });

  after(async () => {
    await world?.close();
  });

  const approvedTypes = async (clientId: string) =>
    ((await world.server.container.db('clients').where({ client_id: clientId }).first<{ approved_authorization_details_types: string[] }>('approved_authorization_details_types')))
      .approved_authorization_details_types;

  it('asks, refuses the same officer, confirms with a second, and withdraws', async () => {
    const asked = await runCli(['clients', 'request-type', 'demo-spa', TYPE, '--officer', 'Lan'], environ);
    expect(asked.code, asked.stderr).to.equal(0);
    const id = /request ([0-9a-f-]{36}) recorded/.exec(asked.stdout)?.[1];
    expect(id, asked.stdout).to.be.a('string');
    expect(await approvedTypes('demo-spa')).to.deep.equal([]);

    const same = await runCli(['clients', 'confirm-type', id!, '--officer', 'Lan'], environ);
    expect(same.code).to.equal(2);
    expect(same.stderr).to.include('second administrator');
    expect(await approvedTypes('demo-spa')).to.deep.equal([]);

    const confirmed = await runCli(['clients', 'confirm-type', id!, '--officer', 'Minh'], environ);
    expect(confirmed.code, confirmed.stderr).to.equal(0);
    expect(await approvedTypes('demo-spa')).to.deep.equal([TYPE]);

    const withdrawn = await runCli(['clients', 'withdraw-type', 'demo-spa', TYPE, '--officer', 'Lan'], environ);
    expect(withdrawn.code, withdrawn.stderr).to.equal(0);
    expect(await approvedTypes('demo-spa')).to.deep.equal([]);
  });

  it('refuses an unknown type or a missing officer (exit 2), an unknown client (exit 1)', async () => {
    expect((await runCli(['clients', 'request-type', 'demo-spa', 'urn:example:pay', '--officer', 'Lan'], environ)).code).to.equal(2);
    expect((await runCli(['clients', 'request-type', 'demo-spa', TYPE], environ)).code).to.equal(2);
    expect((await runCli(['clients', 'request-type', 'nobody', TYPE, '--officer', 'Lan'], environ)).code).to.equal(1);
  });
});
