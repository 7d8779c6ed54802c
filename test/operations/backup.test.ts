// Backups: pg_dump of a real database, restored by verifyBackup() into a scratch database on the same
// PostgreSQL and checked there — and the ways a backup can be useless are caught: an altered audit
// trail, another key-encryption key, a file that is not a backup.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdtemp, readdir, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { KeyEncryption } from '../../src/storage/key-encryption.ts';
import { KeyRepository } from '../../src/oidc/keys/keys.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { importRegistry } from '../../src/registry/registry-import.ts';
import { COUNTED_TABLES, BackupError, createBackup, verifyBackup } from '../../src/operations/backup.ts';
import { createTestDatabase, POSTGRES_ADMIN_URL, type TestDatabase } from '../support/world.ts';
import { TODAY, citizen, csvOf } from '../registry/fixtures.ts';

describe('backup and restore', function () {
  this.timeout(60_000);

  const keyEncryptionKey = randomBytes(32);
  let database: TestDatabase;
  let db: Database;
  let folder: string;

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    await new KeyRepository(db, new KeyEncryption(keyEncryptionKey)).ensureKeys();
    const rows = [citizen({ national_id: '001099000001', given_name: 'An' }), citizen({ national_id: '001099000002', given_name: 'Bình' })];
    await importRegistry(db, Readable.from([Buffer.from(csvOf(rows))]), { format: 'csv', today: TODAY });
    const audit = new AuditLog(db);
    for (let i = 0; i < 5; i++) await audit.record({ type: 'admin.action', actor: 'test', data: { step: i } });
    folder = await mkdtemp(path.join(tmpdir(), 'cidp-backup-'));
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  async function liveCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of COUNTED_TABLES) {
      const [row] = (await db(table).count<{ n: string }[]>({ n: '*' })) as [{ n: string }];
      counts[table] = Number(row.n);
    }
    return counts;
  }

  async function scratchDatabases(): Promise<string[]> {
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'restore\\_check\\_%'");
      return rows.map((row) => row.datname);
    } finally {
      await admin.end();
    }
  }

  it('dumps the database to a file only its owner can read, and the file restores with everything in it', async function () {
    const file = path.join(folder, 'good.dump');
    await createBackup(database.url, file);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect(await readdir(folder)).to.deep.equal(['good.dump']);

    const verification = await verifyBackup(database.url, file, keyEncryptionKey);
    expect(verification.checks, verification.checks.join('\n')).to.have.length(4);
    expect(verification.ok, verification.checks.join('\n')).to.equal(true);
    expect(verification.checks[2]).to.match(/^ok: audit chains intact \(1 writers, 5 events\)/);
    const activeKeys = (await db('signing_keys').where({ status: 'active' }).count<{ n: string }[]>({ n: '*' }))[0]!.n;
    expect(verification.checks[3]).to.equal(`ok: ${activeKeys} signing keys and 1 cookie keys open under this KEY_ENCRYPTION_KEY`);
    expect(verification.counts).to.deep.equal(await liveCounts());
    expect(verification.counts.registry_records).to.equal(2);
    // The scratch database is gone again.
    expect(verification.scratchDatabase).to.match(/^restore_check_[0-9a-f]{12}$/);
    expect(verification.checks[0]).to.equal(`ok: restores into a scratch database (${verification.scratchDatabase})`);
    expect(await scratchDatabases()).not.to.include(verification.scratchDatabase);
  });

  it('finds an audit trail altered before the backup', async function () {
    const file = path.join(folder, 'altered.dump');
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      // Only someone who can switch the append-only trigger off could do this: the backup still tells.
      await admin.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
      await admin.query(`UPDATE audit_events SET data = '{"step": 99}' WHERE seq = 3`);
      await createBackup(database.url, file);
      await admin.query(`UPDATE audit_events SET data = '{"step": 2}' WHERE seq = 3`);
    } finally {
      await admin.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
      await admin.end();
    }
    const verification = await verifyBackup(database.url, file, keyEncryptionKey);
    expect(verification.ok).to.equal(false);
    expect(verification.checks.filter((line) => line.startsWith('FAILED'))).to.have.length(1);
    expect(verification.checks[2]).to.match(/^FAILED: audit chain broken: .+ at event 3$/);
  });

  it('says when the keys do not open under the key-encryption key at hand', async function () {
    const file = path.join(folder, 'keys.dump');
    await createBackup(database.url, file);
    const verification = await verifyBackup(database.url, file, randomBytes(32));
    expect(verification.ok).to.equal(false);
    expect(verification.checks.filter((line) => line.startsWith('FAILED'))).to.have.length(1);
    expect(verification.checks[3]).to.match(/^FAILED: signing key .+ does not open under this KEY_ENCRYPTION_KEY/);
  });

  it('refuses a file that is not a backup, leaving no scratch database behind', async function () {
    const file = path.join(folder, 'garbage.dump');
    await writeFile(file, randomBytes(4096));
    const verification = await verifyBackup(database.url, file, keyEncryptionKey);
    expect(verification.ok).to.equal(false);
    expect(verification.checks).to.have.length(1);
    expect(verification.checks[0]).to.match(/^FAILED: does not restore: pg_restore failed/);
    expect(await scratchDatabases()).not.to.include(verification.scratchDatabase);
  });

  it('refuses a truncated backup', async function () {
    const good = path.join(folder, 'whole.dump');
    await createBackup(database.url, good);
    const bytes = await readFile(good);
    const truncated = path.join(folder, 'truncated.dump');
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const verification = await verifyBackup(database.url, truncated, keyEncryptionKey);
    expect(verification.ok).to.equal(false);
    expect(verification.checks[0]).to.match(/^FAILED: does not restore/);
  });

  it('runs from the command line: backup create, then backup verify', async function () {
    const environ = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      KEY_ENCRYPTION_KEY: keyEncryptionKey.toString('base64'),
      PAIRWISE_KEY: randomBytes(32).toString('base64'),
    };
    const cli = (args: string[]) => promisify(execFile)(process.execPath, ['src/cli.ts', ...args], { cwd: path.resolve(import.meta.dirname, '../..'), env: environ });
    const file = path.join(folder, 'cli.dump');
    expect((await cli(['backup', 'create', file])).stdout).to.equal(`wrote ${file}\n`);
    const { stdout } = await cli(['backup', 'verify', file]);
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 4).every((line) => line.startsWith('ok: ')), stdout).to.equal(true);
    expect(lines[4]).to.match(/^rows: registry_records 2, accounts 0, clients \d+, signing_keys \d+, oidc_models 0, consent_records 0, audit_events \d+$/);
    // A failed check is exit status 1, with the reason on standard output.
    const failed = await cli(['backup', 'verify', path.join(folder, 'no-such.dump')]).then(() => undefined, (caught: unknown) => caught);
    expect((failed as { code?: number }).code).to.equal(1);
    expect((failed as { stdout: string }).stdout).to.match(/^FAILED: does not restore: pg_restore failed/);
  });

  it('leaves no partial file when the dump fails', async function () {
    const missing = new URL(database.url);
    missing.pathname = '/no_such_database_here';
    const file = path.join(folder, 'failed.dump');
    const error = await createBackup(missing.toString(), file).then(() => undefined, (caught: unknown) => caught);
    expect(error).to.be.instanceOf(BackupError);
    expect((error as Error).message).to.match(/^pg_dump failed \(exit 1\): .*no_such_database_here/);
    expect((await readdir(folder)).filter((name) => name.startsWith('failed.dump'))).to.deep.equal([]);
  });
});
