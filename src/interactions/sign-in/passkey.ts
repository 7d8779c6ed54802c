// POST /interaction/{uid}/passkey: a passkey with user verification instead of the password — two
// factors at once (something held plus a PIN or biometric).
import { Router } from '../../web/router.ts';
import type { BruteForceGuard } from '../../accounts/brute-force.ts';
import type { PasskeySignIn } from '../../accounts/passkey-sign-in.ts';
import { DEVICE_COOKIE, type DeviceNotices } from '../../accounts/devices.ts';
import { LOA_1, LOA_2 } from '../../oidc/consent/assurance.ts';
import { InteractionExpired } from '../../oidc/consent/interactions.ts';
import { translate } from '../i18n.ts';
import { loginPage } from '../pages.ts';
import { t as secondFactorText } from './second-factor-pages.ts';
import { passkeyAlternative } from './page.ts';
import type { SecondStep } from './second-step.ts';
import { UID, signInStep, type StepDependencies } from './step.ts';

export interface PasskeyDependencies extends StepDependencies {
  readonly passkeys: Pick<PasskeySignIn, 'optionsFor' | 'signIn'>;
  readonly bruteForce: Pick<BruteForceGuard, 'allowAddress'>;
  readonly devices: DeviceNotices;
}

export function passkeyRoutes(deps: PasskeyDependencies, second: Pick<SecondStep, 'refuse'>): Router {
  return new Router().post(
    '/interaction/{uid}/passkey',
    signInStep(deps, 'POST', async ({ ctx, view, form, locale, here, send }) => {
      if (view.prompt !== 'login') throw new InteractionExpired('not waiting for a login');
      const refuse = async (status: number, alert: string) =>
        send(
          status,
          loginPage({ locale, uid: view.uid, clientName: view.clientName, username: '', alert, switchHref: here, alternatives: await passkeyAlternative(deps.passkeys, locale, view.uid) }),
        );
      if (!(await deps.bruteForce.allowAddress(ctx.ip))) {
        await refuse(429, secondFactorText(locale, 'address.limited'));
        return;
      }
      const result = await deps.passkeys.signIn(view.uid, form.get('credential') ?? '', { clientId: view.clientId, ip: ctx.ip });
      if (result.outcome === 'not-verified') {
        await refuse(401, secondFactorText(locale, 'passkey.invalid'));
        return;
      }
      if (result.outcome === 'refused') {
        await refuse(403, translate(locale, 'login.refused'));
        return;
      }
      const level2 = result.account.level === 2;
      if (view.requiredAcr === LOA_2 && !level2) {
        await second.refuse(ctx, view, 'level');
        return;
      }
      ctx.status = 303;
      await deps.devices.signedIn(result.account, ctx.cookies.get(DEVICE_COOKIE));
      ctx.redirect(await deps.interactions.finishLogin(ctx.req, ctx.res, { accountId: result.account.id, acr: level2 ? LOA_2 : LOA_1, amr: ['hwk', 'mfa'] }));
    }),
    UID,
  );
}
