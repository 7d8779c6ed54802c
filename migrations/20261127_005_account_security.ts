// Account security: second factors (passkeys, recovery codes), level-2 evidence, and the outbox of
// messages sent to citizens' contacts (read by people in the quickstart and by tests).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (table) => {
    table.timestamp('totp_enrolled_at', { useTz: true });
    table.timestamp('level_raised_at', { useTz: true });
    table.text('level_raised_by');
    table.text('level_evidence');
    table.timestamp('locked_at', { useTz: true });
    table.text('lock_reason');
  });

  await knex.schema.createTable('recovery_codes', (table) => {
    table.uuid('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    table.text('code_hash').notNullable();
    table.timestamp('used_at', { useTz: true });
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(['account_id', 'code_hash']);
  });

  await knex.schema.createTable('passkeys', (table) => {
    table.text('credential_id').primary();
    table.uuid('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    table.text('public_key').notNullable();
    table.bigInteger('counter').notNullable().defaultTo(0);
    table.specificType('transports', 'text[]').notNullable().defaultTo('{}');
    table.text('name').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('last_used_at', { useTz: true });
    table.index(['account_id']);
  });

  await knex.schema.createTable('outbox_messages', (table) => {
    table.bigIncrements('id').primary();
    table.text('channel').notNullable();
    table.text('destination').notNullable();
    table.text('subject').notNullable();
    table.text('body').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['destination', 'created_at']);
  });
  await knex.raw(`ALTER TABLE outbox_messages ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('sms', 'email'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox_messages');
  await knex.schema.dropTable('passkeys');
  await knex.schema.dropTable('recovery_codes');
  await knex.schema.alterTable('accounts', (table) => {
    table.dropColumns('totp_enrolled_at', 'level_raised_at', 'level_raised_by', 'level_evidence', 'locked_at', 'lock_reason');
  });
}
