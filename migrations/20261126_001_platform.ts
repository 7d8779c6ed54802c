// The platform's tables: durable provider models, clients, signing and cookie keys, audit events.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('oidc_models', (table) => {
    table.text('model').notNullable();
    table.text('id').notNullable();
    table.jsonb('payload').notNullable();
    table.text('grant_id');
    table.text('uid');
    table.text('user_code');
    table.timestamp('expires_at', { useTz: true });
    table.timestamp('consumed_at', { useTz: true });
    table.primary(['model', 'id']);
    table.index(['grant_id']);
    table.index(['model', 'uid']);
    table.index(['model', 'user_code']);
    table.index(['expires_at']);
  });

  await knex.schema.createTable('clients', (table) => {
    table.text('client_id').primary();
    table.text('profile').notNullable();
    table.text('name').notNullable();
    table.specificType('approved_scopes', 'text[]').notNullable();
    table.jsonb('metadata').notNullable();
    table.text('secret_sealed');
    table.text('status').notNullable().defaultTo('active');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE clients ADD CONSTRAINT clients_profile_check
    CHECK (profile IN ('portal', 'bank', 'spa', 'native', 'service'))`);
  await knex.raw(`ALTER TABLE clients ADD CONSTRAINT clients_status_check CHECK (status IN ('active', 'suspended'))`);

  await knex.schema.createTable('signing_keys', (table) => {
    table.text('kid').primary();
    table.text('alg').notNullable();
    table.jsonb('public_jwk').notNullable();
    table.text('private_jwk_sealed').notNullable();
    table.text('status').notNullable().defaultTo('active');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('retired_at', { useTz: true });
  });

  await knex.schema.createTable('cookie_keys', (table) => {
    table.text('id').primary();
    table.text('key_sealed').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('audit_events', (table) => {
    table.bigIncrements('id').primary();
    table.text('writer_id').notNullable();
    table.bigInteger('seq').notNullable();
    table.timestamp('occurred_at', { useTz: true }).notNullable();
    table.text('type').notNullable();
    table.text('actor');
    table.uuid('account_id');
    table.text('client_id');
    table.jsonb('data').notNullable();
    table.text('prev_hash').notNullable();
    table.text('hash').notNullable();
    table.unique(['writer_id', 'seq']);
    table.index(['account_id', 'occurred_at']);
    table.index(['type', 'occurred_at']);
  });
  // Append-only: the application never edits or deletes an event, and the database refuses it too.
  await knex.raw(`
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only';
    END $$;
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_events');
  await knex.raw('DROP FUNCTION IF EXISTS audit_events_append_only()');
  await knex.schema.dropTable('cookie_keys');
  await knex.schema.dropTable('signing_keys');
  await knex.schema.dropTable('clients');
  await knex.schema.dropTable('oidc_models');
}
