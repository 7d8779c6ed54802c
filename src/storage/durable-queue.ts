// A durable work queue in one PostgreSQL table, and the worker that drains it: rows are claimed with
// FOR UPDATE SKIP LOCKED (so every instance shares the work), leased while in flight, and retried with
// back-off until their deadline. The notification queue and the back-channel logout queue are two.
import type { Database } from './database.ts';
import type { Logger } from '../observability/logger.ts';

/** What every queue row carries besides its own columns. */
export interface QueuedRow {
  readonly id: string;
  /** Attempts so far, this one included (the claim counts it). */
  readonly attempts: number;
}

/** The wait before the next attempt after `attempts` failed ones: `firstMs`, doubling, at most `longestMs`. */
export function exponentialBackoff(firstMs: number, longestMs: number): (attempts: number) => number {
  return (attempts) => Math.min(firstMs * 2 ** Math.max(0, attempts - 1), longestMs);
}

/** A claimed row is left alone this long; if its worker died meanwhile, another one takes it. */
const CLAIM_LEASE_SECONDS = 60;

export interface DurableQueueShape<Row extends QueuedRow> {
  /** Its columns include id, attempts, next_attempt_at, delivered_at, gave_up_at, last_error, created_at. */
  readonly table: string;
  /** What a claim returns, in this order. */
  readonly columns: readonly (keyof Row & string)[];
  readonly retryDelayMs: (attempts: number) => number;
  /** No attempt is scheduled after this. */
  readonly deadlineOf: (row: Row) => Date;
  /** Columns set once a row is delivered or given up (what has no further use). */
  readonly erasedWhenDone?: Readonly<Record<string, unknown>>;
  /** The recorded error is cut to this length. */
  readonly maxErrorLength?: number;
}

/** The queue's table: claiming, the backlog and the outcome of each attempt. Enqueueing is the subclass's. */
export class DurableQueue<Row extends QueuedRow> {
  protected readonly db: Database;
  readonly #shape: DurableQueueShape<Row>;
  readonly #listeners: (() => void)[] = [];

  constructor(db: Database, shape: DurableQueueShape<Row>) {
    this.db = db;
    this.#shape = shape;
  }

  /** Called after each enqueue (the local worker delivers at once instead of at its next tick). */
  onEnqueued(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** For the subclass, after it has inserted rows. */
  protected enqueued(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Claims up to `limit` due rows for this worker: each counts an attempt and is leased for a minute. */
  async claimDue(limit: number): Promise<Row[]> {
    const { table, columns } = this.#shape;
    const result = await this.db.raw<{ rows: Row[] }>(
      `UPDATE ${table} SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
        WHERE id IN (
          SELECT id FROM ${table}
           WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= now()
           ORDER BY next_attempt_at
           LIMIT ?
           FOR UPDATE SKIP LOCKED)
        RETURNING ${columns.join(', ')}`,
      [CLAIM_LEASE_SECONDS, limit],
    );
    return result.rows;
  }

  /** Rows neither delivered nor given up, and the age of the oldest in seconds (metrics). */
  async backlog(): Promise<{ pending: number; oldestSeconds: number }> {
    const row = await this.db(this.#shape.table)
      .whereNull('delivered_at')
      .whereNull('gave_up_at')
      .first<{ pending: string | number; oldest: string | number | null }>(
        this.db.raw('count(*) AS pending'),
        this.db.raw('extract(epoch FROM now() - min(created_at)) AS oldest'),
      );
    return { pending: Number(row?.pending ?? 0), oldestSeconds: Math.max(0, Number(row?.oldest ?? 0)) };
  }

  async markDelivered(id: string): Promise<void> {
    await this.db(this.#shape.table)
      .where({ id })
      .update({ delivered_at: this.db.fn.now(), ...this.#shape.erasedWhenDone, last_error: null });
  }

  async retryAt(id: string, at: Date, error: string): Promise<void> {
    await this.db(this.#shape.table).where({ id }).update({ next_attempt_at: at, last_error: this.#error(error) });
  }

  async giveUp(id: string, error: string): Promise<void> {
    await this.db(this.#shape.table)
      .where({ id })
      .update({ gave_up_at: this.db.fn.now(), ...this.#shape.erasedWhenDone, last_error: this.#error(error) });
  }

  /**
   * After a failed attempt: the row is retried after its back-off (the time is returned), or given up
   * (undefined) when that would come after its deadline.
   */
  async failed(row: Row, error: string): Promise<Date | undefined> {
    const next = new Date(Date.now() + this.#shape.retryDelayMs(row.attempts));
    if (next.getTime() > this.#shape.deadlineOf(row).getTime()) {
      await this.giveUp(row.id, error);
      return undefined;
    }
    await this.retryAt(row.id, next, error);
    return next;
  }

  #error(error: string): string {
    return this.#shape.maxErrorLength === undefined ? error : error.slice(0, this.#shape.maxErrorLength);
  }
}

export interface DurableQueueWorkerOptions<Row extends QueuedRow> {
  readonly queue: Pick<DurableQueue<Row>, 'claimDue' | 'onEnqueued'>;
  readonly logger: Logger;
  /** Named in the log line of a failed round: "<what> round failed; will retry". */
  readonly what: string;
  readonly intervalMs: number;
  /** Rows claimed at once: at most this many are in flight, per instance. */
  readonly batchSize: number;
  /**
   * After a local enqueue, a round starts once the current turn of the event loop (the request's
   * answer) is done, rather than at once: the delivery does not share the request's time.
   */
  readonly wakeAfterAnswer?: boolean;
}

/** Drains a queue every `intervalMs`, and after a local enqueue; `deliver` carries one claimed row. */
export abstract class DurableQueueWorker<Row extends QueuedRow> {
  readonly #options: DurableQueueWorkerOptions<Row>;
  /** Aborted by stop(): no new round starts, and a delivery may cut itself short. */
  protected readonly stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  /** A round asked for by a local enqueue, to start once the current request has answered. */
  #soon: Promise<void> | undefined;

  constructor(options: DurableQueueWorkerOptions<Row>) {
    this.#options = options;
  }

  /** One attempt at one claimed row: records its outcome in the queue (delivered, retry, given up). */
  protected abstract deliver(row: Row): Promise<void>;

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.wake(), this.#options.intervalMs);
    this.#timer.unref();
    this.#options.queue.onEnqueued(() => (this.#options.wakeAfterAnswer ? this.#wakeAfterAnswer() : this.wake()));
  }

  // setImmediate runs once the current turn of the event loop, the answer's own work, is done.
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
    if (this.stopping.signal.aborted) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#deliverDue()
      .catch((error: unknown) => this.#options.logger.warn({ err: error }, `${this.#options.what} round failed; will retry`))
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
    this.stopping.abort();
    await this.settled();
  }

  async #deliverDue(): Promise<void> {
    const { queue, batchSize } = this.#options;
    for (;;) {
      const rows = await queue.claimDue(batchSize);
      await Promise.all(rows.map((row) => this.deliver(row)));
      if (rows.length < batchSize || this.stopping.signal.aborted) return;
    }
  }
}
