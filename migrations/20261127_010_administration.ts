// Administration (issue 8): who may administer (roles held by level-2 accounts), changes waiting for a
// second administrator (four eyes), and a client's previous secret while a rotation's overlap lasts.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('admin_roles', (table) => {
    table.uuid('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    table.text('role').notNullable();
    table.text('granted_by').notNullable();
    table.timestamp('granted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(['account_id', 'role']);
  });
  await knex.raw(`ALTER TABLE admin_roles ADD CONSTRAINT admin_roles_role_check
    CHECK (role IN ('client_admin', 'support_officer', 'auditor'))`);

  // One row per change that needs a second administrator; `subject` is what it changes (a client id…).
  await knex.schema.createTable('admin_approvals', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.text('kind').notNullable();
    table.text('subject').notNullable();
    table.jsonb('change').notNullable();
    table.text('status').notNullable().defaultTo('pending');
    table.text('requested_by').notNullable();
    table.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.text('decided_by');
    table.timestamp('decided_at', { useTz: true });
    table.index(['kind', 'subject', 'status']);
  });
  await knex.raw(`ALTER TABLE admin_approvals ADD CONSTRAINT admin_approvals_status_check
    CHECK (status IN ('pending', 'approved', 'rejected', 'superseded'))`);
  // The second administrator is never the first: enforced by the database as well.
  await knex.raw(`ALTER TABLE admin_approvals ADD CONSTRAINT admin_approvals_four_eyes_check
    CHECK (decided_by IS NULL OR decided_by <> requested_by)`);

  await knex.schema.alterTable('clients', (table) => {
    table.text('retired_secret_sealed');
    table.timestamp('retired_secret_expires_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (table) => {
    table.dropColumn('retired_secret_sealed');
    table.dropColumn('retired_secret_expires_at');
  });
  await knex.schema.dropTable('admin_approvals');
  await knex.schema.dropTable('admin_roles');
}
