// Migrations across releases (docs/operations.md "Upgrades"): a database migrated by a newer release is tolerated
// by this one (a rolling deploy runs both), and every migration's `up` only expands the schema, so the
// previous release keeps working on it — unless the migration says it is a contract step and after
// which release it is safe. The rolling deploy itself is test/operations/rolling-deploy.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest, migrationsCurrent } from '../../src/storage/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../migrations');

/** A comment in a migration marking its contraction: `// contract step: safe after <release>: <why>`. */
const CONTRACT_MARK = /\/\/\s*contract step:\s*safe after\s+(\S+?):?\s/i;

/**
 * Migrations written before the rule that narrow what an older release may write, each with why no
 * release it can run beside is hurt. A new contraction carries the CONTRACT_MARK comment instead.
 */
const REVIEWED: Record<string, string> = {
  '20261127_009_resource_servers':
    'its trigger on clients refuses a client claiming a resource indicator another client serves; releases before 009 wrote no resource_server metadata, and the DELETE it runs is on its own new table',
  '20261127_012_signing_key_lifecycle':
    'its CHECKs on signing_keys (status active|revoked, revocation, window) and the status rewrite hold for every earlier release, which only ever wrote status active and no retired_at; active_from is NOT NULL with DEFAULT now(), so their inserts without it still succeed',
};

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
}

