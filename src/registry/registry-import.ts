// Loads a registry file into the local mirror: streams and validates every row, COPYs the good ones into
// a temporary staging table and merges them with one statement, all in one transaction — so a killed
// import leaves the registry as it was, and re-importing an unchanged file changes nothing.
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import { TextDecoder } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../storage/database.ts';
import { COPY_FORMAT, CopyRows } from './copy-rows.ts';
import { RECORD_COLUMNS, RECORD_COLUMN_TYPES, RELATION_COLUMNS, RegistryRowValidator, todayInVietnam, type RawRegistryRow, type RelationColumn } from './record-schema.ts';
import { RegistryCsvCopier, type CopyRowOutcome } from './registry-csv-copy.ts';
import { encodingError, RegistryRowReader, type RegistryFileFormat } from './registry-file.ts';

export interface ImportOptions {
  readonly format: RegistryFileFormat;
  /** Load nothing when any row is refused. */
  readonly strict?: boolean;
  /** Each refused row, in the order found (duplicates of an earlier line come after the rest). */
  readonly onRejected?: (rejected: RejectedRow) => void;
  /** Called after each chunk read, and once when the merge starts. */
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Aborting rolls the import back; importRegistry() then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Today's date in Việt Nam (YYYY-MM-DD), the bound for dates that cannot lie in the future. */
  readonly today?: string;
}

export interface RejectedRow {
  /** 1-based line of the file where the row starts (CSV line 1 is the header). */
  readonly line: number;
  readonly nationalId: string;
  readonly reason: string;
}

export interface ImportProgress {
  /** Reading the file; merging it into the registry; rebuilding indexes after a bulk load. */
  readonly phase: 'reading' | 'merging' | 'indexing';
  readonly rows: number;
  readonly bytes: number;
}

/**
 * `first`: the registry was empty, so the rows went straight into it, with its keys and indexes built
 * after; `bulk`: a large file beside a small registry, merged with the indexes rebuilt after;
 * `incremental`: merged row by row; `none`: nothing was written.
 */
export type ImportMode = 'first' | 'incremental' | 'bulk' | 'none';

/** An eID account holder whom the file shows dead or missing while the account is still active. */
export interface UnavailableHolder {
  readonly nationalId: string;
  readonly change: 'died' | 'went_missing';
  /** The date of death, or since when the person is missing. */
  readonly occurredOn: string;
}

export interface ImportSummary {
  /** Data rows in the file (blank lines aside). */
  readonly read: number;
  readonly inserted: number;
  readonly updated: number;
  /** Rows identical to the record already in the registry. */
  readonly unchanged: number;
  readonly rejected: number;
  /** False when --strict refused the file: nothing was written. */
  readonly committed: boolean;
  /** How the rows were merged (see merge()); 'none' when nothing was. */
  readonly mode: ImportMode;
  /**
   * Account holders to lock, with all their access ended, through the change feed's path (the import
   * itself touches only the registry). Found from the accounts' state, not from what changed, so a run
   * that stopped before locking them finds them again.
   */
  readonly unavailable: readonly UnavailableHolder[];
  readonly elapsedMs: number;
}

const STAGING = 'registry_import_staging';
const COLUMN_LIST = RECORD_COLUMNS.join(', ');
/** Only one import at a time: two merges of overlapping files would race for the same rows. */
const IMPORT_LOCK = 0x72656769; // 'regi'
/** A load this large into a registry at most a tenth its size rebuilds the secondary indexes after it. */
const BULK_LOAD_MIN_ROWS = 50_000;

/**
 * The record columns a file speaks for: all but the relation columns it leaves out (an older file
 * without them says nothing about parents and guardian, so what the registry holds there stays).
 */
const columnsGiven = (relations: ReadonlySet<RelationColumn>): readonly string[] =>
  RECORD_COLUMNS.filter((column) => !(RELATION_COLUMNS as readonly string[]).includes(column) || relations.has(column as RelationColumn));
