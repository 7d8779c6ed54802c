// ID numbers compare byte by byte (COLLATE "C"): the registry's primary key, and the keys and indexes of
// the other tables that hold the number, build and search without the locale's collation rules: the
// registry's primary key over 1 million records built in 0.4 s instead of 1.3 s (issue 4).
//
// Expand-safe, though the guard in test/storage/migrations.test.ts rightly counts a new collation as a
// contraction (a changed type): an ID number is 12 ASCII digits (registry_national_id_digits), and for
// such strings "C" and the database's default collation agree on equality and on order — so code
// written before this migration reads, writes and sorts exactly as it did, and so does code written
// after it against the old schema.
// Nothing compares these columns with collation-specific operators (no LIKE, no ranges: lookups are by
// equality, sorts are ORDER BY). The cost is the lock: changing a column's collation rebuilds the
// indexes on it (not the table) under an exclusive lock — seconds for a large registry — so the
// migration gives up rather than queue behind long readers and stall every sign-in behind it.
import type { Knex } from 'knex';

/** Every column that holds an ID number: the registry's key and what refers to it or indexes by it. */
const COLUMNS = [
  { table: 'registry_records', column: 'national_id' },
  { table: 'accounts', column: 'national_id' },
  { table: 'registry_change_events', column: 'national_id' },
] as const;

export async function up(knex: Knex): Promise<void> {
  // contract step: safe after 0.1.0: and beside any release, see the top of the file — every release's ID numbers compare and sort as before
  await knex.raw("SET LOCAL lock_timeout = '10s'");
  for (const { table, column } of COLUMNS) await knex.raw('ALTER TABLE ?? ALTER COLUMN ?? TYPE char(12) COLLATE "C"', [table, column]);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("SET LOCAL lock_timeout = '10s'");
  for (const { table, column } of COLUMNS) await knex.raw('ALTER TABLE ?? ALTER COLUMN ?? TYPE char(12) COLLATE "default"', [table, column]);
}
