// The admin console's HTML: one layout (skip link, navigation, language switch, sign-out) and a
// template per page. Server-rendered, no script and no inline style, so the strict CSP holds.
import { Html, html } from '../../web/html.ts';
import type { Locale } from '../../web/i18n.ts';
import { KNOWN_SCOPES } from '../../oidc/clients/client-profiles.ts';
import type { AdminRole } from '../auth-roles.ts';
import { consoleText, consoleTextOr, type ConsoleMessageKey } from './console-i18n.ts';

/** Field name → what is wrong with it (the admin API's own message). */
export type FieldErrors = Readonly<Record<string, string>>;

export interface Frame {
  readonly locale: Locale;
  /** The same page in the other language. */
  readonly switchHref: string;
  /** The session's CSRF token, for every form (absent on pages shown signed out). */
  readonly csrf?: string;
  readonly roles: ReadonlySet<AdminRole>;
}

const NAV: readonly { readonly href: string; readonly key: ConsoleMessageKey; readonly roles: readonly AdminRole[] }[] = [
  { href: '/console/', key: 'nav.home', roles: ['client_admin', 'support_officer', 'auditor'] },
  { href: '/console/clients', key: 'nav.clients', roles: ['client_admin', 'support_officer', 'auditor'] },
  { href: '/console/keys', key: 'nav.keys', roles: ['client_admin', 'auditor'] },
  { href: '/console/approvals', key: 'nav.approvals', roles: ['client_admin', 'auditor'] },
  { href: '/console/accounts', key: 'nav.accounts', roles: ['support_officer'] },
  { href: '/console/audit', key: 'nav.audit', roles: ['auditor'] },
];

/**
 * Where the registration form is: not /console/clients/new, which is the page of a client whose id
 * is `new` (client ids are [a-z0-9][a-z0-9._-]{2,63}, so `-` is never one).
 */
export const NEW_CLIENT_PATH = '/console/clients/-/new';
/** A client's page; every other client URL extends it. Ids are always URL-encoded (dynamically registered ones are not ours to shape). */
export const clientPath = (clientId: string) => `/console/clients/${encodeURIComponent(clientId)}`;
export const accountPath = (accountId: string) => `/console/accounts/${encodeURIComponent(accountId)}`;

const csrfField = (frame: Frame) => html`<input type="hidden" name="csrf" value="${frame.csrf ?? ''}">`;
/** A form that changes something: the session's CSRF token and the form's single-use token (console-form-tokens.ts). */
const changeFields = (frame: Frame, once: string) => html`${csrfField(frame)}<input type="hidden" name="once" value="${once}">`;

export function consoleLayout(frame: Frame, title: string, body: Html, current?: string): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  const other: Locale = frame.locale === 'vi' ? 'en' : 'vi';
  const links = NAV.filter((item) => item.roles.some((role) => frame.roles.has(role)));
  return `<!doctype html>${html`<html lang="${frame.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${t('console.name')}</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body class="console">
<a class="skip" href="#main">${t('console.skip')}</a>
<header class="top">
<span class="brand">${t('console.name')}</span>
${links.length > 0 ? html`<nav aria-label="${t('console.nav')}"><ul>${links.map((item) => html`<li><a href="${item.href}"${item.href === current ? html` aria-current="page"` : ''}>${t(item.key)}</a></li>`)}</ul></nav>` : ''}
<span class="tools">
<a class="lang" href="${frame.switchHref}" hreflang="${other}" lang="${other}">${consoleText(other, 'console.language')}</a>
${frame.csrf ? html`<form method="post" action="/auth/sign-out" class="inline">${csrfField(frame)}<button type="submit" class="secondary">${t('console.sign_out')}</button></form>` : ''}
</span>
</header>
<main id="main" tabindex="-1">${body}</main>
</body>
</html>`.value}`;
}