/** `column = source.column, …` for every given column but the key. */
const assignments = (source: string, columns: readonly string[]): string =>
  columns.filter((column) => column !== 'national_id').map((column) => `${column} = ${source}.${column}`).join(', ');
/** The registry row `r` differs from the row `source` in some given column. */
const differs = (source: string, columns: readonly string[]): string =>
  `(${columns.map((column) => `r.${column}`).join(', ')}) IS DISTINCT FROM (${columns.map((column) => `${source}.${column}`).join(', ')})`;
// Rows go in key order, so the primary key grows at its right edge instead of being rewritten page by
// page all over: with a registry far larger than shared_buffers, random order thrashes the index. The
// numbers are ASCII digits, so the "C" order is the index's order, and much the quicker sort.
const KEY_ORDER = 'ORDER BY national_id COLLATE "C"';

// Updates only what differs: an unchanged row is neither written nor given a new updated_at. A new
// record gets every column (NULL for a relation the file leaves out: not known).
const mergeStatement = (columns: readonly string[]): string => `
WITH merged AS (
  INSERT INTO registry_records AS r (${COLUMN_LIST}, updated_at)
  SELECT ${COLUMN_LIST}, now() FROM ${STAGING} ${KEY_ORDER}
  ON CONFLICT (national_id) DO UPDATE SET ${assignments('excluded', columns)}, updated_at = excluded.updated_at
  WHERE ${differs('excluded', columns)}
  RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM merged`;

// The bulk path: the few records already there are updated, the rest inserted without the cost of
// ON CONFLICT's speculative insertion (repeats were removed before, so no key can come twice).
const bulkUpdate = (columns: readonly string[]): string => `
UPDATE registry_records r SET ${assignments('s', columns)}, updated_at = now()
FROM ${STAGING} s WHERE r.national_id = s.national_id AND ${differs('s', columns)}`;
const BULK_INSERT = `
INSERT INTO registry_records (${COLUMN_LIST}, updated_at)
SELECT ${COLUMN_LIST}, now() FROM ${STAGING} s
WHERE NOT EXISTS (SELECT 1 FROM registry_records r WHERE r.national_id = s.national_id)
${KEY_ORDER}`;

// Active accounts of people the file shows dead or missing.
const UNAVAILABLE_HOLDERS = `
SELECT s.national_id, s.died_on::text AS died_on, s.missing_since::text AS missing_since FROM accounts a JOIN ${STAGING} s ON s.national_id = a.national_id
WHERE a.status = 'active' AND (s.died_on IS NOT NULL OR s.missing_since IS NOT NULL)
ORDER BY s.national_id`;

// Later rows with the number of an earlier one.
const REPEATS = `
SELECT line, national_id, first_line FROM (
  SELECT line, national_id, min(line) OVER (PARTITION BY national_id COLLATE "C") AS first_line FROM ${STAGING}
) numbered WHERE line <> first_line ORDER BY line`;

// Indexes on the registry besides the ones behind constraints (the primary key): dropped before a bulk
// load and built again after it, which is several times quicker than growing them row by row.
const SECONDARY_INDEXES = `
SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = 'registry_records'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname)))`;

/**
 * Where each row written in a first load came from: the n-th row written is line n + offset, and the
 * offset changes only after a refused row, so only those places are remembered.
 */
class LineMap {
  #rows = 0;
  readonly #fromRow: number[] = [];
  readonly #offset: number[] = [];

  add(line: number): void {
    this.#rows++;
    const offset = line - this.#rows;
    if (this.#offset.at(-1) !== offset) {
      this.#fromRow.push(this.#rows);
      this.#offset.push(offset);
    }
  }

  /** The line of the file the n-th row written (1-based) came from. */
  lineOf(row: number): number {
    let low = 0;
    let high = this.#fromRow.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#fromRow[middle]! <= row) low = middle;
      else high = middle - 1;
    }
    return row + (this.#offset[low] ?? 0);
  }
}

