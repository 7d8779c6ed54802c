// The account page's page groups that show what the account holds: the overview (registry data),
// contacts, second factors (with password and lock), sessions, services with access and the
// data-access history — each its own URL under one navigation bar.
import { html, type Html } from '../../web/html.ts';
import { formatDate, formatDateTime, type Locale } from '../../web/i18n.ts';
import { translateIfKnown } from '../i18n.ts';
import type { RegistryRecord } from '../../registry/registry.ts';
import { formatAddress } from '../../registry/registry.ts';
import type { Passkey, SecondFactors } from '../../accounts/second-factors.ts';
import { inClaimOrder, inScopeOrder } from '../../oidc/consent/claims.ts';
import { accountNav, csrfField, isAccountMessageKey, page, t, type AccountMessageKey, type AccountSection, type PageFrame } from './pages.ts';

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
  readonly kind: 'claims.released' | 'consent.given' | 'consent.withdrawn' | 'chip.verified';
  readonly clientName: string;
  /** Claim names (a release) or scopes (a consent). */
  readonly items: readonly string[];
  /** The organisation or child the citizen acted for, if they did. */
  readonly actingFor?: { readonly kind: string; readonly name: string };
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
  /** Today in Vietnam (YYYY-MM-DD): an identity card that expired before it is marked expired. */
  readonly today: string;
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
      const expired = record.idCardExpiryDate !== null && record.idCardExpiryDate < model.today;
      const expiry = record.idCardExpiryDate
        ? `, ${t(locale, 'registry.id_card.expires')} ${formatDate(locale, record.idCardExpiryDate)}${expired ? ` (${t(locale, 'registry.id_card.expired')})` : ''}`
        : '';
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
${t(locale, 'consents.may_receive')}: ${[...inScopeOrder(service.scopes).map((scope) => scopeWords(locale, scope)), ...inClaimOrder(service.claims).map((claim) => claimWords(locale, claim))].join('; ')}<br>
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
    row.kind === 'chip.verified'
      ? t(locale, row.items[0] === 'verified' ? 'history.chip_verified' : 'history.chip_refused')
      : row.kind === 'claims.released'
      ? `${t(locale, 'history.released')}: ${inClaimOrder(row.items).map((claim) => claimWords(locale, claim)).join(', ')}${
          row.actingFor ? ` (${t(locale, 'history.acting_for').replace('{name}', row.actingFor.name)})` : ''
        }`
      : `${t(locale, row.kind === 'consent.given' ? 'history.given' : 'history.withdrawn')}${
          row.items.length > 0 ? `: ${inScopeOrder(row.items).map((scope) => scopeWords(locale, scope)).join('; ')}` : ''
        }${row.actingFor ? ` (${t(locale, 'history.acting_for').replace('{name}', row.actingFor.name)})` : ''}`;
  const pageLink = (page: number, key: 'history.newer' | 'history.older') =>
    html`<a class="secondary" href="/account/history?history=${page}">${t(locale, key)}</a>`;
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

/** One page group of the account page, under the navigation bar. */
export function overviewPage(model: OverviewModel, section: Exclude<AccountSection, 'password' | 'approvals' | 'organisations'> = 'overview'): string {
  const { locale, account, signIn } = model;
  const name = model.record && model.record !== 'unavailable' ? model.record.fullName : account.nationalId;
  const assurance = t(locale, signIn.acr === 'urn:vn:eid:loa:2' ? 'account.assurance.loa2' : 'account.assurance.loa1');
  const sections: Record<typeof section, () => Html> = {
    overview: () => html`<p>${t(locale, 'account.greeting')}, <strong>${name}</strong>.</p>
<dl class="claims">
<dt>${t(locale, 'account.level')}</dt><dd>${t(locale, account.level === 2 ? 'account.level.2' : 'account.level.1')}</dd>
<dt>${t(locale, 'account.signed_in')}</dt><dd>${formatDateTime(locale, signIn.authTime)}, ${assurance}</dd>
</dl>
<p class="muted">${t(locale, account.level === 2 ? 'account.fresh_needed.level2' : 'account.fresh_needed.level1')}</p>
<form method="post" action="/account/sign-out">${csrfField(model.csrf)}<div class="actions"><button type="submit" class="secondary">${t(locale, 'account.sign_out')}</button></div></form>
${registrySection(model)}`,
    contacts: () => contactsSection(model),
    security: () => html`${factorsSection(model)}
<section aria-labelledby="lock-title">
<h2 id="lock-title">${t(locale, 'lock.title')}</h2>
<p>${t(locale, 'lock.lead')}</p>
<div class="actions"><a class="secondary" href="/account/lock">${t(locale, 'lock.open')}</a></div>
</section>`,
    sessions: () => sessionsSection(model),
    services: () => servicesSection(model),
    history: () => historySection(model),
  };
  return page(
    model,
    t(locale, 'account.title'),
    html`<h1>${t(locale, 'account.title')}</h1>
${accountNav(locale, section)}
${model.notice ? html`<p role="status" class="notice">${t(locale, model.notice)}</p>` : ''}
${sections[section]()}`,
  );
}