const iso = (value: unknown) => (typeof value === 'string' && value !== '' ? value.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
const alert = (text: string | undefined) => (text ? html`<p role="alert">${text}</p>` : '');
const notice = (text: string | undefined) => (text ? html`<p role="status">${text}</p>` : '');

/** A labelled field with its error, if any, tied to it for screen readers. */
function field(locale: Locale, options: { name: string; label: string; errors: FieldErrors; control: (describedBy: string | undefined, invalid: boolean) => Html; hint?: string }): Html {
  const error = options.errors[options.name];
  const ids = [options.hint && `${options.name}-hint`, error && `${options.name}-error`].filter(Boolean).join(' ') || undefined;
  return html`<div class="field">
<label for="${options.name}">${options.label}</label>
${options.hint ? html`<p class="muted" id="${options.name}-hint">${options.hint}</p>` : ''}
${options.control(ids, error !== undefined)}
${error ? html`<p class="field-error" id="${options.name}-error">${consoleText(locale, 'form.check')}: ${error}</p>` : ''}
</div>`;
}

const aria = (describedBy: string | undefined, invalid: boolean) =>
  new Html(`${describedBy ? ` aria-describedby="${describedBy}"` : ''}${invalid ? ' aria-invalid="true"' : ''}`);

function textInput(locale: Locale, name: string, label: string, value: string, errors: FieldErrors, extra: { type?: string; required?: boolean; hint?: string; autocomplete?: string } = {}): Html {
  return field(locale, {
    name,
    label,
    errors,
    ...(extra.hint && { hint: extra.hint }),
    control: (describedBy, invalid) =>
      html`<input id="${name}" name="${name}" type="${extra.type ?? 'text'}" value="${value}"${extra.required ? html` required` : ''}${extra.autocomplete ? html` autocomplete="${extra.autocomplete}"` : ''}${aria(describedBy, invalid)}>`,
  });
}

export function homePage(frame: Frame, accountId: string): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  const sections = [
    { href: '/console/clients', key: 'nav.clients', lead: 'home.clients', roles: ['client_admin', 'support_officer', 'auditor'] },
    { href: '/console/keys', key: 'nav.keys', lead: 'home.keys', roles: ['client_admin', 'auditor'] },
    { href: '/console/approvals', key: 'nav.approvals', lead: 'home.approvals', roles: ['client_admin', 'auditor'] },
    { href: '/console/accounts', key: 'nav.accounts', lead: 'home.accounts', roles: ['support_officer'] },
    { href: '/console/audit', key: 'nav.audit', lead: 'home.audit', roles: ['auditor'] },
  ] as const;
  return consoleLayout(
    frame,
    t('home.title'),
    html`<h1>${t('home.title')}</h1>
<dl class="facts"><dt>${t('home.account')}</dt><dd><code>${accountId}</code></dd>
<dt>${t('home.roles')}</dt><dd>${[...frame.roles].sort().map((role) => consoleTextOr(frame.locale, `role.${role}`, role)).join(', ')}</dd></dl>
<ul class="sections">${sections
      .filter((section) => section.roles.some((role) => frame.roles.has(role)))
      .map((section) => html`<li><a href="${section.href}">${t(section.key)}</a> — ${t(section.lead)}</li>`)}</ul>`,
    '/console/',
  );
}

export function signedOutPage(locale: Locale, switchHref: string): string {
  const t = (key: ConsoleMessageKey) => consoleText(locale, key);
  return consoleLayout(
    { locale, switchHref, roles: new Set() },
    t('signed_out.title'),
    html`<h1>${t('signed_out.title')}</h1><p role="status">${t('signed_out.lead')}</p><p><a href="/auth/sign-in">${t('signed_out.again')}</a></p>`,
  );
}

export function errorPage(frame: Frame, message: ConsoleMessageKey, detail?: string): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  return consoleLayout(
    frame,
    t('error.title'),
    html`<h1>${t('error.title')}</h1><p role="alert">${t(message)}</p>
${detail ? html`<p class="muted">${t('error.detail')}: ${detail}</p>` : ''}
<p><a href="/console/">${t('error.back')}</a></p>`,
  );
}

// ---- relying parties ----

/** A relying party as the admin API's getClient / listClients return it. */
export interface ClientView {
  readonly clientId: string;
  readonly name: string;
  readonly profile: string;
  readonly status: 'active' | 'suspended';
  readonly approvedScopes: readonly string[];
  readonly pendingScopes?: readonly string[];
  readonly contacts: readonly { readonly name: string; readonly email: string }[];
  readonly agreementReference: string | null;
  readonly hasSecret: boolean;
  readonly previousSecretValidUntil?: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
}

