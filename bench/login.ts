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
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDatabase } from '../src/storage/database.ts';
import { KeyEncryption } from '../src/storage/key-encryption.ts';
import { RegistryRepository } from '../src/registry/registry.ts';
import { AccountRepository } from '../src/accounts/accounts.ts';
import { PasswordHasher } from '../src/accounts/passwords.ts';
import { currentTotp, newTotpSecret } from '../src/accounts/totp.ts';
import { loadConfig } from '../src/config/config.ts';
import { DEMO_CITIZENS } from '../src/admin/demo-data.ts';

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
const ROOT = path.resolve(import.meta.dirname, '..');
const REDIRECT = 'http://localhost:4000/callback';
const PASSWORD = 'Bench#Citizen-2026';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

let browsers = 0;

/**
 * A minimal cookie-keeping client for one simulated browser. Each comes from its own address in the
 * benchmarking range 198.18.0.0/15 (RFC 2544), as the loopback "proxy" in front of the server says in
 * X-Forwarded-For — so the per-address sign-in limit applies per simulated citizen, as in real life.
 * (The header is only a label: every request goes to the loopback server.)
 */
class Session {
  readonly #cookies = new Map<string, string>();
  readonly #address = `198.18.${Math.floor(browsers / 250) % 256}.${(browsers++ % 250) + 1}`;
  async request(url: string, init: { method?: string; body?: string; auth?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { 'x-forwarded-for': this.#address };
    if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (init.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (init.auth) headers.authorization = init.auth;
    const response = await fetch(url, { method: init.method ?? 'GET', redirect: 'manual', headers, ...(init.body !== undefined && { body: init.body }) });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at);
      const value = pair!.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }
}

interface Citizen {
  readonly nationalId: string;
  readonly totpSecret: string;
}

async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: Buffer.from(digest).toString('base64url') };
}

