// The account page's own sign-in: the callback from the provider, signing out, and the page after it.
//
// The account page is a first-party relying party of this provider — signed in through the provider
// itself, as its own client `account-console` (profile portal, public subject type so `sub` is the
// account UUID, redirect URI <issuer>/account/callback). Its client secret is derived from the
// key-encryption key with HMAC, so every instance computes the same one and nothing extra is stored;
// each instance (re-)registers the client idempotently on first use. It runs the authorization-code
// flow with PKCE, state and nonce through openid-client, and its back-channel calls (discovery,
// token, JWKS) go to this very instance over loopback (http://127.0.0.1:<PORT>, the issuer's Host
// header kept), so it works behind any proxy and never leaves the machine. It asks only for `openid`
// (plus `sid` in the ID token): everything it shows it reads itself, by the account id, so a console
// sign-in releases no claims and puts nothing in the citizen's data-access history.
import { randomBytes } from 'node:crypto';
import { Router } from '../../web/router.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import type { AccountFactors } from '../../accounts/second-factors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { ConsoleRelyingParty, ConsoleSession, ConsoleSessionStore } from '../account-console.ts';
import { ACCOUNT_SECTIONS, accountErrorPage, signedOutPage } from './pages.ts';
import { SESSION_COOKIE, SIGN_IN_COOKIE, frame, send, type AccountSession } from './session.ts';
import { CONSENT_ID } from './consents.ts';

/** The pages a sign-in may return to (a fixed list: the return path is never taken from the request). */
const RETURN_PATHS = new Set([
  ...Object.values(ACCOUNT_SECTIONS).map((section) => section.path),
  '/account/totp',
  '/account/recovery-codes',
  '/account/passkeys/new',
  '/account/password',
  '/account/contacts/phone',
  '/account/contacts/email',
  '/account/lock',
  '/account/approvals',
]);
const CONSENT_PAGE = new RegExp(`^/account/consents/${CONSENT_ID.source}(/withdraw)?$`);
/** An organisation's page (./organisations.ts), after the level-2 sign-in it asks for. */
const ORGANISATION_PAGE = /^\/account\/organisations\/[0-9]{10}(?:-[0-9]{3})?$/;

export interface SignInRoutesDependencies {
  readonly issuer: string;
  readonly logger: Logger;
  readonly accounts: Pick<AccountStore, 'findById'>;
  readonly factors: Pick<AccountFactors, 'factorsOf'>;
  readonly consoleSignIn: ConsoleRelyingParty;
  readonly consoleSessions: ConsoleSessionStore;
}

export function signInRoutes(deps: SignInRoutesDependencies, account: AccountSession): Router {
  const { logger, consoleSessions } = deps;
  return new Router()
    .get(
      '/account/callback',
      account.open(async (ctx, locale) => {
        const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
        const pending = await consoleSessions.takeSignIn(ctx.cookies.get(SIGN_IN_COOKIE), state);
        const page = frame(ctx, locale);
        if (!pending) {
          send(ctx, 400, accountErrorPage(page, 'signin.expired'));
          return;
        }
        if (typeof ctx.query.error === 'string') {
          const code = /^[a-z_]{1,64}$/.test(ctx.query.error) ? ctx.query.error : 'error';
          send(ctx, pending.stepUp ? 403 : 400, accountErrorPage(page, pending.stepUp ? 'signin.step_up_failed' : 'signin.failed', code));
          return;
        }
        let result;
        try {
          result = await deps.consoleSignIn.finish(new URL(ctx.originalUrl, deps.issuer), pending);
        } catch (error) {
          logger.warn({ err: error }, 'the account page could not finish a sign-in');
          send(ctx, 400, accountErrorPage(page, 'signin.failed'));
          return;
        }
        const holder = await deps.accounts.findById(result.accountId);
        if (!holder || holder.status !== 'active') {
          send(ctx, 403, accountErrorPage(page, 'signin.failed'));
          return;
        }
        // A new sign-in, a new console session id (no fixation); the one before it ends.
        await consoleSessions.destroy(ctx.cookies.get(SESSION_COOKIE));
        const session: ConsoleSession = { ...result, csrf: randomBytes(32).toString('base64url') };
        const sessionId = await consoleSessions.create(session);
        account.setCookie(ctx, SESSION_COOKIE, sessionId);
        const factors = await deps.factors.factorsOf(holder.id);
        if (pending.stepUp && !account.isFresh(session, holder, factors)) {
          send(ctx, 403, accountErrorPage(page, 'signin.step_up_failed'));
          return;
        }
        ctx.status = 303;
        ctx.redirect(RETURN_PATHS.has(pending.returnTo) || CONSENT_PAGE.test(pending.returnTo) || ORGANISATION_PAGE.test(pending.returnTo) ? pending.returnTo : '/account');
      }),
    )
    .get(
      '/account/signed-out',
      account.open((ctx, locale) => send(ctx, 200, signedOutPage({ ...frame(ctx, locale), everywhere: false }))),
    )
    .post(
      '/account/sign-out',
      account.post(async (signed) => {
        const { ctx, locale, session } = signed;
        await account.endConsole(ctx, signed.sessionId);
        let endSession: string;
        try {
          endSession = await deps.consoleSignIn.endSessionUrl(session.idToken, locale);
        } catch (error) {
          logger.error({ err: error }, 'the account page could not reach the provider to sign out of it');
          send(ctx, 200, signedOutPage({ ...frame(ctx, locale), everywhere: false }));
          return;
        }
        ctx.status = 303;
        ctx.redirect(endSession);
      }),
    );
}
