// Builds each suite its own world on the machine's real services: a fresh PostgreSQL database, a
// Redis database flushed for it, and (when asked) a server listening on loopback ports.
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { buildServer, type PageRoutes, type Server } from '../../src/server.ts';
import type { ConfirmationPolicy } from '../../src/accounts/contact-confirmation.ts';
import { createLogger } from '../../src/observability/logger.ts';

/** The machine's PostgreSQL (trust auth); each suite gets a database of its own created from it. */
export const POSTGRES_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/**
 * Redis database 1 holds the test servers' keys, each server under a prefix of its own, so suites
 * running at the same time never see each other's keys. Nothing flushes it; every key has a TTL.
 */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/1';
/** Redis database 2 is for suites that test the stores themselves and flush it first. */
export const STORE_TEST_REDIS_URL = process.env.STORE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/2';

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `cidp_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Empties the store suites' database (2), never the servers' (1). */
export async function flushTestRedis(): Promise<void> {
  const redis = new Redis(STORE_TEST_REDIS_URL);
  await redis.flushdb();
  redis.disconnect();
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A test configuration: NODE_ENV=test, fixed fresh secrets, the given storage, loopback ports. */
export function testConfig(settings: {
  port: number;
  adminPort: number;
  databaseUrl?: string;
  redisUrl?: string;
  dataDir?: string;
  overrides?: Partial<Record<keyof Config, unknown>>;
}): Config {
  return loadConfig(
    {
      NODE_ENV: 'test',
      PORT: String(settings.port),
      ADMIN_PORT: String(settings.adminPort),
      ISSUER: `http://127.0.0.1:${settings.port}`,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PAIRWISE_KEY: randomBytes(32).toString('base64'),
      ...(settings.databaseUrl && { DATABASE_URL: settings.databaseUrl }),
      ...(settings.redisUrl && { REDIS_URL: settings.redisUrl, REDIS_KEY_PREFIX: `test-${randomBytes(4).toString('hex')}:` }),
      ...(settings.dataDir && { DATA_DIR: settings.dataDir }),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    },
    settings.overrides ? { overrides: settings.overrides } : {},
  );
}

export interface RunningServer {
  readonly server: Server;
  readonly config: Config;
  readonly issuer: string;
  readonly adminUrl: string;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

/** Serves a Koa app over http on 127.0.0.1:`port`. */
export function listen(app: { callback(): Parameters<typeof createServer>[1] }, port: number): Promise<HttpServer> {
  const http = createServer(app.callback());
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve(http));
  });
}

/**
 * A whole server on a fresh database and the test Redis (or the in-memory store with
 * `{ redis: false }`), listening on free loopback ports. Demo data is seeded unless `seed: false`.
 */
export async function startTestServer(
  options: {
    redis?: boolean;
    seed?: boolean;
    overrides?: Partial<Record<keyof Config, unknown>>;
    logDestination?: NodeJS.WritableStream;
    /** The level of the logs written to logDestination (default info). */
    logLevel?: string;
    /** Extra page routes for the public app (features under construction). */
    pageRoutes?: readonly PageRoutes[];
    /** Registration's code lifetime, tries and hourly limits (shorter than the default). */
    confirmationPolicy?: Partial<ConfirmationPolicy>;
    /** The calendar day (YYYY-MM-DD, Vietnam) the representation rules see; a test's own clock. */
    today?: () => string;
    /** A second instance of another test server: same database, Redis prefix and secrets. */
    sameStorageAs?: RunningServer;
    /** The issuer's host name (passkey tests need `localhost`: WebAuthn refuses IP addresses). */
    issuerHost?: 'localhost' | '127.0.0.1';
  } = {},
): Promise<RunningServer> {
  const shared = options.sameStorageAs;
  const database = shared ? shared.database : await createTestDatabase();
  const port = await freePort();
  const adminPort = await freePort();
  const config = testConfig({
    port,
    adminPort,
    databaseUrl: database.url,
    ...(options.redis !== false && { redisUrl: TEST_REDIS_URL }),
    overrides: {
      ...(options.issuerHost && { issuer: `http://${options.issuerHost}:${port}` }),
      ...options.overrides,
      ...(shared && {
        redisKeyPrefix: shared.config.redisKeyPrefix,
        keyEncryptionKey: shared.config.keyEncryptionKey!.toString('base64'),
        pairwiseKey: shared.config.pairwiseKey!.toString('base64'),
      }),
    },
  });
  const logger = options.logDestination
    ? createLogger(options.logLevel ?? 'info', options.logDestination)
    : undefined;
  const server = await buildServer(config, {
    ...(logger && { logger }),
    ...(options.pageRoutes && { pageRoutes: options.pageRoutes }),
    ...(options.confirmationPolicy && { confirmationPolicy: options.confirmationPolicy }),
    ...(options.today && { today: options.today }),
  });
  if (options.seed !== false && !shared) {
    const { seedDemoData } = await import('../../src/admin/demo-data.ts');
    await seedDemoData(server.container);
  }
  const publicHttp = await listen(server.publicApp, port);
  const adminHttp = await listen(server.adminApp, adminPort);
  return {
    server,
    config,
    issuer: config.issuer,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    database,
    async close() {
      publicHttp.closeAllConnections();
      adminHttp.closeAllConnections();
      await new Promise((resolve) => publicHttp.close(resolve));
      await new Promise((resolve) => adminHttp.close(resolve));
      await server.close();
      // The database belongs to the first instance; a second one leaves it to that one.
      if (!shared) await database.drop();
    },
  };
}

export { createLogger };
