// The admin port's answer when PostgreSQL or Redis cannot serve: 503 with Retry-After — problem
// details for the API and programs, the console's page in the administrator's language for a browser
// on the console or its sign-in — instead of a 500 logged with its stack. An outage is not a bug: the
// readiness probe and the dependency's own monitoring report it (src/storage/dependency-faults.ts).
import type Koa from 'koa';
import { isDependencyUnavailable, RETRY_AFTER_SECONDS } from '../storage/dependency-faults.ts';
import { wantsJson } from '../web/errors.ts';
import { problemBody } from './problem.ts';
import { consoleFailurePage, isConsolePath } from './console/console-routes.ts';

/** Where a browser lands: the console's pages and the administrators' sign-in redirects. */
const browserPath = (path: string) => isConsolePath(path) || path === '/auth/sign-in' || path === '/auth/callback' || path === '/auth/signed-out';

export function adminDependencyFaults(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!isDependencyUnavailable(error) || ctx.headerSent) throw error;
      // Headers set on the way (cookies, Location) belong to the answer that failed.
      for (const name of ['set-cookie', 'location', 'allow']) ctx.remove(name);
      ctx.status = 503;
      ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      if (browserPath(ctx.path) && !wantsJson(ctx)) {
        ctx.type = 'html';
        ctx.body = consoleFailurePage(ctx, 'error.unavailable');
        return;
      }
      ctx.type = 'application/problem+json';
      ctx.body = problemBody(503, 'temporarily_unavailable', 'the service is temporarily unavailable; try again shortly');
    }
  };
}
