// Account administration (issue 8): the one-time code an officer hands over in person after resetting
// an account's second factors (only its hash is kept; the first new enrolment spends it), and indexes
// for querying the audit trail by actor and by client.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('enrolment_handover_codes', (table) => {
    // One outstanding code per account: a new reset replaces it.
    table.uuid('account_id').primary().references('id').inTable('accounts').onDelete('CASCADE');
    table.text('code_hash').notNullable();
    table.timestamp('expires_at', { useTz: true }).notNullable();
    table.integer('failed_attempts').notNullable().defaultTo(0);
    table.text('issued_by').notNullable();
    table.timestamp('issued_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.alterTable('audit_events', (table) => {
    table.index(['actor', 'occurred_at']);
    table.index(['client_id', 'occurred_at']);
    table.index(['occurred_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_events', (table) => {
    table.dropIndex(['actor', 'occurred_at']);
    table.dropIndex(['client_id', 'occurred_at']);
    table.dropIndex(['occurred_at']);
  });
  await knex.schema.dropTable('enrolment_handover_codes');
}
