// Business register benchmark (issue 17): generates a synthetic population registry and a business
// register of 1 million organisations whose representatives are its adults, then times, in alternating
// rounds on the same empty tables, psql's `\copy` of the file and the import of the same file. Prints a
// Markdown report for docs/benchmarks.md.
//
//   npm run bench:business -- [--count 1000000] [--registry-count 500000] [--rounds 3] [--keep]
//
// Two baselines, both psql in the same run:
// - "bare": `\copy` of the file into a table with the file's columns, no key, no index (what the
//   registry benchmark compares against);
// - "tables": `\copy` into a temporary table, then INSERT … SELECT into business_organisations and
//   business_representatives (the representatives unpacked with string_to_array) in one transaction —
//   the same file into the same tables, with no check but the database's own.
// It works in a database of its own beside BENCH_DATABASE_URL (or DATABASE_URL, or
// postgres://postgres@127.0.0.1:5432/test), dropped at the end unless --keep is given.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDatabase } from '../src/storage/database.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { generateRegistry } from '../src/registry/synthetic-registry.ts';
import { formatCount, formatDuration, progressReport } from '../src/registry/progress-report.ts';
import { BUSINESS_FILE_COLUMNS } from '../src/business/business-file.ts';
import { importBusinessRegister, type BusinessImportSummary } from '../src/business/business-import.ts';
import { generateBusinessRegister, readCitizenPool } from '../src/business/synthetic-business.ts';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' },
    'registry-count': { type: 'string', default: '500000' },
    seed: { type: 'string', default: 'bench' },
    rounds: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const COUNT = Number(args.count.replaceAll('_', ''));
const REGISTRY_COUNT = Number(args['registry-count'].replaceAll('_', ''));
const ROUNDS = Math.max(1, Number(args.rounds));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const log = (message: string) => console.error(`[bench] ${message}`);
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query<R>(sql);
  } finally {
    await client.end();
  }
}

/** Runs a psql script against `url`; resolves with its wall time. */
async function psql(url: string, script: string): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q'], { stdio: ['pipe', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited with ${code}`))));
    child.stdin.end(script);
  });
  return performance.now() - started;
}

const quoted = (file: string) => `'${file.replaceAll("'", "''")}'`;
const FILE_COLUMNS = BUSINESS_FILE_COLUMNS.map((column) => `${column} ${column === 'founded_on' ? 'date' : 'text'}`).join(', ');

/** The bare baseline: the file into a table of its columns, nothing else. */
async function bareCopy(url: string, file: string): Promise<number> {
  await psql(url, `CREATE TABLE business_baseline (${FILE_COLUMNS});`);
  const ms = await psql(url, `\\copy business_baseline FROM ${quoted(file)} WITH (FORMAT csv, HEADER true)\n`);
  await psql(url, 'DROP TABLE business_baseline; CHECKPOINT;');
  return ms;
}

/** The same file into the same tables with psql alone: `\copy` to a temporary table, two INSERT … SELECT. */
async function tablesCopy(url: string, file: string): Promise<number> {
  const ms = await psql(
    url,
    `BEGIN;
CREATE TEMP TABLE business_file (${FILE_COLUMNS}) ON COMMIT DROP;
\\copy business_file FROM ${quoted(file)} WITH (FORMAT csv, HEADER true)
INSERT INTO business_organisations (enterprise_code, name, name_en, status, founded_on, head_office)
  SELECT enterprise_code, name, nullif(name_en, ''), status, founded_on, head_office FROM business_file;
INSERT INTO business_representatives (enterprise_code, national_id, title)
  SELECT enterprise_code, split_part(item, ':', 1), substr(item, 14) FROM business_file, unnest(string_to_array(representatives, ';')) AS item;
COMMIT;
`,
  );
  await psql(url, 'TRUNCATE business_organisations, business_representatives; CHECKPOINT;');
  return ms;
}

async function importFile(url: string, file: string): Promise<BusinessImportSummary> {
  const db = createDatabase(url, { poolMax: 2 });
  const progress = progressReport(process.stderr, `import ${formatCount(COUNT)}`, { totalBytes: statSync(file).size });
  try {
    return await importBusinessRegister(db, createReadStream(file, { highWaterMark: 1 << 20 }), {
      format: 'csv',
      onProgress: ({ phase, rows, bytes }) => {
        if (phase === 'reading') progress.update(rows, bytes);
        else progress.phase(phase === 'merging' ? 'merging…' : 'rebuilding indexes…');
      },
      onRejected: ({ line, reason }) => log(`refused line ${line}: ${reason}`),
    });
  } finally {
    progress.finish();
    await db.destroy();
  }
}

