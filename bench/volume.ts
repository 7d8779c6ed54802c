// National volume (issue 20): what the stores hold per citizen, and how the audit trail behaves as it
// grows. Prints a Markdown report (docs/benchmarks.md "Volume benchmark").
//
//   npm run bench:volume [-- --only storage|audit --sign-ins 200 --clones 20000 --small 1000000 --large 10000000
//                            --writer-events 20000 --rounds 3 --archive-events 100000 --queries 2000]
//
// storage: real sign-ins (code flow with consent and offline_access) against the server, then the
//   session, access token, grant and refresh token they left are cloned `--clones` times through the
//   project's own stores; Redis INFO used_memory and pg_total_relation_size before and after give the
//   bytes per item, projected to 10 million sessions (one live access token each) and 50 million
//   grants with their refresh tokens.
// audit: the batched writer's insert rate into the unpartitioned table (migration 025 undone) and the
//   partitioned one, in alternating rounds of the same run; one citizen's history query (the account
//   page's, src/audit/access-history.ts) p50/p99 at `--small` and at `--large` events (bulk-inserted in
//   the trail's format, 20 events per citizen, over 24 monthly partitions; their hashes are
//   placeholders: a query does not read them); then `audit archive` and `audit verify --archives` of a
//   month of `--archive-events` events written by the writer.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { AccessHistory } from '../src/audit/access-history.ts';
import { archivePartitions, verifyWithArchives } from '../src/audit/archive.ts';
import { AuditLog } from '../src/audit/audit-log.ts';
import { createPartitionsAhead, monthStart } from '../src/audit/partitions.ts';
import { DurableModelStore } from '../src/oidc/models/durable-model-store.ts';
import { EphemeralModelStore } from '../src/oidc/models/ephemeral-model-store.ts';
import { TokensAtRest } from '../src/oidc/models/tokens-at-rest.ts';
import { createDatabase, type Database } from '../src/storage/database.ts';
import { RedisEphemeralStore } from '../src/storage/ephemeral-store-redis.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { createRedis } from '../src/storage/redis.ts';
import * as conversion from '../migrations/20261208_025_audit_partitions.ts';
import { deleteKeys, describeMachine, enrolBenchCitizens, loadAverage, percentile, signInOnce, startBenchServer } from './support.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    'sign-ins': { type: 'string', default: '200' },
    clones: { type: 'string', default: '20000' },
    small: { type: 'string', default: '1000000' },
    large: { type: 'string', default: '10000000' },
    'writer-events': { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    'archive-events': { type: 'string', default: '100000' },
    queries: { type: 'string', default: '2000' },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3' },
  },
});
const log = (message: string) => console.error(`[volume] ${new Date().toISOString().slice(11, 19)} ${message}`);
const rows: string[] = [];
const row = (measure: string, figure: string) => rows.push(`| ${measure} | ${figure} |`);
const GiB = 2 ** 30;
const fmt = (n: number) => n.toLocaleString('en');

