// Two provider instances on one PostgreSQL database and one Redis, behind a round-robin proxy started
// here — the compose topology in small. Both trust the proxy (TRUSTED_PROXIES=127.0.0.1) and answer
// as its URL (ISSUER). A portal (openid-client) and a citizen (the cookie-jar browser) go through the
// proxy, which alternates instances on every request: a sign-in begun on one finishes on the other;
// a logout on one is seen by the other; a back-channel logout is delivered once; a key rotation made
// on one is published and used by both.
import { expect } from 'chai';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser, formsOf } from '../support/browserless.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.ts';
import { BICH, Portal } from '../support/rp-flow.ts';

/** The citizen's address as the proxy reports it (a documentation address, RFC 5737). */
const CITIZEN_ADDRESS = '203.0.113.7';
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A portal's back-channel logout endpoint: records every logout token it gets, answers 200. */
async function startReceiver() {
  const tokens: string[] = [];
  const http: HttpServer = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token');
      if (token) tokens.push(token);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/backchannel-logout`,
    tokens,
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

describe('two instances behind a round-robin proxy (shared PostgreSQL and Redis)', function () {
  this.timeout(90_000);
  let proxy: RoundRobinProxy;
  let a: RunningServer;
  let b: RunningServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let config: client.Configuration;
  let rp: Portal;
  const portal = {
    id: `two-instances-${randomBytes(3).toString('hex')}`,
    secret: `secret-${randomBytes(12).toString('hex')}`,
    redirectUri: 'http://127.0.0.1:4290/callback',
  };
  const browser = () => new Browser(proxy.url);
  /** What the flow left for the later steps. */
  let signedIn: { browser: Browser; sub: string };

  before(async function () {
    proxy = await startRoundRobinProxy({ clientAddress: CITIZEN_ADDRESS });
    const overrides = {
      issuer: proxy.url,
      trustedProxies: ['127.0.0.1'],
      // Keys re-read every second, so a rotation reaches both instances quickly.
      keys: { pollSeconds: 1, publishAheadSeconds: 2, rotationDays: 0 },
    };
    a = await startTestServer({ overrides });
    b = await startTestServer({ sameStorageAs: a, overrides });
    proxy.setUpstreams([a.config.port, b.config.port]);
    receiver = await startReceiver();
    await a.server.container.clients.save({
      clientId: portal.id,
      name: 'Two-instance portal',
      profile: 'portal',
      approvedScopes: ['openid', 'offline_access'],
      redirectUris: [portal.redirectUri],
      secret: portal.secret,
      backchannelLogoutUri: receiver.url,
      backchannelLogoutSessionRequired: true,
    });
    rp = new Portal(proxy.url, portal);
    config = await rp.config();
  });

  after(async function () {
    await proxy?.close();
    await receiver?.close();
    await b?.close();
    await a?.close();
  });

  afterEach(function () {
    proxy.pin(undefined);
  });

  const jwksOf = async (instance: RunningServer): Promise<JSONWebKeySet> => {
    const response = await fetch(`http://127.0.0.1:${instance.config.port}/jwks`);
    expect(response.status).to.equal(200);
    return (await response.json()) as JSONWebKeySet;
  };

  async function verifiesAgainst(instance: RunningServer, token: string): Promise<boolean> {
    try {
      await jwtVerify(token, createLocalJWKSet(await jwksOf(instance)), { issuer: proxy.url, audience: portal.id });
      return true;
    } catch {
      return false;
    }
  }

  /** The refresh grant by hand: a refusal's status and error as sent. */
  async function rawRefresh(refreshToken: string): Promise<{ status: number; error: unknown }> {
    const { status, body } = await rp.rawRefresh(refreshToken);
    return { status, error: body.error };
  }

  /** A new authorization in this browser: does it ask for the password (no session)? */
  async function asksPassword(citizen: Browser): Promise<boolean> {
    const page = await citizen.get((await rp.start()).url);
    return formsOf(page).some((form) => form.action.endsWith('/login'));
  }

  it('answers as one issuer from both instances, each believing the proxy', async function () {
    const first = proxy.log.length;
    const documents: { issuer: string; token_endpoint: string }[] = [];
    for (let index = 0; index < 2; index += 1) {
      const response = await fetch(`${proxy.url}/.well-known/openid-configuration`);
      expect(response.status).to.equal(200);
      documents.push((await response.json()) as { issuer: string; token_endpoint: string });
    }
    expect(new Set(proxy.log.slice(first).map((entry) => entry.upstream))).to.deep.equal(new Set([0, 1]));
    expect(documents[0]).to.deep.equal(documents[1]);
    expect(documents[0]!.issuer).to.equal(proxy.url);
    expect(documents[0]!.token_endpoint).to.equal(`${proxy.url}/token`);
    expect(await jwksOf(b)).to.deep.equal(await jwksOf(a));
  });

  it('finishes on one instance a sign-in begun on the other: consent, code, token, userinfo, refresh', async function () {
    const citizen = browser();
    const first = proxy.log.length;
    const attempt = await rp.start();
    const callback = await citizen.signIn(attempt.url, BICH.id, BICH.password, { consent: true });
    expect(citizen.lastSteps).to.deep.equal(['login', 'consent']);

    // Each interaction (login, then consent: its cookie here, its state in Redis) was created by one
    // instance and continued by the other: shown, answered and resumed on both.
    const flow = proxy.log.slice(first);
    const uids = [...new Set(flow.filter((entry) => entry.path.startsWith('/interaction/')).map((entry) => entry.path.split('/')[2]!))];
    expect(uids, 'a login and a consent interaction').to.have.length(2);
    for (const uid of uids) {
      // /interaction/UID, /interaction/UID/login|consent and the resumption at /auth/UID.
      const served = flow.filter((entry) => entry.path.split('/')[2] === uid);
      expect(new Set(served.map((entry) => entry.upstream)), `instances that served interaction ${uid}`).to.deep.equal(new Set([0, 1]));
    }
    for (const step of ['/login', '/consent']) {
      const answer = flow.find((entry) => entry.method === 'POST' && entry.path.endsWith(step));
      expect(answer?.status, `POST …${step}`).to.equal(303);
    }

    const tokenAt = proxy.log.length;
    const tokens = await rp.redeem(attempt, callback);
    expect(proxy.log.slice(tokenAt).map((entry) => entry.path)).to.include('/token');
    expect(tokens.refresh_token, 'a refresh token').to.be.a('string');
    const sub = tokens.claims()!.sub;

    // Userinfo with the same access token from each instance in turn.
    const userinfoAt = proxy.log.length;
    for (let index = 0; index < 2; index += 1) expect((await client.fetchUserInfo(config, tokens.access_token, sub)).sub).to.equal(sub);
    expect(new Set(proxy.log.slice(userinfoAt).filter((entry) => entry.path === '/me').map((entry) => entry.upstream))).to.deep.equal(new Set([0, 1]));

    // Refresh twice (one on each instance), rotating.
    const refreshAt = proxy.log.length;
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const again = await client.refreshTokenGrant(config, refreshed.refresh_token!);
    expect(new Set(proxy.log.slice(refreshAt).map((entry) => entry.upstream))).to.deep.equal(new Set([0, 1]));
    expect(again.refresh_token).to.be.a('string').and.not.equal(refreshed.refresh_token);
    expect((await client.fetchUserInfo(config, again.access_token, sub)).sub).to.equal(sub);

    // The instance that took the password believed the proxy's X-Forwarded-For.
    await Promise.all([a.server.container.audit.flush(), b.server.container.audit.flush()]);
    const events: { data: { ip: string | null } }[] = await a.server.container
      .db('audit_events')
      .where({ type: 'signin.succeeded', client_id: portal.id })
      .select('data');
    expect(events).to.have.length(1);
    expect(events[0]!.data.ip).to.equal(CITIZEN_ADDRESS);

    // A spent refresh token is refused by both, and its reuse ends the grant on both (the newest
    // refresh token and access token with it).
    for (let index = 0; index < 2; index += 1) expect(await rawRefresh(tokens.refresh_token!)).to.deep.equal({ status: 400, error: 'invalid_grant' });
    proxy.pin(0);
    expect(await rawRefresh(again.refresh_token!)).to.deep.equal({ status: 400, error: 'invalid_grant' });
    proxy.pin(1);
    const userinfo = await fetch(`${proxy.url}/me`, { headers: { authorization: `Bearer ${again.access_token}` } });
    expect(userinfo.status).to.equal(401);

    signedIn = { browser: citizen, sub };
  });

  it('ends on both instances a session logged out on one, and queues the back-channel logout once', async function () {
    const { browser: citizen } = signedIn;
    // Still signed in (the session outlived the grant): a new authorization asks only for consent.
    const attempt = await rp.start();
    const tokens = await rp.redeem(attempt, await citizen.signIn(attempt.url, BICH.id, BICH.password, { consent: true }));
    expect(citizen.lastSteps).to.deep.equal(['consent']);
    proxy.pin(1);
    expect(await asksPassword(citizen), 'B sees the session before the logout').to.equal(false);

    // RP-initiated logout, the whole of it on A.
    proxy.pin(0);
    const confirmation = await citizen.get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }));
    const form = formsOf(confirmation).find((candidate) => candidate.fields.xsrf !== undefined);
    expect(form, 'the logout confirmation form').to.not.equal(undefined);
    const done = await citizen.fetch(form!.action, {
      method: 'POST',
      body: new URLSearchParams({ ...form!.fields, logout: 'yes' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(done.status, 'the logout redirect').to.be.within(300, 399);
    expect(proxy.log.at(-1)).to.include({ upstream: 0, method: 'POST' });

    // B knows: the password is asked again.
    proxy.pin(1);
    expect(await asksPassword(citizen), 'B asks for the password after the logout on A').to.equal(true);

    // One logout token, delivered once although both instances run the delivery worker.
    await waitFor(() => receiver.tokens.length >= 1, 'the logout token', 10_000);
    await sleep(4_500);
    expect(receiver.tokens).to.have.length(1);
    const jwks = createLocalJWKSet(await jwksOf(b));
    const { payload } = await jwtVerify(receiver.tokens[0]!, jwks, { issuer: proxy.url, audience: portal.id });
    expect(payload.events).to.deep.equal({ [LOGOUT_EVENT]: {} });
    expect(payload.sub).to.equal(signedIn.sub);
    const rows: { delivered_at: Date | null; attempts: number }[] = await a.server.container
      .db('backchannel_logouts')
      .where({ client_id: portal.id })
      .select('delivered_at', 'attempts');
    expect(rows).to.have.length(1);
    expect(rows[0]!.delivered_at).to.be.instanceOf(Date);
    expect(rows[0]!.attempts).to.equal(1);

    // Offline access outlives the session (OpenID Connect Core §11): the refresh token still works on
    // B — until all of the citizen's access is ended, which kills it on both.
    proxy.pin(1);
    const offline = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const account: { id: string } | undefined = await a.server.container.db('accounts').where({ national_id: BICH.id }).first('id');
    const ended = await a.server.container.sessions.endAllAccess(account!.id);
    expect(ended.grants).to.be.at.least(1);
    for (const instance of [0, 1]) {
      proxy.pin(instance);
      expect(await rawRefresh(offline.refresh_token!), `refresh at instance ${instance}`).to.deep.equal({ status: 400, error: 'invalid_grant' });
      const userinfo = await fetch(`${proxy.url}/me`, { headers: { authorization: `Bearer ${offline.access_token}` } });
      expect(userinfo.status, `userinfo at instance ${instance}`).to.equal(401);
    }
  });

  it('publishes a key rotated on one instance on both, and tokens signed before and after verify on both', async function () {
    const citizen = browser();
    const attempt = await rp.start();
    const before = await rp.redeem(attempt, await citizen.signIn(attempt.url, BICH.id, BICH.password, { consent: true }));
    const { alg, kid: oldKid } = decodeProtectedHeader(before.id_token!);

    const rotated = await a.server.container.signingKeys.rotate({ algorithms: [alg!], immediately: true, actor: 'test' });
    const successor = rotated.find((key) => key.alg === alg && key.kid !== oldKid && key.state !== 'retired' && key.state !== 'revoked');
    expect(successor, 'a successor key').to.not.equal(undefined);

    // Within a poll or two both publish it first (it signs) and keep the old one (its tokens live on).
    const signingKidOf = async (instance: RunningServer) => (await jwksOf(instance)).keys.find((key) => key.alg === alg)?.kid;
    await waitFor(
      async () => (await signingKidOf(a)) === successor!.kid && (await signingKidOf(b)) === successor!.kid,
      'both instances to publish the successor first',
      5_000,
    );
    expect(await jwksOf(b)).to.deep.equal(await jwksOf(a));
    expect((await jwksOf(a)).keys.map((key) => key.kid)).to.include(oldKid);

    // Both sign with it now: one refresh on each instance.
    const after: string[] = [];
    let refreshToken = before.refresh_token!;
    const refreshAt = proxy.log.length;
    for (let index = 0; index < 2; index += 1) {
      const refreshed = await client.refreshTokenGrant(config, refreshToken);
      refreshToken = refreshed.refresh_token!;
      after.push(refreshed.id_token!);
    }
    expect(new Set(proxy.log.slice(refreshAt).filter((entry) => entry.path === '/token').map((entry) => entry.upstream))).to.deep.equal(new Set([0, 1]));
    for (const token of after) expect(decodeProtectedHeader(token).kid).to.equal(successor!.kid);

    for (const token of [before.id_token!, ...after]) {
      expect(await verifiesAgainst(a, token), 'verifies against A').to.equal(true);
      expect(await verifiesAgainst(b, token), 'verifies against B').to.equal(true);
    }
  });
});
