// A page at /test/slow that holds its request until the test lets it go: a request in flight to watch
// while the server drains or shuts down.
import type { PageRoutes } from '../../src/server.ts';

export interface SlowPage {
  /** For buildServer's `pageRoutes`. */
  readonly routes: PageRoutes;
  /** Resolves when a request to /test/slow has arrived and is being held. */
  readonly started: Promise<void>;
  /** Lets the held request answer 200 "finished". */
  release(): void;
}

export function slowPage(): SlowPage {
  let arrived!: () => void;
  let letGo: (() => void) | undefined;
  const started = new Promise<void>((resolve) => (arrived = resolve));
  return {
    routes: () => async (ctx, next) => {
      if (ctx.path !== '/test/slow') {
        await next();
        return;
      }
      arrived();
      await new Promise<void>((resolve) => (letGo = resolve));
      ctx.body = 'finished';
    },
    started,
    release: () => letGo?.(),
  };
}
