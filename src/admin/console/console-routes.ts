// The administrators' web console under /console/ on the admin port: server-rendered pages over the
// admin API's own routes, one module per page group (console-clients.ts, console-keys.ts,
// console-approvals.ts, console-accounts.ts, console-audit.ts, console-outbox.ts), each calling the AdminRoute the JSON
// API would (console-session.ts). Forms post url-encoded with the session's CSRF token and a
// single-use form token (a reload replays nothing: console-form-tokens.ts) in hidden fields; an
// action that cannot be taken back is reached through a confirmation page saying what it does. A
// change answers 303 to a page, except where a secret or hand-over code is shown once (it never goes
// into a URL or a store). This module opens every request: headers, language, session, the router,
// and the page for a refusal.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Koa from 'koa';
import { FormTooLarge } from '../../web/forms.ts';
import { isLocale, pickLocale, type Locale } from '../../web/i18n.ts';
import { contentSecurityPolicy } from '../../web/security.ts';
import { BadPathSegment, Router, routeTemplateOf } from '../../web/router.ts';
import { AdminProblem } from '../problem.ts';
import type { ConsoleMessageKey } from './console-i18n.ts';
import { NEW_CLIENT_PATH, errorPage, homePage, signedOutPage } from './console-layout.ts';
import { consoleApi, render, seeOther, self, type ConsoleDependencies } from './console-session.ts';
import { clientPages } from './console-clients.ts';
import { keyPages } from './console-keys.ts';
import { approvalPages } from './console-approvals.ts';
import { accountPages } from './console-accounts.ts';
import { auditPages } from './console-audit.ts';
import { OUTBOX_OPERATION, outboxPages } from './console-outbox.ts';

export type { ConsoleDependencies } from './console-session.ts';

const STYLESHEET = Buffer.concat([
  readFileSync(path.join(import.meta.dirname, '../../interactions/assets/site.css')),
  readFileSync(path.join(import.meta.dirname, 'console.css')),
]);

/** Refusals with words of their own (others are told by status). */
const OWN_MESSAGES: Readonly<Record<string, ConsoleMessageKey>> = {
  already_done: 'error.already_done',
  form_expired: 'error.form_expired',
  four_eyes: 'error.four_eyes',
};

/** The page a POST's form came from (for the language switch of the page answering it): never a confirmation, which would invite a second action. */
const POSTED_FROM: readonly (readonly [RegExp, (match: RegExpExecArray) => string])[] = [
  [/^\/console\/clients$/, () => NEW_CLIENT_PATH],
  [/^(\/console\/clients\/[^/]+)(\/.*)?$/, (match) => match[1]!],
  [/^\/console\/keys\/rotate$/, () => '/console/keys'],
  [/^\/console\/approvals(\/.*)?$/, () => '/console/approvals'],
  [/^\/console\/accounts\/lookup$/, () => '/console/accounts'],
  [/^(\/console\/accounts\/[^/]+)(\/.*)?$/, (match) => match[1]!],
];

/** Whether a path is the console's: its failures are answered with a page (consoleFailurePage). */
export const isConsolePath = (path: string) => path === '/console' || path.startsWith('/console/');

/** ?lang= (remembered in a cookie for the console's pages), else the cookie, else Vietnamese. */
function localeOf(ctx: Koa.Context): Locale {
  const asked = ctx.query.lang;
  if (typeof asked === 'string' && isLocale(asked)) {
    ctx.cookies.set('lang', asked, { path: '/console', httpOnly: true, sameSite: 'lax', overwrite: true });
    return asked;
  }
  const remembered = ctx.cookies.get('lang');
  return isLocale(remembered) ? remembered : 'vi';
}

/** The same page in the other language; a POST's page switches on the page its form came from. */
function switchHrefOf(ctx: Koa.Context, locale: Locale): string {
  const posted = POSTED_FROM.map(([pattern, page]) => {
    const match = pattern.exec(ctx.path);
    return match && page(match);
  }).find((page) => page);
  const base = ctx.method === 'GET' || ctx.method === 'HEAD' ? ctx.originalUrl : (posted ?? '/console/');
  const parsed = new URL(base, 'http://console');
  parsed.searchParams.set('lang', locale === 'vi' ? 'en' : 'vi');
  return `${parsed.pathname}${parsed.search}`;
}

