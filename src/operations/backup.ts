// Backups of the PostgreSQL database with pg_dump, and their proof: a backup is restored into a scratch
// database beside the live one and checked there — it restores without error, its audit chains are
// intact, and its signing keys open under the key-encryption key at hand (a backup whose keys cannot be
// opened restores a provider that cannot sign). The scratch database is dropped afterwards.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, rename, rm } from 'node:fs/promises';
import pg from 'pg';
import { createDatabase, type Database } from '../storage/database.ts';
import { migrationsCurrent } from '../storage/migrate.ts';
import { KeyEncryption } from '../storage/key-encryption.ts';
import { KeyRepository } from '../oidc/keys/keys.ts';
import { AuditLog } from '../audit/audit-log.ts';

/** The tables whose rows a verification counts: what a restore must bring back. */
export const COUNTED_TABLES = ['registry_records', 'accounts', 'clients', 'signing_keys', 'oidc_models', 'consent_records', 'audit_events'] as const;
export type CountedTable = (typeof COUNTED_TABLES)[number];

export interface BackupVerification {
  /** Every check passed. */
  readonly ok: boolean;
  /** One line per check, "ok: …" or "FAILED: …", in the order run. */
  readonly checks: readonly string[];
  /** Rows per table in the restored copy (empty when the restore itself failed). */
  readonly counts: Partial<Record<CountedTable, number>>;
  /** The scratch database the backup was restored into (dropped again). */
  readonly scratchDatabase: string;
}

/** A tool failed or the file is not a backup; the message says which and why. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/**
 * A libpq connection string without its password, and the password for PGPASSWORD: a password on the
 * command line would show in the process list.
 */
function withoutPassword(url: string): { url: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { url: parsed.toString(), env: password ? { ...process.env, PGPASSWORD: password } : process.env };
}

/** Runs a PostgreSQL client tool; rejects with its last lines of error output. */
function runTool(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(new BackupError(error.code === 'ENOENT' ? `${command} is not installed (PostgreSQL's client tools are needed)` : error.message)),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new BackupError(`${command} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' / ') || 'no message'}`));
    });
  });
}

/** The database URL a knex instance was made with. */
export function databaseUrlOf(db: Database): string {
  const settings = (db.client as { connectionSettings: { connectionString?: string } }).connectionSettings;
  if (!settings.connectionString) throw new BackupError('the database connection has no URL');
  return settings.connectionString;
}

/**
 * Dumps the database to `file` in pg_dump's custom format (compressed; restored with pg_restore). It
 * is written beside the file and renamed into place, so a failed dump never leaves a partial backup
 * under the name, and readable by its owner only: it holds personal data and sealed secrets.
 */
export async function createBackup(databaseUrl: string, file: string): Promise<void> {
  const { url, env } = withoutPassword(databaseUrl);
  const partial = `${file}.partial-${randomBytes(4).toString('hex')}`;
  try {
    await runTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${partial}`, `--dbname=${url}`], env);
    await chmod(partial, 0o600);
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/**
 * Restores `file` into a new scratch database on the same server as `databaseUrl` and checks it there:
 * the restore completes, the schema is this release's (or older, which the next start migrates), every
 * audit writer's hash chain is intact, and the signing and cookie keys open under `keyEncryptionKey`.
 * The scratch database is dropped afterwards, whatever happened.
 */
export async function verifyBackup(databaseUrl: string, file: string, keyEncryptionKey: Buffer): Promise<BackupVerification> {
  const scratchName = `restore_check_${randomBytes(6).toString('hex')}`;
  const scratchUrl = new URL(databaseUrl);
  scratchUrl.pathname = `/${scratchName}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const checks: string[] = [];
  const counts: Partial<Record<CountedTable, number>> = {};
  let ok = true;
  const check = (passed: boolean, line: string) => {
    ok &&= passed;
    checks.push(`${passed ? 'ok' : 'FAILED'}: ${line}`);
  };
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(scratchName)}`);
    try {
      const { url, env } = withoutPassword(scratchUrl.toString());
      try {
        await runTool('pg_restore', ['--exit-on-error', '--no-owner', '--no-privileges', `--dbname=${url}`, file], env);
        check(true, `restores into a scratch database (${scratchName})`);
      } catch (error) {
        check(false, `does not restore: ${(error as Error).message}`);
        return { ok, checks, counts, scratchDatabase: scratchName };
      }
      const scratch = createDatabase(scratchUrl.toString(), { poolMax: 2 });
      try {
        await checkRestored(scratch, keyEncryptionKey, check, counts);
      } finally {
        await scratch.destroy();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(scratchName)} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
  return { ok, checks, counts, scratchDatabase: scratchName };
}

async function checkRestored(
  db: Database,
  keyEncryptionKey: Buffer,
  check: (passed: boolean, line: string) => void,
  counts: Partial<Record<CountedTable, number>>,
): Promise<void> {
  const current = await migrationsCurrent(db).catch(() => undefined);
  if (current === undefined) {
    check(false, 'holds no migration history: not a citizen-idp database');
    return;
  }
  check(true, current ? 'schema is this release’s' : 'schema is an earlier release’s (the next start migrates it)');

  const audit = new AuditLog(db);
  const writers = await audit.writers();
  const broken = [];
  let events = 0;
  for (const writer of writers) {
    const chain = await audit.verifyChain(writer);
    events += chain.events;
    if (!chain.intact) broken.push(`${writer} at event ${chain.brokenAt}`);
  }
  check(broken.length === 0, broken.length === 0 ? `audit chains intact (${writers.length} writers, ${events} events)` : `audit chain broken: ${broken.join(', ')}`);

  const keys = new KeyRepository(db, new KeyEncryption(keyEncryptionKey));
  try {
    const { keys: signing } = await keys.signingJwks();
    const cookies = await keys.cookieKeys();
    check(signing.length > 0, `${signing.length} signing keys and ${cookies.length} cookie keys open under this KEY_ENCRYPTION_KEY`);
  } catch (error) {
    check(false, (error as Error).message);
  }

  for (const table of COUNTED_TABLES) {
    const [row] = (await db(table).count<{ n: string }[]>({ n: '*' })) as [{ n: string }];
    counts[table] = Number(row.n);
  }
}
