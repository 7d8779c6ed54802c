// Signing keys get a lifecycle (src/oidc/keys/key-lifecycle.ts): published from `created_at`, signing from
// `active_from`, no longer signing from `retired_at` (set ahead, when a successor is scheduled), and
// published until every token it signed has expired. `revoked_at` takes a key out at once. Every
// instance derives the same states from these timestamps and the clock, without coordination.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('signing_keys', (table) => {
    table.timestamp('active_from', { useTz: true });
    table.timestamp('revoked_at', { useTz: true });
    table.text('revoked_reason');
    table.text('revoked_by');
  });
  // Keys made before this migration sign from the moment they were created.
  await knex.raw(`UPDATE signing_keys SET active_from = created_at`);
  await knex.raw(`ALTER TABLE signing_keys ALTER COLUMN active_from SET NOT NULL, ALTER COLUMN active_from SET DEFAULT now()`);
  await knex.raw(`UPDATE signing_keys SET status = 'active' WHERE status NOT IN ('active', 'revoked')`);
  await knex.raw(`ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_status_check CHECK (status IN ('active', 'revoked'))`);
  await knex.raw(
    `ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_revocation_check CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))`,
  );
  await knex.raw(`ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_window_check CHECK (retired_at IS NULL OR retired_at >= active_from)`);
  await knex.schema.alterTable('signing_keys', (table) => {
    table.index(['alg', 'active_from']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('signing_keys', (table) => {
    table.dropIndex(['alg', 'active_from']);
  });
  await knex.raw(`ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_window_check`);
  await knex.raw(`ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_revocation_check`);
  await knex.raw(`ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_status_check`);
  await knex.schema.alterTable('signing_keys', (table) => {
    table.dropColumns('active_from', 'revoked_at', 'revoked_reason', 'revoked_by');
  });
}
