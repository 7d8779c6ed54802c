// `registry generate` and `registry import` as real processes against a fresh database: exit statuses,
// the summary, the error report, strict mode, files that cannot be read, and a killed import.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { cliEnvironment, startCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { citizen, csvOf } from './fixtures.ts';


describe('the registry command line', function () {
  this.timeout(120_000);

  let database: TestDatabase;
  let db: Database;
  let environ: Record<string, string>;
  let folder: string;

  const cli = (args: string[]) => startCli(args, environ).result;
  const file = (name: string) => path.join(folder, name);
  const count = async () => Number(((await db('registry_records').count<{ n: string }[]>({ n: '*' })) as [{ n: string }])[0].n);

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    folder = mkdtempSync(path.join(tmpdir(), 'registry-cli-'));
    environ = cliEnvironment(database.url);
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  describe('registry generate', function () {
    it('writes the file and says what it wrote', async function () {
      const result = await cli(['registry', 'generate', '--count', '2000', '--seed', 'cli', '--out', file('people.csv')]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^wrote 2,000 citizens in [\d,]+ households \(csv, seed "cli", as of 2026-01-01\) in [\d.]+s to .*people\.csv\n$/);
      expect(readFileSync(file('people.csv'), 'utf8').trimEnd().split('\n')).to.have.length(2001);
    });

    it('writes NDJSON by extension or flag, the same records for the same seed', async function () {
      expect((await cli(['registry', 'generate', '--count', '300', '--seed', 'cli', '--out', file('people.ndjson')])).code).to.equal(0);
      expect((await cli(['registry', 'generate', '--count', '300', '--seed', 'cli', '--format', 'ndjson', '--out', file('people.txt')])).code).to.equal(0);
      expect(readFileSync(file('people.txt'), 'utf8')).to.equal(readFileSync(file('people.ndjson'), 'utf8'));
      expect(JSON.parse(readFileSync(file('people.ndjson'), 'utf8').split('\n')[0]!)).to.have.property('national_id');
    });

    it('refuses bad options with status 2 and one line', async function () {
      for (const args of [
        ['--out', file('x.csv')],
        ['--count', 'many', '--out', file('x.csv')],
        ['--count', '0', '--out', file('x.csv')],
        ['--count', '10', '--out', file('x.txt')],
        ['--count', '10', '--out', file('x.csv'), '--format', 'xml'],
        ['--count', '10', '--out', file('x.csv'), '--as-of', '2026-02-30'],
        ['--count', '10', '--out', path.join(folder, 'missing', 'x.csv')],
      ]) {
        const result = await cli(['registry', 'generate', ...args]);
        expect(result.code, args.join(' ')).to.equal(2);
        expect(result.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
        expect(result.stderr).to.match(/^citizen-idp registry generate: /);
      }
    });
  });

  describe('registry import', function () {
    beforeEach(async function () {
      await db('registry_records').del();
    });

    it('loads a generated file, prints the summary, records an audit event, and re-imports as unchanged', async function () {
      const first = await cli(['registry', 'import', file('people.csv')]);
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.match(/^read 2000, inserted 2000, updated 0, unchanged 0, rejected 0 in [\d.]+s \([\d,]+ rows\/s\)\n$/);
      expect(await count()).to.equal(2000);
      const [event] = await db('audit_events')
        .where({ type: 'registry.changed' })
        .orderBy('occurred_at', 'desc')
        .limit(1)
        .select<{ data: Record<string, unknown>; actor: string }[]>('data', 'actor');
      expect(event?.data).to.deep.include({ action: 'registry.imported', file: 'people.csv', format: 'csv', read: 2000, inserted: 2000 });
      expect(event?.actor).to.match(/^cli:/);

      const again = await cli(['registry', 'import', file('people.ndjson'), '--format', 'ndjson']);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.match(/^read 300, inserted 0, updated 0, unchanged 300, rejected 0 /);
    });

    it('writes every refused row to the error report, with line and reason, and loads the rest', async function () {
      writeFileSync(file('mixed.csv'), csvOf([
        citizen(),
        citizen({ national_id: '001099000002', birth_date: '1999-02-30' }),
        citizen({ national_id: '001099000003' }),
        citizen({ national_id: '001099000004', given_name: 'Ann "the" 2nd' }),
      ]));
      const result = await cli(['registry', 'import', file('mixed.csv'), '--errors', file('report.csv')]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^read 4, inserted 2, updated 0, unchanged 0, rejected 2 /);
      expect(readFileSync(file('report.csv'), 'utf8')).to.equal(
        'line,national_id,reason\n' +
          '3,001099000002,"birth_date: not a date YYYY-MM-DD from 1900 on (""1999-02-30"")"\n' +
          '5,001099000004,"given_name: not a name (""Ann \\""the\\"" 2nd"")"\n',
      );
      expect(await count()).to.equal(2);
    });

    it('lists refused rows on stderr when no report is asked for', async function () {
      const result = await cli(['registry', 'import', file('mixed.csv')]);
      expect(result.code).to.equal(0);
      expect(result.stderr).to.include('line 3 (001099000002): birth_date: not a date YYYY-MM-DD from 1900 on ("1999-02-30")');
    });

    it('with --strict loads nothing and exits 2 when a row is refused', async function () {
      const result = await cli(['registry', 'import', file('mixed.csv'), '--strict']);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include('citizen-idp registry import: nothing imported: 2 rows refused and --strict given');
      expect(await count()).to.equal(0);
    });

    it('refuses, with status 2 and one line, a wrong header, a bad encoding, an unknown format, a missing file', async function () {
      writeFileSync(file('header.csv'), csvOf([citizen()]).replace('birth_date', 'dob'));
      writeFileSync(file('latin1.csv'), Buffer.from(csvOf([citizen()]), 'latin1'));
      const cases: [string[], RegExp][] = [
        [[file('header.csv')], /^citizen-idp registry import: .*header\.csv: wrong header: missing birth_date; unknown "dob" \(line 1 must name the registry columns, see docs\/registry\.md\)$/],
        [[file('latin1.csv')], /^citizen-idp registry import: .*latin1\.csv: not valid UTF-8: byte \d+ \(around line 2\) is not part of a UTF-8 character$/],
        [[file('mixed.csv'), '--format', 'xml'], /^citizen-idp registry import: unknown format "xml" \(expected csv or ndjson\)$/],
        [[file('people.txt')], /^citizen-idp registry import: cannot tell the format of .*people\.txt from its extension/],
        [[file('absent.csv')], /^citizen-idp registry import: cannot read .*absent\.csv: ENOENT$/],
        [[], /^citizen-idp registry import: FILE is required$/],
      ];
      for (const [args, message] of cases) {
        const result = await cli(['registry', 'import', ...args]);
        expect(result.code, args.join(' ')).to.equal(2);
        expect(result.stderr.trim(), args.join(' ')).to.match(message);
      }
      expect(await count()).to.equal(0);
    });

    it('locks, through the change feed, the account of someone the file shows dead; a second run changes nothing', async function () {
      writeFileSync(file('alive.csv'), csvOf([citizen()]));
      expect((await cli(['registry', 'import', file('alive.csv')])).code).to.equal(0);
      await db('accounts').insert({ national_id: '001099012345', level: 1, password_hash: 'x' });
      try {
        writeFileSync(file('dead.csv'), csvOf([citizen({ died_on: '2026-10-01' })]));
        const result = await cli(['registry', 'import', file('dead.csv')]);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.include('read 1, inserted 0, updated 1, unchanged 0, rejected 0');
        expect(result.stdout).to.include('locked 1 account of people now deceased or missing; ended 0 sessions, revoked 0 grants');
        expect(await db('accounts').where({ national_id: '001099012345' }).pluck<string[]>('status')).to.deep.equal(['locked']);
        const locks = await db('audit_events').where({ type: 'account.locked' }).select<{ data: Record<string, unknown> }[]>('data');
        expect(locks.map((event) => event.data)).to.deep.equal([{ reason: 'registry.died', eventId: 'registry-import:001099012345:died:2026-10-01' }]);

        const again = await cli(['registry', 'import', file('dead.csv')]);
        expect(again.stdout).to.match(/^read 1, inserted 0, updated 0, unchanged 1, rejected 0 [^\n]*\n$/);
      } finally {
        await db('accounts').del();
      }
    });

    it('killed mid-import (SIGKILL) leaves the registry as it was, and the next import runs', async function () {
      expect((await cli(['registry', 'import', file('people.csv')])).code).to.equal(0);
      const before = await db('registry_records').orderBy('national_id').select('*');
      // A file big enough to be caught in the middle.
      const big = await cli(['registry', 'generate', '--count', '300000', '--seed', 'cli', '--out', file('big.csv'), '--as-of', '2026-06-01']);
      expect(big.code, big.stderr).to.equal(0);

      const { child, result } = startCli(['registry', 'import', file('big.csv')], environ);
      const databaseName = new URL(database.url).pathname.slice(1);
      for (let waited = 0; ; waited += 50) {
        const { rows } = await db.raw<{ rows: unknown[] }>(
          `SELECT 1 FROM pg_stat_activity WHERE datname = ? AND query LIKE 'COPY registry\\_%' AND state = 'active'`,
          [databaseName],
        );
        if (rows.length > 0) break;
        if (waited > 60_000) expect.fail('the import never started copying');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGKILL');
      expect((await result).code).to.equal(null);

      // PostgreSQL notices the dropped connection and rolls the transaction back.
      for (let waited = 0; ; waited += 50) {
        const { rows } = await db.raw<{ rows: unknown[] }>(`SELECT 1 FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid() AND query LIKE 'COPY registry\\_%'`, [databaseName]);
        if (rows.length === 0) break;
        if (waited > 10_000) expect.fail('the killed import is still in the database');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await db('registry_records').orderBy('national_id').select('*')).to.deep.equal(before);

      const next = await cli(['registry', 'import', file('mixed.csv')]);
      expect(next.code, next.stderr).to.equal(0);
    });

    it('interrupted (SIGINT) rolls back and says so', async function () {
      const { child, result } = startCli(['registry', 'import', file('big.csv')], environ);
      const databaseName = new URL(database.url).pathname.slice(1);
      for (let waited = 0; ; waited += 50) {
        const { rows } = await db.raw<{ rows: unknown[] }>(`SELECT 1 FROM pg_stat_activity WHERE datname = ? AND query LIKE 'COPY registry\\_%'`, [databaseName]);
        if (rows.length > 0) break;
        if (waited > 60_000) expect.fail('the import never started copying');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const before = await count();
      child.kill('SIGINT');
      const { code, stderr } = await result;
      expect(code).to.equal(130);
      expect(stderr).to.include('citizen-idp registry import: interrupted; the registry is unchanged');
      expect(await count()).to.equal(before);
    });
  });
});
