// One step of a sign-in interaction (the page it needs, or a form that finishes a step): the
// interaction's view, the language, the form, and the answers every step gives to the same errors.
// Input is validated where it enters; a bad form gets the page again with a message, never a 500.
import type { ParameterizedContext } from 'koa';
import { FormTooLarge, readForm } from '../../web/forms.ts';
import type { RouteHandler } from '../../web/router.ts';
import { contentSecurityPolicy } from '../../web/security.ts';
import { LANGUAGE_COOKIE, type PublicCookies } from '../../web/cookies.ts';
import { isLocale, localeOf, switchHref, type Locale } from '../../web/i18n.ts';
import { InteractionExpired, type InteractionService, type InteractionView } from '../../oidc/consent/interactions.ts';
import { HashingOverloaded } from '../../accounts/passwords.ts';
import { RegistryUnavailable } from '../../registry/gateway.ts';
import { translate } from '../i18n.ts';
import { errorPage } from '../pages.ts';
import { t as secondFactorText } from './second-factor-pages.ts';

/** An interaction's uid in its pages' paths. */
export const UID = { params: { uid: /[A-Za-z0-9_-]{1,64}/ } };

/** A helper already answered (a redirect); unwind without writing anything else. */
export class ResponseSent extends Error {}

export interface StepDependencies {
  readonly interactions: InteractionService;
  readonly cookies: PublicCookies;
}

export interface SignInStep {
  readonly ctx: ParameterizedContext;
  readonly view: InteractionView;
  readonly form: URLSearchParams;
  readonly locale: Locale;
  /** The same page in the other language. */
  readonly here: string;
  /** Answers a page; its forms' redirects end at the client's redirect URI, so form-action allows that origin. */
  readonly send: (status: number, body: string) => void;
}

export function sendPage(ctx: ParameterizedContext, status: number, body: string, formTarget?: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', contentSecurityPolicy(formTarget ? [formTarget] : []));
  ctx.body = body;
}

function redirectOrigin(view: InteractionView): string | undefined {
  return URL.canParse(view.redirectUri) ? new URL(view.redirectUri).origin : undefined;
}

/** A GET (the page) or a POST (a form, read first) of a sign-in interaction. */
export function signInStep(deps: StepDependencies, method: 'GET' | 'POST', handler: (step: SignInStep) => Promise<void>): RouteHandler {
  return async (ctx) => {
    let locale: Locale = localeOf(ctx);
    try {
      const form = method === 'POST' ? await readForm(ctx) : new URLSearchParams();
      const formLang = form.get('lang');
      if (isLocale(formLang)) locale = formLang;
      if (typeof ctx.query.lang === 'string' && isLocale(ctx.query.lang)) {
        deps.cookies.set(ctx, LANGUAGE_COOKIE, ctx.query.lang);
      }

      const view = await deps.interactions.view(ctx.req, ctx.res);
      if (!ctx.query.lang && !ctx.cookies.get('lang') && !formLang) locale = localeOf(ctx, view.uiLocales);
      const formTarget = redirectOrigin(view);
      await handler({
        ctx,
        view,
        form,
        locale,
        here: switchHref(`/interaction/${view.uid}`, locale),
        send: (status, body) => sendPage(ctx, status, body, formTarget),
      });
    } catch (error) {
      if (error instanceof ResponseSent) return;
      if (error instanceof HashingOverloaded) {
        // Too many passwords are being checked: refuse this one quickly, keep tokens and discovery fast.
        ctx.set('Retry-After', '2');
        sendPage(ctx, 503, errorPage(locale, { lead: secondFactorText(locale, 'busy.message'), code: 'temporarily_unavailable' }));
        return;
      }
      if (error instanceof InteractionExpired) {
        sendPage(ctx, 400, errorPage(locale, { lead: translate(locale, 'error.expired'), code: 'interaction_expired' }));
        return;
      }
      if (error instanceof RegistryUnavailable) {
        // Nothing was written (no session, no audit); the next try works once the registry answers.
        if (error.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.retryAfterSeconds));
        sendPage(ctx, 503, errorPage(locale, { lead: translate(locale, 'error.registry_unavailable'), code: 'registry_unavailable' }));
        return;
      }
      if (error instanceof FormTooLarge) {
        sendPage(ctx, 413, errorPage(locale, { lead: translate(locale, 'error.too_large'), code: 'request_too_large' }));
        return;
      }
      throw error;
    }
  };
}
