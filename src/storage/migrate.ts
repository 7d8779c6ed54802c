// Runs the knex migrations in migrations/ (TypeScript under `node`, JavaScript once built to dist/).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import knex, { type Knex } from 'knex';
import type { Database } from './database.ts';

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../migrations');

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Lists migrations by their base name, so a migration keeps its name whether run as .ts or .js. */
class FolderMigrationSource implements Knex.MigrationSource<string> {
  getMigrations(): Promise<string[]> {
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
      .sort();
    return Promise.resolve(files);
  }

  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }

  async getMigration(file: string): Promise<MigrationModule> {
    return (await import(pathToFileURL(path.join(MIGRATIONS_DIR, file)).href)) as MigrationModule;
  }
}

const migrationConfig: Knex.MigratorConfig = {
  migrationSource: new FolderMigrationSource(),
  tableName: 'knex_migrations',
};

/** knex's list check is replaced by schemaState's, which tells a newer release's migrations from a corrupt history. */
const tolerantConfig: Knex.MigratorConfig = { ...migrationConfig, disableMigrationsListValidation: true };

/** Applies every pending migration; returns the names applied. Safe to run from several instances. */
export async function migrateToLatest(db: Database): Promise<string[]> {
  // A migration may rightly run longer than the statement timeout that guards requests: it runs
  // through a pool of its own without one.
  const settings = (db.client as { config: Knex.Config }).config;
  const connection = settings.connection as Record<string, unknown> | undefined;
  if (connection?.statement_timeout === undefined) return latest(db);
  const unbounded = { ...connection };
  delete unbounded.statement_timeout;
  delete unbounded.query_timeout;
  const migrator = knex({ ...settings, connection: unbounded, pool: { min: 0, max: 1 } });
  try {
    return await latest(migrator);
  } finally {
    await migrator.destroy();
  }
}

async function latest(db: Database): Promise<string[]> {
  const { newer, pending } = await schemaState(db);
  if (newer.length > 0 && pending.length > 0) {
    throw new Error(`the database was migrated by a newer release (${newer.join(', ')}) but lacks this release's ${pending.join(', ')}`);
  }
  const [, applied] = (await db.migrate.latest(tolerantConfig)) as [number, string[]];
  return applied;
}

/**
 * Where the database stands against this release's migrations. During a rolling deploy the new
 * release migrates while this one's instances still run (expand-then-contract, docs/operations.md "Upgrades"),
 * so migrations applied after all of this release's are a newer release's and are tolerated: knex's
 * own check would call the folder corrupt, fail readiness on every old instance and refuse their
 * restarts. An unknown migration applied before one of ours is another history: refused, as knex does.
 */
async function schemaState(db: Database): Promise<{ newer: string[]; pending: string[] }> {
  const source = migrationConfig.migrationSource!;
  const known = new Set((await source.getMigrations([])).map((file) => source.getMigrationName(file)));
  // Completed in the order they were applied (knex orders by id); pending as this release names them.
  const [completed, pending] = (await db.migrate.list(tolerantConfig)) as [{ name: string }[], string[]];
  const lastOurs = completed.findLastIndex((migration) => known.has(migration.name));
  const unknown = completed.map((migration, index) => ({ name: migration.name, index })).filter(({ name }) => !known.has(name));
  const foreign = unknown.filter(({ index }) => index < lastOurs).map(({ name }) => name);
  if (foreign.length > 0) {
    throw new Error(`The migration directory is corrupt, the following files are missing: ${foreign.join(', ')}`);
  }
  return { newer: unknown.map(({ name }) => name), pending: pending.map((file) => source.getMigrationName(file)) };
}

/** True when none of this release's migrations is pending (readiness checks it); a newer release's are fine. */
export async function migrationsCurrent(db: Database): Promise<boolean> {
  const { pending } = await schemaState(db);
  return pending.length === 0;
}
