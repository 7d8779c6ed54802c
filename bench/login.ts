// Sign-in benchmark: the full authorization-code flow (authorize → login → consent once → token) per
// second, with a password and with password + TOTP, against a provider running in its own process,
// next to this machine's own argon2id verify rate measured in the same run (the flow should cost
// little beyond the hash). Then the token endpoint's p99 alone and during a flood of wrong passwords
// at the login form (hashing is bounded, so signing must not stall).
//
//   npm run bench:login [-- --seconds 20 --concurrency 8]
//
// It starts `node src/main.ts` on a fresh PostgreSQL database and a Redis key prefix of its own,
// enrols bench citizens straight into that database, drives the flows over loopback and stops.
// The helpers are shared with bench/protocol.ts (bench/support.ts).
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.ts';
import { argon2VerifyRate, enrolBenchCitizens, load, percentile, pkce, REDIRECT, Session, signInOnce, startBenchServer } from './support.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '8' },
    // A TOTP code is good once per 30-second step and account: enough people for the TOTP run.
    citizens: { type: 'string', default: '1500' },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/3' },
  },
});
const SECONDS = Number(args.seconds);
const CONCURRENCY = Number(args.concurrency);
const CITIZENS = Number(args.citizens);

async function main(): Promise<void> {
  const server = await startBenchServer({ postgresUrl: args['postgres-url'], redisUrl: args['redis-url'] });
  const { issuer } = server;
  try {
    // Bench citizens: level-2 accounts with their own TOTP secrets (a TOTP code is good once per
    // 30-second step and account, so the TOTP flow needs many people).
    const citizens = await enrolBenchCitizens(server, CITIZENS);
    const config = loadConfig({ NODE_ENV: 'development' });
    const verifyRate = await argon2VerifyRate(Math.min(SECONDS, 10));
    // Warm up (JIT, pools, consent given once per citizen).
    await load(3, CONCURRENCY, (worker, round) => signInOnce(issuer, citizens[(worker * 997 + round) % CITIZENS]!));
    let next = 0;
    const password = await load(SECONDS, CONCURRENCY, () => signInOnce(issuer, citizens[next++ % CITIZENS]!));
    // Each TOTP sign-in takes a citizen who has not used this 30-second step yet.
    let fresh = 0;
    const totp = await load(Math.min(SECONDS, 25), CONCURRENCY, () => signInOnce(issuer, citizens[fresh++ % CITIZENS]!, { levelTwo: true }));

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
    const quiet = await load(10, 4, tokenRequest);
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
    const lines = [
      `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`,
      `argon2id verify (m=${config.argon2.memoryKiB} KiB, t=${config.argon2.iterations}, ${config.argon2.concurrent} at once): ${verifyRate.toFixed(1)}/s`,
      `sign-in, password:        ${password.perSecond.toFixed(1)}/s (${(password.perSecond / cores).toFixed(1)} per core), p50 ${percentile(password.latencies, 50).toFixed(0)} ms, p99 ${percentile(password.latencies, 99).toFixed(0)} ms, failures ${password.failures} — ${((password.perSecond / verifyRate) * 100).toFixed(0)}% of the verify rate`,
      `sign-in, password + TOTP: ${totp.perSecond.toFixed(1)}/s (${(totp.perSecond / cores).toFixed(1)} per core), p50 ${percentile(totp.latencies, 50).toFixed(0)} ms, p99 ${percentile(totp.latencies, 99).toFixed(0)} ms, failures ${totp.failures}`,
      `token endpoint (client credentials), quiet:         ${quiet.perSecond.toFixed(0)}/s, p50 ${percentile(quiet.latencies, 50).toFixed(1)} ms, p99 ${percentile(quiet.latencies, 99).toFixed(1)} ms`,
      `token endpoint during a password flood (32 loops): ${loud.perSecond.toFixed(0)}/s, p50 ${percentile(loud.latencies, 50).toFixed(1)} ms, p99 ${percentile(loud.latencies, 99).toFixed(1)} ms; flood ${flooding.attempts} attempts, ${flooding.busy} answered 503`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await server.stop();
  }
}

await main();
