// The population registry mirror (docs/domain.md's ✱ fields) and eID accounts.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registry_records', (table) => {
    table.specificType('national_id', 'char(12)').primary();
    table.text('family_name').notNullable();
    table.text('middle_name').notNullable().defaultTo('');
    table.text('given_name').notNullable();
    table.text('full_name').notNullable();
    // ASCII-folded, lower-case full name for search (Đ → d, diacritics dropped).
    table.text('full_name_folded').notNullable();
    table.date('birth_date').notNullable();
    table.text('gender').notNullable();
    table.specificType('birth_registration_province', 'char(3)').notNullable();
    table.text('place_of_origin').notNullable();
    table.text('ethnicity').notNullable();
    table.specificType('nationality', 'char(2)').notNullable().defaultTo('VN');
    table.date('id_card_issue_date');
    table.date('id_card_expiry_date');
    table.jsonb('permanent_address').notNullable();
    table.jsonb('temporary_address');
    table.text('household_id');
    table.text('relation_to_head');
    table.date('died_on');
    table.date('missing_since');
    table.text('contact_phone');
    table.text('contact_email');
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['full_name_folded']);
    table.index(['household_id']);
  });
  await knex.raw(`ALTER TABLE registry_records ADD CONSTRAINT registry_gender_check CHECK (gender IN ('male', 'female'))`);
  await knex.raw(`ALTER TABLE registry_records ADD CONSTRAINT registry_national_id_digits CHECK (national_id ~ '^[0-9]{12}$')`);

  await knex.schema.createTable('accounts', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table
      .specificType('national_id', 'char(12)')
      .notNullable()
      .unique()
      .references('national_id')
      .inTable('registry_records');
    table.smallint('level').notNullable();
    table.text('status').notNullable().defaultTo('active');
    table.text('password_hash').notNullable();
    table.text('totp_secret_sealed');
    table.text('phone_number');
    table.boolean('phone_number_verified').notNullable().defaultTo(false);
    table.text('email');
    table.boolean('email_verified').notNullable().defaultTo(false);
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE accounts ADD CONSTRAINT accounts_level_check CHECK (level IN (1, 2))`);
  await knex.raw(`ALTER TABLE accounts ADD CONSTRAINT accounts_status_check CHECK (status IN ('active', 'locked'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('accounts');
  await knex.schema.dropTable('registry_records');
}
