// The first-party sign-in both apps share: the account page (`account-console`) and the admin console
// (`admin-console`) are relying parties of this very provider. One parameterised flow: the client's
// registration with a secret derived from the key-encryption key, openid-client over loopback to this
// instance, PKCE/state/nonce remembered per browser, the callback, the freshness rule (max_age, acr)
// and the signed-in sessions kept in the shared ephemeral store.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import * as oidc from 'openid-client';
import type { Config } from '../config/config.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import { LOA_1 } from '../oidc/consent/assurance.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';

/** A change (the account page) or an administrator's sign-in needs a sign-in at most this old. */
export const FRESH_SIGN_IN_SECONDS = 300;
/** How long a started sign-in waits for the browser to come back. */
export const SIGN_IN_PENDING_SECONDS = 10 * 60;
const MAX_BACKCHANNEL_RESPONSE_BYTES = 1024 * 1024;
const BACKCHANNEL_TIMEOUT_MS = 10_000;
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const STATE_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;

/** What differs between the two first-party clients. */
export interface FirstPartyClient {
  readonly clientId: string;
  /** Shown on consent and session pages. */
  readonly name: string;
  /** The absolute callback URL (on the issuer for the account page, on ADMIN_URL for the console). */
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  /** Asked for at every sign-in. */
  readonly scope: string;
  readonly approvedScopes: readonly string[];
}

/**
 * A first-party client's secret, derived from the key-encryption key: every instance computes the
 * same one without storing or sharing it, and it changes only with that key.
 */
export function firstPartyClientSecret(keyEncryptionKey: Buffer, clientId: string): string {
  return createHmac('sha256', keyEncryptionKey).update(`citizen-idp/${clientId}/client-secret/v1`).digest('base64url');
}

/** Constant-time comparison of two secrets (a session's CSRF token and the one a request carried). */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Registers (or re-registers, idempotently, from every instance) a first-party client as a portal. */
export async function registerFirstPartyClient(clients: ClientRepository, client: FirstPartyClient, secret: string): Promise<void> {
  await clients.save({
    clientId: client.clientId,
    name: client.name,
    profile: 'portal',
    secret,
    tokenEndpointAuthMethod: 'client_secret_basic',
    redirectUris: [client.redirectUri],
    postLogoutRedirectUris: [client.postLogoutRedirectUri],
    approvedScopes: [...client.approvedScopes],
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
 * openid-client's fetch for a first-party client: requests to the issuer's origin go to this instance
 * over loopback, with the issuer's Host header, so they never leave the machine nor depend on the
 * proxy or DNS in front; any other origin is refused.
 */
export function loopbackFetch(issuer: string, target: { host: string; port: number }): oidc.CustomFetch {
  const issuerUrl = new URL(issuer);
  return (url, options) => {
    const requested = new URL(url);
    if (requested.origin !== issuerUrl.origin) {
      return Promise.reject(new Error(`a first-party client only talks to its own issuer, not ${requested.origin}`));
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

/**
 * The provider's metadata with its own endpoints on the issuer's scheme. Over loopback the provider
 * sees plain http and names its endpoints after that request (http:// for an https issuer), and
 * openid-client refuses them. Saying https in X-Forwarded-Proto would count only if loopback were a
 * trusted proxy, and a trusted peer is also believed about the client's address and its mTLS
 * certificate header: so the configured issuer, not a forwarded header, decides the scheme.
 */
function onIssuerScheme(metadata: oidc.ServerMetadata, issuer: URL): oidc.ServerMetadata {
  const corrected: Record<string, unknown> = { ...metadata };
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value !== 'string' || !(name.endsWith('_endpoint') || name === 'jwks_uri')) continue;
    const url = URL.parse(value);
    if (url?.host !== issuer.host) continue;
    url.protocol = issuer.protocol;
    corrected[name] = url.href;
  }
  return corrected as oidc.ServerMetadata;
}

/** A sign-in started and not yet come back: what the callback checks, and what it was for. */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** The sign-in must be at most this old (seconds), checked against auth_time. */
  readonly maxAge?: number | undefined;
  readonly acrValues?: string | undefined;
}

/** What the provider vouched for at the end of a sign-in. */
export interface SignedIn {
  readonly accountId: string;
  readonly acr: string;
  readonly amr: readonly string[];
  /** Epoch seconds of the sign-in the provider vouched for. */
  readonly authTime: number;
  /** The provider session's `sid` for this client, when the client asked for it. */
  readonly sid: string | undefined;
  readonly idToken: string;
}

/** A first-party client as an openid-client relying party of its own issuer. */
export class FirstPartyRelyingParty {
  readonly client: FirstPartyClient;
  readonly #issuer: URL;
  readonly #secret: string;
  readonly #fetch: oidc.CustomFetch;
  readonly #register: () => Promise<void>;
  #configuration: Promise<oidc.Configuration> | undefined;

  /** `register` runs before the first discovery (registerFirstPartyClient, usually). */
  constructor(options: { issuer: string; client: FirstPartyClient; clientSecret: string; fetch: oidc.CustomFetch; register: () => Promise<void> }) {
    this.client = options.client;
    this.#issuer = new URL(options.issuer);
    this.#secret = options.clientSecret;
    this.#fetch = options.fetch;
    this.#register = options.register;
  }

  /** Registration and discovery on first use; a failure is retried on the next request. */
  #provider(): Promise<oidc.Configuration> {
    this.#configuration ??= (async () => {
      await this.#register();
      const authentication = oidc.ClientSecretBasic(this.#secret);
      // Plain http only where the issuer itself is http (tests, the quickstart on localhost).
      const insecure = this.#issuer.protocol === 'http:';
      const discovered = await oidc.discovery(this.#issuer, this.client.clientId, undefined, authentication, {
        [oidc.customFetch]: this.#fetch,
        execute: insecure ? [oidc.allowInsecureRequests] : [],
      });
      const configuration = new oidc.Configuration(onIssuerScheme(discovered.serverMetadata(), this.#issuer), this.client.clientId, undefined, authentication);
      configuration[oidc.customFetch] = this.#fetch;
      if (insecure) oidc.allowInsecureRequests(configuration);
      return configuration;
    })().catch((error: unknown) => {
      this.#configuration = undefined;
      throw error;
    });
    return this.#configuration;
  }

  /** A new sign-in: what to remember, and where to send the browser. */
  async start(options: { maxAge?: number | undefined; acrValues?: string | undefined; locale?: string; claims?: Record<string, unknown> }): Promise<{ pending: PendingSignIn; url: string }> {
    const configuration = await this.#provider();
    const pending: PendingSignIn = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      maxAge: options.maxAge,
      acrValues: options.acrValues,
    };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.client.redirectUri,
      scope: this.client.scope,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      ...(options.locale && { ui_locales: options.locale }),
      ...(options.claims && { claims: JSON.stringify(options.claims) }),
      ...(pending.maxAge !== undefined && { max_age: String(pending.maxAge) }),
      ...(pending.acrValues && { acr_values: pending.acrValues }),
    });
    return { pending, url: url.href };
  }

  /** Redeems the code the provider sent back (state, nonce, PKCE and, when asked, auth_time checked). */
  async finish(callbackUrl: URL, pending: PendingSignIn): Promise<SignedIn> {
    const configuration = await this.#provider();
    const tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
      ...(pending.maxAge !== undefined && { maxAge: pending.maxAge }),
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
  async endSessionUrl(idToken: string, locale?: string): Promise<string> {
    return oidc.buildEndSessionUrl(await this.#provider(), {
      id_token_hint: idToken,
      post_logout_redirect_uri: this.client.postLogoutRedirectUri,
      ...(locale && { ui_locales: locale }),
    }).href;
  }
}

