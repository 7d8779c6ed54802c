// Back-channel logout seen from the relying parties: two portals with receivers started here (real
// node:http servers that record what they get), a citizen signed into both through openid-client,
// then a logout — by the citizen at end_session, or by the provider ending all of their access.
import { expect } from 'chai';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser, formsOf } from '../support/browserless.ts';
import { buildClientMetadata, InvalidClientRegistration, type ClientRegistration } from '../../src/oidc/clients/clients.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** How a receiver answers its nth request (from 1): a status, after an optional delay. */
type Answer = (nth: number) => { status: number; delayMs?: number };

interface Receiver {
  readonly url: string;
  /** Every logout token received, in order, whatever the answer was. */
  readonly tokens: string[];
  close(): Promise<void>;
}

async function startReceiver(answer: Answer = () => ({ status: 200 })): Promise<Receiver> {
  const tokens: string[] = [];
  const http: HttpServer = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token');
      if (request.headers['content-type'] === 'application/x-www-form-urlencoded' && token) tokens.push(token);
      const { status, delayMs = 0 } = answer(tokens.length);
      setTimeout(() => response.writeHead(status).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/backchannel-logout`,
    tokens,
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Portal {
  readonly clientId: string;
  readonly secret: string;
  readonly redirectUri: string;
  readonly receiver: Receiver;
}

describe('back-channel logout (end to end, openid-client)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  const receivers: Receiver[] = [];
  let portalCount = 0;

  before(async function () {
    world = await startTestServer();
  });

  after(async function () {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await world?.close();
  });

  /** A portal registered with its own receiver, which answers as told. */
  async function registerPortal(answer?: Answer): Promise<Portal> {
    portalCount += 1;
    const receiver = await startReceiver(answer);
    receivers.push(receiver);
    const portal = {
      clientId: `bcl-portal-${portalCount}-${randomBytes(3).toString('hex')}`,
      secret: `secret-${randomBytes(12).toString('hex')}`,
      redirectUri: `http://127.0.0.1:${4100 + portalCount}/callback`,
      receiver,
    };
    await world.server.container.clients.save({
      clientId: portal.clientId,
      name: `Portal ${portalCount}`,
      profile: 'portal',
      approvedScopes: ['openid'],
      redirectUris: [portal.redirectUri],
      secret: portal.secret,
      backchannelLogoutUri: receiver.url,
      backchannelLogoutSessionRequired: true,
    });
    return portal;
  }

  function discover(portal: Portal): Promise<client.Configuration> {
    return client.discovery(new URL(world.issuer), portal.clientId, undefined, client.ClientSecretBasic(portal.secret), {
      execute: [client.allowInsecureRequests],
    });
  }

  /** Signs Bích into a portal in this browser; returns the ID token and its claims. */
  async function signIn(browser: Browser, portal: Portal) {
    const config = await discover(portal);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: portal.redirectUri,
      scope: 'openid',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    const callback = await browser.signIn(url, BICH.id, BICH.password, { consent: true });
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(claims.sid, 'sid in the ID token').to.be.a('string').and.not.empty;
    return { idToken: tokens.id_token!, claims, config };
  }

  /** RP-initiated logout with id_token_hint, confirmed; resolves with the time the response took. */
  async function logOut(browser: Browser, config: client.Configuration, idToken: string): Promise<number> {
    const confirmation = await browser.get(client.buildEndSessionUrl(config, { id_token_hint: idToken }));
    const form = formsOf(confirmation).find((candidate) => candidate.fields.xsrf !== undefined);
    expect(form, 'the confirmation form').to.not.equal(undefined);
    const started = performance.now();
    const done = await browser.fetch(form!.action, {
      method: 'POST',
      body: new URLSearchParams({ ...form!.fields, logout: 'yes' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const elapsed = performance.now() - started;
    expect(done.status, 'the logout redirect').to.be.within(300, 399);
    return elapsed;
  }

  /** Verifies a logout token as a relying party must (OpenID Connect Back-Channel Logout 1.0 §2.6). */
  async function verifyLogoutToken(token: string, portal: Portal, expected: client.IDToken): Promise<JWTPayload> {
    const jwks = createRemoteJWKSet(new URL('/jwks', world.issuer));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: world.issuer, audience: portal.clientId, maxTokenAge: 180 });
    expect(protectedHeader.typ).to.equal('logout+jwt');
    expect(payload.events).to.deep.equal({ [LOGOUT_EVENT]: {} });
    expect(payload.sid).to.equal(expected.sid);
    expect(payload.sub).to.equal(expected.sub);
    expect(payload).to.not.have.property('nonce');
    expect(payload.jti).to.be.a('string').and.not.empty;
    expect(payload.exp! - payload.iat!).to.equal(120);
    return payload;
  }

  function queueRows(clientId: string): Promise<{ delivered_at: Date | null; attempts: number }[]> {
    return world.server.container.db('backchannel_logouts').where({ client_id: clientId }).select('delivered_at', 'attempts');
  }

  it('tells both portals of an RP-initiated logout, with logout tokens each verified against the JWKS', async function () {
    const first = await registerPortal();
    const second = await registerPortal();
    const browser = new Browser(world.issuer);
    const one = await signIn(browser, first);
    const two = await signIn(browser, second);
    expect(one.claims.sub, 'pairwise per sector').to.not.equal(two.claims.sub);

    await logOut(browser, one.config, one.idToken);
    await waitFor(() => first.receiver.tokens.length === 1 && second.receiver.tokens.length === 1, 'both receivers', 5_000);
    await verifyLogoutToken(first.receiver.tokens[0]!, first, one.claims);
    await verifyLogoutToken(second.receiver.tokens[0]!, second, two.claims);

    await world.server.container.audit.flush();
    const events = await world.server.container.db('audit_events').where({ type: 'logout', client_id: first.clientId });
    expect(events.map((event: { data: { outcome: string } }) => event.data.outcome)).to.include('delivered');

    // Delivered once: nothing more arrives over two more rounds of the worker, and ending the
    // citizen's (already ended) sessions again queues nothing new.
    await world.server.container.sessions.endAllSessions(await accountIdOf());
    await sleep(4_500);
    expect(first.receiver.tokens).to.have.length(1);
    expect(second.receiver.tokens).to.have.length(1);
    const [row] = await queueRows(first.clientId);
    expect(row?.delivered_at).to.be.instanceOf(Date);
    expect(row?.attempts).to.equal(1);
  });

  it('retries a portal whose receiver is down at first, with a fresh logout token', async function () {
    this.timeout(30_000);
    const flaky = await registerPortal((nth) => ({ status: nth === 1 ? 500 : 200 }));
    const browser = new Browser(world.issuer);
    const session = await signIn(browser, flaky);

    await logOut(browser, session.config, session.idToken);
    await waitFor(() => flaky.receiver.tokens.length >= 2, 'the retry', 15_000);
    const [failed, retried] = await Promise.all(flaky.receiver.tokens.map((token) => verifyLogoutToken(token, flaky, session.claims)));
    expect(retried?.jti, 'a token minted for the retry').to.not.equal(failed?.jti);

    await sleep(3_000);
    expect(flaky.receiver.tokens, 'nothing after the success').to.have.length(2);
    const [row] = await queueRows(flaky.clientId);
    expect(row?.delivered_at).to.be.instanceOf(Date);
    expect(row?.attempts).to.equal(2);
  });

  it('tells the portals when the provider ends all of the citizen\'s access (death, lock)', async function () {
    const portal = await registerPortal();
    const browser = new Browser(world.issuer);
    const session = await signIn(browser, portal);

    const ended = await world.server.container.sessions.endAllAccess(await accountIdOf());
    expect(ended.sessions).to.be.greaterThan(0);
    await waitFor(() => portal.receiver.tokens.length === 1, 'the receiver', 5_000);
    await verifyLogoutToken(portal.receiver.tokens[0]!, portal, session.claims);
  });

  it('does not make the citizen wait for a slow receiver', async function () {
    const slow = await registerPortal(() => ({ status: 200, delayMs: 10_000 }));
    const browser = new Browser(world.issuer);
    const session = await signIn(browser, slow);

    const elapsed = await logOut(browser, session.config, session.idToken);
    expect(elapsed, 'logout response time (ms)').to.be.below(1_000);
    await waitFor(() => slow.receiver.tokens.length === 1, 'the slow receiver to be reached', 5_000);
  });

  /** Bích's internal account id. */
  async function accountIdOf(): Promise<string> {
    const account = await world.server.container.db('accounts').where({ national_id: BICH.id }).first<{ id: string } | undefined>();
    if (!account) throw new Error('Bích has no account');
    return account.id;
  }
});