export function clientListPage(frame: Frame, model: { clients: readonly ClientView[]; next?: string; search: string; status: string; paged: boolean; canCreate: boolean; error?: string }): string {
  const { locale } = frame;
  const t = (key: ConsoleMessageKey) => consoleText(locale, key);
  const nextHref = model.next
    ? `/console/clients?${new URLSearchParams({ ...(model.search && { search: model.search }), ...(model.status && { status: model.status }), after: model.next }).toString()}`
    : undefined;
  const firstHref = `/console/clients?${new URLSearchParams({ ...(model.search && { search: model.search }), ...(model.status && { status: model.status }) }).toString()}`;
  return consoleLayout(
    frame,
    t('clients.title'),
    html`<h1>${t('clients.title')}</h1>
${model.canCreate ? html`<p><a class="button primary" href="${NEW_CLIENT_PATH}">${t('clients.new')}</a></p>` : ''}
${alert(model.error)}
<form method="get" action="/console/clients" class="filters" role="search">
<div class="field"><label for="search">${t('clients.search')}</label><input id="search" name="search" type="search" maxlength="100" value="${model.search}"></div>
<div class="field"><label for="status">${t('clients.status_filter')}</label><select id="status" name="status">
<option value="">${t('clients.any_status')}</option>
${(['active', 'suspended'] as const).map((status) => html`<option value="${status}"${model.status === status ? html` selected` : ''}>${t(`status.${status}`)}</option>`)}
</select></div>
<div class="actions"><button type="submit" class="secondary">${t('clients.search_submit')}</button></div>
</form>
${
  model.clients.length === 0
    ? html`<p>${t('clients.none')}</p>`
    : html`<table>
<caption>${t('clients.caption')}</caption>
<thead><tr><th scope="col">${t('client.id')}</th><th scope="col">${t('client.name')}</th><th scope="col">${t('client.profile')}</th><th scope="col">${t('client.status')}</th></tr></thead>
<tbody>${model.clients.map(
        (client) =>
          html`<tr><th scope="row"><a href="${clientPath(client.clientId)}">${client.clientId}</a></th><td>${client.name}</td><td>${client.profile}</td><td>${t(`status.${client.status}`)}</td></tr>`,
      )}</tbody>
</table>`
}
<nav class="pager" aria-label="${t('clients.title')}">
${model.paged ? html`<a href="${firstHref}">${t('clients.first')}</a>` : ''}
${nextHref ? html`<a href="${nextHref}" rel="next">${t('clients.next')}</a>` : ''}
</nav>`,
    '/console/clients',
  );
}

const list = (values: readonly unknown[] | undefined) =>
  values && values.length > 0 ? html`<ul class="plain">${values.map((value) => html`<li><code>${value}</code></li>`)}</ul>` : html`—`;

/** `resumeOnce`: the resume form's single-use token (a suspended client, shown to a client administrator). */
export function clientDetailPage(frame: Frame, model: { client: ClientView; done?: string; canChange: boolean; editable: boolean; firstParty: boolean; resumeOnce?: string }): string {
  const { locale } = frame;
  const t = (key: ConsoleMessageKey) => consoleText(locale, key);
  const { client } = model;
  const path = clientPath(client.clientId);
  const metadata = client.metadata;
  return consoleLayout(
    frame,
    client.name,
    html`<h1>${client.name}</h1>
${notice(model.done)}
<dl class="facts">
<dt>${t('client.id')}</dt><dd><code>${client.clientId}</code></dd>
<dt>${t('client.profile')}</dt><dd>${client.profile}</dd>
<dt>${t('client.status')}</dt><dd id="client-status">${t(`status.${client.status}`)}</dd>
<dt>${t('client.auth_method')}</dt><dd><code>${metadata.token_endpoint_auth_method}</code></dd>
<dt>${t('client.redirect_uris')}</dt><dd>${list(metadata.redirect_uris as unknown[] | undefined)}</dd>
<dt>${t('client.post_logout_uris')}</dt><dd>${list(metadata.post_logout_redirect_uris as unknown[] | undefined)}</dd>
<dt>${t('client.scopes')}</dt><dd>${list(client.approvedScopes)}</dd>
<dt>${t('client.pending_scopes')}</dt><dd>${list(client.pendingScopes)}</dd>
<dt>${t('client.subject_type')}</dt><dd>${metadata.subject_type}</dd>
<dt>${t('client.contacts')}</dt><dd>${client.contacts.length > 0 ? html`<ul class="plain">${client.contacts.map((contact) => html`<li>${contact.name} &lt;${contact.email}&gt;</li>`)}</ul>` : '—'}</dd>
<dt>${t('client.agreement')}</dt><dd>${client.agreementReference ?? '—'}</dd>
<dt>${t('client.created')}</dt><dd>${iso(client.createdAt)}</dd>
${client.previousSecretValidUntil ? html`<dt>${t('client.previous_secret')}</dt><dd>${iso(client.previousSecretValidUntil)}</dd>` : ''}
</dl>
${
  model.firstParty
    ? html`<p class="muted">${t('client.first_party')}</p>`
    : model.canChange
      ? html`<h2>${t('client.actions')}</h2>
${model.editable ? html`<p><a href="${path}/edit">${t('client.edit')}</a></p>` : html`<p class="muted">${t('client.not_editable')}</p>`}
<div class="actions">
${
  client.status === 'active'
    ? html`<a class="button secondary" href="${path}/suspend">${t('client.suspend')}</a>`
    : model.resumeOnce
      ? html`<form method="post" action="${path}/resume" class="inline">${changeFields(frame, model.resumeOnce)}<button type="submit" class="secondary">${t('client.resume')}</button></form>`
      : ''
}
${client.hasSecret ? html`<a class="button secondary" href="${path}/secret">${t('client.rotate')}</a>` : ''}
</div>`
      : ''
}`,
    '/console/clients',
  );
}

