// Readiness: can this instance serve a sign-in right now? The checks run side by side, each with its
// own deadline, so one hung dependency cannot hold the probe past the load balancer's timeout; a
// stopping instance answers "draining" at once, so the load balancer sends it nothing new.
import type { Container } from '../container.ts';
import { migrationsCurrent } from '../storage/migrate.ts';

export interface ReadinessReport {
  readonly ready: boolean;
  /** Present (true) once graceful shutdown has begun: no check is run then. */
  readonly draining?: true;
  /** 'ok' or what failed. */
  readonly checks: Record<string, string>;
}

export interface ReadinessOptions {
  /** Each check's own deadline (config probes.checkTimeoutMs). */
  readonly checkTimeoutMs: number;
  /** True once the server has begun to drain (src/serve.ts). */
  readonly draining: () => boolean;
}

type Check = (container: Container) => Promise<void>;

const CHECKS: Readonly<Record<string, Check>> = {
  postgres: async ({ db }) => {
    await db.raw('SELECT 1');
  },
  migrations: async ({ db }) => {
    if (!(await migrationsCurrent(db))) throw new Error('migrations pending');
  },
  ephemeral: ({ ephemeral }) => ephemeral.ping(),
  // The provider signs with the keys in PostgreSQL; none in service means no token can be issued.
  keys: async ({ signingKeys }) => {
    if (!(await signingKeys.list()).some((key) => key.state === 'active')) throw new Error('no signing key in service');
  },
};

function withinDeadline(work: Promise<string>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The /readyz handler's work. A check still running from an earlier probe (a hung dependency) is
 * waited on again rather than started anew, so probes every few seconds do not pile up queries on a
 * dependency that does not answer.
 */
export function readinessProbe(container: Container, options: ReadinessOptions): () => Promise<ReadinessReport> {
  const running = new Map<string, Promise<string>>();
  const start = (name: string, check: Check): Promise<string> => {
    let outcome = running.get(name);
    if (!outcome) {
      outcome = check(container).then(
        () => 'ok',
        (error: unknown) => (error instanceof Error ? error.message : 'failed'),
      );
      running.set(name, outcome);
      void outcome.finally(() => running.delete(name));
    }
    return outcome;
  };
  return async () => {
    if (options.draining()) return { ready: false, draining: true, checks: {} };
    const names = Object.keys(CHECKS);
    const outcomes = await Promise.all(names.map((name) => withinDeadline(start(name, CHECKS[name]!), options.checkTimeoutMs)));
    const checks = Object.fromEntries(names.map((name, index) => [name, outcomes[index]!]));
    return { ready: outcomes.every((outcome) => outcome === 'ok'), checks };
  };
}
