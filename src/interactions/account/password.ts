// Changing the password on the account page: the current one (brute-force guarded), the policy against
// the registry's birth date, and every other session and token ended.
import { Router } from '../../web/router.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import type { BruteForceGuard } from '../../accounts/brute-force.ts';
import { passwordProblem } from '../../accounts/password-policy.ts';
import { HashingOverloaded, type PasswordHasher } from '../../accounts/passwords.ts';
import { MAX_PASSWORD_LENGTH } from '../../accounts/sign-in.ts';
import type { AccountSessions } from '../../oidc/sessions/account-sessions.ts';
import { accountErrorPage } from './pages.ts';
import { passwordPage, type PasswordError } from './password-page.ts';
import { frame, send, type AccountSession } from './session.ts';

export interface PasswordRoutesDependencies {
  readonly accounts: Pick<AccountStore, 'updatePasswordHash'>;
  readonly passwords: Pick<PasswordHasher, 'verify' | 'hash'>;
  readonly bruteForce: Pick<BruteForceGuard, 'lockOf' | 'recordFailure' | 'recordSuccess'>;
  readonly accountSessions: Pick<AccountSessions, 'endAllBut'>;
}

export function passwordRoutes(deps: PasswordRoutesDependencies, account: AccountSession): Router {
  return new Router()
    .get(
      '/account/password',
      account.get(
        (signed) => {
          send(signed.ctx, 200, passwordPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf }));
          return Promise.resolve();
        },
        { fresh: true },
      ),
    )
    .post(
      '/account/password',
      account.post(
        async (signed) => {
          const { ctx, locale, account: holder, form } = signed;
          const fail = (error: PasswordError, status: number) => send(ctx, status, passwordPage({ ...frame(ctx, locale), csrf: signed.session.csrf, error }));
          const current = form.get('current_password') ?? '';
          const proposed = form.get('new_password') ?? '';
          const confirmation = form.get('confirm_password') ?? '';
          const target = { kind: 'password' as const, nationalId: holder.nationalId };
          if ((await deps.bruteForce.lockOf(target)).locked) {
            fail('password.locked', 429);
            return;
          }
          let valid: boolean;
          try {
            valid = current.length > 0 && current.length <= MAX_PASSWORD_LENGTH && (await deps.passwords.verify(holder.passwordHash, current));
          } catch (error) {
            if (!(error instanceof HashingOverloaded)) throw error;
            fail('password.busy', 503);
            return;
          }
          if (!valid) {
            await deps.bruteForce.recordFailure(target, { ip: ctx.ip, accountId: holder.id });
            fail('password.wrong_current', 400);
            return;
          }
          await deps.bruteForce.recordSuccess(target);
          const record = await account.registryRecordOf(holder);
          if (record === 'unavailable' || record === undefined) {
            send(ctx, 503, accountErrorPage(frame(ctx, locale), 'registry.unavailable'));
            return;
          }
          const problem = passwordProblem(proposed, { nationalId: holder.nationalId, birthDate: record.birthDate });
          if (problem) {
            fail(`password.${problem}`, 400);
            return;
          }
          if (proposed === current) {
            fail('password.same', 400);
            return;
          }
          if (proposed !== confirmation) {
            fail('password.mismatch', 400);
            return;
          }
          let hash: string;
          try {
            hash = await deps.passwords.hash(proposed);
          } catch (error) {
            if (!(error instanceof HashingOverloaded)) throw error;
            fail('password.busy', 503);
            return;
          }
          await deps.accounts.updatePasswordHash(holder.id, hash);
          // Whoever else knew the old password loses every session and token; this browser stays signed in.
          const here = await account.providerSessionOf(signed.session);
          const ended = await deps.accountSessions.endAllBut(holder.id, here?.id);
          await account.audit(signed, 'password.changed', { sessionsEnded: ended });
          await account.notify(holder, 'password.changed');
          await account.flashAndReturn(signed, 'notice.password_changed');
        },
        { fresh: '/account/password' },
      ),
    );
}
