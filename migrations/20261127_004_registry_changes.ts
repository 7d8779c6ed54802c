// Registry change events applied from the change feed, so that a feed applied twice changes nothing the
// second time; and an index to find a citizen's grants and refresh tokens when a death ends them all.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registry_change_events', (table) => {
    // The registry's own event id: what makes a re-applied event recognisable.
    table.text('id').primary();
    table.text('type').notNullable();
    table.specificType('national_id', 'char(12)').notNullable();
    table.date('occurred_on').notNullable();
    // SHA-256 of the event as applied: the same id arriving with other content is refused, not ignored.
    table.text('content_hash').notNullable();
    // The person's eID account when the event was applied, and whether this event locked it.
    table.uuid('account_id');
    table.boolean('account_locked').notNullable().defaultTo(false);
    table.timestamp('applied_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Set once the effects outside the registry transaction (sessions ended, audit) are done too; an
    // event left without it by a crash has them redone on the next run.
    table.timestamp('completed_at', { useTz: true });
    table.index(['national_id', 'occurred_on']);
  });
  await knex.raw(`ALTER TABLE registry_change_events ADD CONSTRAINT registry_change_events_type_check
    CHECK (type IN ('born', 'died', 'went_missing', 'moved', 'renamed', 'card_reissued'))`);
  // Ending all access of one citizen looks grants and refresh tokens up by account, not by session.
  await knex.raw(`CREATE INDEX oidc_models_account_id ON oidc_models ((payload->>'accountId'))
    WHERE model IN ('Grant', 'RefreshToken')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS oidc_models_account_id');
  await knex.schema.dropTable('registry_change_events');
}