async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `cidp_volume_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: args['postgres-url'] });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(args['postgres-url']);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Storage per session, token, grant.

async function storage(): Promise<void> {
  const signIns = Number(args['sign-ins']);
  const clones = Number(args.clones);
  log(`server, ${signIns} sign-ins with consent and offline_access`);
  const server = await startBenchServer({ postgresUrl: args['postgres-url'], redisUrl: args['redis-url'] });
  const redis = createRedis(args['redis-url'], { commandTimeoutMs: 30_000 });
  await redis.connect();
  const db = createDatabase(server.databaseUrl);
  try {
    const citizens = await enrolBenchCitizens(server, 20);
    for (let index = 0; index < signIns; index += 1) {
      await signInOnce(server.issuer, citizens[index % citizens.length]!, { scope: 'openid profile offline_access', prompt: 'consent' });
    }
    // Templates: what the sign-ins left, as stored.
    const template = async (pattern: string) => {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${server.redisPrefix}${pattern}`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const payload = await redis.hget(key, 'payload');
          if (payload) return JSON.parse(payload) as Record<string, unknown>;
        }
      } while (cursor !== '0');
      throw new Error(`nothing stored under ${pattern}`);
    };
    const session = await template('oidc:Session:{*');
    const accessToken = await template('oidc:AccessToken:{*');
    const grant = (await db('oidc_models').where({ model: 'Grant' }).first<{ payload: Record<string, unknown> }>('payload')).payload;
    const refresh = (await db('oidc_models').where({ model: 'RefreshToken' }).first<{ payload: Record<string, unknown> }>('payload')).payload;

    const prefix = `bench-volume-${randomBytes(3).toString('hex')}:`;
    const prefixed = createRedis(args['redis-url'], { keyPrefix: prefix, commandTimeoutMs: 30_000 });
    await prefixed.connect();
    const ephemeral = new EphemeralModelStore(new RedisEphemeralStore(prefixed));
    const durable = new DurableModelStore(db);
    const tokens = new TokensAtRest(randomBytes(32));
    const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    const inBatches = async (count: number, write: (index: number) => Promise<void>) => {
      for (let start = 0; start < count; start += 250) await Promise.all(Array.from({ length: Math.min(250, count - start) }, (_, offset) => write(start + offset)));
    };
    const id21 = () => randomBytes(16).toString('base64url').slice(0, 21);
    try {
      log(`${clones} sessions, then ${clones} access tokens, into Redis`);
      let before = await used();
      await inBatches(clones, (index) => ephemeral.upsert('Session', id21(), { ...session, jti: id21(), uid: id21(), accountId: `bench-account-${index}` }, 3600));
      const perSession = ((await used()) - before) / clones;
      before = await used();
      await inBatches(clones, (index) =>
        ephemeral.upsert('AccessToken', tokens.storedId(randomBytes(33).toString('base64url')), { ...accessToken, grantId: `bench-grant-${index}` }, 600),
      );
      const perAccessToken = ((await used()) - before) / clones;
      log(`${clones} grants and refresh tokens into PostgreSQL`);
      await db.raw('VACUUM ANALYZE oidc_models');
      const size = async () => Number((await db.raw<{ rows: { size: string }[] }>(`SELECT pg_total_relation_size('oidc_models') AS size`)).rows[0]!.size);
      let sizeBefore = await size();
      await inBatches(clones, async (index) => {
        const grantId = `${randomBytes(16).toString('base64url').slice(0, 21)}`;
        await durable.upsert('Grant', grantId, { ...grant, jti: grantId, accountId: `bench-account-${index}` }, 1209600);
      });
      const perGrant = ((await size()) - sizeBefore) / clones;
      sizeBefore = await size();
      await inBatches(clones, async (index) => {
        await durable.upsert('RefreshToken', tokens.storedId(randomBytes(32).toString('base64url')), { ...refresh, grantId: `bench-grant-${index}`, accountId: `bench-account-${index}` }, 1209600);
      });
      const perRefresh = ((await size()) - sizeBefore) / clones;

      row(`Redis per active session (item, cookie-uid index, account index; payload ${JSON.stringify(session).length} B), ${fmt(clones)} written`, `${perSession.toFixed(0)} B`);
      row(`Redis per live access token (digest-keyed item, grant index; payload ${JSON.stringify(accessToken).length} B)`, `${perAccessToken.toFixed(0)} B`);
      row(`PostgreSQL per grant (oidc_models row and indexes; payload ${JSON.stringify(grant).length} B)`, `${perGrant.toFixed(0)} B`);
      row(`PostgreSQL per refresh token (row and indexes; payload ${JSON.stringify(refresh).length} B)`, `${perRefresh.toFixed(0)} B`);
      row('projected: 10 million concurrent sessions, one live access token each (Redis)', `${((10e6 * (perSession + perAccessToken)) / GiB).toFixed(1)} GiB`);
      row('projected: 50 million live grants with a refresh token each (PostgreSQL)', `${((50e6 * (perGrant + perRefresh)) / GiB).toFixed(1)} GiB`);
    } finally {
      prefixed.disconnect();
      await deleteKeys(args['redis-url'], prefix);
    }
  } finally {
    redis.disconnect();
    await db.destroy();
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The audit trail.

const ACCOUNT_NAMESPACE = '00000000-0000-4000-8000-';
const accountId = (index: number) => `${ACCOUNT_NAMESPACE}${String(index).padStart(12, '0')}`;

/** The batched writer's rate: `count` events nobody waits for (token.issued, the hot one). */
async function writerRate(db: Database, count: number): Promise<number> {
  const writer = new AuditLog(db, `bench-writer-${randomBytes(3).toString('hex')}`);
  const started = performance.now();
  const pending = [];
  for (let index = 0; index < count; index += 1) {
    pending.push(writer.recordLater({ type: 'token.issued', actor: 'client:demo-portal', accountId: accountId(index % 50_000), clientId: 'demo-portal', data: { scope: 'openid profile', grant: 'authorization_code' } }));
    // Stay within the writer's backlog limit (10,000).
    if (pending.length >= 5000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await writer.flush();
  return count / ((performance.now() - started) / 1000);
}

/** Events in the trail's format, 20 per citizen, spread over the last 24 months, by SQL (hashes are placeholders). */
async function bulkEvents(db: Database, from: number, to: number): Promise<void> {
  const chunk = 500_000;
  for (let start = from; start < to; start += chunk) {
    const end = Math.min(to, start + chunk);
    await db.raw(
      `INSERT INTO audit_events (writer_id, seq, occurred_at, type, actor, account_id, client_id, data, prev_hash, hash)
       SELECT 'bulk', n, now() - ((n * 7919) % (720 * 86400)) * interval '1 second',
              (ARRAY['claims.released','token.issued','signin.succeeded','consent.given','token.issued'])[1 + n % 5],
              'client:demo-portal',
              ('${ACCOUNT_NAMESPACE}' || lpad(((n / 20) % ?)::text, 12, '0'))::uuid,
              'demo-portal', '{"claims":["name","birthdate"]}'::jsonb, 'bulk', md5(n::text)
         FROM generate_series(?::bigint, ?::bigint) AS n`,
      [Math.max(1, Math.ceil(to / 20)), start, end - 1],
    );
    log(`  ${fmt(end)} events`);
  }
  await db.raw('ANALYZE audit_events');
}

/** `queries` history pages of random citizens of a trail of `events` (after `warmUp` unmeasured ones); the timings in ms. */
async function historyTimings(db: Database, events: number, queries: number, warmUp = 0): Promise<number[]> {
  const history = new AccessHistory(db, { retentionDays: 1826 });
  const accounts = Math.ceil(events / 20);
  const timings: number[] = [];
  for (let index = 0; index < queries + warmUp; index += 1) {
    const account = accountId(Math.floor(Math.random() * accounts));
    const started = performance.now();
    await history.page(account, { page: 0, pageSize: 20 });
    if (index >= warmUp) timings.push(performance.now() - started);
  }
  return timings;
}

const summary = (timings: number[]) => ({ p50: percentile(timings, 50), p99: percentile(timings, 99), max: Math.max(...timings) });

async function audit(): Promise<void> {
  const rounds = Number(args.rounds);
  const writerEvents = Number(args['writer-events']);
  const before = await scratchDatabase();
  const after = await scratchDatabase();
  const dbBefore = createDatabase(before.url);
  const dbAfter = createDatabase(after.url);
  try {
    await migrateToLatest(dbBefore);
    await conversion.down(dbBefore);
    await migrateToLatest(dbAfter);
    log(`writer insert rate, ${rounds} rounds of ${fmt(writerEvents)} events each side`);
    const pairs: [number, number][] = [];
    for (let round = 0; round < rounds; round += 1) {
      const unpartitioned = await writerRate(dbBefore, writerEvents);
      const partitioned = await writerRate(dbAfter, writerEvents);
      pairs.push([unpartitioned, partitioned]);
      log(`  round ${round + 1}: ${unpartitioned.toFixed(0)} /s unpartitioned, ${partitioned.toFixed(0)} /s partitioned`);
    }
    const median = [...pairs].sort((a, b) => a[1] / a[0] - b[1] / b[0])[Math.floor(pairs.length / 2)]!;
    row(`batched writer, unpartitioned audit_events (median of ${rounds} alternating rounds of ${fmt(writerEvents)})`, `${median[0].toFixed(0)} events/s`);
    row('batched writer, partitioned audit_events (same rounds)', `${median[1].toFixed(0)} events/s = ${(median[1] / median[0]).toFixed(2)} ×`);
    row('rounds (unpartitioned, partitioned)', pairs.map(([a, b]) => `${a.toFixed(0)}, ${b.toFixed(0)}`).join('; '));
    await dbBefore.destroy();
    await before.drop();

    // Archive and verify throughput: a month seven years back, written by the writer (real chains).
    const now = new Date();
    const archiveEvents = Number(args['archive-events']);
    const old = new Date(Date.UTC(now.getUTCFullYear() - 7, 2, 1));
    await createPartitionsAhead(dbAfter, old);
    let tick = old.getTime();
    const writer = new AuditLog(dbAfter, 'bench-archive-writer', () => new Date((tick += 20)));
    log(`archive: ${fmt(archiveEvents)} events into one month`);
    const pending = [];
    for (let index = 0; index < archiveEvents; index += 1) {
      pending.push(writer.recordLater({ type: 'claims.released', accountId: accountId(index % 1000), clientId: 'demo-portal', data: { claims: ['name', 'birthdate'] } }));
      if (pending.length >= 5000) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-archive-'));
    const key = randomBytes(32);
    try {
      let started = performance.now();
      const outcome = await archivePartitions(dbAfter, { before: `${old.getUTCFullYear()}-04`, retentionDays: 1826, dir, key });
      const archiveSeconds = (performance.now() - started) / 1000;
      const archived = outcome.archived.reduce((sum, entry) => sum + entry.events, 0);
      started = performance.now();
      const verified = await verifyWithArchives(dbAfter, { dir, key });
      const verifySeconds = (performance.now() - started) / 1000;
      const liveEvents = Number((await dbAfter('audit_events').count<{ count: string }[]>('* as count'))[0]!.count);
      row(`audit archive of one month (${fmt(archived)} events: write, read back, compare with the database, drop)`, `${archiveSeconds.toFixed(1)} s (${fmt(Math.round(archived / archiveSeconds))} events/s)`);
      row(`audit verify --archives (the archive plus ${fmt(liveEvents)} live events; ok: ${verified.ok ? 'yes' : 'NO'})`, `${verifySeconds.toFixed(1)} s (${fmt(Math.round((archived + liveEvents) / verifySeconds))} events/s)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The history query as the trail grows: a trail of `small` events and one of `large`, side by
    // side in two databases, queried in alternating blocks (a shared machine drifts within minutes).
    const small = Number(args.small);
    const large = Number(args.large);
    const queries = Number(args.queries);
    const smallDatabase = await scratchDatabase();
    const dbSmall = createDatabase(smallDatabase.url);
    try {
      await migrateToLatest(dbSmall);
      for (const db of [dbSmall, dbAfter]) for (let offset = -25; offset <= 0; offset += 4) await createPartitionsAhead(db, monthStart(now, offset));
      log(`history: ${fmt(small)} events`);
      let started = performance.now();
      await bulkEvents(dbSmall, 1, small + 1);
      const smallLoad = (performance.now() - started) / 1000;
      log(`history: ${fmt(large)} events`);
      started = performance.now();
      await bulkEvents(dbAfter, 1, large + 1);
      const largeLoad = (performance.now() - started) / 1000;
      const size = Number((await dbAfter.raw<{ rows: { size: string }[] }>(`SELECT sum(pg_total_relation_size(inhrelid)) AS size FROM pg_inherits WHERE inhparent = 'audit_events'::regclass`)).rows[0]!.size);
      log(`history queries, 8 alternating blocks (load average ${loadAverage()})`);
      await historyTimings(dbSmall, small, 0, 200);
      await historyTimings(dbAfter, large, 0, 200);
      const atSmallTimings: number[] = [];
      const atLargeTimings: number[] = [];
      for (let block = 0; block < 8; block += 1) {
        atSmallTimings.push(...(await historyTimings(dbSmall, small, Math.ceil(queries / 8))));
        atLargeTimings.push(...(await historyTimings(dbAfter, large, Math.ceil(queries / 8))));
      }
      const atSmall = summary(atSmallTimings);
      const atLarge = summary(atLargeTimings);
      row(`bulk load of ${fmt(small)} events (SQL, the trail's format, 6 indexes)`, `${smallLoad.toFixed(1)} s (${fmt(Math.round(small / smallLoad))} /s)`);
      row(`bulk load of ${fmt(large)} events`, `${largeLoad.toFixed(1)} s (${fmt(Math.round(large / largeLoad))} /s)`);
      row(`audit_events on disk at ${fmt(large)} events (partitions, with indexes)`, `${(size / GiB).toFixed(2)} GiB (${(size / large).toFixed(0)} B per event)`);
      row(`one citizen's history page (20 entries), ${fmt(small)} events, ${fmt(atSmallTimings.length)} queries in 8 blocks`, `p50 ${atSmall.p50.toFixed(2)} ms, p99 ${atSmall.p99.toFixed(2)} ms (max ${atSmall.max.toFixed(1)} ms)`);
      row(`one citizen's history page, ${fmt(large)} events, blocks alternating with the above`, `p50 ${atLarge.p50.toFixed(2)} ms, p99 ${atLarge.p99.toFixed(2)} ms (max ${atLarge.max.toFixed(1)} ms) = **${(atLarge.p99 / atSmall.p99).toFixed(2)} × the p99 at ${fmt(small)}**`);
    } finally {
      await dbSmall.destroy();
      await smallDatabase.drop();
    }
  } finally {
    await dbAfter.destroy();
    await after.drop();
  }
}

const machine = describeMachine();
const startedAt = new Date();
log(`load average ${loadAverage()}`);
if (args.only === undefined || args.only === 'storage') await storage();
if (args.only === undefined || args.only === 'audit') await audit();
const postgres = await (async () => {
  const client = new pg.Client({ connectionString: args['postgres-url'] });
  await client.connect();
  const { rows: version } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  return version[0]!.server_version;
})();
console.log(
  [
    `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench:volume -- ${process.argv.slice(2).join(' ')}\`; ` +
      `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${postgres}; load average ${loadAverage()} at the end.`,
    '',
    '| measure | figure |',
    '| --- | --- |',
    ...rows,
  ].join('\n'),
);
process.exit(0);
