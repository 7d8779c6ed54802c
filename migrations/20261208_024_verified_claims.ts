// Verified claims (OpenID Connect for Identity Assurance, docs/integrating-a-bank.md "Requesting verified
// claims"): whether a client is approved for them, set only through a four-eyes approval
// (src/admin/api-verified-claims.ts). Expand-only: one defaulted column.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE clients ADD COLUMN verified_claims_approved boolean NOT NULL DEFAULT false');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE clients DROP COLUMN verified_claims_approved');
}
