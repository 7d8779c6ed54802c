// The account page's templates (their words are ../messages/account.ts): the overview and one page per
// change. Plain forms that work without JavaScript — except passkey enrolment, which needs WebAuthn
// (/assets/passkey.js). Every form carries the console session's CSRF token; every error sits next to
// its field, tied to it by aria-describedby, in a role="alert" element.
import { Html, html, layout } from '../../web/html.ts';
import { formatDate, formatDateTime, translator, type Locale } from '../../web/i18n.ts';
import { ACCOUNT_MESSAGES } from '../messages/account.ts';
import { translateIfKnown } from '../i18n.ts';
import type { RegistryRecord } from '../../registry/registry.ts';
import { formatAddress } from '../../registry/registry.ts';
import type { Passkey, SecondFactors } from '../../accounts/second-factors.ts';
import { MAX_PASSKEY_NAME_LENGTH } from '../../accounts/second-factors.ts';
import type { ContactKind } from '../../accounts/self-service.ts';
import { approvalsSection } from './approvals-pages.ts';

export type AccountMessageKey = keyof typeof ACCOUNT_MESSAGES;
export const t = translator(ACCOUNT_MESSAGES);

export function isAccountMessageKey(key: string | undefined): key is AccountMessageKey {
  return key !== undefined && key in ACCOUNT_MESSAGES;
}

function maskedPhone(phone: string): string {
  return phone.length > 6 ? `${phone.slice(0, 3)}•••${phone.slice(-4)}` : phone;
}

/** Hidden fields every console form carries. */
function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}

/** An error tied to its field: the input names it in aria-describedby. */
function fieldError(id: string, text: string | undefined): Html {
  return text ? html`<p class="field-error" id="${id}" role="alert">${text}</p>` : html``;
}

function describedBy(...ids: (string | false | undefined)[]): Html {
  const present = ids.filter((id): id is string => typeof id === 'string' && id !== '');
  return present.length > 0 ? html` aria-describedby="${present.join(' ')}"` : html``;
}

function invalid(flag: boolean): Html {
  return flag ? html` aria-invalid="true"` : html``;
}

interface PageFrame {
  readonly locale: Locale;
  readonly switchHref: string;
}

function page(frame: PageFrame, title: string, body: Html): string {
  return layout({ locale: frame.locale, title, body, switchHref: frame.switchHref });
}

// ---------------------------------------------------------------------------------------------------
// Overview

export interface SessionRow {
  readonly id: string;
  readonly current: boolean;
  readonly signedInAt: Date | undefined;
  readonly expiresAt: Date | undefined;
  readonly services: readonly string[];
}

/** A service holding consent, as the overview lists it. */
export interface ServiceRow {
  readonly clientName: string;
  readonly scopes: readonly string[];
  readonly claims: readonly string[];
  readonly since: Date;
  /** The consent record to print or withdraw. */
  readonly recordId: string;
}

export interface HistoryRow {
  readonly at: Date;
  readonly kind: 'claims.released' | 'consent.given' | 'consent.withdrawn';
  readonly clientName: string;
  /** Claim names (a release) or scopes (a consent). */
  readonly items: readonly string[];
}

export interface HistoryPage {
  readonly rows: readonly HistoryRow[];
  /** 0 is the newest page. */
  readonly page: number;
  readonly hasMore: boolean;
}

export interface OverviewModel extends PageFrame {
  readonly csrf: string;
  readonly notice: AccountMessageKey | undefined;
  readonly account: {
    readonly level: 1 | 2;
    readonly nationalId: string;
    readonly phoneNumber: string | null;
    readonly phoneNumberVerified: boolean;
    readonly email: string | null;
    readonly emailVerified: boolean;
  };
  readonly signIn: { readonly acr: string; readonly authTime: Date };
  /** The registry's record; 'unavailable' when the registry did not answer. */
  readonly record: RegistryRecord | 'unavailable' | undefined;
  readonly factors: SecondFactors;
  readonly passkeys: readonly Passkey[];
  readonly sessions: readonly SessionRow[];
  readonly services: readonly ServiceRow[];
  readonly history: HistoryPage;
}

