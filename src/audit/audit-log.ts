// The audit trail: append-only events in PostgreSQL. Each writer (one per process) keeps its own hash
// chain, so instances never serialise on one another; an edited, removed or reordered event breaks
// its writer's chain, and verifyChain() says where.
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../storage/database.ts';
import { archivedChainStart } from './partitions.ts';

export type AuditEventType =
  | 'signin.succeeded'
  | 'signin.failed'
  | 'signin.refused'
  | 'account.locked'
  | 'account.changed'
  | 'registration.requested'
  | 'registration.rate_limited'
  | 'registration.confirmation_failed'
  | 'registration.completed'
  | 'password_reset.requested'
  | 'password_reset.rate_limited'
  | 'password_reset.confirmation_failed'
  | 'password_reset.completed'
  | 'consent.given'
  | 'consent.withdrawn'
  | 'ciba.requested'
  | 'ciba.approved'
  | 'ciba.denied'
  | 'token.issued'
  | 'claims.released'
  | 'logout'
  | 'registry.changed'
  | 'admin.action'
  /** An admin API call refused: no or bad credentials, or a role or scope the caller lacks. */
  | 'admin.denied'
  /** A client registered, updated or deleted itself (RFC 7591/7592), or was refused (src/oidc/clients/dynamic-registration.ts). */
  | 'client.registration'
  /** A client's private_key_jwt assertion refused: wrong audience, too long a lifetime (src/oidc/clients/client-assertions.ts). */
  | 'client.assertion_refused'
  /** An organisation's eID account activated, an authorisation granted, revoked or declined (src/representation/organisation-accounts.ts). */
  | 'organisation.changed'
  /** A card's chip checked for a bank (src/chip/chip-results.ts): the result, its txn, the checks that failed. */
  | 'chip.verified'
  /** A token issued or refreshed while a citizen acts for an organisation or a child (src/oidc/consent/representation.ts). */
  | 'representation.used';

