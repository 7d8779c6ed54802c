// Registry benchmark (issue 4): generates a synthetic registry, times psql's bare `\copy` of the file as
// the baseline, imports the same file, and measures the table's size on disk and ID-number lookup
// latency at a small and at the full size, and whole sign-ins with a million eID accounts in the large
// database against a demo-size number in the small one. Prints a Markdown report for docs/benchmarks.md.
//
//   npm run bench:registry -- [--count 10000000] [--small 10000] [--accounts 1000000] [--small-accounts 6] [--lookups 20000]
//                             [--rounds 3] [--sign-ins 200] [--reimport] [--keep] [--without-relation-indexes]
//
// --without-relation-indexes drops the partial indexes on the father, mother and guardian columns from
// the large registry first: run once with and once without it to see what they cost an import.
// It works in databases of its own, created next to BENCH_DATABASE_URL (or DATABASE_URL, or
// postgres://postgres@127.0.0.1:5432/test) and dropped at the end unless --keep is given.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDatabase, type Database } from '../src/storage/database.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { RegistryRepository } from '../src/registry/registry.ts';
import { REGISTRY_FILE_COLUMNS } from '../src/registry/record-schema.ts';
import { importRegistry, type ImportSummary } from '../src/registry/registry-import.ts';
import { generateRegistry } from '../src/registry/synthetic-registry.ts';
import { formatCount, formatDuration, progressReport } from '../src/registry/progress-report.ts';
import { DEMO_CITIZENS } from '../src/admin/demo-data.ts';
import { PasswordHasher } from '../src/accounts/passwords.ts';
import { loadConfig } from '../src/config/config.ts';
import { enrolBenchCitizens, PASSWORD, signInOnce, startBenchServer } from './support.ts';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '10000000' },
    small: { type: 'string', default: '10000' },
    accounts: { type: 'string', default: '1000000' },
    'small-accounts': { type: 'string', default: String(DEMO_CITIZENS.length) },
    lookups: { type: 'string', default: '20000' },
    seed: { type: 'string', default: 'bench' },
    rounds: { type: 'string', default: '3' },
    'sign-ins': { type: 'string', default: '200' },
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3' },
    reimport: { type: 'boolean', default: false },
    'without-relation-indexes': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const COUNT = Number(args.count.replaceAll('_', ''));
const SMALL = Number(args.small.replaceAll('_', ''));
const LOOKUPS = Number(args.lookups.replaceAll('_', ''));
const ROUNDS = Math.max(1, Number(args.rounds));
const SIGN_INS = Number(args['sign-ins']);
const ACCOUNTS = Number(args.accounts.replaceAll('_', ''));
const SMALL_ACCOUNTS = Number(args['small-accounts'].replaceAll('_', ''));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const log = (message: string) => console.error(`[bench] ${message}`);
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

interface BenchDatabase {
  readonly url: string;
  readonly db: Database;
  drop(): Promise<void>;
}

async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query<R>(sql);
  } finally {
    await client.end();
  }
}