function registrySection(model: OverviewModel): Html {
  const { locale } = model;
  const record = model.record;
  const rows: [string, string][] = [];
  if (record && record !== 'unavailable') {
    rows.push([t(locale, 'registry.national_id'), record.nationalId]);
    rows.push([t(locale, 'registry.full_name'), record.fullName]);
    rows.push([t(locale, 'registry.birth_date'), formatDate(locale, record.birthDate)]);
    rows.push([t(locale, 'registry.gender'), t(locale, record.gender === 'male' ? 'registry.gender.male' : 'registry.gender.female')]);
    rows.push([t(locale, 'registry.nationality'), record.nationality === 'VN' ? 'Việt Nam' : record.nationality]);
    rows.push([t(locale, 'registry.ethnicity'), record.ethnicity]);
    rows.push([t(locale, 'registry.place_of_origin'), record.placeOfOrigin]);
    rows.push([t(locale, 'registry.permanent_address'), formatAddress(record.permanentAddress)]);
    if (record.temporaryAddress) rows.push([t(locale, 'registry.temporary_address'), formatAddress(record.temporaryAddress)]);
    if (record.relationToHead) rows.push([t(locale, 'registry.relation'), t(locale, `relation.${record.relationToHead}` as const)]);
    if (record.idCardIssueDate) {
      const expiry = record.idCardExpiryDate ? `, ${t(locale, 'registry.id_card.expires')} ${formatDate(locale, record.idCardExpiryDate)}` : '';
      rows.push([t(locale, 'registry.id_card'), `${t(locale, 'registry.id_card.issued')} ${formatDate(locale, record.idCardIssueDate)}${expiry}`]);
    }
  }
  return html`<section aria-labelledby="registry-title">
<h2 id="registry-title">${t(locale, 'registry.title')}</h2>
<p class="muted" id="registry-source">${t(locale, 'registry.source')}</p>
${record === 'unavailable' ? html`<p role="alert">${t(locale, 'registry.unavailable')}</p>` : ''}
${rows.length > 0 ? html`<dl class="claims" aria-describedby="registry-source">${rows.map(([term, value]) => html`<dt>${term}</dt><dd>${value}</dd>`)}</dl>` : ''}
</section>`;
}

function contactsSection(model: OverviewModel): Html {
  const { locale, account } = model;
  const status = (verified: boolean) => t(locale, verified ? 'contacts.verified' : 'contacts.unverified');
  const phoneVerified = account.phoneNumber !== null && account.phoneNumberVerified;
  return html`<section aria-labelledby="contacts-title">
<h2 id="contacts-title">${t(locale, 'contacts.title')}</h2>
<p class="muted">${t(locale, 'contacts.lead')}</p>
<dl class="claims">
<dt>${t(locale, 'contacts.phone')}</dt><dd>${account.phoneNumber ? html`${account.phoneNumber} (${status(account.phoneNumberVerified)})` : t(locale, 'contacts.none')}</dd>
<dt>${t(locale, 'contacts.email')}</dt><dd>${account.email ? html`${account.email} (${status(account.emailVerified)})` : t(locale, 'contacts.none')}</dd>
</dl>
<div class="actions">
<a class="secondary" href="/account/contacts/phone">${t(locale, 'contacts.change_phone')}</a>
<a class="secondary" href="/account/contacts/email">${t(locale, account.email ? 'contacts.change_email' : 'contacts.add_email')}</a>
${
  account.email && phoneVerified
    ? html`<form method="post" action="/account/contacts/email/remove">${csrfField(model.csrf)}<button type="submit" class="secondary">${t(locale, 'contacts.remove_email')}</button></form>`
    : ''
}
</div>
</section>`;
}

