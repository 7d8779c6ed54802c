// The account page's organisations (its words are ../messages/organisations.ts): the list of the
// organisations the citizen represents and the authorisations they received (/account/organisations),
// and one organisation's page for its representative (/account/organisations/{code}) — the register's
// entry, the account's activation, the grant form, the grants with one-click revocation and every use.
// Plain forms with the console's CSRF token; errors next to their field in role="alert".
import { html, type Html } from '../../web/html.ts';
import { formatDate, formatDateTime, translator, type Locale } from '../../web/i18n.ts';
import { ORGANISATION_MESSAGES } from '../messages/organisations.ts';
import { ORGANISATION_ROLES } from '../../representation/representation.ts';
import type {
  Authorisation,
  OrganisationEntry,
  OrganisationStatus,
  RepresentationUse,
  RepresentedOrganisation,
} from '../../representation/organisation-accounts.ts';
import { accountNav, csrfField, describedBy, fieldError, invalid, page, type PageFrame } from './pages.ts';

export type OrganisationMessageKey = keyof typeof ORGANISATION_MESSAGES;
const t = translator(ORGANISATION_MESSAGES);

export function isOrganisationMessageKey(key: string | undefined): key is OrganisationMessageKey {
  return key !== undefined && key in ORGANISATION_MESSAGES;
}

export const organisationPath = (code: string) => `/account/organisations/${code}`;

const statusWords = (locale: Locale, status: OrganisationStatus) => t(locale, `org.status.${status}`);
const roleWords = (locale: Locale, roles: readonly string[]) =>
  roles.map((role) => ((ORGANISATION_ROLES as readonly string[]).includes(role) ? t(locale, `org.role.${role}` as OrganisationMessageKey) : role)).join(', ');
const nameOf = (locale: Locale, item: { name: string; nameEn: string | null }) => (locale === 'en' && item.nameEn ? item.nameEn : item.name);

function period(locale: Locale, grant: Pick<Authorisation, 'validFrom' | 'validUntil'>): string {
  const from = `${t(locale, 'org.period.from')} ${formatDate(locale, grant.validFrom)}`;
  return grant.validUntil === null ? `${from}, ${t(locale, 'org.period.open')}` : `${from} ${t(locale, 'org.period.until')} ${formatDate(locale, grant.validUntil)}`;
}

const notice = (locale: Locale, key: OrganisationMessageKey | undefined) => (key ? html`<p role="status" class="notice">${t(locale, key)}</p>` : '');
const alert = (locale: Locale, key: OrganisationMessageKey | undefined) => (key ? html`<p role="alert">${t(locale, key)}</p>` : '');

// ---------------------------------------------------------------------------------------------------
// /account/organisations

export interface OrganisationsModel extends PageFrame {
  readonly csrf: string;
  readonly notice?: OrganisationMessageKey | undefined;
  readonly error?: OrganisationMessageKey | undefined;
  readonly level: 1 | 2;
  /** Whether a level-2 sign-in can be reached (a second factor exists). */
  readonly canReachLevelTwo: boolean;
  readonly represented: readonly RepresentedOrganisation[];
  readonly received: readonly Authorisation[];
  readonly childUses: readonly RepresentationUse[];
}

function representedSection(model: OrganisationsModel): Html {
  const { locale } = model;
  const item = (organisation: RepresentedOrganisation, index: number) => {
    const heading = `represented-${index}`;
    let action: Html;
    if (organisation.status !== 'active') action = html`<p class="muted">${t(locale, 'org.inactive')}</p>`;
    else if (organisation.activatedAt) {
      action = html`<p>${t(locale, 'org.account.activated')} ${formatDateTime(locale, organisation.activatedAt)}.</p>
<div class="actions"><a class="secondary" href="${organisationPath(organisation.enterpriseCode)}" aria-describedby="${heading}">${t(locale, 'org.manage')}</a></div>`;
    } else if (model.level !== 2) action = html`<p class="muted">${t(locale, 'org.account.not_activated')} ${t(locale, 'org.needs_level2')}</p>`;
    else if (!model.canReachLevelTwo) action = html`<p class="muted">${t(locale, 'org.account.not_activated')} ${t(locale, 'org.needs_factor')}</p>`;
    else {
      action = html`<p>${t(locale, 'org.account.not_activated')}</p>
<form method="post" action="/account/organisations/activate">${csrfField(model.csrf)}<input type="hidden" name="enterprise_code" value="${organisation.enterpriseCode}">
<p class="muted" id="${heading}-note">${t(locale, 'org.activate.note')}</p>
<div class="actions"><button type="submit" class="primary" aria-describedby="${heading} ${heading}-note">${t(locale, 'org.activate')}</button></div>
</form>`;
    }
    return html`<li data-organisation="${organisation.enterpriseCode}">
<h3 id="${heading}">${nameOf(locale, organisation)}</h3>
<dl class="claims">
<dt>${t(locale, 'org.code')}</dt><dd>${organisation.enterpriseCode}</dd>
<dt>${t(locale, 'org.title_held')}</dt><dd>${organisation.title}</dd>
<dt>${t(locale, 'org.status')}</dt><dd>${statusWords(locale, organisation.status)}</dd>
</dl>
${action}
</li>`;
  };
  return html`<section aria-labelledby="represented-title">
<h2 id="represented-title">${t(locale, 'org.represented.title')}</h2>
<p class="muted">${t(locale, 'org.represented.source')}</p>
${
  model.represented.length === 0
    ? html`<p>${t(locale, 'org.represented.none')}</p>`
    : html`<ul class="organisations">${model.represented.map(item)}</ul>`
}
</section>`;
}

