// Browsers a citizen has signed in from, so a sign-in from a new one can be told to their contacts.
// Only a hash of the device cookie is kept: the table alone cannot be used to impersonate a browser.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('known_devices', (table) => {
    table.uuid('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    table.text('device_hash').notNullable();
    table.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(['account_id', 'device_hash']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('known_devices');
}
