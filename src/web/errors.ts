// The last line of both apps: whatever a route did not expect is logged once, through the logger (so
// redacted and tagged with the request id), and answered with a generic page or a JSON error that says
// nothing of the internals. A refusal meant for the caller — an error with a 4xx `status` and
// `expose` set, as Koa's own errors and ours carry — keeps its status and message. PostgreSQL or
// Redis unable to serve is no bug either: 503 with Retry-After, not logged (readiness reports it).
import type Koa from 'koa';
import type { Logger } from '../observability/logger.ts';
import { isDependencyUnavailable, RETRY_AFTER_SECONDS } from '../storage/dependency-faults.ts';

/** How an app answers an error: a page for browsers, JSON (or problem+json) for programs. */
export interface ErrorRenderer {
  /** The body for `status`; `message` is safe to show (the generic text for a 500). */
  render(ctx: Koa.Context, answer: { status: number; code: string; message: string }): void;
}

interface Exposable {
  readonly status: number;
  readonly expose: boolean;
  readonly message: string;
  readonly code?: unknown;
}

function exposableOf(error: unknown): Exposable | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, expose, message } = error as Partial<Exposable>;
  if (typeof status !== 'number' || status < 400 || status >= 500 || expose !== true || typeof message !== 'string') return undefined;
  return error as Exposable;
}

export const SERVER_ERROR_MESSAGE = 'the request failed; it is logged';
export const UNAVAILABLE_MESSAGE = 'the service is temporarily unavailable; try again shortly';

/** Outermost middleware of an app (inside the request log, so the line it writes has the request id). */
export function catchAll(logger: Logger, renderer: ErrorRenderer): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (ctx.headerSent || !ctx.writable) {
        logger.error({ err: error }, 'a request failed after its answer had begun');
        return;
      }
      const refusal = exposableOf(error);
      // Headers set on the way (cookies, Location) belong to the answer that failed.
      for (const name of Object.keys(ctx.response.headers)) {
        if (!['x-request-id', 'content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cache-control', 'connection'].includes(name)) ctx.remove(name);
      }
      if (isDependencyUnavailable(error)) {
        ctx.status = 503;
        ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
        renderer.render(ctx, { status: 503, code: 'temporarily_unavailable', message: UNAVAILABLE_MESSAGE });
        return;
      }
      if (refusal) {
        ctx.status = refusal.status;
        renderer.render(ctx, { status: refusal.status, code: typeof refusal.code === 'string' ? refusal.code : 'invalid_request', message: refusal.message });
        return;
      }
      logger.error({ err: error, method: ctx.method, path: ctx.path }, 'a request failed unexpectedly');
      ctx.status = 500;
      renderer.render(ctx, { status: 500, code: 'server_error', message: SERVER_ERROR_MESSAGE });
    }
  };
}

/** JSON errors as OAuth writes them: `{ error, error_description }`. */
export function wantsJson(ctx: Koa.Context): boolean {
  return ctx.accepts('html', 'json') === 'json';
}
