// HTTP for the sign-in pages: GET shows the page the interaction needs, POSTs finish a step.
// Input is validated here, where it enters; a bad form gets the page again with a message, never a 500.
import type { ParameterizedContext } from 'koa';
import { Router } from '../web/router.ts';
import { LANGUAGE_COOKIE, type PublicCookies } from '../web/cookies.ts';
import { FormTooLarge, readForm } from '../web/forms.ts';
import type { InteractionService, InteractionView } from '../oidc/consent/interactions.ts';
import { InteractionExpired } from '../oidc/consent/interactions.ts';
import type { PasswordSignIn } from '../accounts/sign-in.ts';
import type { Account, AccountRepository } from '../accounts/accounts.ts';
import type { SecondFactorCheck } from '../accounts/second-factor.ts';
import type { BruteForceGuard } from '../accounts/brute-force.ts';
import { HashingOverloaded } from '../accounts/passwords.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import type { PasskeySignIn } from '../accounts/passkey-sign-in.ts';
import { DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_MS, newDeviceId, type DeviceNotices } from '../accounts/devices.ts';
import { LOA_1, LOA_2 } from '../oidc/consent/assurance.ts';
import { lockedMessage, otpPage, passkeySection, t as secondFactorText } from './second-factor-pages.ts';
import { MAX_PASSWORD_LENGTH } from '../accounts/sign-in.ts';
import { isNationalIdShape } from '../registry/national-id.ts';
import { RegistryUnavailable } from '../registry/gateway.ts';
import { isLocale, type Locale, localeOf, switchHref } from '../web/i18n.ts';
import { translate } from './i18n.ts';
import { consentPage, consentShownText, errorPage, loginPage } from './pages.ts';
import { contentSecurityPolicy } from '../web/security.ts';
import { selectAccountPath } from './select-account-routes.ts';

/** An interaction's uid in its pages' paths. */
const UID = { params: { uid: /[A-Za-z0-9_-]{1,64}/ } };
const STEPS = ['login', 'otp', 'passkey', 'consent', 'abort'] as const;
type Step = (typeof STEPS)[number];
/** How long a password-verified citizen has to give the second factor. */
const SECOND_STEP_SECONDS = 600;

export interface InteractionRoutesDependencies {
  readonly interactions: InteractionService;
  readonly signIn: PasswordSignIn;
  readonly accounts: AccountRepository;
  readonly secondFactor: SecondFactorCheck;
  readonly bruteForce: BruteForceGuard;
  /** Holds "password done, second factor pending" per interaction. */
  readonly store: EphemeralStore;
  readonly passkeys: PasskeySignIn;
  readonly devices: DeviceNotices;
  readonly cookies: PublicCookies;
}

const secondStepKey = (uid: string) => `login-second-step:{${uid}}`;

/** A helper already answered (a redirect); unwind without writing anything else. */
class ResponseSent extends Error {}



function sendPage(ctx: ParameterizedContext, status: number, body: string, formTarget?: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', contentSecurityPolicy(formTarget ? [formTarget] : []));
  ctx.body = body;
}

function redirectOrigin(view: InteractionView): string | undefined {
  return URL.canParse(view.redirectUri) ? new URL(view.redirectUri).origin : undefined;
}

