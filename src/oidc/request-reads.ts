// What one request to the provider has already read of the durable store, so that the adapter does not
// read it again (issue 9). Today one thing: the grant a refresh token was issued under, read in the
// same statement as the token (DurableModelStore.findWithGrant), for the Grant lookup oidc-provider
// makes right after it — a refresh costs one PostgreSQL round trip fewer. Each entry is taken once,
// and any write of that grant in the request drops it, so nothing read here outlives its moment.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AdapterPayload } from 'oidc-provider';

/** Grant id → its payload as read with a token (null: no live grant then). */
const reads = new AsyncLocalStorage<Map<string, AdapterPayload | null>>();

/** Runs one request of the provider with a scope of its own (src/oidc/provider-holder.ts). */
export function withRequestReads<T>(work: () => T): T {
  return reads.run(new Map(), work);
}

/** Keeps a grant read along with a token for this request's next lookup of it; outside a request, nothing. */
export function rememberGrant(grantId: string, payload: AdapterPayload | undefined): void {
  reads.getStore()?.set(grantId, payload ?? null);
}

/** The grant read earlier in this request, once (`found: false`: ask the store). */
export function takeGrant(grantId: string): { found: true; payload: AdapterPayload | undefined } | { found: false } {
  const store = reads.getStore();
  if (!store?.has(grantId)) return { found: false };
  const payload = store.get(grantId);
  store.delete(grantId);
  return { found: true, payload: payload ?? undefined };
}

/** The grant was written or revoked in this request: what was read of it is stale. */
export function forgetGrant(grantId: string): void {
  reads.getStore()?.delete(grantId);
}