async function benchDatabase(label: string): Promise<BenchDatabase> {
  const name = `cidp_bench_${label}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = createDatabase(url.toString(), { poolMax: 2 });
  await migrateToLatest(db);
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.destroy();
      if (!args.keep) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      else log(`kept database ${name}`);
    },
  };
}

async function generate(count: number, file: string): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const output = createWriteStream(file, { highWaterMark: 1 << 20 });
  const progress = progressReport(process.stderr, `generate ${formatCount(count)}`);
  await generateRegistry({ count, seed: args.seed, format: 'csv', onProgress: (rows) => progress.update(rows, 0) }, output);
  output.end();
  await finished(output);
  progress.finish();
  return { ms: performance.now() - started, bytes: statSync(file).size };
}

async function importFile(db: Database, file: string, count: number): Promise<ImportSummary> {
  const progress = progressReport(process.stderr, `import ${formatCount(count)}`, { totalBytes: statSync(file).size });
  const summary = await importRegistry(db, createReadStream(file, { highWaterMark: 1 << 20 }), {
    format: 'csv',
    onProgress: ({ phase, rows, bytes }) => {
      if (phase === 'reading') progress.update(rows, bytes);
      else progress.phase(phase === 'merging' ? 'merging…' : 'rebuilding indexes…');
    },
    onRejected: ({ line, reason }) => log(`refused line ${line}: ${reason}`),
  });
  progress.finish();
  return summary;
}

/** psql's `\copy` of the same file into a table with the file's columns and no key or index. */
async function baselineCopy(url: string, file: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const dates = new Set(['birth_date', 'id_card_issue_date', 'id_card_expiry_date', 'died_on', 'missing_since']);
  await client.query(`CREATE TABLE registry_baseline (${REGISTRY_FILE_COLUMNS.map((column) => `${column} ${dates.has(column) ? 'date' : 'text'}`).join(', ')})`);
  await client.query('CHECKPOINT');
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const psql = spawn('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qc', `\\copy registry_baseline FROM '${file.replaceAll("'", "''")}' WITH (FORMAT csv, HEADER true)`], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    psql.once('error', reject);
    psql.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited with ${code}`))));
  });
  const ms = performance.now() - started;
  await client.query('DROP TABLE registry_baseline');
  await client.query('CHECKPOINT');
  await client.end();
  return ms;
}

interface Latency {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Looks up `lookups` random existing numbers one after another, through the sign-in path's repository. */
async function lookupLatency(db: Database): Promise<Latency> {
  const counted = await db.raw<{ rows: { n: string }[] }>('SELECT count(*) AS n FROM registry_records');
  const n = Number(counted.rows[0]?.n);
  const percent = Math.min(100, (100 * LOOKUPS * 1.5) / n);
  const { rows } = await db.raw<{ rows: { national_id: string }[] }>(
    `SELECT national_id FROM registry_records TABLESAMPLE BERNOULLI (${percent}) REPEATABLE (42) LIMIT ${LOOKUPS}`,
  );
  const ids = rows.map((row) => row.national_id);
  while (ids.length < LOOKUPS) ids.push(ids[ids.length % rows.length]!);
  // A fixed shuffle, so both sizes see the same access pattern.
  for (let i = ids.length - 1, state = 7; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  const registry = new RegistryRepository(db);
  for (const id of ids.slice(0, 2000)) await registry.findByNationalId(id);
  const timings = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const started = performance.now();
    const record = await registry.findByNationalId(ids[i]!);
    timings[i] = performance.now() - started;
    if (!record) throw new Error(`lookup of ${ids[i]} found nothing`);
  }
  return summarize(timings);
}

function summarize(timings: Float64Array): Latency {
  timings.sort();
  const at = (q: number) => timings[Math.min(timings.length - 1, Math.floor(q * timings.length))]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: timings[timings.length - 1]! };
}

/**
 * Whole sign-ins (authorize → login page → password → token, as bench:login does them), one after
 * another, against two servers (`node src/main.ts`, with Redis) started on the two registries'
 * databases: what a citizen waits for, at each registry size. Twenty bench citizens are enrolled into
 * each (their records among the others) and sign in once first (consent, warm-up); then blocks of
 * sign-ins go to one server and the other in turns, so that the machine's drift falls on both alike.
 */
async function signInLatencies(databaseUrls: readonly [string, string], beforeTimed: () => Promise<void>): Promise<[Latency, Latency]> {
  const servers = await Promise.all(databaseUrls.map((databaseUrl) => startBenchServer({ postgresUrl: ADMIN_URL, redisUrl: args['redis-url'], databaseUrl })));
  try {
    const citizens = await Promise.all(servers.map((server) => enrolBenchCitizens(server, 20)));
    for (const [index, server] of servers.entries()) {
      for (const citizen of citizens[index]!) await signInOnce(server.issuer, citizen);
    }
    await beforeTimed();
    const timings = servers.map(() => new Float64Array(SIGN_INS));
    // Blocks of at most 25, taken in turns: a shared machine's load moves within a minute.
    const block = Math.max(1, Math.min(25, Math.floor(SIGN_INS / 4)));
    for (let from = 0; from < SIGN_INS; from += block) {
      for (const [index, server] of servers.entries()) {
        for (let i = from; i < Math.min(SIGN_INS, from + block); i++) {
          const started = performance.now();
          await signInOnce(server.issuer, citizens[index]![i % 20]!);
          timings[index]![i] = performance.now() - started;
        }
      }
    }
    return [summarize(timings[0]!), summarize(timings[1]!)];
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/**
 * Enrols `count` eID accounts at once, spread over the registry (a sample of its records, not its first
 * numbers), with one argon2id hash of the bench password for all: the hash costs each sign-in the same
 * verify as any other, and a million hashes would take hours to compute on two cores. Level 1, no
 * second factor; the bench citizens that sign in are enrolled after, the normal way, among them.
 */
async function enrolBulkAccounts(db: Database, count: number, passwordHash: string): Promise<{ ms: number; enrolled: number }> {
  const started = performance.now();
  const counted = await db.raw<{ rows: { n: string }[] }>('SELECT count(*) AS n FROM registry_records');
  const records = Number(counted.rows[0]?.n);
  const percent = Math.min(100, (100 * (count * 1.05 + 100)) / records);
  const inserted = await db.raw<{ rowCount: number }>(
    `INSERT INTO accounts (national_id, level, status, password_hash)
     SELECT national_id, 1, 'active', ? FROM registry_records TABLESAMPLE BERNOULLI (${percent}) REPEATABLE (7) LIMIT ${count}
     ON CONFLICT (national_id) DO NOTHING`,
    [passwordHash],
  );
  await db.raw('VACUUM (ANALYZE) accounts');
  return { ms: performance.now() - started, enrolled: inserted.rowCount };
}

/**
 * EXPLAIN (ANALYZE) of the sign-in's reads by ID number in the large database, for an account among
 * the bulk ones (not a bench citizen, whose pages the sign-ins keep in memory): the plan's node types,
 * which must be index scans at this size, and its time.
 */
async function explainSignInReads(db: Database): Promise<{ statement: string; plan: string; ms: number }[]> {
  const { rows: [sample] } = await db.raw<{ rows: { id: string; national_id: string }[] }>(
    `SELECT id, national_id FROM accounts WHERE level = 1 ORDER BY national_id OFFSET (SELECT count(*) / 2 FROM accounts) LIMIT 1`,
  );
  const statements = [
    ['accounts by ID number', `SELECT * FROM accounts WHERE national_id = '${sample!.national_id}'`],
    ['registry record by ID number', `SELECT * FROM registry_records WHERE national_id = '${sample!.national_id}'`],
    [
      'account, record and grant by account id (src/oidc/models/token-holder.ts)',
      `SELECT to_jsonb(a) AS account, to_jsonb(r) AS registry_record,
         (SELECT g.payload FROM oidc_models g WHERE g.model = 'Grant' AND g.id = 'none' AND (g.expires_at IS NULL OR g.expires_at > CURRENT_TIMESTAMP)) AS grant_payload
       FROM accounts a LEFT JOIN registry_records r ON r.national_id = a.national_id WHERE a.id = '${sample!.id}'`,
    ],
    ['known devices of the account', `SELECT count(*) FROM known_devices WHERE account_id = '${sample!.id}'`],
    [
      'standing grant of the account to the client (src/oidc/models/durable-model-store.ts)',
      `SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'accountId' = '${sample!.id}' AND payload->>'clientId' = 'demo-portal'
         AND (expires_at IS NULL OR expires_at > CURRENT_TIMESTAMP) ORDER BY (payload->>'iat')::bigint DESC LIMIT 1`,
    ],
  ] as const;
  const plans = [];
  for (const [statement, sql] of statements) {
    const { rows } = await db.raw<{ rows: { 'QUERY PLAN': unknown }[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`);
    const top = (rows[0]!['QUERY PLAN'] as { Plan: PlanNode; 'Execution Time': number }[])[0]!;
    plans.push({ statement, plan: nodeTypes(top.Plan).join(' → '), ms: top['Execution Time'] });
  }
  return plans;
}

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Index Name'?: string;
  readonly Plans?: readonly PlanNode[];
}