/** One whole sign-in; returns when the token endpoint answered with an ID token. */
async function signInOnce(issuer: string, citizen: Citizen, levelTwo: boolean): Promise<void> {
  const browser = new Session();
  const { verifier, challenge } = await pkce();
  const params = new URLSearchParams({
    client_id: 'demo-portal',
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid profile',
    state: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(levelTwo && { acr_values: 'urn:vn:eid:loa:2' }),
  });
  let response = await browser.request(`${issuer}/auth?${params.toString()}`);
  let location = new URL(response.headers.get('location')!, issuer).href;
  const uid = location.split('/').pop()!;
  await (await browser.request(location)).text();
  response = await browser.request(`${issuer}/interaction/${uid}/login`, {
    method: 'POST',
    body: new URLSearchParams({ username: citizen.nationalId, password: PASSWORD }).toString(),
  });
  if (response.status !== 303) throw new Error(`login answered ${response.status}`);
  location = new URL(response.headers.get('location')!, issuer).href;
  if (levelTwo) {
    await (await browser.request(location)).text();
    response = await browser.request(`${issuer}/interaction/${uid}/otp`, {
      method: 'POST',
      body: new URLSearchParams({ otp: await currentTotp(citizen.totpSecret) }).toString(),
    });
    if (response.status !== 303) throw new Error(`otp answered ${response.status}`);
    location = new URL(response.headers.get('location')!, issuer).href;
  }
  for (let hops = 0; hops < 6 && !location.startsWith(REDIRECT); hops += 1) {
    response = await browser.request(location);
    if (response.status === 200) {
      // The consent page: agree (once per citizen; later sign-ins skip it).
      await response.text();
      response = await browser.request(`${location}/consent`, { method: 'POST', body: 'lang=vi' });
    }
    location = new URL(response.headers.get('location')!, issuer).href;
  }
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code: ${location}`);
  response = await browser.request(`${issuer}/token`, {
    method: 'POST',
    auth: `Basic ${Buffer.from('demo-portal:demo-portal-secret').toString('base64')}`,
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }).toString(),
  });
  const tokens = (await response.json()) as { id_token?: string };
  if (!tokens.id_token) throw new Error(`token endpoint answered ${response.status}`);
}

/** Runs `work` from `concurrency` loops for `seconds`; returns completions and per-item latencies. */
async function load(seconds: number, concurrency: number, work: (worker: number, round: number) => Promise<void>) {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let failures = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let round = 0; performance.now() < deadline; round += 1) {
        const started = performance.now();
        try {
          await work(worker, round);
          latencies.push(performance.now() - started);
        } catch {
          failures += 1;
        }
      }
    }),
  );
  return { completed: latencies.length, failures, perSecond: latencies.length / seconds, latencies };
}

async function argon2VerifyRate(seconds: number): Promise<number> {
  const config = loadConfig({ NODE_ENV: 'development' });
  // The project's own hasher, as many at once as the server allows itself: a like-for-like ceiling.
  const hasher = new PasswordHasher(config.argon2, { concurrent: config.argon2.concurrent, queued: 10_000 });
  const hash = await hasher.hash(PASSWORD);
  const result = await load(seconds, config.argon2.concurrent, async () => {
    await hasher.verify(hash, PASSWORD);
  });
  return result.perSecond;
}

async function main(): Promise<void> {
  const databaseName = `cidp_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: args['postgres-url'] });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const databaseUrl = new URL(args['postgres-url']);
  databaseUrl.pathname = `/${databaseName}`;
  const port = await freePort();
  const adminPort = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const kek = randomBytes(32);
  let server: ChildProcess | undefined;
  try {
    server = spawn(process.execPath, ['src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        ISSUER: issuer,
        DATABASE_URL: databaseUrl.href,
        REDIS_URL: args['redis-url'],
        REDIS_KEY_PREFIX: `bench-${randomBytes(3).toString('hex')}:`,
        KEY_ENCRYPTION_KEY: kek.toString('base64'),
        PAIRWISE_KEY: randomBytes(32).toString('base64'),
        LOG_LEVEL: 'warn',
        // The benchmark is the proxy: X-Forwarded-For from loopback is believed.
        TRUSTED_PROXIES: '127.0.0.1,::1',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let tries = 0; ; tries += 1) {
      if (tries > 120) throw new Error('the server did not start');
      try {
        if ((await fetch(`${issuer}/readyz`)).ok && (await fetch(`${issuer}/.well-known/openid-configuration`)).ok) break;
      } catch {
        // not up yet
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the demo seed finishes before listening; settle

    // Bench citizens: level-2 accounts with their own TOTP secrets (a TOTP code is good once per
    // 30-second step and account, so the TOTP flow needs many people).
    const db = createDatabase(databaseUrl.href);
    const sealer = new KeyEncryption(kek);
    const registry = new RegistryRepository(db);
    const accounts = new AccountRepository(db);
    const config = loadConfig({ NODE_ENV: 'development' });
    const passwordHash = await new PasswordHasher(config.argon2).hash(PASSWORD);
    const template = DEMO_CITIZENS[0]!.record;
    const citizens: Citizen[] = [];
    for (let index = 0; index < CITIZENS; index += 1) {
      const nationalId = `0010995${String(index).padStart(5, '0')}`;
      const totpSecret = newTotpSecret();
      await registry.upsert({ ...template, nationalId, fullName: 'Nguyễn Văn Bench' });
      await accounts.enrol({
        nationalId,
        level: 2,
        passwordHash,
        totpSecretSealed: sealer.seal(totpSecret, `totp:${nationalId}`),
        phoneNumber: null,
        phoneNumberVerified: false,
        email: null,
        emailVerified: false,
      });
      citizens.push({ nationalId, totpSecret });
    }
    await db.destroy();

    const verifyRate = await argon2VerifyRate(Math.min(SECONDS, 10));
    // Warm up (JIT, pools, consent given once per citizen).
    await load(3, CONCURRENCY, (worker, round) => signInOnce(issuer, citizens[(worker * 997 + round) % CITIZENS]!, false));
    let next = 0;
    const password = await load(SECONDS, CONCURRENCY, () => signInOnce(issuer, citizens[next++ % CITIZENS]!, false));
    // Each TOTP sign-in takes a citizen who has not used this 30-second step yet.
    let fresh = 0;
    const totp = await load(Math.min(SECONDS, 25), CONCURRENCY, () => signInOnce(issuer, citizens[fresh++ % CITIZENS]!, true));

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
    server?.kill('SIGTERM');
    await new Promise((resolve) => (server ? server.once('exit', resolve) : resolve(undefined)));
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
