// The audit trail: each writer's events form an intact hash chain, under concurrency too; an edit or a
// removal made behind the application's back breaks the chain where it happened; and the database
// itself refuses to edit or delete an event.
import { expect } from 'chai';
import { AuditLog, type AuditEvent } from '../../src/audit/audit-log.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';

const ACCOUNT = '5b1f3c2e-8a4d-4e7b-9c1a-2f3e4d5c6b7a';

function event(index: number): AuditEvent {
  return {
    type: index % 2 === 0 ? 'signin.succeeded' : 'token.issued',
    actor: `account:${index}`,
    accountId: ACCOUNT,
    clientId: 'demo-portal',
    data: { index, scope: 'openid profile', nested: { claims: ['name', 'birthdate'], level: 2 } },
  };
}

async function recordEvents(log: AuditLog, count: number): Promise<void> {
  for (let index = 1; index <= count; index += 1) await log.record(event(index));
}

/** Does what an attacker with DBA rights would: switches the append-only trigger off around an edit. */
async function behindTheTrigger(db: Database, edit: (trx: Database) => Promise<unknown>): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    await edit(trx);
    await trx.raw('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
  });
}

describe('the audit log', function () {
  let database: TestDatabase;
  let db: Database;

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  it('chains recorded events from the genesis, one sequence number after another', async function () {
    const log = new AuditLog(db, 'writer-sequence');
    const first = await log.record(event(1));
    const second = await log.record(event(2));
    expect(first.seq).to.equal(1);
    expect(first.prevHash).to.equal('genesis');
    expect(second.seq).to.equal(2);
    expect(second.prevHash).to.equal(first.hash);
    expect(second.hash).to.match(/^[0-9a-f]{64}$/);
  });

  it('verifies an intact chain of several events', async function () {
    const log = new AuditLog(db, 'writer-intact');
    await recordEvents(log, 6);
    expect(await log.verifyChain(log.writerId)).to.deep.equal({ writerId: 'writer-intact', events: 6, intact: true });
  });

  it('gives a new writer its own identity by default', function () {
    const one = new AuditLog(db);
    const other = new AuditLog(db);
    expect(one.writerId).not.to.equal(other.writerId);
  });

  it('keeps two independent intact chains for two writers writing at the same time', async function () {
    const portal = new AuditLog(db, 'writer-one');
    const bank = new AuditLog(db, 'writer-two');
    const recorded = await Promise.all(
      Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? portal : bank).record(event(index + 1))),
    );
    expect(recorded.filter((entry) => entry.writerId === 'writer-one').map((entry) => entry.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(recorded.filter((entry) => entry.writerId === 'writer-two').map((entry) => entry.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(await portal.verifyChain('writer-one')).to.deep.equal({ writerId: 'writer-one', events: 5, intact: true });
    // Either writer can verify the other's chain: verification reads only the database.
    expect(await portal.verifyChain('writer-two')).to.deep.equal({ writerId: 'writer-two', events: 5, intact: true });
    expect(await bank.writers()).to.include.members(['writer-one', 'writer-two']);
  });

  it('keeps one writer\'s chain intact under 50 concurrent record() calls', async function () {
    const log = new AuditLog(db, 'writer-concurrent');
    const recorded = await Promise.all(Array.from({ length: 50 }, (_, index) => log.record(event(index + 1))));
    expect(recorded.map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 50 }, (_, index) => index + 1));
    await log.flush();
    expect(await log.verifyChain(log.writerId)).to.deep.equal({ writerId: 'writer-concurrent', events: 50, intact: true });
  });

  it('keeps the chain going after a write the database refused', async function () {
    const log = new AuditLog(db, 'writer-refused');
    await log.record(event(1));
    // Not a UUID: PostgreSQL refuses the row, and the chain must not count it.
    const refused = log.record({ type: 'logout', accountId: 'not-a-uuid' });
    const after = log.record(event(2));
    let failure: unknown;
    await refused.catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(Error);
    expect((await after).seq).to.equal(2);
    expect(await log.verifyChain(log.writerId)).to.deep.include({ events: 2, intact: true });
  });

  it('writes events recorded together in batches, in order, with one bad event refused alone', async function () {
    const log = new AuditLog(db, 'writer-batches');
    // Recorded without waiting: they queue behind the first write and go out several hundred at a time.
    const results = await Promise.allSettled(
      Array.from({ length: 1200 }, (_, i) => (i === 700 ? log.record({ type: 'logout', accountId: 'not-a-uuid' }) : log.record(event(i)))),
    );
    expect(results.filter((result) => result.status === 'rejected')).to.have.length(1);
    expect(results[700]!.status).to.equal('rejected');
    const stored = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    expect(stored.map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 1199 }, (_, i) => i + 1));
    expect(await log.verifyChain(log.writerId)).to.deep.include({ events: 1199, intact: true });
    const rows = await db('audit_events').where({ writer_id: log.writerId }).orderBy('seq').pluck('data');
    // The refused event left no gap: the one after it took its place in the chain.
    expect((rows[700] as { index?: number }).index).to.equal(701);
  });

  it('writes events nobody waits for together, a moment later; an event someone waits for, or a flush, sends them at once', async function () {
    const log = new AuditLog(db, 'writer-later');
    let inserts = 0;
    const count = (query: { sql: string }) => {
      if (query.sql.startsWith('insert into "audit_events"')) inserts += 1;
    };
    db.on('query', count);
    try {
      // A stream of them (client-credentials tokens) shares one INSERT.
      const later = Array.from({ length: 30 }, (_, i) => log.recordLater(event(i)));
      expect(inserts).to.equal(0);
      expect((await Promise.all(later)).map((entry) => entry.seq)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(inserts).to.equal(1);
      // One that is waited for does not wait for the others' moment, and takes them along.
      const queued = log.recordLater(event(100));
      const waited = await log.record(event(101));
      expect(waited.seq).to.equal(32);
      expect((await queued).seq).to.equal(31);
      expect(inserts).to.equal(2);
      // At shutdown, flush() sends what is queued.
      const last = log.recordLater(event(102));
      await log.flush();
      expect(await db('audit_events').where({ writer_id: log.writerId, seq: 33 }).first()).to.not.equal(undefined);
      expect((await last).seq).to.equal(33);
      expect(inserts).to.equal(3);
    } finally {
      db.off('query', count);
    }
    expect(await log.verifyChain(log.writerId)).to.deep.include({ events: 33, intact: true });
  });

  it('hashes data as it is stored, so values JSON rewrites do not break the chain', async function () {
    const log = new AuditLog(db, 'writer-json');
    await log.record({
      type: 'registry.changed',
      actor: 'system',
      data: { at: new Date('2026-01-02T03:04:05.678Z'), missing: undefined, list: [1, undefined, 'x'], ratio: 0.1 + 0.2, text: 'Nguyễn Văn An' },
    });
    await log.record({ type: 'admin.action', actor: 'admin:alice', data: { b: 1, a: { d: [true, null], c: 'z' } } });
    expect(await log.verifyChain(log.writerId)).to.deep.include({ events: 2, intact: true });
  });

  it('returns a citizen\'s events newest first', async function () {
    const log = new AuditLog(db, 'writer-history');
    const other = '0e7c2a1b-3d4f-4a5b-8c6d-7e8f9a0b1c2d';
    await log.record({ type: 'consent.given', accountId: other, clientId: 'demo-tax' });
    await log.record({ type: 'claims.released', accountId: other, clientId: 'demo-tax', data: { claims: ['name'] } });
    const history = await log.eventsForAccount(other);
    expect(history.map((entry) => entry.type)).to.deep.equal(['claims.released', 'consent.given']);
  });

  describe('tampering', function () {
    it('detects an event edited in PostgreSQL, at that event', async function () {
      const log = new AuditLog(db, 'writer-edited');
      await recordEvents(log, 5);
      await behindTheTrigger(db, (trx) =>
        trx('audit_events')
          .where({ writer_id: 'writer-edited', seq: 3 })
          .update({ data: JSON.stringify({ index: 3, scope: 'openid' }) }),
      );
      expect(await log.verifyChain('writer-edited')).to.deep.equal({ writerId: 'writer-edited', events: 5, intact: false, brokenAt: 3 });
    });

    it('detects a rewritten hash, at that event', async function () {
      const log = new AuditLog(db, 'writer-rehashed');
      await recordEvents(log, 4);
      await behindTheTrigger(db, (trx) =>
        trx('audit_events').where({ writer_id: 'writer-rehashed', seq: 2 }).update({ hash: 'f'.repeat(64) }),
      );
      expect(await log.verifyChain('writer-rehashed')).to.deep.include({ intact: false, brokenAt: 2 });
    });

    it('detects an event deleted in PostgreSQL', async function () {
      const log = new AuditLog(db, 'writer-deleted');
      await recordEvents(log, 5);
      await behindTheTrigger(db, (trx) => trx('audit_events').where({ writer_id: 'writer-deleted', seq: 2 }).delete());
      const verification = await log.verifyChain('writer-deleted');
      expect(verification.intact).to.equal(false);
      // The event after the gap is the first that no longer follows its predecessor.
      expect(verification.brokenAt).to.equal(3);
    });

    it('detects the first event deleted', async function () {
      const log = new AuditLog(db, 'writer-head-deleted');
      await recordEvents(log, 3);
      await behindTheTrigger(db, (trx) => trx('audit_events').where({ writer_id: 'writer-head-deleted', seq: 1 }).delete());
      expect(await log.verifyChain('writer-head-deleted')).to.deep.include({ intact: false, brokenAt: 2 });
    });

    it('leaves other writers\' chains intact', async function () {
      const log = new AuditLog(db, 'writer-bystander');
      await recordEvents(log, 3);
      await behindTheTrigger(db, (trx) => trx('audit_events').where({ writer_id: 'writer-edited', seq: 1 }).update({ actor: 'someone-else' }));
      expect(await log.verifyChain('writer-bystander')).to.deep.include({ intact: true, events: 3 });
    });

    it('is refused by the database while the trigger is enabled: no UPDATE, no DELETE', async function () {
      const log = new AuditLog(db, 'writer-guarded');
      await recordEvents(log, 2);
      let update: unknown;
      await db('audit_events')
        .where({ writer_id: 'writer-guarded', seq: 1 })
        .update({ actor: 'someone-else' })
        .catch((error: unknown) => (update = error));
      expect(update).to.be.instanceOf(Error);
      expect((update as Error).message).to.include('append-only');
      let deletion: unknown;
      await db('audit_events')
        .where({ writer_id: 'writer-guarded' })
        .delete()
        .catch((error: unknown) => (deletion = error));
      expect((deletion as Error | undefined)?.message).to.include('append-only');
      expect(await log.verifyChain('writer-guarded')).to.deep.include({ intact: true, events: 2 });
    });
  });
});
