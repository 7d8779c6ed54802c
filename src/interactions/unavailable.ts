// The answer of every page of the public port when PostgreSQL or Redis cannot serve: 503 with the
// same error page as the other interaction pages, in the citizen's language (JSON for API callers).
// Whatever threw did so before writing anything that would need undoing (src/storage/dependency-faults.ts).
import type Koa from 'koa';
import { isDependencyUnavailable, RETRY_AFTER_SECONDS } from '../storage/dependency-faults.ts';
import { localeOf, switchHref } from '../web/i18n.ts';
import { translate } from './i18n.ts';
import { errorPage } from './pages.ts';

export function dependencyFaultPages(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!isDependencyUnavailable(error)) throw error;
      ctx.status = 503;
      ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; try again shortly' };
        return;
      }
      const locale = localeOf(ctx);
      ctx.type = 'html';
      ctx.body = errorPage(locale, {
        lead: translate(locale, 'error.unavailable'),
        code: 'temporarily_unavailable',
        ...(ctx.method === 'GET' && { switchHref: switchHref(ctx.originalUrl, locale) }),
      });
    }
  };
}
