// The notification queue: one row per message to a citizen's contact, written before the answer and
// delivered after it (src/accounts/notification-queue.ts). Expand-only: a new table, and a nullable
// column on the outbox (with a plain index: a unique one would be a constraint on an existing table)
// so that a repeated delivery of one message is stored once.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notifications', (table) => {
    table.bigIncrements('id').primary();
    // The same on every attempt: the outbox, the SMS gateway and the receiving mail server drop repeats by it.
    table.uuid('idempotency_key').notNullable().unique();
    table.text('channel').notNullable();
    table.text('destination').notNullable();
    table.text('subject').notNullable();
    // Emptied once delivered or given up: a code does not outlive its delivery here.
    table.text('body').notNullable();
    table.text('allowance');
    table.integer('attempts').notNullable().defaultTo(0);
    table.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('expires_at', { useTz: true }).notNullable();
    table.timestamp('delivered_at', { useTz: true });
    table.timestamp('gave_up_at', { useTz: true });
    table.text('last_error');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // The worker's claim reads only what is still to be delivered.
  await knex.raw('CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL');
  await knex.schema.alterTable('outbox_messages', (table) => {
    table.uuid('idempotency_key').index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox_messages', (table) => {
    table.dropColumn('idempotency_key');
  });
  await knex.schema.dropTable('notifications');
}
