// /readyz under a hung dependency and during a graceful shutdown. PostgreSQL and Redis are reached
// through TCP proxies that can stall (bytes held, no answer: a hung server or network); their own
// timeouts are set far longer than the readiness deadline, so only that deadline can answer the probe.
// Draining: the server reports 503 "draining" at once, keeps serving through the drain window (the load
// balancer's time to notice), and the request in flight finishes before the process would stop.
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { buildServer, type Server } from '../../src/server.ts';
import { slowPage } from '../support/slow-page.ts';
import { drainAndClose } from '../../src/serve.ts';
import { createTestDatabase, freePort, startTestServer, testConfig, TEST_REDIS_URL, type RunningServer, type TestDatabase } from '../support/world.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { raw } from '../support/rp-flow.ts';

const CHECK_TIMEOUT_MS = 300;
/** Far beyond the readiness deadline: a hung query or command is still waiting when the probe answers. */
const PATIENT = {
  database: { statementTimeoutMs: 30_000, queryTimeoutMs: 31_000 },
  redis: { commandTimeoutMs: 30_000 },
};

interface Readiness {
  readonly ready: boolean;
  readonly draining?: boolean;
  readonly checks: Record<string, string>;
}

async function readyz(issuer: string): Promise<{ status: number; body: Readiness }> {
  const answer = await raw(`${issuer}/readyz`);
  return { status: answer.status, body: answer.body as unknown as Readiness };
}