function factorsSection(model: OverviewModel): Html {
  const { locale, factors } = model;
  const totpStatus = factors.totp
    ? factors.totpEnrolledAt
      ? `${t(locale, 'totp.on_since')} ${formatDateTime(locale, factors.totpEnrolledAt)}`
      : t(locale, 'totp.on')
    : t(locale, 'totp.off');
  return html`<section aria-labelledby="factors-title">
<h2 id="factors-title">${t(locale, 'factors.title')}</h2>
${model.account.level === 2 ? html`<p class="muted">${t(locale, 'factors.level2_needs')}</p>` : ''}
<h3>${t(locale, 'totp.title')}</h3>
<p id="totp-status">${totpStatus}</p>
<div class="actions">
<a class="secondary" href="/account/totp">${t(locale, factors.totp ? 'totp.replace' : 'totp.add')}</a>
${
  factors.totp
    ? html`<form method="post" action="/account/totp/remove">${csrfField(model.csrf)}<button type="submit" class="secondary">${t(locale, 'totp.remove')}</button></form>`
    : ''
}
</div>
<h3>${t(locale, 'passkeys.title')}</h3>
${
  model.passkeys.length === 0
    ? html`<p>${t(locale, 'passkeys.none')}</p>`
    : html`<ul class="passkeys">${model.passkeys.map(
        (passkey, index) => html`<li><span id="passkey-${index}">${passkey.name}</span> — ${t(locale, 'passkeys.added')} ${formatDateTime(locale, passkey.createdAt)}${
          passkey.lastUsedAt ? html`, ${t(locale, 'passkeys.last_used')} ${formatDateTime(locale, passkey.lastUsedAt)}` : ''
        }
<form method="post" action="/account/passkeys/remove">${csrfField(model.csrf)}<input type="hidden" name="credential_id" value="${passkey.credentialId}"><button type="submit" class="secondary" aria-describedby="passkey-${index}">${t(locale, 'passkeys.remove')}</button></form></li>`,
      )}</ul>`
}
<div class="actions"><a class="secondary" href="/account/passkeys/new">${t(locale, 'passkeys.add')}</a></div>
<h3>${t(locale, 'recovery.title')}</h3>
<p id="recovery-status">${factors.recoveryCodesLeft > 0 ? `${factors.recoveryCodesLeft} ${t(locale, 'recovery.left')}` : t(locale, 'recovery.none')}</p>
<div class="actions"><a class="secondary" href="/account/recovery-codes">${t(locale, 'recovery.generate')}</a></div>
</section>`;
}

function sessionsSection(model: OverviewModel): Html {
  const { locale } = model;
  return html`<section aria-labelledby="sessions-title">
<h2 id="sessions-title">${t(locale, 'sessions.title')}</h2>
<p class="muted">${t(locale, 'sessions.lead')}</p>
${
  model.sessions.length === 0
    ? html`<p>${t(locale, 'sessions.none')}</p>`
    : html`<ul class="sessions">${model.sessions.map(
        (session, index) => html`<li${session.current ? html` data-current` : ''}>
<strong id="session-${index}">${t(locale, session.current ? 'sessions.this' : 'sessions.other')}</strong><br>
${session.signedInAt ? html`${t(locale, 'sessions.signed_in_at')} ${formatDateTime(locale, session.signedInAt)}` : ''}${
          session.expiresAt ? html`, ${t(locale, 'sessions.expires_at')} ${formatDateTime(locale, session.expiresAt)}` : ''
        }<br>
${t(locale, 'sessions.services')}: ${session.services.join(', ')}
<form method="post" action="/account/sessions/end">${csrfField(model.csrf)}<input type="hidden" name="session" value="${session.id}"><button type="submit" class="secondary" aria-describedby="session-${index}">${t(locale, 'sessions.end')}</button></form>
</li>`,
      )}</ul>`
}
<form method="post" action="/account/sessions/end-all">${csrfField(model.csrf)}
<p class="muted" id="end-all-note">${t(locale, 'sessions.end_all_note')}</p>
<div class="actions"><button type="submit" class="secondary" aria-describedby="end-all-note">${t(locale, 'sessions.end_all')}</button></div>
</form>
</section>`;
}

