// The second-factor page (the `otp` field is a contract, docs/design.md "Demo data") and the notices of
// the login form: locked, too many attempts from one address, busy.
import { html, layout, type Html } from '../../web/html.ts';
import { translator, type Locale } from '../../web/i18n.ts';
import { SECOND_FACTOR_MESSAGES } from '../messages/second-factor.ts';


export const t = translator(SECOND_FACTOR_MESSAGES);

/** A lock's end in the citizen's language and Vietnam's time zone. */
export function formatUntil(locale: Locale, until: Date): string {
  return new Intl.DateTimeFormat(locale === 'vi' ? 'vi-VN' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Asia/Ho_Chi_Minh',
  }).format(until);
}

export function lockedMessage(locale: Locale, until: Date, what: 'password' | 'otp'): string {
  return t(locale, what === 'password' ? 'locked.message' : 'otp.locked').replace('{until}', formatUntil(locale, until));
}

/** The passkey alternative under the login form (passkey.js drives it; the password form needs none). */
export function passkeySection(locale: Locale, uid: string, optionsJson: string): Html {
  return html`<h2>${t(locale, 'passkey.heading')}</h2>
<form method="post" action="/interaction/${uid}/passkey" data-passkey="get" data-passkey-options="${optionsJson}" data-passkey-failed="${t(locale, 'passkey.failed')}" data-passkey-unsupported="${t(locale, 'passkey.unsupported')}">
<input type="hidden" name="lang" value="${locale}">
<input type="hidden" name="credential" value="">
<p class="muted" data-passkey-nojs>${t(locale, 'passkey.nojs')}</p>
<p data-passkey-error aria-live="assertive" hidden></p>
<div class="actions"><button type="submit" class="secondary">${t(locale, 'passkey.submit')}</button></div>
</form>
<script src="/assets/passkey.js"></script>`;
}

export interface OtpPageModel {
  readonly locale: Locale;
  readonly uid: string;
  readonly clientName: string;
  readonly alert?: string;
  readonly switchHref: string;
}

export function otpPage(model: OtpPageModel): string {
  const { locale } = model;
  return layout({
    locale,
    title: t(locale, 'otp.title'),
    switchHref: model.switchHref,
    body: html`<h1>${t(locale, 'otp.title')}</h1>
<p><strong>${model.clientName}</strong> ${t(locale, 'otp.lead')}</p>
${model.alert ? html`<p role="alert" id="otp-error">${model.alert}</p>` : ''}
<form method="post" action="/interaction/${model.uid}/otp">
<input type="hidden" name="lang" value="${locale}">
<label for="otp">${t(locale, 'otp.label')}</label>
<input id="otp" name="otp" type="text" inputmode="numeric" autocomplete="one-time-code" required aria-describedby="otp-hint${model.alert ? ' otp-error' : ''}"${model.alert ? html` aria-invalid="true"` : ''}>
<p class="muted" id="otp-hint">${t(locale, 'otp.hint')}</p>
<div class="actions"><button type="submit" class="primary">${t(locale, 'otp.submit')}</button></div>
</form>
<form method="post" action="/interaction/${model.uid}/abort">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="secondary">${t(locale, 'otp.cancel')}</button></div>
</form>`,
  });
}

/** Why an account cannot meet a level-2 request: it is level 1, or level 2 without a second factor. */
export type UnmetReason = 'level' | 'second_factor';

export interface UnmetPageModel {
  readonly locale: Locale;
  readonly uid: string;
  readonly clientName: string;
  readonly reason: UnmetReason;
  readonly switchHref: string;
}

/** Said before the service gets unmet_authentication_requirements: what is missing and how to get it. */
export function unmetPage(model: UnmetPageModel): string {
  const { locale, reason } = model;
  return layout({
    locale,
    title: t(locale, 'unmet.title'),
    switchHref: model.switchHref,
    body: html`<h1>${t(locale, 'unmet.title')}</h1>
<p><strong>${model.clientName}</strong> ${t(locale, reason === 'level' ? 'unmet.level' : 'unmet.second_factor')}</p>
<p>${t(locale, reason === 'level' ? 'unmet.level.how' : 'unmet.second_factor.how')}</p>
<p><a href="/account?lang=${locale}">${t(locale, 'unmet.account')}</a></p>
<form method="post" action="/interaction/${model.uid}/unmet">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="primary">${t(locale, 'unmet.back')}</button></div>
</form>`,
  });
}
