// Sign-in benchmark: the full authorization-code flow (authorize → login → consent once → token) per
// second, with a password and with password + TOTP, against a provider running in its own process,
// next to this machine's own argon2id verify rate measured in the same run (the flow should cost
// little beyond the hash). Then the token endpoint's p99 alone and during a flood of wrong passwords
// at the login form (hashing is bounded, so signing must not stall). Each process's CPU per sign-in
// (bench/cpu.ts) — provider, Redis, PostgreSQL, load generator — against the bare library's
// (bench/bare-provider.ts) in alternating rounds, with the issue-19 targets' verdicts.
//
//   npm run bench:login [-- --seconds 5 --rounds 3 --concurrency 8]
//
// It starts `node src/main.ts` on a fresh PostgreSQL database and a Redis key prefix of its own
// (a redis-server of its own unless --redis-url or BENCH_REDIS_URL names one),
// enrols bench citizens straight into that database, drives the flows over loopback and stops.
// The helpers are shared with bench/protocol.ts (bench/support.ts).
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.ts';
import { ownCpu, postgresBackends, processCpu, type CpuReader } from './cpu.ts';
import {
  argon2Verifies,
  benchRedis,
  combineRounds,
  enrolBenchCitizens,
  load,
  loadAverage,
  measuredLoad,
  micros,
  percentile,
  pkce,
  REDIRECT,
  Session,
  signInOnce,
  startBareProvider,
  startBenchServer,
  type MeasuredResult,
} from './support.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    // A TOTP code is good once per 30-second step and account: enough people for the TOTP run.
    citizens: { type: 'string', default: '1500' },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    // Without one (nor BENCH_REDIS_URL), a redis-server of the benchmark's own (bench/support.ts benchRedis).
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const CITIZENS = Number(args.citizens);
const log = (message: string) => console.error(`[login] ${message}`);
const verdict = (pass: boolean) => (pass ? '**met**' : '**not met**');

