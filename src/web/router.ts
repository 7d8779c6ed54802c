// The one router of both apps: a table of method + path template → handler. Templates name their
// parameters OpenAPI-style (`/interaction/{uid}/login`); a parameter matches one path segment and may be
// narrowed with a pattern. A path the table knows with a method it does not gets 405 and Allow; a path it
// does not know goes on to the next middleware (the provider, on the public port). The matched template
// is left in `ctx.state.route`, so metrics label requests only with routes the app defines.
import type Koa from 'koa';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type RouteParams = Readonly<Record<string, string>>;

export type RouteHandler = (ctx: Koa.Context, params: RouteParams) => Promise<void> | void;

export interface RouteOptions {
  /** Per-parameter patterns (whole segment); default: one or more characters other than `/`. */
  readonly params?: Readonly<Record<string, RegExp>>;
}

interface CompiledRoute {
  readonly method: HttpMethod;
  readonly template: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: RouteHandler;
}

/** A path segment that is not valid percent-encoding: the caller's mistake, answered 400. */
export class BadPathSegment extends Error {
  override readonly name = 'BadPathSegment';
  readonly status = 400;
  readonly expose = true;
}

function compile(method: HttpMethod, template: string, handler: RouteHandler, options: RouteOptions): CompiledRoute {
  const names: string[] = [];
  const source = template
    .split(/(\{[A-Za-z][A-Za-z0-9]*\})/)
    .map((part) => {
      const name = /^\{([A-Za-z][A-Za-z0-9]*)\}$/.exec(part)?.[1];
      if (name === undefined) return part.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
      names.push(name);
      const narrowed = options.params?.[name];
      return narrowed ? `(${narrowed.source})` : '([^/]+)';
    })
    .join('');
  return { method, template, pattern: new RegExp(`^${source}$`), names, handler };
}

/** The template of the route that answered this request, if a router answered it. */
export function routeTemplateOf(ctx: Koa.Context): string | undefined {
  const route: unknown = ctx.state.route;
  return typeof route === 'string' ? route : undefined;
}

export class Router {
  readonly #routes: CompiledRoute[] = [];

  add(method: HttpMethod, template: string, handler: RouteHandler, options: RouteOptions = {}): this {
    this.#routes.push(compile(method, template, handler, options));
    return this;
  }

  get(template: string, handler: RouteHandler, options?: RouteOptions): this {
    return this.add('GET', template, handler, options);
  }

  post(template: string, handler: RouteHandler, options?: RouteOptions): this {
    return this.add('POST', template, handler, options);
  }

  put(template: string, handler: RouteHandler, options?: RouteOptions): this {
    return this.add('PUT', template, handler, options);
  }

  delete(template: string, handler: RouteHandler, options?: RouteOptions): this {
    return this.add('DELETE', template, handler, options);
  }

  /** Every route of another router, after this one's. */
  mount(other: Router): this {
    this.#routes.push(...other.#routes);
    return this;
  }

  /** Method and template of every route, in order (for documents and tests). */
  get templates(): readonly { readonly method: HttpMethod; readonly template: string }[] {
    return this.#routes.map(({ method, template }) => ({ method, template }));
  }

  middleware(): Koa.Middleware {
    return async (ctx, next) => {
      let allowed: HttpMethod[] | undefined;
      for (const route of this.#routes) {
        const match = route.pattern.exec(ctx.path);
        if (!match) continue;
        // HEAD is answered by a GET route, as HTTP says; Koa leaves the body out.
        if (route.method !== ctx.method && !(ctx.method === 'HEAD' && route.method === 'GET')) {
          (allowed ??= []).push(route.method);
          continue;
        }
        const params: Record<string, string> = {};
        route.names.forEach((name, index) => {
          try {
            params[name] = decodeURIComponent(match[index + 1]!);
          } catch {
            throw new BadPathSegment(`${name}: not a valid URL path segment`);
          }
        });
        ctx.state.route = route.template;
        await route.handler(ctx, params);
        return;
      }
      if (allowed) {
        ctx.status = 405;
        ctx.set('Allow', [...new Set(allowed)].join(', '));
        return;
      }
      await next();
    };
  }
}
