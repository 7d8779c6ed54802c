// The audit trail partitioned by month (migration 025, src/audit/partitions.ts): a populated, unpartitioned
// trail is converted while a writer keeps writing, and nothing is lost, doubled or rewritten; the
// provider creates the months ahead.
import { expect } from 'chai';
import { AuditLog, type AuditEvent, type RecordedAuditEvent } from '../../src/audit/audit-log.ts';
import { createPartitionsAhead, listPartitions, monthStart, partitionName } from '../../src/audit/partitions.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import * as conversion from '../../migrations/20261208_025_audit_partitions.ts';

const ACCOUNT = '5b1f3c2e-8a4d-4e7b-9c1a-2f3e4d5c6b7a';
const event = (index: number): AuditEvent => ({ type: 'claims.released', accountId: ACCOUNT, clientId: 'demo-portal', data: { index, claims: ['name'] } });

const isPartitioned = async (db: Database) =>
  (await db.raw<{ rows: unknown[] }>(`SELECT 1 FROM pg_partitioned_table t JOIN pg_class c ON c.oid = t.partrelid WHERE c.relname = 'audit_events'`)).rows.length === 1;

describe('the partitioned audit trail', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let db: Database;

  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
  });
  after(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('converts a populated trail while a writer writes, losing, doubling and rewriting nothing', async () => {
    // The trail as releases before 025 kept it: one table.
    await conversion.down(db);
    expect(await isPartitioned(db)).to.equal(false);

    // 25,000 events over the last eight months, from three writers.
    const now = Date.now();
    const span = 240 * 86400 * 1000;
    const populated: RecordedAuditEvent[] = [];
    for (let writer = 0; writer < 3; writer += 1) {
      let tick = 0;
      const log = new AuditLog(db, `old-writer-${writer}`, () => new Date(now - span + (tick += 1) * (span / 8400)));
      const recorded = await Promise.all(Array.from({ length: 8334 }, (_, index) => log.recordLater(event(index))));
      populated.push(...recorded);
    }

    // A writer of the running release keeps writing throughout the conversion.
    const live = new AuditLog(db, 'live-writer');
    const written: RecordedAuditEvent[] = [];
    let writing = true;
    let duringConversion = 0;
    let converting = false;
    const writer = (async () => {
      let index = 0;
      while (writing) {
        written.push(await live.record(event((index += 1))));
        if (converting) duringConversion += 1;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    converting = true;
    await conversion.up(db);
    converting = false;
    const afterSwap = written.length;
    while (written.length < afterSwap + 20) await new Promise((resolve) => setTimeout(resolve, 10));
    writing = false;
    await writer;

    expect(await isPartitioned(db)).to.equal(true);
    expect(duringConversion, 'events written while converting').to.be.greaterThan(0);
    const rows = await db('audit_events').select<{ writer_id: string; seq: string; hash: string }[]>('writer_id', 'seq', 'hash');
    expect(rows.length).to.equal(populated.length + written.length);
    const stored = new Map(rows.map((row) => [`${row.writer_id}#${row.seq}`, row.hash]));
    expect(stored.size, 'no event twice').to.equal(rows.length);
    for (const recorded of [...populated, ...written]) expect(stored.get(`${recorded.writerId}#${recorded.seq}`)).to.equal(recorded.hash);
    for (const writerId of ['old-writer-0', 'old-writer-1', 'old-writer-2', 'live-writer']) {
      const chain = await live.verifyChain(writerId);
      expect(chain, writerId).to.include({ intact: true });
    }
    // Spread over monthly partitions, from the oldest event's month to three months ahead.
    const partitions = await listPartitions(db);
    expect(partitions.map((partition) => partition.name)).to.include.members([partitionName(monthStart(new Date(now - span))), partitionName(monthStart(new Date(now), 3))]);
    const { rows: perPartition } = await db.raw<{ rows: { partition: string }[] }>(`SELECT DISTINCT tableoid::regclass::text AS partition FROM audit_events`);
    expect(perPartition.length).to.be.greaterThan(6);
    // Still append-only.
    const refusal = await db('audit_events').where({ writer_id: 'live-writer', seq: 1 }).update({ type: 'logout' }).catch((error: Error) => error);
    expect(String(refusal)).to.match(/append-only/);
  });

  it('creates this month and the next three ahead, and nothing twice', async () => {
    const future = new Date(Date.UTC(2031, 4, 17));
    const created = await createPartitionsAhead(db, future);
    expect(created).to.deep.equal(['audit_events_y2031m05', 'audit_events_y2031m06', 'audit_events_y2031m07', 'audit_events_y2031m08']);
    expect(await createPartitionsAhead(db, future)).to.deep.equal([]);
    const log = new AuditLog(db, 'future-writer', () => new Date(Date.UTC(2031, 6, 2)));
    await log.record(event(1));
    const { rows } = await db.raw<{ rows: { partition: string }[] }>(`SELECT tableoid::regclass::text AS partition FROM audit_events WHERE writer_id = 'future-writer'`);
    expect(rows[0]?.partition).to.equal('audit_events_y2031m07');
  });
});