/** What in a migration's `up` could break the release before it, one line per finding. */
function contractions(source: string): string[] {
  const start = source.indexOf('export async function up');
  const end = source.indexOf('export async function down');
  const up = stripComments(source.slice(start, end === -1 ? undefined : end));
  const created = new Set([...up.matchAll(/createTable\(\s*'(\w+)'|CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)/gi)].map((match) => match[1] ?? match[2]));
  const added = new Set<string>();
  for (const alter of up.matchAll(/alterTable\(\s*'\w+'[\s\S]*?\}\);/g)) {
    for (const column of alter[0].matchAll(/table\.\w+\(\s*'(\w+)'/g)) added.add(column[1]!);
  }
  for (const column of up.matchAll(/ADD\s+COLUMN\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)/gi)) added.add(column[1]!);
  const hasDefault = (column: string) =>
    new RegExp(`ALTER\\s+COLUMN\\s+${column}\\s+SET\\s+DEFAULT`, 'i').test(up) || new RegExp(`'${column}'[^;]*defaultTo`).test(up);

  const findings: string[] = [];
  for (const statement of up.split(/\bawait\b/)) {
    const target = /alterTable\(\s*'(\w+)'|ALTER\s+TABLE\s+(?:ONLY\s+)?(\w+)|CREATE\s+TRIGGER[\s\S]*?\bON\s+(\w+)|UPDATE\s+(\w+)\s+SET/i.exec(statement);
    const table = target ? (target[1] ?? target[2] ?? target[3] ?? target[4]) : undefined;
    const existing = table !== undefined && !created.has(table);
    const flag = (what: string) => findings.push(`${what}${table ? ` (${table})` : ''}`);
    if (/\bdropTable(IfExists)?\s*\(|\bDROP\s+TABLE\b/i.test(statement)) flag('drops a table');
    if (/\bdropColumns?\s*\(|\bDROP\s+COLUMN\b/i.test(statement)) flag('drops a column');
    if (/\brename(Column|Table)?\s*\(|\bRENAME\b/i.test(statement)) flag('renames');
    if (/\bALTER\s+TYPE\b|\bALTER\s+COLUMN\s+\w+\s+(SET\s+DATA\s+)?TYPE\b|\.alter\s*\(/i.test(statement)) flag('changes a type');
    if (/\bDELETE\s+FROM\b|\bTRUNCATE\b|\.del\s*\(|\.delete\s*\(/i.test(statement)) flag('deletes rows');
    if (!existing) continue;
    if (/\bADD\s+CONSTRAINT\b|\.unique\s*\(|\.primary\s*\(|\bCREATE\s+UNIQUE\s+INDEX\b/i.test(statement)) flag('adds a constraint to an existing table');
    if (/\bCREATE\s+TRIGGER\b/i.test(statement)) flag('adds a trigger to an existing table');
    for (const match of statement.matchAll(/ALTER\s+COLUMN\s+(\w+)\s+SET\s+NOT\s+NULL/gi)) {
      // A column this migration adds, with a default, is never written by the older release: harmless.
      if (!(added.has(match[1]!) && hasDefault(match[1]!))) flag(`makes ${match[1]} NOT NULL`);
    }
    for (const match of statement.matchAll(/table\.\w+\(\s*'(\w+)'[^;]*\.notNullable\(\)[^;]*;/g)) {
      if (!/defaultTo/.test(match[0])) flag(`adds ${match[1]} NOT NULL without a default`);
    }
    for (const match of statement.matchAll(/UPDATE\s+\w+\s+SET\s+([\s\S]*?)(?:\bWHERE\b|`|$)/gi)) {
      // A backfill of columns this migration adds is an expand step; rewriting existing ones is not.
      const columns = [...match[1]!.matchAll(/(\w+)\s*=/g)].map((column) => column[1]!);
      if (columns.some((column) => !added.has(column))) flag('rewrites existing rows');
    }
  }
  return findings;
}

describe('migrations across releases', function () {
  this.timeout(30_000);

  describe('a database migrated by a newer release', function () {
    let database: TestDatabase;
    let db: Database;

    before(async function () {
      database = await createTestDatabase();
      db = createDatabase(database.url);
      await migrateToLatest(db);
    });

    after(async function () {
      await db?.destroy();
      await database?.drop();
    });

    it('counts as current, and migrating it again applies nothing and refuses nothing', async function () {
      await db('knex_migrations').insert({ name: '29991231_999_from_a_newer_release', batch: 999, migration_time: new Date() });
      expect(await migrationsCurrent(db)).to.equal(true);
      expect(await migrateToLatest(db)).to.deep.equal([]);
    });

    it('is refused when a migration this release does not know was applied before one of its own', async function () {
      const [first] = readdirSync(MIGRATIONS_DIR).filter((file) => /\.(ts|js)$/.test(file)).sort();
      await db('knex_migrations')
        .where({ name: first!.replace(/\.(ts|js)$/, '') })
        .update({ name: '20261126_000_from_another_history' });
      const refusals = await Promise.allSettled([migrationsCurrent(db), migrateToLatest(db)]);
      for (const refusal of refusals) {
        expect(refusal.status).to.equal('rejected');
        expect(String((refusal as PromiseRejectedResult).reason)).to.match(/corrupt.*20261126_000_from_another_history/);
      }
    });
  });

  describe('each migration only expands, unless marked a contract step', function () {
    const files = readdirSync(MIGRATIONS_DIR).filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts')).sort();

    for (const file of files) {
      const name = file.replace(/\.(ts|js)$/, '');
      it(name, function () {
        const source = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
        const found = contractions(source);
        if (REVIEWED[name] !== undefined) {
          expect(found, 'a reviewed migration that no longer contracts: take it off the list').to.not.be.empty;
          return;
        }
        if (found.length > 0) {
          const mark = CONTRACT_MARK.exec(source);
          expect(mark, `${name} contracts the schema (${found.join('; ')}) without "// contract step: safe after <release>: <why>"`).to.not.equal(null);
        }
      });
    }

    it('lists only migrations that exist', function () {
      const names = new Set(files.map((file) => file.replace(/\.(ts|js)$/, '')));
      for (const name of Object.keys(REVIEWED)) expect(names.has(name), name).to.equal(true);
    });

    it('flags what breaks the previous release and lets expansions and backfills pass', function () {
      const migration = (up: string) => `export async function up(knex) {\n${up}\n}\nexport async function down(knex) {}\n`;
      expect(contractions(migration(`await knex.schema.alterTable('accounts', (table) => { table.dropColumn('email'); });`))).to.deep.equal([
        'drops a column (accounts)',
      ]);
      expect(contractions(migration(`await knex.schema.alterTable('accounts', (table) => { table.renameColumn('email', 'mail'); });`))).to.deep.equal([
        'renames (accounts)',
      ]);
      expect(contractions(migration('await knex.raw(`ALTER TABLE accounts ALTER COLUMN level TYPE text`);'))).to.deep.equal(['changes a type (accounts)']);
      expect(contractions(migration('await knex.raw(`ALTER TABLE accounts ALTER COLUMN email SET NOT NULL`);'))).to.deep.equal([
        'makes email NOT NULL (accounts)',
      ]);
      expect(contractions(migration(`await knex.schema.alterTable('accounts', (table) => { table.text('nickname').notNullable(); });`))).to.deep.equal([
        'adds nickname NOT NULL without a default (accounts)',
      ]);
      expect(contractions(migration('await knex.raw(`UPDATE accounts SET status = \'locked\'`);'))).to.deep.equal(['rewrites existing rows (accounts)']);
      // Expansions: a new table with its constraints, a nullable column and its backfill, a NOT NULL one with a default.
      const expanding = migration(
        [
          `await knex.schema.createTable('badges', (table) => { table.text('id').primary(); table.text('name').notNullable().unique(); });`,
          'await knex.raw(`ALTER TABLE badges ADD CONSTRAINT badges_name_check CHECK (name <> \'\')`);',
          `await knex.schema.alterTable('accounts', (table) => { table.text('nickname'); table.text('tier').notNullable().defaultTo('basic'); });`,
          'await knex.raw(`UPDATE accounts SET nickname = email`);',
          '// contract step comments and DROP COLUMN in comments do not count',
        ].join('\n'),
      );
      expect(contractions(expanding)).to.deep.equal([]);
      expect(CONTRACT_MARK.exec('  // contract step: safe after 1.4.0: nothing reads accounts.email since 1.3\n')?.[1]).to.equal('1.4.0');
    });
  });
});
