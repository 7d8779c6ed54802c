// Messages to citizens, delivered reliably and after the answer: each message is one durable row in
// PostgreSQL, written before the request answers (one INSERT, whatever it sends); a worker in every
// instance claims due rows (SKIP LOCKED, so instances share the work), carries them through the outbox
// or SMTP and the SMS gateway, and retries with back-off until the message has no more use. The queue
// and worker are src/storage/durable-queue.ts's, like the back-channel logout queue's.
import { randomUUID } from 'node:crypto';
import type { Database } from '../storage/database.ts';
import { DurableQueue, DurableQueueWorker, exponentialBackoff } from '../storage/durable-queue.ts';
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

/** A security notice is worth sending for a day; a code only for its own life. */
const DEFAULT_VALID_FOR_SECONDS = 24 * 60 * 60;
const MAX_ERROR_LENGTH = 500;

/** The wait before the next attempt after `attempts` failed ones: 2 s, 4 s, 8 s … at most 5 minutes. */
export const retryDelayMs = exponentialBackoff(2_000, 5 * 60 * 1000);

/** The queue's table; what services send through (it is the container's Notifier). */
export class NotificationQueue extends DurableQueue<NotificationRow> implements Notifier {
  constructor(db: Database) {
    super(db, {
      table: 'notifications',
      columns: ['id', 'idempotency_key', 'channel', 'destination', 'subject', 'body', 'allowance', 'attempts', 'expires_at'],
      retryDelayMs,
      deadlineOf: (row) => row.expires_at,
      // Delivered or given up, the body (a code, perhaps) is erased: it has no further use here.
      erasedWhenDone: { body: '' },
      maxErrorLength: MAX_ERROR_LENGTH,
    });
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
    await this.db.raw(
      `INSERT INTO notifications (idempotency_key, channel, destination, subject, body, allowance, expires_at)
       SELECT m.key, m.channel, m.destination, m.subject, m.body, m.allowance, now() + make_interval(secs => m.valid_for)
         FROM jsonb_to_recordset(?::jsonb)
           AS m(key uuid, channel text, destination text, subject text, body text, allowance text, valid_for integer),
         (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed`,
      [JSON.stringify(rows)],
    );
    if (rows.length > 0) this.enqueued();
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

/** Delivers queued messages every couple of seconds, and right after the answer that queued them. */
export class NotificationWorker extends DurableQueueWorker<NotificationRow> {
  readonly #options: NotificationWorkerOptions;
  readonly #logger: Logger;

  constructor(options: NotificationWorkerOptions) {
    const logger = options.logger.child({ component: 'notifications' });
    super({
      queue: options.queue,
      logger,
      what: 'notification',
      intervalMs: options.intervalMs ?? 2_000,
      batchSize: options.concurrency ?? 10,
      wakeAfterAnswer: true,
    });
    this.#options = options;
    this.#logger = logger;
  }

  protected async deliver(row: NotificationRow): Promise<void> {
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
    const next = await queue.failed(row, failure);
    if (!next) {
      metrics?.notificationDelivery('gave_up');
      this.#logger.warn({ ...about, error: failure }, 'a message to a citizen was given up: it would expire before the next attempt');
      return;
    }
    metrics?.notificationDelivery('retry');
    this.#logger.info({ ...about, error: failure, retryAt: next }, 'a message to a citizen could not be delivered; will retry');
  }
}
