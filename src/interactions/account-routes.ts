// Self-service at /account: the citizen's registry data, contacts, second factors, password, sign-in
// sessions, and "lock my account".
//
// Design. The account page is a first-party relying party of this provider — signed in through the
// provider itself, as its own client `account-console` (profile portal, public subject type so `sub`
// is the account UUID, redirect URI <issuer>/account/callback). Its client secret is derived from the
// key-encryption key with HMAC, so every instance computes the same one and nothing extra is stored;
// each instance (re-)registers the client idempotently on first use. It runs the authorization-code
// flow with PKCE, state and nonce through openid-client, and its back-channel calls (discovery,
// token, JWKS) go to this very instance over loopback (http://127.0.0.1:<PORT>, the issuer's Host
// header kept), so it works behind any proxy and never leaves the machine. It asks only for `openid`
// (plus `sid` in the ID token): everything it shows it reads itself, by the account id, so a console
// sign-in releases no claims and puts nothing in the citizen's data-access history.
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
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import { FormTooLarge, readForm } from '../web/forms.ts';
import QRCode from 'qrcode';
import type { Middleware } from 'koa';
import type { Account, AccountRepository } from '../accounts/accounts.ts';
import type { AuditEventType, AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../observability/logger.ts';
import type { Database } from '../storage/database.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import type { KeyEncryption } from '../storage/key-encryption.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import type { ConsentRecords } from '../oidc/consent/consent-records.ts';
import type { SessionTerminator } from '../oidc/sessions/sessions.ts';
import type { AccessHistory } from '../audit/access-history.ts';
import type { RegistryGateway } from '../registry/gateway.ts';
import type { Notifier } from '../accounts/notifier.ts';
import type { BruteForceGuard } from '../accounts/brute-force.ts';
import type { PasswordHasher } from '../accounts/passwords.ts';
import type { TotpVerifier } from '../accounts/totp.ts';
import { passwordProblem } from '../accounts/password-policy.ts';
import { HashingOverloaded } from '../accounts/passwords.ts';
import { MAX_PASSWORD_LENGTH } from '../accounts/sign-in.ts';
import { newTotpSecret, totpUri } from '../accounts/totp.ts';
import type { EnrolmentHandover } from '../accounts/enrolment-handover.ts';
import {
  PasskeyRejected,
  generateRecoveryCodes,
  hasStrongSecondFactor,
  listPasskeys,
  passkeyRegistrationOptions,
  relyingPartyOf,
  removePasskey,
  removeTotpSecret,
  saveTotpSecret,
  secondFactorsOf,
  verifyPasskeyRegistration,
  type SecondFactors,
} from '../accounts/second-factors.ts';
import {
  lockAccount,
  normalizeContact,
  notifyContacts,
  removeEmail,
  saveVerifiedContact,
  type ContactKind,
} from '../accounts/self-service.ts';
import type { AccountSessions } from '../oidc/sessions/account-sessions.ts';
import { RegistryUnavailable } from '../registry/gateway.ts';
import type { RegistryRecord } from '../registry/registry.ts';
import {
  CONSOLE_CLIENT_ID,
  FRESH_SIGN_IN_SECONDS,
  LOA_2,
  SIGN_IN_COOKIE_MAX_AGE_MS,
  type ConsoleRelyingParty,
  type ConsoleSessionStore,
  type ConsoleSession,
  type PendingContact,
} from './account-console.ts';
import {
  accountErrorPage,
  consentRecordPage,
  contactCodeMessage,
  contactPage,
  isAccountMessageKey,
  lockedPage,
  lockPage,
  overviewPage,
  passkeyPage,
  passwordPage,
  recoveryCodesPage,
  securityNotice,
  signedOutPage,
  t,
  totpPage,
  withdrawConsentPage,
  type AccountChange,
  type AccountMessageKey,
  type HandoverError,
  type ContactError,
  type PasswordError,
} from './account-pages.ts';
import { isLocale, type Locale } from './i18n.ts';
import { approvalHandlers, type ApprovalRoutesDependencies } from './account-approvals.ts';
import { localeOf, switchHref } from './pages.ts';

const SESSION_COOKIE = 'account_session';
const SIGN_IN_COOKIE = 'account_signin';
const CONTACT_CODE_MINUTES = 10;
const CONTACT_CODE_ATTEMPTS = 5;
const CONTACT_CODES_PER_WINDOW = 3;

// AuditEventType (src/audit/audit-log.ts) does not name self-service changes yet; the event is stored
// like any other (the column is text). Drop the widening once the union lists 'account.changed'.
const ACCOUNT_CHANGED: AuditEventType = 'account.changed';

/** The pages a sign-in may return to (a fixed list: the return path is never taken from the request). */
const RETURN_PATHS = new Set([
  '/account',
  '/account/totp',
  '/account/recovery-codes',
  '/account/passkeys/new',
  '/account/password',
  '/account/contacts/phone',
  '/account/contacts/email',
  '/account/lock',
  '/account/approvals',
]);

/** A consent record's pages: printing it (GET) and withdrawing it (GET asks, POST does). */
const CONSENT_PATH = /^\/account\/consents\/([0-9a-f-]{36})(\/withdraw)?$/;
const HISTORY_PAGE_SIZE = 20;



function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const hashContactCode = (accountId: string, value: string, code: string) =>
  createHash('sha256').update(`${accountId}\n${value}\n${code}`).digest('hex');

/** One request to a signed-in page: who, how, and where the page's words and forms come from. */
interface Signed {
  readonly ctx: ParameterizedContext;
  readonly locale: Locale;
  readonly form: URLSearchParams;
  readonly sessionId: string;
  session: ConsoleSession;
  readonly account: Account;
  readonly factors: SecondFactors;
}

/** What the account page uses; the composition root (src/server.ts) hands it over. */
export interface AccountRoutesDependencies extends ApprovalRoutesDependencies {
  readonly logger: Logger;
  readonly db: Database;
  /** Counts the contact codes sent per account. */
  readonly ephemeral: EphemeralStore;
  readonly audit: AuditLog;
  readonly notifier: Notifier;
  readonly sealer: KeyEncryption;
  readonly totp: TotpVerifier;
  readonly passwords: PasswordHasher;
  readonly bruteForce: BruteForceGuard;
  readonly accounts: AccountRepository;
  readonly clients: Pick<ClientRepository, 'find'>;
  readonly consents: ConsentRecords;
  readonly accessHistory: AccessHistory;
  readonly registryGateway: RegistryGateway;
  readonly sessions: Pick<SessionTerminator, 'endAllAccess'>;
  /** The citizen's sign-in sessions (listed, ended one by one). */
  readonly accountSessions: AccountSessions;
  readonly consoleSignIn: ConsoleRelyingParty;
  readonly consoleSessions: ConsoleSessionStore;
  /** After an officer reset the second factors, the first enrolment needs the code handed over in person. */
  readonly enrolmentHandover: EnrolmentHandover;
}

export function accountRoutes(deps: AccountRoutesDependencies): Middleware {
  const { issuer, logger } = deps;
  const secureCookies = new URL(issuer).protocol === 'https:';
  const relyingParty = deps.consoleSignIn;
  const consoleSessions = deps.consoleSessions;
  const signInSessions = deps.accountSessions;
  const challenges = deps.passkeyChallenges;
  const handover = deps.enrolmentHandover;
  const webauthn = relyingPartyOf(issuer);
  // Bank requests (CIBA) waiting for the citizen: src/interactions/account-approvals.ts.
  const approvals = approvalHandlers(deps, { saveSession: (id, session) => consoleSessions.save(id, session) });

  const setCookie = (ctx: ParameterizedContext, name: string, value: string | null, maxAge?: number) => {
    // The issuer is https behind a proxy: the browser sees https even when this hop does not.
    if (secureCookies) ctx.cookies.secure = true;
    ctx.cookies.set(name, value, {
      path: '/account',
      httpOnly: true,
      sameSite: 'lax',
      secure: secureCookies,
      overwrite: true,
      ...(maxAge !== undefined && { maxAge }),
    });
  };

  const send = (ctx: ParameterizedContext, status: number, body: string) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = body;
  };

  const frame = (ctx: ParameterizedContext, locale: Locale) => ({ locale, switchHref: switchHref(ctx.path, locale) });

  /** Starts a sign-in at the provider and sends the browser there. */
  const startSignIn = async (
    ctx: ParameterizedContext,
    locale: Locale,
    options: { returnTo: string; stepUp: boolean; acrValues?: string },
  ) => {
    let started;
    try {
      started = await relyingParty.start({ ...options, locale });
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

  /** True when the session may make changes now (see the design note above). */
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

  const flashAndReturn = async (signed: Signed, notice: AccountMessageKey, to = '/account') => {
    signed.session = { ...signed.session, flash: notice };
    await consoleSessions.save(signed.sessionId, signed.session);
    signed.ctx.status = 303;
    signed.ctx.redirect(to);
  };

  const endConsole = async (ctx: ParameterizedContext, sessionId: string | undefined) => {
    await consoleSessions.destroy(sessionId);
    setCookie(ctx, SESSION_COOKIE, null);
  };

  /** The provider session this console session came from, if it still lives. */
  const providerSessionOf = async (session: ConsoleSession) =>
    session.sid === undefined ? undefined : signInSessions.findByClientSid(session.accountId, CONSOLE_CLIENT_ID, session.sid);

  const registryRecordOf = async (account: Account): Promise<RegistryRecord | 'unavailable' | undefined> => {
    try {
      return await deps.registryGateway.findByNationalId(account.nationalId);
    } catch (error) {
      if (!(error instanceof RegistryUnavailable)) throw error;
      logger.warn({ err: error }, 'registry unavailable: the account page shows no registry data');
      return 'unavailable';
    }
  };

  // -------------------------------------------------------------------------------------------------
  // Pages

  const overview = async (signed: Signed) => {
    const { ctx, locale, account, session } = signed;
    const notice = isAccountMessageKey(session.flash) ? session.flash : undefined;
    if (session.flash !== undefined) {
      signed.session = { ...session, flash: undefined };
      await consoleSessions.save(signed.sessionId, signed.session);
    }
    const historyPage = Math.min(Math.max(Number.parseInt(typeof ctx.query.history === 'string' ? ctx.query.history : '0', 10) || 0, 0), 10_000);
    const [record, passkeys, sessions, services, history] = await Promise.all([
      registryRecordOf(account),
      listPasskeys(deps.db, account.id),
      signInSessions.list(account.id),
      deps.consents.servicesWithAccess(account.id),
      deps.accessHistory.page(account.id, { page: historyPage, pageSize: HISTORY_PAGE_SIZE }),
    ]);
    const clientNames = new Map<string, string>();
    const clientIds = [...sessions.flatMap((item) => item.clientIds), ...services.map((item) => item.clientId), ...history.entries.map((item) => item.clientId ?? '')];
    for (const clientId of new Set(clientIds.filter((id) => id !== ''))) {
      clientNames.set(clientId, (await deps.clients.find(clientId))?.name ?? clientId);
    }
    send(
      ctx,
      200,
      overviewPage({
        ...frame(ctx, locale),
        csrf: session.csrf,
        notice,
        account,
        signIn: { acr: session.acr, authTime: new Date(session.authTime * 1000) },
        record,
        factors: signed.factors,
        passkeys,
        sessions: sessions.map((item) => ({
          id: item.id,
          current: session.sid !== undefined && item.sids[CONSOLE_CLIENT_ID] === session.sid,
          signedInAt: item.signedInAt,
          expiresAt: item.expiresAt,
          services: item.clientIds.map((clientId) => clientNames.get(clientId) ?? clientId),
        })),
        services: services.map((item) => ({
          clientName: clientNames.get(item.clientId) ?? item.clientId,
          scopes: item.scopes,
          claims: item.claims,
          since: item.since,
          recordId: item.latestRecordId,
        })),
        history: {
          page: historyPage,
          hasMore: history.hasMore,
          rows: history.entries.map((entry) => ({
            at: entry.at,
            kind: entry.kind,
            clientName: entry.clientId === undefined ? '' : (clientNames.get(entry.clientId) ?? entry.clientId),
            items: entry.items,
          })),
        },
      }),
    );
  };

  /** The handover code, when one is outstanding: `code` to spend once the enrolment succeeds, or the error to show. */
  const checkHandover = async (signed: Signed): Promise<{ code?: string; error?: HandoverError }> => {
    const code = signed.form.get('handover_code') ?? '';
    const outcome = await handover.check(signed.account.id, code);
    if (outcome === 'not-required') return {};
    if (outcome === 'valid') return { code };
    return { error: outcome === 'expired' ? 'handover.expired' : 'handover.wrong' };
  };

  const showTotp = async (signed: Signed, status = 200, error?: 'totp.wrong_code' | HandoverError) => {
    const { ctx, locale, account } = signed;
    const context = `totp-pending:${account.id}`;
    let secret = signed.session.pendingTotp ? deps.sealer.open(signed.session.pendingTotp, context) : undefined;
    if (secret === undefined) {
      secret = newTotpSecret();
      signed.session = { ...signed.session, pendingTotp: deps.sealer.seal(secret, context) };
      await consoleSessions.save(signed.sessionId, signed.session);
    }
    // The label names the service and a masked ID number, so the citizen tells accounts apart.
    const label = `${account.nationalId.slice(0, 3)}•••${account.nationalId.slice(-3)}`;
    const qrSvg = await QRCode.toString(totpUri(secret, label), { type: 'svg', margin: 2, width: 200, errorCorrectionLevel: 'M' });
    const needsHandover = await handover.required(account.id);
    send(ctx, status, totpPage({ ...frame(ctx, locale), csrf: signed.session.csrf, secret, qrSvg, replacing: signed.factors.totp, handover: needsHandover, ...(error && { error }) }));
  };

  const confirmTotp = async (signed: Signed) => {
    const { account } = signed;
    const pending = signed.session.pendingTotp;
    if (!pending) {
      signed.ctx.status = 303;
      signed.ctx.redirect('/account/totp');
      return;
    }
    const secret = deps.sealer.open(pending, `totp-pending:${account.id}`);
    const gate = await checkHandover(signed);
    if (gate.error) {
      await showTotp(signed, 400, gate.error);
      return;
    }
    const code = (signed.form.get('code') ?? '').replace(/\s/g, '');
    const outcome = await deps.totp.verify(account.id, secret, code);
    if (outcome !== 'valid') {
      await showTotp(signed, 400, 'totp.wrong_code');
      return;
    }
    if (gate.code !== undefined && !(await handover.spend(account.id, gate.code))) {
      await showTotp(signed, 400, 'handover.expired');
      return;
    }
    await saveTotpSecret(deps.db, deps.sealer, account, secret);
    signed.session = { ...signed.session, pendingTotp: undefined };
    await audit(signed, 'totp.enrolled', { replaced: signed.factors.totp, ...(gate.code !== undefined && { handoverCode: 'spent' }) });
    await notify(account, 'totp.enrolled');
    await flashAndReturn(signed, 'notice.totp_enrolled');
  };

  /** A level-2 account keeps at least one strong factor. */
  const wouldLoseLastFactor = (signed: Signed, after: SecondFactors) =>
    signed.account.level === 2 && hasStrongSecondFactor(signed.factors) && !hasStrongSecondFactor(after);

  const removeTotp = async (signed: Signed) => {
    if (wouldLoseLastFactor(signed, { ...signed.factors, totp: false, totpEnrolledAt: null })) {
      await flashAndReturn(signed, 'notice.last_factor');
      return;
    }
    if (!(await removeTotpSecret(deps.db, signed.account.id))) {
      signed.ctx.status = 303;
      signed.ctx.redirect('/account');
      return;
    }
    await audit(signed, 'totp.removed');
    await notify(signed.account, 'totp.removed');
    await flashAndReturn(signed, 'notice.totp_removed');
  };

  const createRecoveryCodes = async (signed: Signed) => {
    const codes = await generateRecoveryCodes(deps.db, signed.account.id);
    await audit(signed, 'recovery_codes.generated', { count: codes.length });
    await notify(signed.account, 'recovery_codes.generated');
    send(signed.ctx, 200, recoveryCodesPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf, codes }));
  };

  const showPasskeyEnrolment = async (signed: Signed, status = 200, error?: 'passkeys.rejected' | 'passkeys.needs_js' | HandoverError, name = '') => {
    const { ctx, locale, account } = signed;
    const record = await registryRecordOf(account);
    const displayName = record && record !== 'unavailable' ? record.fullName : account.nationalId;
    const options = await passkeyRegistrationOptions(deps.db, webauthn, {
      accountId: account.id,
      // Shown by the device's passkey picker: the name, and a masked ID number to tell accounts apart.
      userName: `${account.nationalId.slice(0, 3)}•••${account.nationalId.slice(-3)}`,
      displayName,
    });
    await challenges.remember(`register:${signed.sessionId}`, options.challenge);
    send(
      ctx,
      status,
      passkeyPage({
        ...frame(ctx, locale),
        csrf: signed.session.csrf,
        options,
        name: name || t(locale, 'passkeys.default_name'),
        handover: await handover.required(account.id),
        ...(error && { error }),
      }),
    );
  };

  const addPasskey = async (signed: Signed) => {
    const credential = signed.form.get('credential') ?? '';
    const name = (signed.form.get('name') ?? '').trim();
    if (credential === '') {
      await showPasskeyEnrolment(signed, 400, 'passkeys.needs_js', name);
      return;
    }
    const gate = await checkHandover(signed);
    if (gate.error) {
      await showPasskeyEnrolment(signed, 400, gate.error, name);
      return;
    }
    const challenge = await challenges.take(`register:${signed.sessionId}`);
    if (challenge === undefined) {
      await showPasskeyEnrolment(signed, 400, 'passkeys.rejected', name);
      return;
    }
    try {
      const passkey = await verifyPasskeyRegistration(deps.db, webauthn, {
        accountId: signed.account.id,
        credential,
        expectedChallenge: challenge,
        name: name || t(signed.locale, 'passkeys.default_name'),
      });
      // Spent once the passkey verified; lost to a racing enrolment, the passkey goes again.
      if (gate.code !== undefined && !(await handover.spend(signed.account.id, gate.code))) {
        await removePasskey(deps.db, signed.account.id, passkey.credentialId);
        await showPasskeyEnrolment(signed, 400, 'handover.expired', name);
        return;
      }
      await audit(signed, 'passkey.added', { passkey: passkey.name, ...(gate.code !== undefined && { handoverCode: 'spent' }) });
      await notify(signed.account, 'passkey.added');
      await flashAndReturn(signed, 'notice.passkey_added');
    } catch (error) {
      if (!(error instanceof PasskeyRejected)) throw error;
      logger.info({ err: error }, 'a passkey enrolment was refused');
      await showPasskeyEnrolment(signed, 400, 'passkeys.rejected', name);
    }
  };

  const deletePasskey = async (signed: Signed) => {
    const credentialId = signed.form.get('credential_id') ?? '';
    if (!/^[A-Za-z0-9_-]{1,2048}$/.test(credentialId)) {
      signed.ctx.status = 303;
      signed.ctx.redirect('/account');
      return;
    }
    if (wouldLoseLastFactor(signed, { ...signed.factors, passkeys: signed.factors.passkeys - 1 })) {
      await flashAndReturn(signed, 'notice.last_factor');
      return;
    }
    if (!(await removePasskey(deps.db, signed.account.id, credentialId))) {
      signed.ctx.status = 303;
      signed.ctx.redirect('/account');
      return;
    }
    await audit(signed, 'passkey.removed');
    await notify(signed.account, 'passkey.removed');
    await flashAndReturn(signed, 'notice.passkey_removed');
  };

  const changePassword = async (signed: Signed) => {
    const { ctx, locale, account, form } = signed;
    const fail = (error: PasswordError, status: number) => send(ctx, status, passwordPage({ ...frame(ctx, locale), csrf: signed.session.csrf, error }));
    const current = form.get('current_password') ?? '';
    const proposed = form.get('new_password') ?? '';
    const confirmation = form.get('confirm_password') ?? '';
    const target = { kind: 'password' as const, nationalId: account.nationalId };
    if ((await deps.bruteForce.lockOf(target)).locked) {
      fail('password.locked', 429);
      return;
    }
    let valid: boolean;
    try {
      valid = current.length > 0 && current.length <= MAX_PASSWORD_LENGTH && (await deps.passwords.verify(account.passwordHash, current));
    } catch (error) {
      if (!(error instanceof HashingOverloaded)) throw error;
      fail('password.busy', 503);
      return;
    }
    if (!valid) {
      await deps.bruteForce.recordFailure(target, { ip: ctx.ip, accountId: account.id });
      fail('password.wrong_current', 400);
      return;
    }
    await deps.bruteForce.recordSuccess(target);
    const record = await registryRecordOf(account);
    if (record === 'unavailable' || record === undefined) {
      send(ctx, 503, accountErrorPage(frame(ctx, locale), 'registry.unavailable'));
      return;
    }
    const problem = passwordProblem(proposed, { nationalId: account.nationalId, birthDate: record.birthDate });
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
    await deps.accounts.updatePasswordHash(account.id, hash);
    // Whoever else knew the old password loses every session and token; this browser stays signed in.
    const here = await providerSessionOf(signed.session);
    const ended = await signInSessions.endAllBut(account.id, here?.id);
    await audit(signed, 'password.changed', { sessionsEnded: ended });
    await notify(account, 'password.changed');
    await flashAndReturn(signed, 'notice.password_changed');
  };

  const sendContactCode = async (signed: Signed, kind: ContactKind) => {
    const { ctx, locale, account } = signed;
    const input = (signed.form.get('value') ?? '').slice(0, 320);
    const fail = (error: ContactError, status: number) =>
      send(ctx, status, contactPage({ ...frame(ctx, locale), csrf: signed.session.csrf, kind, value: input, error }));
    const value = normalizeContact(kind, input);
    if (value === undefined) {
      fail(kind === 'phone' ? 'contacts.invalid_phone' : 'contacts.invalid_email', 400);
      return;
    }
    const currentValue = kind === 'phone' ? account.phoneNumber : account.email;
    const currentVerified = kind === 'phone' ? account.phoneNumberVerified : account.emailVerified;
    if (value === currentValue && currentVerified) {
      fail('contacts.same', 400);
      return;
    }
    const sent = await deps.ephemeral.increment(`account-console:contact-codes:{${account.id}}`, CONTACT_CODE_MINUTES * 60);
    if (sent > CONTACT_CODES_PER_WINDOW) {
      fail('contacts.too_many_codes', 429);
      return;
    }
    const code = String(randomInt(1_000_000)).padStart(6, '0');
    const pendingContact: PendingContact = {
      kind,
      value,
      codeHash: hashContactCode(account.id, value, code),
      attempts: 0,
      expiresAt: Date.now() + CONTACT_CODE_MINUTES * 60_000,
    };
    await deps.notifier.send({ channel: kind === 'phone' ? 'sms' : 'email', destination: value, ...contactCodeMessage(code, CONTACT_CODE_MINUTES) });
    signed.session = { ...signed.session, pendingContact };
    await consoleSessions.save(signed.sessionId, signed.session);
    send(ctx, 200, contactPage({ ...frame(ctx, locale), csrf: signed.session.csrf, kind, pendingValue: value }));
  };

  const confirmContact = async (signed: Signed, kind: ContactKind) => {
    const { ctx, locale, account } = signed;
    const pending = signed.session.pendingContact;
    if (!pending || pending.kind !== kind || pending.expiresAt < Date.now() || pending.attempts >= CONTACT_CODE_ATTEMPTS) {
      signed.session = { ...signed.session, pendingContact: undefined };
      await consoleSessions.save(signed.sessionId, signed.session);
      send(ctx, 400, accountErrorPage(frame(ctx, locale), 'contacts.code_expired'));
      return;
    }
    const code = (signed.form.get('code') ?? '').replace(/\s/g, '');
    if (!/^\d{6}$/.test(code) || !sameSecret(hashContactCode(account.id, pending.value, code), pending.codeHash)) {
      signed.session = { ...signed.session, pendingContact: { ...pending, attempts: pending.attempts + 1 } };
      await consoleSessions.save(signed.sessionId, signed.session);
      send(ctx, 400, contactPage({ ...frame(ctx, locale), csrf: signed.session.csrf, kind, pendingValue: pending.value, error: 'contacts.wrong_code' }));
      return;
    }
    await saveVerifiedContact(deps.db, account.id, kind, pending.value);
    signed.session = { ...signed.session, pendingContact: undefined };
    const change = kind === 'phone' ? 'phone.changed' : 'email.changed';
    await audit(signed, change);
    // The contacts as they were (the old one learns of the change) and the new one.
    await notify(account, change, [{ channel: kind === 'phone' ? 'sms' : 'email', destination: pending.value }]);
    await flashAndReturn(signed, 'notice.contact_changed');
  };

  const deleteEmail = async (signed: Signed) => {
    const { account } = signed;
    if (!account.email) {
      await flashAndReturn(signed, 'notice.email_removed');
      return;
    }
    if (!(account.phoneNumber && account.phoneNumberVerified)) {
      send(signed.ctx, 400, accountErrorPage(frame(signed.ctx, signed.locale), 'contacts.keep_one'));
      return;
    }
    await removeEmail(deps.db, account.id);
    await audit(signed, 'email.removed');
    await notify(account, 'email.removed');
    await flashAndReturn(signed, 'notice.email_removed');
  };

  const endOneSession = async (signed: Signed) => {
    const { ctx, locale, account } = signed;
    const target = signed.form.get('session') ?? '';
    const here = await providerSessionOf(signed.session);
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(target) || !(await signInSessions.end(account.id, target))) {
      await flashAndReturn(signed, 'notice.session_ended');
      return;
    }
    await audit(signed, 'session.ended', { current: here?.id === target });
    await notify(account, 'session.ended');
    if (here?.id === target) {
      await endConsole(ctx, signed.sessionId);
      send(ctx, 200, signedOutPage({ ...frame(ctx, locale), everywhere: false }));
      return;
    }
    await flashAndReturn(signed, 'notice.session_ended');
  };

  const endAllSessions = async (signed: Signed) => {
    const { ctx, locale, account } = signed;
    const ended = await deps.sessions.endAllAccess(account.id);
    await endConsole(ctx, signed.sessionId);
    await audit(signed, 'sessions.ended', ended);
    await notify(account, 'sessions.ended');
    send(ctx, 200, signedOutPage({ ...frame(ctx, locale), everywhere: true }));
  };

  const lockOwnAccount = async (signed: Signed) => {
    const { ctx, locale, account } = signed;
    if (await lockAccount(deps.db, account.id, 'holder request on the account page')) {
      const ended = await deps.sessions.endAllAccess(account.id);
      await audit(signed, 'account.locked', { by: 'holder', ...ended });
      await notify(account, 'account.locked');
    }
    await endConsole(ctx, signed.sessionId);
    send(ctx, 200, lockedPage(frame(ctx, locale)));
  };

  /** The citizen's own consent record named in the path; another citizen's is not found (404). */
  const ownConsentRecord = async (signed: Signed) => {
    const record = await deps.consents.find(signed.account.id, CONSENT_PATH.exec(signed.ctx.path)?.[1] ?? '');
    if (!record) send(signed.ctx, 404, accountErrorPage(frame(signed.ctx, signed.locale), 'consents.not_found'));
    return record;
  };
  const clientNameOf = async (clientId: string) => (await deps.clients.find(clientId))?.name ?? clientId;

  const showConsentRecord = async (signed: Signed) => {
    const record = await ownConsentRecord(signed);
    if (!record) return;
    send(
      signed.ctx,
      200,
      consentRecordPage({
        ...frame(signed.ctx, signed.locale),
        id: record.id,
        clientId: record.clientId,
        clientName: await clientNameOf(record.clientId),
        scopes: record.scopes,
        claims: record.claims,
        shownText: record.shownText,
        shownLocale: record.locale,
        givenAt: record.givenAt,
        withdrawnAt: record.withdrawnAt,
      }),
    );
  };

  const askToWithdrawConsent = async (signed: Signed) => {
    const record = await ownConsentRecord(signed);
    if (!record) return;
    if (record.withdrawnAt) {
      await flashAndReturn(signed, 'notice.consent_withdrawn');
      return;
    }
    send(
      signed.ctx,
      200,
      withdrawConsentPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf, id: record.id, clientName: await clientNameOf(record.clientId) }),
    );
  };

  // Withdrawing only takes access away: no fresh sign-in needed, like ending a session.
  const withdrawConsent = async (signed: Signed) => {
    const record = await deps.consents.withdraw(signed.account.id, CONSENT_PATH.exec(signed.ctx.path)?.[1] ?? '', { ip: signed.ctx.ip });
    if (!record) {
      send(signed.ctx, 404, accountErrorPage(frame(signed.ctx, signed.locale), 'consents.not_found'));
      return;
    }
    await flashAndReturn(signed, 'notice.consent_withdrawn');
  };

  const signOut = async (signed: Signed) => {
    const { ctx, locale, session } = signed;
    await endConsole(ctx, signed.sessionId);
    let endSession: string;
    try {
      endSession = await relyingParty.endSessionUrl(session.idToken, locale);
    } catch (error) {
      logger.error({ err: error }, 'the account page could not reach the provider to sign out of it');
      send(ctx, 200, signedOutPage({ ...frame(ctx, locale), everywhere: false }));
      return;
    }
    ctx.status = 303;
    ctx.redirect(endSession);
  };

  // -------------------------------------------------------------------------------------------------
  // The callback from the provider

  const callback = async (ctx: ParameterizedContext, locale: Locale) => {
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
      result = await relyingParty.finish(new URL(ctx.originalUrl, issuer), pending);
    } catch (error) {
      logger.warn({ err: error }, 'the account page could not finish a sign-in');
      send(ctx, 400, accountErrorPage(page, 'signin.failed'));
      return;
    }
    const account = await deps.accounts.findById(result.accountId);
    if (!account || account.status !== 'active') {
      send(ctx, 403, accountErrorPage(page, 'signin.failed'));
      return;
    }
    // A new sign-in, a new console session id (no fixation); the one before it ends.
    await consoleSessions.destroy(ctx.cookies.get(SESSION_COOKIE));
    const session: ConsoleSession = { ...result, csrf: randomBytes(32).toString('base64url') };
    const sessionId = await consoleSessions.create(session);
    setCookie(ctx, SESSION_COOKIE, sessionId);
    const factors = await secondFactorsOf(deps.db, account.id);
    if (pending.stepUp && !isFresh(session, account, factors)) {
      send(ctx, 403, accountErrorPage(page, 'signin.step_up_failed'));
      return;
    }
    ctx.status = 303;
    ctx.redirect(RETURN_PATHS.has(pending.returnTo) || CONSENT_PATH.test(pending.returnTo) ? pending.returnTo : '/account');
  };

  // -------------------------------------------------------------------------------------------------
  // Routing

  type Handler = (signed: Signed) => Promise<void>;
  /** Each POST: its handler and, when it changes something that needs a fresh sign-in, where to return. */
  const posts = new Map<string, { handler: Handler; fresh?: string }>([
    ['/account/sign-out', { handler: signOut }],
    ['/account/totp', { handler: confirmTotp, fresh: '/account/totp' }],
    ['/account/totp/remove', { handler: removeTotp, fresh: '/account' }],
    ['/account/recovery-codes', { handler: createRecoveryCodes, fresh: '/account/recovery-codes' }],
    ['/account/passkeys', { handler: addPasskey, fresh: '/account/passkeys/new' }],
    ['/account/passkeys/remove', { handler: deletePasskey, fresh: '/account' }],
    ['/account/password', { handler: changePassword, fresh: '/account/password' }],
    ['/account/contacts/phone', { handler: (signed) => sendContactCode(signed, 'phone'), fresh: '/account/contacts/phone' }],
    ['/account/contacts/email', { handler: (signed) => sendContactCode(signed, 'email'), fresh: '/account/contacts/email' }],
    ['/account/contacts/phone/confirm', { handler: (signed) => confirmContact(signed, 'phone'), fresh: '/account/contacts/phone' }],
    ['/account/contacts/email/confirm', { handler: (signed) => confirmContact(signed, 'email'), fresh: '/account/contacts/email' }],
    ['/account/contacts/email/remove', { handler: deleteEmail, fresh: '/account' }],
    ['/account/sessions/end', { handler: endOneSession }],
    ['/account/sessions/end-all', { handler: endAllSessions }],
    ['/account/lock', { handler: lockOwnAccount }],
    ['/account/consents/:id/withdraw', { handler: withdrawConsent }],
    // Approving asks for a second factor on the page itself; denying only takes access away.
    ['/account/approvals/approve', { handler: approvals.approve }],
    ['/account/approvals/deny', { handler: approvals.deny }],
  ]);
  const gets = new Map<string, { handler: Handler; fresh?: boolean }>([
    ['/account', { handler: overview }],
    ['/account/approvals', { handler: approvals.list }],
    ['/account/consents/:id', { handler: showConsentRecord }],
    ['/account/consents/:id/withdraw', { handler: askToWithdrawConsent }],
    ['/account/totp', { handler: (signed) => showTotp(signed), fresh: true }],
    [
      '/account/recovery-codes',
      {
        handler: (signed) => {
          send(signed.ctx, 200, recoveryCodesPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf }));
          return Promise.resolve();
        },
        fresh: true,
      },
    ],
    ['/account/passkeys/new', { handler: (signed) => showPasskeyEnrolment(signed), fresh: true }],
    [
      '/account/password',
      {
        handler: (signed) => {
          send(signed.ctx, 200, passwordPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf }));
          return Promise.resolve();
        },
        fresh: true,
      },
    ],
    ...(['phone', 'email'] as const).map(
      (kind) =>
        [
          `/account/contacts/${kind}`,
          {
            handler: (signed: Signed) => {
              send(signed.ctx, 200, contactPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf, kind }));
              return Promise.resolve();
            },
            fresh: true,
          },
        ] as const,
    ),
    [
      '/account/lock',
      {
        handler: (signed) => {
          send(signed.ctx, 200, lockPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf }));
          return Promise.resolve();
        },
      },
    ],
  ]);

  return async (ctx, next) => {
    if (ctx.path !== '/account' && !ctx.path.startsWith('/account/')) {
      await next();
      return;
    }
    const queryLang = typeof ctx.query.lang === 'string' && isLocale(ctx.query.lang) ? ctx.query.lang : undefined;
    // The same cookie as the sign-in pages, so the choice sticks across the whole service.
    if (queryLang) ctx.cookies.set('lang', queryLang, { httpOnly: true, sameSite: 'lax', overwrite: true });
    const locale = localeOf(ctx);
    const path = ctx.path.replace(/\/+$/, '') || '/account';
    const consentPath = CONSENT_PATH.exec(path);
    /** The key in the route tables: a consent record's id stands as :id. */
    const route = consentPath ? `/account/consents/:id${consentPath[2] ?? ''}` : path;

    try {
      if (path === '/account/callback' && ctx.method === 'GET') {
        await callback(ctx, locale);
        return;
      }
      if (path === '/account/signed-out' && ctx.method === 'GET') {
        send(ctx, 200, signedOutPage({ ...frame(ctx, locale), everywhere: false }));
        return;
      }
      const post = ctx.method === 'POST' ? posts.get(route) : undefined;
      const get = ctx.method === 'GET' ? gets.get(route) : undefined;
      if (!post && !get) {
        if (!posts.has(route) && !gets.has(route)) {
          await next();
          return;
        }
        ctx.status = 405;
        ctx.set('Allow', [gets.has(route) && 'GET', posts.has(route) && 'POST'].filter(Boolean).join(', '));
        return;
      }

      const form = post ? await readForm(ctx) : new URLSearchParams();
      const sessionId = ctx.cookies.get(SESSION_COOKIE);
      const session = await consoleSessions.get(sessionId);
      const account = session && (await deps.accounts.findById(session.accountId));
      // The console lives only while its provider session does (ended elsewhere, expired, locked…).
      const alive = session && account?.status === 'active' && (session.sid === undefined || (await providerSessionOf(session)) !== undefined);
      if (!session || !account || !alive || sessionId === undefined) {
        if (session) await endConsole(ctx, sessionId);
        if (get) {
          await startSignIn(ctx, locale, { returnTo: path, stepUp: false });
        } else {
          ctx.status = 303;
          ctx.redirect('/account');
        }
        return;
      }
      if (post && !sameSecret(form.get('csrf') ?? '', session.csrf)) {
        send(ctx, 403, accountErrorPage(frame(ctx, locale), 'form.expired'));
        return;
      }
      const signed: Signed = { ctx, locale, form, sessionId, session, account, factors: await secondFactorsOf(deps.db, account.id) };
      const freshReturn = post?.fresh ?? (get?.fresh ? path : undefined);
      if (freshReturn !== undefined) {
        // A level-2 account without any factor may add its first one after a fresh password sign-in.
        if (!(await requireFresh(signed, freshReturn))) return;
      }
      await (post ?? get)!.handler(signed);
    } catch (error) {
      if (error instanceof FormTooLarge) {
        send(ctx, 413, accountErrorPage(frame(ctx, locale), 'form.too_large'));
        return;
      }
      throw error;
    }
  };
}
