// Dynamic client registration (issue 8): the initial access tokens administrators issue, with the
// limits a self-registering client is held to and how many clients each has registered. Only the
// token's hash is kept here; oidc-provider keeps the token itself (oidc_models, InitialAccessToken).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('initial_access_tokens', (table) => {
    // A public name for the token (shown in lists, kept on the clients it registered); never the token.
    table.text('id').primary();
    table.text('token_hash').notNullable().unique();
    table.text('description').notNullable();
    table.specificType('profiles', 'text[]').notNullable();
    table.specificType('scopes', 'text[]').notNullable();
    table.specificType('redirect_hosts', 'text[]').notNullable();
    table.boolean('allow_public_subjects').notNullable().defaultTo(false);
    table.text('agreement_reference');
    table.integer('max_clients').notNullable();
    table.integer('clients_registered').notNullable().defaultTo(0);
    table.timestamp('expires_at', { useTz: true }).notNullable();
    table.timestamp('revoked_at', { useTz: true });
    table.text('revoked_by');
    table.text('issued_by').notNullable();
    table.timestamp('issued_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // The count holds even against a bug in the code: the database refuses one registration too many.
  await knex.raw(`ALTER TABLE initial_access_tokens ADD CONSTRAINT initial_access_tokens_count_check
    CHECK (max_clients > 0 AND clients_registered >= 0 AND clients_registered <= max_clients)`);
  // Banks are never self-registered (docs/portals.md "Dynamic client registration").
  await knex.raw(`ALTER TABLE initial_access_tokens ADD CONSTRAINT initial_access_tokens_profiles_check
    CHECK (cardinality(profiles) > 0 AND profiles <@ ARRAY['portal', 'spa', 'native', 'service']::text[])`);
  // Sensitive scopes need four eyes per client: never through an initial access token.
  await knex.raw(`ALTER TABLE initial_access_tokens ADD CONSTRAINT initial_access_tokens_scopes_check
    CHECK (NOT (scopes && ARRAY['ethnicity', 'national_id']::text[]))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('initial_access_tokens');
}
