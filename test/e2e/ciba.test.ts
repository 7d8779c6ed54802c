// CIBA end to end: a bank (openid-client, private_key_jwt, DPoP) asks for a citizen by ID number with
// a binding message; the citizen — a cookie-jar browser signed in to /account — approves with a TOTP
// code or denies on /account/approvals; the bank polls, or is pinged by a receiver on loopback. Unknown,
// locked and dead citizens, and requests over the cap, are answered exactly like a denial.
import { randomInt } from 'node:crypto';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';
import { Browser, alertsOf, decodeEntities, formsOf, stepOf, type Page, type PageForm } from '../support/browserless.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { passkeyCreationOptions, relyingPartyOf, registerPasskey } from '../../src/accounts/second-factors.ts';
import { PostgresAccountStore } from '../../src/accounts/account-store-postgres.ts';
import { discoverBank, importPrivateJwk, signingKey } from '../support/bank.ts';
import { SECTOR_HOST_CA, startSectorHost, type SectorHost } from '../support/sector-host.ts';
import type { OutboxNotifier } from '../../src/accounts/notifier.ts';
import { currentTotp, newTotpSecret } from '../../src/accounts/totp.ts';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';
import { DEMO_BANK_PRIVATE_JWK } from '../../src/demo/demo-bank-key.ts';
import { LOA_2 } from '../../src/oidc/consent/assurance.ts';
import { CIBA_GRANT_TYPE } from '../../src/oidc/ciba/ciba-registration.ts';
import { buildClientMetadata, InvalidClientRegistration, type ClientRegistration } from '../../src/oidc/clients/clients.ts';

const POLL_INTERVAL = 2;
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const TUNG_DECEASED = '036080001111';

interface Citizen {
  readonly id: string;
  readonly password: string;
  readonly secret: string;
  readonly phone: string;
}