/** What the registration form shows: the fields as typed (strings), so a refused form comes back as it was. */
export interface ClientForm {
  readonly clientId: string;
  readonly name: string;
  readonly profile: string;
  readonly redirectUris: string;
  readonly postLogoutRedirectUris: string;
  readonly scopes: readonly string[];
  readonly subjectType: string;
  readonly backchannelLogoutUri: string;
  readonly contactName: string;
  readonly contactEmail: string;
  readonly agreementReference: string;
}

export const EMPTY_CLIENT_FORM: ClientForm = {
  clientId: '',
  name: '',
  profile: 'portal',
  redirectUris: '',
  postLogoutRedirectUris: '',
  scopes: ['openid'],
  subjectType: 'pairwise',
  backchannelLogoutUri: '',
  contactName: '',
  contactEmail: '',
  agreementReference: '',
};

/** The profiles the form offers: a bank client needs public keys, which only the admin API takes. */
export const FORM_PROFILES = ['portal', 'spa', 'native', 'service'] as const;

export function clientFormPage(frame: Frame, model: { mode: 'create' | 'edit'; clientId?: string; form: ClientForm; errors: FieldErrors; alert?: string; once: string }): string {
  const { locale } = frame;
  const t = (key: ConsoleMessageKey) => consoleText(locale, key);
  const { form, errors } = model;
  const title = t(model.mode === 'create' ? 'client.new_title' : 'client.edit_title');
  const action = model.mode === 'create' ? '/console/clients' : clientPath(model.clientId!);
  const cancel = model.mode === 'create' ? '/console/clients' : action;
  const invalid = Object.keys(errors).length > 0 || model.alert !== undefined;
  const textarea = (name: 'redirectUris' | 'postLogoutRedirectUris', label: string) =>
    field(locale, {
      name,
      label,
      errors,
      control: (describedBy, bad) => html`<textarea id="${name}" name="${name}" rows="3"${aria(describedBy, bad)}>${form[name]}</textarea>`,
    });
  const scopeError = errors.scopes;
  return consoleLayout(
    frame,
    title,
    html`<h1>${title}${model.clientId ? html` <code>${model.clientId}</code>` : ''}</h1>
${invalid ? html`<p role="alert">${model.alert ?? t('form.invalid')}</p>` : ''}
<form method="post" action="${action}" novalidate>
${changeFields(frame, model.once)}
${model.mode === 'create' ? textInput(locale, 'clientId', t('client.id'), form.clientId, errors, { required: true, hint: 'a-z 0-9 . _ - (3–64)' }) : ''}
${textInput(locale, 'name', t('client.name'), form.name, errors, { required: true })}
${field(locale, {
  name: 'profile',
  label: t('client.profile'),
  errors,
  hint: t('client.profile_hint'),
  control: (describedBy, bad) =>
    html`<select id="profile" name="profile"${aria(describedBy, bad)}>${FORM_PROFILES.map((profile) => html`<option value="${profile}"${form.profile === profile ? html` selected` : ''}>${profile}</option>`)}</select>`,
})}
${textarea('redirectUris', t('client.redirect_uris'))}
${textarea('postLogoutRedirectUris', t('client.post_logout_uris'))}
<fieldset${scopeError ? html` aria-describedby="scopes-error"` : ''}>
<legend>${t('client.scopes')}</legend>
<p class="muted">${t('client.scopes_hint')}</p>
${KNOWN_SCOPES.map((scope) => html`<div class="check"><input type="checkbox" id="scope-${scope}" name="scope" value="${scope}"${form.scopes.includes(scope) ? html` checked` : ''}><label for="scope-${scope}">${scope}</label></div>`)}
${scopeError ? html`<p class="field-error" id="scopes-error">${t('form.check')}: ${scopeError}</p>` : ''}
</fieldset>
${field(locale, {
  name: 'subjectType',
  label: t('client.subject_type'),
  errors,
  control: (describedBy, bad) =>
    html`<select id="subjectType" name="subjectType"${aria(describedBy, bad)}>${(['pairwise', 'public'] as const).map((type) => html`<option value="${type}"${form.subjectType === type ? html` selected` : ''}>${t(`client.subject.${type}`)}</option>`)}</select>`,
})}
${textInput(locale, 'backchannelLogoutUri', t('client.backchannel'), form.backchannelLogoutUri, errors, { type: 'url' })}
${textInput(locale, 'contactName', t('client.contact_name'), form.contactName, errors, { required: true, autocomplete: 'off' })}
${textInput(locale, 'contactEmail', t('client.contact_email'), form.contactEmail, errors, { type: 'email', required: true, autocomplete: 'off' })}
${textInput(locale, 'agreementReference', t('client.agreement'), form.agreementReference, errors, { required: true })}
<div class="actions"><button type="submit" class="primary">${t(model.mode === 'create' ? 'client.register' : 'client.save')}</button><a class="secondary" href="${cancel}">${t('client.cancel')}</a></div>
</form>`,
    '/console/clients',
  );
}