describe('readiness', function () {
  this.timeout(60_000);

  describe('settings', function () {
    it('bounds each check by READINESS_CHECK_TIMEOUT_MS and drains for SHUTDOWN_DRAIN_SECONDS, none by default outside production', function () {
      expect(loadConfig({ NODE_ENV: 'test' }).probes).to.deep.equal({ checkTimeoutMs: 800, drainSeconds: 0 });
      expect(loadConfig({ NODE_ENV: 'test', READINESS_CHECK_TIMEOUT_MS: '250', SHUTDOWN_DRAIN_SECONDS: '7' }).probes).to.deep.equal({
        checkTimeoutMs: 250,
        drainSeconds: 7,
      });
      for (const [name, value] of [
        ['READINESS_CHECK_TIMEOUT_MS', 'soon'],
        ['SHUTDOWN_DRAIN_SECONDS', '-1'],
      ] as const) {
        expect(() => loadConfig({ NODE_ENV: 'test', [name]: value }), name)
          .to.throw(ConfigError)
          .with.property('setting', name);
      }
    });
  });

  describe('with a dependency that hangs', function () {
    let postgresProxy: TcpProxy;
    let redisProxy: TcpProxy;
    let database: TestDatabase;
    let world: RunningServer;

    before(async function () {
      postgresProxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
      const redisTarget = new URL(TEST_REDIS_URL);
      redisProxy = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port) });
      database = await createTestDatabase();
      const proxiedDatabase = new URL(database.url);
      proxiedDatabase.port = String(postgresProxy.port);
      const proxiedRedis = new URL(TEST_REDIS_URL);
      proxiedRedis.port = String(redisProxy.port);
      world = await startTestServer({
        seed: false,
        overrides: {
          databaseUrl: proxiedDatabase.toString(),
          redisUrl: proxiedRedis.toString(),
          database: PATIENT.database,
          redis: PATIENT.redis,
          probes: { checkTimeoutMs: CHECK_TIMEOUT_MS },
        },
      });
    });

    afterEach(async function () {
      await postgresProxy.restore();
      await redisProxy.restore();
    });

    after(async function () {
      await world?.close();
      await postgresProxy?.close();
      await redisProxy?.close();
      await database?.drop();
    });

    it('is ready when every dependency answers', async function () {
      const { status, body } = await readyz(world.issuer);
      expect(status).to.equal(200);
      expect(body).to.deep.equal({ ready: true, checks: { postgres: 'ok', migrations: 'ok', ephemeral: 'ok', keys: 'ok' } });
    });

    it('answers 503 by its deadline while PostgreSQL hangs, and probes again do not pile up queries on it', async function () {
      postgresProxy.stall();
      const pool = (world.server.container.db.client as { pool: { numUsed(): number; numPendingAcquires(): number } }).pool;
      const hung = `no answer within ${CHECK_TIMEOUT_MS} ms`;

      const first = await readyz(world.issuer);
      expect(first.status).to.equal(503);
      // Each PostgreSQL check ran into the deadline, at the same time as the Redis one, which answered.
      expect(first.body.checks).to.deep.equal({ postgres: hung, migrations: hung, ephemeral: 'ok', keys: hung });
      const busy = pool.numUsed() + pool.numPendingAcquires();
      expect(busy, 'the hung checks hold their connections').to.be.at.least(3);

      for (let probe = 0; probe < 3; probe += 1) expect((await readyz(world.issuer)).body.checks.postgres).to.equal(hung);
      expect(pool.numUsed() + pool.numPendingAcquires(), 'connections held after three more probes').to.equal(busy);

      await postgresProxy.restore();
      let again = await readyz(world.issuer);
      // The hung queries finish once the bytes flow again; a probe may still meet the tail of them.
      for (let tries = 0; again.status !== 200 && tries < 20; tries += 1) again = await readyz(world.issuer);
      expect(again.body).to.deep.equal({ ready: true, checks: { postgres: 'ok', migrations: 'ok', ephemeral: 'ok', keys: 'ok' } });
    });

    it('answers 503 by its deadline while Redis hangs', async function () {
      redisProxy.stall();
      const { status, body } = await readyz(world.issuer);
      expect(status).to.equal(503);
      expect(body.checks).to.deep.equal({ postgres: 'ok', migrations: 'ok', ephemeral: `no answer within ${CHECK_TIMEOUT_MS} ms`, keys: 'ok' });
    });

    it('answers "draining" without running a check once shutdown has begun, whatever hangs', async function () {
      postgresProxy.stall();
      redisProxy.stall();
      world.server.startDraining();
      const { status, body } = await readyz(world.issuer);
      expect(status).to.equal(503);
      expect(body).to.deep.equal({ ready: false, draining: true, checks: {} });
    });
  });

  describe('while the server drains', function () {
    /** Long enough for the probes below to land inside it on a slow machine; the test waits it out once. */
    const DRAIN_MS = 3000;
    let database: TestDatabase;
    let server: Server | undefined;
    let http: HttpServer;
    let issuer: string;
    const slow = slowPage();

    before(async function () {
      database = await createTestDatabase();
      const port = await freePort();
      issuer = `http://127.0.0.1:${port}`;
      server = await buildServer(testConfig({ port, adminPort: await freePort(), databaseUrl: database.url, redisUrl: TEST_REDIS_URL }), {
        pageRoutes: [slow.routes],
      });
      http = createServer(server.publicApp.callback() as RequestListener);
      await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
    });

    after(async function () {
      http?.closeAllConnections();
      await server?.close();
      await database?.drop();
    });

    it('answers 503 "draining" at once, still serves through the drain window, and lets the request in flight finish', async function () {
      expect((await readyz(issuer)).status).to.equal(200);
      const inFlight = fetch(`${issuer}/test/slow`);
      await slow.started;

      let closed = false;
      const closing = drainAndClose(server!, [http], DRAIN_MS).then(() => (closed = true));

      const probe = await readyz(issuer);
      expect(probe.status).to.equal(503);
      expect(probe.body).to.deep.equal({ ready: false, draining: true, checks: {} });
      // A request that still arrives in the window is served, on a connection not kept alive.
      const late = await fetch(`${issuer}/healthz`);
      expect(late.status).to.equal(200);
      expect(late.headers.get('connection')).to.equal('close');
      expect(closed, 'the listener waits while a request is in flight').to.equal(false);

      slow.release();
      const response = await inFlight;
      expect(response.status).to.equal(200);
      expect(await response.text()).to.equal('finished');
      await closing;
      const refused = await fetch(`${issuer}/readyz`).then(
        () => 'answered',
        (error: unknown) => String((error as { cause?: { code?: string } }).cause?.code),
      );
      expect(refused, 'closed once drained').to.equal('ECONNREFUSED');
    });
  });
});
