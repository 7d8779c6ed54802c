// oidc-provider's `fetch` hook: every request the provider itself makes to an address a client
// registered (a jwks_uri, a CIBA ping callback…) goes through the project's one SSRF-guarded request
// (src/oidc/outgoing-request.ts): https only, public addresses only (checked after DNS resolution),
// no redirect followed, time- and size-limited; http on loopback only outside production.
import { sendOutgoingRequest } from './outgoing-request.ts';

/** A client's JWKS, a notification answer: a few kB; anything past this is refused. */
export const PROVIDER_FETCH_MAX_BYTES = 64 * 1024;
/** The provider also aborts after 2.5 s on its own (its signal); this bounds the rest. */
export const PROVIDER_FETCH_TIMEOUT_MS = 5_000;

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export interface ProviderFetchRules {
  /** http on loopback, and no address guard: outside production only. */
  readonly allowLoopback: boolean;
}

function bodyOf(body: RequestInit['body']): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  // The provider sends only forms and JSON text; anything else is a programming error, refused.
  throw new TypeError('outgoing request bodies are strings or URLSearchParams');
}

/** The `fetch` configuration: a fetch-compatible function over sendOutgoingRequest. */
export function providerFetch(rules: ProviderFetchRules): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init = {}) => {
    if (input instanceof Request) throw new TypeError('the provider fetches URLs, not Request objects');
    const method = (init.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'POST') throw new TypeError(`outgoing ${method} requests are not made`);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = bodyOf(init.body);
    const answer = await sendOutgoingRequest(input, {
      method,
      headers,
      ...(body !== undefined && { body }),
      allowLoopback: rules.allowLoopback,
      timeoutMs: PROVIDER_FETCH_TIMEOUT_MS,
      maxBytes: PROVIDER_FETCH_MAX_BYTES,
      what: 'client-registered address',
      ...(init.signal && { signal: init.signal }),
    });
    return new Response(NULL_BODY_STATUSES.has(answer.status) ? null : new Uint8Array(answer.body), {
      status: answer.status,
      headers: answer.contentType === undefined ? {} : { 'content-type': answer.contentType },
    });
  };
}