function nodeTypes(node: PlanNode): string[] {
  return [`${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}`, ...(node.Plans ?? []).flatMap(nodeTypes)];
}

/** Tables read by a sequential scan since the counters were reset, with their row counts. */
async function sequentialScans(db: Database): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { relname: string; seq_scan: string; idx_scan: string | null; n_live_tup: string }[] }>(
    `SELECT relname, seq_scan, idx_scan, n_live_tup FROM pg_stat_user_tables WHERE seq_scan > 0 ORDER BY n_live_tup DESC, relname`,
  );
  return rows.map((row) => `${row.relname} (${formatCount(Number(row.n_live_tup))} rows: ${row.seq_scan} seq, ${row.idx_scan ?? 0} index)`);
}

async function tableSize(db: Database): Promise<{ heap: number; indexes: number; total: number }> {
  const result = await db.raw<{ rows: { heap: string; indexes: string; total: string }[] }>(
    `SELECT pg_table_size('registry_records') AS heap, pg_indexes_size('registry_records') AS indexes, pg_total_relation_size('registry_records') AS total`,
  );
  const size = result.rows[0]!;
  return { heap: Number(size.heap), indexes: Number(size.indexes), total: Number(size.total) };
}

const folder = mkdtempSync(path.join(tmpdir(), 'citizen-idp-bench-'));
const started = Date.now();
const { rows: [server] } = await adminQuery<{ version: string; shared_buffers: string; max_wal_size: string }>(`SELECT version() AS version, current_setting('shared_buffers') AS shared_buffers, current_setting('max_wal_size') AS max_wal_size`);
const loadBefore = loadavg();
log(`${formatCount(COUNT)} records (small: ${formatCount(SMALL)}), ${formatCount(LOOKUPS)} lookups, files in ${folder}`);

