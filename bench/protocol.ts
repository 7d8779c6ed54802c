// Protocol benchmark (issue 9): client credentials, the full code flow with a password, refresh with
// rotation, userinfo and introspection — throughput and p50/p99 at a fixed concurrency — against this
// provider (real PostgreSQL and Redis) and, in the same run, against a bare oidc-provider with its
// in-memory adapter configured the same way (bench/bare-provider.ts: the library's own ceiling). Then
// the physical limits of the machine (ES256 signatures and argon2id verifies per second) and the Redis
// memory taken by 10,000 active sessions. Prints a Markdown report with the targets' verdicts.
//
//   npm run bench:protocol [-- --seconds 5 --rounds 3 --concurrency 16 --sessions 10000 --profile --only clientCredentials,userinfo]
//
// Everything runs on loopback. Both servers run in processes of their own, loaded in turn (never at
// once), in alternating rounds; the load generator shares the machine with them. --profile starts the
// provider under `node --cpu-prof` and prints where the profile went.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config/config.ts';
import { createRedis } from '../src/storage/redis.ts';
import { RedisEphemeralStore } from '../src/storage/ephemeral-store-redis.ts';
import { EphemeralModelStore } from '../src/oidc/models/ephemeral-model-store.ts';
import { ownCpu, postgresBackends, processCpu, type CpuReader } from './cpu.ts';
import {
  argon2Verifies,
  benchRedis,
  combineRounds,
  deleteKeys,
  describeMachine,
  enrolBenchCitizens,
  load,
  loadAverage,
  measuredLoad,
  micros,
  percentile,
  PORTAL,
  post,
  SERVICE,
  signInOnce,
  startBareProvider,
  startBenchServer,
  type Citizen,
  type LoadResult,
  type MeasuredResult,
  type TokenSet,
} from './support.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    citizens: { type: 'string', default: '100' },
    sessions: { type: 'string', default: '10000' },
    profile: { type: 'boolean', default: false },
    /** Some scenarios only, by key, comma-separated (e.g. clientCredentials,userinfo), to compare a change quickly. */
    only: { type: 'string' },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    // Without one (nor BENCH_REDIS_URL), a redis-server of the benchmark's own (bench/support.ts benchRedis).
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const CITIZENS = Number(args.citizens);
const SESSIONS = Number(args.sessions);
/** Keycloak's published sizing: 120 client-credentials grants and 120 refreshes per second per vCPU. */
const KEYCLOAK_PER_VCPU = 120;
const log = (message: string) => console.error(`[bench] ${message}`);

// ---------------------------------------------------------------------------------------------
// The machine's physical limits.

/** ES256 signatures per second on one core (node:crypto, a JWT-sized input, JOSE signature format). */
function es256SignRate(seconds: number): number {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const input = Buffer.from(`${Buffer.from('{"alg":"ES256","kid":"k"}').toString('base64url')}.${randomBytes(400).toString('base64url')}`);
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  while (performance.now() < deadline) {
    for (let index = 0; index < 100; index += 1) sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
    count += 100;
  }
  return count / seconds;
}

// ---------------------------------------------------------------------------------------------
// The protocol scenarios, the same against either server.

interface Endpoints {
  readonly token_endpoint: string;
  readonly introspection_endpoint: string;
  readonly userinfo_endpoint: string;
}

interface Scenarios {
  clientCredentials: MeasuredResult;
  introspection: MeasuredResult;
  codeFlow: MeasuredResult;
  refresh: MeasuredResult;
  userinfo: MeasuredResult;
}

const SCENARIO_NAMES: Record<keyof Scenarios, string> = {
  clientCredentials: 'client credentials (token endpoint)',
  introspection: 'introspection (of a client-credentials token)',
  codeFlow: 'full code flow with a password (authorize → login → token)',
  refresh: 'refresh with rotation',
  userinfo: 'userinfo (GET, bearer)',
};

async function clientCredentialsToken(endpoints: Endpoints): Promise<string> {
  const answer = await post(endpoints.token_endpoint, SERVICE, { grant_type: 'client_credentials' });
  return String(answer.access_token);
}

type Work = (worker: number, round: number) => Promise<unknown>;

