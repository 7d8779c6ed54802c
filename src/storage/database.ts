// The PostgreSQL connection pool (knex over pg), one per process.
import knex, { type Knex } from 'knex';
import pg from 'pg';

// Calendar dates stay 'YYYY-MM-DD' strings: turning them into Date objects at local midnight shifts
// birth dates across time zones.
const DATE_OID = 1082;
pg.types.setTypeParser(DATE_OID, (value: string) => value);

export type Database = Knex;

export function createDatabase(url: string, options: { poolMax?: number } = {}): Database {
  return knex({
    client: 'pg',
    connection: { connectionString: url, application_name: 'citizen-idp' },
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
}
