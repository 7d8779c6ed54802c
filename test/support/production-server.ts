// A server as production runs it, for the tests of what only production does: NODE_ENV=production,
// https issuer and ADMIN_URL, each app behind a TLS-terminating proxy that TRUSTED_PROXIES names, on a
// fresh database (seeded with the demo data by a test-mode build first) and the test Redis.
import { randomBytes } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { buildServer, type Server } from '../../src/server.ts';
import { PROXY_SOURCE_ADDRESS, startTlsTerminatingProxy, type TlsTerminatingProxy } from './tls-terminating-proxy.ts';
import { createTestDatabase, freePort, listen, testConfig, TEST_REDIS_URL, type TestDatabase } from './world.ts';

export interface ProductionServer {
  readonly server: Server;
  readonly config: Config;
  /** https://localhost:<port>, through the public app's proxy. */
  readonly issuer: string;
  /** https://localhost:<port>, through the admin app's proxy. */
  readonly adminUrl: string;
  /** http://127.0.0.1:<port>: the public app itself, past the proxy. */
  readonly direct: string;
  close(): Promise<void>;
}

/** `seed` adds to the demo data, on the test-mode build, before the production one starts. */
export async function startProductionServer(options: { seed?: (seeding: Server) => Promise<unknown> } = {}): Promise<ProductionServer> {
  const database: TestDatabase = await createTestDatabase();
  const [port, adminPort, publicProxyPort, adminProxyPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const issuer = `https://localhost:${publicProxyPort}`;
  const adminUrl = `https://localhost:${adminProxyPort}`;
  const secrets = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), PAIRWISE_KEY: randomBytes(32).toString('base64') };
  const redisKeyPrefix = `test-${randomBytes(4).toString('hex')}:`;
  // Production never loads the demo data: a test-mode build on the same storage seeds it first.
  const seeding = await buildServer(
    testConfig({
      port,
      adminPort,
      databaseUrl: database.url,
      redisUrl: TEST_REDIS_URL,
      overrides: { redisKeyPrefix, keyEncryptionKey: secrets.KEY_ENCRYPTION_KEY, pairwiseKey: secrets.PAIRWISE_KEY },
    }),
  );
  const { seedDemoData } = await import('../../src/admin/demo-data.ts');
  await seedDemoData(seeding.container);
  await options.seed?.(seeding);
  await seeding.close();

  const config = loadConfig({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    ISSUER: issuer,
    ADMIN_URL: adminUrl,
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    ...secrets,
    TRUSTED_PROXIES: PROXY_SOURCE_ADDRESS,
    SMTP_URL: 'smtp://127.0.0.1:9',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const server = await buildServer(config);
  const listening: HttpServer[] = [await listen(server.publicApp, port), await listen(server.adminApp, adminPort)];
  const proxies: TlsTerminatingProxy[] = [await startTlsTerminatingProxy(port, publicProxyPort), await startTlsTerminatingProxy(adminPort, adminProxyPort)];
  return {
    server,
    config,
    issuer,
    adminUrl,
    direct: `http://127.0.0.1:${port}`,
    async close() {
      for (const proxy of proxies) await proxy.close();
      for (const http of listening) {
        http.closeAllConnections();
        await new Promise((resolve) => http.close(resolve));
      }
      await server.close();
      await database.drop();
    },
  };
}
