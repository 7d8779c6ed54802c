// The account page's signed-in requests: the console session (cookie → Redis), the CSRF token of every
// form, the freshness a change needs, and the tools every page group shares (audit, notices, flash).
//
// The console session is a random id in an HttpOnly, SameSite=Lax cookie (path /account), mapped in
// the shared ephemeral store (Redis) to {accountId, acr, amr, authTime, sid, idToken, csrf} with a
// 15-minute idle timeout. It lives only as long as the provider session that issued it (its `sid`):
// ending that session anywhere ends the console too. Every form carries the session's CSRF token.
//
// Changes to factors, contacts or the password need a recent sign-in: no older than 5 minutes, and
// for a level-2 account that has a second factor, at level 2 (urn:vn:eid:loa:2). Otherwise the
// console sends the browser to a new authorization request with max_age=300 (and
// acr_values=urn:vn:eid:loa:2), and back to the page the change started from; a sign-in that comes
// back still not good enough gets an explanation, never another redirect (no loops). A level-2
// account without any second factor may add its first one after a fresh password sign-in — nothing
// stronger exists for it yet. Ending sessions and locking the account need no fresh sign-in: they
// only take access away. Every change is audited and notified to every verified contact.
import type { ParameterizedContext } from 'koa';
import { FormTooLarge, readForm } from '../../web/forms.ts';
import type { RouteHandler, RouteParams } from '../../web/router.ts';
import { LANGUAGE_COOKIE, type PublicCookies } from '../../web/cookies.ts';
import { sameSecret } from '../../web/first-party-sign-in.ts';
import type { Account } from '../../accounts/accounts.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import type { AuditEventType, AuditLog } from '../../audit/audit-log.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Notifier } from '../../accounts/notifier.ts';
import { hasStrongSecondFactor, type AccountFactors, type SecondFactors } from '../../accounts/second-factors.ts';
import { notifyContacts } from '../../accounts/self-service.ts';
import type { AccountSessions } from '../../oidc/sessions/account-sessions.ts';
import { RegistryUnavailable, type RegistryGateway } from '../../registry/gateway.ts';
import type { RegistryRecord } from '../../registry/registry.ts';
import {
  CONSOLE_CLIENT_ID,
  FRESH_SIGN_IN_SECONDS,
  LOA_2,
  SIGN_IN_COOKIE_MAX_AGE_MS,
  type ConsoleRelyingParty,
  type ConsoleSession,
  type ConsoleSessionStore,
} from '../account-console.ts';
import { type Locale, isLocale, localeOf, switchHref } from '../../web/i18n.ts';
import { accountErrorPage, securityNotice, type AccountChange, type AccountMessageKey } from './pages.ts';
import type { ApprovalMessageKey } from './approvals-pages.ts';

export const SESSION_COOKIE = 'account_session';
export const SIGN_IN_COOKIE = 'account_signin';

// AuditEventType (src/audit/audit-log.ts) does not name self-service changes yet; the event is stored
// like any other (the column is text). Drop the widening once the union lists 'account.changed'.
const ACCOUNT_CHANGED: AuditEventType = 'account.changed';

/** What every account page group shares. */
export interface AccountSessionDependencies {
  readonly logger: Logger;
  readonly audit: AuditLog;
  readonly notifier: Notifier;
  readonly accounts: Pick<AccountStore, 'findById'>;
  readonly factors: Pick<AccountFactors, 'factorsOf'>;
  readonly registryGateway: Pick<RegistryGateway, 'findByNationalId'>;
  /** The citizen's sign-in sessions: the console lives only while its own does. */
  readonly accountSessions: AccountSessions;
  readonly consoleSignIn: ConsoleRelyingParty;
  readonly consoleSessions: ConsoleSessionStore;
  readonly cookies: PublicCookies;
}

/** One request to a signed-in page: who, how, and where the page's words and forms come from. */
export interface Signed {
  readonly ctx: ParameterizedContext;
  readonly locale: Locale;
  readonly form: URLSearchParams;
  readonly sessionId: string;
  session: ConsoleSession;
  readonly account: Account;
  readonly factors: SecondFactors;
}

