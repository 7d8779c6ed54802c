// The demo sign-ins the quickstart prints at start (src/quickstart.ts) follow the accounts as they are
// then, not as the demo data first left them.
import { expect } from 'chai';
import { startDemo, type QuickstartExtras } from '../../src/quickstart.ts';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';

/** The banner line of one demo citizen, found by ID number. */
function lineOf(banner: string, nationalId: string): string {
  return banner.split('\n').find((line) => line.includes(nationalId)) ?? '';
}

describe('the quickstart banner', function () {
  this.timeout(30_000);
  let world: RunningServer;
  let demo: QuickstartExtras | undefined;

  before(async function () {
    world = await startTestServer({ overrides: { demo: { portalPort: await freePort(), bankPort: await freePort() } } });
  });
  afterEach(async function () {
    await demo?.close();
    demo = undefined;
  });
  after(async function () {
    await world?.close();
  });

  async function banner(): Promise<string> {
    let printed = '';
    demo = await startDemo(world.server, { write: (text: string) => ((printed += text), true) });
    return printed;
  }

  it('says where the outbox is and how to become a support officer who may read it', async function () {
    const printed = await banner();
    expect(printed).to.include('/console/outbox').and.to.include('npm run cli -- admins grant 001099012345 support_officer');
    expect(printed).not.to.match(/:\d+\/outbox/);
  });

  it('offers registration to Phạm Thu Hà, who has no account in the demo data', async function () {
    expect(lineOf(await banner(), '031190004567')).to.include('Phạm Thu Hà').and.to.include('can register');
  });

  it('no longer offers it once she has registered', async function () {
    const { accounts, passwords } = world.server.container;
    await accounts.enrol({
      nationalId: '031190004567',
      level: 1,
      passwordHash: await passwords.hash('Ha#Registered2026'),
      totpSecretSealed: null,
      phoneNumber: '+84900000004',
      phoneNumberVerified: true,
      email: null,
      emailVerified: false,
    });
    const line = lineOf(await banner(), '031190004567');
    expect(line).to.include('Phạm Thu Hà').and.to.include('level 1');
    expect(line).not.to.include('can register');
    expect(line).not.to.include('no account');
  });
});