export interface AuditEvent {
  readonly type: AuditEventType;
  /** Who acted: an account id, an administrator, a client, or `system`. */
  readonly actor?: string;
  /** The citizen whom the event concerns (internal account UUID, never the ID number). */
  readonly accountId?: string;
  readonly clientId?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface RecordedAuditEvent extends AuditEvent {
  readonly writerId: string;
  readonly seq: number;
  readonly occurredAt: Date;
  readonly prevHash: string;
  readonly hash: string;
}

export interface ChainVerification {
  readonly writerId: string;
  readonly events: number;
  readonly intact: boolean;
  /** The first sequence number whose event does not match its hash or its predecessor. */
  readonly brokenAt?: number;
}

const GENESIS = 'genesis';

/** JSON with object keys sorted, so the hash does not depend on key order in jsonb. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, inner]) => inner !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
}

/** An event's hash over its predecessor's (exported for the tests that play an attacker re-chaining a trail). */
export function eventHash(prevHash: string, event: Omit<RecordedAuditEvent, 'hash' | 'prevHash'>): string {
  const body = canonical({
    writerId: event.writerId,
    seq: event.seq,
    occurredAt: event.occurredAt.toISOString(),
    type: event.type,
    actor: event.actor ?? null,
    accountId: event.accountId ?? null,
    clientId: event.clientId ?? null,
    data: event.data ?? {},
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

interface AuditRow {
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

function fromRow(row: AuditRow): RecordedAuditEvent {
  return {
    writerId: row.writer_id,
    seq: Number(row.seq),
    occurredAt: row.occurred_at,
    type: row.type,
    ...(row.actor !== null && { actor: row.actor }),
    ...(row.account_id !== null && { accountId: row.account_id }),
    ...(row.client_id !== null && { clientId: row.client_id }),
    data: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Events waiting to be written beyond this are refused at once: a stalled database must not eat memory. */
const MAX_PENDING = 10_000;
/** At most this many events go into one INSERT. */
const MAX_BATCH = 500;
/**
 * How long an event nobody waits for (recordLater) may wait for company: a stream of them — a token
 * issued per client-credentials grant — then shares one INSERT and one commit instead of a round trip
 * each, which under load cost more than the grant itself (issue 9). An event someone waits for sends
 * the queue at once.
 */
const LINGER_MS = 20;
/**
 * Batches of up to this many rows are prepared statements, one per size on each connection: parsed
 * and planned once instead of at every insert (issue 19; see src/oidc/models/durable-model-store.ts
 * `prepared`). Larger batches are rare (a backlog) and not worth a plan kept per size.
 */
const PREPARED_BATCHES = 64;

interface PendingEvent {
  readonly event: AuditEvent;
  readonly occurredAt: Date;
  resolve(recorded: RecordedAuditEvent): void;
  reject(error: unknown): void;
}

/** The database cannot keep up: the event was not recorded (nor is anything that depends on it done). */
export class AuditBacklogFull extends Error {
  override readonly name = 'AuditBacklogFull';
}

export class AuditLog {
  readonly writerId: string;
  readonly #db: Database;
  readonly #clock: () => Date;
  #seq = 0;
  #head = GENESIS;
  /**
   * Appends from one process go out in order, so the chain has no forks: while one batch is being
   * written the next events wait, and then go together in one INSERT (one round trip instead of one
   * each, which is what kept the audit log behind under load).
   */
  #pending: PendingEvent[] = [];
  #writing: Promise<void> | undefined;
  /** Set while only events nobody waits for are queued: when they go. */
  #lingering: NodeJS.Timeout | undefined;

  /** `clock` stamps the events (tests back-date them to check retention). */
  constructor(db: Database, writerId = `${hostname()}:${process.pid}:${randomUUID()}`, clock: () => Date = () => new Date()) {
    this.#db = db;
    this.writerId = writerId;
    this.#clock = clock;
  }

  /** Appends one event to this writer's chain and resolves once it is stored. */
  record(event: AuditEvent): Promise<RecordedAuditEvent> {
    return this.#append(event, true);
  }

  /**
   * Appends an event that nothing waits for (the answer it belongs to has gone already): it is written
   * with the next batch, at most LINGER_MS from now. Resolves, like record(), once it is stored.
   */
  recordLater(event: AuditEvent): Promise<RecordedAuditEvent> {
    return this.#append(event, false);
  }

  #append(event: AuditEvent, now: boolean): Promise<RecordedAuditEvent> {
    if (this.#pending.length >= MAX_PENDING) {
      return Promise.reject(new AuditBacklogFull(`${MAX_PENDING} audit events are waiting for the database; this one was refused`));
    }
    return new Promise<RecordedAuditEvent>((resolve, reject) => {
      this.#pending.push({ event, occurredAt: this.#clock(), resolve, reject });
      if (this.#writing) return;
      if (now || this.#pending.length >= MAX_BATCH) this.#send();
      // Not kept alive for it: at shutdown, flush() sends what is left.
      else this.#lingering ??= setTimeout(() => this.#send(), LINGER_MS).unref();
    });
  }

  #send(): void {
    clearTimeout(this.#lingering);
    this.#lingering = undefined;
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) await this.#writeBatch(this.#pending.splice(0, MAX_BATCH));
    } finally {
      this.#writing = undefined;
    }
  }

  /**
   * Chains and inserts a batch. A refused event is not stored and the chain's head stays where it was,
   * so the next event links to the last one stored.
   */
  async #writeBatch(batch: PendingEvent[]): Promise<void> {
    let head = this.#head;
    let seq = this.#seq;
    const recorded: RecordedAuditEvent[] = batch.map(({ event, occurredAt }) => {
      const unhashed = {
        ...event,
        // Hash the data as jsonb will give it back (Dates become strings, undefined goes), or a
        // verification would see a broken chain where nothing was touched.
        data: JSON.parse(JSON.stringify(event.data ?? {})) as Record<string, unknown>,
        writerId: this.writerId,
        seq: (seq += 1),
        occurredAt,
      };
      const hash = eventHash(head, unhashed);
      const entry = { ...unhashed, prevHash: head, hash };
      head = hash;
      return entry;
    });
    try {
      await this.#db('audit_events').insert(
        recorded.map((entry) => ({
          writer_id: entry.writerId,
          seq: entry.seq,
          occurred_at: entry.occurredAt,
          type: entry.type,
          actor: entry.actor ?? null,
          account_id: entry.accountId ?? null,
          client_id: entry.clientId ?? null,
          data: JSON.stringify(entry.data),
          prev_hash: entry.prevHash,
          hash: entry.hash,
        })),
      ).options(recorded.length <= PREPARED_BATCHES ? { name: `cidp-audit-insert-${recorded.length}` } : {});
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One refused row fails the whole INSERT: write them one at a time, so only that one is refused.
      for (const pending of batch) await this.#writeBatch([pending]);
      return;
    }
    this.#seq = seq;
    this.#head = head;
    batch.forEach((pending, index) => pending.resolve(recorded[index]!));
  }

  /**
   * Recomputes a writer's chain from its first event — or, when its first months are archived, from
   * the end of the archived part as the catalogue records it (src/audit/archive.ts checks the files).
   */
  async verifyChain(writerId: string): Promise<ChainVerification> {
    const start = await archivedChainStart(this.#db, writerId);
    const rows = await this.#db<AuditRow>('audit_events')
      .where({ writer_id: writerId })
      .where('seq', '>', start?.seq ?? 0)
      .orderBy('seq', 'asc');
    let prevHash = start?.hash ?? GENESIS;
    let expectedSeq = (start?.seq ?? 0) + 1;
    for (const row of rows) {
      const event = fromRow(row);
      const { hash, prevHash: storedPrev, ...unhashed } = event;
      if (event.seq !== expectedSeq || storedPrev !== prevHash || eventHash(prevHash, unhashed) !== hash) {
        return { writerId, events: rows.length, intact: false, brokenAt: event.seq };
      }
      prevHash = hash;
      expectedSeq += 1;
    }
    return { writerId, events: rows.length, intact: true };
  }

  /** Every writer that has ever written, for a full verification. */
  async writers(): Promise<string[]> {
    const rows = await this.#db('audit_events').distinct('writer_id');
    return rows.map((row: { writer_id: string }) => row.writer_id);
  }

  /** Events about one citizen, newest first: the base of their data-access history. */
  async eventsForAccount(accountId: string, limit = 100): Promise<RecordedAuditEvent[]> {
    const rows = await this.#db<AuditRow>('audit_events')
      .where({ account_id: accountId })
      // id breaks ties between events of the same millisecond, in the order they were stored.
      .orderBy([
        { column: 'occurred_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit);
    return rows.map(fromRow);
  }

  /** Resolves when every event recorded so far is stored (used at shutdown). */
  async flush(): Promise<void> {
    if (this.#pending.length > 0) this.#send();
    while (this.#writing) await this.#writing;
  }
}