/** Shown once, right after the POST that made it: a secret never goes into a URL or a store. */
export function clientSecretPage(frame: Frame, model: { clientId: string; secret: string; done: string; pendingScopes: readonly string[]; previousSecretValidUntil?: string }): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  return consoleLayout(
    frame,
    t('client.secret_title'),
    html`<h1>${t('client.secret_title')}</h1>
<p role="status">${model.done}</p>
<p><strong>${t('client.secret_once')}</strong></p>
<dl class="facts"><dt>${t('client.id')}</dt><dd><code id="client-id">${model.clientId}</code></dd>
<dt>${t('client.secret')}</dt><dd><code id="client-secret">${model.secret}</code></dd>
${model.previousSecretValidUntil ? html`<dt>${t('client.previous_secret')}</dt><dd>${iso(model.previousSecretValidUntil)}</dd>` : ''}</dl>
${model.pendingScopes.length > 0 ? html`<p>${t('client.pending_approval')} ${model.pendingScopes.join(', ')}</p>` : ''}
<p><a href="${clientPath(model.clientId)}">${t('client.to_detail')}</a></p>`,
    '/console/clients',
  );
}

/**
 * The step before a change that cannot be taken back: what will happen, in words, and the one form
 * that does it (with the fields it needs, e.g. a reason). Detail pages link here; they post nothing.
 */
export function confirmPage(
  frame: Frame,
  model: { title: string; subject: string; subjectName?: string; consequences: readonly string[]; action: string; once: string; submit: string; cancel: string; fields?: Html; invalid?: boolean; current: string },
): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  return consoleLayout(
    frame,
    model.title,
    html`<h1>${model.title}</h1>
<p><code>${model.subject}</code>${model.subjectName ? html` — ${model.subjectName}` : ''}</p>
${model.invalid ? html`<p role="alert">${t('form.invalid')}</p>` : ''}
<h2>${t('confirm.what')}</h2>
<ul id="consequences">${model.consequences.map((line) => html`<li>${line}</li>`)}</ul>
<form method="post" action="${model.action}" novalidate>${changeFields(frame, model.once)}
${model.fields ?? ''}
<div class="actions"><button type="submit" class="primary">${model.submit}</button><a class="secondary" href="${model.cancel}">${t('client.cancel')}</a></div>
</form>`,
    model.current,
  );
}

/** A required free-text field (a reason, the evidence of an in-person check) for a confirmation form. */
export function textAreaField(frame: Frame, model: { name: string; label: string; value: string; errors: FieldErrors; hint?: string }): Html {
  return field(frame.locale, {
    name: model.name,
    label: model.label,
    errors: model.errors,
    ...(model.hint && { hint: model.hint }),
    control: (describedBy, bad) => html`<textarea id="${model.name}" name="${model.name}" rows="3" required${aria(describedBy, bad)}>${model.value}</textarea>`,
  });
}

/** The successor-key choice on the key rotation's confirmation. */
export const rotateNowField = (frame: Frame, now: boolean): Html =>
  html`<div class="check"><input type="checkbox" id="now" name="now" value="yes"${now ? html` checked` : ''}><label for="now">${consoleText(frame.locale, 'keys.rotate_now')}</label></div>`;

// ---- signing keys ----

export interface KeyView {
  readonly kid: string;
  readonly alg: string;
  readonly state: string;
  readonly createdAt: string;
  readonly activeFrom: string;
  readonly retiredAt: string | null;
  readonly publishedUntil: string | null;
  readonly revokedAt: string | null;
}

export function keysPage(frame: Frame, model: { keys: readonly KeyView[]; canRotate: boolean; done?: string }): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  return consoleLayout(
    frame,
    t('keys.title'),
    html`<h1>${t('keys.title')}</h1>
${notice(model.done)}
<table>
<caption>${t('keys.caption')}</caption>
<thead><tr><th scope="col">${t('keys.kid')}</th><th scope="col">${t('keys.alg')}</th><th scope="col">${t('keys.state')}</th><th scope="col">${t('keys.created')}</th><th scope="col">${t('keys.active_from')}</th><th scope="col">${t('keys.retired')}</th><th scope="col">${t('keys.published_until')}</th><th scope="col">${t('keys.revoked')}</th></tr></thead>
<tbody>${model.keys.map(
      (key) =>
        html`<tr><th scope="row"><code>${key.kid}</code></th><td>${key.alg}</td><td>${consoleTextOr(frame.locale, `key.state.${key.state}`, key.state)}</td><td>${iso(key.createdAt)}</td><td>${iso(key.activeFrom)}</td><td>${iso(key.retiredAt)}</td><td>${iso(key.publishedUntil)}</td><td>${iso(key.revokedAt)}</td></tr>`,
    )}</tbody>
</table>
${
  model.canRotate
    ? html`<h2>${t('keys.rotate')}</h2>
<p><a class="button primary" href="/console/keys/rotate">${t('keys.rotate')}</a></p>`
    : ''
}`,
    '/console/keys',
  );
}

