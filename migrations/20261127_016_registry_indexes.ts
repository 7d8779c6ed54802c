// The registry keeps only the indexes a query uses; each one is rebuilt on every first load of the
// whole country (issue 4: at 10 million rows the folded-name index alone took 10–13 s of the import).
//
// - The b-tree on full_name_folded goes: no query reads it (lookups are by ID number and by household),
//   and it is the wrong shape for the search docs/domain.md keeps the folded form for — finding a citizen by
//   part of a name needs a trigram index (pg_trgm, GIN), which belongs with that search when it is
//   built, its cost measured then. The folded column itself stays, written as before.
// - household_id compares byte by byte (COLLATE "C"): household IDs are ASCII letters, digits, "-" and
//   "_" by rule, compared only for equality, and "C" builds the index without the locale's rules.
//
// Beside the previous release: it writes and reads both columns exactly as before (equality on
// household_id is the same under either collation), and no query of it relied on the dropped index.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // contract step: safe after 0.1.0: no release reads through the dropped index, and household IDs compare equal under either collation
  await knex.raw("SET LOCAL lock_timeout = '10s'");
  await knex.raw('DROP INDEX IF EXISTS registry_records_full_name_folded_index');
  await knex.raw('ALTER TABLE registry_records ALTER COLUMN household_id TYPE text COLLATE "C"');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("SET LOCAL lock_timeout = '10s'");
  await knex.raw('ALTER TABLE registry_records ALTER COLUMN household_id TYPE text COLLATE "default"');
  await knex.raw('CREATE INDEX IF NOT EXISTS registry_records_full_name_folded_index ON registry_records (full_name_folded)');
}
