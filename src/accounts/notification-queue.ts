// Messages to citizens, delivered reliably and after the answer: each message is one durable row in
// PostgreSQL, written before the request answers (one INSERT, whatever it sends); a worker in every
// instance claims due rows (SKIP LOCKED, so instances share the work), carries them through the outbox
// or SMTP and the SMS gateway, and retries with back-off until the message has no more use. The shape
// is the back-channel logout queue's (src/oidc/sessions/backchannel-logout.ts).
import { randomUUID } from 'node:crypto';
import type { Database } from '../storage/database.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Carrier, Channel, Notifier, QueuedMessage } from './notifier.ts';

interface NotificationRow {
  id: string;
  idempotency_key: string;
  channel: Channel;
  destination: string;
  subject: string;
  body: string;
  allowance: 'register' | 'reset' | null;
  attempts: number;
  expires_at: Date;
}

const TABLE = 'notifications';
/** A security notice is worth sending for a day; a code only for its own life. */
const DEFAULT_VALID_FOR_SECONDS = 24 * 60 * 60;
const FIRST_RETRY_MS = 2_000;
const LONGEST_RETRY_MS = 5 * 60 * 1000;
/** A claimed row is left alone this long (the carriers give up within 10 s); if its worker died, another takes it. */
const CLAIM_LEASE_SECONDS = 60;
const MAX_ERROR_LENGTH = 500;

/** The wait before the next attempt after `attempts` failed ones: 2 s, 4 s, 8 s … at most 5 minutes. */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), LONGEST_RETRY_MS);
}

/** The queue's table; what services send through (it is the container's Notifier). */
export class NotificationQueue implements Notifier {
  readonly #db: Database;
  readonly #listeners: (() => void)[] = [];

  constructor(db: Database) {
    this.#db = db;
  }

  /** Called after each enqueue (the local worker delivers at once instead of at its next tick). */
  onEnqueued(listener: () => void): void {
    this.#listeners.push(listener);
  }

  send(message: QueuedMessage): Promise<void> {
    return this.enqueue([message]);
  }

  /**
   * One INSERT for all the messages. An empty list makes the same round trip, inserting nothing: a
   * request that sends no code must cost what one that sends a code costs (/register, /reset). For
   * the same reason the row's commit does not wait for the disk (synchronous_commit off, for this
   * statement only): a flush is milliseconds an empty INSERT never pays. The row survives this
   * process; only a crash of PostgreSQL itself within a fraction of a second could lose it, and then
   * the citizen asks for the code again.
   */
  async enqueue(messages: readonly QueuedMessage[]): Promise<void> {
    const rows = messages.map((message) => ({
      key: randomUUID(),
      channel: message.channel,
      destination: message.destination,
      subject: message.subject,
      body: message.body,
      allowance: message.allowance ?? null,
      valid_for: message.validForSeconds ?? DEFAULT_VALID_FOR_SECONDS,
    }));
    await this.#db.raw(
      `INSERT INTO ${TABLE} (idempotency_key, channel, destination, subject, body, allowance, expires_at)
       SELECT m.key, m.channel, m.destination, m.subject, m.body, m.allowance, now() + make_interval(secs => m.valid_for)
         FROM jsonb_to_recordset(?::jsonb)
           AS m(key uuid, channel text, destination text, subject text, body text, allowance text, valid_for integer),
         (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed`,
      [JSON.stringify(rows)],
    );
    if (rows.length > 0) for (const listener of this.#listeners) listener();
  }

  /** Claims up to `limit` due rows for this worker: each counts an attempt and is leased for a minute. */
  async claimDue(limit: number): Promise<NotificationRow[]> {
    const result = await this.#db.raw<{ rows: NotificationRow[] }>(
      `UPDATE ${TABLE} SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
        WHERE id IN (
          SELECT id FROM ${TABLE}
           WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= now()
           ORDER BY next_attempt_at
           LIMIT ?
           FOR UPDATE SKIP LOCKED)
        RETURNING id, idempotency_key, channel, destination, subject, body, allowance, attempts, expires_at`,
      [CLAIM_LEASE_SECONDS, limit],
    );
    return result.rows;
  }

  /** Messages neither delivered nor given up, and the age of the oldest in seconds (metrics). */
  async backlog(): Promise<{ pending: number; oldestSeconds: number }> {
    const row = await this.#db(TABLE)
      .whereNull('delivered_at')
      .whereNull('gave_up_at')
      .first<{ pending: string | number; oldest: string | number | null }>(
        this.#db.raw('count(*) AS pending'),
        this.#db.raw('extract(epoch FROM now() - min(created_at)) AS oldest'),
      );
    return { pending: Number(row?.pending ?? 0), oldestSeconds: Math.max(0, Number(row?.oldest ?? 0)) };
  }

  // Delivered or given up, the body (a code, perhaps) is erased: it has no further use here.
  async markDelivered(id: string): Promise<void> {
    await this.#db(TABLE).where({ id }).update({ delivered_at: this.#db.fn.now(), body: '', last_error: null });
  }

  async retryAt(id: string, at: Date, error: string): Promise<void> {
    await this.#db(TABLE).where({ id }).update({ next_attempt_at: at, last_error: error.slice(0, MAX_ERROR_LENGTH) });
  }

  async giveUp(id: string, error: string): Promise<void> {
    await this.#db(TABLE).where({ id }).update({ gave_up_at: this.#db.fn.now(), body: '', last_error: error.slice(0, MAX_ERROR_LENGTH) });
  }
}