// ---- accounts ----

export function accountLookupPage(frame: Frame, model: { nationalId: string; errors: FieldErrors; alert?: string }): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  return consoleLayout(
    frame,
    t('accounts.title'),
    html`<h1>${t('accounts.title')}</h1>
${alert(model.alert)}
<form method="post" action="/console/accounts/lookup" novalidate>${csrfField(frame)}
${textInput(frame.locale, 'nationalId', t('accounts.national_id'), model.nationalId, model.errors, { required: true, autocomplete: 'off', hint: t('accounts.lookup_note') })}
<div class="actions"><button type="submit" class="primary">${t('accounts.lookup_submit')}</button></div>
</form>`,
    '/console/accounts',
  );
}

/** An account as the admin API's lookUpAccount / getAccount return it. */
export interface AccountView {
  readonly accountId: string;
  readonly nationalId: string;
  readonly level: number;
  readonly status: 'active' | 'locked';
  readonly lockedAt: string | null;
  readonly lockReason: string | null;
  readonly factors: { readonly totp: { readonly enrolledAt: string | null } | null; readonly passkeys: readonly { readonly name: string }[]; readonly recoveryCodesLeft: number };
  readonly handoverCode: { readonly issuedBy: string; readonly expiresAt: string } | null;
  readonly pendingLevelTwo: { readonly requestId: string; readonly requestedBy: string; readonly requestedAt: string } | null;
}

/**
 * The account and what an officer can do with it. `lockOnce` is the lock (or unlock) form's
 * single-use token; `decisionOnce` the one of a pending level-2 request's approve or reject.
 */
export function accountPage(frame: Frame, model: { account: AccountView; done?: string; errors: FieldErrors; reason: string; lockOnce: string; decisionOnce?: string; self: string }): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  const { account } = model;
  const path = accountPath(account.accountId);
  const locking = account.status === 'active';
  const invalid = Object.keys(model.errors).length > 0;
  const pending = account.pendingLevelTwo;
  const decision = pending && `${path}/level-two/${encodeURIComponent(pending.requestId)}`;
  return consoleLayout(
    frame,
    t('account.title'),
    html`<h1>${t('account.title')} <code>${account.nationalId}</code></h1>
${notice(model.done)}
${invalid ? html`<p role="alert">${t('form.invalid')}</p>` : ''}
<dl class="facts">
<dt>${t('account.id')}</dt><dd><code>${account.accountId}</code></dd>
<dt>${t('account.level')}</dt><dd id="account-level">${account.level}</dd>
<dt>${t('account.status')}</dt><dd id="account-status">${t(`account.status.${account.status}`)}</dd>
${account.lockedAt ? html`<dt>${t('account.locked_at')}</dt><dd>${iso(account.lockedAt)}</dd><dt>${t('account.lock_reason')}</dt><dd>${account.lockReason ?? '—'}</dd>` : ''}
<dt>${t('account.totp')}</dt><dd>${account.factors.totp ? html`${t('account.totp_since')} ${iso(account.factors.totp.enrolledAt)}` : t('account.none')}</dd>
<dt>${t('account.passkeys')}</dt><dd>${account.factors.passkeys.length > 0 ? account.factors.passkeys.map((passkey) => passkey.name).join(', ') : t('account.none')}</dd>
<dt>${t('account.recovery')}</dt><dd>${account.factors.recoveryCodesLeft}</dd>
${account.handoverCode ? html`<dt>${t('account.handover_outstanding')}</dt><dd>${account.handoverCode.issuedBy}, ${t('account.until')} ${iso(account.handoverCode.expiresAt)}</dd>` : ''}
${pending ? html`<dt>${t('account.pending_level')}</dt><dd id="pending-level">${pending.requestedBy}${pending.requestedBy === model.self ? html` (${t('approvals.yours')})` : ''}, ${iso(pending.requestedAt)}</dd>` : ''}
</dl>
${
  pending && model.decisionOnce
    ? html`<h2>${t('account.level_decide')}</h2>
<p class="muted">${t('account.level_decide_note')}</p>
<div class="actions">
<form method="post" action="${decision}/approve" class="inline">${changeFields(frame, model.decisionOnce)}<button type="submit" class="primary">${t('account.level_approve')}</button></form>
<form method="post" action="${decision}/reject" class="inline">${changeFields(frame, model.decisionOnce)}<button type="submit" class="secondary">${t('account.level_reject')}</button></form>
</div>`
    : ''
}
<h2>${t('account.more')}</h2>
<ul class="sections">
<li><a href="${path}/end-sessions">${t('account.end_sessions')}</a> — ${t('account.end_sessions_lead')}</li>
<li><a href="${path}/reset-second-factors">${t('account.reset_factors')}</a> — ${t('account.reset_factors_lead')}</li>
${account.level === 1 && !pending ? html`<li><a href="${path}/level-two">${t('account.level_request')}</a> — ${t('account.level_request_lead')}</li>` : ''}
</ul>
<h2>${t(locking ? 'account.lock' : 'account.unlock')}</h2>
${locking ? html`<p class="muted">${t('account.lock_note')}</p>` : ''}
<form method="post" action="${path}/${locking ? 'lock' : 'unlock'}" novalidate>${changeFields(frame, model.lockOnce)}
${textAreaField(frame, { name: 'reason', label: t('account.reason'), value: model.reason, errors: model.errors })}
<div class="actions"><button type="submit" class="primary">${t(locking ? 'account.lock' : 'account.unlock')}</button></div>
</form>`,
    '/console/accounts',
  );
}

