// The admin console's shared HTML: one layout (skip link, navigation, language switch, sign-out), the
// form widgets every page group uses, and the pages that belong to no group (home, signed out, error,
// confirmation). Server-rendered, no script and no inline style, so the strict CSP holds; the words
// come from the catalogue (console-i18n.ts).
import { Html, html } from '../../web/html.ts';
import type { Locale } from '../../web/i18n.ts';
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
  /** The outbox is served (notifications.mode outbox): its page is linked for support officers. */
  readonly outbox?: boolean;
}

/** Administrators' names by account id (ConsoleApi.namesOf reads them, one statement per page). */
export type ActorNames = ReadonlyMap<string, string>;

const ACCOUNT_ACTOR = /^account:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** The account of an actor as the audit trail and the four-eyes queue write it (`account:<uuid>`); undefined for any other. */
export const accountIdOfActor = (actor: string): string | undefined => ACCOUNT_ACTOR.exec(actor)?.[1];

/**
 * Who acted, as a person reads it: an administrator by the holder's name, the account's short id in
 * small muted text (the whole actor in its title, as the audit filter takes it); a service client by
 * its client id; anything else (`cli:…`, `system`, an account without a mirrored record) as written.
 */
export function actorName(actor: string | null | undefined, names: ActorNames): Html | string {
  if (!actor) return '—';
  const accountId = accountIdOfActor(actor);
  const name = accountId === undefined ? undefined : names.get(accountId);
  if (accountId !== undefined && name !== undefined) return html`<span class="actor">${name} <small class="muted" title="${actor}">${accountId.slice(0, 8)}</small></span>`;
  if (actor.startsWith('client:')) return html`<code title="${actor}">${actor.slice('client:'.length)}</code>`;
  return html`<code>${actor}</code>`;
}

interface Section {
  readonly href: string;
  readonly key: ConsoleMessageKey;
  readonly roles: readonly AdminRole[];
  /** Only where the outbox is served. */
  readonly outbox?: true;
}

/** The sections the signed-in administrator may open. */
const sectionsOf = <T extends Section>(frame: Frame, sections: readonly T[]) =>
  sections.filter((item) => item.roles.some((role) => frame.roles.has(role)) && (!item.outbox || frame.outbox === true));

const NAV: readonly Section[] = [
  { href: '/console/', key: 'nav.home', roles: ['client_admin', 'support_officer', 'auditor'] },
  { href: '/console/clients', key: 'nav.clients', roles: ['client_admin', 'support_officer', 'auditor'] },
  { href: '/console/keys', key: 'nav.keys', roles: ['client_admin', 'auditor'] },
  { href: '/console/approvals', key: 'nav.approvals', roles: ['client_admin', 'auditor'] },
  { href: '/console/accounts', key: 'nav.accounts', roles: ['support_officer'] },
  { href: '/console/audit', key: 'nav.audit', roles: ['auditor'] },
  { href: '/console/outbox', key: 'nav.outbox', roles: ['support_officer'], outbox: true },
];

/**
 * Where the registration form is: not /console/clients/new, which is the page of a client whose id
 * is `new` (client ids are [a-z0-9][a-z0-9._-]{2,63}, so `-` is never one).
 */
export const NEW_CLIENT_PATH = '/console/clients/-/new';
/** A client's page; every other client URL extends it. Ids are always URL-encoded (dynamically registered ones are not ours to shape). */
export const clientPath = (clientId: string) => `/console/clients/${encodeURIComponent(clientId)}`;
export const accountPath = (accountId: string) => `/console/accounts/${encodeURIComponent(accountId)}`;

export const csrfField = (frame: Frame) => html`<input type="hidden" name="csrf" value="${frame.csrf ?? ''}">`;
/** A form that changes something: the session's CSRF token and the form's single-use token (console-form-tokens.ts). */
export const changeFields = (frame: Frame, once: string) => html`${csrfField(frame)}<input type="hidden" name="once" value="${once}">`;

export function consoleLayout(frame: Frame, title: string, body: Html, current?: string): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  const other: Locale = frame.locale === 'vi' ? 'en' : 'vi';
  const links = sectionsOf(frame, NAV);
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

export const iso = (value: unknown) => (typeof value === 'string' && value !== '' ? value.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
export const alert = (text: string | undefined) => (text ? html`<p role="alert">${text}</p>` : '');
export const notice = (text: string | undefined) => (text ? html`<p role="status">${text}</p>` : '');

/** A labelled field with its error, if any, tied to it for screen readers. */
export function field(locale: Locale, options: { name: string; label: string; errors: FieldErrors; control: (describedBy: string | undefined, invalid: boolean) => Html; hint?: string }): Html {
  const error = options.errors[options.name];
  const ids = [options.hint && `${options.name}-hint`, error && `${options.name}-error`].filter(Boolean).join(' ') || undefined;
  return html`<div class="field">
<label for="${options.name}">${options.label}</label>
${options.hint ? html`<p class="muted" id="${options.name}-hint">${options.hint}</p>` : ''}
${options.control(ids, error !== undefined)}
${error ? html`<p class="field-error" id="${options.name}-error">${consoleText(locale, 'form.check')}: ${error}</p>` : ''}
</div>`;
}

export const aria = (describedBy: string | undefined, invalid: boolean) =>
  new Html(`${describedBy ? ` aria-describedby="${describedBy}"` : ''}${invalid ? ' aria-invalid="true"' : ''}`);

export function textInput(locale: Locale, name: string, label: string, value: string, errors: FieldErrors, extra: { type?: string; required?: boolean; hint?: string; autocomplete?: string } = {}): Html {
  return field(locale, {
    name,
    label,
    errors,
    ...(extra.hint && { hint: extra.hint }),
    control: (describedBy, invalid) =>
      html`<input id="${name}" name="${name}" type="${extra.type ?? 'text'}" value="${value}"${extra.required ? html` required` : ''}${extra.autocomplete ? html` autocomplete="${extra.autocomplete}"` : ''}${aria(describedBy, invalid)}>`,
  });
}

/** `name`: the administrator's own, when the registry mirror has it. */
export function homePage(frame: Frame, accountId: string, name?: string): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  const sections: readonly (Section & { readonly lead: ConsoleMessageKey })[] = [
    { href: '/console/clients', key: 'nav.clients', lead: 'home.clients', roles: ['client_admin', 'support_officer', 'auditor'] },
    { href: '/console/keys', key: 'nav.keys', lead: 'home.keys', roles: ['client_admin', 'auditor'] },
    { href: '/console/approvals', key: 'nav.approvals', lead: 'home.approvals', roles: ['client_admin', 'auditor'] },
    { href: '/console/accounts', key: 'nav.accounts', lead: 'home.accounts', roles: ['support_officer'] },
    { href: '/console/audit', key: 'nav.audit', lead: 'home.audit', roles: ['auditor'] },
    { href: '/console/outbox', key: 'nav.outbox', lead: 'home.outbox', roles: ['support_officer'], outbox: true },
  ];
  return consoleLayout(
    frame,
    t('home.title'),
    html`<h1>${t('home.title')}</h1>
<dl class="facts"><dt>${t('home.account')}</dt><dd>${name ? html`${name} <small class="muted">${accountId}</small>` : html`<code>${accountId}</code>`}</dd>
<dt>${t('home.roles')}</dt><dd>${[...frame.roles].sort().map((role) => consoleTextOr(frame.locale, `role.${role}`, role)).join(', ')}</dd></dl>
<ul class="sections">${sectionsOf(frame, sections)
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
