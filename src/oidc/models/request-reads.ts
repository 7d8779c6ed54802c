// What one request to the provider has already read of the durable store, so that the adapter does not
// read it again (issue 9). Today one thing, a grant, read with something else for the Grant lookup
// oidc-provider makes right after it: on a refresh, in the same statement as the refresh token
// (DurableModelStore.findWithGrant); on userinfo, with the account behind the access token
// (src/oidc/models/token-holder.ts). Each saves a PostgreSQL round trip. Each entry is taken once,
// and any write of that grant in the request drops it, so nothing read here outlives its moment.
// And the request's Interaction (issue 19): the sign-in pages read it, then oidc-provider's
// interactionResult reads it again, and the resume reads it to destroy it — three to six HMGETs of the
// same hash in one request. Here it is read once per request; what the request writes is what it
// reads next; destroying it uses what was read. It holds nothing a lock, a death or a revocation
// decides (those are read where they are checked), and another request's interaction is never seen.
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

/** The key of an Interaction read or written in this request (the value: its JSON, null when there was none). */
const interactionKey = (id: string) => `Interaction:${id}`;

/** The Interaction as this request last read or wrote it: a fresh copy each time (`found: false`: ask the store). */
export function recallInteraction(id: string): { found: true; payload: AdapterPayload | undefined } | { found: false } {
  const reads = currentRequestReads();
  const key = interactionKey(id);
  if (!reads?.has(key)) return { found: false };
  const json = reads.get(key) as string | null;
  return { found: true, payload: json === null ? undefined : (JSON.parse(json) as AdapterPayload) };
}

/** What this request read or wrote of an Interaction (undefined: there is none); outside a request, nothing. */
export function rememberInteraction(id: string, payload: AdapterPayload | undefined): void {
  currentRequestReads()?.set(interactionKey(id), payload === undefined ? null : JSON.stringify(payload));
}

/** The request destroyed it, or a write failed: read it from the store next time. */
export function forgetInteraction(id: string): void {
  currentRequestReads()?.delete(interactionKey(id));
}

/**
 * The ephemeral store (Redis) answered a read in this request (the client generation's, which every
 * request that authenticates a client makes first): a refresh needs no separate probe of it before
 * consuming its token (src/oidc/dependency-faults.ts). Only this request's own answer counts; outside a
 * request, nothing is noted and the probe runs.
 */
const EPHEMERAL_ANSWERED = 'ephemeral:answered';

export function noteEphemeralAnswered(): void {
  currentRequestReads()?.set(EPHEMERAL_ANSWERED, true);
}

export function ephemeralAnsweredInRequest(): boolean {
  return currentRequestReads()?.get(EPHEMERAL_ANSWERED) === true;
}

/**
 * The account behind a refresh token and its holder's registry record, read in the refresh token's own
 * statement (DurableModelStore.findWithGrant) for the account lookup that follows in the same request
 * (src/oidc/consent/account-claims.ts): one PostgreSQL round trip less per refresh. Taken once; read as
 * they are at this request, so a lock or a death still refuses it.
 */
const holderKey = (accountId: string) => `TokenHolder:${accountId}`;

export function rememberTokenHolderRow(accountId: string, row: unknown): void {
  currentRequestReads()?.set(holderKey(accountId), row);
}

/** The row read earlier in this request, once (undefined: ask PostgreSQL). */
export function takeTokenHolderRow(accountId: string): unknown {
  const reads = currentRequestReads();
  const key = holderKey(accountId);
  if (!reads?.has(key)) return undefined;
  const row = reads.get(key);
  reads.delete(key);
  return row;
}
