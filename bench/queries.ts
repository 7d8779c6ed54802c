// Counts the PostgreSQL statements and transactions each protocol request costs (issue 9): client
// credentials, introspection, refresh with rotation and userinfo, against an in-process server on a
// fresh database and a Redis key prefix of its own. Counts are deterministic where throughput on a
// shared machine is not, so before/after comparisons of a change belong here.
//
//   npm run bench:queries [-- --requests 200 --verbose --only userinfo]
//
// Every statement the server's pool runs while a scenario's requests run one after another is
// counted (knex's `query` event), background work included (it shows up as a fraction per request);
// --verbose lists them by SQL text. A statement outside a transaction is a transaction of its own.
// Redis commands on the server's key prefix are counted with MONITOR.
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/config.ts';
import { buildServer } from '../src/server.ts';
import { seedDemoData } from '../src/admin/demo-data.ts';
import { enrolBenchCitizens, freePort, PORTAL, post, SERVICE, signInOnce, type BenchServer } from './support.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    verbose: { type: 'boolean', default: false },
    /** One scenario by name (e.g. userinfo), e.g. to profile it with node --cpu-prof. */
    only: { type: 'string' },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3' },
  },
});
const REQUESTS = Number(args.requests);
const log = (message: string) => console.error(`[queries] ${message}`);

interface Counted {
  statements: number;
  transactions: number;
  bySql: Map<string, number>;
  redisCommands: number;
  byCommand: Map<string, number>;
}

async function main(): Promise<void> {
  const databaseName = `cidp_queries_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: args['postgres-url'] });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const databaseUrl = new URL(args['postgres-url']);
  databaseUrl.pathname = `/${databaseName}`;
  const port = await freePort();
  const kek = randomBytes(32);
  const redisPrefix = `queries-${randomBytes(3).toString('hex')}:`;
  const config = loadConfig({
    NODE_ENV: 'development',
    PORT: String(port),
    ADMIN_PORT: String(await freePort()),
    ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl.href,
    REDIS_URL: args['redis-url'],
    REDIS_KEY_PREFIX: redisPrefix,
    KEY_ENCRYPTION_KEY: kek.toString('base64'),
    PAIRWISE_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    TRUSTED_PROXIES: '127.0.0.1,::1',
  });
  const server = await buildServer(config);
  let http: HttpServer | undefined;
  try {
    await seedDemoData(server.container);
    http = createServer(server.publicApp.callback() as RequestListener);
    await new Promise<void>((resolve) => http!.listen(port, '127.0.0.1', resolve));
    const issuer = config.issuer;
    const bench = { databaseUrl: databaseUrl.href, kek } as BenchServer;
    const citizens = await enrolBenchCitizens(bench, 2);
    const endpoints = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    const serviceToken = String((await post(endpoints.token_endpoint!, SERVICE, { grant_type: 'client_credentials' })).access_token);
    let refreshToken = (await signInOnce(issuer, citizens[0]!, { scope: 'openid profile offline_access', prompt: 'consent' })).refresh_token!;
    const accessToken = (await signInOnce(issuer, citizens[1]!)).access_token!;

    const scenarios: Record<string, () => Promise<unknown>> = {
      'client credentials': () => post(endpoints.token_endpoint!, SERVICE, { grant_type: 'client_credentials' }),
      introspection: async () => {
        const answer = await post(endpoints.introspection_endpoint!, SERVICE, { token: serviceToken });
        if (answer.active !== true) throw new Error('introspection: not active');
      },
      'refresh with rotation': async () => {
        const answer = await post(endpoints.token_endpoint!, PORTAL, { grant_type: 'refresh_token', refresh_token: refreshToken });
        if (typeof answer.refresh_token !== 'string' || answer.refresh_token === refreshToken) throw new Error('refresh: not rotated');
        refreshToken = answer.refresh_token;
      },
      userinfo: async () => {
        const response = await fetch(endpoints.userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } });
        if (!response.ok) throw new Error(`userinfo answered ${response.status}`);
        await response.json();
      },
    };

    let counting: Counted | undefined;
    // Redis commands on the server's keys (MONITOR sees every client's; the prefix picks ours).
    const monitored = new Redis(args['redis-url']);
    const monitor = await monitored.monitor();
    monitor.on('monitor', (_time: string, command: string[]) => {
      if (!counting || !command.slice(1).some((argument) => argument.startsWith(redisPrefix))) return;
      counting.redisCommands += 1;
      const name = command[0]!.toUpperCase();
      counting.byCommand.set(name, (counting.byCommand.get(name) ?? 0) + 1);
    });
    const transactions = new Set<string>();
    server.container.db.on('query', (query: { sql: string; __knexTxId?: string }) => {
      if (!counting) return;
      counting.statements += 1;
      if (query.__knexTxId === undefined) counting.transactions += 1;
      else if (!transactions.has(query.__knexTxId)) {
        transactions.add(query.__knexTxId);
        counting.transactions += 1;
      }
      counting.bySql.set(query.sql, (counting.bySql.get(query.sql) ?? 0) + 1);
    });

    const rows: string[] = [
      '| scenario | PostgreSQL statements per request | transactions per request | Redis commands per request | ms per request (one at a time) |',
      '| --- | ---: | ---: | ---: | ---: |',
    ];
    for (const [name, work] of Object.entries(scenarios).filter(([name]) => args.only === undefined || name === args.only)) {
      for (let warm = 0; warm < 5; warm += 1) await work();
      await server.container.audit.flush();
      counting = { statements: 0, transactions: 0, bySql: new Map(), redisCommands: 0, byCommand: new Map() };
      const started = performance.now();
      for (let index = 0; index < REQUESTS; index += 1) await work();
      const elapsed = performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 200)); // the last MONITOR lines
      // The audit events of these requests are theirs too.
      await server.container.audit.flush();
      const counted = counting;
      counting = undefined;
      rows.push(`| ${name} | ${(counted.statements / REQUESTS).toFixed(2)} | ${(counted.transactions / REQUESTS).toFixed(2)} | ${(counted.redisCommands / REQUESTS).toFixed(2)} | ${(elapsed / REQUESTS).toFixed(2)} |`);
      if (args.verbose) {
        log(`${name}:`);
        for (const [sql, count] of [...counted.bySql].sort((a, b) => b[1] - a[1])) log(`  ${(count / REQUESTS).toFixed(2)}  ${sql.slice(0, 220)}`);
        log(`  Redis: ${[...counted.byCommand].map(([command, count]) => `${command} ${(count / REQUESTS).toFixed(2)}`).join(', ')}`);
      }
    }
    monitor.disconnect();
    monitored.disconnect();
    console.log(`${REQUESTS} requests per scenario, one at a time\n\n${rows.join('\n')}`);
  } finally {
    if (http) {
      // fetch keeps its connections alive: close them, or close() waits for them.
      http.closeAllConnections();
      await new Promise((resolve) => http!.close(resolve));
    }
    await server.close();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
