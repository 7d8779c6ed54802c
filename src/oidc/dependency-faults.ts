// Storage failures inside the provider become its `temporarily_unavailable` error (503): JSON at the
// token and userinfo endpoints, a redirect with the error (or the error page) at the authorization
// endpoint. Which failures count is src/storage/dependency-faults.ts's call.
import type { Adapter, AdapterConstructor, AdapterPayload, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { isDependencyUnavailable, RETRY_AFTER_SECONDS } from '../storage/dependency-faults.ts';
import { ephemeralAnsweredInRequest } from './models/request-reads.ts';

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
 * lost in the milliseconds between the check and the write still costs that grant.) When Redis has
 * already answered in this very request — the client generation's read, at the client's
 * authentication a few milliseconds before — that answer is the check, and no probe is sent (issue 19:
 * one Redis round trip less per refresh). Only the request's own answer counts, never an earlier one.
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
        if (this.#model === 'RefreshToken' && !ephemeralAnsweredInRequest()) await reachable();
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
