// The admin API: each endpoint is one AdminRoute (src/admin/route.ts) — method, path, who may call it,
// zod schemas for its input and output — and the same route objects are the OpenAPI 3.1 document
// (GET /openapi.json), so validation and documentation never drift apart. Matching is the one router's
// (src/web/router.ts); every call is authenticated and authorized before its handler runs, and a
// refusal is audited (src/admin/auth.ts). Refusals are answered here as problem details; anything
// unexpected goes on to the admin app's catch-all, which logs it once and answers the same problem body.
import type Koa from 'koa';
import type { z } from 'zod';
import { BadPathSegment, Router, routeTemplateOf } from '../web/router.ts';
import type { AdminAuthenticator } from './auth.ts';
import { AdminProblem, notFound, problemBody } from './problem.ts';
import type { AdminRoute } from './route.ts';

const MAX_BODY_BYTES = 256 * 1024;

async function readJson(ctx: Koa.Context): Promise<unknown> {
  const type = ctx.get('content-type');
  if (!/^application\/json\b/i.test(type)) throw new AdminProblem(415, 'unsupported_media_type', 'send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AdminProblem(413, 'too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AdminProblem(400, 'invalid_json', 'the body is not JSON');
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message, code: issue.code }));
  throw new AdminProblem(400, 'invalid_request', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
}

export class AdminApi {
  readonly #routes: AdminRoute<unknown, unknown>[] = [];
  readonly #router = new Router();
  readonly #auth: AdminAuthenticator;

  constructor(auth: AdminAuthenticator) {
    this.#auth = auth;
  }

  /** Adds endpoints; each appears in the OpenAPI document as it is declared. */
  add(...routes: AdminRoute<never, never>[]): this {
    for (const declared of routes) {
      const route = declared as AdminRoute<unknown, unknown>;
      this.#routes.push(route);
      this.#router.add(route.method, route.path, (ctx, params) => this.#call(ctx, route, params));
    }
    return this;
  }

  get routes(): readonly AdminRoute<unknown, unknown>[] {
    return this.#routes;
  }

  async #call(ctx: Koa.Context, route: AdminRoute<unknown, unknown>, params: Readonly<Record<string, string>>): Promise<void> {
    // Who calls, then whether they may: before the body is even read.
    const principal = await this.#auth.authorize(ctx, route);
    const query = route.query ? parseWith(route.query, { ...ctx.query }, 'query') : undefined;
    const body = route.body ? parseWith(route.body, await readJson(ctx), 'body') : undefined;
    const response = await route.handle({ principal, params, body, query, ctx });
    ctx.status = response.status;
    if (response.body !== undefined) ctx.body = response.body;
  }

  /** Koa middleware answering /api/…; anything else goes on. */
  middleware(): Koa.Middleware {
    const routed = this.#router.middleware();
    return async (ctx, next) => {
      if (!ctx.path.startsWith('/api/')) {
        await next();
        return;
      }
      ctx.set('Cache-Control', 'no-store');
      try {
        await routed(ctx, () => Promise.reject(notFound('endpoint')));
        // The router answers a known path with another method 405 and Allow, and no body.
        if (ctx.status === 405 && routeTemplateOf(ctx) === undefined) {
          throw new AdminProblem(405, 'method_not_allowed', `use ${ctx.response.get('Allow').split(', ').join(' or ')}`);
        }
      } catch (caught) {
        const problem = caught instanceof BadPathSegment ? new AdminProblem(400, 'invalid_request', caught.message) : caught;
        if (!(problem instanceof AdminProblem)) throw problem;
        ctx.status = problem.status;
        ctx.type = 'application/problem+json';
        ctx.body = problemBody(problem.status, problem.code, problem.message, problem.details);
      }
    };
  }
}
