// The registry change feed's relations_changed event (docs/registry.md "Registry change feed"): the
// population registry names another father, mother or guardian of a person, or none. Only the event
// types' check widens; the relation columns came with migration 018.
import type { Knex } from 'knex';

const TYPES_BEFORE = ['born', 'died', 'went_missing', 'moved', 'renamed', 'card_reissued'];
const TYPES = [...TYPES_BEFORE, 'relations_changed'];

async function typeCheck(knex: Knex, types: readonly string[]): Promise<void> {
  await knex.raw('ALTER TABLE registry_change_events DROP CONSTRAINT registry_change_events_type_check');
  await knex.raw(`ALTER TABLE registry_change_events ADD CONSTRAINT registry_change_events_type_check
    CHECK (type IN (${types.map((type) => `'${type}'`).join(', ')}))`);
}

export async function up(knex: Knex): Promise<void> {
  await typeCheck(knex, TYPES);
}

export async function down(knex: Knex): Promise<void> {
  // Fails while relations_changed events are recorded: they would no longer fit.
  await typeCheck(knex, TYPES_BEFORE);
}
