// Dependencies failing under a running server, seen from outside: Redis killed mid-flow and started
// again (a redis-server of the test's own, with an append-only file as in production); PostgreSQL cut
// off and restored (a TCP proxy in front of it); either one stalling (the proxy holds every byte).
// Each time: the right answers while it lasts (503 pages, OAuth temporarily_unavailable, readiness
// failing), fast; nothing half-written; and recovery without a restart, no account, grant or refresh
// token lost.
import { expect } from 'chai';
import pg from 'pg';
import { createTestDatabase, startTestServer, type RunningServer, type TestDatabase } from '../support/world.ts';
import { Browser, formsOf, type Page } from '../support/browserless.ts';
import { startStoppableRedis, type StoppableRedis } from '../support/redis-servers.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { BICH, Portal, raw } from '../support/rp-flow.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every answer during a fault comes quickly: well under a browser's or a client's patience. */
const FAST_MS = 3000;

async function waitUntilReady(issuer: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await raw(`${issuer}/readyz`)).status === 200) return;
    if (Date.now() > deadline) throw new Error('the server did not become ready again');
    await sleep(200);
  }
}

function loginFormOf(page: Page) {
  const form = formsOf(page).find((candidate) => candidate.action.endsWith('/login'));
  expect(form, `a login form (HTTP ${page.status})`).to.not.equal(undefined);
  return form!;
}

