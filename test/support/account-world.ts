// A test server with the account page mounted, on a fresh database and the test Redis. Like
// startTestServer, plus what the account page needs: its routes, and optionally the issuer on
// `localhost` (WebAuthn refuses an IP address as relying-party id, so passkey tests need a name).
import { createServer, type Server as HttpServer } from 'node:http';
import { buildServer, type Server } from '../../src/server.ts';
import { seedDemoData } from '../../src/admin/demo-data.ts';
import { OutboxNotifier, type OutboxMessage } from '../../src/accounts/notifier.ts';
import { accountRoutes } from '../../src/interactions/account-routes.ts';
import type { Config } from '../../src/config/config.ts';
import { createTestDatabase, freePort, testConfig, TEST_REDIS_URL, type TestDatabase } from './world.ts';

export interface AccountWorld {
  readonly server: Server;
  readonly config: Config;
  readonly issuer: string;
  readonly database: TestDatabase;
  /** Messages sent to a destination, newest first. */
  outbox(destination: string): Promise<OutboxMessage[]>;
  close(): Promise<void>;
}

function listen(app: { callback(): Parameters<typeof createServer>[1] }, port: number): Promise<HttpServer> {
  const http = createServer(app.callback());
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve(http));
  });
}

export async function startAccountServer(options: { issuerHost?: 'localhost' | '127.0.0.1' } = {}): Promise<AccountWorld> {
  const database = await createTestDatabase();
  const port = await freePort();
  const adminPort = await freePort();
  const config = testConfig({
    port,
    adminPort,
    databaseUrl: database.url,
    redisUrl: TEST_REDIS_URL,
    overrides: { issuer: `http://${options.issuerHost ?? '127.0.0.1'}:${port}` },
  });
  const server = await buildServer(config, { pageRoutes: [accountRoutes] });
  await seedDemoData(server.container);
  const publicHttp = await listen(server.publicApp, port);
  const adminHttp = await listen(server.adminApp, adminPort);
  const notifier = server.container.notifier;
  return {
    server,
    config,
    issuer: config.issuer,
    database,
    outbox: (destination) => (notifier instanceof OutboxNotifier ? notifier.list({ destination }) : Promise.resolve([])),
    async close() {
      publicHttp.closeAllConnections();
      adminHttp.closeAllConnections();
      await new Promise((resolve) => publicHttp.close(resolve));
      await new Promise((resolve) => adminHttp.close(resolve));
      await server.close();
      await database.drop();
    },
  };
}
