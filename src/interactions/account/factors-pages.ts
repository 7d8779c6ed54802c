// The second factors' pages: an authenticator app (with its QR code), recovery codes, and passkey
// enrolment (the one page that needs JavaScript: WebAuthn, /assets/passkey.js).
import { Html, html } from '../../web/html.ts';
import type { Locale } from '../../web/i18n.ts';
import { MAX_PASSKEY_NAME_LENGTH } from '../../accounts/second-factors.ts';
import { csrfField, describedBy, fieldError, invalid, page, t, type PageFrame } from './pages.ts';

export interface TotpPageModel extends PageFrame {
  readonly csrf: string;
  readonly secret: string;
  /** The QR code of the otpauth:// URI, as SVG markup from the qrcode library (trusted). */
  readonly qrSvg: string;
  readonly replacing: boolean;
  /** The second factors were reset: the in-person handover code is asked for too. */
  readonly handover?: boolean;
  readonly error?: 'totp.wrong_code' | HandoverError;
}

export type HandoverError = 'handover.wrong' | 'handover.expired';

/** The handover code field (after a reset by an officer), with its error. */
function handoverField(locale: Locale, required: boolean | undefined, error: string | undefined): Html {
  if (!required) return html``;
  return html`<label for="handover_code">${t(locale, 'handover.label')}</label>
<p class="muted" id="handover-hint">${t(locale, 'handover.hint')}</p>
<input id="handover_code" name="handover_code" type="text" autocomplete="off" autocapitalize="characters" maxlength="16" required${describedBy('handover-hint', error && 'handover-error')}${invalid(Boolean(error))}>
${fieldError('handover-error', error)}`;
}

/** Groups of four, as authenticator apps show and people type them. */
function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

export function totpPage(model: TotpPageModel): string {
  const { locale } = model;
  const handoverError = model.error?.startsWith('handover.') ? t(locale, model.error) : undefined;
  const error = model.error && !handoverError ? t(locale, model.error) : undefined;
  return page(
    model,
    t(locale, 'totp.enrol_title'),
    html`<h1>${t(locale, 'totp.enrol_title')}</h1>
<ol class="steps">
<li><p>${t(locale, 'totp.step1')}</p>
<figure class="qr" role="img" aria-label="${t(locale, 'totp.qr_label')}">${new Html(model.qrSvg)}</figure></li>
<li><p id="totp-secret-label">${t(locale, 'totp.step2')}</p>
<p><code id="totp-secret" aria-labelledby="totp-secret-label" data-secret="${model.secret}">${groupSecret(model.secret)}</code></p></li>
<li><p>${t(locale, 'totp.step3')}</p></li>
</ol>
${model.replacing ? html`<p class="muted">${t(locale, 'totp.replaces')}</p>` : ''}
<form method="post" action="/account/totp">${csrfField(model.csrf)}
${handoverField(locale, model.handover, handoverError)}
<label for="code">${t(locale, 'totp.code')}</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required${describedBy(error && 'code-error')}${invalid(Boolean(error))}>
${fieldError('code-error', error)}
<div class="actions"><button type="submit" class="primary">${t(locale, 'totp.confirm')}</button><a class="secondary" href="/account/security">${t(locale, 'account.cancel')}</a></div>
</form>`,
  );
}

export interface RecoveryCodesPageModel extends PageFrame {
  readonly csrf: string;
  /** Present right after generation: shown this once. */
  readonly codes?: readonly string[];
}

export function recoveryCodesPage(model: RecoveryCodesPageModel): string {
  const { locale } = model;
  const body = model.codes
    ? html`<h1>${t(locale, 'recovery.title')}</h1>
<p role="alert">${t(locale, 'recovery.shown_once')}</p>
<ol class="recovery-codes" id="recovery-codes">${model.codes.map((code) => html`<li><code>${code}</code></li>`)}</ol>
<div class="actions"><a class="secondary" href="/account/security">${t(locale, 'recovery.done')}</a></div>`
    : html`<h1>${t(locale, 'recovery.title')}</h1>
<p>${t(locale, 'recovery.lead')}</p>
<form method="post" action="/account/recovery-codes">${csrfField(model.csrf)}
<div class="actions"><button type="submit" class="primary">${t(locale, 'recovery.generate')}</button><a class="secondary" href="/account/security">${t(locale, 'account.cancel')}</a></div>
</form>`;
  return page(model, t(locale, 'recovery.title'), body);
}

export interface PasskeyPageModel extends PageFrame {
  readonly csrf: string;
  /** PublicKeyCredentialCreationOptionsJSON for the browser script. */
  readonly options: unknown;
  readonly name: string;
  /** The second factors were reset: the in-person handover code is asked for too. */
  readonly handover?: boolean;
  readonly error?: 'passkeys.rejected' | 'passkeys.needs_js' | HandoverError;
}

export function passkeyPage(model: PasskeyPageModel): string {
  const { locale } = model;
  const error = model.error && !model.error.startsWith('handover.') ? t(locale, model.error) : undefined;
  // The options travel in a data attribute (escaped like any attribute) rather than an inline script,
  // which the Content-Security-Policy forbids.
  return page(
    model,
    t(locale, 'passkeys.enrol_title'),
    html`<h1>${t(locale, 'passkeys.enrol_title')}</h1>
<p>${t(locale, 'passkeys.lead')}</p>
<form method="post" action="/account/passkeys" data-passkey="create" data-passkey-options="${JSON.stringify(model.options)}" data-passkey-failed="${t(locale, 'passkeys.failed')}" data-passkey-unsupported="${t(locale, 'passkeys.unsupported')}">
${csrfField(model.csrf)}
<input type="hidden" name="credential" value="">
${handoverField(locale, model.handover, model.error?.startsWith('handover.') ? t(locale, model.error) : undefined)}
<label for="passkey-name">${t(locale, 'passkeys.name')}</label>
<input id="passkey-name" name="name" type="text" maxlength="${MAX_PASSKEY_NAME_LENGTH}" value="${model.name}"${describedBy('passkey-name-hint')}>
<p class="muted" id="passkey-name-hint">${t(locale, 'passkeys.name_hint')}</p>
<p class="muted" data-passkey-nojs>${t(locale, 'passkeys.needs_js')}</p>
<p role="alert" data-passkey-error${error ? '' : html` hidden`}>${error ?? ''}</p>
<div class="actions"><button type="submit" class="primary">${t(locale, 'passkeys.create')}</button><a class="secondary" href="/account/security">${t(locale, 'account.cancel')}</a></div>
</form>
<script src="/assets/passkey.js"></script>`,
  );
}
