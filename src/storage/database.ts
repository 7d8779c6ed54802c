// The PostgreSQL connection pool (knex over pg), one per process.
import knex, { type Knex } from 'knex';
import pg from 'pg';

// Calendar dates stay 'YYYY-MM-DD' strings: turning them into Date objects at local midnight shifts
// birth dates across time zones.
const DATE_OID = 1082;
pg.types.setTypeParser(DATE_OID, (value: string) => value);

export type Database = Knex;

/** Where knex's own warnings go (by default it prints them, with stacks, to stderr). */
export interface DatabaseLog {
  warn(message: string): void;
  error(message: string): void;
}

/** Bounds on every wait (docs/operations.md "Timeouts"); absent, only the pool's acquire wait is bounded (10 s). */
export interface DatabaseTimeouts {
  readonly statementTimeoutMs: number;
  readonly queryTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export function createDatabase(
  url: string,
  options: { poolMax?: number; log?: DatabaseLog; timeouts?: DatabaseTimeouts } = {},
): Database {
  const { log, timeouts } = options;
  return knex({
    ...(log && {
      log: {
        warn: (message: unknown) => log.warn(String(message)),
        error: (message: unknown) => log.error(String(message)),
        deprecate: (method: string, alternative: string) => log.warn(`knex: ${method} is deprecated, use ${alternative}`),
        debug: () => undefined,
      },
    }),
    client: 'pg',
    connection: {
      connectionString: url,
      application_name: 'citizen-idp',
      ...(timeouts && {
        // PostgreSQL cancels a slow statement itself; the client gives up on a server that does not answer.
        statement_timeout: timeouts.statementTimeoutMs,
        query_timeout: timeouts.queryTimeoutMs,
        connectionTimeoutMillis: timeouts.connectTimeoutMs,
      }),
    },
    pool: { min: 0, max: options.poolMax ?? 10, ...(timeouts && { createTimeoutMillis: timeouts.connectTimeoutMs }) },
    acquireConnectionTimeout: timeouts?.acquireTimeoutMs ?? 10_000,
  });
}
