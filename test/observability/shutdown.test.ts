// Graceful shutdown as the server process does it (src/serve.ts): stop accepting, let the request in
// flight finish, drop what outlives the deadline, then close the pools.
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { expect } from 'chai';
import { buildServer, type Server } from '../../src/server.ts';
import { closeGracefully } from '../../src/serve.ts';
import { slowPage, type SlowPage } from '../support/slow-page.ts';
import { createTestDatabase, freePort, testConfig, TEST_REDIS_URL, type TestDatabase } from '../support/world.ts';

describe('graceful shutdown', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let server: Server | undefined;
  let http: HttpServer;
  let port: number;
  /** A request to /test/slow is held until `slow.release()`. */
  let slow: SlowPage;

  beforeEach(async () => {
    database = await createTestDatabase();
    port = await freePort();
    const config = testConfig({ port, adminPort: await freePort(), databaseUrl: database.url, redisUrl: TEST_REDIS_URL });
    slow = slowPage();
    server = await buildServer(config, { pageRoutes: [slow.routes] });
    http = createServer(server.publicApp.callback() as RequestListener);
    await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    http.closeAllConnections();
    await server?.close().catch(() => undefined);
    await database.drop();
  });

  it('stops accepting, finishes the request in flight, then closes the database and Redis pools', async () => {
    const inFlight = fetch(`http://127.0.0.1:${port}/test/slow`);
    await slow.started;
    let closed = false;
    const closing = closeGracefully(http, 10_000).then(() => (closed = true));

    const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => 'answered',
      (error: unknown) => String((error as { cause?: { code?: string } }).cause?.code),
    );
    expect(refused, 'a new connection is refused while draining').to.equal('ECONNREFUSED');
    expect(closed, 'not closed while a request is in flight').to.equal(false);

    slow.release();
    const response = await inFlight;
    expect(response.status).to.equal(200);
    expect(await response.text()).to.equal('finished');
    const drained = Date.now();
    await closing;
    expect(Date.now() - drained, 'the answered keep-alive connection is closed at once, not when the client gives it up').to.be.below(1_000);

    const { container } = server!;
    await server!.close();
    server = undefined;
    let poolError: unknown;
    try {
      await container.db.raw('SELECT 1');
    } catch (error) {
      poolError = error;
    }
    expect(poolError, 'the PostgreSQL pool is closed').to.be.instanceOf(Error);
    let redisError: unknown;
    try {
      await container.ephemeral.get('anything');
    } catch (error) {
      redisError = error;
    }
    expect(redisError, 'the Redis connection is closed').to.be.instanceOf(Error);
  });

  it('drops a request that outlives the deadline, and is done by then', async () => {
    const inFlight = fetch(`http://127.0.0.1:${port}/test/slow`).then(
      () => 'answered',
      () => 'dropped',
    );
    await slow.started;
    const began = Date.now();
    await closeGracefully(http, 300);
    expect(Date.now() - began).to.be.within(250, 2_000);
    expect(await inFlight).to.equal('dropped');
    slow.release();
  });
});