/** What must survive any fault: accounts, grants and refresh tokens, counted in PostgreSQL itself. */
async function durableCounts(url: string): Promise<Record<string, number>> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of ['accounts', 'audit_events']) {
      counts[table] = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    }
    const { rows } = await db.query<{ model: string; n: string }>('SELECT model, count(*) AS n FROM oidc_models GROUP BY model');
    for (const row of rows) counts[row.model] = Number(row.n);
    return counts;
  } finally {
    await db.end();
  }
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe('dependency faults (end to end)', function () {
  this.timeout(90_000);

  describe('Redis killed mid-flow, then started again', function () {
    let redis: StoppableRedis;
    let world: RunningServer;
    let portal: Portal;

    before(async function () {
      redis = await startStoppableRedis();
      world = await startTestServer({ overrides: { redisUrl: redis.url, redis: { commandTimeoutMs: 500 } } });
      portal = new Portal(world.issuer);
    });

    // A test that failed half-way must not leave the next one without Redis.
    afterEach(async function () {
      await redis.start();
    });

    after(async function () {
      await world?.close();
      await redis?.destroy();
    });

    it('answers 503 everywhere while it is down, writes nothing, and carries on when it is back', async function () {
      const earlier = await portal.signIn(new Browser(world.issuer));
      const browser = new Browser(world.issuer);
      const attempt = await portal.start();
      const loginPage = await browser.get(attempt.url);
      const login = loginFormOf(loginPage);
      await world.server.container.audit.flush();
      const before = await durableCounts(world.database.url);

      await redis.stop();

      // The sign-in page in progress: 503 with the error page's look, in Vietnamese by default…
      const refused = await timed(() => browser.submit(login, { username: BICH.id, password: BICH.password }));
      expect(refused.ms, 'answered fast').to.be.below(FAST_MS);
      expect(refused.value.status).to.equal(503);
      expect(refused.value.headers.get('retry-after')).to.equal('5');
      expect(refused.value.body).to.include('tạm thời gián đoạn').and.include('temporarily_unavailable').and.include('role="alert"');
      // …and in English when asked.
      const interactionUrl = new URL(login.action, world.issuer);
      interactionUrl.pathname = interactionUrl.pathname.replace(/\/login$/, '');
      interactionUrl.search = '?lang=en';
      const english = await browser.get(interactionUrl);
      expect(english.status).to.equal(503);
      expect(english.body).to.include('temporarily unavailable').and.include('lang="en"');

      // A new authorization request: the client is told, as OAuth says (RFC 6749 §4.1.2.1).
      const authorization = await timed(async () => browser.fetch((await portal.start()).url));
      expect(authorization.ms).to.be.below(FAST_MS);
      expect(authorization.value.status).to.be.within(300, 399);
      const redirect = new URL(authorization.value.location!);
      expect(`${redirect.origin}${redirect.pathname}`).to.equal('http://localhost:4000/callback');
      expect(redirect.searchParams.get('error')).to.equal('temporarily_unavailable');

      // Token and userinfo endpoints: OAuth error JSON, 503.
      const refresh = await portal.rawRefresh(earlier.refresh_token!);
      expect(refresh.ms).to.be.below(FAST_MS);
      expect(refresh.status).to.equal(503);
      expect(refresh.body.error).to.equal('temporarily_unavailable');
      const userinfo = await portal.rawUserinfo(earlier.access_token);
      expect(userinfo.ms).to.be.below(FAST_MS);
      expect(userinfo.status).to.equal(503);
      expect(userinfo.body.error).to.equal('temporarily_unavailable');

      const ready = await raw(`${world.issuer}/readyz`);
      expect(ready.ms).to.be.below(FAST_MS);
      expect(ready.status).to.equal(503);
      expect(ready.body.checks).to.include({ postgres: 'ok' }).and.not.include({ ephemeral: 'ok' });

      // Nothing was written while it was down: no audit event, no grant, no token.
      await world.server.container.audit.flush();
      expect(await durableCounts(world.database.url)).to.deep.equal(before);

      await redis.start();
      await waitUntilReady(world.issuer);

      // The refresh token refused during the outage was not consumed: it still works, once.
      const refreshed = await portal.refresh(earlier.refresh_token!);
      expect(refreshed.refresh_token).to.be.a('string').and.not.equal(earlier.refresh_token);
      const info = await portal.userinfo(refreshed.access_token, earlier.claims()!.sub);
      expect(info.sub).to.equal(earlier.claims()!.sub);

      // The sign-in begun before the outage finishes: the same form, sent again.
      const again = await browser.submit(login, { username: BICH.id, password: BICH.password });
      expect(again.status, 'the consent page').to.equal(200);
      const consent = formsOf(again).find((form) => form.action.endsWith('/consent'))!;
      const done = await browser.submit(consent);
      const tokens = await portal.redeem(attempt, new URL(done.location!));
      expect(tokens.claims()!.sub).to.equal(earlier.claims()!.sub);

      const after = await durableCounts(world.database.url);
      expect(after.accounts).to.equal(before.accounts);
      // Consent is remembered per client: the sign-in's consent extends the earlier grant, none is lost.
      expect(after.Grant, 'the earlier grant, extended').to.equal(before.Grant);
    });

    it('fails fast, and recovers, when Redis stalls (accepts, never answers)', async function () {
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
      const stalled = await startTestServer({
        overrides: { redisUrl: `redis://127.0.0.1:${proxy.port}`, redis: { commandTimeoutMs: 300 } },
      });
      try {
        const stalledPortal = new Portal(stalled.issuer);
        const tokens = await stalledPortal.signIn(new Browser(stalled.issuer));
        proxy.stall();
        // Twenty at once: each bounded by the command timeout, none waits for another.
        const answers = await Promise.all(Array.from({ length: 20 }, () => stalledPortal.rawUserinfo(tokens.access_token)));
        for (const answer of answers) {
          expect(answer.status).to.equal(503);
          expect(answer.body.error).to.equal('temporarily_unavailable');
          expect(answer.ms).to.be.below(FAST_MS);
        }
        await proxy.restore();
        // The replies held during the stall arrive for their (timed out) commands; new ones match theirs.
        await waitUntilReady(stalled.issuer);
        const info = await stalledPortal.userinfo(tokens.access_token, tokens.claims()!.sub);
        expect(info.sub).to.equal(tokens.claims()!.sub);
        const refreshed = await stalledPortal.refresh(tokens.refresh_token!);
        expect(refreshed.access_token).to.be.a('string');
      } finally {
        await stalled.close();
        await proxy.close();
      }
    });
  });

  describe('PostgreSQL cut off, then restored', function () {
    let proxy: TcpProxy;
    let database: TestDatabase;
    let world: RunningServer;
    let portal: Portal;

    before(async function () {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
      database = await createTestDatabase();
      const proxied = new URL(database.url);
      proxied.port = String(proxy.port);
      world = await startTestServer({
        overrides: {
          databaseUrl: proxied.toString(),
          database: { poolMax: 4, statementTimeoutMs: 1000, queryTimeoutMs: 1500, acquireTimeoutMs: 1000, connectTimeoutMs: 1000 },
        },
      });
      portal = new Portal(world.issuer);
    });

    afterEach(async function () {
      await proxy.restore();
    });

    after(async function () {
      await world?.close();
      await proxy?.close();
      await database?.drop();
    });

    it('fails readiness and answers 503 while it is cut off, and carries on when it is back', async function () {
      const earlier = await portal.signIn(new Browser(world.issuer));
      const browser = new Browser(world.issuer);
      const attempt = await portal.start();
      const login = loginFormOf(await browser.get(attempt.url));
      await world.server.container.audit.flush();
      const before = await durableCounts(database.url);

      await proxy.cut();

      const ready = await raw(`${world.issuer}/readyz`);
      expect(ready.ms).to.be.below(FAST_MS);
      expect(ready.status).to.equal(503);
      expect(ready.body.checks).to.not.include({ postgres: 'ok' });

      const refused = await timed(() => browser.submit(login, { username: BICH.id, password: BICH.password }));
      expect(refused.ms).to.be.below(FAST_MS);
      expect(refused.value.status).to.equal(503);
      expect(refused.value.body).to.include('tạm thời gián đoạn').and.include('temporarily_unavailable');

      // The client comes from this instance's memory (src/oidc/clients/client-cache.ts; the sign-in above loaded
      // it, and no client changed since): the authorization request still reaches the sign-in page, whose
      // form answers 503 (above).
      const authorization = await browser.fetch((await portal.start()).url);
      expect(authorization.status).to.equal(303);
      expect(authorization.location).to.include('/interaction/');

      const refresh = await portal.rawRefresh(earlier.refresh_token!);
      expect(refresh.ms).to.be.below(FAST_MS);
      expect(refresh.status).to.equal(503);
      expect(refresh.body.error).to.equal('temporarily_unavailable');
      const userinfo = await portal.rawUserinfo(earlier.access_token);
      expect(userinfo.ms).to.be.below(FAST_MS);
      expect(userinfo.status).to.equal(503);
      expect(userinfo.body.error).to.equal('temporarily_unavailable');

      await proxy.restore();
      await waitUntilReady(world.issuer);
      expect(await durableCounts(database.url), 'nothing written, nothing lost').to.deep.equal(before);

      const refreshed = await portal.refresh(earlier.refresh_token!);
      expect(refreshed.refresh_token).to.be.a('string').and.not.equal(earlier.refresh_token);
      const info = await portal.userinfo(refreshed.access_token, earlier.claims()!.sub);
      expect(info.sub).to.equal(earlier.claims()!.sub);
      const again = await browser.submit(login, { username: BICH.id, password: BICH.password });
      const consent = formsOf(again).find((form) => form.action.endsWith('/consent'))!;
      const done = await browser.submit(consent);
      const tokens = await portal.redeem(attempt, new URL(done.location!));
      expect(tokens.claims()!.sub).to.equal(earlier.claims()!.sub);
    });

    it('bounds a stalled PostgreSQL by the query and pool timeouts, and recovers', async function () {
      const tokens = await portal.signIn(new Browser(world.issuer));
      proxy.stall();
      // More requests than pooled connections: the pool's queue is bounded in time too.
      const answers = await Promise.all(Array.from({ length: 12 }, () => portal.rawRefresh(tokens.refresh_token!)));
      for (const answer of answers) {
        expect(answer.status).to.equal(503);
        expect(answer.body.error).to.equal('temporarily_unavailable');
        expect(answer.ms).to.be.below(FAST_MS);
      }
      await proxy.restore();
      await waitUntilReady(world.issuer);
      const refreshed = await portal.refresh(tokens.refresh_token!);
      expect(refreshed.access_token).to.be.a('string');
    });

    it('has PostgreSQL cancel a statement that runs past the statement timeout', async function () {
      const started = performance.now();
      let failure: unknown;
      try {
        await world.server.container.db.raw('SELECT pg_sleep(5)');
      } catch (error) {
        failure = error;
      }
      expect(failure).to.have.property('code', '57014');
      expect(performance.now() - started).to.be.below(2500);
      await world.server.container.db.raw('SELECT 1');
    });
  });
});