try {
  // The small registry: lookups against 10 thousand records; kept for the sign-ins at the end.
  const small = await benchDatabase('small');
  const large = await benchDatabase('large');
  const RELATIONS = ['father_national_id', 'mother_national_id', 'guardian_national_id'];
  if (args['without-relation-indexes']) {
    for (const column of RELATIONS) await large.db.raw(`DROP INDEX registry_records_${column}`);
    log('the large registry has no indexes on the relation columns');
  }
  try {
    const smallFile = path.join(folder, 'registry-small.csv');
    await generate(SMALL, smallFile);
    await importFile(small.db, smallFile, SMALL);
    // One argon2id hash of the bench password for every bulk account, with the parameters the bench citizens get.
    const passwordHash = await new PasswordHasher(loadConfig({ NODE_ENV: 'development' }).argon2).hash(PASSWORD);
    const smallAccounts = await enrolBulkAccounts(small.db, SMALL_ACCOUNTS, passwordHash);
    log(`enrolled ${formatCount(smallAccounts.enrolled)} accounts in the small database`);
    const smallLatency = await lookupLatency(small.db);
    log(`lookups at ${formatCount(SMALL)}: p50 ${smallLatency.p50.toFixed(3)} ms, p99 ${smallLatency.p99.toFixed(3)} ms`);

    const file = path.join(folder, 'registry.csv');
    const generated = await generate(COUNT, file);
    log(`generated ${formatCount(COUNT)} rows (${mib(generated.bytes)}) in ${formatDuration(generated.ms)}`);

    // The baseline and the import in turns, each import into an empty registry: a shared machine drifts,
    // and each round's ratio compares two runs a minute apart. The median round counts.
    const rounds: { baselineMs: number; imported: ImportSummary }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      if (round > 1) {
        await large.db.raw('TRUNCATE registry_records CASCADE'); // the bench database holds no accounts
        await large.db.raw('CHECKPOINT');
      }
      const baselineMs = await baselineCopy(large.url, file);
      log(`round ${round}: psql \\copy baseline: ${formatDuration(baselineMs)}`);
      const imported = await importFile(large.db, file, COUNT);
      log(`round ${round}: import: ${formatDuration(imported.elapsedMs)} (${imported.mode}; inserted ${imported.inserted}, rejected ${imported.rejected}) = ${(baselineMs / imported.elapsedMs).toFixed(2)} × baseline`);
      await large.db.raw('CHECKPOINT');
      rounds.push({ baselineMs, imported });
    }
    const ratioOf = (one: { baselineMs: number; imported: ImportSummary }) => one.baselineMs / one.imported.elapsedMs;
    const { baselineMs, imported } = [...rounds].sort((a, b) => ratioOf(a) - ratioOf(b))[Math.floor(rounds.length / 2)]!;

    let reimported: ImportSummary | undefined;
    if (args.reimport) {
      reimported = await importFile(large.db, file, COUNT);
      log(`re-import: ${formatDuration(reimported.elapsedMs)} (${reimported.mode}; unchanged ${reimported.unchanged})`);
    }

    const largeAccounts = await enrolBulkAccounts(large.db, ACCOUNTS, passwordHash);
    log(`enrolled ${formatCount(largeAccounts.enrolled)} accounts in the large database in ${formatDuration(largeAccounts.ms)}`);
    const size = await tableSize(large.db);
    const accountsSize = await large.db.raw<{ rows: { total: string; indexes: string }[] }>(
      `SELECT pg_total_relation_size('accounts') AS total, pg_indexes_size('accounts') AS indexes`,
    );
    const { rows: [named] } = await large.db.raw<{ rows: Record<string, string>[] }>(
      `SELECT ${RELATIONS.map((column) => `count(${column}) AS ${column}`).join(', ')} FROM registry_records`,
    );
    const largeLatency = await lookupLatency(large.db);
    log(`lookups at ${formatCount(COUNT)}: p50 ${largeLatency.p50.toFixed(3)} ms, p99 ${largeLatency.p99.toFixed(3)} ms`);
    // The statistics counters start at zero just before the timed sign-ins: which tables they read whole.
    const [smallSignIn, largeSignIn] = await signInLatencies([small.url, large.url], async () => {
      for (const db of [small.db, large.db]) await db.raw('SELECT pg_stat_reset()');
    });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the servers' backends have flushed their counters
    const largeScans = await sequentialScans(large.db);
    const plans = await explainSignInReads(large.db);
    const { rows: [accountCount] } = await large.db.raw<{ rows: { n: string }[] }>('SELECT count(*) AS n FROM accounts');
    const { rows: [smallAccountCount] } = await small.db.raw<{ rows: { n: string }[] }>('SELECT count(*) AS n FROM accounts');
    log(`sign-ins at ${formatCount(SMALL)}: p50 ${smallSignIn.p50.toFixed(1)} ms, p99 ${smallSignIn.p99.toFixed(1)} ms`);
    log(`sign-ins at ${formatCount(COUNT)}: p50 ${largeSignIn.p50.toFixed(1)} ms, p99 ${largeSignIn.p99.toFixed(1)} ms`);
    const signInRatio = largeSignIn.p50 / smallSignIn.p50;
    const ratios = `p50 ${signInRatio.toFixed(2)} ×, p95 ${(largeSignIn.p95 / smallSignIn.p95).toFixed(2)} ×, p99 ${(largeSignIn.p99 / smallSignIn.p99).toFixed(2)} ×`;
    const smallLabel = `${formatCount(SMALL)} records, ${formatCount(Number(smallAccountCount!.n))} accounts`;
    const largeLabel = `${formatCount(COUNT)} records, ${formatCount(Number(accountCount!.n))} accounts`;

    const rate = (ms: number) => COUNT / (ms / 1000);
    const importRate = rate(imported.elapsedMs);
    const baselineRate = rate(baselineMs);
    const loadAfter = loadavg();
    const lines = [
      `Machine: ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory; ${server!.version.split(' on ')[0]} ` +
        `(shared_buffers ${server!.shared_buffers}, max_wal_size ${server!.max_wal_size}); Node.js ${process.versions.node}. ` +
        `Load average before/after: ${loadBefore[0]!.toFixed(1)}/${loadAfter[0]!.toFixed(1)}.`,
      '',
      '| measure | figure |',
      '| --- | --- |',
      `| generate ${formatCount(COUNT)} rows (CSV, ${mib(generated.bytes)}) | ${formatDuration(generated.ms)} (${formatCount(rate(generated.ms))} rows/s) |`,
      `| rounds (baseline, import: ratio) | ${rounds.map((one) => `${seconds(one.baselineMs)} s, ${seconds(one.imported.elapsedMs)} s: ${ratioOf(one).toFixed(2)}`).join('; ')} |`,
      `| baseline: psql \`\\copy\` into a bare table (median round) | ${formatDuration(baselineMs)} (${formatCount(baselineRate)} rows/s) |`,
      `| \`registry import\` (${imported.mode === 'first' ? 'validate, COPY straight into the empty registry, build its keys and indexes' : `validate, COPY to staging, ${imported.mode} merge`}) | ${formatDuration(imported.elapsedMs)} (${formatCount(importRate)} rows/s) = ${(importRate / baselineRate).toFixed(2)} × baseline |`,
      ...(reimported ? [`| re-import of the unchanged file (${reimported.mode}) | ${formatDuration(reimported.elapsedMs)} (${formatCount(rate(reimported.elapsedMs))} rows/s), ${formatCount(reimported.unchanged)} unchanged |`] : []),
      `| registry_records on disk | ${mib(size.total)} (table ${mib(size.heap)}, indexes ${mib(size.indexes)}) |`,
      `| records naming a father, a mother, a guardian | ${RELATIONS.map((column) => formatCount(Number(named![column]))).join(', ')}; ` +
        `partial indexes on them: ${args['without-relation-indexes'] ? 'dropped for this run' : 'present'} |`,
      `| lookup by ID number at ${formatCount(SMALL)} records | p50 ${smallLatency.p50.toFixed(3)} ms, p99 ${smallLatency.p99.toFixed(3)} ms, max ${smallLatency.max.toFixed(1)} ms |`,
      `| lookup by ID number at ${formatCount(COUNT)} records | p50 ${largeLatency.p50.toFixed(3)} ms, p99 ${largeLatency.p99.toFixed(3)} ms, max ${largeLatency.max.toFixed(1)} ms |`,
      `| enrol ${formatCount(largeAccounts.enrolled)} accounts (INSERT … SELECT from the registry, then VACUUM ANALYZE) | ${formatDuration(largeAccounts.ms)}; accounts on disk ${mib(Number(accountsSize.rows[0]!.total))} (indexes ${mib(Number(accountsSize.rows[0]!.indexes))}) |`,
      `| sign-in (password, ${formatCount(SIGN_INS)} one after another), ${smallLabel} | p50 ${smallSignIn.p50.toFixed(1)} ms, p95 ${smallSignIn.p95.toFixed(1)} ms, p99 ${smallSignIn.p99.toFixed(1)} ms, max ${smallSignIn.max.toFixed(1)} ms |`,
      `| sign-in (password, ${formatCount(SIGN_INS)} one after another), ${largeLabel} | p50 ${largeSignIn.p50.toFixed(1)} ms, p95 ${largeSignIn.p95.toFixed(1)} ms, p99 ${largeSignIn.p99.toFixed(1)} ms, max ${largeSignIn.max.toFixed(1)} ms |`,
      `| sign-in, large ÷ small | ${ratios} |`,
      `| tables read by a sequential scan during the timed sign-ins (large) | ${largeScans.length > 0 ? largeScans.join('; ') : 'none'} |`,
      ...plans.map((plan) => `| plan: ${plan.statement} (EXPLAIN ANALYZE, large) | ${plan.plan}; ${plan.ms.toFixed(3)} ms |`),
      '',
      `Targets: import ≥ 0.5 × baseline: ${importRate >= 0.5 * baselineRate ? 'met' : 'missed'} (${(importRate / baselineRate).toFixed(2)}); ` +
        `lookup p99 < 2 ms at ${formatCount(COUNT)}: ${largeLatency.p99 < 2 ? 'met' : 'missed'}; ` +
        `p99 ≤ 1.5 × p99 at ${formatCount(SMALL)}: ${largeLatency.p99 <= 1.5 * smallLatency.p99 ? 'met' : 'missed'} (${(largeLatency.p99 / smallLatency.p99).toFixed(2)} ×); ` +
        `sign-in unchanged by registry size (p50 within 10%): ${Math.abs(signInRatio - 1) <= 0.1 ? 'met' : 'missed'} (${signInRatio.toFixed(2)} ×); ` +
        `sign-in with ${formatCount(Number(accountCount!.n))} accounts ≤ 1.2 × the demo-size database (p50 and p95): ` +
        `${largeSignIn.p50 <= 1.2 * smallSignIn.p50 && largeSignIn.p95 <= 1.2 * smallSignIn.p95 ? 'met' : 'missed'} (${ratios}).`,
      `Total wall time ${formatDuration(Date.now() - started)}; ${seconds(imported.elapsedMs)} s import.`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await large.drop();
    await small.drop();
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