describe('CIBA: a bank asks, the citizen answers on the account page (end to end)', function () {
  this.timeout(120_000);
  let world: RunningServer;
  /** demo-bank: poll mode (the bank profile's default), docs/design.md's demo key. */
  let bank: client.Configuration;
  /**
   * A ping-mode bank registered by this suite, and the receiver of its notifications: https, since
   * oidc-provider loads no client whose notification endpoint is anything else (a self-signed
   * certificate for 127.0.0.1, trusted by this process for the suite).
   */
  let pingBank: client.Configuration;
  let receiver: SectorHost;
  const systemCAs = getCACertificates('default');
  const pings: { authorization: string | undefined; body: unknown }[] = [];

  before(async () => {
    world = await startTestServer({
      overrides: {
        ciba: { pollIntervalSeconds: POLL_INTERVAL, standInDenialMinSeconds: 1, standInDenialMaxSeconds: 3, defaultExpirySeconds: 120, maxExpirySeconds: 300 },
      },
    });
    const demoKey = { privateKey: await importPrivateJwk(DEMO_BANK_PRIVATE_JWK), kid: DEMO_BANK_PRIVATE_JWK.kid };
    bank = await discoverBank(world.issuer, 'demo-bank', demoKey);

    setDefaultCACertificates([...systemCAs, SECTOR_HOST_CA]);
    receiver = await startSectorHost({
      '/ciba': (request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          pings.push({ authorization: request.headers.authorization, body: JSON.parse(body || 'null') as unknown });
          response.writeHead(204).end();
        });
      },
    });
    const pingKey = await signingKey('ES256', 'ping-bank-1');
    await world.server.container.clients.save({
      clientId: 'ping-bank',
      name: 'Ngân hàng Ping (thử)',
      profile: 'bank',
      approvedScopes: ['openid', 'profile', 'national_id'],
      redirectUris: ['http://127.0.0.1:4005/callback'],
      subjectType: 'public',
      jwks: { keys: [pingKey.publicJwk] },
      ciba: { deliveryMode: 'ping', notificationEndpoint: `${receiver.origin}/ciba` },
    });
    pingBank = await discoverBank(world.issuer, 'ping-bank', pingKey);
  });

  after(async () => {
    await receiver?.close();
    await world?.close();
    setDefaultCACertificates(systemCAs);
  });

  // -------------------------------------------------------------------------------------------------
  // Helpers

  /** A fresh citizen of their own (a TOTP code is good once per 30-second step and account). */
  async function citizen(options: { level?: 1 | 2; totp?: boolean } = {}): Promise<Citizen> {
    const template = DEMO_CITIZENS[0]!.record;
    const nationalId = `0010990${String(randomInt(0, 100_000)).padStart(5, '0')}`;
    const phone = `+8491${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
    const secret = newTotpSecret();
    const { container } = world.server;
    await container.registry.upsert({ ...template, nationalId, fullName: 'Đặng Thu Trang' });
    await container.accounts.enrol({
      nationalId,
      level: options.level ?? 2,
      passwordHash: await container.passwords.hash('Trang#Ciba-2026'),
      totpSecretSealed: options.totp === false ? null : container.sealer.seal(secret, `totp:${nationalId}`),
      phoneNumber: phone,
      phoneNumberVerified: true,
      email: null,
      emailVerified: false,
    });
    return { id: nationalId, password: 'Trang#Ciba-2026', secret, phone };
  }

  async function dpop(config: client.Configuration) {
    return client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  }

  function ask(config: client.Configuration, loginHint: string, extra: Record<string, string> = {}) {
    return client.initiateBackchannelAuthentication(config, {
      scope: 'openid profile national_id',
      login_hint: loginHint,
      binding_message: 'QUAY-7',
      ...extra,
    });
  }

  /** One token request for the auth_req_id, no waiting: the tokens, or the error code. */
  async function pollOnce(config: client.Configuration, authReqId: string, handle?: client.DPoPHandle): Promise<{ error?: string; tokens?: client.TokenEndpointResponse }> {
    try {
      const tokens = await client.genericGrantRequest(config, CIBA_GRANT_TYPE, { auth_req_id: authReqId }, { DPoP: handle ?? (await dpop(config)) });
      return { tokens };
    } catch (error) {
      if (error instanceof client.ResponseBodyError) return { error: error.error };
      throw error;
    }
  }

  /** Polls as a bank would (openid-client waits `interval` between polls); the error code, or the tokens. */
  async function pollToEnd(config: client.Configuration, started: client.BackchannelAuthenticationResponse, handle?: client.DPoPHandle) {
    try {
      return { tokens: await client.pollBackchannelAuthenticationGrant(config, started, undefined, { DPoP: handle ?? (await dpop(config)) }) };
    } catch (error) {
      if (error instanceof client.ResponseBodyError) return { error: error.error, description: error.error_description };
      throw error;
    }
  }

  function formWithAction(page: Page, pathname: string, requestId?: string): PageForm | undefined {
    return formsOf(page).find((form) => new URL(form.action).pathname === pathname && (requestId === undefined || form.fields.request === requestId));
  }

  /** A browser signed in to the account page as the citizen, on /account/approvals. */
  async function approvalsPage(who: { id: string; password: string }, lang?: 'en'): Promise<{ browser: Browser; page: Page }> {
    const browser = new Browser(world.issuer);
    let page = await browser.get(`${world.issuer}/account/approvals${lang ? `?lang=${lang}` : ''}`);
    for (let steps = 0; steps < 4 && stepOf(page) !== undefined; steps += 1) {
      const login = formsOf(page).find((form) => form.action.endsWith('/login'));
      if (!login) throw new Error(`unexpected sign-in step at ${page.url}`);
      page = await browser.submit(login, { username: who.id, password: who.password });
    }
    expect(page.status, page.body.slice(0, 500)).to.equal(200);
    expect(new URL(page.url).pathname).to.equal('/account/approvals');
    return { browser, page };
  }

  async function approveWithTotp(browser: Browser, page: Page, requestId: string, secret: string): Promise<Page> {
    const form = formWithAction(page, '/account/approvals/approve', requestId);
    if (!form) throw new Error(`no approve form for ${requestId}: ${alertsOf(page).join(' ')}`);
    return browser.submit(form, { otp: await currentTotp(secret) });
  }

  async function deny(browser: Browser, page: Page, requestId: string): Promise<Page> {
    const form = formWithAction(page, '/account/approvals/deny', requestId);
    if (!form) throw new Error(`no deny form for ${requestId}`);
    return browser.submit(form);
  }

  const outbox = (destination: string) => (world.server.container.notifier as OutboxNotifier).list({ destination });
  const auditOf = async (accountId: string, type: string) =>
    (await world.server.container.audit.eventsForAccount(accountId)).filter((event) => event.type === (type as typeof event.type));
  const accountIdOf = async (nationalId: string) => (await world.server.container.accounts.findByNationalId(nationalId))!.id;

  // -------------------------------------------------------------------------------------------------
  // Discovery and the happy path

  it('advertises CIBA in discovery: the endpoint, poll and ping, no user codes', () => {
    const metadata = bank.serverMetadata();
    expect(metadata.backchannel_authentication_endpoint).to.equal(`${world.issuer}/backchannel`);
    expect(metadata.backchannel_token_delivery_modes_supported).to.have.members(['poll', 'ping']);
    expect(metadata.backchannel_user_code_parameter_supported).to.equal(false);
    expect(metadata.grant_types_supported).to.include(CIBA_GRANT_TYPE);
  });

  it('poll: the citizen approves with a TOTP code and the bank gets DPoP-bound tokens at level 2', async () => {
    const who = await citizen();
    const started = await ask(bank, who.id, { scope: 'openid profile national_id ethnicity' });
    expect(started.auth_req_id).to.be.a('string');
    expect(started.expires_in).to.equal(120);
    expect(started.interval).to.equal(POLL_INTERVAL);

    // The citizen is told on their verified phone: the bank's name and the binding message.
    const [notice] = await waitFor(() => outbox(who.phone), (messages) => messages.length > 0);
    expect(notice!.body).to.include('Ngân hàng (demo)').and.to.include('QUAY-7').and.to.include('/account/approvals');

    const { browser, page } = await approvalsPage(who);
    const section = sectionOf(page, started.auth_req_id);
    expect(section).to.include('Ngân hàng (demo)').and.to.include('QUAY-7');
    // The consent page's words for what is asked; ethnicity is not approved for demo-bank, so not shown.
    expect(section).to.include('Họ và tên, ngày sinh, giới tính').and.to.include('Số định danh cá nhân (12 chữ số)');
    expect(section).not.to.include('Dân tộc');
    expect(page.body).to.include('<html lang="vi"');
    // Under the account page's navigation bar, like its other page groups.
    expect(page.body).to.include('<a href="/account/approvals" aria-current="page">').and.to.include('<a href="/account/history">');

    const handle = await dpop(bank);
    const polling = pollToEnd(bank, started, handle);
    await sleep(500);
    const after = await approveWithTotp(browser, page, started.auth_req_id, who.secret);
    expect(after.status).to.equal(200);
    expect(new URL(after.url).pathname).to.equal('/account/approvals');
    expect(after.body).to.include('Bạn đã đồng ý');
    expect(sectionOf(after, started.auth_req_id)).to.equal(undefined);

    const { tokens } = await polling;
    expect(tokens, 'tokens after the approval').to.not.equal(undefined);
    expect(tokens!.token_type.toLowerCase()).to.equal('dpop');
    expect(tokens!.scope!.split(' ')).to.have.members(['openid', 'profile', 'national_id']);
    const claims = decodeJwt(tokens!.id_token!);
    expect(claims.acr).to.equal(LOA_2);
    expect(claims.amr).to.include.members(['pwd', 'otp', 'mfa']);
    // demo-bank has public subjects: neither the account's internal id nor the ID number (docs/design.md "Subjects").
    expect(claims.sub).to.be.a('string').and.not.be.oneOf([await accountIdOf(who.id), who.id]);
    const userinfo = await client.fetchUserInfo(bank, tokens!.access_token, claims.sub!, { DPoP: handle });
    expect(userinfo.national_id).to.equal(who.id);
    expect(userinfo).not.to.have.property('ethnicity');

    // The approval is a consent like the consent page's: a record of the words shown, and audit events.
    const accountId = await accountIdOf(who.id);
    const [service] = await world.server.container.consents.servicesWithAccess(accountId);
    expect(service?.clientId).to.equal('demo-bank');
    const record = await world.server.container.consents.find(accountId, service!.latestRecordId);
    expect(record!.shownText).to.include('QUAY-7').and.to.include('Số định danh cá nhân (12 chữ số)');
    expect(record!.scopes).to.have.members(['openid', 'profile', 'national_id']);
    expect(await auditOf(accountId, 'ciba.requested')).to.have.length(1);
    expect(await auditOf(accountId, 'ciba.approved')).to.have.length(1);
    expect(await auditOf(accountId, 'consent.given')).to.have.length(1);

    // An auth_req_id is good for one set of tokens.
    expect((await pollOnce(bank, started.auth_req_id)).error).to.equal('invalid_grant');
  });

  it('poll: a denial reaches the bank as access_denied, with nothing granted', async () => {
    const who = await citizen();
    const started = await ask(bank, who.id);
    const { browser, page } = await approvalsPage(who);
    const after = await deny(browser, page, started.auth_req_id);
    expect(after.status).to.equal(200);
    expect(after.body).to.include('Bạn đã từ chối');
    expect(sectionOf(after, started.auth_req_id)).to.equal(undefined);
    expect((await pollToEnd(bank, started)).error).to.equal('access_denied');
    const accountId = await accountIdOf(who.id);
    expect(await world.server.container.consents.servicesWithAccess(accountId)).to.deep.equal([]);
    expect(await auditOf(accountId, 'ciba.denied')).to.have.length(1);
    expect(await auditOf(accountId, 'ciba.approved')).to.have.length(0);
  });

  it('answers authorization_pending while the citizen has not answered, and slow_down to a bank polling faster than the interval', async () => {
    const who = await citizen();
    const started = await ask(bank, who.id);
    const handle = await dpop(bank);
    expect((await pollOnce(bank, started.auth_req_id, handle)).error).to.equal('authorization_pending');
    expect((await pollOnce(bank, started.auth_req_id, handle)).error).to.equal('slow_down');
    await sleep(POLL_INTERVAL * 1000);
    expect((await pollOnce(bank, started.auth_req_id, handle)).error).to.equal('authorization_pending');
  });

  it('expires a request at requested_expiry, at most the maximum: the bank is then told expired_token and the page no longer shows it', async () => {
    const who = await citizen();
    const short = await ask(bank, who.id, { requested_expiry: '2' });
    expect(short.expires_in).to.equal(2);
    const long = await ask(bank, who.id, { requested_expiry: '86400' });
    expect(long.expires_in, 'cut to ciba.maxExpirySeconds').to.equal(300);
    expect((await pollOnce(bank, short.auth_req_id)).error).to.equal('authorization_pending');
    await sleep(3000);
    expect((await pollOnce(bank, short.auth_req_id)).error).to.equal('expired_token');
    const { page } = await approvalsPage(who);
    expect(sectionOf(page, short.auth_req_id)).to.equal(undefined);
    expect(sectionOf(page, long.auth_req_id)).to.be.a('string');
    const refused = await client.initiateBackchannelAuthentication(bank, { scope: 'openid', login_hint: who.id, binding_message: 'QUAY-7', requested_expiry: '0' }).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(client.ResponseBodyError).and.to.have.property('error', 'invalid_request');
  });

  it("ping: the bank's endpoint gets the auth_req_id with its notification token, then the bank fetches the tokens", async () => {
    const who = await citizen();
    const token = `ping-${randomInt(1_000_000)}`;
    const started = await ask(pingBank, who.id, { client_notification_token: token });
    expect(pings.filter((ping) => JSON.stringify(ping.body).includes(started.auth_req_id))).to.have.length(0);
    const { browser, page } = await approvalsPage(who);
    await approveWithTotp(browser, page, started.auth_req_id, who.secret);
    const received = await waitFor(
      () => Promise.resolve(pings.filter((ping) => (ping.body as { auth_req_id?: string } | null)?.auth_req_id === started.auth_req_id)),
      (found) => found.length > 0,
    );
    expect(received).to.have.length(1);
    expect(received[0]!.authorization).to.equal(`Bearer ${token}`);
    expect(received[0]!.body).to.deep.equal({ auth_req_id: started.auth_req_id });
    const { tokens } = await pollOnce(pingBank, started.auth_req_id);
    expect(decodeJwt(tokens!.id_token!).acr).to.equal(LOA_2);

    // A denial is pinged too; and a ping-mode request needs its notification token.
    const denied = await ask(pingBank, who.id, { client_notification_token: `${token}-2` });
    const second = await approvalsPage(who);
    await deny(second.browser, second.page, denied.auth_req_id);
    await waitFor(
      () => Promise.resolve(pings.filter((ping) => (ping.body as { auth_req_id?: string } | null)?.auth_req_id === denied.auth_req_id)),
      (found) => found.length > 0,
    );
    expect((await pollOnce(pingBank, denied.auth_req_id)).error).to.equal('access_denied');
    const missing = await ask(pingBank, who.id).catch((error: unknown) => error);
    expect(missing).to.be.instanceOf(client.ResponseBodyError).and.to.have.property('error', 'invalid_request');
  });

  // -------------------------------------------------------------------------------------------------
  // No probing

  it('answers an ID number without an account, a locked account and a dead citizen exactly like a denial', async () => {
    const refused = await citizen();
    const denied = await ask(bank, refused.id);
    const { browser, page } = await approvalsPage(refused);
    await deny(browser, page, denied.auth_req_id);
    const denial = await pollToEnd(bank, denied);
    expect(denial.error).to.equal('access_denied');

    const locked = await citizen();
    await world.server.container.accounts.lock({ nationalId: locked.id }, null);
    for (const nationalId of ['001188000001', locked.id, TUNG_DECEASED]) {
      const started = await ask(bank, nationalId);
      expect(Object.keys(started).sort(), nationalId).to.deep.equal(Object.keys(denied).sort());
      expect(started.expires_in).to.equal(denied.expires_in);
      expect((await pollOnce(bank, started.auth_req_id)).error, nationalId).to.equal('authorization_pending');
      expect(await pollToEnd(bank, started), nationalId).to.deep.equal(denial);
    }
    // Nobody was told anything, and the trail says why the answer was a denial (the number masked).
    expect(await outbox(locked.phone)).to.have.length(0);
    await world.server.container.audit.flush();
    const events: { data: { outcome: string } }[] = await world.server.container.db('audit_events').where('type', 'ciba.requested').whereNull('account_id').select('data');
    expect(events.filter((event) => event.data.outcome.startsWith('no active account')).length).to.be.at.least(3);
    expect(JSON.stringify(events)).not.to.include('001188000001');
  });

  it('never issues tokens for a stand-in, even when something grants its request', async () => {
    const started = await ask(bank, '001188000002');
    const { provider } = world.server.container;
    const request = (await provider.BackchannelAuthenticationRequest.find(started.auth_req_id))!;
    expect(request.accountId).to.match(/^ciba-stand-in:/);
    const grant = new provider.Grant({ accountId: request.accountId!, clientId: 'demo-bank' });
    grant.addOIDCScope('openid national_id');
    await grant.save();
    await provider.backchannelResult(request, grant, { acr: LOA_2 });
    const outcome = await pollOnce(bank, started.auth_req_id);
    expect(outcome.tokens).to.equal(undefined);
    expect(outcome.error).to.equal('invalid_grant');
  });

  it('holds at most three waiting requests per citizen; a fourth is answered like a denial and never shown', async () => {
    const who = await citizen();
    const first = await ask(bank, who.id);
    const second = await ask(bank, who.id);
    const third = await ask(bank, who.id);
    const fourth = await ask(bank, who.id);
    const { browser, page } = await approvalsPage(who);
    for (const shown of [first, second, third]) expect(sectionOf(page, shown.auth_req_id), shown.auth_req_id).to.be.a('string');
    expect(sectionOf(page, fourth.auth_req_id)).to.equal(undefined);
    expect((await pollToEnd(bank, fourth)).error).to.equal('access_denied');
    expect(await waitFor(() => outbox(who.phone), (messages) => messages.length >= 3)).to.have.length(3);
    // Answering one frees its place.
    const after = await deny(browser, page, first.auth_req_id);
    expect(sectionOf(after, first.auth_req_id)).to.equal(undefined);
    const fifth = await ask(bank, who.id);
    expect(sectionOf(await browser.get(`${world.issuer}/account/approvals`), fifth.auth_req_id)).to.be.a('string');
  });

  // -------------------------------------------------------------------------------------------------
  // What a request must carry

  it('requires a binding message: missing is invalid_request, malformed is invalid_binding_message, before any citizen is looked up', async () => {
    const who = await citizen();
    const attempt = (loginHint: string, bindingMessage: string | undefined) =>
      client
        .initiateBackchannelAuthentication(bank, { scope: 'openid', login_hint: loginHint, ...(bindingMessage !== undefined && { binding_message: bindingMessage }) })
        .then(() => 'accepted')
        .catch((error: unknown) => (error instanceof client.ResponseBodyError ? error.error : String(error)));
    for (const loginHint of [who.id, '001188000003']) {
      expect(await attempt(loginHint, undefined), loginHint).to.equal('invalid_request');
      for (const bad of ['X'.repeat(21), '<b>hi</b>', 'A\u0007B', ' QUAY', 'https://x.vn', 'Q\u202eUAY']) {
        expect(await attempt(loginHint, bad), JSON.stringify(bad)).to.equal('invalid_binding_message');
      }
    }
    expect(await attempt(who.id, 'Quầy số 3')).to.equal('accepted');
    const { page } = await approvalsPage(who);
    expect(page.body).to.include('Quầy số 3');
    expect(await outbox(who.phone)).to.have.length(1);
  });

  it('takes the 12-digit ID number as login_hint, or an ID token the bank received; nothing else', async () => {
    const who = await citizen();
    const error = (promise: Promise<unknown>) => promise.then(() => 'accepted').catch((caught: unknown) => (caught instanceof client.ResponseBodyError ? caught.error : String(caught)));
    expect(await error(ask(bank, '12345'))).to.equal('invalid_request');
    expect(await error(ask(bank, `${who.id} `.repeat(2)))).to.equal('invalid_request');
    expect(await error(client.initiateBackchannelAuthentication(bank, { scope: 'openid', login_hint_token: 'x', binding_message: 'QUAY-7' }))).to.equal('invalid_request');
    expect(await error(ask(bank, who.id, { user_code: '1234' }))).to.equal('invalid_request');
    expect(await error(client.initiateBackchannelAuthentication(bank, { scope: 'openid', binding_message: 'QUAY-7' }))).to.equal('invalid_request');

    // An ID token from an earlier approval names the same citizen.
    const first = await ask(bank, who.id);
    const { browser, page } = await approvalsPage(who);
    await approveWithTotp(browser, page, first.auth_req_id, who.secret);
    const { tokens } = await pollOnce(bank, first.auth_req_id);
    const again = await client.initiateBackchannelAuthentication(bank, { scope: 'openid profile', id_token_hint: tokens!.id_token!, binding_message: 'QUAY-8' });
    expect(sectionOf(await browser.get(`${world.issuer}/account/approvals`), again.auth_req_id)).to.include('QUAY-8');
  });

  it('is for bank clients only: a portal client is refused, and only bank registrations take CIBA settings', async () => {
    const portal = await client.discovery(new URL(world.issuer), 'demo-portal', undefined, client.ClientSecretBasic('demo-portal-secret'), {
      execute: [client.allowInsecureRequests],
    });
    const refused = await ask(portal, BICH.id).catch((error: unknown) => error);
    // CIBA Core 1.0 section 13: a client not registered for the CIBA grant is unauthorized_client.
    expect(refused).to.be.instanceOf(client.ResponseBodyError).and.to.include({ error: 'unauthorized_client', status: 400 });
    expect((refused as client.ResponseBodyError).error_description).to.include(CIBA_GRANT_TYPE);

    const key = await signingKey('ES256', 'reg-1');
    const base: ClientRegistration = {
      clientId: 'reg-bank',
      name: 'Registration bank',
      profile: 'bank',
      approvedScopes: ['openid'],
      redirectUris: ['https://bank.example.vn/callback'],
      subjectType: 'public',
      jwks: { keys: [key.publicJwk] },
    };
    const rules = { allowLoopbackReceivers: false };
    const metadata = buildClientMetadata(base, rules);
    expect(metadata.grant_types).to.include(CIBA_GRANT_TYPE);
    expect(metadata).to.include({ backchannel_token_delivery_mode: 'poll', backchannel_user_code_parameter: false });
    expect(buildClientMetadata({ ...base, ciba: false }, rules).grant_types).not.to.include(CIBA_GRANT_TYPE);
    expect(buildClientMetadata({ ...base, ciba: { deliveryMode: 'ping', notificationEndpoint: 'https://bank.example.vn/ciba' } }, rules)).to.include({
      backchannel_token_delivery_mode: 'ping',
      backchannel_client_notification_endpoint: 'https://bank.example.vn/ciba',
    });
    // A pairwise bank without jwks_uri and sector_identifier_uri cannot load as a CIBA client in oidc-provider.
    expect(buildClientMetadata({ ...base, subjectType: 'pairwise' }, rules).grant_types).not.to.include(CIBA_GRANT_TYPE);
    const refusals: [Partial<ClientRegistration>, RegExp][] = [
      [{ profile: 'portal', secret: 'portal-secret-123', jwks: undefined, tokenEndpointAuthMethod: 'client_secret_basic', ciba: { deliveryMode: 'poll' } }, /bank clients only/],
      [{ subjectType: 'pairwise', ciba: { deliveryMode: 'poll' } }, /jwks_uri and a sector_identifier_uri/],
      [{ ciba: { deliveryMode: 'ping' } }, /required in ping mode/],
      [{ ciba: { deliveryMode: 'poll', notificationEndpoint: 'https://bank.example.vn/ciba' } }, /only in ping mode/],
      [{ ciba: { deliveryMode: 'ping', notificationEndpoint: 'http://bank.example.vn/ciba' } }, /must use https/],
      [{ ciba: { deliveryMode: 'ping', notificationEndpoint: 'http://127.0.0.1:9/ciba' } }, /loopback, allowed only outside production/],
      [{ ciba: { deliveryMode: 'push' as 'poll' } }, /one of poll, ping/],
    ];
    for (const [change, message] of refusals) {
      expect(() => buildClientMetadata({ ...base, ...change }, rules), JSON.stringify(change))
        .to.throw(InvalidClientRegistration)
        .with.property('message')
        .that.matches(message);
    }
  });

  // -------------------------------------------------------------------------------------------------
  // The citizen's side

  it('tells a level-1 account without a second factor plainly that it cannot approve, and lets it deny', async () => {
    const started = await ask(bank, BICH.id);
    const { browser, page } = await approvalsPage(BICH);
    const section = sectionOf(page, started.auth_req_id)!;
    expect(section).to.be.a('string');
    expect(alertsOf({ ...page, body: section }).join(' ')).to.include('chưa có ứng dụng xác thực hay khóa truy cập');
    expect(formWithAction(page, '/account/approvals/approve', started.auth_req_id)).to.equal(undefined);
    // Forcing the form anyway changes nothing.
    const forced = await browser.postForm(`${world.issuer}/account/approvals/approve`, {
      csrf: formWithAction(page, '/account/approvals/deny', started.auth_req_id)!.fields.csrf!,
      request: started.auth_req_id,
      otp: '123456',
    });
    expect(forced.status).to.equal(403);
    expect((await pollOnce(bank, started.auth_req_id)).error).to.equal('authorization_pending');
    await deny(browser, page, started.auth_req_id);
    expect((await pollToEnd(bank, started)).error).to.equal('access_denied');
  });

  it('lets a level-1 account with TOTP approve only what asks for level 1, and says why not otherwise', async () => {
    const who = await citizen({ level: 1 });
    const levelTwo = await ask(bank, who.id);
    const levelOne = await ask(bank, who.id, { acr_values: 'urn:vn:eid:loa:1' });
    const { browser, page } = await approvalsPage(who);
    expect(alertsOf({ ...page, body: sectionOf(page, levelTwo.auth_req_id)! }).join(' ')).to.include('cần tài khoản định danh điện tử mức 2');
    expect(formWithAction(page, '/account/approvals/approve', levelTwo.auth_req_id)).to.equal(undefined);
    await approveWithTotp(browser, page, levelOne.auth_req_id, who.secret);
    const { tokens } = await pollOnce(bank, levelOne.auth_req_id);
    expect(decodeJwt(tokens!.id_token!).acr).to.equal('urn:vn:eid:loa:1');
  });

  it('refuses a wrong code, a form without its CSRF token, and an answer to another citizen\'s request', async () => {
    const who = await citizen();
    const started = await ask(bank, who.id);
    const { browser, page } = await approvalsPage(who);
    const form = formWithAction(page, '/account/approvals/approve', started.auth_req_id)!;
    const wrong = await browser.submit(form, { otp: (Number(await currentTotp(who.secret)) ^ 1).toString().padStart(6, '0').slice(-6) });
    expect(wrong.status).to.equal(401);
    expect(alertsOf(wrong).join(' ')).to.include('Mã không đúng');
    const noCsrf = await browser.postForm(form.action, { request: started.auth_req_id, otp: await currentTotp(who.secret) });
    expect(noCsrf.status).to.equal(403);

    const other = await citizen();
    const stranger = await approvalsPage(other);
    const csrf = formsOf(await stranger.browser.get(`${world.issuer}/account`)).find((candidate) => candidate.fields.csrf)?.fields.csrf ?? '';
    expect(csrf).to.not.equal('');
    const answer = await stranger.browser.postForm(`${world.issuer}/account/approvals/deny`, { csrf, request: started.auth_req_id });
    expect(answer.body).to.include('không còn chờ');
    expect((await pollOnce(bank, started.auth_req_id)).error).to.equal('authorization_pending');
    expect(sectionOf(await browser.get(`${world.issuer}/account/approvals`), started.auth_req_id)).to.be.a('string');
  });

  it('approves with a passkey instead of a code (possession and user verification: level 2)', async () => {
    const who = await citizen();
    const { db } = world.server.container;
    const relyingParty = relyingPartyOf(world.issuer);
    const accountId = await accountIdOf(who.id);
    const authenticator = new SoftAuthenticator(relyingParty.origin, relyingParty.id);
    const registration = await passkeyCreationOptions(new PostgresAccountStore(db), relyingParty, { accountId, userName: 'x', displayName: 'Đặng Thu Trang' });
    await registerPasskey(new PostgresAccountStore(db), relyingParty, { accountId, credential: authenticator.register(registration), expectedChallenge: registration.challenge, name: 'Phone' });

    const started = await ask(bank, who.id);
    const { browser, page } = await approvalsPage(who);
    expect(page.body).to.include('<script src="/assets/passkey.js"></script>');
    const passkeyForm = (shown: Page) => {
      const section = sectionOf(shown, started.auth_req_id)!;
      const options = JSON.parse(decodeEntities(/data-passkey-options="([^"]*)"/.exec(section)![1]!)) as { challenge: string };
      return { form: formsOf({ ...shown, body: section }).find((candidate) => 'credential' in candidate.fields)!, challenge: options.challenge };
    };
    // An assertion over another challenge is refused, and uses up the page's challenge.
    const { form, challenge } = passkeyForm(page);
    const forged = await browser.submit(form, { credential: JSON.stringify(authenticator.assert(`${challenge.slice(0, -2)}AA`)) });
    expect(forged.status).to.equal(401);
    expect(alertsOf(forged).join(' ')).to.include('Khóa truy cập không được chấp nhận');
    const replayed = await browser.submit(form, { credential: JSON.stringify(authenticator.assert(challenge)) });
    expect(replayed.status, 'each challenge is good once').to.equal(401);

    const fresh = passkeyForm(await browser.get(`${world.issuer}/account/approvals`));
    const approved = await browser.submit(fresh.form, { credential: JSON.stringify(authenticator.assert(fresh.challenge)) });
    expect(approved.body).to.include('Bạn đã đồng ý');
    const { tokens } = await pollOnce(bank, started.auth_req_id);
    const claims = decodeJwt(tokens!.id_token!);
    expect(claims.acr).to.equal(LOA_2);
    expect(claims.amr).to.include.members(['hwk', 'mfa']);
  });

  it('shows the approvals page in English on request, linked from the account overview', async () => {
    const who = await citizen();
    const started = await ask(bank, who.id, { binding_message: 'Counter 4' });
    const { browser, page } = await approvalsPage(who, 'en');
    expect(page.body).to.include('<html lang="en"');
    const section = sectionOf(page, started.auth_req_id)!;
    expect(section).to.include('Matching code').and.to.include('Counter 4').and.to.include('Your full name, date of birth and gender');
    expect(page.body).not.to.match(/<script(?![^>]*src=)/);
    const overview = await browser.get(`${world.issuer}/account`);
    expect(overview.body).to.include('href="/account/approvals"');
  });
});

/** The <section> of the approvals page for one request, or undefined. */
function sectionOf(page: Page, requestId: string): string | undefined {
  return [...page.body.matchAll(/<section class="approval"[\s\S]*?<\/section>/g)].map((match) => match[0]).find((section) => section.includes(`data-request="${requestId}"`));
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await sleep(100);
  }
}

describe('CIBA while the population registry is down', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let bank: client.Configuration;
  /** What the backchannel endpoint answered (openid-client reports a 503 without its body). */
  const answers: { status: number; body: Record<string, unknown> }[] = [];

  before(async () => {
    // A remote registry nobody answers at: every lookup fails as an outage does.
    world = await startTestServer({
      overrides: {
        registry: { url: `http://127.0.0.1:${await freePort()}/registry`, connectTimeoutMs: 200, timeoutMs: 400, retries: 0, circuitThreshold: 1000, cacheSeconds: 0 },
      },
    });
    const demoKey = { privateKey: await importPrivateJwk(DEMO_BANK_PRIVATE_JWK), kid: DEMO_BANK_PRIVATE_JWK.kid };
    bank = await discoverBank(world.issuer, 'demo-bank', demoKey, {
      fetch: async (url, options) => {
        const response = await fetch(url, options);
        if (new URL(url).pathname === '/backchannel') answers.push({ status: response.status, body: (await response.clone().json()) as Record<string, unknown> });
        return response;
      },
    });
  });
  after(() => world?.close());

  it('answers 503 temporarily_unavailable for a citizen with an account and for a number without one alike, creating nothing', async () => {
    for (const nationalId of ['001099012345', '001188000009']) {
      const outcome = await client
        .initiateBackchannelAuthentication(bank, { scope: 'openid', login_hint: nationalId, binding_message: 'QUAY-7' })
        .then(() => 'accepted')
        .catch(() => 'refused');
      expect(outcome, nationalId).to.equal('refused');
    }
    expect(answers).to.have.length(2);
    expect(answers[0]).to.deep.equal(answers[1]);
    expect(answers[0]?.status).to.equal(503);
    expect(answers[0]?.body.error).to.equal('temporarily_unavailable');
    await world.server.container.audit.flush();
    expect(await world.server.container.db('audit_events').where('type', 'ciba.requested').count<{ count: string }[]>({ count: '*' })).to.deep.equal([{ count: '0' }]);
  });
});