function receivedSection(model: OrganisationsModel): Html {
  const { locale } = model;
  const item = (grant: Authorisation, index: number) => {
    const heading = `received-${index}`;
    const open = grant.status === 'current' || grant.status === 'upcoming';
    return html`<li data-authorisation="${grant.id}" data-status="${grant.status}">
<h3 id="${heading}">${locale === 'en' && grant.organisationNameEn ? grant.organisationNameEn : grant.organisationName} (${grant.enterpriseCode})</h3>
<dl class="claims">
<dt>${t(locale, 'org.grant.roles')}</dt><dd>${roleWords(locale, grant.roles)}</dd>
<dt>${t(locale, 'org.period')}</dt><dd>${period(locale, grant)}</dd>
<dt>${t(locale, 'org.status')}</dt><dd>${t(locale, `org.grant_status.${grant.status}`)}${
      grant.organisationStatus !== 'active' ? html` — ${statusWords(locale, grant.organisationStatus)}` : ''
    }</dd>
</dl>
${
  open
    ? html`<form method="post" action="/account/organisations/grants/decline">${csrfField(model.csrf)}<input type="hidden" name="grant" value="${grant.id}">
<div class="actions"><button type="submit" class="secondary" aria-describedby="${heading}">${t(locale, 'org.decline')}</button></div></form>`
    : ''
}
</li>`;
  };
  return html`<section aria-labelledby="received-title">
<h2 id="received-title">${t(locale, 'org.received.title')}</h2>
${
  model.received.length === 0
    ? html`<p>${t(locale, 'org.received.none')}</p>`
    : html`<p class="muted">${t(locale, 'org.received.lead')}</p><ul class="authorisations">${model.received.map(item)}</ul>`
}
</section>`;
}

function usesTable(locale: Locale, uses: readonly RepresentationUse[], labelledBy: string, children: boolean): Html {
  return html`<table class="history" aria-labelledby="${labelledBy}">
<thead><tr><th scope="col">${t(locale, 'org.uses.when')}</th><th scope="col">${t(locale, 'org.uses.who')}</th>${
    children ? html`<th scope="col">${t(locale, 'org.uses.child')}</th>` : ''
  }<th scope="col">${t(locale, 'org.uses.service')}</th>${children ? '' : html`<th scope="col">${t(locale, 'org.uses.roles')}</th>`}</tr></thead>
<tbody>${uses.map(
    (use) => html`<tr data-use="${use.id}"><td>${formatDateTime(locale, use.usedAt)}</td><td>${use.actorName ?? ''} (${use.actorNationalId})</td>${
      children ? html`<td>${use.childName ?? ''} (${use.childNationalId ?? ''})</td>` : ''
    }<td>${use.clientName}</td>${children ? '' : html`<td>${roleWords(locale, use.roles)}</td>`}</tr>`,
  )}</tbody>
</table>`;
}

export function organisationsPage(model: OrganisationsModel): string {
  const { locale } = model;
  return page(
    model,
    t(locale, 'org.title'),
    html`<h1>${t(locale, 'org.title')}</h1>
${accountNav(locale, 'organisations')}
${notice(locale, model.notice)}
${alert(locale, model.error)}
${representedSection(model)}
${receivedSection(model)}
${
  model.childUses.length > 0
    ? html`<section aria-labelledby="children-title">
<h2 id="children-title">${t(locale, 'org.children.title')}</h2>
<p class="muted">${t(locale, 'org.children.lead')}</p>
${usesTable(locale, model.childUses, 'children-title', true)}
</section>`
    : ''
}`,
  );
}