/**
 * One server's scenarios, each a unit of work for one loop of the load. Prepares what they need first:
 * a client-credentials token per loop (to introspect), a consent given by every citizen, a refresh
 * token per loop (rotated on every use) and an access token per loop (for userinfo).
 */
async function prepareScenarios(name: string, issuer: string, citizens: readonly Citizen[]): Promise<Record<keyof Scenarios, Work>> {
  const endpoints = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Endpoints;
  const serviceTokens = await Promise.all(Array.from({ length: CONCURRENCY }, () => clientCredentialsToken(endpoints)));
  // Every citizen signs in once first: consent is asked once per citizen, then remembered.
  let next = 0;
  await load(0.1, CONCURRENCY, async () => {
    while (next < citizens.length) await signInOnce(issuer, citizens[next++]!);
  });
  // offline_access is honoured on prompt=consent only.
  const refreshTokens = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      const tokens = await signInOnce(issuer, citizens[worker % citizens.length]!, { scope: 'openid profile offline_access', prompt: 'consent' });
      if (!tokens.refresh_token) throw new Error(`${name}: no refresh token issued`);
      return tokens.refresh_token;
    }),
  );
  const accessTokens = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => (await signInOnce(issuer, citizens[worker % citizens.length]!)).access_token!),
  );
  return {
    clientCredentials: () => clientCredentialsToken(endpoints),
    introspection: async (worker) => {
      const answer = await post(endpoints.introspection_endpoint, SERVICE, { token: serviceTokens[worker]! });
      if (answer.active !== true) throw new Error('introspection: the token is not active');
    },
    codeFlow: () => signInOnce(issuer, citizens[next++ % citizens.length]!),
    refresh: async (worker) => {
      const answer = (await post(endpoints.token_endpoint, PORTAL, { grant_type: 'refresh_token', refresh_token: refreshTokens[worker]! })) as TokenSet;
      if (!answer.refresh_token || answer.refresh_token === refreshTokens[worker]) throw new Error('refresh: the token was not rotated');
      refreshTokens[worker] = answer.refresh_token;
    },
    userinfo: async (worker) => {
      const response = await fetch(endpoints.userinfo_endpoint, { headers: { authorization: `Bearer ${accessTokens[worker]!}` } });
      const claims = (await response.json()) as { sub?: string };
      if (!response.ok || !claims.sub) throw new Error(`userinfo answered ${response.status}`);
    },
  };
}

/**
 * Both servers in turn, ROUNDS times (after a warm-up of each): a shared machine's background load
 * drifts, and alternating short runs puts the same drift on both figures. Throughput is the median of
 * the rounds; latencies are those of every round; each process's CPU per request is read at the start
 * and end of every round (bench/cpu.ts), the median over rounds counts.
 */
async function measurePair(key: keyof Scenarios, library: Work, project: Work, readers: Readers): Promise<[MeasuredResult, MeasuredResult]> {
  const warmup = Math.min(3, SECONDS);
  await load(warmup, CONCURRENCY, library);
  await load(warmup, CONCURRENCY, project);
  const rounds: [MeasuredResult[], MeasuredResult[]] = [[], []];
  for (let round = 0; round < ROUNDS; round += 1) {
    rounds[0].push(await measuredLoad(SECONDS, CONCURRENCY, library, readers.library));
    rounds[1].push(await measuredLoad(SECONDS, CONCURRENCY, project, readers.project));
  }
  const [bare, ours] = rounds.map((results) => combineRounds(results)) as [MeasuredResult, MeasuredResult];
  for (const [name, result, perRound] of [['bare oidc-provider', bare, rounds[0]], ['citizen-idp', ours, rounds[1]]] as const) {
    const each = perRound.map((one) => `${one.perSecond.toFixed(0)}/s ${(one.cpu.provider ?? 0).toFixed(0)} µs`).join(', ');
    log(`${name}: ${key} ${result.perSecond.toFixed(1)}/s (rounds: ${each}), failures ${result.failures}${result.firstError ? ` (${result.firstError})` : ''}`);
  }
  return [bare, ours];
}

/** Whose CPU each side's rounds read: the server's process, and for the project Redis and PostgreSQL too; the load generator on both. */
interface Readers {
  readonly library: Record<string, CpuReader>;
  readonly project: Record<string, CpuReader>;
}

// ---------------------------------------------------------------------------------------------
// Redis memory per 10,000 active sessions.

