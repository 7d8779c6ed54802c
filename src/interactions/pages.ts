// The pages a citizen sees: login, consent, errors, logout. Plain HTML forms that work without
// JavaScript; field names are a contract (docs/design.md "Demo data"): username, password, otp.
import { Html, html, layout } from '../web/html.ts';
import { translate, translateIfKnown } from './i18n.ts';
import { localeOf, switchHref, type Locale } from '../web/i18n.ts';
import { SENSITIVE_SCOPES, inClaimOrder, inScopeOrder } from '../oidc/consent/claims.ts';
import type { SubjectType } from '../oidc/subjects.ts';
import type { ProviderPages } from '../oidc/provider.ts';
import { contentSecurityPolicy } from '../web/security.ts';
import { flowHref } from './registration-pages.ts';
import { ACCOUNT_MESSAGES } from './messages/account.ts';

export function errorPage(locale: Locale, options: { lead?: string; code?: string; description?: string; switchHref?: string }): string {
  return layout({
    locale,
    title: translate(locale, 'error.title'),
    body: html`<h1>${translate(locale, 'error.title')}</h1>
<p role="alert">${options.lead ?? translate(locale, 'error.lead')}</p>
${options.code ? html`<p class="muted">${translate(locale, 'error.code')}: <code>${options.code}</code>${options.description ? html` — ${options.description}` : ''}</p>` : ''}`,
    ...(options.switchHref && { switchHref: options.switchHref }),
  });
}

export interface LoginPageModel {
  readonly locale: Locale;
  readonly uid: string;
  readonly clientName: string;
  readonly username: string;
  readonly error?: 'invalid' | 'missing' | 'refused';
  /** A notice in words already chosen (a lock, a limit), shown instead of `error`. */
  readonly alert?: string;
  readonly switchHref: string;
  /** Markup offering another way in (the passkey form), shown under the password form. */
  readonly alternatives?: Html;
}

export function loginPage(model: LoginPageModel): string {
  const { locale } = model;
  const t = (key: Parameters<typeof translate>[1]) => translate(locale, key);
  const errorText = model.alert ?? (model.error && t(`login.${model.error}`));
  return layout({
    locale,
    title: t('login.title'),
    switchHref: model.switchHref,
    body: html`<h1>${t('login.title')}</h1>
<p>${t('login.continue_to')} <strong>${model.clientName}</strong></p>
${errorText ? html`<p role="alert" id="login-error">${errorText}</p>` : ''}
<form method="post" action="/interaction/${model.uid}/login">
<input type="hidden" name="lang" value="${locale}">
<label for="username">${t('login.username')}</label>
<input id="username" name="username" type="text" inputmode="numeric" autocomplete="username" required value="${model.username}" aria-describedby="username-hint"${errorText ? html` aria-invalid="true"` : ''}>
<p class="muted" id="username-hint">${t('login.username_hint')}</p>
<label for="password">${t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button type="submit" class="primary">${t('login.submit')}</button></div>
</form>
<ul class="links">
<li><a href="${flowHref('reset', `/interaction/${model.uid}`, locale)}">${t('login.forgot')}</a></li>
<li>${t('login.no_account')} <a href="${flowHref('register', `/interaction/${model.uid}`, locale)}">${t('login.register')}</a></li>
</ul>
${model.alternatives ?? ''}
<form method="post" action="/interaction/${model.uid}/abort">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="secondary">${t('login.cancel')}</button></div>
</form>`,
  });
}

/** What a consent page (or a CIBA approval) asks of the citizen. */
export interface ConsentRequest {
  readonly scopes: readonly string[];
  readonly claims: readonly string[];
  /** Picks the openid line: what the identifier the service gets is shared with. */
  readonly subjectType: SubjectType;
  /** The citizen's contacts: a phone or e-mail they have not given is not listed (there is nothing to share). */
  readonly contacts: { readonly phoneNumber: string | null; readonly email: string | null };
}

export interface ConsentPageModel extends ConsentRequest {
  readonly locale: Locale;
  readonly uid: string;
  readonly clientName: string;
  readonly switchHref: string;
}

/** What a consent page says, line by line: shown by consentPage and kept word for word in the consent record. */
export interface ConsentWording {
  readonly title: string;
  /** Follows the service's name. */
  readonly lead: string;
  readonly ordinary: readonly { readonly scope: string; readonly text: string }[];
  /** The individually requested claims, as one line, if any. */
  readonly otherClaims: string | undefined;
  readonly sensitiveHeading: string;
  readonly sensitive: readonly { readonly scope: string; readonly text: string }[];
  readonly note: string;
}

/** The scopes and claims of the phone and the e-mail address, left off while the citizen has none. */
const CONTACT_ITEMS = {
  phoneNumber: new Set(['phone', 'phone_number', 'phone_number_verified']),
  email: new Set(['email', 'email_verified']),
} as const;

/** Whether the request's item names a contact the citizen has not given (nothing to share, nothing shown). */
function isMissingContact(request: ConsentRequest, item: string): boolean {
  return (request.contacts.phoneNumber === null && CONTACT_ITEMS.phoneNumber.has(item)) || (request.contacts.email === null && CONTACT_ITEMS.email.has(item));
}

/** The requested scopes and claims the consent page leaves off: not shown, so not granted. */
export function withheldItems(request: ConsentRequest): { scopes: string[]; claims: string[] } {
  return {
    scopes: request.scopes.filter((scope) => isMissingContact(request, scope)),
    claims: request.claims.filter((claim) => isMissingContact(request, claim)),
  };
}

/** A claim in the account page's plain words (`claimname.*`), or its name where there are none. */
function claimName(locale: Locale, claim: string): string {
  const words = (ACCOUNT_MESSAGES as Record<string, Readonly<Record<Locale, string>> | undefined>)[`claimname.${claim}`];
  return words ? words[locale] : claim;
}