describe('back-channel logout registration', function () {
  const portal: ClientRegistration = {
    clientId: 'bcl-registration',
    name: 'Portal',
    profile: 'portal',
    approvedScopes: ['openid'],
    redirectUris: ['https://portal.example.vn/callback'],
    secret: 'a-long-enough-secret',
  };

  it('takes an https receiver and asks for sid', function () {
    const metadata = buildClientMetadata({ ...portal, backchannelLogoutUri: 'https://portal.example.vn/logout', backchannelLogoutSessionRequired: true });
    expect(metadata).to.include({ backchannel_logout_uri: 'https://portal.example.vn/logout', backchannel_logout_session_required: true });
  });

  it('takes a loopback http receiver only outside production', function () {
    const loopback = { ...portal, backchannelLogoutUri: 'http://127.0.0.1:9000/logout' };
    expect(buildClientMetadata(loopback, { allowLoopbackReceivers: true })).to.include({ backchannel_logout_uri: loopback.backchannelLogoutUri });
    expect(() => buildClientMetadata(loopback)).to.throw(InvalidClientRegistration, /loopback/);
  });

  it('refuses plain http elsewhere, and session_required without a receiver', function () {
    expect(() => buildClientMetadata({ ...portal, backchannelLogoutUri: 'http://portal.example.vn/logout' }, { allowLoopbackReceivers: true })).to.throw(
      InvalidClientRegistration,
      /https/,
    );
    expect(() => buildClientMetadata({ ...portal, backchannelLogoutSessionRequired: true })).to.throw(InvalidClientRegistration, /backchannel_logout_uri/);
  });
});