/** A scope in the consent page's plain words. */
const scopeWords = (locale: Locale, scope: string) => translateIfKnown(locale, `scope.${scope}`) ?? scope;
/** A claim name in plain words where we have them, else the name itself. */
const claimWords = (locale: Locale, claim: string) =>
  isAccountMessageKey(`claimname.${claim}`) ? t(locale, `claimname.${claim}` as AccountMessageKey) : claim;

function servicesSection(model: OverviewModel): Html {
  const { locale } = model;
  return html`<section aria-labelledby="consents-title">
<h2 id="consents-title">${t(locale, 'consents.title')}</h2>
<p class="muted">${t(locale, 'consents.lead')}</p>
${
  model.services.length === 0
    ? html`<p>${t(locale, 'consents.none')}</p>`
    : html`<ul class="services">${model.services.map(
        (service, index) => html`<li data-consent="${service.recordId}">
<strong id="service-${index}">${service.clientName}</strong><br>
${t(locale, 'consents.may_receive')}: ${[...service.scopes.map((scope) => scopeWords(locale, scope)), ...service.claims.map((claim) => claimWords(locale, claim))].join('; ')}<br>
${t(locale, 'consents.since')} ${formatDateTime(locale, service.since)}
<div class="actions">
<a class="secondary" href="/account/consents/${service.recordId}" aria-describedby="service-${index}">${t(locale, 'consents.record')}</a>
<a class="secondary" href="/account/consents/${service.recordId}/withdraw" aria-describedby="service-${index}">${t(locale, 'consents.withdraw')}</a>
</div>
</li>`,
      )}</ul>`
}
</section>`;
}

function historySection(model: OverviewModel): Html {
  const { locale, history } = model;
  const what = (row: HistoryRow) =>
    row.kind === 'claims.released'
      ? `${t(locale, 'history.released')}: ${row.items.map((claim) => claimWords(locale, claim)).join(', ')}`
      : `${t(locale, row.kind === 'consent.given' ? 'history.given' : 'history.withdrawn')}${
          row.items.length > 0 ? `: ${row.items.map((scope) => scopeWords(locale, scope)).join('; ')}` : ''
        }`;
  const pageLink = (page: number, key: 'history.newer' | 'history.older') =>
    html`<a class="secondary" href="/account?history=${page}#history-title">${t(locale, key)}</a>`;
  return html`<section aria-labelledby="history-title">
<h2 id="history-title">${t(locale, 'history.title')}</h2>
<p class="muted">${t(locale, 'history.lead')}</p>
${
  history.rows.length === 0
    ? html`<p>${t(locale, 'history.none')}</p>`
    : html`<table class="history" aria-labelledby="history-title">
<thead><tr><th scope="col">${t(locale, 'history.when')}</th><th scope="col">${t(locale, 'history.service')}</th><th scope="col">${t(locale, 'history.what')}</th></tr></thead>
<tbody>${history.rows.map(
        (row) => html`<tr data-kind="${row.kind}"><td>${formatDateTime(locale, row.at)}</td><td>${row.clientName}</td><td>${what(row)}</td></tr>`,
      )}</tbody>
</table>`
}
${
  history.page > 0 || history.hasMore
    ? html`<nav class="actions" aria-label="${t(locale, 'history.pages')}">${history.page > 0 ? pageLink(history.page - 1, 'history.newer') : ''}${
        history.hasMore ? pageLink(history.page + 1, 'history.older') : ''
      }</nav>`
    : ''
}
</section>`;
}

