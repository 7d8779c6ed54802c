// HTTP for prompt=select_account. The sign-in page (./page.ts) sends an interaction that asks which
// account to use here:
//   GET  /interaction/<uid>/select-account           the question
//   POST /interaction/<uid>/select-account/continue  go on as the signed-in citizen
//   POST /interaction/<uid>/select-account/another   end that session, then the login page
// Like the other sign-in forms these rely on the interaction cookie (SameSite=Lax), which a form
// posted from another site does not carry.
import type { ParameterizedContext } from 'koa';
import { Router } from '../../web/router.ts';
import { LANGUAGE_COOKIE, type PublicCookies } from '../../web/cookies.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import type { RegistryGateway } from '../../registry/gateway.ts';
import type { AccountSelection, AccountChoice } from '../../oidc/sessions/account-selection.ts';
import { InteractionExpired } from '../../oidc/consent/interactions.ts';
import { RegistryUnavailable } from '../../registry/gateway.ts';
import { FormTooLarge, readForm } from '../../web/forms.ts';
import { isLocale, type Locale, localeOf, switchHref } from '../../web/i18n.ts';
import { translate } from '../i18n.ts';
import { errorPage } from '../pages.ts';
import { selectAccountPage } from './select-account-pages.ts';
import { contentSecurityPolicy } from '../../web/security.ts';

/** An interaction's uid in the page's paths. */
const UID = { params: { uid: /[A-Za-z0-9_-]{1,64}/ } };

/** Where the select-account page of an interaction is (./page.ts sends the browser there). */
export const selectAccountPath = (uid: string): string => `/interaction/${uid}/select-account`;

function sendPage(ctx: ParameterizedContext, status: number, body: string, formTarget?: string): void {
  ctx.status = status;
  ctx.type = 'html';
  // The forms' redirects end at the client's redirect URI: form-action must allow its origin.
  ctx.set('Content-Security-Policy', contentSecurityPolicy(formTarget ? [formTarget] : []));
  ctx.body = body;
}

/** What the select-account page uses. */
export interface SelectAccountRoutesDependencies {
  readonly accountSelection: AccountSelection;
  readonly accounts: Pick<AccountStore, 'findById'>;
  readonly registryGateway: Pick<RegistryGateway, 'findByNationalId'>;
  /** The client's name, shown in the question (its id when it has none); undefined once it is gone. */
  clientNameOf(clientId: string): Promise<string | undefined>;
  readonly cookies: PublicCookies;
}

export function selectAccountRoutes(deps: SelectAccountRoutesDependencies): Router {
  const selection = deps.accountSelection;

  /** The choice's citizen, if their account may still be used. */
  const activeAccountOf = async (choice: AccountChoice) => {
    const account = await deps.accounts.findById(choice.accountId);
    return account?.status === 'active' ? account : undefined;
  };

  const fullNameOf = async (nationalId: string): Promise<string | undefined> => {
    try {
      return (await deps.registryGateway.findByNationalId(nationalId))?.fullName;
    } catch (error) {
      // The page still works without the name: the masked number tells the citizen who it is.
      if (error instanceof RegistryUnavailable) return undefined;
      throw error;
    }
  };

  /** The question (no action), or the answer a form gives. */
  const handle = async (ctx: ParameterizedContext, action: 'continue' | 'another' | undefined) => {
    let locale: Locale = localeOf(ctx);
    try {
      const form = action === undefined ? new URLSearchParams() : await readForm(ctx);
      const formLang = form.get('lang');
      if (isLocale(formLang)) locale = formLang;
      if (typeof ctx.query.lang === 'string' && isLocale(ctx.query.lang)) {
        deps.cookies.set(ctx, LANGUAGE_COOKIE, ctx.query.lang);
      }

      const choice = await selection.choice(ctx.req, ctx.res);
      if (!ctx.query.lang && !ctx.cookies.get('lang') && !formLang) locale = localeOf(ctx, choice.uiLocales);
      const account = await activeAccountOf(choice);

      // A locked or removed account cannot go on: its session ends as if someone else was chosen.
      if (action === 'another' || !account) {
        ctx.status = 303;
        ctx.redirect(await selection.useAnotherAccount(ctx.req, ctx.res));
        return;
      }
      if (action === 'continue') {
        ctx.status = 303;
        ctx.redirect(await selection.continueAsCurrent(ctx.req, ctx.res));
        return;
      }

      const clientName = await deps.clientNameOf(choice.clientId);
      if (clientName === undefined) throw new InteractionExpired('the client of this interaction is gone');
      sendPage(
        ctx,
        200,
        selectAccountPage({
          locale,
          uid: choice.uid,
          clientName,
          fullName: await fullNameOf(account.nationalId),
          nationalId: account.nationalId,
          switchHref: switchHref(selectAccountPath(choice.uid), locale),
        }),
        URL.canParse(choice.redirectUri) ? new URL(choice.redirectUri).origin : undefined,
      );
    } catch (error) {
      if (error instanceof InteractionExpired) {
        sendPage(ctx, 400, errorPage(locale, { lead: translate(locale, 'error.expired'), code: 'interaction_expired' }));
        return;
      }
      if (error instanceof FormTooLarge) {
        sendPage(ctx, 413, errorPage(locale, { lead: translate(locale, 'error.too_large'), code: 'request_too_large' }));
        return;
      }
      throw error;
    }
  };

  return new Router()
    .get('/interaction/{uid}/select-account', (ctx) => handle(ctx, undefined), UID)
    .post('/interaction/{uid}/select-account/continue', (ctx) => handle(ctx, 'continue'), UID)
    .post('/interaction/{uid}/select-account/another', (ctx) => handle(ctx, 'another'), UID);
}
