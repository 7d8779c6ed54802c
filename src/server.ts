// The composition root's HTTP side: builds the public app (sign-in pages + the provider) and the admin
// app from a container, without listening; main.ts listens, tests listen on their own ports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Koa from 'koa';
import type { Config } from './config/config.ts';
import { createContainer, type Container, type ContainerOptions } from './container.ts';
import { forwardedHeaders, requestLog } from './observability/http.ts';
import { readinessProbe } from './observability/health.ts';
import { contentSecurityPolicy } from './web/security.ts';
import { dependencyFaultPages } from './interactions/unavailable.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { accountRoutes } from './interactions/account-routes.ts';
import { selectAccountRoutes } from './interactions/select-account-routes.ts';
import { registrationRoutes } from './interactions/registration-routes.ts';
import { OutboxNotifier } from './accounts/notifier.ts';
import { outboxPage } from './admin/outbox-page.ts';
import { adminApiMiddleware } from './admin/api-app.ts';
import { catchAll, wantsJson, type ErrorRenderer } from './web/errors.ts';
import { refuseNulBytes } from './web/nul-bytes.ts';
import { errorPage, localeOf, switchHref } from './interactions/pages.ts';
import { translate } from './interactions/i18n.ts';

export interface Server {
  readonly container: Container;
  readonly publicApp: Koa;
  readonly adminApp: Koa;
  /** Graceful shutdown has begun (src/serve.ts): /readyz answers 503 "draining" from now on; requests are still served. */
  startDraining(): void;
  close(): Promise<void>;
}

/** Whether the instance is draining; shared by the server and its public app. */
export interface DrainState {
  draining: boolean;
}

const ASSET_DIR = path.join(import.meta.dirname, 'interactions/assets');
/** The pages' only static files: served from our origin, so CSP can say 'self'. */
const ASSETS = new Map([
  ['/assets/site.css', { type: 'text/css', body: readFileSync(path.join(ASSET_DIR, 'site.css')) }],
  ['/assets/logout.js', { type: 'application/javascript', body: readFileSync(path.join(ASSET_DIR, 'logout.js')) }],
  ['/assets/passkey.js', { type: 'application/javascript', body: readFileSync(path.join(ASSET_DIR, 'passkey.js')) }],
]);

/** Headers for every response of the public port; pages get no-store and a strict CSP. */
function securityHeaders(): Koa.Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Content-Security-Policy', contentSecurityPolicy());
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}

/** The public port's errors: OAuth JSON for programs, the bilingual error page for browsers. */
const publicErrors: ErrorRenderer = {
  render(ctx, { status, code, message }) {
    if (wantsJson(ctx)) {
      ctx.body = { error: code, error_description: message };
      return;
    }
    const locale = localeOf(ctx);
    ctx.type = 'html';
    ctx.body = errorPage(locale, {
      lead: status >= 500 ? translate(locale, 'error.server') : message,
      code,
      ...(ctx.method === 'GET' && { switchHref: switchHref(ctx.originalUrl, locale) }),
    });
  },
};

/** The admin port's errors: problem details (RFC 9457), as the admin API answers its own. */
const adminErrors: ErrorRenderer = {
  render(ctx, { status, code, message }) {
    ctx.type = 'application/problem+json';
    ctx.body = { type: 'about:blank', title: code.replaceAll('_', ' '), status, code, detail: message };
  },
};

/** Groups of sign-in pages beyond login and consent (registration, account…), each its own middleware. */
export type PageRoutes = (container: Container) => Koa.Middleware;