export function overviewPage(model: OverviewModel): string {
  const { locale, account, signIn } = model;
  const name = model.record && model.record !== 'unavailable' ? model.record.fullName : account.nationalId;
  const assurance = t(locale, signIn.acr === 'urn:vn:eid:loa:2' ? 'account.assurance.loa2' : 'account.assurance.loa1');
  return page(
    model,
    t(locale, 'account.title'),
    html`<h1>${t(locale, 'account.title')}</h1>
${model.notice ? html`<p role="status" class="notice">${t(locale, model.notice)}</p>` : ''}
<p>${t(locale, 'account.greeting')}, <strong>${name}</strong>.</p>
<dl class="claims">
<dt>${t(locale, 'account.level')}</dt><dd>${t(locale, account.level === 2 ? 'account.level.2' : 'account.level.1')}</dd>
<dt>${t(locale, 'account.signed_in')}</dt><dd>${formatDateTime(locale, signIn.authTime)}, ${assurance}</dd>
</dl>
<p class="muted">${t(locale, account.level === 2 ? 'account.fresh_needed.level2' : 'account.fresh_needed.level1')}</p>
<form method="post" action="/account/sign-out">${csrfField(model.csrf)}<div class="actions"><button type="submit" class="secondary">${t(locale, 'account.sign_out')}</button></div></form>
${registrySection(model)}
${contactsSection(model)}
${factorsSection(model)}
<section aria-labelledby="password-title">
<h2 id="password-title">${t(locale, 'password.title')}</h2>
<div class="actions"><a class="secondary" href="/account/password">${t(locale, 'password.change')}</a></div>
</section>
${approvalsSection(locale)}
${servicesSection(model)}
${historySection(model)}
${sessionsSection(model)}
<section aria-labelledby="lock-title">
<h2 id="lock-title">${t(locale, 'lock.title')}</h2>
<p>${t(locale, 'lock.lead')}</p>
<div class="actions"><a class="secondary" href="/account/lock">${t(locale, 'lock.open')}</a></div>
</section>`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Changes, one page each

const backLink = (locale: Locale) => html`<p><a href="/account">${t(locale, 'account.back')}</a></p>`;

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
<div class="actions"><button type="submit" class="primary">${t(locale, 'totp.confirm')}</button><a class="secondary" href="/account">${t(locale, 'account.cancel')}</a></div>
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
<div class="actions"><a class="secondary" href="/account">${t(locale, 'recovery.done')}</a></div>`
    : html`<h1>${t(locale, 'recovery.title')}</h1>
<p>${t(locale, 'recovery.lead')}</p>
<form method="post" action="/account/recovery-codes">${csrfField(model.csrf)}
<div class="actions"><button type="submit" class="primary">${t(locale, 'recovery.generate')}</button><a class="secondary" href="/account">${t(locale, 'account.cancel')}</a></div>
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
<div class="actions"><button type="submit" class="primary">${t(locale, 'passkeys.create')}</button><a class="secondary" href="/account">${t(locale, 'account.cancel')}</a></div>
</form>
<script src="/assets/passkey.js"></script>`,
  );
}

export type PasswordError =
  | 'password.wrong_current'
  | 'password.locked'
  | 'password.mismatch'
  | 'password.too-short'
  | 'password.too-long'
  | 'password.common'
  | 'password.contains-id-number'
  | 'password.contains-birth-date'
  | 'password.same'
  | 'password.busy';

export interface PasswordPageModel extends PageFrame {
  readonly csrf: string;
  readonly error?: PasswordError;
}

export function passwordPage(model: PasswordPageModel): string {
  const { locale, error } = model;
  const onCurrent = error === 'password.wrong_current' || error === 'password.locked' || error === 'password.busy';
  const onConfirm = error === 'password.mismatch';
  const onNew = error !== undefined && !onCurrent && !onConfirm;
  const text = error && t(locale, error);
  return page(
    model,
    t(locale, 'password.change'),
    html`<h1>${t(locale, 'password.change')}</h1>
<p class="muted">${t(locale, 'password.ends_sessions')}</p>
<form method="post" action="/account/password">${csrfField(model.csrf)}
<label for="current-password">${t(locale, 'password.current')}</label>
<input id="current-password" name="current_password" type="password" autocomplete="current-password" required${describedBy(onCurrent && 'current-password-error')}${invalid(onCurrent)}>
${fieldError('current-password-error', onCurrent ? text : undefined)}
<label for="new-password">${t(locale, 'password.new')}</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password" required minlength="10"${describedBy('new-password-hint', onNew && 'new-password-error')}${invalid(onNew)}>
<p class="muted" id="new-password-hint">${t(locale, 'password.new_hint')}</p>
${fieldError('new-password-error', onNew ? text : undefined)}
<label for="confirm-password">${t(locale, 'password.confirm')}</label>
<input id="confirm-password" name="confirm_password" type="password" autocomplete="new-password" required${describedBy(onConfirm && 'confirm-password-error')}${invalid(onConfirm)}>
${fieldError('confirm-password-error', onConfirm ? text : undefined)}
<div class="actions"><button type="submit" class="primary">${t(locale, 'password.submit')}</button><a class="secondary" href="/account">${t(locale, 'account.cancel')}</a></div>
</form>`,
  );
}

export type ContactError =
  | 'contacts.invalid_phone'
  | 'contacts.invalid_email'
  | 'contacts.same'
  | 'contacts.wrong_code'
  | 'contacts.too_many_codes';

export interface ContactPageModel extends PageFrame {
  readonly csrf: string;
  readonly kind: ContactKind;
  /** Set once a code was sent: the page asks for it. */
  readonly pendingValue?: string;
  readonly value?: string;
  readonly error?: ContactError;
}

export function contactPage(model: ContactPageModel): string {
  const { locale, kind } = model;
  const title = t(locale, kind === 'phone' ? 'contacts.change_phone' : 'contacts.change_email');
  const text = model.error && t(locale, model.error);
  if (model.pendingValue !== undefined) {
    const shown = kind === 'phone' ? maskedPhone(model.pendingValue) : model.pendingValue;
    return page(
      model,
      title,
      html`<h1>${title}</h1>
<p role="status">${t(locale, 'contacts.code_sent')} <strong>${shown}</strong>.</p>
<form method="post" action="/account/contacts/${kind}/confirm">${csrfField(model.csrf)}
<label for="contact-code">${t(locale, 'contacts.code')}</label>
<input id="contact-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required${describedBy(text && 'contact-code-error')}${invalid(Boolean(text))}>
${fieldError('contact-code-error', text)}
<div class="actions"><button type="submit" class="primary">${t(locale, 'contacts.confirm')}</button><a class="secondary" href="/account">${t(locale, 'account.cancel')}</a></div>
</form>`,
    );
  }
  const label = t(locale, kind === 'phone' ? 'contacts.new_phone' : 'contacts.new_email');
  return page(
    model,
    title,
    html`<h1>${title}</h1>
<form method="post" action="/account/contacts/${kind}">${csrfField(model.csrf)}
<label for="contact-value">${label}</label>
${
  kind === 'phone'
    ? html`<input id="contact-value" name="value" type="tel" autocomplete="tel" required value="${model.value ?? ''}"${describedBy('contact-value-hint', text && 'contact-value-error')}${invalid(Boolean(text))}>
<p class="muted" id="contact-value-hint">${t(locale, 'contacts.new_phone_hint')}</p>`
    : html`<input id="contact-value" name="value" type="email" autocomplete="email" required value="${model.value ?? ''}"${describedBy(text && 'contact-value-error')}${invalid(Boolean(text))}>`
}
${fieldError('contact-value-error', text)}
<div class="actions"><button type="submit" class="primary">${t(locale, 'contacts.send_code')}</button><a class="secondary" href="/account">${t(locale, 'account.cancel')}</a></div>
</form>`,
  );
}

export function lockPage(model: PageFrame & { readonly csrf: string }): string {
  const { locale } = model;
  return page(
    model,
    t(locale, 'lock.title'),
    html`<h1>${t(locale, 'lock.title')}</h1>
<p>${t(locale, 'lock.lead')}</p>
<p id="lock-explain">${t(locale, 'lock.explain')}</p>
<form method="post" action="/account/lock">${csrfField(model.csrf)}
<div class="actions"><button type="submit" class="primary" aria-describedby="lock-explain">${t(locale, 'lock.confirm')}</button><a class="secondary" href="/account">${t(locale, 'lock.cancel')}</a></div>
</form>`,
  );
}

export function lockedPage(frame: PageFrame): string {
  const { locale } = frame;
  return page(frame, t(locale, 'lock.done_title'), html`<h1>${t(locale, 'lock.done_title')}</h1><p role="status">${t(locale, 'lock.done')}</p>`);
}

export function signedOutPage(frame: PageFrame & { readonly everywhere: boolean }): string {
  const { locale } = frame;
  return page(
    frame,
    t(locale, 'signed_out.title'),
    html`<h1>${t(locale, 'signed_out.title')}</h1>
<p role="status">${t(locale, frame.everywhere ? 'signed_out.all' : 'signed_out.lead')}</p>
<div class="actions"><a class="secondary" href="/account">${t(locale, 'signed_out.again')}</a></div>`,
  );
}

export interface ConsentRecordModel extends PageFrame {
  readonly id: string;
  readonly clientName: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly claims: readonly string[];
  readonly shownText: string;
  readonly shownLocale: Locale;
  readonly givenAt: Date;
  readonly withdrawnAt: Date | undefined;
}

/** A consent record as a page to print: the service, the words shown verbatim, when, and its status. */
export function consentRecordPage(model: ConsentRecordModel): string {
  const { locale } = model;
  const status = model.withdrawnAt ? `${t(locale, 'record.withdrawn_at')} ${formatDateTime(locale, model.withdrawnAt)}` : t(locale, 'record.in_force');
  return page(
    model,
    t(locale, 'record.title'),
    html`<h1>${t(locale, 'record.title')}</h1>
<dl class="claims">
<dt>${t(locale, 'record.number')}</dt><dd><code>${model.id}</code></dd>
<dt>${t(locale, 'record.service')}</dt><dd>${model.clientName} (<code>${model.clientId}</code>)</dd>
<dt>${t(locale, 'record.given_at')}</dt><dd><time datetime="${model.givenAt.toISOString()}">${formatDateTime(locale, model.givenAt)}</time></dd>
<dt>${t(locale, 'record.scopes')}</dt><dd>${model.scopes.join(' ')}</dd>
${model.claims.length > 0 ? html`<dt>${t(locale, 'record.claims')}</dt><dd>${model.claims.join(' ')}</dd>` : ''}
<dt>${t(locale, 'record.status')}</dt><dd id="consent-status">${status}</dd>
<dt>${t(locale, 'record.language')}</dt><dd>${t(locale, `language.${model.shownLocale}`)}</dd>
</dl>
<h2 id="shown-title">${t(locale, 'record.shown')}</h2>
<blockquote lang="${model.shownLocale}" aria-labelledby="shown-title"><pre class="shown-text">${model.shownText}</pre></blockquote>
<p class="muted">${t(locale, 'record.print')}</p>
${backLink(locale)}`,
  );
}

export function withdrawConsentPage(model: PageFrame & { readonly csrf: string; readonly id: string; readonly clientName: string }): string {
  const { locale } = model;
  return page(
    model,
    t(locale, 'withdraw.title'),
    html`<h1>${t(locale, 'withdraw.title')}</h1>
<p>${t(locale, 'withdraw.question')} <strong>${model.clientName}</strong>?</p>
<p id="withdraw-explain">${t(locale, 'withdraw.explain')}</p>
<form method="post" action="/account/consents/${model.id}/withdraw">${csrfField(model.csrf)}
<div class="actions"><button type="submit" class="primary" aria-describedby="withdraw-explain">${t(locale, 'withdraw.confirm')}</button><a class="secondary" href="/account">${t(locale, 'withdraw.cancel')}</a></div>
</form>`,
  );
}

/** A page that explains why the account page cannot go on, with a way back. */
export function accountErrorPage(frame: PageFrame, message: AccountMessageKey, code?: string): string {
  const { locale } = frame;
  return page(
    frame,
    t(locale, 'signin.failed'),
    html`<h1>${t(locale, 'account.title')}</h1>
<p role="alert">${t(locale, message)}</p>
${code ? html`<p class="muted"><code>${code}</code></p>` : ''}
${backLink(locale)}`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Messages to the citizen's contacts (no language preference is stored: both languages)

export type AccountChange =
  | 'totp.enrolled'
  | 'totp.removed'
  | 'recovery_codes.generated'
  | 'passkey.added'
  | 'passkey.removed'
  | 'password.changed'
  | 'phone.changed'
  | 'email.changed'
  | 'email.removed'
  | 'session.ended'
  | 'sessions.ended'
  | 'account.locked';

const CHANGE_TEXT: Record<AccountChange, Record<Locale, string>> = {
  'totp.enrolled': { vi: 'Một ứng dụng xác thực đã được thêm vào tài khoản của bạn', en: 'An authenticator app was added to your account' },
  'totp.removed': { vi: 'Ứng dụng xác thực đã bị gỡ khỏi tài khoản của bạn', en: 'The authenticator app was removed from your account' },
  'recovery_codes.generated': { vi: 'Mã khôi phục mới đã được tạo; các mã cũ không còn dùng được', en: 'New recovery codes were created; the old ones no longer work' },
  'passkey.added': { vi: 'Một khóa truy cập (passkey) đã được thêm vào tài khoản của bạn', en: 'A passkey was added to your account' },
  'passkey.removed': { vi: 'Một khóa truy cập (passkey) đã bị gỡ khỏi tài khoản của bạn', en: 'A passkey was removed from your account' },
  'password.changed': { vi: 'Mật khẩu tài khoản của bạn đã được thay đổi', en: 'Your account password was changed' },
  'phone.changed': { vi: 'Số điện thoại liên hệ của tài khoản đã được thay đổi', en: "Your account's mobile number was changed" },
  'email.changed': { vi: 'Email liên hệ của tài khoản đã được thay đổi', en: "Your account's email address was changed" },
  'email.removed': { vi: 'Email liên hệ đã bị xóa khỏi tài khoản của bạn', en: 'The email address was removed from your account' },
  'session.ended': { vi: 'Một phiên đăng nhập của tài khoản đã được kết thúc', en: 'A sign-in session of your account was ended' },
  'sessions.ended': { vi: 'Mọi phiên đăng nhập của tài khoản đã được kết thúc', en: 'Every sign-in session of your account was ended' },
  'account.locked': { vi: 'Tài khoản định danh điện tử của bạn đã bị khóa theo yêu cầu của bạn', en: 'Your electronic identity account was locked at your request' },
};

/** The notice sent to each verified contact after a change on the account page. */
export function securityNotice(change: AccountChange, at: Date): { subject: string; body: string } {
  const text = CHANGE_TEXT[change];
  const unlock = change === 'account.locked';
  return {
    subject: 'Định danh điện tử: thay đổi bảo mật / Electronic identity: security change',
    body: [
      `${text.vi} (${formatDateTime('vi', at)}).`,
      unlock
        ? 'Để mở khóa, hãy mang thẻ căn cước tới cơ quan Công an.'
        : 'Nếu không phải bạn, hãy khóa tài khoản ngay tại trang tài khoản hoặc liên hệ cơ quan Công an nơi gần nhất.',
      '',
      `${text.en} (${formatDateTime('en', at)}).`,
      unlock
        ? 'To unlock it, bring your identity card to a police office.'
        : 'If this was not you, lock your account now on your account page or contact your nearest police office.',
    ].join('\n'),
  };
}

/** The message carrying a code that confirms a new contact. */
export function contactCodeMessage(code: string, minutes: number): { subject: string; body: string } {
  return {
    subject: 'Định danh điện tử: mã xác nhận / Electronic identity: confirmation code',
    body: [
      `Mã xác nhận liên hệ mới của tài khoản định danh điện tử: ${code} (hiệu lực ${minutes} phút). Không chia sẻ mã này với ai.`,
      `Code confirming a new contact for your electronic identity account: ${code} (valid ${minutes} minutes). Do not share it with anyone.`,
    ].join('\n'),
  };
}