export function interactionRoutes(deps: InteractionRoutesDependencies): Router {
  /** The page the interaction needs (no step), or the step a form finishes. */
  const handle = async (ctx: ParameterizedContext, action: Step | undefined) => {
    let form = new URLSearchParams();
    let locale: Locale = localeOf(ctx);
    try {
      if (action !== undefined) form = await readForm(ctx);
      const formLang = form.get('lang');
      if (isLocale(formLang)) locale = formLang;
      if (typeof ctx.query.lang === 'string' && isLocale(ctx.query.lang)) {
        deps.cookies.set(ctx, LANGUAGE_COOKIE, ctx.query.lang);
      }

      const view = await deps.interactions.view(ctx.req, ctx.res);
      if (!ctx.query.lang && !ctx.cookies.get('lang') && !formLang) locale = localeOf(ctx, view.uiLocales);
      const formTarget = redirectOrigin(view);
      const here = switchHref(`/interaction/${view.uid}`, locale);

      /** The passkey form under the password form, with a fresh single-use challenge. */
      const passkeyAlternative = async () => passkeySection(locale, view.uid, await deps.passkeys.optionsFor(view.uid));

      /** The account whose password was verified in this interaction and who owes a second factor. */
      const secondStepPending = async (current: InteractionView): Promise<string | undefined> => {
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
      };

      /** After the password: a level-2 request goes on to the second factor, or is refused. */
      const startSecondStep = async (current: InteractionView, account: Account): Promise<void> => {
        ctx.status = 303;
        if (!deps.secondFactor.canReachLevel2(account)) {
          ctx.redirect(await deps.interactions.fail(ctx.req, ctx.res, 'unmet_authentication_requirements', 'level 2 needs a level-2 account with a second factor'));
          return;
        }
        await deps.store.put(secondStepKey(current.uid), account.id, SECOND_STEP_SECONDS);
        ctx.redirect(`/interaction/${current.uid}`);
      };

      if (action === undefined && !ctx.cookies.get(DEVICE_COOKIE)) {
        // Marks this browser, so a sign-in from another one can be told to the citizen.
        deps.cookies.set(ctx, DEVICE_COOKIE, newDeviceId(), { maxAge: DEVICE_COOKIE_MAX_AGE_MS });
      }

      if (action === undefined) {
        if (view.prompt === 'login' && (await secondStepPending(view))) {
          sendPage(ctx, 200, otpPage({ locale, uid: view.uid, clientName: view.clientName, switchHref: here }), formTarget);
        } else if (view.prompt === 'login') {
          const hint = view.loginHint && isNationalIdShape(view.loginHint) ? view.loginHint : '';
          sendPage(
            ctx,
            200,
            loginPage({ locale, uid: view.uid, clientName: view.clientName, username: hint, switchHref: here, alternatives: await passkeyAlternative() }),
            formTarget,
          );
        } else if (view.prompt === 'consent') {
          sendPage(
            ctx,
            200,
            consentPage({ locale, uid: view.uid, clientName: view.clientName, scopes: view.scopesToConsent, claims: view.claimsToConsent, switchHref: here }),
            formTarget,
          );
        } else if (view.prompt === 'select_account') {
          // Its own page and forms (select-account-routes.ts).
          ctx.status = 303;
          ctx.redirect(selectAccountPath(view.uid));
        } else {
          sendPage(ctx, 400, errorPage(locale, { code: 'unsupported_prompt' }));
        }
        return;
      }

      if (action === 'abort') {
        ctx.status = 303;
        ctx.redirect(await deps.interactions.abort(ctx.req, ctx.res));
        return;
      }

      if (action === 'login') {
        if (view.prompt !== 'login') throw new InteractionExpired('not waiting for a login');
        // Surrounding spaces are forgiven; anything else but 12 digits is refused, not repaired.
        const username = (form.get('username') ?? '').trim();
        const password = form.get('password') ?? '';
        const page = async (error: 'invalid' | 'missing' | 'refused', status: number) =>
          sendPage(
            ctx,
            status,
            loginPage({
              locale,
              uid: view.uid,
              clientName: view.clientName,
              username: isNationalIdShape(username) ? username : '',
              error,
              switchHref: here,
              alternatives: await passkeyAlternative(),
            }),
            formTarget,
          );
        const notice = async (status: number, alert: string) =>
          sendPage(
            ctx,
            status,
            loginPage({
              locale,
              uid: view.uid,
              clientName: view.clientName,
              username: isNationalIdShape(username) ? username : '',
              alert,
              switchHref: here,
              alternatives: await passkeyAlternative(),
            }),
            formTarget,
          );
        if (!(await deps.bruteForce.allowAddress(ctx.ip))) {
          await notice(429, secondFactorText(locale, 'address.limited'));
          return;
        }
        if (!isNationalIdShape(username) || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
          await page('missing', 400);
          return;
        }
        const result = await deps.signIn.signIn(username, password, { clientId: view.clientId, ip: ctx.ip });
        if (result.outcome === 'temporarily-locked') {
          await notice(429, lockedMessage(locale, result.until, 'password'));
          return;
        }
        if (result.outcome === 'invalid-credentials') {
          await page('invalid', 401);
          return;
        }
        if (result.outcome === 'refused') {
          await page('refused', 403);
          return;
        }
        if (view.requiredAcr === LOA_2) {
          await startSecondStep(view, result.account);
          return;
        }
        ctx.status = 303;
        await deps.devices.signedIn(result.account, ctx.cookies.get(DEVICE_COOKIE));
        ctx.redirect(await deps.interactions.finishLogin(ctx.req, ctx.res, { accountId: result.account.id, acr: LOA_1, amr: ['pwd'] }));
        return;
      }

      if (action === 'passkey') {
        if (view.prompt !== 'login') throw new InteractionExpired('not waiting for a login');
        const refuse = async (status: number, alert: string) =>
          sendPage(
            ctx,
            status,
            loginPage({ locale, uid: view.uid, clientName: view.clientName, username: '', alert, switchHref: here, alternatives: await passkeyAlternative() }),
            formTarget,
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
        ctx.status = 303;
        if (view.requiredAcr === LOA_2 && !level2) {
          ctx.redirect(await deps.interactions.fail(ctx.req, ctx.res, 'unmet_authentication_requirements', 'level 2 needs a level-2 account'));
          return;
        }
        // A passkey with user verification is something held plus a PIN or biometric: two factors.
        await deps.devices.signedIn(result.account, ctx.cookies.get(DEVICE_COOKIE));
        ctx.redirect(
          await deps.interactions.finishLogin(ctx.req, ctx.res, { accountId: result.account.id, acr: level2 ? LOA_2 : LOA_1, amr: ['hwk', 'mfa'] }),
        );
        return;
      }

      if (action === 'otp') {
        const pending = await secondStepPending(view);
        const account = pending && (await deps.accounts.findById(pending));
        if (view.prompt !== 'login' || !account || account.status !== 'active') throw new InteractionExpired('no second factor is being asked');
        if (!(await deps.bruteForce.allowAddress(ctx.ip))) {
          sendPage(ctx, 429, otpPage({ locale, uid: view.uid, clientName: view.clientName, alert: secondFactorText(locale, 'address.limited'), switchHref: here }), formTarget);
          return;
        }
        const verdict = await deps.secondFactor.verify(account, (form.get('otp') ?? '').slice(0, 64), { ip: ctx.ip });
        if (verdict.outcome !== 'valid') {
          const alert = verdict.outcome === 'locked' ? lockedMessage(locale, verdict.until, 'otp') : secondFactorText(locale, 'otp.invalid');
          sendPage(ctx, verdict.outcome === 'locked' ? 429 : 401, otpPage({ locale, uid: view.uid, clientName: view.clientName, alert, switchHref: here }), formTarget);
          return;
        }
        await deps.store.delete(secondStepKey(view.uid));
        await deps.devices.signedIn(account, ctx.cookies.get(DEVICE_COOKIE));
        ctx.status = 303;
        ctx.redirect(
          await deps.interactions.finishLogin(ctx.req, ctx.res, {
            accountId: account.id,
            acr: LOA_2,
            amr: ['pwd', ...verdict.amr, 'mfa'],
          }),
        );
        return;
      }

      // consent
      ctx.status = 303;
      // The record keeps the page's words in the language the form was shown in (its hidden lang).
      const shown = { locale, text: consentShownText(locale, view.clientName, view.scopesToConsent, view.claimsToConsent) };
      ctx.redirect(await deps.interactions.finishConsent(ctx.req, ctx.res, shown));
    } catch (error) {
      if (error instanceof ResponseSent) return;
      if (error instanceof HashingOverloaded) {
        // Too many passwords are being checked: refuse this one quickly, keep tokens and discovery fast.
        ctx.set('Retry-After', '2');
        sendPage(ctx, 503, errorPage(locale, { lead: secondFactorText(locale, 'busy.message'), code: 'temporarily_unavailable' }));
        return;
      }
      if (error instanceof InteractionExpired) {
        sendPage(ctx, 400, errorPage(locale, { lead: translate(locale, 'error.expired'), code: 'interaction_expired' }));
        return;
      }
      if (error instanceof RegistryUnavailable) {
        // Nothing was written (no session, no audit); the next try works once the registry answers.
        if (error.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.retryAfterSeconds));
        sendPage(ctx, 503, errorPage(locale, { lead: translate(locale, 'error.registry_unavailable'), code: 'registry_unavailable' }));
        return;
      }
      if (error instanceof FormTooLarge) {
        sendPage(ctx, 413, errorPage(locale, { lead: translate(locale, 'error.too_large'), code: 'request_too_large' }));
        return;
      }
      throw error;
    }
  };

  const router = new Router().get('/interaction/{uid}', (ctx) => handle(ctx, undefined), UID);
  for (const step of STEPS) router.post(`/interaction/{uid}/${step}`, (ctx) => handle(ctx, step), UID);
  return router;
}
