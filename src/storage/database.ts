// The PostgreSQL connection pool (knex over pg), one per process.
import knex, { type Knex } from 'knex';

export type Database = Knex;

export function createDatabase(url: string, options: { poolMax?: number } = {}): Database {
  return knex({
    client: 'pg',
    connection: { connectionString: url, application_name: 'citizen-idp' },
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
}