const folder = mkdtempSync(path.join(tmpdir(), 'citizen-idp-bench-business-'));
const started = Date.now();
const { rows: [server] } = await adminQuery<{ version: string; shared_buffers: string; max_wal_size: string }>(
  `SELECT version() AS version, current_setting('shared_buffers') AS shared_buffers, current_setting('max_wal_size') AS max_wal_size`,
);
const loadBefore = loadavg();
const name = `cidp_bench_business_${randomBytes(4).toString('hex')}`;
await adminQuery(`CREATE DATABASE ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const migrated = createDatabase(url.toString(), { poolMax: 1 });
await migrateToLatest(migrated);
await migrated.destroy();
log(`${formatCount(COUNT)} organisations from a registry of ${formatCount(REGISTRY_COUNT)}, files in ${folder}, database ${name}`);

try {
  const registryFile = path.join(folder, 'registry.csv');
  const registryOut = createWriteStream(registryFile, { highWaterMark: 1 << 20 });
  await generateRegistry({ count: REGISTRY_COUNT, seed: args.seed, format: 'csv' }, registryOut);
  registryOut.end();
  await finished(registryOut);

  const file = path.join(folder, 'business.csv');
  const generateStarted = performance.now();
  const citizens = await readCitizenPool(createReadStream(registryFile, { highWaterMark: 1 << 20 }), 'csv');
  const output = createWriteStream(file, { highWaterMark: 1 << 20 });
  const progress = progressReport(process.stderr, `generate ${formatCount(COUNT)}`);
  const generated = await generateBusinessRegister({ count: COUNT, seed: args.seed, format: 'csv', onProgress: (rows) => progress.update(rows, 0) }, citizens, output);
  output.end();
  await finished(output);
  progress.finish();
  const generateMs = performance.now() - generateStarted;
  const bytes = statSync(file).size;
  log(`generated ${formatCount(generated.rows)} organisations (${formatCount(generated.branches)} branches, ${mib(bytes)}) in ${formatDuration(generateMs)}`);

  // The two baselines and the import in turns, each into empty tables: a shared machine drifts, and each
  // round's ratios compare runs a minute apart. The round with the median import-to-tables ratio counts.
  const rounds: { bareMs: number; tablesMs: number; imported: BusinessImportSummary }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const bareMs = await bareCopy(url.toString(), file);
    const tablesMs = await tablesCopy(url.toString(), file);
    log(`round ${round}: psql \\copy bare ${formatDuration(bareMs)}, into the tables ${formatDuration(tablesMs)}`);
    const imported = await importFile(url.toString(), file);
    log(`round ${round}: import ${formatDuration(imported.elapsedMs)} (${imported.mode}; inserted ${imported.inserted}, rejected ${imported.rejected}) = ${(tablesMs / imported.elapsedMs).toFixed(2)} × tables, ${(bareMs / imported.elapsedMs).toFixed(2)} × bare`);
    rounds.push({ bareMs, tablesMs, imported });
    if (round < ROUNDS) await psql(url.toString(), 'TRUNCATE business_organisations, business_representatives; CHECKPOINT;');
  }
  const ratioOf = (one: (typeof rounds)[number]) => one.tablesMs / one.imported.elapsedMs;
  const median = [...rounds].sort((a, b) => ratioOf(a) - ratioOf(b))[Math.floor(rounds.length / 2)]!;

  // The unchanged file again, into the full mirror: the merge path, which writes nothing.
  const reimported = await importFile(url.toString(), file);
  log(`re-import: ${formatDuration(reimported.elapsedMs)} (${reimported.mode}; unchanged ${reimported.unchanged})`);

  const sizes = await (async () => {
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const { rows: [row] } = await client.query<{ organisations: string; representatives: string; rows: string }>(
        `SELECT pg_total_relation_size('business_organisations') AS organisations, pg_total_relation_size('business_representatives') AS representatives,
                (SELECT count(*) FROM business_representatives) AS rows`,
      );
      return row!;
    } finally {
      await client.end();
    }
  })();

  const rate = (ms: number) => COUNT / (ms / 1000);
  const loadAfter = loadavg();
  const lines = [
    `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory; ${server!.version.split(' on ')[0]} ` +
      `(shared_buffers ${server!.shared_buffers}, max_wal_size ${server!.max_wal_size}); Node.js ${process.versions.node}. ` +
      `Load average before/after: ${loadBefore[0]!.toFixed(1)}/${loadAfter[0]!.toFixed(1)}.`,
    '',
    '| measure | figure |',
    '| --- | --- |',
    `| generate ${formatCount(COUNT)} organisations (CSV, ${mib(bytes)}; ${formatCount(generated.branches)} branches; representatives from ${formatCount(citizens.size)} adults of a ${formatCount(REGISTRY_COUNT)}-person registry) | ${formatDuration(generateMs)} (${formatCount(rate(generateMs))} rows/s) |`,
    `| rounds (bare \`\\copy\`, \`\\copy\` into the tables, import: the tables baseline's time ÷ the import's, above 1 when the import is quicker) | ${rounds.map((one) => `${seconds(one.bareMs)} s, ${seconds(one.tablesMs)} s, ${seconds(one.imported.elapsedMs)} s: ${ratioOf(one).toFixed(2)}`).join('; ')} |`,
    `| baseline: psql \`\\copy\` into a bare table (median round) | ${formatDuration(median.bareMs)} (${formatCount(rate(median.bareMs))} rows/s) |`,
    `| baseline: psql \`\\copy\` + INSERT … SELECT into business_organisations and business_representatives (median round) | ${formatDuration(median.tablesMs)} (${formatCount(rate(median.tablesMs))} rows/s) |`,
    `| \`business import\` into the empty mirror (${median.imported.mode}: validate, binary COPY to staging, two INSERT … SELECT, indexes rebuilt) | ${formatDuration(median.imported.elapsedMs)} (${formatCount(rate(median.imported.elapsedMs))} rows/s) = **${ratioOf(median).toFixed(2)} × the tables baseline**, ${(median.bareMs / median.imported.elapsedMs).toFixed(2)} × the bare one |`,
    `| re-import of the unchanged file (${reimported.mode}) | ${formatDuration(reimported.elapsedMs)} (${formatCount(rate(reimported.elapsedMs))} rows/s), ${formatCount(reimported.unchanged)} unchanged |`,
    `| on disk | business_organisations ${mib(Number(sizes.organisations))}, business_representatives ${mib(Number(sizes.representatives))} (${formatCount(Number(sizes.rows))} representatives) |`,
    '',
    `Total wall time ${formatDuration(Date.now() - started)}.`,
  ];
  console.log(lines.join('\n'));
} finally {
  rmSync(folder, { recursive: true, force: true });
  if (args.keep) log(`kept database ${name}`);
  else await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