/** The reading half of an import: file bytes in, COPY rows out (RegistryCsvCopier's shape). */
interface CopySource {
  readonly output: CopyRows;
  readonly lines: number;
  /** The relation columns the file carries (known once the file has been read). */
  readonly relationColumns: ReadonlySet<RelationColumn>;
  push(chunk: Buffer): void;
  end(): void;
}

/** NDJSON goes the string way: decoded, parsed line by line, each row through the validator. */
class NdjsonCopier implements CopySource {
  readonly output = new CopyRows();
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  readonly #reader: RegistryRowReader;
  #bytes = 0;

  constructor(validator: RegistryRowValidator, outcome: CopyRowOutcome, options: { lineNumbers: boolean }) {
    this.#reader = new RegistryRowReader('ndjson', {
      row: (values: RawRegistryRow, line: number) => {
        const verdict = validator.check(values);
        if ('problems' in verdict) outcome.rejected(line, values[0] ?? '', verdict.problems.join('; '));
        else if (outcome.accepted(line)) this.output.write(options.lineNumbers ? line : undefined, verdict.values);
      },
      malformed: (line: number, reason: string) => outcome.rejected(line, '', reason),
    });
  }

  get lines(): number {
    return this.#reader.lines;
  }

  get relationColumns(): ReadonlySet<RelationColumn> {
    return this.#reader.relationColumns;
  }

  push(chunk: Buffer): void {
    this.#reader.push(decode(this.#decoder, chunk, this.#bytes, this.#reader.lines));
    this.#bytes += chunk.length;
  }

  end(): void {
    this.#reader.push(decode(this.#decoder, new Uint8Array(0), this.#bytes, this.#reader.lines, true));
    this.#reader.end();
  }
}

