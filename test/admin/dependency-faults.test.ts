// The admin port while Redis is down (a redis-server of the test's own, stopped) or PostgreSQL is cut
// off (a TCP proxy in front of it): its sign-in, session, console and API answer 503 with Retry-After —
// problem details for programs, the console's bilingual page for browsers — fast, and nothing is
// logged as an error; once the dependency is back, the same requests work without a restart.
import { expect } from 'chai';
import { createTestDatabase, startTestServer, type RunningServer, type TestDatabase } from '../support/world.ts';
import { adminSession, FIRST_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { captureLogs } from '../support/logs.ts';
import { startStoppableRedis, type StoppableRedis } from '../support/redis-servers.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const FAST_MS = 3000;

type Session = AdminCredentials & { kind: 'session' };

async function call(adminUrl: string, path: string, options: { session?: Session; accept?: string } = {}) {
  const started = performance.now();
  const response = await fetch(`${adminUrl}${path}`, {
    redirect: 'manual',
    headers: { ...(options.session && { cookie: options.session.cookie }), ...(options.accept && { accept: options.accept }) },
  });
  return { status: response.status, headers: response.headers, text: await response.text(), ms: performance.now() - started };
}

function expectProblem(answer: Awaited<ReturnType<typeof call>>) {
  expect(answer.status).to.equal(503);
  expect(answer.ms).to.be.below(FAST_MS);
  expect(answer.headers.get('retry-after')).to.equal('5');
  expect(answer.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(JSON.parse(answer.text)).to.include({ status: 503, code: 'temporarily_unavailable' });
}

function expectPage(answer: Awaited<ReturnType<typeof call>>, language: 'vi' | 'en') {
  expect(answer.status).to.equal(503);
  expect(answer.ms).to.be.below(FAST_MS);
  expect(answer.headers.get('retry-after')).to.equal('5');
  expect(answer.headers.get('content-type')).to.match(/^text\/html/);
  expect(answer.text).to.include(`lang="${language}"`).and.include('role="alert"');
  expect(answer.text).to.include(language === 'vi' ? 'tạm thời gián đoạn' : 'temporarily unavailable');
}

describe('admin port: dependency faults', function () {
  this.timeout(90_000);

  describe('Redis stopped, then started again', function () {
    const logs = captureLogs();
    let redis: StoppableRedis;
    let world: RunningServer;
    let admin: Session;

    before(async () => {
      redis = await startStoppableRedis();
      world = await startTestServer({ overrides: { redisUrl: redis.url, redis: { commandTimeoutMs: 500 } }, logDestination: logs.stream });
      admin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
    });
    afterEach(() => redis.start());
    after(async () => {
      await world?.close();
      await redis?.destroy();
    });

    it('answers the sign-in, the session, the console and the API with 503, logging no error, and serves again when it is back', async () => {
      expect((await call(world.adminUrl, '/api/clients', { session: admin })).status).to.equal(200);
      await redis.stop();

      expectPage(await call(world.adminUrl, '/auth/sign-in'), 'vi');
      expectProblem(await call(world.adminUrl, '/auth/session', { session: admin }));
      expectPage(await call(world.adminUrl, '/console/clients', { session: admin }), 'vi');
      expectPage(await call(world.adminUrl, '/console/clients?lang=en', { session: admin }), 'en');
      expectProblem(await call(world.adminUrl, '/api/clients', { session: admin }));
      expectProblem(await call(world.adminUrl, '/api/clients', { session: admin, accept: 'text/html' }));
      expect(logs.errors(), 'nothing logged as an error').to.deep.equal([]);

      await redis.start();
      const deadline = Date.now() + 15_000;
      while ((await call(world.adminUrl, '/api/clients', { session: admin })).status !== 200) {
        if (Date.now() > deadline) throw new Error('the admin API did not recover');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect((await call(world.adminUrl, '/console/clients', { session: admin })).status).to.equal(200);
    });
  });

  describe('PostgreSQL cut off, then restored', function () {
    const logs = captureLogs();
    let proxy: TcpProxy;
    let database: TestDatabase;
    let world: RunningServer;
    let admin: Session;

    before(async () => {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
      database = await createTestDatabase();
      const proxied = new URL(database.url);
      proxied.port = String(proxy.port);
      world = await startTestServer({
        overrides: { databaseUrl: proxied.toString(), database: { poolMax: 4, statementTimeoutMs: 1000, queryTimeoutMs: 1500, acquireTimeoutMs: 1000, connectTimeoutMs: 1000 } },
        logDestination: logs.stream,
      });
      admin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
    });
    afterEach(() => proxy.restore());
    after(async () => {
      await world?.close();
      await proxy?.close();
      await database?.drop();
    });

    it('answers the console and the API with 503, logging no error, and serves again when it is back', async () => {
      await proxy.cut();
      expectProblem(await call(world.adminUrl, '/api/clients', { session: admin }));
      expectPage(await call(world.adminUrl, '/console/clients', { session: admin }), 'vi');
      expect(logs.errors(), 'nothing logged as an error').to.deep.equal([]);

      await proxy.restore();
      const deadline = Date.now() + 15_000;
      while ((await call(world.adminUrl, '/api/clients', { session: admin })).status !== 200) {
        if (Date.now() > deadline) throw new Error('the admin API did not recover');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    });
  });
});
