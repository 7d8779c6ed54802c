// Request ids: every response names its request in X-Request-Id, every log line written while serving
// it carries the same id (through awaits, into the services), and an incoming X-Request-Id is kept
// only when a trusted proxy sent it.
import { expect } from 'chai';
import type { PageRoutes } from '../../src/server.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { captureLogs } from '../support/logs.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A page that logs twice, once after a round trip to PostgreSQL, as a service would. */
const loggingPage: PageRoutes = (container) => async (ctx, next) => {
  if (ctx.path !== '/test/logging-page') {
    await next();
    return;
  }
  container.logger.info('before the database');
  await container.db.raw('SELECT 1');
  await new Promise((resolve) => setTimeout(resolve, 5));
  container.logger.child({ component: 'test' }).warn('after the database');
  ctx.body = 'ok';
};

describe('request ids', function () {
  this.timeout(60_000);

  describe('without trusted proxies', () => {
    let world: RunningServer;
    const logs = captureLogs();
    before(async () => {
      world = await startTestServer({ seed: false, logDestination: logs.stream, pageRoutes: [loggingPage] });
    });
    after(() => world?.close());

    it('answers a new id for every request, on both ports, and ignores one sent by an untrusted peer', async () => {
      const first = await fetch(`${world.issuer}/healthz`);
      const second = await fetch(`${world.issuer}/healthz`, { headers: { 'X-Request-Id': 'forged-by-a-client' } });
      const admin = await fetch(`${world.adminUrl}/healthz`);
      const ids = [first, second, admin].map((response) => response.headers.get('x-request-id'));
      for (const id of ids) expect(id).to.match(UUID);
      expect(new Set(ids).size).to.equal(3);
    });

    it('carries the id into every log line written while the request is served, and no further', async () => {
      const response = await fetch(`${world.issuer}/test/logging-page`);
      expect(response.status).to.equal(200);
      const id = response.headers.get('x-request-id')!;
      await new Promise((resolve) => setTimeout(resolve, 50));
      const lines = logs.records().filter((record) => ['before the database', 'after the database', 'request'].includes(record.msg as string) && record.requestId === id);
      expect(lines.map((record) => record.msg)).to.deep.equal(['before the database', 'after the database', 'request']);
      expect(lines[1]!.component).to.equal('test');
      // Lines written outside any request (startup) carry none.
      expect(logs.records().find((record) => record.msg === 'migrations applied')?.requestId).to.equal(undefined);
    });
  });

  describe('behind a trusted proxy', () => {
    let world: RunningServer;
    before(async () => {
      world = await startTestServer({ seed: false, overrides: { trustedProxies: ['127.0.0.1', '::1'] } });
    });
    after(() => world?.close());

    it("keeps the proxy's id when it is well formed, and makes one when it is not", async () => {
      const kept = await fetch(`${world.issuer}/healthz`, { headers: { 'X-Request-Id': 'lb-7f3a9c.42' } });
      expect(kept.headers.get('x-request-id')).to.equal('lb-7f3a9c.42');
      for (const bad of ['has spaces in it', 'x'.repeat(129), 'line\tbreak']) {
        const replaced = await fetch(`${world.issuer}/healthz`, { headers: { 'X-Request-Id': bad } });
        expect(replaced.headers.get('x-request-id'), bad).to.match(UUID);
      }
    });
  });
});
