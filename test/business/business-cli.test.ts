// `business generate`, `business import` and `business apply-changes` as real processes against a fresh
// database: exit statuses, summaries, the error report, strict mode, the audit event, a killed import.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { cliEnvironment, startCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { csvOf, other } from './fixtures.ts';

describe('the business register command line', function () {
  this.timeout(180_000);

  let database: TestDatabase;
  let db: Database;
  let environ: Record<string, string>;
  let folder: string;

  const cli = (args: string[]) => startCli(args, environ).result;
  const file = (name: string) => path.join(folder, name);
  const snapshot = async () => ({
    organisations: (await db('business_organisations').orderBy('enterprise_code').select('*')) as unknown[],
    representatives: (await db('business_representatives').orderBy(['enterprise_code', 'national_id']).select('*')) as unknown[],
  });

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    folder = mkdtempSync(path.join(tmpdir(), 'business-cli-'));
    environ = cliEnvironment(database.url);
    const registry = await cli(['registry', 'generate', '--count', '3000', '--seed', 'cli', '--out', file('people.csv')]);
    expect(registry.code, registry.stderr).to.equal(0);
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('lists the business commands in --help', async function () {
    const result = await cli(['business', '--help']);
    expect(result.code).to.equal(0);
    for (const command of ['business import FILE', 'business generate --registry FILE', 'business apply-changes FILE']) expect(result.stdout).to.include(command);
  });

  describe('business generate', function () {
    it('writes the file from the registry and says what it wrote; the same file for the same seed', async function () {
      const result = await cli(['business', 'generate', '--registry', file('people.csv'), '--count', '2000', '--seed', 'cli', '--out', file('organisations.csv')]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^wrote 2,000 organisations \([\d,]+ enterprises, [\d,]+ branches; representatives from [\d,]+ adults of .*people\.csv; csv, seed "cli", as of 2026-01-01\) in [\d.]+s to .*organisations\.csv\n$/);
      expect(readFileSync(file('organisations.csv'), 'utf8').trimEnd().split('\n')).to.have.length(2001);
      const again = await cli(['business', 'generate', '--registry', file('people.csv'), '--count', '2000', '--seed', 'cli', '--out', '-']);
      expect(again.stdout).to.equal(readFileSync(file('organisations.csv'), 'utf8'));
    });

    it('refuses bad options with status 2 and one line', async function () {
      for (const args of [
        ['--count', '10', '--out', file('x.csv')],
        ['--registry', file('missing.csv'), '--count', '10', '--out', file('x.csv')],
        ['--registry', file('people.csv'), '--count', 'many', '--out', file('x.csv')],
        ['--registry', file('people.csv'), '--count', '10', '--out', file('x.txt')],
        ['--registry', file('people.csv'), '--count', '10', '--out', file('x.csv'), '--as-of', '2026-02-30'],
        ['--registry', file('people.csv'), '--count', '10', '--out', file('x.csv'), '--colour', 'red'],
      ]) {
        const result = await cli(['business', 'generate', ...args]);
        expect(result.code, args.join(' ')).to.equal(2);
        expect(result.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
        expect(result.stderr).to.match(/^citizen-idp business generate: /);
      }
    });
  });

  describe('business import', function () {
    beforeEach(async function () {
      await db('business_representatives').del();
      await db('business_organisations').del();
    });

    it('loads a generated file, prints the summary, records an audit event, and re-imports as unchanged', async function () {
      const first = await cli(['business', 'import', file('organisations.csv')]);
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.match(/^read 2000, inserted 2000, updated 0, unchanged 0, rejected 0 in [\d.]+s \([\d,]+ organisations\/s\)\n$/);
      const events = await db('audit_events').where({ type: 'registry.changed' }).select<{ data: Record<string, unknown> }[]>('data');
      expect(events.map((event) => event.data)).to.deep.include({
        action: 'business.imported', register: 'business', file: 'organisations.csv', format: 'csv', read: 2000, inserted: 2000, updated: 0, unchanged: 0, rejected: 0,
      });
      const again = await cli(['business', 'import', file('organisations.csv')]);
      expect(again.stdout).to.match(/^read 2000, inserted 0, updated 0, unchanged 2000, rejected 0 /);
    });

    it('lists refused rows with their lines (all of them in --errors REPORT) and exits 0; --strict loads nothing and exits 2', async function () {
      writeFileSync(file('mixed.csv'), csvOf([other(1), other(2, { status: 'open' }), other(3, { representatives: '1:x' })]));
      const mixed = await cli(['business', 'import', file('mixed.csv')]);
      expect(mixed.code, mixed.stderr).to.equal(0);
      expect(mixed.stderr).to.include('line 3 (0100000002): status: one of active');
      expect(mixed.stdout).to.match(/^read 3, inserted 1, updated 0, unchanged 0, rejected 2 /);

      await cli(['business', 'import', file('mixed.csv'), '--errors', file('report.csv')]);
      const report = readFileSync(file('report.csv'), 'utf8').trimEnd().split('\n');
      expect(report[0]).to.equal('line,enterprise_code,reason');
      expect(report.slice(1).map((line) => line.split(',').slice(0, 2).join(','))).to.deep.equal(['3,0100000002', '4,0100000003']);

      await db('business_representatives').del();
      await db('business_organisations').del();
      const strict = await cli(['business', 'import', file('mixed.csv'), '--strict']);
      expect(strict.code).to.equal(2);
      expect(strict.stderr).to.include('citizen-idp business import: nothing imported: 2 rows refused and --strict given');
      expect(await snapshot()).to.deep.equal({ organisations: [], representatives: [] });
    });

    it('refuses a file it cannot read with status 2 and one line', async function () {
      writeFileSync(file('wrong.csv'), 'enterprise_code,name\n0100000001,X\n');
      for (const [args, message] of [
        [[file('wrong.csv')], /^citizen-idp business import: .*wrong\.csv: wrong header: missing name_en/],
        [[file('absent.csv')], /^citizen-idp business import: cannot read .*absent\.csv: ENOENT/],
        [[file('people.txt')], /^citizen-idp business import: cannot tell the format of/],
        [[], /^citizen-idp business import: FILE is required/],
      ] as const) {
        const result = await cli(['business', 'import', ...args]);
        expect(result.code, String(args)).to.equal(2);
        expect(result.stderr).to.match(message);
        expect(result.stderr.trim().split('\n')).to.have.length(1);
      }
    });

    it('killed mid-import (SIGKILL) leaves the mirror as it was, and the next import runs', async function () {
      expect((await cli(['business', 'import', file('organisations.csv')])).code).to.equal(0);
      const before = await snapshot();
      const big = await cli(['business', 'generate', '--registry', file('people.csv'), '--count', '300000', '--seed', 'big', '--out', file('big.csv')]);
      expect(big.code, big.stderr).to.equal(0);

      const { child, result } = startCli(['business', 'import', file('big.csv')], environ);
      const databaseName = new URL(database.url).pathname.slice(1);
      for (let waited = 0; ; waited += 50) {
        const { rows } = await db.raw<{ rows: unknown[] }>(
          `SELECT 1 FROM pg_stat_activity WHERE datname = ? AND query LIKE 'COPY business\\_import%' AND state = 'active'`,
          [databaseName],
        );
        if (rows.length > 0) break;
        if (waited > 60_000) expect.fail('the import never started copying');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGKILL');
      expect((await result).code).to.equal(null);
      for (let waited = 0; ; waited += 50) {
        const { rows } = await db.raw<{ rows: unknown[] }>(`SELECT 1 FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid() AND query LIKE 'COPY business\\_import%'`, [databaseName]);
        if (rows.length === 0) break;
        if (waited > 10_000) expect.fail('the killed import is still in the database');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await snapshot()).to.deep.equal(before);
      const next = await cli(['business', 'import', file('mixed.csv')]);
      expect(next.code, next.stderr).to.equal(0);
    });
  });

  describe('business apply-changes', function () {
    it('applies a feed (also as `business changes`), exits 1 naming a refused line, and applies nothing twice', async function () {
      await db('business_representatives').del();
      await db('business_organisations').del();
      writeFileSync(file('two.csv'), csvOf([other(1), other(2)]));
      expect((await cli(['business', 'import', file('two.csv')])).code).to.equal(0);
      writeFileSync(file('feed.ndjson'), [
        JSON.stringify({ id: 'br-1', type: 'suspended', enterprise_code: '0100000001', occurred_on: '2026-02-01' }),
        JSON.stringify({ id: 'br-2', type: 'dissolved', enterprise_code: '0100000009', occurred_on: '2026-02-01' }),
      ].join('\n'));
      const first = await cli(['business', 'apply-changes', file('feed.ndjson')]);
      expect(first.code).to.equal(1);
      expect(first.stderr).to.equal('line 2 (event br-2): enterprise_code: not in the business register mirror\n');
      expect(first.stdout).to.match(/^read 2, applied 1, unchanged 0, rejected 1; /);
      expect(await db('business_organisations').where({ enterprise_code: '0100000001' }).pluck('status')).to.deep.equal(['suspended']);

      writeFileSync(file('feed.ndjson'), `${JSON.stringify({ id: 'br-1', type: 'suspended', enterprise_code: '0100000001', occurred_on: '2026-02-01' })}\n`);
      const again = await cli(['business', 'changes', file('feed.ndjson')]);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.match(/^read 1, applied 0, unchanged 1, rejected 0; /);
    });
  });
});
