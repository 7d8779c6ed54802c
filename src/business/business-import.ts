// Loads a business register file into the mirror (business_organisations and business_representatives)
// on the population registry's machinery (src/registry/registry-import.ts): the file streamed and every
// row checked, the good rows COPYed (binary) into a temporary staging table, then merged, all in one
// transaction — a killed import leaves the mirror as it was, and re-importing an unchanged file writes
// nothing.
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import { TextDecoder } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../storage/database.ts';
import { COPY_FORMAT, CopyRows, type CopyColumnKind } from '../registry/copy-rows.ts';
import { todayInVietnam } from '../registry/record-schema.ts';
import { encodingError, type RegistryFileFormat } from '../registry/registry-file.ts';
import { BusinessRowReader, BusinessRowValidator, STAGED_COLUMNS, STAGED_COLUMN_TYPES } from './business-file.ts';

export interface BusinessImportOptions {
  readonly format: RegistryFileFormat;
  /** Load nothing when any row is refused. */
  readonly strict?: boolean;
  /** Each refused row, in the order found (repeats of an earlier line come after the rest). */
  readonly onRejected?: (rejected: RejectedOrganisation) => void;
  /** Called after each chunk read, and when the merge (and an index rebuild) starts. */
  readonly onProgress?: (progress: BusinessImportProgress) => void;
  /** Aborting rolls the import back; importBusinessRegister() then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Today's date in Việt Nam (YYYY-MM-DD), the bound for founding dates. */
  readonly today?: string;
}

export interface RejectedOrganisation {
  /** 1-based line of the file where the row starts (CSV line 1 is the header). */
  readonly line: number;
  readonly enterpriseCode: string;
  readonly reason: string;
}

export interface BusinessImportProgress {
  readonly phase: 'reading' | 'merging' | 'indexing';
  readonly rows: number;
  readonly bytes: number;
}

/** `first`: the mirror was empty and the rows went in as a bulk load; `merge`: only what differs was written. */
export type BusinessImportMode = 'first' | 'merge' | 'none';

export interface BusinessImportSummary {
  /** Data rows in the file (blank lines aside). */
  readonly read: number;
  /** Organisations new to the mirror. */
  readonly inserted: number;
  /** Organisations whose entry or representatives differed: written again. */
  readonly updated: number;
  /** Organisations identical to the mirror's: not written. */
  readonly unchanged: number;
  readonly rejected: number;
  /** False when --strict refused the file: nothing was written. */
  readonly committed: boolean;
  readonly mode: BusinessImportMode;
  readonly elapsedMs: number;
}

const STAGING = 'business_import_staging';
const CHANGED = 'business_import_changed';
const COLUMNS = STAGED_COLUMNS.filter((column) => column !== 'representatives');
const COLUMN_LIST = COLUMNS.join(', ');
/** How each staged column goes to COPY (the line number before them is CopyRows' own bigint). */
const KINDS: readonly CopyColumnKind[] = STAGED_COLUMNS.map((column) => (STAGED_COLUMN_TYPES[column] === 'date' ? 'date' : 'text'));
/** One business import at a time: two merges of overlapping files would race for the same rows. */
const IMPORT_LOCK = 0x62757369; // 'busi'

const REPEATS = `
SELECT line, enterprise_code, first_line FROM (
  SELECT line, enterprise_code, min(line) OVER (PARTITION BY enterprise_code) AS first_line FROM ${STAGING}
) numbered WHERE line <> first_line ORDER BY line`;

// The organisations of the file that are new, or differ from the mirror in a column or in their
// representatives (compared in the staged text's canonical form: sorted by ID number). The mirror's
// representatives of the file's organisations are gathered in one pass, not looked up row by row.
const FIND_CHANGED = `
CREATE TEMP TABLE ${CHANGED} ON COMMIT DROP AS
WITH mirrored AS (
  SELECT r.enterprise_code, string_agg(r.national_id || ':' || r.title, ';' ORDER BY r.national_id) AS representatives
  FROM business_representatives r WHERE r.enterprise_code IN (SELECT enterprise_code FROM ${STAGING})
  GROUP BY r.enterprise_code
)
SELECT s.enterprise_code, o.enterprise_code IS NULL AS inserted
FROM ${STAGING} s
LEFT JOIN business_organisations o ON o.enterprise_code = s.enterprise_code
LEFT JOIN mirrored m ON m.enterprise_code = s.enterprise_code
WHERE o.enterprise_code IS NULL
   OR (${COLUMNS.map((column) => `o.${column}`).join(', ')}) IS DISTINCT FROM (${COLUMNS.map((column) => `s.${column}`).join(', ')})
   OR s.representatives IS DISTINCT FROM m.representatives`;