async function usedMemory(redis: ReturnType<typeof createRedis>): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

/**
 * Writes `count` sessions through the project's own store (the keys a real session has: the item,
 * its cookie-uid index, its account's session set), shaped like a session the server just wrote in a
 * real sign-in, on a key prefix of their own; INFO memory before and after; then deletes them.
 */
async function sessionMemory(redisUrl: string, serverPrefix: string, count: number) {
  const prefix = `bench-sessions-${randomBytes(3).toString('hex')}:`;
  const plain = createRedis(redisUrl);
  const prefixed = createRedis(redisUrl, { keyPrefix: prefix, commandTimeoutMs: 10_000 });
  await Promise.all([plain.connect(), prefixed.connect()]);
  let deleted: number;
  let measured: { bytes: number; payloadBytes: number };
  try {
    // A real session of the sign-ins above, as a template.
    let template: Record<string, unknown> | undefined;
    let cursor = '0';
    do {
      const [nextCursor, keys] = await plain.scan(cursor, 'MATCH', `${serverPrefix}oidc:Session:{*`, 'COUNT', 1000);
      cursor = nextCursor;
      for (const key of keys) {
        const payload = await plain.hget(key, 'payload');
        if (payload && (JSON.parse(payload) as { accountId?: unknown }).accountId) template = JSON.parse(payload) as Record<string, unknown>;
      }
    } while (!template && cursor !== '0');
    if (!template) throw new Error('no signed-in session found to copy');
    const store = new EphemeralModelStore(new RedisEphemeralStore(prefixed));
    const before = await usedMemory(plain);
    const ttl = 3600;
    for (let start = 0; start < count; start += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, count - start) }, (_, offset) => {
          const id = randomBytes(16).toString('base64url').slice(0, 21);
          return store.upsert('Session', id, { ...template, jti: id, uid: randomBytes(16).toString('base64url').slice(0, 21), accountId: `bench-${start + offset}` }, ttl);
        }),
      );
    }
    measured = { bytes: (await usedMemory(plain)) - before, payloadBytes: JSON.stringify(template).length };
  } finally {
    plain.disconnect();
    prefixed.disconnect();
    deleted = await deleteKeys(redisUrl, prefix);
  }
  return { ...measured, perSession: measured.bytes / count, keysPerSession: deleted / count };
}

// ---------------------------------------------------------------------------------------------

async function versions(postgresUrl: string, redisUrl: string): Promise<{ postgres: string; redis: string }> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  const redis = createRedis(redisUrl);
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();
  return { postgres: rows[0]!.server_version, redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
}

const rate = (result: LoadResult) => `${result.perSecond.toFixed(0)} /s`;
const latency = (result: LoadResult) => `${percentile(result.latencies, 50).toFixed(1)} / ${percentile(result.latencies, 99).toFixed(1)} ms`;
const verdict = (pass: boolean) => (pass ? '**met**' : '**not met**');
/** Requests per second one core would serve if it ran nothing but the provider. */
const perCore = (microsPerRequest: number) => 1e6 / microsPerRequest;

