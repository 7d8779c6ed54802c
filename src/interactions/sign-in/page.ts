// GET /interaction/{uid}: the page the interaction needs — the login form (with the passkey
// alternative), the second factor, the consent question, or the way to select-account.
import { Router } from '../../web/router.ts';
import { DEVICE_COOKIE, newDeviceId, DEVICE_COOKIE_MAX_AGE_MS } from '../../accounts/devices.ts';
import type { PasskeySignIn } from '../../accounts/passkey-sign-in.ts';
import { isNationalIdShape } from '../../registry/national-id.ts';
import { consentPage, errorPage, loginPage } from '../pages.ts';
import { otpPage, passkeySection, unmetPage } from './second-factor-pages.ts';
import { selectAccountPath } from './select-account.ts';
import { representationPath } from './representation.ts';
import type { SecondStep } from './second-step.ts';
import { consentRequestOf, type ConsentDependencies } from './consent.ts';
import { UID, signInStep } from './step.ts';

export interface InteractionPageDependencies extends ConsentDependencies {
  readonly passkeys: Pick<PasskeySignIn, 'optionsFor'>;
}

/** The passkey form under the password form, with a fresh single-use challenge. */
export async function passkeyAlternative(passkeys: Pick<PasskeySignIn, 'optionsFor'>, locale: Parameters<typeof passkeySection>[0], uid: string) {
  return passkeySection(locale, uid, await passkeys.optionsFor(uid));
}

export function interactionPageRoutes(deps: InteractionPageDependencies, second: SecondStep): Router {
  return new Router().get(
    '/interaction/{uid}',
    signInStep(deps, 'GET', async ({ ctx, view, locale, here, send }) => {
      if (!ctx.cookies.get(DEVICE_COOKIE)) {
        // Marks this browser, so a sign-in from another one can be told to the citizen.
        deps.cookies.set(ctx, DEVICE_COOKIE, newDeviceId(), { maxAge: DEVICE_COOKIE_MAX_AGE_MS });
      }
      const unmet = view.prompt === 'login' ? await second.unmet(view.uid) : undefined;
      if (unmet) {
        send(200, unmetPage({ locale, uid: view.uid, clientName: view.clientName, reason: unmet, switchHref: here }));
      } else if (view.prompt === 'login' && (await second.pending(ctx, view))) {
        send(200, otpPage({ locale, uid: view.uid, clientName: view.clientName, switchHref: here }));
      } else if (view.prompt === 'login') {
        const hint = view.loginHint && isNationalIdShape(view.loginHint) ? view.loginHint : '';
        send(
          200,
          loginPage({ locale, uid: view.uid, clientName: view.clientName, username: hint, switchHref: here, alternatives: await passkeyAlternative(deps.passkeys, locale, view.uid) }),
        );
      } else if (view.prompt === 'consent') {
        send(200, consentPage({ locale, uid: view.uid, clientName: view.clientName, ...(await consentRequestOf(deps, view)), switchHref: here }));
      } else if (view.prompt === 'representation') {
        // The chooser of acting for others (./representation.ts).
        ctx.status = 303;
        ctx.redirect(representationPath(view.uid));
      } else if (view.prompt === 'select_account') {
        // Its own page and forms (./select-account.ts).
        ctx.status = 303;
        ctx.redirect(selectAccountPath(view.uid));
      } else {
        send(400, errorPage(locale, { code: 'unsupported_prompt' }));
      }
    }),
    UID,
  );
}
