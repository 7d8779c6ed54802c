// Shared by the benchmarks (bench/login.ts, bench/protocol.ts): the load loop and percentiles, a
// cookie-keeping browser, the whole code flow with a password, the server started on a fresh
// database, bench citizens, the argon2 baseline and a description of the machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDatabase } from '../src/storage/database.ts';
import { createRedis } from '../src/storage/redis.ts';
import { KeyEncryption } from '../src/storage/key-encryption.ts';
import { RegistryRepository } from '../src/registry/registry.ts';
import { PostgresAccountStore } from '../src/accounts/account-store-postgres.ts';
import { PasswordHasher } from '../src/accounts/passwords.ts';
import { currentTotp, newTotpSecret } from '../src/accounts/totp.ts';
import { loadConfig } from '../src/config/config.ts';
import { DEMO_CITIZENS } from '../src/admin/demo-data.ts';
import { cpuBetween, median, readCpu, redisServerPid, type CpuReader } from './cpu.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const REDIRECT = 'http://localhost:4000/callback';
export const PASSWORD = 'Bench#Citizen-2026';

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function freePort(): Promise<number> {
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
export class Session {
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

export interface Citizen {
  readonly nationalId: string;
  readonly totpSecret: string;
}

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: Buffer.from(digest).toString('base64url') };
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
}

/** The demo clients' credentials (docs/design.md's demo data). */
export const SERVICE = basicAuth('demo-service', 'demo-service-secret');
export const PORTAL = basicAuth('demo-portal', 'demo-portal-secret');

