// Consent records: what a citizen was shown and agreed to, per grant, kept as proof (docs/domain.md
// "Personal data protection") — withdrawn, never deleted.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('consent_records', (table) => {
    table.uuid('id').primary();
    table.uuid('account_id').notNullable().references('id').inTable('accounts');
    table.text('client_id').notNullable();
    table.text('grant_id').notNullable();
    table.specificType('scopes', 'text[]').notNullable().defaultTo('{}');
    table.specificType('claims', 'text[]').notNullable().defaultTo('{}');
    /** The consent page's words exactly as shown, in the language shown. */
    table.text('shown_text').notNullable();
    table.text('locale').notNullable();
    table.timestamp('given_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('withdrawn_at', { useTz: true });
    table.index(['account_id', 'given_at']);
    table.index(['grant_id']);
  });
  await knex.raw(`ALTER TABLE consent_records ADD CONSTRAINT consent_records_locale_check CHECK (locale IN ('vi', 'en'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('consent_records');
}