async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const started = new Date();
  const machine = describeMachine();
  const config = loadConfig({ NODE_ENV: 'development' });
  const redisService = await benchRedis(args['redis-url']);
  const redisUrl = redisService.url;
  const { postgres, redis } = await versions(args['postgres-url'], redisUrl);

  log('ES256 signatures');
  const signRate = es256SignRate(3);
  let verify = { perSecond: Number.NaN, cpuMicros: Number.NaN };

  const profileDir = args.profile ? mkdtempSync(path.join(tmpdir(), 'cidp-cpu-prof-')) : undefined;
  log('starting the provider (PostgreSQL, Redis) and the bare library');
  const server = await startBenchServer({
    postgresUrl: args['postgres-url'],
    redisUrl,
    ...(profileDir && { nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] }),
  });
  const backends = postgresBackends(args['postgres-url'], server.databaseName);
  let bare: Awaited<ReturnType<typeof startBareProvider>> | undefined;
  let project: Scenarios;
  let library: Scenarios;
  let memory: Awaited<ReturnType<typeof sessionMemory>> | undefined;
  const keys = (Object.keys(SCENARIO_NAMES) as (keyof Scenarios)[]).filter((key) => !args.only || args.only.split(',').includes(key));
  try {
    bare = await startBareProvider();
    const loadGenerator = ownCpu();
    const readers: Readers = {
      library: { provider: processCpu(bare.pid), 'load generator': loadGenerator },
      project: {
        provider: processCpu(server.process.pid!),
        ...(redisService.pid !== undefined && { Redis: processCpu(redisService.pid) }),
        PostgreSQL: backends,
        'load generator': loadGenerator,
      },
    };
    const citizens = await enrolBenchCitizens(server, CITIZENS);
    const libraryWork = await prepareScenarios('bare oidc-provider', bare.issuer, citizens);
    const projectWork = await prepareScenarios('citizen-idp', server.issuer, citizens);
    // Each scenario against one server, then at once against the other: the background load of a
    // shared machine drifts less between the two figures compared.
    const libraryResults: Partial<Scenarios> = {};
    const projectResults: Partial<Scenarios> = {};
    for (const key of keys) {
      // The argon2 baseline just before the sign-ins it is compared with, both servers idle.
      if (key === 'codeFlow') {
        log('argon2id verifies');
        verify = await argon2Verifies(5);
      }
      [libraryResults[key], projectResults[key]] = await measurePair(key, libraryWork[key], projectWork[key], readers);
    }
    library = libraryResults as Scenarios;
    project = projectResults as Scenarios;
    await bare.stop();
    if (SESSIONS > 0) {
      log(`Redis memory of ${SESSIONS} sessions`);
      memory = await sessionMemory(redisUrl, server.redisPrefix, SESSIONS);
    }
  } finally {
    await bare?.stop();
    await backends.close();
    await server.stop();
    await redisService.stop();
  }
  const loadAfter = loadAverage();

  const cores = machine.cores;
  const ratio = (key: keyof Scenarios) => project[key].perSecond / library[key].perSecond;
  // A sign-in's provider CPU without its one argon2 verify (both servers verify once, with the same hasher).
  const withoutVerify = (result: MeasuredResult, key: keyof Scenarios) => (result.cpu.provider ?? Number.NaN) - (key === 'codeFlow' ? verify.cpuMicros : 0);
  const cpuRatio = (key: keyof Scenarios) => withoutVerify(project[key], key) / withoutVerify(library[key], key);
  const stores = (key: keyof Scenarios) => (project[key].cpu.Redis ?? Number.NaN) + (project[key].cpu.PostgreSQL ?? Number.NaN);
  const ccRate = keys.includes('clientCredentials') ? perCore(project.clientCredentials.cpu.provider!) : Number.NaN;
  const refreshRate = keys.includes('refresh') ? perCore(project.refresh.cpu.provider!) : Number.NaN;
  const cpuTarget = (key: keyof Scenarios, limit: number) =>
    `| ${SCENARIO_NAMES[key]}: provider CPU per request ≤ ${limit}× the bare library's${key === 'codeFlow' ? ' (each without its argon2 verify)' : ''} | ` +
    `${micros(withoutVerify(project[key], key))} against ${micros(withoutVerify(library[key], key))} = ${cpuRatio(key).toFixed(2)}× | ${verdict(cpuRatio(key) <= limit)} |`;
  const redisLabel = redisService.pid === undefined ? 'Redis (not on this machine: not read)' : args['redis-url'] ? 'Redis (shared: others\' commands count too)' : 'Redis (the benchmark\'s own)';
  const lines = [
    `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench:protocol -- --seconds ${SECONDS} --rounds ${ROUNDS} --concurrency ${CONCURRENCY}\``,
    '',
    `Machine: ${machine.cpu}, ${cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${postgres}, Redis ${redis}; ` +
      `load average (1, 5, 15 min) ${loadBefore} before, ${loadAfter} after. The load generator runs on the same cores.`,
    '',
    `CPU per request by process (/proc utime + stime at the start and end of each round, ÷ requests completed; median of ${ROUNDS} rounds). ` +
      `PostgreSQL: the backends of the bench's database. ${redisLabel}. Provider-only rate per core = 1 s ÷ the provider's CPU per request.`,
    '',
    '| scenario | bare library: its process | load generator | citizen-idp: provider | Redis | PostgreSQL | load generator | provider ÷ bare | provider-only rate per core (bare) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...keys.map(
      (key) =>
        `| ${SCENARIO_NAMES[key]} | ${micros(library[key].cpu.provider)} | ${micros(library[key].cpu['load generator'])} | ${micros(project[key].cpu.provider)} | ` +
        `${micros(project[key].cpu.Redis)} | ${micros(project[key].cpu.PostgreSQL)} | ${micros(project[key].cpu['load generator'])} | ` +
        `${(project[key].cpu.provider! / library[key].cpu.provider!).toFixed(2)}× | ${perCore(project[key].cpu.provider!).toFixed(0)} /s (${perCore(library[key].cpu.provider!).toFixed(0)} /s) |`,
    ),
    `| one argon2id verify (this process, hashing threads included) | | | ${micros(verify.cpuMicros)} | | | | | |`,
    '',
    '| target (provider process only, against the bare library in the same run) | measured | verdict |',
    '| --- | ---: | --- |',
    ...(
      [
        ['clientCredentials', 1.3],
        ['introspection', 1.3],
        ['refresh', 2],
        ['userinfo', 2],
        ['codeFlow', 1.3],
      ] as const
    )
      .filter(([key]) => keys.includes(key))
      .map(([key, limit]) => cpuTarget(key, limit)),
    ...keys.map(
      (key) =>
        `| ${SCENARIO_NAMES[key]}: Redis + PostgreSQL ≤ 0.5× the provider's CPU per request${key === 'codeFlow' ? ' (without its argon2 verify)' : ''} | ` +
        `${micros(stores(key))} against ${micros(withoutVerify(project[key], key))} = ${(stores(key) / withoutVerify(project[key], key)).toFixed(2)}× | ${verdict(stores(key) <= 0.5 * withoutVerify(project[key], key))} |`,
    ),
    ...(keys.includes('clientCredentials')
      ? [`| client credentials, provider-only rate per core ≥ 15× Keycloak's ${KEYCLOAK_PER_VCPU} /s per vCPU | ${ccRate.toFixed(0)} /s = ${(ccRate / KEYCLOAK_PER_VCPU).toFixed(1)}× | ${verdict(ccRate >= 15 * KEYCLOAK_PER_VCPU)} |`]
      : []),
    ...(keys.includes('refresh')
      ? [`| refresh, provider-only rate per core ≥ 10× Keycloak's ${KEYCLOAK_PER_VCPU} /s per vCPU | ${refreshRate.toFixed(0)} /s = ${(refreshRate / KEYCLOAK_PER_VCPU).toFixed(1)}× | ${verdict(refreshRate >= 10 * KEYCLOAK_PER_VCPU)} |`]
      : []),
    '',
    `Throughput, for reference (not a target: on this machine it measures every process's CPU together; concurrency ${CONCURRENCY}, median of ${ROUNDS} alternating ${SECONDS}-second runs):`,
    '',
    '| scenario | bare oidc-provider | p50 / p99 | citizen-idp | p50 / p99 | ratio | failures |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...keys.map(
      (key) =>
        `| ${SCENARIO_NAMES[key]} | ${rate(library[key])} | ${latency(library[key])} | ${rate(project[key])} | ${latency(project[key])} | ${ratio(key).toFixed(2)}× | ${library[key].failures} / ${project[key].failures} |`,
    ),
    '',
    '| physical limit | figure |',
    '| --- | ---: |',
    `| ES256 signatures (node:crypto, one core) | ${signRate.toFixed(0)} /s |`,
    ...(keys.includes('codeFlow')
      ? [`| argon2id verifies (m = ${config.argon2.memoryKiB} KiB, t = ${config.argon2.iterations}, p = ${config.argon2.parallelism}, ${config.argon2.concurrent} at once) | ${verify.perSecond.toFixed(1)} /s |`]
      : []),
    ...(memory
      ? [`| Redis memory per ${SESSIONS.toLocaleString('en')} active sessions (${memory.keysPerSession.toFixed(1)} keys each, payload ${memory.payloadBytes} B) | ${(memory.bytes / 2 ** 20).toFixed(1)} MiB (${memory.perSession.toFixed(0)} B per session) |`]
      : []),
  ];
  if (profileDir) lines.push('', `CPU profile of the provider: ${profileDir}`);
  console.log(lines.join('\n'));
}

await main();