export type NotificationOutcome = 'delivered' | 'retry' | 'gave_up' | 'withheld';

export interface NotificationWorkerOptions {
  readonly queue: NotificationQueue;
  readonly carrier: Carrier;
  /**
   * Counts one message against its destination's hourly allowance; false when over it (the message is
   * withheld, silently: the request that queued it answered the same either way).
   */
  readonly allowance: (name: 'register' | 'reset', destination: string) => Promise<boolean>;
  readonly logger: Logger;
  readonly intervalMs?: number;
  /** At most this many messages are in flight at once, per instance. */
  readonly concurrency?: number;
  readonly metrics?: Pick<Metrics, 'notificationDelivery'>;
}

/** Delivers queued messages every couple of seconds, and at once after a local enqueue. */
export class NotificationWorker {
  readonly #options: NotificationWorkerOptions;
  readonly #logger: Logger;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  /** A round asked for by a local enqueue, to start once the current request has answered. */
  #soon: Promise<void> | undefined;

  constructor(options: NotificationWorkerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'notifications' });
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.wake(), this.#options.intervalMs ?? 2_000);
    this.#timer.unref();
    this.#options.queue.onEnqueued(() => this.#wakeAfterAnswer());
  }

  // setImmediate runs once the current turn of the event loop, the answer's own work, is done: the
  // delivery does not share the request's time.
  #wakeAfterAnswer(): void {
    this.#soon ??= new Promise((resolve) =>
      setImmediate(() => {
        this.#soon = undefined;
        this.wake();
        resolve();
      }),
    );
  }

  /** Runs a round now, or right after the one in progress. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#deliverDue()
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'notification round failed; will retry'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Resolves once no round is running: what was due when it was called has been tried. */
  async settled(): Promise<void> {
    while (this.#soon ?? this.#running) await (this.#soon ?? this.#running);
  }

  /** Stops the timer and waits for the round in progress (what it did not reach is delivered later, here or elsewhere). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopped = true;
    await this.settled();
  }

  async #deliverDue(): Promise<void> {
    const concurrency = this.#options.concurrency ?? 10;
    for (;;) {
      const rows = await this.#options.queue.claimDue(concurrency);
      await Promise.all(rows.map((row) => this.#deliver(row)));
      if (rows.length < concurrency || this.#stopped) return;
    }
  }

  async #deliver(row: NotificationRow): Promise<void> {
    const { queue, carrier, metrics } = this.#options;
    // Never the destination nor the body in a log line: the id and the channel say which message.
    const about = { notification: row.id, channel: row.channel, attempts: row.attempts };
    if (row.expires_at.getTime() <= Date.now()) {
      await queue.giveUp(row.id, 'expired before it could be delivered');
      metrics?.notificationDelivery('gave_up');
      this.#logger.warn(about, 'a message to a citizen expired undelivered');
      return;
    }
    let failure: string;
    try {
      // The allowance counts a message once, at its first attempt, not at each retry.
      if (row.allowance !== null && row.attempts === 1 && !(await this.#options.allowance(row.allowance, row.destination))) {
        await queue.giveUp(row.id, 'withheld: the destination is over its hourly allowance');
        metrics?.notificationDelivery('withheld');
        this.#logger.info({ ...about, allowance: row.allowance }, 'a message was withheld: its destination is over its hourly allowance');
        return;
      }
      await carrier({ channel: row.channel, destination: row.destination, subject: row.subject, body: row.body }, row.idempotency_key);
      await queue.markDelivered(row.id);
      metrics?.notificationDelivery('delivered');
      return;
    } catch (error) {
      // A mail server's refusal may quote the address: kept out of the row and the logs.
      failure = (error instanceof Error ? error.message : String(error)).replaceAll(row.destination, '<destination>');
    }
    const next = new Date(Date.now() + retryDelayMs(row.attempts));
    if (next.getTime() > row.expires_at.getTime()) {
      await queue.giveUp(row.id, failure);
      metrics?.notificationDelivery('gave_up');
      this.#logger.warn({ ...about, error: failure }, 'a message to a citizen was given up: it would expire before the next attempt');
      return;
    }
    await queue.retryAt(row.id, next, failure);
    metrics?.notificationDelivery('retry');
    this.#logger.info({ ...about, error: failure, retryAt: next }, 'a message to a citizen could not be delivered; will retry');
  }
}