// ---------------------------------------------------------------------------------------------------
// /account/organisations/{code}

export interface GrantForm {
  readonly grantee: string;
  readonly roles: readonly string[];
  readonly validFrom: string;
  readonly validUntil: string;
  /** The refused field and why. */
  readonly error?: { readonly field: 'grantee' | 'roles' | 'valid_from' | 'valid_until'; readonly key: OrganisationMessageKey };
}

export interface OrganisationModel extends PageFrame {
  readonly csrf: string;
  readonly notice?: OrganisationMessageKey | undefined;
  readonly error?: OrganisationMessageKey | undefined;
  readonly organisation: OrganisationEntry;
  readonly grants: readonly Authorisation[];
  readonly uses: readonly RepresentationUse[];
  readonly usesPage: number;
  readonly usesHasMore: boolean;
  readonly form: GrantForm;
}

function registerSection(model: OrganisationModel): Html {
  const { locale, organisation } = model;
  return html`<section aria-labelledby="register-title">
<h2 id="register-title">${t(locale, 'org.register.title')}</h2>
<dl class="claims">
<dt>${t(locale, 'org.code')}</dt><dd>${organisation.enterpriseCode}</dd>
<dt>${t(locale, 'org.name')}</dt><dd>${organisation.name}</dd>
${organisation.nameEn ? html`<dt>${t(locale, 'org.name_en')}</dt><dd>${organisation.nameEn}</dd>` : ''}
<dt>${t(locale, 'org.status')}</dt><dd>${statusWords(locale, organisation.status)}</dd>
<dt>${t(locale, 'org.founded')}</dt><dd>${formatDate(locale, organisation.foundedOn)}</dd>
<dt>${t(locale, 'org.head_office')}</dt><dd>${organisation.headOffice}</dd>
<dt>${t(locale, 'org.representatives')}</dt><dd>${organisation.representatives.map(
    (representative, index) => html`${index > 0 ? html`<br>` : ''}${representative.name ?? representative.nationalId} — ${representative.title}`,
  )}</dd>
</dl>
${organisation.status !== 'active' ? html`<p role="alert">${t(locale, 'org.inactive')}</p>` : ''}
</section>`;
}

function accountSection(model: OrganisationModel): Html {
  const { locale, organisation } = model;
  const activation = organisation.activation;
  const activator = activation && organisation.representatives.find((representative) => representative.nationalId === activation.activatedByNationalId);
  return html`<section aria-labelledby="account-title">
<h2 id="account-title">${t(locale, 'org.account.title')}</h2>
${
  activation
    ? html`<p id="activation">${t(locale, 'org.account.activated')} ${formatDateTime(locale, activation.activatedAt)} ${t(locale, 'org.account.activated_by')} ${
        activator?.name ?? activation.activatedByNationalId
      }.</p>`
    : organisation.status === 'active'
      ? html`<p id="activation">${t(locale, 'org.account.not_activated')}</p>
<form method="post" action="/account/organisations/activate">${csrfField(model.csrf)}<input type="hidden" name="enterprise_code" value="${organisation.enterpriseCode}">
<p class="muted" id="activate-note">${t(locale, 'org.activate.note')}</p>
<div class="actions"><button type="submit" class="primary" aria-describedby="activate-note">${t(locale, 'org.activate')}</button></div>
</form>`
      : html`<p id="activation">${t(locale, 'org.account.not_activated')}</p>`
}
</section>`;
}

function grantSection(model: OrganisationModel): Html {
  const { locale, form } = model;
  const error = (field: NonNullable<GrantForm['error']>['field']) => (form.error?.field === field ? t(locale, form.error.key) : undefined);
  const errorId = (field: string) => `${field}-error`;
  const input = (field: 'valid_from' | 'valid_until', value: string, required: boolean) =>
    html`<label for="${field}">${t(locale, field === 'valid_from' ? 'org.grant.valid_from' : 'org.grant.valid_until')}</label>
<input id="${field}" name="${field}" type="date" value="${value}"${required ? html` required` : ''}${invalid(error(field) !== undefined)}${describedBy(
      error(field) !== undefined && errorId(field),
    )}>
${fieldError(errorId(field), error(field))}`;
  return html`<section aria-labelledby="grant-title">
<h2 id="grant-title">${t(locale, 'org.grant.title')}</h2>
<p class="muted">${t(locale, 'org.grant.lead')}</p>
${form.error ? html`<p role="alert">${t(locale, 'org.error.form')}</p>` : ''}
<form method="post" action="${organisationPath(model.organisation.enterpriseCode)}/grants">${csrfField(model.csrf)}
<label for="grantee">${t(locale, 'org.grant.grantee')}</label>
<input id="grantee" name="grantee" type="text" inputmode="numeric" autocomplete="off" maxlength="20" required value="${form.grantee}"${invalid(
    error('grantee') !== undefined,
  )}${describedBy(error('grantee') !== undefined && errorId('grantee'))}>
${fieldError(errorId('grantee'), error('grantee'))}
<fieldset class="roles">
<legend>${t(locale, 'org.grant.roles')}</legend>
${ORGANISATION_ROLES.map(
  (role) => html`<label class="choice"><input type="checkbox" name="roles" value="${role}"${form.roles.includes(role) ? html` checked` : ''}${invalid(
    error('roles') !== undefined,
  )}${describedBy(error('roles') !== undefined && errorId('roles'))}> ${t(locale, `org.role.${role}`)}</label>`,
)}
</fieldset>
${fieldError(errorId('roles'), error('roles'))}
${input('valid_from', form.validFrom, true)}
${input('valid_until', form.validUntil, false)}
<p class="muted" id="grant-note">${t(locale, 'org.grant.fresh_note')}</p>
<div class="actions"><button type="submit" class="primary" aria-describedby="grant-note">${t(locale, 'org.grant.submit')}</button></div>
</form>
</section>`;
}

