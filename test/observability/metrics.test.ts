// Prometheus metrics on the admin port, seen from outside: a whole server on PostgreSQL and Redis,
// scraped before and after real traffic (a sign-in through openid-client, a client-credentials token,
// a lockout); route labels are only the routes the apps define, however many paths the requests carry.
import { randomInt, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser, formsOf } from '../support/browserless.ts';
import { Metrics } from '../../src/observability/metrics.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const SERVICE = { id: 'demo-service', secret: 'demo-service-secret' };
const LOA_1 = 'urn:vn:eid:loa:1';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (no exemplars, no timestamps: prom-client writes neither). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels` (0 when there are none yet). */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

describe('metrics (Prometheus, admin port)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let portal: client.Configuration;

  async function scrape(): Promise<Sample[]> {
    const response = await fetch(`${world.adminUrl}/metrics`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await response.text());
  }

  async function signInWithPassword(password: string, nationalId = BICH.id) {
    const browser = new Browser(world.issuer);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: PORTAL.redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const login = await browser.get(url);
    const form = formsOf(login).find((candidate) => candidate.action.endsWith('/login'))!;
    return browser.submit(form, { username: nationalId, password });
  }

  before(async () => {
    world = await startTestServer({
      overrides: { signInLimits: { failuresBeforeLock: 3, firstLockSeconds: 900, maxLockSeconds: 86400, attemptsPerAddressPerMinute: 600 } },
    });
    portal = await client.discovery(new URL(world.issuer), PORTAL.id, undefined, client.ClientSecretBasic(PORTAL.secret), {
      execute: [client.allowInsecureRequests],
    });
  });
  after(() => world?.close());

  it('serves the exposition on the admin port only, with process metrics and every family the dashboard uses', async () => {
    const samples = await scrape();
    const names = new Set(samples.map((sample) => sample.name));
    for (const name of [
      'idp_process_cpu_seconds_total',
      'idp_nodejs_eventloop_lag_seconds',
      'idp_db_pool_connections',
      'idp_signing_key_age_seconds',
      'idp_signing_key_rotation_period_seconds',
      'idp_backchannel_logout_backlog',
      'idp_backchannel_logout_oldest_seconds',
      'idp_dependency_up',
    ]) {
      expect(names, name).to.include(name);
    }
    expect(valueOf(samples, 'idp_dependency_up', { dependency: 'postgres' })).to.equal(1);
    expect(valueOf(samples, 'idp_dependency_up', { dependency: 'redis' })).to.equal(1);
    expect(samples.filter((sample) => sample.name === 'idp_signing_key_age_seconds').length, 'one series per signing algorithm').to.be.greaterThan(0);
    const publicAnswer = await fetch(`${world.issuer}/metrics`);
    expect(publicAnswer.status, 'not on the public port').to.equal(404);
    expect(await publicAnswer.text()).to.not.include('idp_http_requests_total');
  });

  it('counts a completed sign-in with its level, the token it leads to, the registry lookup and the requests', async () => {
    const before = await scrape();
    const browser = new Browser(world.issuer);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: PORTAL.redirectUri,
      scope: 'openid',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await browser.signIn(url, BICH.id, BICH.password, { consent: true });
    await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: verifier, expectedState: state });
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('idp_sign_ins_total', { result: 'success', acr: LOA_1 })).to.equal(1);
    expect(delta('idp_tokens_issued_total', { grant_type: 'authorization_code', client_profile: 'portal' })).to.equal(1);
    expect(delta('idp_registry_gateway_calls_total', { gateway: 'mirror', outcome: 'found' })).to.be.at.least(1);
    expect(delta('idp_http_requests_total', { app: 'public', route: 'token', method: 'POST', status: '200' })).to.equal(1);
    expect(delta('idp_http_requests_total', { app: 'public', route: 'authorization' })).to.be.at.least(1);
    expect(delta('idp_http_request_duration_seconds_count', { app: 'public', route: 'token' })).to.equal(1);
    expect(delta('idp_redis_command_duration_seconds_count'), 'Redis commands timed').to.be.greaterThan(0);
  });

  it('counts a client-credentials token under its grant type and the service profile', async () => {
    const before = await scrape();
    const service = await client.discovery(new URL(world.issuer), SERVICE.id, undefined, client.ClientSecretBasic(SERVICE.secret), {
      execute: [client.allowInsecureRequests],
    });
    await client.clientCredentialsGrant(service, {});
    const after = await scrape();
    const labels = { grant_type: 'client_credentials', client_profile: 'service' };
    expect(valueOf(after, 'idp_tokens_issued_total', labels) - valueOf(before, 'idp_tokens_issued_total', labels)).to.equal(1);
  });

  it('counts wrong passwords and the lockout they cause', async () => {
    const before = await scrape();
    // A well-shaped ID number nobody has: failures count against the submitted number all the same.
    const nationalId = `0011990${String(randomInt(0, 100_000)).padStart(5, '0')}`;
    for (let attempt = 0; attempt < 3; attempt++) await signInWithPassword('not the password!', nationalId);
    const locked = await signInWithPassword('not the password!', nationalId);
    expect(locked.status).to.equal(429);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('idp_sign_ins_total', { result: 'invalid_credentials' })).to.equal(3);
    expect(delta('idp_sign_ins_total', { result: 'locked' })).to.equal(1);
    expect(delta('idp_lockouts_total', { kind: 'password' })).to.equal(1);
    // The exposition never carries the submitted ID number, whole or masked.
    expect(after.some((sample) => Object.values(sample.labels).some((value) => value.includes(nationalId.slice(0, 6))))).to.equal(false);
  });

  it('counts back-channel logout deliveries, and shows the backlog while a receiver fails', async () => {
    // A receiver that refuses the first logout token and takes the second.
    let calls = 0;
    const receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        calls += 1;
        response.writeHead(calls === 1 ? 503 : 200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const clientId = `metrics-bcl-${randomUUID().slice(0, 8)}`;
      const secret = `secret-${randomUUID()}`;
      const redirectUri = 'http://127.0.0.1:4190/callback';
      await world.server.container.clients.save({
        clientId,
        name: 'Metrics portal',
        profile: 'portal',
        approvedScopes: ['openid'],
        redirectUris: [redirectUri],
        secret,
        backchannelLogoutUri: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/logout`,
        backchannelLogoutSessionRequired: true,
      });
      const config = await client.discovery(new URL(world.issuer), clientId, undefined, client.ClientSecretBasic(secret), {
        execute: [client.allowInsecureRequests],
      });
      const browser = new Browser(world.issuer);
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        state,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const callback = await browser.signIn(url, BICH.id, BICH.password, { consent: true });
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
      const before = await scrape();
      const confirmation = await browser.get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }));
      const form = formsOf(confirmation).find((candidate) => candidate.fields.xsrf !== undefined)!;
      await browser.submit(form, { logout: 'yes' });
      const deadline = Date.now() + 10_000;
      while (calls < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const waiting = await scrape();
      expect(valueOf(waiting, 'idp_backchannel_logout_deliveries_total', { outcome: 'retry' }) - valueOf(before, 'idp_backchannel_logout_deliveries_total', { outcome: 'retry' })).to.equal(1);
      expect(valueOf(waiting, 'idp_backchannel_logout_backlog'), 'the refused logout waits for its retry').to.be.at.least(1);
      // Its retry is scheduled seconds ahead: make it due now; the worker's next round (every 2 s) takes it.
      await world.server.container.db('backchannel_logouts').where({ client_id: clientId }).update({ next_attempt_at: new Date(0) });
      while (calls < 2 && Date.now() < deadline + 5_000) await new Promise((resolve) => setTimeout(resolve, 100));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await scrape();
      expect(valueOf(after, 'idp_backchannel_logout_deliveries_total', { outcome: 'delivered' }) - valueOf(before, 'idp_backchannel_logout_deliveries_total', { outcome: 'delivered' })).to.equal(1);
      expect(valueOf(after, 'idp_backchannel_logout_backlog')).to.equal(0);
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('labels requests only with routes the app defines: an attacker\'s many paths add no label', async () => {
    const routesNow = async () =>
      new Set((await scrape()).filter((sample) => sample.name === 'idp_http_requests_total').map((sample) => sample.labels.route!));
    await scrape(); // so that the scrape's own label is there before
    const before = await routesNow();
    const uids = Array.from({ length: 40 }, () => randomUUID().replaceAll('-', '').slice(0, 21));
    for (const uid of uids) {
      await fetch(`${world.issuer}/interaction/${uid}/login`, { method: 'POST', body: new URLSearchParams({ username: BICH.id, password: 'x' }) });
      await fetch(`${world.issuer}/account/consents/${randomUUID()}`, { redirect: 'manual' });
    }
    // Paths of plain lowercase words, each different: no route of ours nor of the provider's.
    const words = Array.from({ length: 150 }, (_, index) => `probe${String.fromCharCode(97 + (index % 26))}${'x'.repeat(Math.floor(index / 26))}`);
    for (const word of words) {
      await fetch(`${world.issuer}/interaction/${word}/${word}`);
      await fetch(`${world.issuer}/${word}`);
    }
    await fetch(`${world.issuer}/interaction/wa`);
    await fetch(`${world.issuer}/.well-known/openid-configuration`);
    const routes = await routesNow();
    for (const route of routes) {
      for (const uid of uids) expect(route).to.not.include(uid);
      expect(route).to.not.include('probe');
    }
    const added = [...routes].filter((route) => !before.has(route)).sort();
    const expected = ['/account/consents/{id}', '/interaction/{uid}', '/interaction/{uid}/login', 'unmatched'];
    expect(added, `380 requests added: ${added.join(' ')}`).to.satisfy((labels: string[]) => labels.every((label) => expected.includes(label)));
    // Known routes keep their label: the route's template, as the app declares it.
    for (const label of expected) expect(routes).to.include(label);
    expect(routes).to.include('discovery');
  });

  it('labels a request with the provider\'s route name, else the route template that answered it, else `unmatched`', () => {
    const metrics = new Metrics({ processMetrics: false });
    const named = {} as Parameters<Metrics['routeOf']>[0];
    const other = {} as Parameters<Metrics['routeOf']>[0];
    metrics.nameRoute(named, 'token');
    expect(metrics.routeOf(named, undefined)).to.equal('token');
    expect(metrics.routeOf(other, '/interaction/{uid}/login')).to.equal('/interaction/{uid}/login');
    expect(metrics.routeOf(other, undefined)).to.equal('unmatched');
  });

  it('keeps one registry per server: two in one process register the same names without collision', async () => {
    const first = new Metrics();
    const second = new Metrics();
    first.signIn('success', LOA_1);
    const [a, b] = await Promise.all([first.exposition(), second.exposition()]);
    expect(valueOf(parseExposition(a.body), 'idp_sign_ins_total', { result: 'success' })).to.equal(1);
    expect(valueOf(parseExposition(b.body), 'idp_sign_ins_total', { result: 'success' })).to.equal(0);
  });
});
