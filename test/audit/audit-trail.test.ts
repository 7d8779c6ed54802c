// The audit trail read back (docs/administration.md "Audit trail"): the query by actor, account, client, type and time
// in pages; the NDJSON export and its filters (also through `npm run cli -- audit export`); and the
// verification — every writer's chain, and the signed chain heads exported outside PostgreSQL, which
// catch what a chain alone cannot: a deleted tail, and a trail rewritten with recomputed hashes.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { AuditLog, eventHash, type AuditEvent, type RecordedAuditEvent } from '../../src/audit/audit-log.ts';
import { AuditTrail } from '../../src/audit/audit-trail.ts';
import { exportChainHeads, HeadsFileRefused, openHeadsFile, verifyTrail } from '../../src/audit/chain-heads.ts';
import { auditCommand } from '../../src/admin/admin-cli.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { cliEnvironment, runCli } from '../support/cli.ts';

const ALICE = '5b1f3c2e-8a4d-4e7b-9c1a-2f3e4d5c6b7a';
const BOB = '0e7c2a1b-3d4f-4a5b-8c6d-7e8f9a0b1c2d';

/** Does what an attacker with DBA rights would: switches the append-only trigger off around an edit. */
async function behindTheTrigger(db: Database, edit: (trx: Database) => Promise<unknown>): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    await edit(trx);
    await trx.raw('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
  });
}