function grantsSection(model: OrganisationModel): Html {
  const { locale } = model;
  const item = (grant: Authorisation, index: number) => {
    const heading = `grant-${index}`;
    const open = grant.status === 'current' || grant.status === 'upcoming';
    return html`<li data-authorisation="${grant.id}" data-status="${grant.status}">
<h3 id="${heading}">${grant.granteeName ?? ''} (${grant.granteeNationalId})</h3>
<dl class="claims">
<dt>${t(locale, 'org.grant.roles')}</dt><dd>${roleWords(locale, grant.roles)}</dd>
<dt>${t(locale, 'org.period')}</dt><dd>${period(locale, grant)}</dd>
<dt>${t(locale, 'org.status')}</dt><dd>${t(locale, `org.grant_status.${grant.status}`)}</dd>
<dt>${t(locale, 'org.grants.granted_at')}</dt><dd>${formatDateTime(locale, grant.grantedAt)}</dd>
</dl>
${
  open
    ? html`<form method="post" action="${organisationPath(grant.enterpriseCode)}/grants/revoke">${csrfField(model.csrf)}<input type="hidden" name="grant" value="${grant.id}">
<div class="actions"><button type="submit" class="secondary" aria-describedby="${heading}">${t(locale, 'org.revoke')}</button></div></form>`
    : ''
}
</li>`;
  };
  return html`<section aria-labelledby="grants-title">
<h2 id="grants-title">${t(locale, 'org.grants.title')}</h2>
<p class="muted">${t(locale, 'org.grants.lead')}</p>
${model.grants.length === 0 ? html`<p>${t(locale, 'org.grants.none')}</p>` : html`<ul class="authorisations">${model.grants.map(item)}</ul>`}
</section>`;
}

function usesSection(model: OrganisationModel): Html {
  const { locale } = model;
  const base = organisationPath(model.organisation.enterpriseCode);
  const pageLink = (number: number, key: 'org.uses.newer' | 'org.uses.older') => html`<a class="secondary" href="${base}?uses=${number}">${t(locale, key)}</a>`;
  return html`<section aria-labelledby="uses-title">
<h2 id="uses-title">${t(locale, 'org.uses.title')}</h2>
<p class="muted">${t(locale, 'org.uses.lead')}</p>
${model.uses.length === 0 ? html`<p>${t(locale, 'org.uses.none')}</p>` : usesTable(locale, model.uses, 'uses-title', false)}
${
  model.usesPage > 0 || model.usesHasMore
    ? html`<nav class="actions" aria-label="${t(locale, 'org.uses.pages')}">${model.usesPage > 0 ? pageLink(model.usesPage - 1, 'org.uses.newer') : ''}${
        model.usesHasMore ? pageLink(model.usesPage + 1, 'org.uses.older') : ''
      }</nav>`
    : ''
}
</section>`;
}

export function organisationPage(model: OrganisationModel): string {
  const { locale, organisation } = model;
  const manageable = organisation.status === 'active' && organisation.activation !== null;
  return page(
    model,
    nameOf(locale, organisation),
    html`<h1>${nameOf(locale, organisation)}</h1>
${accountNav(locale, 'organisations')}
${notice(locale, model.notice)}
${alert(locale, model.error)}
${registerSection(model)}
${accountSection(model)}
${manageable ? grantSection(model) : ''}
${grantsSection(model)}
${usesSection(model)}`,
  );
}
