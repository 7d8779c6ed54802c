// When PostgreSQL or Redis cannot answer (down, unreachable, stalled past its timeout), a request is
// refused with 503 — an OAuth `temporarily_unavailable` error at the provider's endpoints, a page at
// the sign-in pages — instead of a 500 or a request left hanging. Nothing is retried here: the
// clients (ioredis, the pg pool) reconnect on their own, and the next request finds them back.
import type { Adapter, AdapterConstructor, AdapterPayload, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type Provider from 'oidc-provider';

/** Seconds a client is told to wait before trying again (Retry-After). */
export const RETRY_AFTER_SECONDS = 5;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// SQLSTATE: 08xxx connection exceptions; 57014 query_canceled (statement_timeout); 57P01–57P03 the
// server shutting down or starting; 53300 too many connections.
const POSTGRES_UNAVAILABLE = /^(08...|57014|57P0[123]|53300)$/;
const CLIENT_MESSAGES = [
  // ioredis
  /Stream isn't writeable/,
  /Connection is closed/,
  /Command timed out/,
  /Cluster isn't ready/,
  /enableOfflineQueue/,
  /Failed to refresh slots cache/,
  /Too many Cluster redirections/,
  /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN)\b/,
  // pg and knex
  /Connection terminated/,
  /Query read timeout/,
  /timeout exceeded when trying to connect/,
  /Knex: Timeout acquiring a connection/,
];

/** True for an error that means a storage dependency cannot serve right now (not a bug, not bad input). */
export function isDependencyUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if (current instanceof errors.TemporarilyUnavailable && current.statusCode === 503) return true;
    const { name, message } = current;
    const code = (current as { code?: unknown }).code;
    if (name === 'MaxRetriesPerRequestError' || name === 'ClusterAllFailedError' || name === 'KnexTimeoutError') return true;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_UNAVAILABLE.test(code))) return true;
    if (CLIENT_MESSAGES.some((pattern) => pattern.test(message))) return true;
    if (current instanceof AggregateError && current.errors.some((inner) => isDependencyUnavailable(inner))) return true;
  }
  return false;
}

/** The OAuth error for it: `temporarily_unavailable` with status 503 (RFC 6749 §4.1.2.1). */
export function temporarilyUnavailable(cause?: unknown): InstanceType<typeof errors.TemporarilyUnavailable> {
  const error = new errors.TemporarilyUnavailable('the service is temporarily unavailable; try again shortly', { cause });
  error.status = 503;
  error.statusCode = 503;
  return error;
}

async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw isDependencyUnavailable(error) ? temporarilyUnavailable(error) : error;
  }
}

/**
 * The adapter with storage failures turned into `temporarily_unavailable` (503), which the provider
 * answers as it answers any OAuth error: JSON at the token and userinfo endpoints, a redirect with
 * the error (or the error page) at the authorization endpoint.
 *
 * `reachable` is asked before a refresh token is consumed: rotation consumes the old token in
 * PostgreSQL, then writes the access token to Redis; with Redis already down, the consumed token
 * would come back as a replay and revoke the grant. Refusing first keeps the token usable. (A Redis
 * lost in the milliseconds between the check and the write still costs that grant.)
 */
export function guardAdapter(Inner: AdapterConstructor, reachable: () => Promise<unknown>): AdapterConstructor {
  return class GuardedAdapter implements Adapter {
    readonly #inner: Adapter;
    readonly #model: string;

    constructor(model: string) {
      this.#inner = new Inner(model);
      this.#model = model;
    }

    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      return guarded(() => this.#inner.upsert(id, payload, expiresIn) as Promise<void>);
    }

    find(id: string): Promise<AdapterPayload | undefined> {
      return guarded(async () => (await this.#inner.find(id)) ?? undefined);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return guarded(async () => (await this.#inner.findByUid(uid)) ?? undefined);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return guarded(async () => (await this.#inner.findByUserCode(userCode)) ?? undefined);
    }

    consume(id: string): Promise<void> {
      return guarded(async () => {
        if (this.#model === 'RefreshToken') await reachable();
        await this.#inner.consume(id);
      });
    }

    destroy(id: string): Promise<void> {
      return guarded(() => this.#inner.destroy(id) as Promise<void>);
    }

    revokeByGrantId(grantId: string): Promise<void> {
      return guarded(() => this.#inner.revokeByGrantId(grantId) as Promise<void>);
    }
  };
}

/** findAccount, and the claims it returns, with storage failures turned into 503 likewise. */
export function guardFindAccount(findAccount: FindAccount): FindAccount {
  return async (ctx, sub, token) => {
    const account = await guarded(async () => findAccount(ctx, sub, token));
    if (!account) return account;
    return {
      ...account,
      claims: (use, scope, claims, rejected) => guarded(async () => account.claims(use, scope, claims, rejected)),
    };
  };
}

/**
 * Everything else the provider reaches storage through (hooks, resource lookups) still ends in its
 * generic server_error; when the cause is a dependency, the answer becomes 503 and, where it is
 * JSON, `temporarily_unavailable`. (The provider emits server_error before it writes a redirect, so
 * an authorization response keeps its own status.)
 */
export function reportDependencyFaults<P extends Provider>(provider: P): P {
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
    if (!isDependencyUnavailable(error)) return;
    ctx.status = 503;
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    const body = ctx.body as { error?: unknown } | undefined;
    if (body && typeof body === 'object' && !Buffer.isBuffer(body) && body.error === 'server_error') {
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; try again shortly' };
    }
  });
  return provider;
}
