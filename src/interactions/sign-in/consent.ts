// POST /interaction/{uid}/consent gives the consent the page asked for; POST /interaction/{uid}/abort
// ends the interaction (the client learns access_denied).
import { Router } from '../../web/router.ts';
import { consentShownText } from '../pages.ts';
import { UID, signInStep, type StepDependencies } from './step.ts';

export function consentRoutes(deps: StepDependencies): Router {
  return new Router()
    .post(
      '/interaction/{uid}/consent',
      signInStep(deps, 'POST', async ({ ctx, view, locale }) => {
        ctx.status = 303;
        // The record keeps the page's words in the language the form was shown in (its hidden lang).
        const shown = { locale, text: consentShownText(locale, view.clientName, view.scopesToConsent, view.claimsToConsent, view.subjectType) };
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
