// The account page as a relying party of this very provider (client `account-console`): its client
// registration, its openid-client configuration whose back-channel calls stay on this instance, and
// the two things it keeps in the shared store — sign-ins under way and signed-in console sessions.
import { createHmac, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import * as oidc from 'openid-client';
import type { Config } from '../config/config.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';

export const CONSOLE_CLIENT_ID = 'account-console';
/** What the console asks for: `sub` (the account UUID: the client is public) and, in the ID token, `sid`. */
const CONSOLE_SCOPE = 'openid';
export const LOA_1 = 'urn:vn:eid:loa:1';
export const LOA_2 = 'urn:vn:eid:loa:2';
/** A change needs a sign-in this recent (at level 2 for a level-2 account). */
export const FRESH_SIGN_IN_SECONDS = 300;
const SESSION_IDLE_SECONDS = 15 * 60;
const SIGN_IN_PENDING_SECONDS = 10 * 60;
const MAX_BACKCHANNEL_RESPONSE_BYTES = 1024 * 1024;
const BACKCHANNEL_TIMEOUT_MS = 10_000;

/**
 * The console's client secret, derived from the key-encryption key: every instance computes the same
 * one without storing or sharing it, and it changes only with that key.
 */
export function consoleClientSecret(keyEncryptionKey: Buffer): string {
  return createHmac('sha256', keyEncryptionKey).update('citizen-idp/account-console/client-secret/v1').digest('base64url');
}

/** Registers (or re-registers, idempotently, from every instance) the console as a portal client. */
export async function registerConsoleClient(clients: ClientRepository, issuer: string, secret: string): Promise<void> {
  await clients.save({
    clientId: CONSOLE_CLIENT_ID,
    name: 'Trang tài khoản định danh điện tử',
    profile: 'portal',
    secret,
    tokenEndpointAuthMethod: 'client_secret_basic',
    redirectUris: [`${issuer}/account/callback`],
    postLogoutRedirectUris: [`${issuer}/account/signed-out`],
    approvedScopes: ['openid', 'profile', 'phone', 'email'],
    subjectType: 'public',
  });
}

/** Where this instance answers on loopback: its own bind address unless it binds every interface. */
export function loopbackAddress(config: Pick<Config, 'host' | 'port'>): { host: string; port: number } {
  const wildcard = config.host === '0.0.0.0' || config.host === '::' || config.host === 'localhost';
  return { host: wildcard || isIP(config.host) === 0 ? '127.0.0.1' : config.host, port: config.port };
}

function bodyOf(body: unknown): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return Buffer.from(body);
  throw new TypeError('unsupported request body for the loopback fetch');
}

/**
 * openid-client's fetch for the console: requests to the issuer's origin go to this instance over
 * loopback, with the issuer's Host header, so they never leave the machine nor depend on the proxy
 * or DNS in front; any other origin is refused.
 */
export function loopbackFetch(issuer: string, target: { host: string; port: number }): oidc.CustomFetch {
  const issuerUrl = new URL(issuer);
  return (url, options) => {
    const requested = new URL(url);
    if (requested.origin !== issuerUrl.origin) {
      return Promise.reject(new Error(`the account console only talks to its own issuer, not ${requested.origin}`));
    }
    const body = bodyOf(options.body);
    const headers: Record<string, string> = { ...options.headers, host: issuerUrl.host };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise<Response>((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: target.host,
          port: target.port,
          method: options.method,
          path: `${requested.pathname}${requested.search}`,
          headers,
          signal: options.signal ?? AbortSignal.timeout(BACKCHANNEL_TIMEOUT_MS),
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          let size = 0;
          incoming.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BACKCHANNEL_RESPONSE_BYTES) {
              incoming.destroy(new Error('the response is too large'));
              return;
            }
            chunks.push(chunk);
          });
          incoming.on('error', reject);
          incoming.on('end', () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (value === undefined) continue;
              for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
            }
            const status = incoming.statusCode ?? 502;
            const nullBody = status === 204 || status === 304 || options.method === 'HEAD';
            resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: incoming.statusMessage ?? '', headers: responseHeaders }));
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  };
}

/** What the console remembers about a sign-in it started, until the provider sends the browser back. */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** A path under /account to return to. */
  readonly returnTo: string;
  /** The sign-in was started to make a change: it must come back fresh (and at level 2 if asked). */
  readonly stepUp: boolean;
  readonly acrValues: string | undefined;
}

/** Who is signed in to the console, and how. */
export interface ConsoleSession {
  readonly accountId: string;
  readonly acr: string;
  readonly amr: readonly string[];
  /** Epoch seconds of the sign-in the provider vouched for. */
  readonly authTime: number;
  /** The provider session's `sid` for this client: the console lives only as long as that session. */
  readonly sid: string | undefined;
  readonly idToken: string;
  /** Echoed by every form the console shows. */
  readonly csrf: string;
  /** A notice for the next page shown (post/redirect/get). */
  readonly flash?: string | undefined;
  /** A TOTP secret being enrolled, sealed. */
  readonly pendingTotp?: string | undefined;
  /** A contact being confirmed with a code sent to it. */
  readonly pendingContact?: PendingContact | undefined;
}

export interface PendingContact {
  readonly kind: 'phone' | 'email';
  readonly value: string;
  readonly codeHash: string;
  readonly attempts: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

const randomId = () => randomBytes(32).toString('base64url');
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Console sessions and pending sign-ins in the shared store (Redis), so any instance serves them. */
export class ConsoleSessionStore {
  readonly #store: EphemeralStore;

  constructor(store: EphemeralStore) {
    this.#store = store;
  }