/** Shown once, right after the reset: the code the officer hands to the citizen in person (never stored in a page or a URL). */
export function handoverCodePage(frame: Frame, model: { account: AccountView; code: string; expiresAt: string; removed: { totp: boolean; passkeys: number; recoveryCodes: number }; sessions: number }): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  return consoleLayout(
    frame,
    t('handover.title'),
    html`<h1>${t('handover.title')}</h1>
<p role="status">${t('handover.done')}</p>
<p><strong>${t('handover.once')}</strong></p>
<dl class="facts">
<dt>${t('account.title')}</dt><dd><code>${model.account.nationalId}</code></dd>
<dt>${t('handover.code')}</dt><dd><code id="handover-code">${model.code}</code></dd>
<dt>${t('handover.expires')}</dt><dd>${iso(model.expiresAt)}</dd>
<dt>${t('handover.removed')}</dt><dd>${t('account.totp')}: ${model.removed.totp ? '1' : '0'}; ${t('account.passkeys')}: ${model.removed.passkeys}; ${t('account.recovery')}: ${model.removed.recoveryCodes}</dd>
<dt>${t('handover.sessions')}</dt><dd>${model.sessions}</dd>
</dl>
<p><a href="${accountPath(model.account.accountId)}">${t('handover.back')}</a></p>`,
    '/console/accounts',
  );
}

// ---- the four-eyes queue ----

/** A pending request as the admin API's listPendingApprovals returns it. */
export interface ApprovalView {
  readonly id: string;
  readonly kind: string;
  readonly subject: string;
  readonly change: Readonly<Record<string, unknown>>;
  readonly requestedBy: string;
  readonly requestedAt: string;
}

/** `decisions`: for each request decided here, the single-use token of its approve-or-reject forms. */
export function approvalsPage(frame: Frame, model: { approvals: readonly ApprovalView[]; decisions: ReadonlyMap<string, string>; self: string; next?: string; paged: boolean; done?: string }): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  const changeOf = (approval: ApprovalView) => {
    const add = approval.change.add;
    if (Array.isArray(add)) return html`${t('approvals.add_scopes')} ${add.map((scope, index) => html`${index > 0 ? ', ' : ''}<code>${scope}</code>`)}`;
    return html`<code class="data">${JSON.stringify(approval.change)}</code>`;
  };
  const subjectOf = (approval: ApprovalView) =>
    approval.kind.startsWith('client.') ? html`<a href="${clientPath(approval.subject)}">${approval.subject}</a>` : html`<code>${approval.subject}</code>`;
  return consoleLayout(
    frame,
    t('approvals.title'),
    html`<h1>${t('approvals.title')}</h1>
${notice(model.done)}
<p class="muted">${t('approvals.lead')}</p>
${
  model.approvals.length === 0
    ? html`<p>${t('approvals.none')}</p>`
    : html`<table>
<caption>${t('approvals.caption')}</caption>
<thead><tr><th scope="col">${t('approvals.requested_at')}</th><th scope="col">${t('approvals.kind')}</th><th scope="col">${t('approvals.subject')}</th><th scope="col">${t('approvals.change')}</th><th scope="col">${t('approvals.requested_by')}</th><th scope="col">${t('approvals.decide')}</th></tr></thead>
<tbody>${model.approvals.map((approval) => {
        const once = model.decisions.get(approval.id);
        const path = `/console/approvals/${encodeURIComponent(approval.id)}`;
        const label = (key: ConsoleMessageKey) => `${t(key)}: ${approval.subject}`;
        return html`<tr id="approval-${approval.id}"><th scope="row">${iso(approval.requestedAt)}</th><td>${consoleTextOr(frame.locale, `approvals.kind.${approval.kind}`, approval.kind)}</td><td>${subjectOf(approval)}</td><td>${changeOf(approval)}</td>
<td>${approval.requestedBy}${approval.requestedBy === model.self ? html` (${t('approvals.yours')})` : ''}</td>
<td>${
          once
            ? html`<form method="post" action="${path}/approve" class="inline">${changeFields(frame, once)}<button type="submit" class="primary" aria-label="${label('approvals.approve')}">${t('approvals.approve')}</button></form>
<form method="post" action="${path}/reject" class="inline">${changeFields(frame, once)}<button type="submit" class="secondary" aria-label="${label('approvals.reject')}">${t('approvals.reject')}</button></form>`
            : approval.kind.startsWith('client.')
              ? '—'
              : t('approvals.elsewhere')
        }</td></tr>`;
      })}</tbody>
</table>`
}
<nav class="pager" aria-label="${t('approvals.title')}">
${model.paged ? html`<a href="/console/approvals">${t('clients.first')}</a>` : ''}
${model.next ? html`<a href="/console/approvals?${new URLSearchParams({ after: model.next }).toString()}" rel="next">${t('clients.next')}</a>` : ''}
</nav>`,
    '/console/approvals',
  );
}

