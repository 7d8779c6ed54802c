// What one request to the provider has already read of the durable store, so that the adapter does not
// read it again (issue 9). Today one thing, a grant, read with something else for the Grant lookup
// oidc-provider makes right after it: on a refresh, in the same statement as the refresh token
// (DurableModelStore.findWithGrant); on userinfo, with the account behind the access token
// (src/oidc/models/token-holder.ts). Each saves a PostgreSQL round trip. Each entry is taken once,
// and any write of that grant in the request drops it, so nothing read here outlives its moment.
// The reads live in the request's own context (src/observability/request-context.ts, begun for every
// request by the request log): no second scope per request.
import type { AdapterPayload } from 'oidc-provider';
import { currentRequestReads } from '../../observability/request-context.ts';

/** The key of a grant read with a token (the value: its payload, null when no live grant then). */
const grantKey = (grantId: string) => `Grant:${grantId}`;

/** Keeps a grant read along with a token for this request's next lookup of it; outside a request, nothing. */
export function rememberGrant(grantId: string, payload: AdapterPayload | undefined): void {
  currentRequestReads()?.set(grantKey(grantId), payload ?? null);
}

/** The grant read earlier in this request, once (`found: false`: ask the store). */
export function takeGrant(grantId: string): { found: true; payload: AdapterPayload | undefined } | { found: false } {
  const reads = currentRequestReads();
  const key = grantKey(grantId);
  if (!reads?.has(key)) return { found: false };
  const payload = reads.get(key) as AdapterPayload | null;
  reads.delete(key);
  return { found: true, payload: payload ?? undefined };
}

/** The grant was written or revoked in this request: what was read of it is stale. */
export function forgetGrant(grantId: string): void {
  currentRequestReads()?.delete(grantKey(grantId));
}