const UPSERT_CHANGED = `
INSERT INTO business_organisations (${COLUMN_LIST}, updated_at)
SELECT ${COLUMNS.map((column) => `s.${column}`).join(', ')}, now() FROM ${STAGING} s JOIN ${CHANGED} c ON c.enterprise_code = s.enterprise_code
ORDER BY s.enterprise_code
ON CONFLICT (enterprise_code) DO UPDATE SET ${COLUMNS.filter((column) => column !== 'enterprise_code').map((column) => `${column} = excluded.${column}`).join(', ')}, updated_at = excluded.updated_at`;

// A changed organisation's representatives are replaced as a whole: the file lists all of them.
const DELETE_CHANGED_REPRESENTATIVES = `
DELETE FROM business_representatives r USING ${CHANGED} c WHERE r.enterprise_code = c.enterprise_code`;

/**
 * The staged representatives (`ID:title;…`, each ID 12 digits) as rows, optionally only of changed
 * organisations; in key order when the key is there to grow.
 */
const insertRepresentatives = (onlyChanged: boolean, ordered = true): string => `
INSERT INTO business_representatives (enterprise_code, national_id, title)
SELECT s.enterprise_code, left(item, 12), substr(item, 14)
FROM ${STAGING} s ${onlyChanged ? `JOIN ${CHANGED} c ON c.enterprise_code = s.enterprise_code` : ''}
CROSS JOIN LATERAL unnest(string_to_array(s.representatives, ';')) AS item
${ordered ? 'ORDER BY 1, 2' : ''}`;

// A first load goes into tables without keys (built after), so the rows need no order.
const INSERT_ALL = `
INSERT INTO business_organisations (${COLUMN_LIST}, updated_at)
SELECT ${COLUMN_LIST}, now() FROM ${STAGING}`;

const MIRROR_TABLES = ['business_organisations', 'business_representatives'];

const SECONDARY_INDEXES = `
SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname)))`;

// The mirror's primary keys and unique constraints: dropped for a first load and built again after it.
const KEYS = `
SELECT conrelid::regclass::text AS table_name, conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
WHERE conrelid = ANY(ARRAY['business_organisations'::regclass, 'business_representatives'::regclass]) AND contype IN ('p', 'u')`;
// Foreign keys of other tables that point at the mirror (none in migration 018; any a later one adds).
const REFERENCES = `
SELECT conrelid::regclass::text AS table_name, conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
WHERE confrelid = ANY(ARRAY['business_organisations'::regclass, 'business_representatives'::regclass]) AND contype = 'f'`;

/** File bytes in, checked rows out as binary COPY rows with their line numbers. */
class BusinessCopier {
  readonly output = new CopyRows(1 << 16, KINDS);
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  readonly #reader: BusinessRowReader;
  #bytes = 0;

  constructor(format: RegistryFileFormat, validator: BusinessRowValidator, outcome: { accepted(line: number): boolean; rejected(line: number, code: string, reason: string): void }) {
    this.#reader = new BusinessRowReader(format, {
      row: (raw, line) => {
        const verdict = validator.check(raw);
        if ('problems' in verdict) outcome.rejected(line, raw.values[0] ?? '', verdict.problems.join('; '));
        else if (outcome.accepted(line)) this.output.write(line, verdict.values);
      },
      malformed: (line, reason) => outcome.rejected(line, '', reason),
    });
  }

  push(chunk: Buffer): void {
    this.#reader.push(this.#decode(chunk, false));
    this.#bytes += chunk.length;
  }

  end(): void {
    this.#reader.push(this.#decode(new Uint8Array(0), true));
    this.#reader.end();
  }

  #decode(chunk: Uint8Array, last: boolean): string {
    try {
      return this.#decoder.decode(chunk, { stream: !last });
    } catch {
      throw encodingError(chunk, this.#bytes, this.#reader.lines);
    }
  }
}

