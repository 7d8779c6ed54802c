// POST /interaction/{uid}/login: the ID number and password; a level-2 request goes on to the second
// factor, a level-1 request finishes the login.
import { Router } from '../../web/router.ts';
import type { PasswordSignIn } from '../../accounts/sign-in.ts';
import { MAX_PASSWORD_LENGTH } from '../../accounts/sign-in.ts';
import type { BruteForceGuard } from '../../accounts/brute-force.ts';
import type { PasskeySignIn } from '../../accounts/passkey-sign-in.ts';
import { DEVICE_COOKIE, type DeviceNotices } from '../../accounts/devices.ts';
import { LOA_1, LOA_2 } from '../../oidc/consent/assurance.ts';
import { InteractionExpired } from '../../oidc/consent/interactions.ts';
import { isNationalIdShape } from '../../registry/national-id.ts';
import { loginPage } from '../pages.ts';
import { lockedMessage, t as secondFactorText } from './second-factor-pages.ts';
import { passkeyAlternative } from './page.ts';
import type { SecondStep } from './second-step.ts';
import { UID, signInStep, type StepDependencies } from './step.ts';

export interface LoginDependencies extends StepDependencies {
  readonly signIn: Pick<PasswordSignIn, 'signIn'>;
  readonly bruteForce: Pick<BruteForceGuard, 'allowAddress'>;
  readonly passkeys: Pick<PasskeySignIn, 'optionsFor'>;
  readonly devices: DeviceNotices;
}

export function loginRoutes(deps: LoginDependencies, second: SecondStep): Router {
  return new Router().post(
    '/interaction/{uid}/login',
    signInStep(deps, 'POST', async ({ ctx, view, form, locale, here, send }) => {
      if (view.prompt !== 'login') throw new InteractionExpired('not waiting for a login');
      // Surrounding spaces are forgiven; anything else but 12 digits is refused, not repaired.
      const username = (form.get('username') ?? '').trim();
      const password = form.get('password') ?? '';
      const again = async (status: number, message: { error: 'invalid' | 'missing' | 'refused' } | { alert: string }) =>
        send(
          status,
          loginPage({
            locale,
            uid: view.uid,
            clientName: view.clientName,
            username: isNationalIdShape(username) ? username : '',
            ...message,
            switchHref: here,
            alternatives: await passkeyAlternative(deps.passkeys, locale, view.uid),
          }),
        );
      if (!(await deps.bruteForce.allowAddress(ctx.ip))) {
        await again(429, { alert: secondFactorText(locale, 'address.limited') });
        return;
      }
      if (!isNationalIdShape(username) || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
        await again(400, { error: 'missing' });
        return;
      }
      const result = await deps.signIn.signIn(username, password, { clientId: view.clientId, ip: ctx.ip });
      if (result.outcome === 'temporarily-locked') {
        await again(429, { alert: lockedMessage(locale, result.until, 'password') });
        return;
      }
      if (result.outcome === 'invalid-credentials') {
        await again(401, { error: 'invalid' });
        return;
      }
      if (result.outcome === 'refused') {
        await again(403, { error: 'refused' });
        return;
      }
      if (view.requiredAcr === LOA_2) {
        await second.start(ctx, view, result.account);
        return;
      }
      ctx.status = 303;
      await deps.devices.signedIn(result.account, ctx.cookies.get(DEVICE_COOKIE));
      ctx.redirect(await deps.interactions.finishLogin(ctx.req, ctx.res, { accountId: result.account.id, acr: LOA_1, amr: ['pwd'] }));
    }),
    UID,
  );
}