async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const started = new Date();
  const redis = await benchRedis(args['redis-url']);
  const server = await startBenchServer({ postgresUrl: args['postgres-url'], redisUrl: redis.url });
  const backends = postgresBackends(args['postgres-url'], server.databaseName);
  const bare = await startBareProvider();
  const { issuer } = server;
  try {
    const loadGenerator = ownCpu();
    const libraryReaders: Record<string, CpuReader> = { provider: processCpu(bare.pid), 'load generator': loadGenerator };
    const readers: Record<string, CpuReader> = {
      provider: processCpu(server.process.pid!),
      ...(redis.pid !== undefined && { Redis: processCpu(redis.pid) }),
      PostgreSQL: backends,
      'load generator': loadGenerator,
    };
    // Bench citizens: level-2 accounts with their own TOTP secrets (a TOTP code is good once per
    // 30-second step and account, so the TOTP flow needs many people).
    const citizens = await enrolBenchCitizens(server, CITIZENS);
    const config = loadConfig({ NODE_ENV: 'development' });
    log('argon2id verifies');
    const verify = await argon2Verifies(Math.min(SECONDS * 2, 10));
    // Warm up (JIT, pools, consent given once per citizen).
    log('warming up');
    await load(3, CONCURRENCY, (worker, round) => signInOnce(bare.issuer, citizens[(worker * 997 + round) % CITIZENS]!));
    await load(3, CONCURRENCY, (worker, round) => signInOnce(issuer, citizens[(worker * 997 + round) % CITIZENS]!));
    // Password sign-ins against the bare library and the provider in alternating rounds.
    let next = 0;
    const signIn = (target: string) => () => signInOnce(target, citizens[next++ % CITIZENS]!);
    const libraryRounds: MeasuredResult[] = [];
    const passwordRounds: MeasuredResult[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      log(`password sign-ins, round ${round + 1} of ${ROUNDS}`);
      libraryRounds.push(await measuredLoad(SECONDS, CONCURRENCY, signIn(bare.issuer), libraryReaders));
      passwordRounds.push(await measuredLoad(SECONDS, CONCURRENCY, signIn(issuer), readers));
    }
    const library = combineRounds(libraryRounds);
    const password = combineRounds(passwordRounds);
    await bare.stop();
    // Each TOTP sign-in takes a citizen who has not used this 30-second step yet.
    log('password + TOTP sign-ins');
    let fresh = 0;
    const totp = await measuredLoad(Math.min(SECONDS * ROUNDS, 25), CONCURRENCY, () => signInOnce(issuer, citizens[fresh++ % CITIZENS]!, { levelTwo: true }), readers);

    // The token endpoint (client credentials: an opaque token written to Redis) alone, then during a flood.
    const tokenRequest = async () => {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('demo-service:demo-service-secret').toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      });
      if (!response.ok) throw new Error(`token ${response.status}`);
      await response.arrayBuffer();
    };
    log('token endpoint, quiet, then during a password flood');
    const quiet = await measuredLoad(10, 4, tokenRequest, readers);
    const flooding = { stop: false, attempts: 0, busy: 0 };
    const flood = Promise.all(
      Array.from({ length: 32 }, async () => {
        while (!flooding.stop) {
          const browser = new Session();
          const { challenge } = await pkce();
          const auth = await browser.request(
            `${issuer}/auth?${new URLSearchParams({ client_id: 'demo-portal', response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' }).toString()}`,
          );
          const uid = auth.headers.get('location')!.split('/').pop()!;
          await (await browser.request(`${issuer}/interaction/${uid}`)).text();
          const login = await browser.request(`${issuer}/interaction/${uid}/login`, {
            method: 'POST',
            body: new URLSearchParams({ username: `0791990${String(flooding.attempts % 99_999).padStart(5, '0')}`, password: 'wrong password' }).toString(),
          });
          flooding.attempts += 1;
          if (login.status === 503) flooding.busy += 1;
          await login.arrayBuffer();
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const loud = await load(10, 4, tokenRequest);
    flooding.stop = true;
    await flood;

    const cores = availableParallelism();
    // A sign-in's provider CPU without its one argon2 verify (the bare library verifies once too, with the same hasher).
    const own = (result: MeasuredResult) => (result.cpu.provider ?? Number.NaN) - verify.cpuMicros;
    const stores = (result: MeasuredResult) => (result.cpu.Redis ?? Number.NaN) + (result.cpu.PostgreSQL ?? Number.NaN);
    const row = (name: string, result: MeasuredResult) =>
      `| ${name} | ${micros(result.cpu.provider)} | ${micros(result.cpu.Redis)} | ${micros(result.cpu.PostgreSQL)} | ${micros(result.cpu['load generator'])} | ${(1e6 / (result.cpu.provider ?? Number.NaN)).toFixed(1)} /s |`;
    const storesTarget = (name: string, result: MeasuredResult, base: number) =>
      `| ${name}: Redis + PostgreSQL ≤ 0.5× the provider's CPU | ${micros(stores(result))} against ${micros(base)} = ${(stores(result) / base).toFixed(2)}× | ${verdict(stores(result) <= 0.5 * base)} |`;
    const signInRatio = own(password) / own(library);
    const redisLabel = redis.pid === undefined ? 'Redis not on this machine (not read)' : args['redis-url'] ? 'Redis shared (others\' commands count too)' : "Redis the benchmark's own";
    const lines = [
      `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench:login -- --seconds ${SECONDS} --rounds ${ROUNDS} --concurrency ${CONCURRENCY}\`; load average ${loadBefore} before, ${loadAverage()} after`,
      `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`,
      `argon2id verify (m=${config.argon2.memoryKiB} KiB, t=${config.argon2.iterations}, ${config.argon2.concurrent} at once): ${verify.perSecond.toFixed(1)}/s, ${micros(verify.cpuMicros)} of CPU each`,
      '',
      `CPU per request by process (/proc utime + stime at the start and end of each run ÷ requests completed; sign-ins: median of ${ROUNDS} rounds alternating with the bare library). PostgreSQL: the backends of the bench's database; ${redisLabel}.`,
      '',
      '| run | provider | Redis | PostgreSQL | load generator | provider-only rate per core |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      row('bare library (bench/bare-provider.ts), password sign-in', library),
      row('citizen-idp, password sign-in', password),
      row('citizen-idp, password + TOTP sign-in', totp),
      row('citizen-idp, token endpoint (client credentials), quiet', quiet),
      '',
      '| target | measured | verdict |',
      '| --- | ---: | --- |',
      `| a password sign-in, its argon2 verify excluded, ≤ 1.3× the bare library's | ${micros(own(password))} against ${micros(own(library))} = ${signInRatio.toFixed(2)}× | ${verdict(signInRatio <= 1.3)} |`,
      storesTarget('password sign-in (provider without its verify)', password, own(password)),
      storesTarget('password + TOTP sign-in (provider without its verify)', totp, own(totp)),
      storesTarget('token endpoint (client credentials)', quiet, quiet.cpu.provider ?? Number.NaN),
      '',
      `sign-in, password:        ${password.perSecond.toFixed(1)}/s (${(password.perSecond / cores).toFixed(1)} per core), p50 ${percentile(password.latencies, 50).toFixed(0)} ms, p99 ${percentile(password.latencies, 99).toFixed(0)} ms, failures ${password.failures} — ${((password.perSecond / verify.perSecond) * 100).toFixed(0)}% of the verify rate (bare library: ${library.perSecond.toFixed(1)}/s)`,
      `sign-in, password + TOTP: ${totp.perSecond.toFixed(1)}/s (${(totp.perSecond / cores).toFixed(1)} per core), p50 ${percentile(totp.latencies, 50).toFixed(0)} ms, p99 ${percentile(totp.latencies, 99).toFixed(0)} ms, failures ${totp.failures}`,
      `token endpoint (client credentials), quiet:         ${quiet.perSecond.toFixed(0)}/s, p50 ${percentile(quiet.latencies, 50).toFixed(1)} ms, p99 ${percentile(quiet.latencies, 99).toFixed(1)} ms`,
      `token endpoint during a password flood (32 loops): ${loud.perSecond.toFixed(0)}/s, p50 ${percentile(loud.latencies, 50).toFixed(1)} ms, p99 ${percentile(loud.latencies, 99).toFixed(1)} ms; flood ${flooding.attempts} attempts, ${flooding.busy} answered 503`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await bare.stop();
    await backends.close();
    await server.stop();
    await redis.stop();
  }
}

await main();
