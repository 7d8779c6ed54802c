// The audit trail's monthly partitions (migration 025, docs/operations.md "Audit partitions and archives"):
// created ahead by the provider, so an event never waits for one, and listed for the archive. An event
// outside every month's partition (a clock far off) lands in the default partition, which is never
// archived.
import type { Database } from '../storage/database.ts';

/** Months created ahead of the current one. */
export const MONTHS_AHEAD = 3;

export interface AuditPartition {
  readonly name: string;
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
}

/** The first instant of the month `offset` months from `date`'s (UTC). */
export function monthStart(date: Date, offset = 0): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
}

/** `audit_events_y2026m12`: the partition of the month starting at `start`. */
export function partitionName(start: Date): string {
  return `audit_events_y${start.getUTCFullYear()}m${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The monthly partitions of audit_events, oldest first (the default partition is not one). */
export async function listPartitions(db: Database): Promise<AuditPartition[]> {
  const { rows } = await db.raw<{ rows: { name: string; bound: string }[] }>(`
    SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = 'audit_events' AND p.relnamespace = current_schema()::regnamespace`);
  const partitions: AuditPartition[] = [];
  for (const row of rows) {
    const match = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(row.bound);
    if (!match) continue;
    partitions.push({ name: row.name, from: new Date(match[1]!), to: new Date(match[2]!) });
  }
  return partitions.sort((a, b) => a.from.getTime() - b.from.getTime());
}

/**
 * Creates the partitions of this month and the next MONTHS_AHEAD that are missing; returns their names.
 * A month whose events already sit in the default partition (written with a clock far ahead) is left
 * to the default partition: creating it would have to move them.
 */
export async function createPartitionsAhead(db: Database, now = new Date()): Promise<string[]> {
  const existing = new Set((await listPartitions(db)).map((partition) => partition.name));
  const created: string[] = [];
  for (let offset = 0; offset <= MONTHS_AHEAD; offset += 1) {
    const from = monthStart(now, offset);
    const name = partitionName(from);
    if (existing.has(name)) continue;
    const to = monthStart(now, offset + 1);
    try {
      // DDL takes no bind parameters: the name and the bounds are made here from dates.
      await db.raw(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF audit_events FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
      created.push(name);
    } catch (error) {
      // 23514: rows of that month in the default partition; 42P07: another instance created it just now.
      const code = (error as { code?: string }).code;
      if (code !== '23514' && code !== '42P07') throw error;
    }
  }
  return created;
}

/** Creates partitions ahead now and then once a day; stop() ends it. */
export function schedulePartitions(db: Database, onError: (error: unknown) => void, everyMs = 24 * 3600 * 1000): { stop(): void; ready: Promise<void> } {
  const run = () => createPartitionsAhead(db).then(() => undefined, onError);
  const ready = run();
  const timer = setInterval(() => void run(), everyMs).unref();
  return { stop: () => clearInterval(timer), ready };
}

export interface ArchivedChainStart {
  readonly seq: number;
  readonly hash: string;
}

/** Where a writer's live chain goes on from, by the archive catalogue (undefined: from the genesis). */
export async function archivedChainStart(db: Database, writerId: string): Promise<ArchivedChainStart | undefined> {
  const { rows: catalogue } = await db.raw<{ rows: { present: boolean }[] }>(`SELECT to_regclass('audit_archives') IS NOT NULL AS present`);
  if (!catalogue[0]?.present) return undefined;
  const { rows } = await db.raw<{ rows: { seq: string; hash: string }[] }>(
    `SELECT s->>'lastSeq' AS seq, s->>'lastHash' AS hash
       FROM audit_archives, jsonb_array_elements(segments) s
      WHERE s->>'writerId' = ?
      ORDER BY (s->>'lastSeq')::bigint DESC LIMIT 1`,
    [writerId],
  );
  return rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : undefined;
}
