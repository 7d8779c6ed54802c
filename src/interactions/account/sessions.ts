// Taking access away from the account page: ending one sign-in session, ending them all, and "lock my
// account". None needs a fresh sign-in — they only take access away.
import { Router } from '../../web/router.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import { lockOwnAccount } from '../../accounts/self-service.ts';
import type { AccountSessions } from '../../oidc/sessions/account-sessions.ts';
import type { SessionTerminator } from '../../oidc/sessions/sessions.ts';
import { ACCOUNT_SECTIONS, signedOutPage } from './pages.ts';
import { lockPage, lockedPage } from './sessions-pages.ts';
import { frame, send, type AccountSession } from './session.ts';

export interface SessionRoutesDependencies {
  readonly accounts: Pick<AccountStore, 'lock'>;
  readonly accountSessions: AccountSessions;
  readonly sessions: Pick<SessionTerminator, 'endAllAccess'>;
}

export function sessionRoutes(deps: SessionRoutesDependencies, account: AccountSession): Router {
  return new Router()
    .post(
      '/account/sessions/end',
      account.post(async (signed) => {
        const { ctx, locale, account: holder } = signed;
        const target = signed.form.get('session') ?? '';
        const here = await account.providerSessionOf(signed.session);
        if (!/^[A-Za-z0-9_-]{1,128}$/.test(target) || !(await deps.accountSessions.end(holder.id, target))) {
          await account.flashAndReturn(signed, 'notice.session_ended', ACCOUNT_SECTIONS.sessions.path);
          return;
        }
        await account.audit(signed, 'session.ended', { current: here?.id === target });
        await account.notify(holder, 'session.ended');
        if (here?.id === target) {
          await account.endConsole(ctx, signed.sessionId);
          send(ctx, 200, signedOutPage({ ...frame(ctx, locale), everywhere: false }));
          return;
        }
        await account.flashAndReturn(signed, 'notice.session_ended', ACCOUNT_SECTIONS.sessions.path);
      }),
    )
    .post(
      '/account/sessions/end-all',
      account.post(async (signed) => {
        const { ctx, locale, account: holder } = signed;
        const ended = await deps.sessions.endAllAccess(holder.id);
        await account.endConsole(ctx, signed.sessionId);
        await account.audit(signed, 'sessions.ended', ended);
        await account.notify(holder, 'sessions.ended');
        send(ctx, 200, signedOutPage({ ...frame(ctx, locale), everywhere: true }));
      }),
    )
    .get(
      '/account/lock',
      account.get((signed) => {
        send(signed.ctx, 200, lockPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf }));
        return Promise.resolve();
      }),
    )
    .post(
      '/account/lock',
      account.post(async (signed) => {
        const { ctx, locale, account: holder } = signed;
        if (await lockOwnAccount(deps.accounts, holder.id, 'holder request on the account page')) {
          const ended = await deps.sessions.endAllAccess(holder.id);
          await account.audit(signed, 'account.locked', { by: 'holder', ...ended });
          await account.notify(holder, 'account.locked');
        }
        await account.endConsole(ctx, signed.sessionId);
        send(ctx, 200, lockedPage(frame(ctx, locale)));
      }),
    );
}
