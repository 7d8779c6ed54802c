// POST /interaction/{uid}/consent gives the consent the page asked for; POST /interaction/{uid}/abort
// ends the interaction (the client learns access_denied).
import { Router } from '../../web/router.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import type { InteractionView } from '../../oidc/consent/interactions.ts';
import { consentShownText, withheldItems, type ConsentRequest } from '../pages.ts';
import { UID, signInStep, type StepDependencies } from './step.ts';

export interface ConsentDependencies extends StepDependencies {
  readonly accounts: Pick<AccountStore, 'findById'>;
}

/** What the consent page asks: the interaction's scopes and claims, with the citizen's contacts. */
export async function consentRequestOf(deps: ConsentDependencies, view: InteractionView): Promise<ConsentRequest> {
  const account = view.accountId ? await deps.accounts.findById(view.accountId) : undefined;
  return {
    scopes: view.scopesToConsent,
    claims: view.claimsToConsent,
    subjectType: view.subjectType,
    contacts: { phoneNumber: account?.phoneNumber ?? null, email: account?.email ?? null },
  };
}

export function consentRoutes(deps: ConsentDependencies): Router {
  return new Router()
    .post(
      '/interaction/{uid}/consent',
      signInStep(deps, 'POST', async ({ ctx, view, locale }) => {
        ctx.status = 303;
        // The record keeps the page's words in the language the form was shown in (its hidden lang).
        const request = await consentRequestOf(deps, view);
        const shown = { locale, text: consentShownText(locale, view.clientName, request), withheld: withheldItems(request) };
        ctx.redirect(await deps.interactions.finishConsent(ctx.req, ctx.res, shown));
      }),
      UID,
    )
    .post(
      '/interaction/{uid}/abort',
      signInStep(deps, 'POST', async ({ ctx }) => {
        ctx.status = 303;
        ctx.redirect(await deps.interactions.abort(ctx.req, ctx.res));
      }),
      UID,
    );
}