/** Imports one registry file (any readable byte stream) into registry_records. */
export async function importRegistry(db: Database, input: AsyncIterable<Buffer | string>, options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const today = options.today ?? todayInVietnam();
  const { signal } = options;
  signal?.throwIfAborted();

  let read = 0;
  let rejected = 0;
  let bytes = 0;
  /** Set for a first load, which writes no line numbers. */
  let lines: LineMap | undefined;
  const validator = new RegistryRowValidator(today);
  const reject = (line: number, nationalId: string, reason: string): void => {
    rejected++;
    options.onRejected?.({ line, nationalId, reason });
  };
  const outcome: CopyRowOutcome = {
    accepted(line) {
      read++;
      // In strict mode the first refusal settles the outcome: the rest is only checked, not staged.
      if (options.strict && rejected > 0) return false;
      lines?.add(line);
      return true;
    },
    rejected(line, nationalId, reason) {
      read++;
      reject(line, nationalId, reason);
    },
  };

  const settings = (db.client as { connectionSettings: pg.ClientConfig }).connectionSettings;
  const client = new pg.Client(settings);
  await client.connect();
  let stopMerge: (() => void) | undefined;
  // A failure of the connection itself surfaces through the query that meets it; the listener keeps
  // it from also being an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.query('BEGIN');
    const { rows: [lock] } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [IMPORT_LOCK]);
    if (!lock?.locked) throw new Error('another registry import is running; try again when it has finished');
    const firstLoad = await prepareFirstLoad(client);
    if (firstLoad) {
      lines = new LineMap();
    } else {
      await client.query(
        `CREATE TEMP TABLE ${STAGING} (line bigint NOT NULL, ${RECORD_COLUMNS.map((column) => `${column} ${RECORD_COLUMN_TYPES[column]}`).join(', ')}) ON COMMIT DROP`,
      );
    }

    const copy = client.query(
      copyFrom(firstLoad ? `COPY registry_records (${COLUMN_LIST}) FROM STDIN WITH (FREEZE, ${COPY_FORMAT})` : `COPY ${STAGING} (line, ${COLUMN_LIST}) FROM STDIN WITH (${COPY_FORMAT})`),
    );
    let copyError: Error | undefined;
    copy.on('error', (error: Error) => (copyError ??= error));
    const source: CopySource = options.format === 'csv'
      ? new RegistryCsvCopier(validator, today, outcome, { lineNumbers: !firstLoad })
      : new NdjsonCopier(validator, outcome, { lineNumbers: !firstLoad });
    try {
      for await (const chunk of input) {
        signal?.throwIfAborted();
        if (copyError) throw copyError;
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        source.push(buffer);
        bytes += buffer.length;
        const rows = source.output.take();
        if (rows) {
          const more = copy.write(rows);
          // Waits for PostgreSQL to take what it has; an abort ends the wait (and the import).
          if (!more) await once(copy, 'drain', signal ? { signal } : {});
        }
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

    if (options.strict && rejected > 0) {
      await client.query('ROLLBACK');
      return { read, inserted: 0, updated: 0, unchanged: 0, rejected, committed: false, mode: 'none', unavailable: [], elapsedMs: performance.now() - started };
    }

    options.onProgress?.({ phase: 'merging', rows: read, bytes });
    // The merge can run for minutes: an abort cancels the statement rather than wait for it.
    const { rows: [backend] } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    stopMerge = () => void cancelStatement(settings, backend!.pid);
    signal?.addEventListener('abort', stopMerge, { once: true });
    const mergeOptions = {
      strict: options.strict === true,
      columns: columnsGiven(source.relationColumns),
      onRepeat: (line: number, nationalId: string, firstLine: number) => reject(line, nationalId, `national_id: repeats line ${firstLine}`),
      onIndexing: () => options.onProgress?.({ phase: 'indexing' as const, rows: read, bytes }),
    };
    const merged = firstLoad
      ? await finishFirstLoad(client, firstLoad, read - rejected, lines!, mergeOptions)
      : await merge(client, read - rejected, mergeOptions);
    if (!merged) {
      await client.query('ROLLBACK');
      return { read, inserted: 0, updated: 0, unchanged: 0, rejected, committed: false, mode: 'none', unavailable: [], elapsedMs: performance.now() - started };
    }
    // A first load found no accounts: they need a registry record.
    const holders = firstLoad
      ? { rows: [] }
      : await client.query<{ national_id: string; died_on: string | null; missing_since: string | null }>(UNAVAILABLE_HOLDERS);
    signal?.throwIfAborted();
    await client.query('COMMIT');
    // Fresh statistics for the planner after a load that changed much of the table: for the columns
    // queries filter on (half the time of a whole-table ANALYZE, whose other columns hold wide text and
    // JSON); autovacuum's own ANALYZE fills in the rest after a load this size. The relation columns
    // too: "whose parent is this citizen?" is asked at sign-ins that ask for representation.
    if (merged.mode !== 'incremental') {
      await client.query('ANALYZE registry_records (national_id, household_id, died_on, missing_since, father_national_id, mother_national_id, guardian_national_id)');
    }
    const { inserted, updated, mode } = merged;
    return {
      read,
      inserted,
      updated,
      unchanged: read - rejected - inserted - updated,
      rejected,
      committed: true,
      mode,
      unavailable: holders.rows.map((row) =>
        row.died_on !== null
          ? { nationalId: row.national_id, change: 'died', occurredOn: row.died_on }
          : { nationalId: row.national_id, change: 'went_missing', occurredOn: row.missing_since! },
      ),
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
 * Takes repeated numbers out (reported as refused), then merges the staging table into the registry:
 * row by row for an update of a registry of some size, or as a bulk load, with the secondary indexes
 * rebuilt after, when the registry is empty or small beside the file. A bulk load holds an exclusive
 * lock on the registry until the import commits: lookups wait for it.
 */
async function merge(
  client: pg.Client,
  staged: number,
  options: { strict: boolean; columns: readonly string[]; onRepeat: (line: number, nationalId: string, firstLine: number) => void; onIndexing: () => void },
): Promise<{ inserted: number; updated: number; mode: ImportMode } | undefined> {
  await client.query("SET LOCAL work_mem = '512MB'");
  await client.query("SET LOCAL maintenance_work_mem = '1GB'");
  const repeats = await client.query<{ line: string; national_id: string; first_line: string }>(REPEATS);
  for (const row of repeats.rows) options.onRepeat(Number(row.line), row.national_id, Number(row.first_line));
  if (repeats.rows.length > 0) {
    if (options.strict) return undefined;
    await client.query(`DELETE FROM ${STAGING} WHERE line = ANY($1::bigint[])`, [repeats.rows.map((row) => row.line)]);
    staged -= repeats.rows.length;
  }

  const limit = Math.floor(staged / 10);
  const { rows: [existing] } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM registry_records LIMIT ${limit + 1}) r`);
  if (staged < BULK_LOAD_MIN_ROWS || Number(existing?.n) > limit) {
    const { rows: [row] } = await client.query<{ inserted: string; updated: string }>(mergeStatement(options.columns));
    return { inserted: Number(row?.inserted), updated: Number(row?.updated), mode: 'incremental' };
  }

  // Fail rather than queue behind a long reader: the exclusive lock would stop every lookup meanwhile.
  await client.query("SET LOCAL lock_timeout = '30s'");
  const indexes = await client.query<{ name: string; definition: string }>(SECONDARY_INDEXES);
  for (const index of indexes.rows) await client.query(`DROP INDEX ${pg.escapeIdentifier(index.name)}`);
  const updated = Number(existing?.n) > 0 ? ((await client.query(bulkUpdate(options.columns))).rowCount ?? 0) : 0;
  const inserted = (await client.query(BULK_INSERT)).rowCount ?? 0;
  options.onIndexing();
  for (const index of indexes.rows) await client.query(index.definition);
  return { inserted, updated, mode: 'bulk' };
}

/** What a first load took off the registry, to put back once the rows are in. */
interface FirstLoad {
  readonly primaryKey: { readonly name: string; readonly definition: string };
  /** Foreign keys of other tables (accounts) that point at the registry. */
  readonly references: readonly { readonly tableName: string; readonly name: string; readonly definition: string }[];
  readonly indexes: readonly { readonly name: string; readonly definition: string }[];
}

const PRIMARY_KEY = `
SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
WHERE conrelid = 'registry_records'::regclass AND contype = 'p'`;
const REFERENCES = `
SELECT conrelid::regclass::text AS table_name, conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
WHERE confrelid = 'registry_records'::regclass AND contype = 'f'`;

/**
 * An empty registry is loaded in one write instead of two: its key, the foreign keys pointing at it and
 * its indexes are dropped, the table truncated (a new, empty file, which lets COPY write the rows frozen),
 * and the rows COPYed straight into it; finishFirstLoad() builds it all again. All of it inside the
 * import's transaction, under an exclusive lock: a rollback restores the registry as it was. Undefined,
 * with nothing locked, when the registry holds anyone.
 */
async function prepareFirstLoad(client: pg.Client): Promise<FirstLoad | undefined> {
  const empty = async () => !(await client.query<{ filled: boolean }>('SELECT EXISTS (SELECT 1 FROM registry_records) AS filled')).rows[0]?.filled;
  if (!(await empty())) return undefined;
  // Rolling back to the savepoint releases the lock again if a record arrived meanwhile.
  await client.query('SAVEPOINT first_load');
  await client.query("SET LOCAL lock_timeout = '30s'");
  await client.query('LOCK TABLE registry_records IN ACCESS EXCLUSIVE MODE');
  if (!(await empty())) {
    await client.query('ROLLBACK TO SAVEPOINT first_load');
    return undefined;
  }
  const { rows: [primaryKey] } = await client.query<{ name: string; definition: string }>(PRIMARY_KEY);
  const references = (await client.query<{ table_name: string; name: string; definition: string }>(REFERENCES)).rows.map((row) => ({
    tableName: row.table_name,
    name: row.name,
    definition: row.definition,
  }));
  const indexes = (await client.query<{ name: string; definition: string }>(SECONDARY_INDEXES)).rows;
  for (const reference of references) {
    await client.query(`ALTER TABLE ${reference.tableName} DROP CONSTRAINT ${pg.escapeIdentifier(reference.name)}`);
  }
  for (const index of indexes) await client.query(`DROP INDEX ${pg.escapeIdentifier(index.name)}`);
  await client.query(`ALTER TABLE registry_records DROP CONSTRAINT ${pg.escapeIdentifier(primaryKey!.name)}`);
  await client.query('TRUNCATE registry_records');
  return { primaryKey: primaryKey!, references, indexes };
}

/**
 * Builds the key a first load dropped — taking out, and reporting, the later rows of a number the file
 * repeats when the key finds any — then the foreign keys and the indexes.
 */
async function finishFirstLoad(
  client: pg.Client,
  firstLoad: FirstLoad,
  written: number,
  lines: LineMap,
  options: { strict: boolean; columns: readonly string[]; onRepeat: (line: number, nationalId: string, firstLine: number) => void; onIndexing: () => void },
): Promise<{ inserted: number; updated: number; mode: ImportMode } | undefined> {
  await client.query("SET LOCAL maintenance_work_mem = '1GB'");
  options.onIndexing();
  const addPrimaryKey = `ALTER TABLE registry_records ADD CONSTRAINT ${pg.escapeIdentifier(firstLoad.primaryKey.name)} ${firstLoad.primaryKey.definition}`;
  let inserted = written;
  await client.query('SAVEPOINT primary_key');
  try {
    await client.query(addPrimaryKey);
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    await client.query('ROLLBACK TO SAVEPOINT primary_key');
    // The rows went into a new, empty file in the order read: their physical order is the file's.
    const { rows } = await client.query<{ row_ctid: string; national_id: string; row: string; first_row: string }>(`
      WITH repeated AS (SELECT national_id FROM registry_records GROUP BY national_id HAVING count(*) > 1)
      SELECT row_ctid::text, national_id, row, first_row FROM (
        SELECT row_ctid, national_id, row, min(row) OVER (PARTITION BY national_id) AS first_row
        FROM (SELECT ctid AS row_ctid, national_id, row_number() OVER (ORDER BY ctid) AS row FROM registry_records) numbered
        WHERE national_id IN (SELECT national_id FROM repeated)
      ) rows WHERE row <> first_row ORDER BY row`);
    for (const row of rows) options.onRepeat(lines.lineOf(Number(row.row)), row.national_id, lines.lineOf(Number(row.first_row)));
    if (options.strict) return undefined;
    await client.query('DELETE FROM registry_records WHERE ctid = ANY($1::tid[])', [rows.map((row) => row.row_ctid)]);
    inserted -= rows.length;
    await client.query(addPrimaryKey);
  }
  for (const reference of firstLoad.references) {
    await client.query(`ALTER TABLE ${reference.tableName} ADD CONSTRAINT ${pg.escapeIdentifier(reference.name)} ${reference.definition}`);
  }
  for (const index of firstLoad.indexes) await client.query(index.definition);
  return { inserted, updated: 0, mode: 'first' };
}

/** Cancels what a backend is running, from a connection of its own. */
async function cancelStatement(settings: pg.ClientConfig, pid: number): Promise<void> {
  const canceller = new pg.Client(settings);
  try {
    await canceller.connect();
    await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // Nothing more to do: the import will notice the abort before it commits.
  } finally {
    await canceller.end().catch(() => undefined);
  }
}

/** Decodes a chunk as UTF-8; invalid bytes stop the import, naming where they are. */
function decode(decoder: TextDecoder, chunk: Uint8Array, offset: number, linesBefore: number, last = false): string {
  try {
    return decoder.decode(chunk, { stream: !last });
  } catch {
    throw encodingError(chunk, offset, linesBefore);
  }
}