export function buildPublicApp(container: Container, pageRoutes: readonly PageRoutes[] = [], drain: DrainState = { draining: false }): Koa {
  const { config, logger } = container;
  const readiness = readinessProbe(container, { checkTimeoutMs: config.probes.checkTimeoutMs, draining: () => drain.draining });
  const app = new Koa({ proxy: config.trustedProxies.length > 0, maxIpsCount: 1 });
  // The provider in service when each request arrives: a change of signing keys swaps it (src/oidc/provider-holder.ts).
  const providerCallback = container.providers.callback;

  app.use(requestLog(logger, { trustedProxies: config.trustedProxies, metrics: { app: 'public', registry: container.metrics } }));
  app.use(catchAll(logger, publicErrors));
  app.use(refuseNulBytes({ oauthErrorsAt: (path) => container.providers.servesProtocolAt(path) }));
  app.use(forwardedHeaders(config.trustedProxies));
  app.use(securityHeaders());
  // PostgreSQL or Redis unable to serve: 503 page (src/interactions/unavailable.ts), not a 500.
  app.use(dependencyFaultPages());
  app.use(async (ctx, next) => {
    // While draining, keep-alive connections are not kept: the client's next request opens a new one,
    // which the load balancer sends elsewhere once it has seen /readyz fail.
    if (drain.draining) ctx.set('Connection', 'close');
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz') {
      const report = await readiness();
      ctx.status = report.ready ? 200 : 503;
      ctx.body = report;
      return;
    }
    const asset = ASSETS.get(ctx.path);
    if (asset && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.type = asset.type;
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = asset.body;
      return;
    }
    await next();
  });
  app.use(
    interactionRoutes({
      interactions: container.interactions,
      signIn: container.signIn,
      accounts: container.accounts,
      secondFactor: container.secondFactor,
      bruteForce: container.bruteForce,
      store: container.ephemeral,
      passkeys: container.passkeySignIn,
      devices: container.devices,
    }),
  );
  app.use(selectAccountRoutes(container));
  app.use(accountRoutes(container));
  for (const routes of pageRoutes) app.use(routes(container));
  // After the extra routes: tests mount their own registration routes (shorter limits) first.
  app.use(registrationRoutes(container));
  // Everything else is the provider's. Handing it the raw request keeps its own cookie keys in force
  // (mounting it as middleware would sign cookies with this app's keys instead).
  app.use((ctx) => {
    ctx.respond = false;
    return providerCallback(ctx.req, ctx.res);
  });
  return app;
}

export function buildAdminApp(container: Container): Koa {
  const app = new Koa();
  app.use(
    requestLog(container.logger.child({ port: 'admin' }), {
      trustedProxies: container.config.trustedProxies,
      metrics: { app: 'admin', registry: container.metrics },
    }),
  );
  app.use(catchAll(container.logger.child({ port: 'admin' }), adminErrors));
  app.use(refuseNulBytes());
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    // Prometheus scrapes here: the admin port, which operators keep off the internet.
    if (ctx.path === '/metrics' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      const { contentType, body } = await container.metrics.exposition();
      ctx.type = contentType;
      ctx.body = body;
      return;
    }
    if (ctx.path === '/outbox' && ctx.method === 'GET' && container.notifier instanceof OutboxNotifier) {
      ctx.type = 'html';
      ctx.set('Content-Security-Policy', contentSecurityPolicy());
      ctx.body = outboxPage(await container.notifier.list({ limit: 100 }));
      return;
    }
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      // Setting a body makes Koa answer 200: say 404 again after it.
      ctx.body = { error: 'not_found' };
      ctx.status = 404;
    }
  });
  // The admin API (src/admin/api-app.ts): /openapi.json, /auth/… (administrators' sign-in), /api/….
  for (const middleware of adminApiMiddleware(container)) app.use(middleware);
  return app;
}

export interface ServerOptions extends ContainerOptions {
  /** Page routes to add to the public app (tests add features under construction this way). */
  readonly pageRoutes?: readonly PageRoutes[];
}

export async function buildServer(config: Config, options: ServerOptions = {}): Promise<Server> {
  const container = await createContainer(config, options);
  const drain: DrainState = { draining: false };
  return {
    container,
    publicApp: buildPublicApp(container, options.pageRoutes, drain),
    adminApp: buildAdminApp(container),
    startDraining: () => {
      drain.draining = true;
    },
    close: () => container.close(),
  };
}
