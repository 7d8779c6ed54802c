// Resource servers (RFC 8707) are registered in their client's metadata (`resource_server.resources`).
// This table indexes those resource indicators: one client per indicator (a second claim on it is
// refused in the same statement that writes the client, so nothing is half-written), a lookup by
// indicator on every token request that names one, and rows that go with their client.
// A trigger keeps it in step with clients.metadata, whatever code writes the client.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('resource_servers', (table) => {
    table.text('resource').primary();
    table.text('client_id').notNullable().references('client_id').inTable('clients').onDelete('CASCADE');
    table.index(['client_id']);
  });
  await knex.raw(`
    CREATE FUNCTION sync_resource_servers() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      claimed record;
    BEGIN
      SELECT r.resource, r.client_id INTO claimed
        FROM resource_servers r
        WHERE r.client_id <> NEW.client_id
          AND r.resource IN (SELECT jsonb_array_elements_text(COALESCE(NEW.metadata->'resource_server'->'resources', '[]'::jsonb)))
        LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION USING
          ERRCODE = 'unique_violation',
          CONSTRAINT = 'resource_servers_pkey',
          MESSAGE = format('resource: "%s" is already served by client "%s"', claimed.resource, claimed.client_id);
      END IF;
      DELETE FROM resource_servers WHERE client_id = NEW.client_id;
      INSERT INTO resource_servers (resource, client_id)
        SELECT DISTINCT jsonb_array_elements_text(COALESCE(NEW.metadata->'resource_server'->'resources', '[]'::jsonb)), NEW.client_id;
      RETURN NULL;
    END
    $$
  `);
  await knex.raw(`
    CREATE TRIGGER clients_resource_servers
      AFTER INSERT OR UPDATE OF metadata ON clients
      FOR EACH ROW EXECUTE FUNCTION sync_resource_servers()
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS clients_resource_servers ON clients');
  await knex.raw('DROP FUNCTION IF EXISTS sync_resource_servers()');
  await knex.schema.dropTable('resource_servers');
}
