// Reading the audit trail (docs/administration.md "Audit trail"): a query by actor, account, client, type and time,
// newest first, in pages that go on from the last event seen (keyset on the event id, so a page costs
// the same on the millionth event as on the first); and an export of the same filters, oldest first, as
// NDJSON, read in batches so it streams whatever its size.
import { z } from 'zod';
import type { Database } from '../storage/database.ts';
import type { AuditEventType } from './audit-log.ts';

export interface AuditFilter {
  readonly actor?: string | undefined;
  readonly accountId?: string | undefined;
  readonly clientId?: string | undefined;
  readonly types?: readonly string[] | undefined;
  /** Inclusive. */
  readonly from?: Date | undefined;
  /** Exclusive. */
  readonly to?: Date | undefined;
}

export interface AuditTrailEvent {
  /** The event's place in the table: the paging cursor. */
  readonly id: string;
  readonly writerId: string;
  readonly seq: number;
  readonly occurredAt: Date;
  readonly type: AuditEventType;
  readonly actor: string | null;
  readonly accountId: string | null;
  readonly clientId: string | null;
  readonly data: Record<string, unknown>;
  readonly prevHash: string;
  readonly hash: string;
}

/** An audit_events row as PostgreSQL returns it (the archive reads the same rows: src/audit/archive.ts). */
export interface AuditEventRow {
  id: string;
  writer_id: string;
  seq: string;
  occurred_at: Date;
  type: AuditEventType;
  actor: string | null;
  account_id: string | null;
  client_id: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export const auditEventOf = (row: AuditEventRow): AuditTrailEvent => ({
  id: String(row.id),
  writerId: row.writer_id,
  seq: Number(row.seq),
  occurredAt: row.occurred_at,
  type: row.type,
  actor: row.actor,
  accountId: row.account_id,
  clientId: row.client_id,
  data: row.data,
  prevHash: row.prev_hash,
  hash: row.hash,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A filter as it arrives from outside (query string, command line), checked. */
export const auditFilterSchema = z
  .object({
    actor: z.string().min(1).max(300).optional(),
    accountId: z.string().regex(UUID, 'expected an account id (a UUID)').optional(),
    clientId: z.string().min(1).max(300).optional(),
    type: z
      .union([z.string(), z.array(z.string())])
      .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((item) => item.trim()).filter((item) => item !== ''))
      .pipe(z.array(z.string().regex(/^[a-z0-9_.]{1,64}$/, 'expected event types such as admin.action')).max(20))
      .optional(),
    from: z.coerce.date({ error: 'expected an ISO 8601 date or time' }).optional(),
    to: z.coerce.date({ error: 'expected an ISO 8601 date or time' }).optional(),
  })
  .refine((filter) => filter.from === undefined || filter.to === undefined || filter.from < filter.to, {
    path: ['to'],
    message: 'expected to after from',
  });

export function filterOf(parsed: z.output<typeof auditFilterSchema>): AuditFilter {
  return { actor: parsed.actor, accountId: parsed.accountId, clientId: parsed.clientId, types: parsed.type, from: parsed.from, to: parsed.to };
}

export const MAX_PAGE_SIZE = 500;

export class AuditTrail {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  #filtered(filter: AuditFilter) {
    let query = this.#db<AuditEventRow>('audit_events');
    if (filter.actor !== undefined) query = query.where({ actor: filter.actor });
    if (filter.accountId !== undefined) query = query.where({ account_id: filter.accountId });
    if (filter.clientId !== undefined) query = query.where({ client_id: filter.clientId });
    if (filter.types !== undefined && filter.types.length > 0) query = query.whereIn('type', [...filter.types]);
    if (filter.from !== undefined) query = query.where('occurred_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('occurred_at', '<', filter.to);
    return query;
  }

  /** One page, newest first; `before` is the previous page's `next`. */
  async query(filter: AuditFilter, page: { limit: number; before?: string | undefined }): Promise<{ events: AuditTrailEvent[]; next?: string }> {
    const limit = Math.min(Math.max(Math.floor(page.limit), 1), MAX_PAGE_SIZE);
    let query = this.#filtered(filter).orderBy('id', 'desc').limit(limit + 1);
    if (page.before !== undefined) {
      if (!/^\d{1,19}$/.test(page.before)) throw new RangeError('the cursor is not one this query gave');
      query = query.where('id', '<', page.before);
    }
    const rows = await query;
    const events = rows.slice(0, limit).map(auditEventOf);
    return rows.length > limit ? { events, next: events.at(-1)!.id } : { events };
  }

  /** Every matching event, oldest first, read `batch` at a time. */
  async *events(filter: AuditFilter, batch = 1000): AsyncGenerator<AuditTrailEvent> {
    let after: string | undefined;
    for (;;) {
      let query = this.#filtered(filter).orderBy('id', 'asc').limit(batch);
      if (after !== undefined) query = query.where('id', '>', after);
      const rows = await query;
      for (const row of rows) yield auditEventOf(row);
      if (rows.length < batch) return;
      after = String(rows.at(-1)!.id);
    }
  }

  /** The export: one JSON object per line, with the hashes, so a reader can re-check the chains. */
  async *ndjson(filter: AuditFilter): AsyncGenerator<string> {
    for await (const event of this.events(filter)) yield `${JSON.stringify({ ...event, occurredAt: event.occurredAt.toISOString() })}\n`;
  }
}