const randomId = () => randomBytes(32).toString('base64url');

/** A first-party client's sign-ins under way, in the shared store (Redis) so any instance takes the callback. */
export class PendingSignIns<Pending extends PendingSignIn = PendingSignIn> {
  protected readonly store: EphemeralStore;
  protected readonly prefix: string;

  constructor(store: EphemeralStore, clientId: string) {
    this.store = store;
    this.prefix = clientId;
  }

  /** A browser's pending sign-ins are keyed by a binding id (its cookie) and the state; the binding is returned. */
  async rememberSignIn(binding: string | undefined, pending: Pending): Promise<string> {
    const id = binding !== undefined && ID_SHAPE.test(binding) ? binding : randomId();
    await this.store.put(`${this.prefix}:signin:{${id}}:${pending.state}`, JSON.stringify(pending), SIGN_IN_PENDING_SECONDS);
    return id;
  }

  /** The pending sign-in for this browser and state, once. */
  async takeSignIn(binding: string | undefined, state: string): Promise<Pending | undefined> {
    if (binding === undefined || !ID_SHAPE.test(binding) || !STATE_SHAPE.test(state)) return undefined;
    const key = `${this.prefix}:signin:{${binding}}:${state}`;
    const value = await this.store.get(key);
    if (value === undefined) return undefined;
    // A replayed callback URL loses here: exactly one taker marks the state used.
    if (!(await this.store.putIfAbsent(`${key}:used`, '1', SIGN_IN_PENDING_SECONDS))) return undefined;
    await this.store.delete(key);
    return JSON.parse(value) as Pending;
  }
}

/**
 * Pending sign-ins and signed-in sessions: restarted on every use, gone after `idleSeconds` idle and,
 * with `absoluteSeconds` (the admin console's), that long after the session's `createdAt` however busy.
 */
export class FirstPartySessions<Session extends { readonly csrf: string; readonly createdAt?: number }, Pending extends PendingSignIn = PendingSignIn> extends PendingSignIns<Pending> {
  readonly #idleSeconds: number;
  readonly #absoluteSeconds: number | undefined;

  constructor(store: EphemeralStore, options: { clientId: string; idleSeconds: number; absoluteSeconds?: number }) {
    super(store, options.clientId);
    this.#idleSeconds = options.idleSeconds;
    this.#absoluteSeconds = options.absoluteSeconds;
  }

  /** How long the session may live from now (seconds); 0 or less: it is over. A session without `createdAt` under an absolute limit is over. */
  #lifetimeOf(session: Session): number {
    if (this.#absoluteSeconds === undefined) return this.#idleSeconds;
    return Math.min(this.#idleSeconds, (session.createdAt ?? 0) + this.#absoluteSeconds - Math.floor(Date.now() / 1000));
  }

  async create(session: Session): Promise<string> {
    const id = randomId();
    await this.save(id, session);
    return id;
  }

  /** The session, its idle timer restarted; undefined when unknown, idle too long or past its absolute lifetime. */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (id === undefined || !ID_SHAPE.test(id)) return undefined;
    const value = await this.store.get(`${this.prefix}:session:{${id}}`);
    if (value === undefined) return undefined;
    const session = JSON.parse(value) as Session;
    return (await this.save(id, session)) ? session : undefined;
  }

  /** Stores the session for another idle period; false (and gone) when it is past its absolute lifetime. */
  async save(id: string, session: Session): Promise<boolean> {
    const lifetime = this.#lifetimeOf(session);
    if (lifetime <= 0) {
      await this.destroy(id);
      return false;
    }
    await this.store.put(`${this.prefix}:session:{${id}}`, JSON.stringify(session), lifetime);
    return true;
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id !== undefined && ID_SHAPE.test(id)) await this.store.delete(`${this.prefix}:session:{${id}}`);
  }
}
