// Archiving the audit trail's closed months (src/audit/archive.ts): a month older than the citizen's
// history retention goes to a signed, gzip'd NDJSON file, checked against the database, and its
// partition is dropped; the chains verify across the files and the live partitions together, and an
// edited file, a file with an event taken out, a missing file and an event deleted from a live
// partition are each caught. What the history must still show is never archived.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { AccessHistory } from '../../src/audit/access-history.ts';
import { archivePartitions, ArchiveRefused, verifyWithArchives } from '../../src/audit/archive.ts';
import { AuditLog, type AuditEvent } from '../../src/audit/audit-log.ts';
import { createPartitionsAhead, listPartitions } from '../../src/audit/partitions.ts';
import { exportChainHeads } from '../../src/audit/chain-heads.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { cliEnvironment, runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';

const ACCOUNT = '6c2f3c2e-8a4d-4e7b-9c1a-2f3e4d5c6b7a';
const released = (index: number): AuditEvent => ({ type: 'claims.released', accountId: ACCOUNT, clientId: 'demo-portal', data: { index, claims: ['name'] } });
const RETENTION = 1826;
const DAY = 86400 * 1000;

describe('archiving the audit trail', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let db: Database;
  let dir: string;
  const key = randomBytes(32);
  const now = new Date();
  const thisMonth = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
  // Seven years ago: three months the history no longer shows. Two years ago: a month it does.
  const old = new Date(Date.UTC(now.getUTCFullYear() - 7, 0, 15));
  const recent = new Date(now.getTime() - 2 * 365 * DAY);
  let writerA: AuditLog;

  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    dir = mkdtempSync(path.join(tmpdir(), 'audit-archive-'));
    await createPartitionsAhead(db, old);
    await createPartitionsAhead(db, recent);
    // Writer A: 300 events over the old months, then the recent month, then now — one chain across all.
    let at = old.getTime();
    let clock = () => new Date((at += 0.25 * DAY));
    writerA = new AuditLog(db, 'writer-a', () => clock());
    for (let index = 0; index < 300; index += 1) await writerA.recordLater(released(index));
    await writerA.flush();
    clock = () => recent;
    await writerA.record(released(300));
    clock = () => new Date();
    await writerA.record(released(301));
    // Writer B: only in the old months.
    let atB = old.getTime() + 20 * DAY;
    const writerB = new AuditLog(db, 'writer-b', () => new Date((atB += DAY)));
    for (let index = 0; index < 40; index += 1) await writerB.record(released(index));
  });
  after(async () => {
    await db?.destroy();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a --before that is not a month, and archives nothing', async () => {
    const refusal = await archivePartitions(db, { before: '2019-13', retentionDays: RETENTION, dir, key }).catch((error: unknown) => error);
    expect(refusal).to.be.instanceOf(ArchiveRefused);
    const cli = await runCli(['audit', 'archive', '--before', 'last-year', '--dir', dir], { ...cliEnvironment(database.url), AUDIT_HEADS_KEY: key.toString('base64') });
    expect(cli.code, cli.stderr).to.equal(2);
    expect(cli.stderr).to.match(/--before YYYY-MM/);
  });

  it('archives the months older than the retention to checked files, drops them, and keeps the history whole', async () => {
    const historyBefore = await new AccessHistory(db, { retentionDays: RETENTION }).page(ACCOUNT, { page: 0, pageSize: 10 });
    const countBefore = Number((await db('audit_events').count<{ count: string }[]>('* as count'))[0]!.count);
    // Signed heads taken before: writer B's head lies in a month about to be archived.
    const headsFile = path.join(dir, 'heads-before.json');
    writeFileSync(headsFile, JSON.stringify(await exportChainHeads(db, key)));

    const cli = await runCli(['audit', 'archive', '--before', thisMonth, '--dir', dir], { ...cliEnvironment(database.url), AUDIT_HEADS_KEY: key.toString('base64') });
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.match(/archived audit_events_y\d{4}m01: \d+ event\(s\)/);
    expect(cli.stdout, 'the recent month stays').to.match(/kept audit_events_y\d{4}m\d\d: the citizen's history/);

    const archives = await db('audit_archives').select<{ partition: string; events: string }[]>('partition', 'events');
    const archivedEvents = archives.reduce((sum, entry) => sum + Number(entry.events), 0);
    expect(archivedEvents).to.equal(300 + 40);
    const live = await listPartitions(db);
    for (const entry of archives) expect(live.map((partition) => partition.name)).to.not.include(entry.partition);
    const countAfter = Number((await db('audit_events').count<{ count: string }[]>('* as count'))[0]!.count);
    expect(countAfter).to.equal(countBefore - archivedEvents);
    // The file holds the events as lines, then the signed trailer.
    const first = gunzipSync(readFileSync(path.join(dir, `${archives[0]!.partition}.ndjson.gz`))).toString('utf8').trim().split('\n');
    expect(JSON.parse(first[0]!)).to.include({ writerId: 'writer-a', seq: 1, prevHash: 'genesis' });
    expect(JSON.parse(first.at(-1)!)).to.include({ format: 'citizen-idp/audit-archive/1' }).and.to.have.property('mac');

    expect(await new AccessHistory(db, { retentionDays: RETENTION }).page(ACCOUNT, { page: 0, pageSize: 10 })).to.deep.equal(historyBefore);
    // The live chains go on from the archived part.
    expect(await writerA.verifyChain('writer-a')).to.include({ intact: true });
    const across = await verifyWithArchives(db, { dir, key });
    expect(across.ok, JSON.stringify(across)).to.equal(true);
    expect(across.chains.find((chain) => chain.writerId === 'writer-a')).to.include({ intact: true, events: 302 });
    const verify = await runCli(['audit', 'verify', '--archives', dir], { ...cliEnvironment(database.url), AUDIT_HEADS_KEY: key.toString('base64') });
    expect(verify.code, verify.stdout + verify.stderr).to.equal(0);
    expect(verify.stdout).to.include('audit trail verified, archives included');
    const withHeads = await runCli(['audit', 'verify', '--archives', dir, '--heads', headsFile], { ...cliEnvironment(database.url), AUDIT_HEADS_KEY: key.toString('base64') });
    expect(withHeads.code, withHeads.stdout + withHeads.stderr).to.equal(0);
    expect(withHeads.stdout).to.include('head writer-b#40: present').and.to.include('head writer-a#302: present');
  });

  /** Changes one archive file for the length of `check`, then puts the original back. */
  async function withFileChanged(change: (lines: string[]) => string[] | undefined, check: () => Promise<void>): Promise<void> {
    const entry = await db('audit_archives').orderBy('range_from').first<{ file_name: string }>('file_name');
    const file = path.join(dir, entry.file_name);
    const original = readFileSync(file);
    const lines = gunzipSync(original).toString('utf8').trim().split('\n');
    const changed = change(lines);
    if (changed === undefined) renameSync(file, `${file}.away`);
    else writeFileSync(file, gzipSync(`${changed.join('\n')}\n`));
    try {
      await check();
    } finally {
      if (changed === undefined) renameSync(`${file}.away`, file);
      else writeFileSync(file, original);
    }
  }

  it('catches an event edited in an archive file', async () => {
    await withFileChanged(
      (lines) => lines.map((line, index) => (index === 5 ? line.replace('"claims":["name"]', '"claims":["name","birthdate"]') : line)),
      async () => {
        const across = await verifyWithArchives(db, { dir, key });
        expect(across.ok).to.equal(false);
        expect(across.chains.find((chain) => chain.writerId === 'writer-a')).to.include({ intact: false, brokenAt: 6 });
        const cli = await runCli(['audit', 'verify', '--archives', dir], { ...cliEnvironment(database.url), AUDIT_HEADS_KEY: key.toString('base64') });
        expect(cli.code).to.equal(1);
        expect(cli.stdout).to.include('audit trail NOT intact');
      },
    );
  });

  it('catches an event taken out of an archive file', async () => {
    await withFileChanged(
      (lines) => lines.filter((_, index) => index !== 10),
      async () => {
        const across = await verifyWithArchives(db, { dir, key });
        expect(across.ok).to.equal(false);
        expect(across.files[0]!.problem).to.match(/not those the trailer signed|segments differ/);
        expect(across.chains.find((chain) => chain.writerId === 'writer-a')).to.include({ intact: false, brokenAt: 11 });
      },
    );
  });

  it('catches a missing archive file', async () => {
    await withFileChanged(
      () => undefined,
      async () => {
        const across = await verifyWithArchives(db, { dir, key });
        expect(across.ok).to.equal(false);
        expect(across.files[0]).to.include({ ok: false });
        expect(across.files[0]!.problem).to.match(/MISSING/);
        expect(across.chains.find((chain) => chain.writerId === 'writer-a')).to.include({ intact: false, brokenAt: 1 });
      },
    );
  });

  it('catches an event deleted from a live partition', async () => {
    await db.transaction(async (trx) => {
      await trx.raw('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
      await trx('audit_events').where({ writer_id: 'writer-a', seq: 301 }).delete();
      await trx.raw('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
    });
    const across = await verifyWithArchives(db, { dir, key });
    expect(across.chains.find((chain) => chain.writerId === 'writer-a')).to.include({ intact: false, brokenAt: 301 });
  });
});
