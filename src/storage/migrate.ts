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
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

/** True when no migration is pending (readiness checks it). */
export async function migrationsCurrent(db: Database): Promise<boolean> {
  const [, pending] = (await db.migrate.list(migrationConfig)) as [unknown[], unknown[]];
  return pending.length === 0;
}
