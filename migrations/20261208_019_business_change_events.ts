// The business register's change events applied from its feed (docs/business-register.md "Change feed"),
// so that a feed applied twice changes nothing the second time, as registry_change_events does for the
// population registry. Expand-only: a new table.
import type { Knex } from 'knex';

const TYPES = ['representative_replaced', 'suspended', 'reactivated', 'dissolved'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE business_change_events (
      -- The register's own event id: what makes a re-applied event recognisable.
      id text PRIMARY KEY,
      type text NOT NULL CHECK (type IN (${TYPES.map((type) => `'${type}'`).join(', ')})),
      enterprise_code text COLLATE "C" NOT NULL,
      occurred_on date NOT NULL,
      -- SHA-256 of the event as applied: the same id arriving with other content is refused, not ignored.
      content_hash text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      -- Set once the audit event (outside the change's transaction) is written too; an event left
      -- without it by a crash has it written on the next run.
      completed_at timestamptz
    )`);
  await knex.raw('CREATE INDEX business_change_events_organisation ON business_change_events (enterprise_code, occurred_on)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE business_change_events');
}