  /** A browser's pending sign-ins are keyed by a binding id (its cookie) and the state. */
  async rememberSignIn(binding: string | undefined, pending: PendingSignIn): Promise<string> {
    const id = binding !== undefined && ID_SHAPE.test(binding) ? binding : randomId();
    await this.#store.put(`account-console:signin:{${id}}:${pending.state}`, JSON.stringify(pending), SIGN_IN_PENDING_SECONDS);
    return id;
  }

  /** The pending sign-in for this browser and state, once. */
  async takeSignIn(binding: string | undefined, state: string): Promise<PendingSignIn | undefined> {
    if (binding === undefined || !ID_SHAPE.test(binding) || !/^[A-Za-z0-9_-]{1,128}$/.test(state)) return undefined;
    const key = `account-console:signin:{${binding}}:${state}`;
    const value = await this.#store.get(key);
    if (value === undefined) return undefined;
    // A replayed callback URL loses here: exactly one taker marks the state used.
    if (!(await this.#store.putIfAbsent(`${key}:used`, '1', SIGN_IN_PENDING_SECONDS))) return undefined;
    await this.#store.delete(key);
    return JSON.parse(value) as PendingSignIn;
  }

  async create(session: ConsoleSession): Promise<string> {
    const id = randomId();
    await this.save(id, session);
    return id;
  }

  /** The session, its idle timer restarted; undefined when unknown or idle too long. */
  async get(id: string | undefined): Promise<ConsoleSession | undefined> {
    if (id === undefined || !ID_SHAPE.test(id)) return undefined;
    const value = await this.#store.get(`account-console:session:{${id}}`);
    if (value === undefined) return undefined;
    const session = JSON.parse(value) as ConsoleSession;
    await this.save(id, session);
    return session;
  }

  async save(id: string, session: ConsoleSession): Promise<void> {
    await this.#store.put(`account-console:session:{${id}}`, JSON.stringify(session), SESSION_IDLE_SECONDS);
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id !== undefined && ID_SHAPE.test(id)) await this.#store.delete(`account-console:session:{${id}}`);
  }
}

export const SESSION_COOKIE_MAX_AGE_MS = SESSION_IDLE_SECONDS * 1000;
export const SIGN_IN_COOKIE_MAX_AGE_MS = SIGN_IN_PENDING_SECONDS * 1000;

/** The console as an openid-client relying party of its own issuer. */
export class ConsoleRelyingParty {
  readonly #issuer: string;
  readonly #clientSecret: string;
  readonly #fetch: oidc.CustomFetch;
  readonly #register: () => Promise<void>;
  #configuration: Promise<oidc.Configuration> | undefined;

  constructor(options: { issuer: string; clientSecret: string; fetch: oidc.CustomFetch; register: () => Promise<void> }) {
    this.#issuer = options.issuer;
    this.#clientSecret = options.clientSecret;
    this.#fetch = options.fetch;
    this.#register = options.register;
  }

  get redirectUri(): string {
    return `${this.#issuer}/account/callback`;
  }

  /** Registration and discovery on first use; a failure is retried on the next request. */
  #provider(): Promise<oidc.Configuration> {
    this.#configuration ??= (async () => {
      await this.#register();
      const configuration = await oidc.discovery(
        new URL(this.#issuer),
        CONSOLE_CLIENT_ID,
        undefined,
        oidc.ClientSecretBasic(this.#clientSecret),
        {
          [oidc.customFetch]: this.#fetch,
          // Plain http only where the issuer itself is http (tests, the quickstart on localhost).
          execute: new URL(this.#issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
        },
      );
      configuration[oidc.customFetch] = this.#fetch;
      return configuration;
    })().catch((error: unknown) => {
      this.#configuration = undefined;
      throw error;
    });
    return this.#configuration;
  }

  /** A new sign-in: what to remember, and where to send the browser. */
  async start(options: { returnTo: string; stepUp: boolean; acrValues?: string; locale: string }): Promise<{ pending: PendingSignIn; url: string }> {
    const configuration = await this.#provider();
    const pending: PendingSignIn = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      returnTo: options.returnTo,
      stepUp: options.stepUp,
      acrValues: options.acrValues,
    };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: CONSOLE_SCOPE,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      ui_locales: options.locale,
      // The ID token names the provider session (sid), so the console can tell which one is "here".
      claims: JSON.stringify({ id_token: { sid: null } }),
      ...(options.stepUp && { max_age: String(FRESH_SIGN_IN_SECONDS) }),
      ...(options.acrValues && { acr_values: options.acrValues }),
    });
    return { pending, url: url.href };
  }

  /** Redeems the code the provider sent back (state, nonce, PKCE and, for a step-up, auth_time checked). */
  async finish(callbackUrl: URL, pending: PendingSignIn): Promise<Omit<ConsoleSession, 'csrf'>> {
    const configuration = await this.#provider();
    const tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
      ...(pending.stepUp && { maxAge: FRESH_SIGN_IN_SECONDS }),
    });
    const claims = tokens.claims()!;
    return {
      accountId: claims.sub,
      acr: typeof claims.acr === 'string' ? claims.acr : LOA_1,
      amr: Array.isArray(claims.amr) ? claims.amr.filter((method): method is string => typeof method === 'string') : [],
      authTime: typeof claims.auth_time === 'number' ? claims.auth_time : claims.iat,
      sid: typeof claims.sid === 'string' ? claims.sid : undefined,
      idToken: tokens.id_token!,
    };
  }

  /** Where to send the browser to sign out of the provider too (RP-initiated logout). */
  async endSessionUrl(idToken: string, locale: string): Promise<string> {
    const configuration = await this.#provider();
    return oidc.buildEndSessionUrl(configuration, {
      id_token_hint: idToken,
      post_logout_redirect_uri: `${this.#issuer}/account/signed-out`,
      ui_locales: locale,
    }).href;
  }
}