/** A form POST with client authentication; the JSON answer, or an error naming the endpoint and status. */
export async function post(url: string, auth: string, body: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
    body: new URLSearchParams(body).toString(),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${new URL(url).pathname} answered ${response.status} ${String(json.error)}`);
  return json;
}

export interface TokenSet {
  readonly id_token?: string;
  readonly access_token?: string;
  readonly refresh_token?: string;
}

export interface SignInOptions {
  /** Ask for a second factor (acr_values level 2). */
  readonly levelTwo?: boolean;
  readonly scope?: string;
  /** `consent` to be asked again (oidc-provider issues refresh tokens for offline_access only then). */
  readonly prompt?: string;
}

/**
 * One whole sign-in of demo-portal; returns the token endpoint's answer once it carried an ID token.
 * Works against the project's pages and against bench/bare-provider.ts (same paths and form fields).
 */
export async function signInOnce(issuer: string, citizen: Citizen, options: SignInOptions = {}): Promise<TokenSet> {
  const browser = new Session();
  const { verifier, challenge } = await pkce();
  const params = new URLSearchParams({
    client_id: 'demo-portal',
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: options.scope ?? 'openid profile',
    state: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(options.levelTwo && { acr_values: 'urn:vn:eid:loa:2' }),
    ...(options.prompt && { prompt: options.prompt }),
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
  if (options.levelTwo) {
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
    auth: basicAuth('demo-portal', 'demo-portal-secret'),
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }).toString(),
  });
  const tokens = (await response.json()) as TokenSet;
  if (!tokens.id_token) throw new Error(`token endpoint answered ${response.status}`);
  return tokens;
}

export interface LoadResult {
  readonly completed: number;
  readonly failures: number;
  readonly perSecond: number;
  readonly latencies: number[];
  /** The first failure's message, to tell a broken scenario from a slow one. */
  readonly firstError: string | undefined;
}

/** Runs `work` from `concurrency` loops for `seconds`; returns completions and per-item latencies. */
export async function load(seconds: number, concurrency: number, work: (worker: number, round: number) => Promise<unknown>): Promise<LoadResult> {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let round = 0; performance.now() < deadline; round += 1) {
        const started = performance.now();
        try {
          await work(worker, round);
          latencies.push(performance.now() - started);
        } catch (error) {
          failures += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  return { completed: latencies.length, failures, perSecond: latencies.length / seconds, latencies, firstError };
}

/**
 * This project's argon2id verify rate: its own hasher and parameters, as many at once as the server
 * allows itself; and the CPU one verify costs (this process's, its hashing threads included), which a
 * sign-in's CPU is compared without.
 */
export async function argon2Verifies(seconds: number): Promise<{ perSecond: number; cpuMicros: number }> {
  const config = loadConfig({ NODE_ENV: 'development' });
  const hasher = new PasswordHasher(config.argon2, { concurrent: config.argon2.concurrent, queued: 10_000 });
  const hash = await hasher.hash(PASSWORD);
  const before = process.cpuUsage();
  const result = await load(seconds, config.argon2.concurrent, async () => {
    await hasher.verify(hash, PASSWORD);
  });
  const used = process.cpuUsage(before);
  return { perSecond: result.perSecond, cpuMicros: (used.user + used.system) / result.completed };
}

export interface MeasuredResult extends LoadResult {
  /** CPU microseconds per completed request, by process (the names of the readers given). */
  readonly cpu: Record<string, number>;
}

/** load() with each reader's CPU read at the start and end of the run (bench/cpu.ts). */
export async function measuredLoad(
  seconds: number,
  concurrency: number,
  work: (worker: number, round: number) => Promise<unknown>,
  readers: Record<string, CpuReader>,
): Promise<MeasuredResult> {
  const start = await readCpu(readers);
  const result = await load(seconds, concurrency, work);
  const used = cpuBetween(start, await readCpu(readers));
  const cpu = Object.fromEntries(Object.entries(used).map(([name, micros]) => [name, micros / Math.max(1, result.completed)]));
  return { ...result, cpu };
}

/**
 * Rounds of one scenario as one result: the median round's rate, every latency, and for each process
 * the median over rounds of its CPU per request.
 */
export function combineRounds(rounds: readonly MeasuredResult[]): MeasuredResult {
  const names = Object.keys(rounds[0]?.cpu ?? {});
  return {
    completed: rounds.reduce((sum, result) => sum + result.completed, 0),
    failures: rounds.reduce((sum, result) => sum + result.failures, 0),
    perSecond: median(rounds.map((result) => result.perSecond)),
    latencies: rounds.flatMap((result) => result.latencies),
    firstError: rounds.find((result) => result.firstError)?.firstError,
    cpu: Object.fromEntries(names.map((name) => [name, median(rounds.map((result) => result.cpu[name] ?? Number.NaN))])),
  };
}

/** CPU µs as the tables print them. */
export const micros = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? '—' : `${value.toFixed(0)} µs`);

/** The bare library (bench/bare-provider.ts) in a process of its own. */
export async function startBareProvider(): Promise<{ issuer: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bench/bare-provider.ts', '--port', String(port)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const issuer = await new Promise<string>((resolve, reject) => {
    child.once('exit', () => reject(new Error('the bare provider did not start')));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const ready = /ready (\S+)/.exec(chunk);
      if (ready) resolve(ready[1]!);
    });
  });
  return {
    issuer,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The Redis a benchmark uses, and the pid whose CPU is Redis's. Unless a URL is given (--redis-url or
 * BENCH_REDIS_URL), a redis-server of the benchmark's own on a free loopback port, without
 * persistence: on a shared machine the system's Redis also serves others, whose commands would count.
 */
export async function benchRedis(url: string | undefined): Promise<{ url: string; pid: number | undefined; stop(): Promise<void> }> {
  if (url) return { url, pid: redisServerPid(Number(new URL(url).port || 6379)), stop: () => Promise.resolve() };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const own = `redis://127.0.0.1:${port}/3`;
  for (let tries = 0; ; tries += 1) {
    if (tries > 50 || child.exitCode !== null) throw new Error('redis-server did not start (is it installed? or give --redis-url)');
    const probe = createRedis(own, { commandTimeoutMs: 1000 });
    probe.on('error', () => undefined); // not up yet: the loop tries again
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      probe.disconnect();
    }
  }
  return {
    url: own,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface BenchServer {
  readonly issuer: string;
  /** The name of its database (pg_stat_activity's datname). */
  readonly databaseName: string;
  readonly databaseUrl: string;
  readonly kek: Buffer;
  readonly redisUrl: string;
  /** The server's own Redis key prefix. */
  readonly redisPrefix: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node src/main.ts` on a fresh PostgreSQL database and a Redis key prefix of its own, and
 * waits until it is ready. stop() ends it and drops the database.
 */
/**
 * Starts the server (`node src/main.ts`) on a fresh database of its own next to `postgresUrl`, dropped
 * when it stops — or, given `databaseUrl`, on that database, which is left as it is.
 */
export async function startBenchServer(options: { postgresUrl: string; redisUrl: string; nodeOptions?: string[]; databaseUrl?: string }): Promise<BenchServer> {
  const databaseName = `cidp_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.postgresUrl });
  await admin.connect();
  if (!options.databaseUrl) await admin.query(`CREATE DATABASE ${databaseName}`);
  const databaseUrl = new URL(options.databaseUrl ?? options.postgresUrl);
  if (!options.databaseUrl) databaseUrl.pathname = `/${databaseName}`;
  const port = await freePort();
  const adminPort = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const kek = randomBytes(32);
  const redisPrefix = `bench-${randomBytes(3).toString('hex')}:`;
  const server = spawn(process.execPath, [...(options.nodeOptions ?? []), 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      ISSUER: issuer,
      DATABASE_URL: databaseUrl.href,
      REDIS_URL: options.redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      KEY_ENCRYPTION_KEY: kek.toString('base64'),
      PAIRWISE_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
      // The benchmark is the proxy: X-Forwarded-For from loopback is believed.
      TRUSTED_PROXIES: '127.0.0.1,::1',
    },
    // BENCH_SERVER_LOG=<file>: the server's log lines (stdout) go there, to see why it failed.
    stdio: ['ignore', process.env.BENCH_SERVER_LOG ? openSync(process.env.BENCH_SERVER_LOG, 'a') : 'ignore', 'inherit'],
  });
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    if (!options.databaseUrl) await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
    await deleteKeys(options.redisUrl, redisPrefix);
  };
  try {
    for (let tries = 0; ; tries += 1) {
      if (tries > 120 || server.exitCode !== null) throw new Error('the server did not start');
      try {
        if ((await fetch(`${issuer}/readyz`)).ok && (await fetch(`${issuer}/.well-known/openid-configuration`)).ok) break;
      } catch {
        // not up yet
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the demo seed finishes before listening; settle
  } catch (error) {
    await stop();
    throw error;
  }
  return { issuer, databaseName: databaseUrl.pathname.slice(1), databaseUrl: databaseUrl.href, kek, redisUrl: options.redisUrl, redisPrefix, process: server, stop };
}

/** Deletes every key under `prefix` (what a bench server or measurement left); returns how many. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = createRedis(redisUrl, { commandTimeoutMs: 10_000 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/**
 * Bench citizens straight into the server's database: level-2 accounts with the bench password and
 * their own TOTP secrets (a TOTP code is good once per 30-second step and account).
 */
export async function enrolBenchCitizens(server: BenchServer, count: number): Promise<Citizen[]> {
  const db = createDatabase(server.databaseUrl);
  const sealer = new KeyEncryption(server.kek);
  const registry = new RegistryRepository(db);
  const accounts = new PostgresAccountStore(db);
  const config = loadConfig({ NODE_ENV: 'development' });
  const passwordHash = await new PasswordHasher(config.argon2).hash(PASSWORD);
  const template = DEMO_CITIZENS[0]!.record;
  const citizens: Citizen[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
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
  } finally {
    await db.destroy();
  }
  return citizens;
}

export function describeMachine(): { cpu: string; cores: number; memoryGiB: number; node: string } {
  return {
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
  };
}

/** The 1, 5 and 15-minute load averages, as `uptime` prints them. */
export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
}