// ---- audit trail ----

export interface AuditEventView {
  readonly id: string;
  readonly occurredAt: string;
  readonly type: string;
  readonly actor: string | null;
  readonly accountId: string | null;
  readonly clientId: string | null;
  readonly data: Readonly<Record<string, unknown>>;
}

export const AUDIT_FILTERS = ['actor', 'accountId', 'clientId', 'type', 'from', 'to'] as const;
export type AuditFilterForm = Readonly<Record<(typeof AUDIT_FILTERS)[number], string>>;

export function auditPage(frame: Frame, model: { filters: AuditFilterForm; events: readonly AuditEventView[]; next?: string; paged: boolean; errors: FieldErrors }): string {
  const { locale } = frame;
  const t = (key: ConsoleMessageKey) => consoleText(locale, key);
  const { filters, errors } = model;
  const set = Object.fromEntries(AUDIT_FILTERS.filter((name) => filters[name] !== '').map((name) => [name, filters[name]]));
  const invalid = Object.keys(errors).length > 0;
  const labels: Record<(typeof AUDIT_FILTERS)[number], ConsoleMessageKey> = {
    actor: 'audit.actor',
    accountId: 'audit.account',
    clientId: 'audit.client',
    type: 'audit.type',
    from: 'audit.from',
    to: 'audit.to',
  };
  const summary = (data: Readonly<Record<string, unknown>>) => {
    const text = JSON.stringify(data);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  };
  return consoleLayout(
    frame,
    t('audit.title'),
    html`<h1>${t('audit.title')}</h1>
${invalid ? html`<p role="alert">${t('form.invalid')}</p>` : ''}
<form method="get" action="/console/audit" class="filters" role="search" novalidate>
<fieldset><legend>${t('audit.filters')}</legend>
${AUDIT_FILTERS.map((name) =>
  textInput(locale, name, t(labels[name]), filters[name], errors, name === 'from' || name === 'to' ? { type: 'datetime-local' } : {}),
)}
</fieldset>
<div class="actions"><button type="submit" class="primary">${t('audit.submit')}</button></div>
</form>
${
  model.events.length === 0
    ? html`<p>${t('audit.none')}</p>`
    : html`<table class="events">
<caption>${t('audit.caption')}</caption>
<thead><tr><th scope="col">${t('audit.time')}</th><th scope="col">${t('audit.event_type')}</th><th scope="col">${t('audit.event_actor')}</th><th scope="col">${t('audit.event_account')}</th><th scope="col">${t('audit.event_client')}</th><th scope="col">${t('audit.data')}</th></tr></thead>
<tbody>${model.events.map(
        (event) =>
          html`<tr><th scope="row">${iso(event.occurredAt)}</th><td><code>${event.type}</code></td><td>${event.actor ?? '—'}</td><td>${event.accountId ?? '—'}</td><td>${event.clientId ?? '—'}</td><td><code class="data">${summary(event.data)}</code></td></tr>`,
      )}</tbody>
</table>`
}
<nav class="pager" aria-label="${t('audit.title')}">
${model.paged ? html`<a href="/console/audit?${new URLSearchParams(set).toString()}">${t('audit.newest')}</a>` : ''}
${model.next ? html`<a href="/console/audit?${new URLSearchParams({ ...set, cursor: model.next }).toString()}" rel="next">${t('audit.older')}</a>` : ''}
</nav>`,
    '/console/audit',
  );
}
