// Counts the PostgreSQL statements and Redis commands each protocol request causes (issue 9): client
// credentials, introspection, refresh with rotation, userinfo and a whole password sign-in, against an in-process server on a
// fresh database and a Redis key prefix of its own. Counts are exact, so before/after comparisons of
// a change belong here (throughput on a shared machine is not).
//
//   npm run bench:queries [-- --requests 200 --verbose --only userinfo --json]
//
// Each request runs in an AsyncLocalStorage context of its own, and a statement or command counts for
// the request whose context issued it: background work (the back-channel logout worker, the purge,
// the signing-key poll) is not the request's and is not counted. Audit events nobody waits for are
// written up to 20 ms later, several to one INSERT (src/audit/audit-log.ts), so how many INSERTs a
// request costs depends on timing: they are counted as rows, in a column of their own, after the
// request's events are flushed in its context. --verbose lists the statements by SQL text. A
// statement outside a transaction is a transaction of its own.
import { AsyncLocalStorage } from 'node:async_hooks';
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
    /** The counts per request as one JSON object by scenario (what test/bench/queries.test.ts reads). */
    json: { type: 'boolean', default: false },
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
  auditRows: number;
  bySql: Map<string, number>;
  redisCommands: number;
  /** Commands sent alone, plus each pipeline (MULTI … EXEC included) once: what waits for Redis's answer. */
  redisRoundTrips: number;
  byCommand: Map<string, number>;
}

/** The number of the request whose work is running (0 outside the counted requests). */
const requestOf = new AsyncLocalStorage<number>();
/** The columns of one audit_events row (src/audit/audit-log.ts #writeBatch). */
const AUDIT_COLUMNS = 10;
/** Requests go one at a time: the one arriving is the one the loop in main() is waiting for. */
let request = 0;
let counting: Counted | undefined;
/** The counts of the request whose context is running, if one is being counted. */
const counts = () => (counting && request > 0 && requestOf.getStore() === request ? counting : undefined);

/**
 * Counts every Redis command the server sends (ioredis's one way out); a command sent again after a
 * reconnection counts once. Installed before the server is built: its metrics keep the method they find.
 */
function countRedisCommands(): void {
  const sent = new WeakSet<object>();
  const pipelines = new WeakSet<object>();
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with each instance as `this`
  const sendCommand = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    const counted = counts();
    const [command, stream] = args as [Parameters<Redis['sendCommand']>[0], { isPipeline?: boolean } | undefined];
    if (counted && !sent.has(command)) {
      sent.add(command);
      counted.redisCommands += 1;
      if (!stream?.isPipeline) counted.redisRoundTrips += 1;
      else if (!pipelines.has(stream)) {
        pipelines.add(stream);
        counted.redisRoundTrips += 1;
      }
      const name = command.name.toUpperCase();
      if (process.env.TRACE && request === 3) console.error('TRACE', name, String(command.args[0] ?? '').replace(/[A-Za-z0-9_-]{16,}/g, '<id>'), new Error().stack!.split('\n').slice(3, 12).filter((l) => l.includes('/src/')).map((l) => l.trim().replace(/.*\/src\//, '')).join(' < '));
      counted.byCommand.set(name, (counted.byCommand.get(name) ?? 0) + 1);
    }
    return sendCommand.apply(this, args);
  };
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
  countRedisCommands();
  const server = await buildServer(config);
  let http: HttpServer | undefined;
  try {
    await seedDemoData(server.container);
    const handle = server.publicApp.callback() as RequestListener;
    http = createServer((incoming, outgoing) => requestOf.run(request, () => handle(incoming, outgoing)));
    await new Promise<void>((resolve) => http!.listen(port, '127.0.0.1', resolve));
    const issuer = config.issuer;
    const bench = { databaseUrl: databaseUrl.href, kek } as BenchServer;
    const citizens = await enrolBenchCitizens(bench, 3);
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
      // A whole password sign-in of a citizen who consented before (the warm-up's first): authorize,
      // the login page, the password, the provider's resume, the code at the token endpoint.
      'sign-in': () => signInOnce(issuer, citizens[2]!),
    };

    const transactions = new Set<string>();
    server.container.db.on('query', (query: { sql: string; bindings?: unknown[]; __knexTxId?: string }) => {
      const counted = counts();
      if (!counted) return;
      if (query.sql.startsWith('insert into "audit_events"')) {
        counted.auditRows += (query.bindings?.length ?? 0) / AUDIT_COLUMNS;
        return;
      }
      counted.statements += 1;
      if (query.__knexTxId === undefined) counted.transactions += 1;
      else if (!transactions.has(query.__knexTxId)) {
        transactions.add(query.__knexTxId);
        counted.transactions += 1;
      }
      counted.bySql.set(query.sql, (counted.bySql.get(query.sql) ?? 0) + 1);
    });

    const results: Record<string, Record<string, unknown>> = {};
    const rows: string[] = [
      '| scenario | PostgreSQL statements per request | transactions per request | audit rows per request | Redis commands per request | Redis round trips per request | ms per request (one at a time) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const [name, work] of Object.entries(scenarios).filter(([name]) => args.only === undefined || name === args.only)) {
      for (let warm = 0; warm < 5; warm += 1) await work();
      await server.container.audit.flush();
      const counted: Counted = { statements: 0, transactions: 0, auditRows: 0, bySql: new Map(), redisCommands: 0, redisRoundTrips: 0, byCommand: new Map() };
      counting = counted;
      let elapsed = 0;
      for (let index = 1; index <= REQUESTS; index += 1) {
        request = index;
        const started = performance.now();
        await work();
        elapsed += performance.now() - started;
        // The audit events it left for later are its own too.
        await requestOf.run(index, () => server.container.audit.flush());
      }
      request = 0;
      counting = undefined;
      const perRequest = (count: number) => (count / REQUESTS).toFixed(2);
      rows.push(
        `| ${name} | ${perRequest(counted.statements)} | ${perRequest(counted.transactions)} | ${perRequest(counted.auditRows)} | ${perRequest(counted.redisCommands)} | ${perRequest(counted.redisRoundTrips)} | ${(elapsed / REQUESTS).toFixed(2)} |`,
      );
      results[name] = {
        statements: counted.statements / REQUESTS,
        transactions: counted.transactions / REQUESTS,
        auditRows: counted.auditRows / REQUESTS,
        redisCommands: counted.redisCommands / REQUESTS,
        redisRoundTrips: counted.redisRoundTrips / REQUESTS,
        byCommand: Object.fromEntries([...counted.byCommand].map(([command, count]) => [command, count / REQUESTS])),
      };
      if (args.verbose) {
        log(`${name}:`);
        for (const [sql, count] of [...counted.bySql].sort((a, b) => b[1] - a[1])) log(`  ${perRequest(count)}  ${sql.slice(0, 220)}`);
        log(`  Redis: ${[...counted.byCommand].map(([command, count]) => `${command} ${perRequest(count)}`).join(', ')}`);
      }
    }
    if (args.json) console.log(JSON.stringify(results));
    else console.log(`${REQUESTS} requests per scenario, one at a time\n\n${rows.join('\n')}`);
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