/** A signed-in page's handler (the route's parameters, e.g. a consent record's id, beside it). */
export type SignedHandler = (signed: Signed, params: RouteParams) => Promise<void>;

export function send(ctx: ParameterizedContext, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

export const frame = (ctx: ParameterizedContext, locale: Locale) => ({ locale, switchHref: switchHref(ctx.path, locale) });

/** The sign-in, session and change tools of the account page, built once per app. */
export type AccountSession = ReturnType<typeof accountSession>;

export function accountSession(deps: AccountSessionDependencies) {
  const { logger, consoleSessions } = deps;
  /** The console's cookies go back to /account only. */
  const setCookie = (ctx: ParameterizedContext, name: string, value: string | null, maxAge?: number) =>
    deps.cookies.set(ctx, name, value, { path: '/account', ...(maxAge !== undefined && { maxAge }) });

  /** ?lang= sets the same cookie as the sign-in pages, so the choice sticks across the whole service. */
  const localeFor = (ctx: ParameterizedContext): Locale => {
    const queryLang = typeof ctx.query.lang === 'string' && isLocale(ctx.query.lang) ? ctx.query.lang : undefined;
    if (queryLang) deps.cookies.set(ctx, LANGUAGE_COOKIE, queryLang);
    return localeOf(ctx);
  };

  /** Starts a sign-in at the provider and sends the browser there. */
  const startSignIn = async (ctx: ParameterizedContext, locale: Locale, options: { returnTo: string; stepUp: boolean; acrValues?: string }) => {
    let started;
    try {
      started = await deps.consoleSignIn.start({ ...options, locale });
    } catch (error) {
      // Registration or discovery over loopback failed (the database, or this instance's own port).
      logger.error({ err: error }, 'the account page could not start a sign-in');
      send(ctx, 503, accountErrorPage(frame(ctx, locale), 'signin.failed'));
      return;
    }
    const { pending, url } = started;
    const binding = await consoleSessions.rememberSignIn(ctx.cookies.get(SIGN_IN_COOKIE), pending);
    setCookie(ctx, SIGN_IN_COOKIE, binding, SIGN_IN_COOKIE_MAX_AGE_MS);
    ctx.status = 303;
    ctx.redirect(url);
  };

  /** True when the session may make changes now (see the note at the top). */
  const isFresh = (session: Pick<ConsoleSession, 'acr' | 'authTime'>, account: Account, factors: SecondFactors) =>
    Date.now() / 1000 - session.authTime <= FRESH_SIGN_IN_SECONDS &&
    (account.level !== 2 || !hasStrongSecondFactor(factors) || session.acr === LOA_2);

  /** Sends the browser to sign in again (step-up) unless fresh; true when the change may go on. */
  const requireFresh = async (signed: Signed, returnTo: string): Promise<boolean> => {
    if (isFresh(signed.session, signed.account, signed.factors)) return true;
    const levelTwo = signed.account.level === 2 && hasStrongSecondFactor(signed.factors);
    await startSignIn(signed.ctx, signed.locale, { returnTo, stepUp: true, ...(levelTwo && { acrValues: LOA_2 }) });
    return false;
  };

  const audit = (signed: Signed, change: AccountChange, data: Record<string, unknown> = {}) =>
    deps.audit.record({
      type: change === 'account.locked' ? 'account.locked' : ACCOUNT_CHANGED,
      actor: signed.account.id,
      accountId: signed.account.id,
      clientId: CONSOLE_CLIENT_ID,
      data: { change, via: 'account page', ip: signed.ctx.ip, ...data },
    });

  /** Notifies the verified contacts (as they were before the change, plus `extra`); never fails the change. */
  const notify = async (
    account: Pick<Account, 'phoneNumber' | 'phoneNumberVerified' | 'email' | 'emailVerified'>,
    change: AccountChange,
    extra: Parameters<typeof notifyContacts>[3] = [],
  ) => {
    try {
      await notifyContacts(deps.notifier, account, securityNotice(change, new Date()), extra);
    } catch (error) {
      logger.error({ err: error, change }, 'could not notify the contacts of an account change');
    }
  };

  const saveSession = (sessionId: string, session: ConsoleSession) => consoleSessions.save(sessionId, session);

  /** Back to a page (the overview by default) that shows `notice` once. */
  const flashAndReturn = async (signed: Signed, notice: AccountMessageKey | ApprovalMessageKey, to = '/account') => {
    signed.session = { ...signed.session, flash: notice };
    await saveSession(signed.sessionId, signed.session);
    signed.ctx.status = 303;
    signed.ctx.redirect(to);
  };

  const endConsole = async (ctx: ParameterizedContext, sessionId: string | undefined) => {
    await consoleSessions.destroy(sessionId);
    setCookie(ctx, SESSION_COOKIE, null);
  };

  /** The provider session this console session came from, if it still lives. */
  const providerSessionOf = async (session: ConsoleSession) =>
    session.sid === undefined ? undefined : deps.accountSessions.findByClientSid(session.accountId, CONSOLE_CLIENT_ID, session.sid);

  const registryRecordOf = async (account: Account): Promise<RegistryRecord | 'unavailable' | undefined> => {
    try {
      return await deps.registryGateway.findByNationalId(account.nationalId);
    } catch (error) {
      if (!(error instanceof RegistryUnavailable)) throw error;
      logger.warn({ err: error }, 'registry unavailable: the account page shows no registry data');
      return 'unavailable';
    }
  };

  /** A page anyone may see (the callback, "signed out"), in the language the request asks for. */
  const open =
    (handler: (ctx: ParameterizedContext, locale: Locale) => Promise<void> | void): RouteHandler =>
    async (ctx) => {
      await handler(ctx, localeFor(ctx));
    };

  /**
   * A signed-in page: no session (or a dead one) starts a sign-in for a GET and goes back to /account
   * for a POST; a POST must bring the session's CSRF token. `fresh` names where a stale sign-in returns
   * after signing in again (a GET with `fresh: true` returns to itself).
   */
  const signedIn =
    (method: 'GET' | 'POST', handler: SignedHandler, options: { fresh?: string | true } = {}): RouteHandler =>
    async (ctx, params) => {
      const locale = localeFor(ctx);
      try {
        const form = method === 'POST' ? await readForm(ctx) : new URLSearchParams();
        const sessionId = ctx.cookies.get(SESSION_COOKIE);
        const session = await consoleSessions.get(sessionId);
        const account = session && (await deps.accounts.findById(session.accountId));
        // The console lives only while its provider session does (ended elsewhere, expired, locked…).
        const alive = session && account?.status === 'active' && (session.sid === undefined || (await providerSessionOf(session)) !== undefined);
        if (!session || !account || !alive || sessionId === undefined) {
          if (session) await endConsole(ctx, sessionId);
          if (method === 'GET') {
            await startSignIn(ctx, locale, { returnTo: ctx.path, stepUp: false });
          } else {
            ctx.status = 303;
            ctx.redirect('/account');
          }
          return;
        }
        if (method === 'POST' && !sameSecret(form.get('csrf') ?? '', session.csrf)) {
          send(ctx, 403, accountErrorPage(frame(ctx, locale), 'form.expired'));
          return;
        }
        const signed: Signed = { ctx, locale, form, sessionId, session, account, factors: await deps.factors.factorsOf(account.id) };
        const freshReturn = options.fresh === true ? ctx.path : options.fresh;
        // A level-2 account without any factor may add its first one after a fresh password sign-in.
        if (freshReturn !== undefined && !(await requireFresh(signed, freshReturn))) return;
        await handler(signed, params);
      } catch (error) {
        if (error instanceof FormTooLarge) {
          send(ctx, 413, accountErrorPage(frame(ctx, locale), 'form.too_large'));
          return;
        }
        throw error;
      }
    };

  return {
    setCookie,
    startSignIn,
    isFresh,
    audit,
    notify,
    saveSession,
    flashAndReturn,
    endConsole,
    providerSessionOf,
    registryRecordOf,
    open,
    get: (handler: SignedHandler, options?: { fresh?: true }) => signedIn('GET', handler, options),
    post: (handler: SignedHandler, options?: { fresh?: string }) => signedIn('POST', handler, options),
  };
}
