// The admin API's own small router: each endpoint is one AdminRoute — method, path, who may call it,
// zod schemas for its input and output — and the same route objects are the OpenAPI 3.1 document
// (GET /openapi.json), so validation and documentation never drift apart. Every call is
// authenticated and authorized before its handler runs; a refusal is audited (src/admin/auth.ts).
import type Koa from 'koa';
import { z } from 'zod';
import type { AdminPrincipal, AdminAuthenticator } from './auth.ts';
import type { AdminRole, AdminScope } from './auth-roles.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Who may call an endpoint: administrators holding one of `roles` (signed in through the provider),
 * and service clients whose client_credentials token carries `scope` and that are approved for it.
 * Without `scope`, automation may not call it at all (four-eyes decisions, role changes).
 */
export interface Access {
  readonly roles: readonly AdminRole[];
  readonly scope?: AdminScope;
}

export interface AdminRequest<Body, Query> {
  readonly principal: AdminPrincipal;
  /** Path parameters, from `{name}` in the route's path. */
  readonly params: Readonly<Record<string, string>>;
  readonly body: Body;
  readonly query: Query;
  readonly ctx: Koa.Context;
}

export interface AdminResponse {
  readonly status: number;
  readonly body?: unknown;
}

export interface AdminRoute<Body = unknown, Query = unknown> {
  readonly method: HttpMethod;
  /** OpenAPI style: `/api/clients/{clientId}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  /** Markdown, shown in the document. */
  readonly description?: string;
  readonly tag: string;
  readonly access: Access;
  readonly body?: z.ZodType<Body>;
  readonly query?: z.ZodType<Query>;
  /** Success responses by status; errors (400, 401, 403, 404, 409) are documented for every route. */
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: z.ZodType }>>;
  handle(request: AdminRequest<Body, Query>): Promise<AdminResponse>;
}

/** What an endpoint refuses: a status, a stable code, a message the caller may see. */
export class AdminProblem extends Error {
  override readonly name = 'AdminProblem';
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new AdminProblem(404, 'not_found', `${what} not found`);

/** The body of every error answer (RFC 9457 problem details, with our stable `code`). */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('stable: invalid_request, invalid_registration, unauthenticated, forbidden, not_found, conflict…'),
    detail: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  });

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
  const issues = parsed.error.issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message }));
  throw new AdminProblem(400, 'invalid_request', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
}

interface CompiledRoute {
  readonly route: AdminRoute<unknown, unknown>;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function compile(route: AdminRoute<unknown, unknown>): CompiledRoute {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([a-zA-Z]+)\\?\}/g, (_whole, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
}

export class AdminApi {
  readonly #routes: CompiledRoute[] = [];
  readonly #auth: AdminAuthenticator;
  readonly #onError: (error: unknown) => void;

  constructor(auth: AdminAuthenticator, onError: (error: unknown) => void) {
    this.#auth = auth;
    this.#onError = onError;
  }

  /** Adds endpoints; each appears in the OpenAPI document as it is declared. */
  add(...routes: AdminRoute<never, never>[]): this {
    for (const route of routes) this.#routes.push(compile(route));
    return this;
  }

  get routes(): readonly AdminRoute<unknown, unknown>[] {
    return this.#routes.map((compiled) => compiled.route);
  }

  /** Koa middleware answering /api/…; anything else goes on. */
  middleware(): Koa.Middleware {
    return async (ctx, next) => {
      if (!ctx.path.startsWith('/api/')) {
        await next();
        return;
      }
      ctx.set('Cache-Control', 'no-store');
      try {
        const matches = this.#routes.map((compiled) => ({ compiled, match: compiled.pattern.exec(ctx.path) })).filter(({ match }) => match !== null);
        if (matches.length === 0) throw notFound('endpoint');
        const found = matches.find(({ compiled }) => compiled.route.method === ctx.method);
        if (!found) {
          ctx.set('Allow', matches.map(({ compiled }) => compiled.route.method).join(', '));
          throw new AdminProblem(405, 'method_not_allowed', `use ${matches.map(({ compiled }) => compiled.route.method).join(' or ')}`);
        }
        const { route, names } = found.compiled;
        const params: Record<string, string> = {};
        names.forEach((name, index) => {
          try {
            params[name] = decodeURIComponent(found.match![index + 1]!);
          } catch {
            throw new AdminProblem(400, 'invalid_request', `${name}: not a valid URL path segment`);
          }
        });
        // Who calls, then whether they may: before the body is even read.
        const principal = await this.#auth.authorize(ctx, route);
        const query = route.query ? parseWith(route.query, { ...ctx.query }, 'query') : undefined;
        const body = route.body ? parseWith(route.body, await readJson(ctx), 'body') : undefined;
        const response = await route.handle({ principal, params, body, query, ctx });
        ctx.status = response.status;
        if (response.body !== undefined) ctx.body = response.body;
      } catch (caught) {
        if (!(caught instanceof AdminProblem)) this.#onError(caught);
        // Anything unexpected is logged; the caller learns nothing of the internals.
        const error = caught instanceof AdminProblem ? caught : new AdminProblem(500, 'server_error', 'the request failed; it is logged');
        ctx.status = error.status;
        ctx.type = 'application/problem+json';
        ctx.body = {
          type: 'about:blank',
          title: error.code.replaceAll('_', ' '),
          status: error.status,
          code: error.code,
          detail: error.message,
          ...(Array.isArray(error.details) && { issues: error.details as unknown[] }),
        };
      }
    };
  }
}