/** Imports one register file (any readable byte stream) into the business register mirror. */
export async function importBusinessRegister(db: Database, input: AsyncIterable<Buffer | string>, options: BusinessImportOptions): Promise<BusinessImportSummary> {
  const started = performance.now();
  const { signal } = options;
  signal?.throwIfAborted();
  let read = 0;
  let rejected = 0;
  let staged = 0;
  let bytes = 0;
  const reject = (line: number, enterpriseCode: string, reason: string): void => {
    rejected++;
    options.onRejected?.({ line, enterpriseCode, reason });
  };
  const outcome = {
    accepted(): boolean {
      read++;
      // In strict mode the first refusal settles the outcome: the rest is only checked, not staged.
      if (options.strict && rejected > 0) return false;
      staged++;
      return true;
    },
    rejected(line: number, enterpriseCode: string, reason: string): void {
      read++;
      reject(line, enterpriseCode, reason);
    },
  };

  const settings = (db.client as { connectionSettings: pg.ClientConfig }).connectionSettings;
  const client = new pg.Client(settings);
  await client.connect();
  client.on('error', () => undefined);
  let stopMerge: (() => void) | undefined;
  try {
    await client.query('BEGIN');
    const { rows: [lock] } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [IMPORT_LOCK]);
    if (!lock?.locked) throw new Error('another business register import is running; try again when it has finished');
    await client.query(
      `CREATE TEMP TABLE ${STAGING} (line bigint NOT NULL, ${STAGED_COLUMNS.map((column) => `${column} ${STAGED_COLUMN_TYPES[column]}`).join(', ')}) ON COMMIT DROP`,
    );
    const copy = client.query(copyFrom(`COPY ${STAGING} (line, ${STAGED_COLUMNS.join(', ')}) FROM STDIN WITH (${COPY_FORMAT})`));
    let copyError: Error | undefined;
    copy.on('error', (error: Error) => (copyError ??= error));
    const source = new BusinessCopier(options.format, new BusinessRowValidator(options.today ?? todayInVietnam()), outcome);
    try {
      for await (const chunk of input) {
        signal?.throwIfAborted();
        if (copyError) throw copyError;
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        source.push(buffer);
        bytes += buffer.length;
        const rows = source.output.take();
        if (rows && !copy.write(rows)) await once(copy, 'drain', signal ? { signal } : {});
        options.onProgress?.({ phase: 'reading', rows: read, bytes });
      }
      source.end();
      source.output.finish();
      signal?.throwIfAborted();
      const rest = source.output.take();
      if (rest) copy.write(rest);
      copy.end();
      await finished(copy);
    } catch (error) {
      copy.destroy(error as Error);
      throw error;
    }

    const refused = () => ({ read, inserted: 0, updated: 0, unchanged: 0, rejected, committed: false, mode: 'none' as const, elapsedMs: performance.now() - started });
    if (options.strict && rejected > 0) {
      await client.query('ROLLBACK');
      return refused();
    }

    options.onProgress?.({ phase: 'merging', rows: read, bytes });
    // The merge can run for a while: an abort cancels the statement rather than wait for it.
    const { rows: [backend] } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    stopMerge = () => void cancelStatement(settings, backend!.pid);
    signal?.addEventListener('abort', stopMerge, { once: true });
    await client.query("SET LOCAL work_mem = '256MB'");
    await client.query("SET LOCAL maintenance_work_mem = '512MB'");

    const repeats = await client.query<{ line: string; enterprise_code: string; first_line: string }>(REPEATS);
    for (const row of repeats.rows) reject(Number(row.line), row.enterprise_code, `enterprise_code: repeats line ${row.first_line}`);
    if (repeats.rows.length > 0) {
      if (options.strict) {
        await client.query('ROLLBACK');
        return refused();
      }
      await client.query(`DELETE FROM ${STAGING} WHERE line = ANY($1::bigint[])`, [repeats.rows.map((row) => row.line)]);
      staged -= repeats.rows.length;
    }

    let result: { inserted: number; updated: number; mode: BusinessImportMode };
    if (await prepareFirstLoad(client)) {
      // Keys and indexes are built once over the loaded rows, which is several times quicker than
      // growing them row by row. Repeated codes left the staging table above, and a row never names a
      // representative twice, so the keys build. All inside the transaction: a rollback restores them.
      const indexes = (await client.query<{ name: string; definition: string }>(SECONDARY_INDEXES, [MIRROR_TABLES])).rows;
      const keys = (await client.query<{ table_name: string; name: string; definition: string }>(KEYS)).rows;
      const references = (await client.query<{ table_name: string; name: string; definition: string }>(REFERENCES)).rows;
      for (const reference of references) await client.query(`ALTER TABLE ${reference.table_name} DROP CONSTRAINT ${pg.escapeIdentifier(reference.name)}`);
      for (const index of indexes) await client.query(`DROP INDEX ${pg.escapeIdentifier(index.name)}`);
      for (const key of keys) await client.query(`ALTER TABLE ${key.table_name} DROP CONSTRAINT ${pg.escapeIdentifier(key.name)}`);
      const inserted = (await client.query(INSERT_ALL)).rowCount ?? 0;
      await client.query(insertRepresentatives(false, false));
      options.onProgress?.({ phase: 'indexing', rows: read, bytes });
      for (const key of keys) await client.query(`ALTER TABLE ${key.table_name} ADD CONSTRAINT ${pg.escapeIdentifier(key.name)} ${key.definition}`);
      for (const index of indexes) await client.query(index.definition);
      for (const reference of references) await client.query(`ALTER TABLE ${reference.table_name} ADD CONSTRAINT ${pg.escapeIdentifier(reference.name)} ${reference.definition}`);
      await client.query('ANALYZE business_organisations');
      await client.query('ANALYZE business_representatives');
      result = { inserted, updated: 0, mode: 'first' };
    } else {
      await client.query(`ANALYZE ${STAGING}`);
      await client.query(FIND_CHANGED);
      const { rows: [counted] } = await client.query<{ inserted: string; updated: string }>(
        `SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM ${CHANGED}`,
      );
      const inserted = Number(counted?.inserted);
      const updated = Number(counted?.updated);
      if (inserted + updated > 0) {
        await client.query(UPSERT_CHANGED);
        await client.query(DELETE_CHANGED_REPRESENTATIVES);
        await client.query(insertRepresentatives(true));
      }
      result = { inserted, updated, mode: inserted + updated > 0 ? 'merge' : 'none' };
    }
    signal?.throwIfAborted();
    await client.query('COMMIT');
    return {
      read,
      inserted: result.inserted,
      updated: result.updated,
      unchanged: staged - result.inserted - result.updated,
      rejected,
      committed: true,
      mode: result.mode,
      elapsedMs: performance.now() - started,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw signal?.aborted ? (signal.reason as Error) : error;
  } finally {
    if (stopMerge) signal?.removeEventListener('abort', stopMerge);
    await client.end().catch(() => undefined);
  }
}

