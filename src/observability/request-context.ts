// The request a piece of code runs for, carried through every await (AsyncLocalStorage), so that every
// log line written while serving a request carries its id — the provider's and the services' included.
// The storage holds nothing between requests; each server in a process runs its requests in it alike.
import { AsyncLocalStorage } from 'node:async_hooks';

interface RequestContext {
  readonly requestId: string;
  /** What this request has already read, for code that would read it again (src/oidc/models/request-reads.ts). */
  readonly reads: Map<string, unknown>;
}

const requests = new AsyncLocalStorage<RequestContext>();

export function runInRequest<T>(requestId: string, run: () => T): T {
  return requests.run({ requestId, reads: new Map() }, run);
}

/** The id of the request being served, if any (background work has none). */
export function currentRequestId(): string | undefined {
  return requests.getStore()?.requestId;
}

/** The reads kept for the request being served; undefined outside a request. */
export function currentRequestReads(): Map<string, unknown> | undefined {
  return requests.getStore()?.reads;
}
