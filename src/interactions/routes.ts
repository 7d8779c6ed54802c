// HTTP for the sign-in pages: GET shows the page the interaction needs, POSTs finish a step.
// Input is validated here, where it enters; a bad form gets the page again with a message, never a 500.
import type { Middleware, ParameterizedContext } from 'koa';
import type { InteractionService, InteractionView } from '../oidc/interactions.ts';
import { InteractionExpired } from '../oidc/interactions.ts';
import type { PasswordSignIn } from '../accounts/sign-in.ts';
import { MAX_PASSWORD_LENGTH } from '../accounts/sign-in.ts';
import { isNationalIdShape } from '../registry/national-id.ts';
import { RegistryUnavailable } from '../registry/gateway.ts';
import { isLocale, translate, type Locale } from './i18n.ts';
import { consentPage, errorPage, localeOf, loginPage, switchHref } from './pages.ts';
import { contentSecurityPolicy } from './security.ts';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|consent|abort))?$/;
const MAX_FORM_BYTES = 64 * 1024;
const LOA_1 = 'urn:vn:eid:loa:1';

export interface InteractionRoutesDependencies {
  readonly interactions: InteractionService;
  readonly signIn: PasswordSignIn;
}

class FormTooLarge extends Error {}

async function readForm(ctx: ParameterizedContext): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) return new URLSearchParams();
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > MAX_FORM_BYTES) throw new FormTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new FormTooLarge();
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}


function sendPage(ctx: ParameterizedContext, status: number, body: string, formTarget?: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', contentSecurityPolicy(formTarget ? [formTarget] : []));
  ctx.body = body;
}

function redirectOrigin(view: InteractionView): string | undefined {
  return URL.canParse(view.redirectUri) ? new URL(view.redirectUri).origin : undefined;
}

export function interactionRoutes(deps: InteractionRoutesDependencies): Middleware {
  return async (ctx, next) => {
    const match = ROUTE.exec(ctx.path);
    if (!match) {
      await next();
      return;
    }
    const action = match[2];
    if ((action === undefined && ctx.method !== 'GET') || (action !== undefined && ctx.method !== 'POST')) {
      ctx.status = 405;
      ctx.set('Allow', action === undefined ? 'GET' : 'POST');
      return;
    }

    let form = new URLSearchParams();
    let locale: Locale = localeOf(ctx);
    try {
      if (action !== undefined) form = await readForm(ctx);
      const formLang = form.get('lang');
      if (isLocale(formLang)) locale = formLang;
      if (typeof ctx.query.lang === 'string' && isLocale(ctx.query.lang)) {
        ctx.cookies.set('lang', ctx.query.lang, { httpOnly: true, sameSite: 'lax', overwrite: true });
      }

      const view = await deps.interactions.view(ctx.req, ctx.res);
      if (!ctx.query.lang && !ctx.cookies.get('lang') && !formLang) locale = localeOf(ctx, view.uiLocales);
      const formTarget = redirectOrigin(view);
      const here = switchHref(`/interaction/${view.uid}`, locale);

      if (action === undefined) {
        if (view.prompt === 'login') {
          const hint = view.loginHint && isNationalIdShape(view.loginHint) ? view.loginHint : '';
          sendPage(ctx, 200, loginPage({ locale, uid: view.uid, clientName: view.clientName, username: hint, switchHref: here }), formTarget);
        } else if (view.prompt === 'consent') {
          sendPage(
            ctx,
            200,
            consentPage({ locale, uid: view.uid, clientName: view.clientName, scopes: view.scopesToConsent, claims: view.claimsToConsent, switchHref: here }),
            formTarget,
          );
        } else {
          sendPage(ctx, 400, errorPage(locale, { code: 'unsupported_prompt' }));
        }
        return;
      }

      if (action === 'abort') {
        ctx.status = 303;
        ctx.redirect(await deps.interactions.abort(ctx.req, ctx.res));
        return;
      }

      if (action === 'login') {
        if (view.prompt !== 'login') throw new InteractionExpired('not waiting for a login');
        // Surrounding spaces are forgiven; anything else but 12 digits is refused, not repaired.
        const username = (form.get('username') ?? '').trim();
        const password = form.get('password') ?? '';
        const page = (error: 'invalid' | 'missing' | 'refused', status: number) =>
          sendPage(
            ctx,
            status,
            loginPage({ locale, uid: view.uid, clientName: view.clientName, username: isNationalIdShape(username) ? username : '', error, switchHref: here }),
            formTarget,
          );
        if (!isNationalIdShape(username) || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
          page('missing', 400);
          return;
        }
        const result = await deps.signIn.signIn(username, password, { clientId: view.clientId, ip: ctx.ip });
        if (result.outcome === 'invalid-credentials') {
          page('invalid', 401);
          return;
        }
        if (result.outcome === 'refused') {
          page('refused', 403);
          return;
        }
        ctx.status = 303;
        ctx.redirect(await deps.interactions.finishLogin(ctx.req, ctx.res, { accountId: result.account.id, acr: LOA_1, amr: ['pwd'] }));
        return;
      }

      // consent
      ctx.status = 303;
      ctx.redirect(await deps.interactions.finishConsent(ctx.req, ctx.res));
    } catch (error) {
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
