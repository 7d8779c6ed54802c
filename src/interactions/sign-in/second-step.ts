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
import { lockedMessage, otpPage, t as secondFactorText, type UnmetReason } from './second-factor-pages.ts';
import { ResponseSent, UID, signInStep, type StepDependencies } from './step.ts';

/** How long a password-verified citizen has to give the second factor. */
const SECOND_STEP_SECONDS = 600;

const secondStepKey = (uid: string) => `login-second-step:{${uid}}`;
/** An interaction whose account cannot reach level 2: the page says why before the service is told. */
const unmetKey = (uid: string) => `login-unmet:{${uid}}`;

const UNMET_DESCRIPTION: Record<UnmetReason, string> = {
  level: 'level 2 needs a level-2 account',
  second_factor: 'level 2 needs a level-2 account with a second factor',
};

function isUnmetReason(value: string | undefined): value is UnmetReason {
  return value === 'level' || value === 'second_factor';
}

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
  /** Remembers why the account falls short and shows the page that says so (GET /interaction/{uid}). */
  const refuse = async (ctx: ParameterizedContext, current: InteractionView, reason: UnmetReason) => {
    await deps.store.put(unmetKey(current.uid), reason, SECOND_STEP_SECONDS);
    ctx.status = 303;
    ctx.redirect(`/interaction/${current.uid}`);
  };
  const reasonOf = (account: Account): UnmetReason => (account.level === 2 ? 'second_factor' : 'level');
  /** Why this interaction's account cannot reach level 2, once it has been found out. */
  const unmet = async (uid: string): Promise<UnmetReason | undefined> => {
    const reason = await deps.store.get(unmetKey(uid));
    return isUnmetReason(reason) ? reason : undefined;
  };
  return {
    refuse,
    unmet,

    /** The citizen has read why: the service gets unmet_authentication_requirements at its redirect URI. */
    async giveUp(ctx: ParameterizedContext, current: InteractionView): Promise<void> {
      const reason = await unmet(current.uid);
      if (!reason) throw new InteractionExpired('no refusal to pass on');
      await deps.store.delete(unmetKey(current.uid));
      await deps.store.delete(secondStepKey(current.uid));
      ctx.status = 303;
      ctx.redirect(await deps.interactions.fail(ctx.req, ctx.res, 'unmet_authentication_requirements', UNMET_DESCRIPTION[reason]));
    },

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
        await refuse(ctx, current, reasonOf(account));
        throw new ResponseSent();
      }
      await deps.store.put(secondStepKey(current.uid), account.id, SECOND_STEP_SECONDS);
      return account.id;
    },

    /** After the password: a level-2 request goes on to the second factor, or is refused. */
    async start(ctx: ParameterizedContext, current: InteractionView, account: Account): Promise<void> {
      if (!deps.secondFactor.canReachLevel2(account)) {
        await refuse(ctx, current, reasonOf(account));
        return;
      }
      ctx.status = 303;
      await deps.store.put(secondStepKey(current.uid), account.id, SECOND_STEP_SECONDS);
      ctx.redirect(`/interaction/${current.uid}`);
    },

    async finish(uid: string): Promise<void> {
      await deps.store.delete(secondStepKey(uid));
    },
  };
}

export function secondStepRoutes(deps: SecondStepDependencies, second: SecondStep): Router {
  return new Router()
    .post(
      '/interaction/{uid}/unmet',
      signInStep(deps, 'POST', async ({ ctx, view }) => {
        if (view.prompt !== 'login') throw new InteractionExpired('not waiting for a login');
        await second.giveUp(ctx, view);
      }),
      UID,
    )
    .post(
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
