// The back-channel logout queue: one row per (client, session id) to tell a relying party that a
// citizen's session ended, kept until delivered or given up (24 hours), so restarts lose nothing.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('backchannel_logouts', (table) => {
    table.bigIncrements('id').primary();
    table.text('client_id').notNullable();
    table.text('account_id').notNullable();
    table.text('sid').notNullable();
    table.integer('attempts').notNullable().defaultTo(0);
    table.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('delivered_at', { useTz: true });
    table.timestamp('gave_up_at', { useTz: true });
    table.text('last_error');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.unique(['client_id', 'sid']);
  });
  // The worker's claim reads only what is still to be delivered.
  await knex.raw(
    'CREATE INDEX backchannel_logouts_due ON backchannel_logouts (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('backchannel_logouts');
}
