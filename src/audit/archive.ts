// Archiving the audit trail's closed months (docs/operations.md "Audit partitions and archives"): each
// monthly partition older than the citizen's history retention is written to a file — gzip'd NDJSON,
// one event a line as the export writes it, then a trailer with each writer's chain segments in it, the
// SHA-256 of the event lines and an HMAC under AUDIT_HEADS_KEY (the chain-heads key, src/audit/chain-heads.ts)
// — read back and checked against the database, and only then recorded in audit_archives and detached
// and dropped, in one transaction. verifyWithArchives() then checks every writer's chain across the
// files and the live partitions together: an edited event, a deleted one, a changed, forged or missing
// file all show.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { createGunzip, createGzip } from 'node:zlib';
import type { Database } from '../storage/database.ts';
import { eventHash } from './audit-log.ts';
import { listPartitions, type AuditPartition } from './partitions.ts';
import type { ChainHead, HeadCheck } from './chain-heads.ts';
import { auditEventOf, type AuditEventRow, type AuditTrailEvent } from './audit-trail.ts';

export const ARCHIVE_FORMAT = 'citizen-idp/audit-archive/1';
const GENESIS = 'genesis';

/** A run of one writer's chain: consecutive sequence numbers, each event linked to the one before. */
export interface ChainSegment {
  readonly writerId: string;
  readonly firstSeq: number;
  /** The hash the first event links to (the end of the segment before it). */
  readonly firstPrevHash: string;
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly events: number;
}

interface ArchiveTrailer {
  readonly format: typeof ARCHIVE_FORMAT;
  readonly partition: string;
  readonly from: string;
  readonly to: string;
  readonly events: number;
  readonly eventsSha256: string;
  readonly segments: readonly ChainSegment[];
  readonly keyId: string;
  readonly mac: string;
}

/** An event as an archive file holds it: the trail's event, its time as ISO text. */
type EventLine = Omit<AuditTrailEvent, 'occurredAt'> & { readonly occurredAt: string };

// Spreading keeps the trail's key order, which the archive's lines (and their digest) are written in.
const lineOf = (row: AuditEventRow): EventLine => ({ ...auditEventOf(row), occurredAt: row.occurred_at.toISOString() });

/** Does the event's own content give its hash (over the hash it links to)? */
function selfConsistent(event: EventLine): boolean {
  const recomputed = eventHash(event.prevHash, {
    writerId: event.writerId,
    seq: event.seq,
    occurredAt: new Date(event.occurredAt),
    type: event.type,
    ...(event.actor !== null && { actor: event.actor }),
    ...(event.accountId !== null && { accountId: event.accountId }),
    ...(event.clientId !== null && { clientId: event.clientId }),
    data: event.data,
  });
  return recomputed === event.hash;
}

/** Builds segments from events given in (writer, seq) order. */
class SegmentBuilder {
  readonly segments: ChainSegment[] = [];
  #current: { writerId: string; firstSeq: number; firstPrevHash: string; lastSeq: number; lastHash: string; events: number } | undefined;

  add(event: { writerId: string; seq: number; prevHash: string; hash: string }): void {
    const current = this.#current;
    if (current && current.writerId === event.writerId && event.seq === current.lastSeq + 1 && event.prevHash === current.lastHash) {
      current.lastSeq = event.seq;
      current.lastHash = event.hash;
      current.events += 1;
      return;
    }
    this.#close();
    this.#current = { writerId: event.writerId, firstSeq: event.seq, firstPrevHash: event.prevHash, lastSeq: event.seq, lastHash: event.hash, events: 1 };
  }

  #close(): void {
    if (this.#current) this.segments.push({ ...this.#current });
    this.#current = undefined;
  }

  finish(): ChainSegment[] {
    this.#close();
    return this.segments;
  }
}

const keyIdOf = (key: Buffer) => createHash('sha256').update('audit-heads-key-id\n').update(key).digest('hex').slice(0, 16);

function trailerMac(key: Buffer, trailer: Omit<ArchiveTrailer, 'mac'>): string {
  const text = JSON.stringify({
    format: trailer.format,
    partition: trailer.partition,
    from: trailer.from,
    to: trailer.to,
    events: trailer.events,
    eventsSha256: trailer.eventsSha256,
    segments: trailer.segments.map((s) => [s.writerId, s.firstSeq, s.firstPrevHash, s.lastSeq, s.lastHash, s.events]),
    keyId: trailer.keyId,
  });
  return createHmac('sha256', key).update(text).digest('hex');
}

