// The composition root's HTTP side: builds the public app (sign-in pages + the provider) and the admin
// app from a container, without listening; main.ts listens, tests listen on their own ports.
import { chipRoutes } from './chip/routes.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Koa from 'koa';
import type { Config } from './config/config.ts';
import type { Logger } from './observability/logger.ts';
import type { Database } from './storage/database.ts';
import { createContainer, type Container, type ContainerOptions } from './container.ts';
import { forwardedHeaders, requestLog } from './observability/http.ts';
import { readinessProbe } from './observability/health.ts';
import { contentSecurityPolicy } from './web/security.ts';
import { interactionRoutes } from './interactions/sign-in/routes.ts';
import { accountRoutes } from './interactions/account/routes.ts';
import { Router } from './web/router.ts';
import { publicCookies } from './web/cookies.ts';
import { selectAccountRoutes } from './interactions/sign-in/select-account.ts';
import { registrationRoutes } from './interactions/registration-routes.ts';
import { OutboxNotifier } from './accounts/notifier.ts';
import { adminApiMiddleware } from './admin/api-app.ts';
import { problemBody } from './admin/problem.ts';
import { consoleFailurePage, isConsolePath } from './admin/console/console-routes.ts';
import { catchAll, wantsJson, type ErrorRenderer } from './web/errors.ts';
import { localeOf, switchHref } from './web/i18n.ts';
import { errorPage } from './interactions/pages.ts';
import { refuseNulBytes } from './web/nul-bytes.ts';
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
  // An SVG at the address browsers ask for by default; the layout links it too.
  ['/favicon.ico', { type: 'image/svg+xml', body: readFileSync(path.join(ASSET_DIR, 'favicon.svg')) }],
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
      lead: status === 503 ? translate(locale, 'error.unavailable') : status >= 500 ? translate(locale, 'error.server') : message,
      code,
      ...(ctx.method === 'GET' && { switchHref: switchHref(ctx.originalUrl, locale) }),
    });
  },
};

/** Where a browser lands on the admin port: the console's pages and the administrators' sign-in redirects. */
const ADMIN_BROWSER_PAGE = (path: string) => isConsolePath(path) || path === '/auth/sign-in' || path === '/auth/callback' || path === '/auth/signed-out';

/** The admin port's errors: problem details (RFC 9457), as the admin API answers its own; the console's page for a browser on the console. */
const adminErrors: ErrorRenderer = {
  render(ctx, { status, code, message }) {
    if (ADMIN_BROWSER_PAGE(ctx.path) && !wantsJson(ctx)) {
      ctx.type = 'html';
      ctx.body = consoleFailurePage(ctx, status === 503 ? 'error.unavailable' : 'error.server');
      return;
    }
    ctx.type = 'application/problem+json';
    ctx.body = problemBody(status, code, message);
  },
};

/**
 * With an https issuer, the provider's authorization and end-session endpoints set Secure cookies,
 * which Koa refuses to send over a plain-http hop (a 500). Such a request reached this instance
 * without TLS and without a trusted proxy's X-Forwarded-Proto: https (src/observability/http.ts drops
 * the header from anyone else): it is refused with 400 before the provider sees it. Not redirected to
 * https: a POST (form_post, the logout confirmation) cannot be carried over a redirect, and a redirect
 * would hide a misconfigured proxy while every parameter keeps travelling in clear.
 */
function httpsOnlyCookieEndpoints(issuer: string, paths: readonly string[]): Koa.Middleware {
  const https = new URL(issuer).protocol === 'https:';
  const guarded = (path: string) => paths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  return async (ctx, next) => {
    if (!https || ctx.secure || !guarded(ctx.path)) {
      await next();
      return;
    }
    ctx.status = 400;
    if (wantsJson(ctx)) {
      ctx.body = { error: 'invalid_request', error_description: `this endpoint is served over https only (${issuer}); behind a TLS-terminating proxy, the proxy must send X-Forwarded-Proto: https and be listed in TRUSTED_PROXIES` };
      return;
    }
    const locale = localeOf(ctx);
    ctx.type = 'html';
    ctx.body = errorPage(locale, { lead: `${translate(locale, 'error.https_only')} ${issuer}`, code: 'invalid_request' });
  };
}

/** What extra routes may use: the logger and the database. */
export interface PageRouteDependencies {
  readonly logger: Logger;
  readonly db: Database;
}

/** Extra routes for the public app (tests mount features under construction this way). */
export type PageRoutes = (deps: PageRouteDependencies) => Koa.Middleware;

