// `clients add` with CIBA options, run as a real process against a fresh database: a bank client in
// ping mode with its notification endpoint, or without CIBA; wrong combinations refused with one line
// and exit status 2, writing nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { DEMO_BANK_PUBLIC_JWK } from '../../src/demo/demo-bank-key.ts';
import { CIBA_GRANT_TYPE } from '../../src/oidc/ciba/ciba-registration.ts';
import { cliEnvironment, runCli } from '../support/cli.ts';


describe('the admin command line: CIBA settings of bank clients', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let db: Database;
  let environ: Record<string, string>;
  let folder: string;
  let bankArgs: string[];

  const cli = (args: string[]) => runCli(args, environ);
  const metadataOf = async (clientId: string) =>
    (await db('clients').where({ client_id: clientId }).first<{ metadata: Record<string, unknown> } | undefined>())?.metadata;

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    environ = cliEnvironment(database.url);
    folder = mkdtempSync(path.join(tmpdir(), 'cidp-ciba-cli-'));
    const jwksFile = path.join(folder, 'bank-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [DEMO_BANK_PUBLIC_JWK] }));
    bankArgs = ['--name', 'Ngân hàng A', '--profile', 'bank', '--scopes', 'openid national_id', '--redirect-uri', 'https://bank-a.example.vn/callback', '--jwks', jwksFile, '--subject-type', 'public'];
    const migrated = await cli(['migrate']);
    expect(migrated.code, migrated.stderr).to.equal(0);
  });
  after(async function () {
    rmSync(folder, { recursive: true, force: true });
    await db?.destroy();
    await database?.drop();
  });

  it('registers a ping-mode bank with its notification endpoint, and says so', async function () {
    const result = await cli(['clients', 'add', '--id', 'bank-ping', ...bankArgs, '--ciba', 'ping', '--ciba-notification-endpoint', 'https://bank-a.example.vn/ciba']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('CIBA: ping');
    const metadata = await metadataOf('bank-ping');
    expect(metadata?.grant_types).to.include(CIBA_GRANT_TYPE);
    expect(metadata).to.include({
      backchannel_token_delivery_mode: 'ping',
      backchannel_client_notification_endpoint: 'https://bank-a.example.vn/ciba',
      backchannel_user_code_parameter: false,
    });
  });

  it('gives a public bank poll mode by default; a pairwise one with inline keys cannot have CIBA, and asking for it is refused', async function () {
    const result = await cli(['clients', 'add', '--id', 'bank-poll', ...bankArgs]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('CIBA: poll');
    expect(await metadataOf('bank-poll')).to.include({ backchannel_token_delivery_mode: 'poll', subject_type: 'public' });
    const pairwiseArgs = [...bankArgs.slice(0, -2), '--subject-type', 'pairwise'];
    const pairwise = await cli(['clients', 'add', '--id', 'bank-pairwise', ...pairwiseArgs]);
    expect(pairwise.code, pairwise.stderr).to.equal(0);
    expect((await metadataOf('bank-pairwise'))?.grant_types).not.to.include(CIBA_GRANT_TYPE);
    const asked = await cli(['clients', 'add', '--id', 'bank-pairwise-ciba', ...pairwiseArgs, '--ciba', 'poll']);
    expect(asked.code).to.equal(2);
    expect(asked.stderr).to.match(/a pairwise CIBA client needs a jwks_uri and a sector_identifier_uri/);
    expect(await metadataOf('bank-pairwise-ciba')).to.equal(undefined);
  });

  it('registers a bank without CIBA when told --ciba off', async function () {
    const result = await cli(['clients', 'add', '--id', 'bank-off', ...bankArgs, '--ciba', 'off']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).not.to.include('CIBA');
    const metadata = await metadataOf('bank-off');
    expect(metadata?.grant_types).not.to.include(CIBA_GRANT_TYPE);
    expect(metadata).not.to.have.property('backchannel_token_delivery_mode');
  });

  it('refuses wrong CIBA settings with one line and exit status 2, writing nothing', async function () {
    const attempts: [string[], RegExp][] = [
      [['--ciba', 'ping'], /backchannel_client_notification_endpoint: required in ping mode/],
      [['--ciba', 'push'], /--ciba: poll, ping or off/],
      [['--subject-type', 'secret'], /--subject-type: pairwise or public/],
      [['--ciba-notification-endpoint', 'https://bank-a.example.vn/ciba'], /needs --ciba ping/],
      [['--ciba', 'ping', '--ciba-notification-endpoint', 'http://bank-a.example.vn/ciba'], /must use https/],
    ];
    for (const [extra, message] of attempts) {
      const result = await cli(['clients', 'add', '--id', 'bank-bad', ...bankArgs, ...extra]);
      expect(result.code, `${extra.join(' ')}: ${result.stderr}`).to.equal(2);
      expect(result.stderr.trim().split('\n'), extra.join(' ')).to.have.length(1);
      expect(result.stderr).to.match(message);
    }
    const portal = await cli(['clients', 'add', '--id', 'portal-ciba', '--name', 'Portal', '--profile', 'portal', '--scopes', 'openid', '--redirect-uri', 'https://portal.example.vn/cb', '--ciba', 'poll']);
    expect(portal.code).to.equal(2);
    expect(portal.stderr).to.match(/CIBA is for bank clients only/);
    expect(await metadataOf('bank-bad')).to.equal(undefined);
    expect(await metadataOf('portal-ciba')).to.equal(undefined);
  });
});