describe('the audit trail: query, export and verification', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let db: Database;
  const key = randomBytes(32);

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  describe('query and export', function () {
    let trail: AuditTrail;
    const times = (day: number) => new Date(Date.UTC(2026, 0, day, 12));
    let day = 1;

    before(async function () {
      // Ten events over ten days: two actors, two accounts, two clients, three types.
      const log = new AuditLog(db, 'writer-query', () => times(day));
      const events: AuditEvent[] = [
        { type: 'signin.succeeded', actor: `account:${ALICE}`, accountId: ALICE, clientId: 'demo-portal' },
        { type: 'claims.released', actor: `account:${ALICE}`, accountId: ALICE, clientId: 'demo-portal', data: { claims: ['name'] } },
        { type: 'admin.action', actor: 'account:officer-1', accountId: ALICE, data: { action: 'account.lock' } },
        { type: 'signin.succeeded', actor: `account:${BOB}`, accountId: BOB, clientId: 'demo-tax' },
        { type: 'claims.released', actor: `account:${BOB}`, accountId: BOB, clientId: 'demo-tax', data: { claims: ['address'] } },
        { type: 'admin.action', actor: 'account:officer-1', clientId: 'demo-tax', data: { action: 'client.suspended' } },
        { type: 'admin.action', actor: 'account:officer-2', accountId: BOB, data: { action: 'account.unlock' } },
        { type: 'signin.succeeded', actor: `account:${ALICE}`, accountId: ALICE, clientId: 'demo-tax' },
        { type: 'claims.released', actor: `account:${ALICE}`, accountId: ALICE, clientId: 'demo-tax', data: { claims: ['birthdate'] } },
        { type: 'signin.succeeded', actor: `account:${BOB}`, accountId: BOB, clientId: 'demo-portal' },
      ];
      for (const event of events) {
        await log.record(event);
        day += 1;
      }
      trail = new AuditTrail(db);
    });

    it('filters by actor, account, client, type and time range, newest first', async function () {
      const byActor = await trail.query({ actor: 'account:officer-1' }, { limit: 50 });
      expect(byActor.events.map((event) => event.data.action)).to.deep.equal(['client.suspended', 'account.lock']);
      const byAccount = await trail.query({ accountId: BOB }, { limit: 50 });
      expect(byAccount.events.map((event) => event.seq)).to.deep.equal([10, 7, 5, 4]);
      const byClient = await trail.query({ clientId: 'demo-tax', types: ['claims.released', 'admin.action'] }, { limit: 50 });
      expect(byClient.events.map((event) => event.seq)).to.deep.equal([9, 6, 5]);
      // From inclusive, to exclusive.
      const byTime = await trail.query({ from: times(3), to: times(6) }, { limit: 50 });
      expect(byTime.events.map((event) => event.seq)).to.deep.equal([5, 4, 3]);
      expect((await trail.query({ accountId: ALICE, types: ['signin.succeeded'], from: times(5) }, { limit: 50 })).events.map((event) => event.seq)).to.deep.equal([8]);
    });

    it('pages with a cursor: every event once, none skipped', async function () {
      const seen: number[] = [];
      let before: string | undefined;
      let pages = 0;
      do {
        const page = await trail.query({}, { limit: 3, before });
        seen.push(...page.events.filter((event) => event.writerId === 'writer-query').map((event) => event.seq));
        before = page.next;
        pages += 1;
      } while (before !== undefined && pages < 20);
      expect(seen).to.deep.equal([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(pages).to.equal(4);
      let refused: unknown;
      await trail.query({}, { limit: 3, before: 'drop table' }).catch((error: unknown) => (refused = error));
      expect(refused).to.be.instanceOf(RangeError);
    });

    it('exports the matching events as NDJSON, oldest first, with their hashes', async function () {
      const out = new PassThrough();
      let text = '';
      out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      const code = await auditCommand('export', ['--type', 'claims.released', '--account', ALICE], { db, log: new AuditLog(db, 'unused'), headsKey: undefined, out });
      expect(code).to.equal(0);
      const lines = text.trim().split('\n').map((line) => JSON.parse(line) as RecordedAuditEvent & { occurredAt: string });
      expect(lines.map((line) => line.seq)).to.deep.equal([2, 9]);
      expect(lines[0]).to.include({ writerId: 'writer-query', type: 'claims.released', accountId: ALICE, clientId: 'demo-portal' });
      expect(lines[0]!.hash).to.match(/^[0-9a-f]{64}$/);
      expect(lines[0]!.occurredAt).to.equal(times(2).toISOString());
    });

    it('exports by time range and by actor, and refuses a bad filter with status 2', async function () {
      const collect = async (args: string[]) => {
        const out = new PassThrough();
        let text = '';
        out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        const code = await auditCommand('export', args, { db, log: new AuditLog(db, 'unused'), headsKey: undefined, out });
        return { code, seqs: text.trim() === '' ? [] : text.trim().split('\n').map((line) => (JSON.parse(line) as { seq: number; writerId: string })).filter((e) => e.writerId === 'writer-query').map((e) => e.seq) };
      };
      expect(await collect(['--from', times(8).toISOString(), '--to', times(10).toISOString()])).to.deep.equal({ code: 0, seqs: [8, 9] });
      expect(await collect(['--actor', 'account:officer-2'])).to.deep.equal({ code: 0, seqs: [7] });
      expect((await collect(['--from', 'yesterday-ish'])).code).to.equal(2);
      expect((await collect(['--account', 'not-a-uuid'])).code).to.equal(2);
      expect((await collect(['--from', times(5).toISOString(), '--to', times(2).toISOString()])).code).to.equal(2);
      expect((await collect(['--colour', 'red'])).code).to.equal(2);
    });
  });

  describe('verification with signed chain heads', function () {
    /** A writer of its own with `count` events, its heads exported and signed now. */
    async function chainWithHeads(writerId: string, count: number) {
      const log = new AuditLog(db, writerId);
      for (let index = 1; index <= count; index += 1) await log.record({ type: 'admin.action', actor: 'cli:test', data: { index } });
      const file = await exportChainHeads(db, key);
      return { log, file, head: file.heads.find((head) => head.writerId === writerId)! };
    }

    const outcomeOf = async (log: AuditLog, writerId: string, file: Awaited<ReturnType<typeof exportChainHeads>>) => {
      const verification = await verifyTrail(db, log, [file]);
      return {
        chain: verification.chains.find((chain) => chain.writerId === writerId),
        head: verification.heads.find((head) => head.writerId === writerId)?.outcome,
      };
    };

    it('exports the head of every writer, signed; an untouched trail verifies', async function () {
      const { log, file, head } = await chainWithHeads('writer-heads-ok', 4);
      expect(head).to.deep.include({ writerId: 'writer-heads-ok', seq: 4 });
      expect(head.hash).to.equal((await db('audit_events').where({ writer_id: 'writer-heads-ok', seq: 4 }).first<{ hash: string }>('hash')).hash);
      expect(openHeadsFile(JSON.stringify(file), key).heads).to.deep.equal(file.heads);
      const verification = await verifyTrail(db, log, [file]);
      expect(verification.ok, JSON.stringify(verification)).to.equal(true);
    });

    it('catches an edited event (the chain breaks there)', async function () {
      const { log, file } = await chainWithHeads('writer-heads-edited', 4);
      await behindTheTrigger(db, (trx) => trx('audit_events').where({ writer_id: 'writer-heads-edited', seq: 2 }).update({ actor: 'cli:someone-else' }));
      const outcome = await outcomeOf(log, 'writer-heads-edited', file);
      expect(outcome.chain).to.deep.include({ intact: false, brokenAt: 2 });
      expect((await verifyTrail(db, log, [file])).ok).to.equal(false);
    });

    it('catches a deleted event in the middle (the chain) and a deleted tail (the signed head)', async function () {
      const middle = await chainWithHeads('writer-heads-deleted', 4);
      await behindTheTrigger(db, (trx) => trx('audit_events').where({ writer_id: 'writer-heads-deleted', seq: 2 }).delete());
      expect((await outcomeOf(middle.log, 'writer-heads-deleted', middle.file)).chain).to.deep.include({ intact: false, brokenAt: 3 });

      const tail = await chainWithHeads('writer-heads-cut', 5);
      await behindTheTrigger(db, (trx) => trx('audit_events').where({ writer_id: 'writer-heads-cut' }).where('seq', '>=', 4).delete());
      const outcome = await outcomeOf(tail.log, 'writer-heads-cut', tail.file);
      // What is left is a perfectly good chain of three: only the head exported earlier shows the cut.
      expect(outcome.chain).to.deep.include({ intact: true, events: 3 });
      expect(outcome.head).to.equal('missing');
      expect((await verifyTrail(db, tail.log, [tail.file])).ok).to.equal(false);
    });

    it('catches reordered events', async function () {
      const { log, file } = await chainWithHeads('writer-heads-reordered', 4);
      // Swap events 2 and 3 by their sequence numbers (through a free number, the pair is unique).
      await behindTheTrigger(db, async (trx) => {
        await trx('audit_events').where({ writer_id: 'writer-heads-reordered', seq: 2 }).update({ seq: 1000 });
        await trx('audit_events').where({ writer_id: 'writer-heads-reordered', seq: 3 }).update({ seq: 2 });
        await trx('audit_events').where({ writer_id: 'writer-heads-reordered', seq: 1000 }).update({ seq: 3 });
      });
      expect((await outcomeOf(log, 'writer-heads-reordered', file)).chain).to.deep.include({ intact: false, brokenAt: 2 });
    });

    it('catches a re-chained trail: an event rewritten and every hash after it recomputed', async function () {
      const { log, file } = await chainWithHeads('writer-heads-rechained', 5);
      // The attacker knows the (public) hashing scheme, edits event 2 and re-hashes 2..5.
      await behindTheTrigger(db, async (trx) => {
        const rows = await trx('audit_events').where({ writer_id: 'writer-heads-rechained' }).orderBy('seq');
        let prevHash = 'genesis';
        for (const row of rows as { id: string; seq: string; occurred_at: Date; type: string; actor: string | null; data: Record<string, unknown> }[]) {
          const data = Number(row.seq) === 2 ? { index: 2, note: 'nothing happened here' } : row.data;
          const hash = eventHash(prevHash, { writerId: 'writer-heads-rechained', seq: Number(row.seq), occurredAt: row.occurred_at, type: row.type as 'admin.action', ...(row.actor !== null && { actor: row.actor }), data });
          await trx('audit_events').where({ id: row.id }).update({ data: JSON.stringify(data), prev_hash: prevHash, hash });
          prevHash = hash;
        }
      });
      const outcome = await outcomeOf(log, 'writer-heads-rechained', file);
      // The chain alone is fooled …
      expect(outcome.chain).to.deep.include({ intact: true, events: 5 });
      // … the signed head is not.
      expect(outcome.head).to.equal('mismatch');
      expect((await verifyTrail(db, log, [file])).ok).to.equal(false);
    });

    it('refuses a forged heads file: a head changed without the key, or signed with another key', async function () {
      const { file } = await chainWithHeads('writer-heads-forged', 2);
      const altered = { ...file, heads: file.heads.map((head) => (head.writerId === 'writer-heads-forged' ? { ...head, seq: 1 } : head)) };
      expect(() => openHeadsFile(JSON.stringify(altered), key)).to.throw(HeadsFileRefused, /signature/);
      const otherKey = randomBytes(32);
      const forged = await exportChainHeads(db, otherKey);
      expect(() => openHeadsFile(JSON.stringify(forged), key)).to.throw(HeadsFileRefused, /another key/);
      // A forger who also copies this key's id still lacks the key itself.
      expect(() => openHeadsFile(JSON.stringify({ ...forged, keyId: file.keyId }), key)).to.throw(HeadsFileRefused, /signature/);
      expect(() => openHeadsFile('{"format":"something else"}', key)).to.throw(HeadsFileRefused);
      expect(() => openHeadsFile('not json', key)).to.throw(HeadsFileRefused);
    });

    it('through the command line: export-heads writes a signed file (never over another); verify --heads reports a cut chain with status 1', async function () {
      const environ = {
        ...cliEnvironment(database.url),
        AUDIT_HEADS_KEY: key.toString('base64'),
      };
      // Start from a clean trail for this test: every earlier test tampered with a writer.
      await behindTheTrigger(db, (trx) => trx('audit_events').delete());
      const log = new AuditLog(db, 'writer-cli');
      for (let index = 1; index <= 3; index += 1) await log.record({ type: 'admin.action', actor: 'cli:test', data: { index } });
      const dir = await mkdtemp(path.join(tmpdir(), 'cidp-heads-'));
      const headsFile = path.join(dir, 'heads.json');

      const exported = await runCli(['audit', 'export-heads', '--out', headsFile], environ);
      expect(exported.code, exported.stderr).to.equal(0);
      const written = JSON.parse(await readFile(headsFile, 'utf8')) as { heads: { writerId: string; seq: number }[] };
      expect(written.heads).to.deep.include.members([{ ...written.heads.find((head) => head.writerId === 'writer-cli')!, seq: 3 }]);
      expect((await runCli(['audit', 'export-heads', '--out', headsFile], environ)).code, 'never overwrites').to.equal(2);

      const intact = await runCli(['audit', 'verify', '--heads', headsFile], environ);
      expect(intact.code, intact.stdout + intact.stderr).to.equal(0);
      expect(intact.stdout).to.include('head writer-cli#3: present').and.to.include('audit trail verified');

      await behindTheTrigger(db, (trx) => trx('audit_events').where({ writer_id: 'writer-cli', seq: 3 }).delete());
      const cut = await runCli(['audit', 'verify', '--heads', headsFile], environ);
      expect(cut.code).to.equal(1);
      expect(cut.stdout).to.include('chain writer-cli: intact, 2 event(s)').and.to.include('head writer-cli#3: MISSING');
      // Without the heads file the cut goes unnoticed: that is what the heads are for.
      expect((await runCli(['audit', 'verify'], environ)).code).to.equal(0);

      const forgedFile = path.join(dir, 'forged.json');
      await writeFile(forgedFile, JSON.stringify({ ...JSON.parse(await readFile(headsFile, 'utf8')), heads: [] }));
      const forged = await runCli(['audit', 'verify', '--heads', forgedFile], environ);
      expect(forged.code).to.equal(1);
      expect(forged.stderr).to.include('refused').and.to.include('signature');
      const noKey = await runCli(['audit', 'verify', '--heads', headsFile], { ...environ, AUDIT_HEADS_KEY: '' });
      expect(noKey.code).to.equal(2);
    });
  });
});