/** Every route of the public port but the provider's: probes, assets, sign-in, account and registration pages. */
function publicRoutes(container: Container, readiness: ReturnType<typeof readinessProbe>): Router {
  const cookies = publicCookies(container.config.issuer);
  const router = new Router()
    .get('/healthz', (ctx) => {
      ctx.body = { status: 'ok' };
    })
    .get('/readyz', async (ctx) => {
      const report = await readiness();
      ctx.status = report.ready ? 200 : 503;
      ctx.body = report;
    });
  for (const [assetPath, asset] of ASSETS) {
    router.get(assetPath, (ctx) => {
      ctx.type = asset.type;
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = asset.body;
    });
  }
  return router
    .mount(
      interactionRoutes({
        interactions: container.interactions,
        signIn: container.signIn,
        accounts: container.accounts,
        secondFactor: container.secondFactor,
        bruteForce: container.bruteForce,
        store: container.ephemeral,
        passkeys: container.passkeySignIn,
        devices: container.devices,
        representation: container.representation,
        cookies,
      }),
    )
    .mount(
      selectAccountRoutes({
        ...container,
        cookies,
        clientNameOf: async (clientId) => {
          const client = await container.provider.Client.find(clientId);
          return client && (client.clientName ?? clientId);
        },
      }),
    )
    .mount(accountRoutes({ ...container, issuer: container.config.issuer, cookies }))
    .mount(registrationRoutes({ ...container, cookies }))
    .mount(
      chipRoutes({
        issuer: container.config.issuer,
        chipVerifications: container.chip.verifications,
        findChipToken: container.chip.findToken,
        chipClientOf: container.chip.clientOf,
        ephemeral: container.ephemeral,
      }),
    );
}

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
  // While draining, keep-alive connections are not kept: the client's next request opens a new one,
  // which the load balancer sends elsewhere once it has seen /readyz fail.
  app.use(async (ctx, next) => {
    if (drain.draining) ctx.set('Connection', 'close');
    await next();
  });
  app.use(publicRoutes(container, readiness).middleware());
  for (const routes of pageRoutes) app.use(routes({ logger, db: container.db }));
  app.use(httpsOnlyCookieEndpoints(config.issuer, [container.provider.pathFor('authorization'), container.provider.pathFor('end_session')]));
  // Everything else is the provider's. Handing it the raw request keeps its own cookie keys in force
  // (mounting it as middleware would sign cookies with this app's keys instead).
  app.use((ctx) => {
    ctx.respond = false;
    return providerCallback(ctx.req, ctx.res);
  });
  return app;
}

/** Extra routes for the admin app, answered before the admin API (tests mount failing routes this way). */
export interface AdminAppOptions {
  readonly extraRoutes?: Router;
}

export function buildAdminApp(container: Container, options: AdminAppOptions = {}): Koa {
  const { config, logger, metrics, notifier } = container;
  const app = new Koa();
  app.use(requestLog(logger.child({ port: 'admin' }), { trustedProxies: config.trustedProxies, metrics: { app: 'admin', registry: metrics } }));
  app.use(catchAll(logger.child({ port: 'admin' }), adminErrors));
  app.use(refuseNulBytes());
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      // Setting a body makes Koa answer 200: say 404 again after it.
      ctx.body = { error: 'not_found' };
      ctx.status = 404;
    }
  });
  const routes = new Router().get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // Prometheus scrapes here: the admin port, which operators keep off the internet.
  routes.get('/metrics', async (ctx) => {
    const { contentType, body } = await metrics.exposition();
    ctx.type = contentType;
    ctx.body = body;
  });
  if (options.extraRoutes) routes.mount(options.extraRoutes);
  app.use(routes.middleware());
  // The admin API (src/admin/api-app.ts): /openapi.json, /auth/… (administrators' sign-in), /api/…, /console/…
  // (the outbox too: /console/outbox).
  const apiMiddleware = adminApiMiddleware({
    config,
    db: container.db,
    store: container.ephemeral,
    services: container.admin,
    audit: container.audit,
    clients: container.clients,
    accounts: container.accounts,
    signingKeys: container.signingKeys,
    registrations: container.registrations,
    issueInitialAccessToken: (limits, issue) => container.registrations.issue(container.provider, limits, issue),
    // Read by support officers in the console (/console/outbox), never without signing in.
    ...(notifier instanceof OutboxNotifier && { outbox: notifier }),
    adminConsoleSecret: container.adminConsoleSecret,
    organisationAccounts: container.organisationAccounts,
  });
  for (const middleware of apiMiddleware) app.use(middleware);
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