/** The page for a request of the console that failed (the admin app's catch-all, or an outage): bilingual, without the session's menu. */
export function consoleFailurePage(ctx: Koa.Context, message: ConsoleMessageKey = 'error.server'): string {
  // As localeOf, without remembering ?lang=: the cookies of a failed answer are not sent.
  const locale = pickLocale(typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined, ctx.cookies.get('lang'));
  return errorPage({ locale, switchHref: switchHrefOf(ctx, locale), roles: new Set() }, message);
}

export function adminConsoleRoutes(deps: ConsoleDependencies): Koa.Middleware {
  const api = consoleApi(deps);
  const outbox = deps.routes.some((route) => route.operationId === OUTBOX_OPERATION);
  // Pages anyone may see: the stylesheet, and where signing out ends.
  const openPages = new Router()
    .get('/console/assets/console.css', (ctx) => {
      ctx.type = 'text/css';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = STYLESHEET;
    })
    .get('/console/signed-out', (ctx) => {
      const locale = localeOf(ctx);
      render(ctx, 200, signedOutPage(locale, switchHrefOf(ctx, locale)));
    })
    .middleware();
  const home = api.page(async (request) => {
    const name = (await api.namesOf([self(request)])).get(request.accountId);
    render(request.ctx, 200, homePage(request.frame, request.accountId, name));
  });
  const pages = new Router()
    .get('/console', home)
    .get('/console/', home)
    .mount(clientPages(api))
    .mount(keyPages(api))
    .mount(approvalPages(api))
    .mount(accountPages(api))
    .mount(auditPages(api))
    .mount(outboxPages(api, outbox))
    .middleware();

  const securityHeaders = (ctx: Koa.Context) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    // Forms post to us only; signing out continues to the provider's end-session endpoint.
    ctx.set('Content-Security-Policy', contentSecurityPolicy([api.issuerOrigin]));
    ctx.set('Cache-Control', 'no-store');
  };

  return async (ctx, next) => {
    if (!isConsolePath(ctx.path)) {
      await next();
      return;
    }
    securityHeaders(ctx);
    await openPages(ctx, () => Promise.resolve());
    if (routeTemplateOf(ctx) !== undefined) return;
    const locale = localeOf(ctx);
    const switchHref = switchHrefOf(ctx, locale);
    const signedIn = await deps.auth.sessionOf(ctx);
    // No session: sign in through the provider (the callback lands on /console/). Nothing is audited
    // yet: this is every administrator's way in, not a refusal.
    if (!signedIn) {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') ctx.redirect('/auth/sign-in');
      else seeOther(ctx, '/auth/sign-in');
      return;
    }
    const frame = { locale, switchHref, csrf: signedIn.session.csrf, roles: signedIn.roles, outbox };
    api.enter(ctx, { frame, accountId: signedIn.session.accountId, sessionId: signedIn.id });
    try {
      let unknown = false;
      await pages(ctx, () => {
        unknown = true;
        return Promise.resolve();
      });
      if (unknown) {
        ctx.remove('Allow');
        render(ctx, 404, errorPage(frame, 'error.not_found'));
      } else if (ctx.status === 405 && routeTemplateOf(ctx) === undefined) {
        // A known path with another method: the router set Allow.
        render(ctx, 405, errorPage(frame, 'error.not_found'));
      }
    } catch (caught) {
      if (caught instanceof BadPathSegment) {
        render(ctx, 404, errorPage(frame, 'error.not_found'));
        return;
      }
      if (caught instanceof FormTooLarge) {
        render(ctx, 413, errorPage(frame, 'error.server'));
        return;
      }
      // Anything unexpected goes on to the admin app's catch-all: logged once, answered with consoleFailurePage.
      if (!(caught instanceof AdminProblem)) throw caught;
      if (caught.status === 401) {
        seeOther(ctx, '/auth/sign-in');
        return;
      }
      const own = OWN_MESSAGES[caught.code];
      const message: ConsoleMessageKey =
        own ?? (caught.code === 'csrf' ? 'error.csrf' : caught.status === 403 ? 'error.forbidden' : caught.status === 404 ? 'error.not_found' : caught.status === 409 ? 'error.conflict' : 'error.server');
      // The console's own refusals say it all in the page's language; the API's keep its words as detail.
      render(ctx, caught.status, errorPage(frame, message, caught.code === 'already_done' || caught.code === 'form_expired' ? undefined : caught.message));
    }
  };
}