/** The partition's rows in (writer, seq) order, a batch at a time. */
async function* partitionRows(db: Database, partition: string, batch = 5000): AsyncGenerator<AuditEventRow> {
  let after: { writer: string; seq: string } | undefined;
  for (;;) {
    let query = db<AuditEventRow>(partition).select('*').orderBy([{ column: 'writer_id' }, { column: 'seq' }]).limit(batch);
    if (after) query = query.whereRaw('(writer_id, seq) > (?, ?)', [after.writer, after.seq]);
    const rows = await query;
    for (const row of rows) yield row;
    if (rows.length < batch) return;
    const last = rows.at(-1)!;
    after = { writer: last.writer_id, seq: String(last.seq) };
  }
}

export interface ArchiveFileCheck {
  readonly ok: boolean;
  readonly problem?: string;
  readonly trailer?: ArchiveTrailer;
  /** Every event line, when asked for (verification across files). */
  readonly segments: ChainSegment[];
}

/**
 * Reads an archive file: every line's own hash, the lines' SHA-256 and the trailer's MAC. `onEvent`
 * sees each event in order.
 */
export async function readArchiveFile(file: string, key: Buffer, onEvent?: (event: EventLine) => void): Promise<ArchiveFileCheck> {
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  const digest = createHash('sha256');
  const builder = new SegmentBuilder();
  let trailer: ArchiveTrailer | undefined;
  let events = 0;
  let problem: string | undefined;
  try {
    for await (const line of lines) {
      if (trailer) {
        problem ??= 'lines after the trailer';
        continue;
      }
      const parsed = JSON.parse(line) as Partial<ArchiveTrailer> & Partial<EventLine>;
      if (parsed.format === ARCHIVE_FORMAT) {
        trailer = parsed as ArchiveTrailer;
        continue;
      }
      digest.update(`${line}\n`);
      const event = parsed as EventLine;
      events += 1;
      if (!selfConsistent(event)) problem ??= `the event ${event.writerId}#${event.seq} does not match its hash (edited)`;
      builder.add(event);
      onEvent?.(event);
    }
  } catch (error) {
    return { ok: false, problem: `unreadable (${error instanceof Error ? error.message : String(error)})`, segments: [] };
  }
  const segments = builder.finish();
  if (!trailer) return { ok: false, problem: 'no trailer (truncated?)', segments };
  if (trailer.keyId !== keyIdOf(key)) return { ok: false, problem: `signed with another key (${trailer.keyId})`, trailer, segments };
  const expected = Buffer.from(trailerMac(key, trailer), 'hex');
  const given = Buffer.from(typeof trailer.mac === 'string' ? trailer.mac : '', 'hex');
  if (given.length !== expected.length || !timingSafeEqual(expected, given)) return { ok: false, problem: 'the trailer\'s signature does not verify (altered or forged)', trailer, segments };
  if (problem) return { ok: false, problem, trailer, segments };
  if (digest.digest('hex') !== trailer.eventsSha256 || events !== trailer.events) return { ok: false, problem: 'the events are not those the trailer signed (added, removed or changed lines)', trailer, segments };
  if (JSON.stringify(segments) !== JSON.stringify(trailer.segments)) return { ok: false, problem: 'the chain segments differ from the signed ones', trailer, segments };
  return { ok: true, trailer, segments };
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface ArchiveOutcome {
  readonly archived: { partition: string; file: string; events: number }[];
  /** Partitions before the month asked for that the history retention still needs. */
  readonly kept: string[];
}

/** The archive was not written, or did not match the database: the partition stays. */
export class ArchiveRefused extends Error {
  override readonly name = 'ArchiveRefused';
}

/**
 * Archives every monthly partition that ends by the first of `before` (YYYY-MM) and before the history
 * retention begins, oldest first: file, check, then record, detach and drop in one transaction.
 */
export async function archivePartitions(
  db: Database,
  options: { before: string; retentionDays: number; dir: string; key: Buffer; now?: Date },
): Promise<ArchiveOutcome> {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(options.before);
  if (!match) throw new ArchiveRefused('--before: expected a month as YYYY-MM');
  const before = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
  const now = options.now ?? new Date();
  const historyStart = new Date(now.getTime() - options.retentionDays * 86400 * 1000);
  const archived: ArchiveOutcome['archived'] = [];
  const kept: string[] = [];
  for (const partition of await listPartitions(db)) {
    if (partition.to > before) continue;
    if (partition.to > historyStart) {
      kept.push(partition.name);
      continue;
    }
    archived.push(await archiveOne(db, partition, options.dir, options.key));
  }
  return { archived, kept };
}

async function archiveOne(db: Database, partition: AuditPartition, dir: string, key: Buffer): Promise<{ partition: string; file: string; events: number }> {
  const fileName = `${partition.name}.ndjson.gz`;
  const file = path.join(dir, fileName);
  if (await access(file).then(() => true, () => false)) throw new ArchiveRefused(`${file} exists; archives are never overwritten`);
  const partial = `${file}.part`;
  const gzip = createGzip();
  const out = createWriteStream(partial, { mode: 0o600, flags: 'wx' });
  gzip.pipe(out);
  const digest = createHash('sha256');
  const builder = new SegmentBuilder();
  let events = 0;
  for await (const row of partitionRows(db, partition.name)) {
    const line = `${JSON.stringify(lineOf(row))}\n`;
    digest.update(line);
    builder.add(lineOf(row));
    events += 1;
    if (!gzip.write(line)) await once(gzip, 'drain');
  }
  const unsigned = {
    format: ARCHIVE_FORMAT,
    partition: partition.name,
    from: partition.from.toISOString(),
    to: partition.to.toISOString(),
    events,
    eventsSha256: digest.digest('hex'),
    segments: builder.finish(),
    keyId: keyIdOf(key),
  } as const;
  const trailer: ArchiveTrailer = { ...unsigned, mac: trailerMac(key, unsigned) };
  gzip.end(`${JSON.stringify(trailer)}\n`);
  await once(out, 'close');

  // Read back and held against the database, row by row, before anything is dropped.
  const check = await readArchiveFile(partial, key);
  if (!check.ok) throw new ArchiveRefused(`${partial}: ${check.problem ?? 'does not verify'}; the partition stays`);
  const stored = partitionRows(db, partition.name);
  let mismatch: string | undefined;
  for await (const line of createInterface({ input: createReadStream(partial).pipe(createGunzip()), crlfDelay: Infinity })) {
    if (line.includes(`"format":"${ARCHIVE_FORMAT}"`)) continue;
    const next = await stored.next();
    if (next.done || JSON.stringify(lineOf(next.value)) !== line) {
      const event = JSON.parse(line) as EventLine;
      mismatch = `the file differs from the database at ${event.writerId}#${event.seq}`;
      break;
    }
  }
  if (!mismatch && !(await stored.next()).done) mismatch = 'the database holds events the file lacks';
  if (mismatch) throw new ArchiveRefused(`${partial}: ${mismatch}; the partition stays`);
  const fileSha256 = await sha256OfFile(partial);
  await rename(partial, file);

  await db.transaction(async (trx) => {
    await trx('audit_archives').insert({
      partition: partition.name,
      range_from: partition.from,
      range_to: partition.to,
      events,
      file_name: fileName,
      file_sha256: fileSha256,
      segments: JSON.stringify(trailer.segments),
    });
    // Not CONCURRENTLY: the trail has a default partition. A moment's lock on audit_events.
    await trx.raw(`ALTER TABLE audit_events DETACH PARTITION ${partition.name}`);
    await trx.raw(`DROP TABLE ${partition.name}`);
  });
  return { partition: partition.name, file, events };
}

export interface WriterVerification {
  readonly writerId: string;
  readonly events: number;
  readonly intact: boolean;
  /** The first sequence number not covered, or not linked to the one before. */
  readonly brokenAt?: number;
}

export interface ArchiveVerification {
  readonly ok: boolean;
  readonly files: { partition: string; file: string; ok: boolean; problem?: string }[];
  readonly chains: WriterVerification[];
  /** Each signed head asked about, found in a file or a live partition (src/audit/chain-heads.ts). */
  readonly heads: HeadCheck[];
}

/**
 * Every writer's chain across the archive files (as the catalogue lists them, in `dir`) and the live
 * partitions: each file whole and signed, each event matching its hash, and every chain covered from
 * its genesis to its head without a gap or a broken link.
 */
export async function verifyWithArchives(db: Database, options: { dir: string; key: Buffer; heads?: readonly ChainHead[] }): Promise<ArchiveVerification> {
  const wanted = new Map((options.heads ?? []).map((head) => [`${head.writerId}#${head.seq}`, head]));
  const seen = new Map<string, string>();
  const note = (event: { writerId: string; seq: number; hash: string }) => {
    const at = `${event.writerId}#${event.seq}`;
    if (wanted.has(at)) seen.set(at, event.hash);
  };
  const catalogue = await db('audit_archives').select<{ partition: string; file_name: string; file_sha256: string; events: string; segments: ChainSegment[] }[]>('*').orderBy('range_from');
  const files: ArchiveVerification['files'] = [];
  const segments: ChainSegment[] = [];
  const editedAt = new Map<string, number>();
  for (const entry of catalogue) {
    const file = path.join(options.dir, entry.file_name);
    if (!(await stat(file).then((info) => info.isFile(), () => false))) {
      files.push({ partition: entry.partition, file, ok: false, problem: 'MISSING: the archive file is not there' });
      continue;
    }
    const check = await readArchiveFile(file, options.key, (event) => {
      if (!selfConsistent(event) && !editedAt.has(event.writerId)) editedAt.set(event.writerId, event.seq);
      note(event);
    });
    const sha = await sha256OfFile(file);
    const problem = !check.ok ? check.problem : sha !== entry.file_sha256 ? 'the file is not the one archived (its SHA-256 differs)' : undefined;
    files.push({ partition: entry.partition, file, ok: problem === undefined, ...(problem !== undefined && { problem }) });
    // An altered file's segments still count as far as they link: the chains say where.
    segments.push(...check.segments);
  }

  // The live partitions, writer by writer in seq order.
  const builder = new SegmentBuilder();
  let after: { writer: string; seq: string } | undefined;
  for (;;) {
    let query = db<AuditEventRow>('audit_events').select('*').orderBy([{ column: 'writer_id' }, { column: 'seq' }]).limit(5000);
    if (after) query = query.whereRaw('(writer_id, seq) > (?, ?)', [after.writer, after.seq]);
    const rows = await query;
    for (const row of rows) {
      const line = lineOf(row);
      if (!selfConsistent(line) && !editedAt.has(line.writerId)) editedAt.set(line.writerId, line.seq);
      note(line);
      builder.add(line);
    }
    if (rows.length < 5000) break;
    after = { writer: rows.at(-1)!.writer_id, seq: String(rows.at(-1)!.seq) };
  }
  segments.push(...builder.finish());

  const byWriter = new Map<string, ChainSegment[]>();
  for (const segment of segments) byWriter.set(segment.writerId, [...(byWriter.get(segment.writerId) ?? []), segment]);
  const chains: WriterVerification[] = [];
  for (const [writerId, runs] of [...byWriter.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    runs.sort((a, b) => a.firstSeq - b.firstSeq);
    let seq = 0;
    let hash = GENESIS;
    let brokenAt: number | undefined;
    let events = 0;
    for (const run of runs) {
      events += run.events;
      if (brokenAt === undefined && (run.firstSeq !== seq + 1 || run.firstPrevHash !== hash)) brokenAt = Math.min(run.firstSeq, seq + 1);
      seq = Math.max(seq, run.lastSeq);
      hash = run.lastHash;
    }
    const edited = editedAt.get(writerId);
    if (edited !== undefined && (brokenAt === undefined || edited < brokenAt)) brokenAt = edited;
    chains.push({ writerId, events, intact: brokenAt === undefined, ...(brokenAt !== undefined && { brokenAt }) });
  }
  const heads: HeadCheck[] = [...wanted.values()].map((head) => {
    const hash = seen.get(`${head.writerId}#${head.seq}`);
    return { writerId: head.writerId, seq: head.seq, outcome: hash === undefined ? 'missing' : hash === head.hash ? 'present' : 'mismatch' };
  });
  return {
    ok: files.every((file) => file.ok) && chains.every((chain) => chain.intact) && heads.every((head) => head.outcome === 'present'),
    files,
    chains,
    heads,
  };
}
