// The demo portal as a relying party (openid-client), for tests that run the whole flow against a
// server in unusual surroundings (a Redis Cluster, a dependency going down): sign-in with consent,
// code, token, refresh, userinfo, logout — plus raw requests that show status and body as sent.
import { expect } from 'chai';
import * as client from 'openid-client';
import { formsOf, type Browser, type Page } from './browserless.ts';

export const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
export const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };

export interface Attempt {
  readonly url: URL;
  readonly codeVerifier: string;
  readonly state: string;
  readonly nonce: string;
}

/** A raw answer: status, JSON body (if any), and how long it took. */
export interface RawAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
  readonly ms: number;
}

/** A confidential portal client: the demo portal unless a test registers its own. */
export interface PortalClient {
  readonly id: string;
  readonly secret: string;
  readonly redirectUri: string;
}

export class Portal {
  readonly issuer: string;
  readonly client: PortalClient;
  #config: Promise<client.Configuration> | undefined;

  constructor(issuer: string, portalClient: PortalClient = PORTAL) {
    this.issuer = issuer;
    this.client = portalClient;
  }

  config(): Promise<client.Configuration> {
    this.#config ??= client.discovery(new URL(this.issuer), this.client.id, undefined, client.ClientSecretBasic(this.client.secret), {
      execute: [client.allowInsecureRequests],
    });
    return this.#config;
  }

  /** An authorization request for offline access (a refresh token), consent asked. */
  async start(): Promise<Attempt> {
    const config = await this.config();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.client.redirectUri,
      scope: 'openid offline_access',
      prompt: 'consent',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url, codeVerifier, state, nonce };
  }

  async redeem(attempt: Attempt, callback: URL) {
    return client.authorizationCodeGrant(await this.config(), callback, {
      pkceCodeVerifier: attempt.codeVerifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      idTokenExpected: true,
    });
  }

  /** Bích signs in and consents in `browser`; the code is redeemed. */
  async signIn(browser: Browser) {
    const attempt = await this.start();
    const callback = await browser.signIn(attempt.url, BICH.id, BICH.password, { consent: true });
    const tokens = await this.redeem(attempt, callback);
    expect(tokens.refresh_token, 'a refresh token').to.be.a('string');
    return tokens;
  }

  async refresh(refreshToken: string) {
    return client.refreshTokenGrant(await this.config(), refreshToken);
  }

  async userinfo(accessToken: string, sub: string) {
    return client.fetchUserInfo(await this.config(), accessToken, sub);
  }

  /** RP-initiated logout with id_token_hint, confirmed in the browser. */
  async logOut(browser: Browser, idToken: string): Promise<void> {
    const confirmation = await browser.get(client.buildEndSessionUrl(await this.config(), { id_token_hint: idToken }));
    const form = formsOf(confirmation).find((candidate) => candidate.fields.xsrf !== undefined);
    expect(form, 'the logout confirmation form').to.not.equal(undefined);
    const done = await browser.fetch(form!.action, {
      method: 'POST',
      body: new URLSearchParams({ ...form!.fields, logout: 'yes' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(done.status, 'the logout redirect').to.be.within(300, 399);
  }

  /** The refresh grant sent by hand, so a refusal's status and body are seen as sent. */
  rawRefresh(refreshToken: string): Promise<RawAnswer> {
    return raw(`${this.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${this.client.id}:${this.client.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });
  }

  rawUserinfo(accessToken: string): Promise<RawAnswer> {
    return raw(`${this.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  }
}

export async function raw(url: string, init: RequestInit = {}): Promise<RawAnswer> {
  const started = performance.now();
  const response = await fetch(url, { redirect: 'manual', ...init });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, body, headers: response.headers, ms: performance.now() - started };
}

/** A session ended: a new authorization in the same browser asks for the password again. */
export async function showsLogin(portal: Portal, browser: Browser): Promise<boolean> {
  const page: Page = await browser.get((await portal.start()).url);
  return formsOf(page).some((form) => form.action.endsWith('/login'));
}
