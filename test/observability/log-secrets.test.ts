// Nothing secret reaches a log line: the main flows run against one server whose logs are captured at
// debug level — a relying party registered through the command line (logs captured too), a level-2
// sign-in with password and TOTP, consent, the code exchange, refresh, userinfo, introspection, a
// client-credentials token, a wrong password, a password reset and logout — and then every password,
// client secret, token, code, TOTP code and full ID number used is searched for in what was written.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser, formsOf } from '../support/browserless.ts';
import { captureLogs } from '../support/logs.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import type { OutboxNotifier } from '../../src/accounts/notifier.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const AN = { id: '001099012345', password: 'An#Demo2026', totpSecret: 'JBSWY3DPEHPK3PXP' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026', issued: '01/04/2021', phone: '+84900000002' };
const SERVICE = { id: 'demo-service', secret: 'demo-service-secret' };
const LOA_2 = 'urn:vn:eid:loa:2';
const REDIRECT_URI = 'http://localhost:4000/callback';
const POST_LOGOUT = 'http://localhost:4000/';

/** Runs `node src/cli.ts ...args` with only the environment given; stdout and stderr together. */
function runCli(args: string[], environ: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['src/cli.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...environ },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** What must never be written: each value, and for a JWT each of its payload and signature. */
function searchTermsOf(secrets: Map<string, string>): [string, string][] {
  const terms: [string, string][] = [];
  for (const [what, value] of secrets) {
    terms.push([what, value]);
    const parts = value.split('.');
    if (parts.length === 3 || parts.length === 5) {
      // A JWT's header is shared by many tokens; its payload and signature are this token's own.
      parts.slice(1).forEach((part, index) => part.length >= 16 && terms.push([`${what} (part ${index + 2})`, part]));
    }
  }
  return terms;
}

/**
 * Whether `text` holds `term`. A number (a TOTP or reset code, an ID number) counts only as a whole
 * number: six digits also stand by chance inside the many digits of timings such as `"ms":3.1234567`.
 */
function holds(text: string, term: string): boolean {
  if (!/^\d+$/.test(term)) return text.includes(term);
  return new RegExp(`(?<![\\d.])${term}(?![\\d.]*\\d)`).test(text);
}

describe('no secret in the logs (every main flow, debug level)', function () {
  this.timeout(120_000);
  let world: RunningServer;
  const logs = captureLogs();
  let cliOutput = '';
  /** What was used, by what it is: searched for in the logs at the end. */
  const secrets = new Map<string, string>();

  before(async () => {
    world = await startTestServer({ logDestination: logs.stream, logLevel: 'debug' });
  });
  after(() => world?.close());

  it('runs the flows with the logs captured, and finds none of their secrets there', async () => {
    // A relying party registered through the command line, its secret from CLIENT_SECRET.
    const clientSecret = `log-test-${randomBytes(16).toString('hex')}`;
    secrets.set('client secret (CLI)', clientSecret);
    const registered = await runCli(
      [
        'clients', 'add',
        '--id', 'log-test-portal',
        '--name', 'Log test portal',
        '--profile', 'portal',
        '--scopes', 'openid profile national_id offline_access',
        '--redirect-uri', REDIRECT_URI,
        '--post-logout-redirect-uri', POST_LOGOUT,
      ],
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'debug',
        DATABASE_URL: world.database.url,
        KEY_ENCRYPTION_KEY: world.config.keyEncryptionKey!.toString('base64'),
        PAIRWISE_KEY: world.config.pairwiseKey!.toString('base64'),
        CLIENT_SECRET: clientSecret,
      },
    );
    expect(registered.code, registered.output).to.equal(0);
    cliOutput += registered.output;

    const portal = await client.discovery(new URL(world.issuer), 'log-test-portal', undefined, client.ClientSecretBasic(clientSecret), {
      execute: [client.allowInsecureRequests],
    });

    // A wrong password first: it must not be written either.
    const wrongPassword = `Wrong#${randomBytes(6).toString('hex')}`;
    secrets.set('wrong password', wrongPassword);
    {
      const browser = new Browser(world.issuer);
      const url = client.buildAuthorizationUrl(portal, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const login = await browser.get(url);
      const refused = await browser.submit(formsOf(login).find((form) => form.action.endsWith('/login'))!, { username: AN.id, password: wrongPassword });
      expect(refused.status).to.equal(401);
    }

    // Level 2: password and TOTP, consent (offline access), then the code exchange.
    const browser = new Browser(world.issuer);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(portal, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile national_id offline_access',
      prompt: 'consent',
      acr_values: LOA_2,
      state,
      nonce,
      login_hint: AN.id,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    let otp = '';
    const callback = await browser.signIn(url, AN.id, AN.password, {
      otp: async () => (otp = await currentTotp(AN.totpSecret)),
    });
    expect(browser.lastSteps).to.deep.equal(['login', 'otp', 'consent']);
    secrets.set('password', AN.password);
    secrets.set('TOTP code', otp);
    secrets.set('TOTP secret', AN.totpSecret);
    secrets.set('ID number', AN.id);
    secrets.set('PKCE verifier', verifier);
    secrets.set('authorization code', callback.searchParams.get('code')!);
    const tokens = await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    secrets.set('access token', tokens.access_token);
    secrets.set('refresh token', tokens.refresh_token!);
    secrets.set('ID token', tokens.id_token!);
    expect(tokens.claims()!.acr).to.equal(LOA_2);

    // Refresh, userinfo, introspection.
    const refreshed = await client.refreshTokenGrant(portal, tokens.refresh_token!);
    secrets.set('access token (refreshed)', refreshed.access_token);
    if (refreshed.refresh_token) secrets.set('refresh token (rotated)', refreshed.refresh_token);
    if (refreshed.id_token) secrets.set('ID token (refreshed)', refreshed.id_token);
    const userinfo = await client.fetchUserInfo(portal, refreshed.access_token, tokens.claims()!.sub);
    expect(userinfo.sub).to.equal(tokens.claims()!.sub);
    const introspection = await client.tokenIntrospection(portal, refreshed.access_token);
    expect(introspection.active).to.equal(true);

    // A service's client-credentials token.
    const service = await client.discovery(new URL(world.issuer), SERVICE.id, undefined, client.ClientSecretBasic(SERVICE.secret), {
      execute: [client.allowInsecureRequests],
    });
    const serviceToken = await client.clientCredentialsGrant(service, {});
    secrets.set('client secret (demo-service)', SERVICE.secret);
    secrets.set('access token (client credentials)', serviceToken.access_token);

    // A password reset: the code sent to the phone and the new password.
    const resetter = new Browser(world.issuer);
    expect((await resetter.get(`${world.issuer}/reset`)).status).to.equal(200);
    const requested = await resetter.postForm(`${world.issuer}/reset`, { lang: 'vi', national_id: BICH.id, card_issue_date: BICH.issued });
    expect(requested.status).to.equal(200);
    const notifier = world.server.container.notifier as OutboxNotifier;
    const [message] = await notifier.list({ destination: BICH.phone, limit: 1 });
    const resetCode = /\b(\d{6})\b/.exec(message?.body ?? '')?.[1];
    expect(resetCode, 'a reset code in the outbox').to.be.a('string');
    const newPassword = `Reset#${randomBytes(6).toString('hex')}`;
    const reset = await resetter.postForm(`${world.issuer}/reset/confirm`, { lang: 'vi', code: resetCode!, password: newPassword, password_repeat: newPassword });
    expect(reset.status).to.equal(200);
    secrets.set('reset code', resetCode!);
    secrets.set('new password', newPassword);
    secrets.set('ID number (reset)', BICH.id);

    // Logout, with the ID token as the hint.
    const endSession = client.buildEndSessionUrl(portal, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT });
    const confirmation = await browser.get(endSession);
    const form = formsOf(confirmation).find((candidate) => candidate.fields.xsrf !== undefined)!;
    const done = await browser.submit(form, { logout: 'yes' });
    expect(done.status).to.be.within(300, 399);

    // Let the last response lines and background work reach the log.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const records = logs.records();
    expect(records.filter((record) => record.msg === 'request').length, 'the flows were logged').to.be.greaterThan(20);
    for (const record of records.filter((record) => record.msg === 'request')) expect(record.requestId, JSON.stringify(record)).to.be.a('string');

    // The search reads what was written: values that are not secret are there to be found.
    expect(logs.text(), 'the state parameter, in the /auth line').to.include(state);
    expect(cliOutput).to.include('log-test-portal');
    for (const [what, term] of searchTermsOf(secrets)) {
      expect(holds(logs.text(), term), `the server's logs hold the ${what}`).to.equal(false);
      expect(holds(cliOutput, term), `the command line's output holds the ${what}`).to.equal(false);
    }
  });
});
