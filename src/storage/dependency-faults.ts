// When PostgreSQL or Redis cannot answer (down, unreachable, stalled past its timeout), a request is
// refused with 503 instead of a 500 or a request left hanging. This module tells such a failure from a
// bug; src/oidc/dependency-faults.ts turns it into the provider's error. Nothing is retried here: the
// clients (ioredis, the pg pool) reconnect on their own, and the next request finds them back.

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

/** An error already turned into the OAuth `temporarily_unavailable` answer (503), e.g. by the provider's guard. */
function isUnavailableAnswer(error: Error): boolean {
  const { error: code, statusCode } = error as { error?: unknown; statusCode?: unknown };
  return code === 'temporarily_unavailable' && statusCode === 503;
}

/** True for an error that means a storage dependency cannot serve right now (not a bug, not bad input). */
export function isDependencyUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if (isUnavailableAnswer(current)) return true;
    const { name, message } = current;
    const code = (current as { code?: unknown }).code;
    if (name === 'MaxRetriesPerRequestError' || name === 'ClusterAllFailedError' || name === 'KnexTimeoutError') return true;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_UNAVAILABLE.test(code))) return true;
    if (CLIENT_MESSAGES.some((pattern) => pattern.test(message))) return true;
    if (current instanceof AggregateError && current.errors.some((inner) => isDependencyUnavailable(inner))) return true;
  }
  return false;
}
