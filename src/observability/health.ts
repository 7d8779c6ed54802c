// Readiness: can this instance serve a sign-in right now?
import type { Container } from '../container.ts';
import { migrationsCurrent } from '../storage/migrate.ts';

export interface ReadinessReport {
  readonly ready: boolean;
  /** 'ok' or what failed. */
  readonly checks: Record<string, string>;
}

async function check(run: () => Promise<void>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : 'failed';
  }
}

export async function readiness(container: Container): Promise<ReadinessReport> {
  const checks = {
    postgres: await check(async () => {
      await container.db.raw('SELECT 1');
    }),
    migrations: await check(async () => {
      if (!(await migrationsCurrent(container.db))) throw new Error('migrations pending');
    }),
    ephemeral: await check(() => container.ephemeral.ping()),
    // The provider signs with the keys in PostgreSQL; none in service means no token can be issued.
    keys: await check(async () => {
      if (!(await container.signingKeys.list()).some((key) => key.state === 'active')) throw new Error('no signing key in service');
    }),
  };
  return { ready: Object.values(checks).every((value) => value === 'ok'), checks };
}
