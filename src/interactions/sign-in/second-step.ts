// The second factor of a level-2 sign-in: the page asks for it after the password (or, for a step-up,
// instead of the password), and POST /interaction/{uid}/otp checks the code.
import type { ParameterizedContext } from 'koa';
import { Router } from '../../web/router.ts';
import type { EphemeralStore } from '../../storage/ephemeral-store.ts';
import type { Account } from '../../accounts/accounts.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import type { SecondFactorCheck } from '../../accounts/second-factors.ts';
import type { BruteForceGuard } from '../../accounts/brute-force.ts';
import { DEVICE_COOKIE, type DeviceNotices } from '../../accounts/devices.ts';
import { LOA_2 } from '../../oidc/consent/assurance.ts';
import { InteractionExpired, type InteractionView } from '../../oidc/consent/interactions.ts';
import { lockedMessage, otpPage, t as secondFactorText } from './second-factor-pages.ts';
import { ResponseSent, UID, signInStep, type StepDependencies } from './step.ts';

/** How long a password-verified citizen has to give the second factor. */
const SECOND_STEP_SECONDS = 600;

const secondStepKey = (uid: string) => `login-second-step:{${uid}}`;

export interface SecondStepDependencies extends StepDependencies {
  readonly accounts: Pick<AccountStore, 'findById'>;
  readonly secondFactor: SecondFactorCheck;
  readonly bruteForce: Pick<BruteForceGuard, 'allowAddress'>;
  /** Holds "password done, second factor pending" per interaction. */
  readonly store: EphemeralStore;
  readonly devices: DeviceNotices;
}

export type SecondStep = ReturnType<typeof secondStep>;

/** Who owes a second factor in an interaction, and the start of that step. */
export function secondStep(deps: SecondStepDependencies) {
  return {
    /** The account whose password was verified in this interaction and who owes a second factor. */
    async pending(ctx: ParameterizedContext, current: InteractionView): Promise<string | undefined> {
      const pending = await deps.store.get(secondStepKey(current.uid));
      if (pending) return pending;
      // Step-up: the session rests on the password alone and the request needs level 2 — only
      // the second factor is asked, not the password again.
      const stepUp =
        current.accountId !== undefined &&
        current.requiredAcr === LOA_2 &&
        current.reasons.length > 0 &&
        current.reasons.every((reason) => reason === 'acr_level_too_low');
      if (!stepUp) return undefined;
      const account = await deps.accounts.findById(current.accountId);
      if (!account || account.status !== 'active') return undefined;
      if (!deps.secondFactor.canReachLevel2(account)) {
        ctx.status = 303;
        ctx.redirect(await deps.interactions.fail(ctx.req, ctx.res, 'unmet_authentication_requirements', 'level 2 needs a level-2 account with a second factor'));
        throw new ResponseSent();
      }
      await deps.store.put(secondStepKey(current.uid), account.id, SECOND_STEP_SECONDS);
      return account.id;
    },

    /** After the password: a level-2 request goes on to the second factor, or is refused. */
    async start(ctx: ParameterizedContext, current: InteractionView, account: Account): Promise<void> {
      ctx.status = 303;
      if (!deps.secondFactor.canReachLevel2(account)) {
        ctx.redirect(await deps.interactions.fail(ctx.req, ctx.res, 'unmet_authentication_requirements', 'level 2 needs a level-2 account with a second factor'));
        return;
      }
      await deps.store.put(secondStepKey(current.uid), account.id, SECOND_STEP_SECONDS);
      ctx.redirect(`/interaction/${current.uid}`);
    },

    async finish(uid: string): Promise<void> {
      await deps.store.delete(secondStepKey(uid));
    },
  };
}

export function secondStepRoutes(deps: SecondStepDependencies, second: SecondStep): Router {
  return new Router().post(
    '/interaction/{uid}/otp',
    signInStep(deps, 'POST', async ({ ctx, view, form, locale, here, send }) => {
      const pending = await second.pending(ctx, view);
      const account = pending && (await deps.accounts.findById(pending));
      if (view.prompt !== 'login' || !account || account.status !== 'active') throw new InteractionExpired('no second factor is being asked');
      if (!(await deps.bruteForce.allowAddress(ctx.ip))) {
        send(429, otpPage({ locale, uid: view.uid, clientName: view.clientName, alert: secondFactorText(locale, 'address.limited'), switchHref: here }));
        return;
      }
      const verdict = await deps.secondFactor.verify(account, (form.get('otp') ?? '').slice(0, 64), { ip: ctx.ip });
      if (verdict.outcome !== 'valid') {
        const alert = verdict.outcome === 'locked' ? lockedMessage(locale, verdict.until, 'otp') : secondFactorText(locale, 'otp.invalid');
        send(verdict.outcome === 'locked' ? 429 : 401, otpPage({ locale, uid: view.uid, clientName: view.clientName, alert, switchHref: here }));
        return;
      }
      await second.finish(view.uid);
      await deps.devices.signedIn(account, ctx.cookies.get(DEVICE_COOKIE));
      ctx.status = 303;
      ctx.redirect(
        await deps.interactions.finishLogin(ctx.req, ctx.res, {
          accountId: account.id,
          acr: LOA_2,
          amr: ['pwd', ...verdict.amr, 'mfa'],
        }),
      );
    }),
    UID,
  );
}