/**
 * An empty mirror is loaded in bulk: both tables locked (inside the import's transaction, so lookups
 * wait for the commit), their keys and indexes dropped and built again after the rows are in. False,
 * with nothing locked, when either table holds anything.
 */
async function prepareFirstLoad(client: pg.Client): Promise<boolean> {
  const empty = async () =>
    !(await client.query<{ filled: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM business_organisations) OR EXISTS (SELECT 1 FROM business_representatives) AS filled',
    )).rows[0]?.filled;
  if (!(await empty())) return false;
  // Rolling back to the savepoint releases the lock again if an organisation arrived meanwhile.
  await client.query('SAVEPOINT first_load');
  await client.query("SET LOCAL lock_timeout = '30s'");
  await client.query('LOCK TABLE business_organisations, business_representatives IN ACCESS EXCLUSIVE MODE');
  if (!(await empty())) {
    await client.query('ROLLBACK TO SAVEPOINT first_load');
    return false;
  }
  return true;
}

/** Cancels what a backend is running, from a connection of its own. */
async function cancelStatement(settings: pg.ClientConfig, pid: number): Promise<void> {
  const canceller = new pg.Client(settings);
  try {
    await canceller.connect();
    await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // Nothing more to do: the import notices the abort before it commits.
  } finally {
    await canceller.end().catch(() => undefined);
  }
}

/** One line for a terminal or a log: what the import did. */
export function describeBusinessImport(summary: BusinessImportSummary): string {
  const seconds = Math.max(summary.elapsedMs / 1000, 0.001);
  return (
    `read ${summary.read}, inserted ${summary.inserted}, updated ${summary.updated}, unchanged ${summary.unchanged}, rejected ${summary.rejected} ` +
    `in ${seconds.toFixed(1)} s (${Math.round(summary.read / seconds)} organisations/s)`
  );
}