/** The request's lines in the fixed order (src/oidc/consent/claims.ts), without a contact the citizen has not given. */
export function consentWording(locale: Locale, request: ConsentRequest): ConsentWording {
  const missing = (item: string) => isMissingContact(request, item);
  const scopes = inScopeOrder(request.scopes.filter((scope) => !missing(scope)));
  const claims = inClaimOrder(request.claims.filter((claim) => !missing(claim)));
  const describe = (scope: string) => ({
    scope,
    text: scope === 'openid' ? translate(locale, `subject.${request.subjectType}`) : (translateIfKnown(locale, `scope.${scope}`) ?? scope),
  });
  return {
    title: translate(locale, 'consent.title'),
    lead: translate(locale, 'consent.lead'),
    ordinary: scopes.filter((scope) => !SENSITIVE_SCOPES.has(scope)).map(describe),
    otherClaims: claims.length > 0 ? `${translate(locale, 'claim.other')}: ${claims.map((claim) => claimName(locale, claim)).join(', ')}` : undefined,
    sensitiveHeading: translate(locale, 'consent.sensitive'),
    sensitive: scopes.filter((scope) => SENSITIVE_SCOPES.has(scope)).map(describe),
    note: translate(locale, 'consent.note'),
  };
}

/** What the service would receive, as lists: the ordinary lines, then the sensitive ones under their heading (also on the CIBA approval page). */
export function consentClaimLists(wording: ConsentWording): Html {
  return html`<ul class="claims">${wording.ordinary.map((line) => html`<li data-scope="${line.scope}">${line.text}</li>`)}${
    wording.otherClaims ? html`<li>${wording.otherClaims}</li>` : ''
  }</ul>
${
  wording.sensitive.length > 0
    ? html`<p><strong>${wording.sensitiveHeading}</strong></p>
<ul class="claims">${wording.sensitive.map((line) => html`<li class="sensitive" data-scope="${line.scope}">${line.text}</li>`)}</ul>`
    : ''
}`;
}

/** The consent page's text as plain lines (what a consent record keeps): the same words, in order. */
export function consentShownText(locale: Locale, clientName: string, request: ConsentRequest): string {
  const wording = consentWording(locale, request);
  return [
    wording.title,
    `${clientName} ${wording.lead}`,
    ...wording.ordinary.map((line) => `- ${line.text}`),
    ...(wording.otherClaims ? [`- ${wording.otherClaims}`] : []),
    ...(wording.sensitive.length > 0 ? [wording.sensitiveHeading, ...wording.sensitive.map((line) => `- ${line.text}`)] : []),
    wording.note,
  ].join('\n');
}

export function consentPage(model: ConsentPageModel): string {
  const { locale } = model;
  const t = (key: Parameters<typeof translate>[1]) => translate(locale, key);
  const wording = consentWording(locale, model);
  return layout({
    locale,
    title: wording.title,
    switchHref: model.switchHref,
    body: html`<h1>${wording.title}</h1>
<p><strong>${model.clientName}</strong> ${wording.lead}</p>
${consentClaimLists(wording)}
<form method="post" action="/interaction/${model.uid}/consent">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="primary">${t('consent.agree')}</button></div>
</form>
<form method="post" action="/interaction/${model.uid}/abort">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="secondary">${t('consent.refuse')}</button></div>
</form>
<p class="muted">${wording.note}</p>`,
  });
}

export const providerPages: ProviderPages = {
  errorPage(ctx, error) {
    const locale = localeOf(ctx);
    return errorPage(locale, {
      // A dependency down (src/storage/dependency-faults.ts): say so, and that trying later will work.
      ...(error.error === 'temporarily_unavailable'
        ? { lead: translate(locale, 'error.unavailable') }
        : new URL(ctx.originalUrl, 'http://x').pathname.startsWith('/session/end') && { lead: translate(locale, 'error.logout_lead') }),
      code: error.error,
      ...(error.error_description && { description: error.error_description }),
      ...(ctx.method === 'GET' && { switchHref: switchHref(ctx.originalUrl, locale) }),
    });
  },
  logoutConfirmationPage(ctx, form, { returnTo, authenticated }) {
    const locale = localeOf(ctx);
    ctx.set('Content-Security-Policy', contentSecurityPolicy(returnTo && URL.canParse(returnTo) ? [new URL(returnTo).origin] : []));
    // `form` is the provider's own hidden form (id="op.logoutForm", carrying its xsrf token): trusted
    // markup. Signing out always ends the whole session (logout=yes). When the service proved who is
    // signing out (a matching id_token_hint), /assets/logout.js presses the button; without
    // JavaScript, or when the request is not authenticated, the citizen does.
    return layout({
      locale,
      title: translate(locale, 'logout.title'),
      body: html`<h1>${translate(locale, 'logout.title')}</h1>
${new Html(form)}
<p>${translate(locale, authenticated ? 'logout.in_progress' : 'logout.question')}</p>
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" class="primary"${authenticated ? html` data-autosubmit` : ''}>${translate(locale, 'logout.yes')}</button>
${returnTo && !authenticated ? html`<a class="secondary" href="${returnTo}">${translate(locale, 'logout.no')}</a>` : ''}
</div>
${authenticated ? html`<script src="/assets/logout.js"></script>` : ''}`,
    });
  },
  logoutDonePage(ctx) {
    const locale = localeOf(ctx);
    return layout({
      locale,
      title: translate(locale, 'logout.title'),
      body: html`<h1>${translate(locale, 'logout.title')}</h1><p role="status">${translate(locale, 'logout.done')}</p>`,
    });
  },
};
