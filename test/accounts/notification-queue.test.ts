// The notification queue against real PostgreSQL: messages queued by a request are carried by the
// worker after it, retried with back-off under one idempotency key, given up when they have no more
// use, withheld beyond a destination's allowance, a few at a time, and never logged with what they say.
import { expect } from 'chai';
import { NotificationQueue, NotificationWorker, retryDelayMs } from '../../src/accounts/notification-queue.ts';
import type { Carrier, Message } from '../../src/accounts/notifier.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { createLogger, createTestDatabase, type TestDatabase } from '../support/world.ts';
import { captureLogs, type CapturedLogs } from '../support/logs.ts';

interface Row {
  id: string;
  idempotency_key: string;
  body: string;
  attempts: number;
  delivered_at: Date | null;
  gave_up_at: Date | null;
  last_error: string | null;
}

describe('the notification queue', () => {
  let database: TestDatabase;
  let db: Database;
  let logs: CapturedLogs;

  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
  });
  after(async () => {
    await db.destroy();
    await database.drop();
  });
  beforeEach(async () => {
    await db('notifications').del();
    logs = captureLogs();
  });

  /** A worker over the queue, its log lines kept in `logs`; not started: the test wakes it. */
  function workerFor(queue: NotificationQueue, carrier: Carrier, options: { allowance?: () => Promise<boolean>; concurrency?: number; metrics?: Metrics } = {}) {
    const logger = createLogger('info', logs.stream);
    return new NotificationWorker({
      queue,
      carrier,
      allowance: options.allowance ?? (() => Promise.resolve(true)),
      logger,
      ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
      ...(options.metrics && { metrics: options.metrics }),
    });
  }

  async function deliverNow(worker: NotificationWorker): Promise<void> {
    worker.wake();
    await worker.settled();
  }

  const rows = () => db<Row>('notifications').orderBy('id');
  const CODE = { channel: 'sms' as const, destination: '+84900000004', subject: 'Mã xác nhận', body: 'Mã của bạn là 482913' };

  it('writes nothing for an empty list, and delivers a queued message after the enqueue, its body then erased', async () => {
    const queue = new NotificationQueue(db);
    const carried: Message[] = [];
    const worker = workerFor(queue, (message) => Promise.resolve(void carried.push(message)));
    worker.start();
    try {
      await queue.enqueue([]);
      expect(await rows()).to.have.length(0);
      await queue.send(CODE);
      expect(carried, 'not during the enqueue').to.have.length(0);
      await worker.settled();
      expect(carried).to.deep.equal([CODE]);
      const [row] = await rows();
      expect(row!.delivered_at).to.be.an.instanceOf(Date);
      expect(row!.body, 'a code does not outlive its delivery').to.equal('');
    } finally {
      await worker.stop();
    }
  });

  it('retries a failed delivery with back-off, under the same idempotency key', async () => {
    const queue = new NotificationQueue(db);
    const keys: string[] = [];
    const worker = workerFor(queue, (_message, key) => {
      keys.push(key);
      return keys.length === 1 ? Promise.reject(new Error('the SMS gateway answered 503')) : Promise.resolve();
    });
    await queue.send(CODE);
    await deliverNow(worker);
    let [row] = await rows();
    expect(row).to.include({ attempts: 1, delivered_at: null, gave_up_at: null, last_error: 'the SMS gateway answered 503' });
    await deliverNow(worker);
    expect(keys, 'not again before its time').to.have.length(1);
    await db('notifications').update({ next_attempt_at: db.fn.now() });
    await deliverNow(worker);
    [row] = await rows();
    expect(row!.delivered_at).to.be.an.instanceOf(Date);
    expect(keys).to.deep.equal([row!.idempotency_key, row!.idempotency_key]);
    expect([1, 2, 3, 20].map(retryDelayMs)).to.deep.equal([2_000, 4_000, 8_000, 300_000]);
  });

  it('gives up a message that would expire before its next attempt, and one that expired waiting', async () => {
    const queue = new NotificationQueue(db);
    const worker = workerFor(queue, () => Promise.reject(new Error('connection refused by <' + CODE.destination + '>')));
    await queue.enqueue([{ ...CODE, validForSeconds: 1 }]);
    await deliverNow(worker);
    const [failed] = await rows();
    expect(failed!.gave_up_at).to.be.an.instanceOf(Date);
    expect(failed!.body).to.equal('');
    expect(failed!.last_error, 'the address is not kept').to.equal('connection refused by <<destination>>');

    await queue.enqueue([{ ...CODE, validForSeconds: 60 }]);
    await db('notifications').whereNull('gave_up_at').update({ expires_at: db.raw("now() - interval '1 second'") });
    await deliverNow(worker);
    expect((await rows()).every((row) => row.gave_up_at !== null)).to.equal(true);
  });

  it('withholds a code beyond its destination’s allowance, counting it once, and never a security notice', async () => {
    const queue = new NotificationQueue(db);
    const carried: Message[] = [];
    let counted = 0;
    const worker = workerFor(queue, (message) => Promise.resolve(void carried.push(message)), {
      allowance: () => Promise.resolve((counted += 1) <= 1),
    });
    await queue.enqueue([
      { ...CODE, allowance: 'register' },
      { ...CODE, allowance: 'register' },
      { ...CODE, subject: 'Mật khẩu đã được đổi', body: 'notice' },
    ]);
    await deliverNow(worker);
    expect(counted).to.equal(2);
    expect(carried.map((message) => message.subject).sort()).to.deep.equal(['Mã xác nhận', 'Mật khẩu đã được đổi']);
    expect((await rows()).filter((row) => row.gave_up_at !== null).map((row) => row.last_error)).to.deep.equal([
      'withheld: the destination is over its hourly allowance',
    ]);
  });

  it('carries at most `concurrency` messages at once', async () => {
    const queue = new NotificationQueue(db);
    let inFlight = 0;
    let most = 0;
    const worker = workerFor(
      queue,
      async () => {
        most = Math.max(most, (inFlight += 1));
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
      },
      { concurrency: 2 },
    );
    await queue.enqueue(Array.from({ length: 7 }, (_, index) => ({ ...CODE, destination: `+8490000010${index}` })));
    await deliverNow(worker);
    expect(most).to.equal(2);
    expect((await rows()).every((row) => row.delivered_at !== null)).to.equal(true);
  });

  it('shows its backlog as metrics, and never logs a destination or a body', async () => {
    const queue = new NotificationQueue(db);
    const metrics = new Metrics({ processMetrics: false });
    metrics.watch({ notificationBacklog: () => queue.backlog() });
    const worker = workerFor(queue, (message) => Promise.reject(new Error(`550 mailbox ${message.destination} unavailable`)), { metrics });
    await queue.enqueue([CODE, { ...CODE, destination: 'ha.pham@example.vn', channel: 'email' }]);
    let { body } = await metrics.exposition();
    expect(body).to.match(/^idp_notification_backlog 2$/m);
    await deliverNow(worker);
    ({ body } = await metrics.exposition());
    expect(body).to.match(/^idp_notification_backlog 2$/m);
    expect(body).to.match(/^idp_notification_deliveries_total\{outcome="retry"\} 2$/m);
    expect(logs.lines().length).to.be.at.least(2);
    for (const line of logs.lines()) {
      expect(line).not.to.include(CODE.destination);
      expect(line).not.to.include('482913');
      expect(line).not.to.include('ha.pham@example.vn');
    }
  });
});
