// The pages of self-registration (/register) and password reset (/reset), and the words of the
// messages they send, in Vietnamese and English. Plain forms without script; each error sits in a
// role="alert" element that its field names in aria-describedby.
import { html, layout, type Html } from '../web/html.ts';
import { translator, type Locale } from '../web/i18n.ts';
import { REGISTRATION_MESSAGES } from './messages/registration.ts';
import type { ConfirmationErrors, NewPasswordProblem, Notice, NoticeWriter } from '../accounts/contact-confirmation.ts';


const translate = translator(REGISTRATION_MESSAGES);
type Key = keyof typeof REGISTRATION_MESSAGES;

/** A message with its {placeholders} filled in. */
function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** Which flow a page belongs to: its paths and words. */
export type FlowKind = 'register' | 'reset';

export const FLOW_PATHS: Record<FlowKind, { readonly form: string; readonly confirm: string; readonly done: string }> = {
  register: { form: '/register', confirm: '/register/confirm', done: '/register/done' },
  reset: { form: '/reset', confirm: '/reset/confirm', done: '/reset/done' },
};

/** A sign-in in progress that a flow goes back to: only the provider's own interaction pages. */
const SIGN_IN_PATH = /^\/interaction\/[A-Za-z0-9_-]{1,64}$/;

export function isSignInPath(value: unknown): value is string {
  return typeof value === 'string' && SIGN_IN_PATH.test(value);
}

/** A flow's first page, remembering the sign-in it was opened from. */
export function flowHref(kind: FlowKind, signIn: string | undefined, locale?: Locale): string {
  const query = new URLSearchParams({ ...(signIn && { return: signIn }), ...(locale && { lang: locale }) }).toString();
  return query ? `${FLOW_PATHS[kind].form}?${query}` : FLOW_PATHS[kind].form;
}

// ---------------------------------------------------------------------------------------------
// Fields

interface FieldOptions {
  readonly name: string;
  readonly label: string;
  readonly hint?: string;
  readonly value?: string;
  readonly error?: string | undefined;
  readonly type?: 'text' | 'password';
  readonly autocomplete?: string;
  readonly inputmode?: 'numeric';
  readonly maxlength?: number;
}

/** A labelled input whose hint and error (role="alert") it names in aria-describedby. */
function field(options: FieldOptions): Html {
  const id = options.name.replaceAll('_', '-');
  const described = [options.hint && `${id}-hint`, options.error && `${id}-error`].filter(Boolean).join(' ');
  return html`<label for="${id}">${options.label}</label>
<input id="${id}" name="${options.name}" type="${options.type ?? 'text'}" required${options.value === undefined ? '' : html` value="${options.value}"`}${
    options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''
  }${options.inputmode ? html` inputmode="${options.inputmode}"` : ''}${options.maxlength ? html` maxlength="${options.maxlength}"` : ''}${
    described ? html` aria-describedby="${described}"` : ''
  }${options.error ? html` aria-invalid="true"` : ''}>
${options.hint ? html`<p class="muted" id="${id}-hint">${options.hint}</p>` : ''}${options.error ? html`<p role="alert" id="${id}-error">${options.error}</p>` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// The first step

export type DetailsField = 'national_id' | 'full_name' | 'birth_date' | 'card_issue_date';
export type DetailsErrors = Partial<Record<DetailsField, true>>;

export interface DetailsFormModel {
  readonly locale: Locale;
  readonly kind: FlowKind;
  /** What was typed, shown again (escaped) after a refusal. */
  readonly values: Partial<Record<DetailsField, string>>;
  readonly errors: DetailsErrors;
  readonly formExpired?: boolean;
  readonly switchHref: string;
  /** The sign-in this flow was opened from, if any: the link to the other flow keeps it. */
  readonly signIn?: string | undefined;
}

const ERROR_OF: Record<DetailsField, Key> = {
  national_id: 'error.national_id',
  full_name: 'error.full_name',
  birth_date: 'error.date',
  card_issue_date: 'error.date',
};

export function detailsFormPage(model: DetailsFormModel): string {
  const { locale, kind } = model;
  const t = (key: Key) => translate(locale, key);
  const errorOf = (name: DetailsField) => (model.errors[name] ? t(ERROR_OF[name]) : undefined);
  const dateField = (name: 'birth_date' | 'card_issue_date', label: Key, autocomplete?: string) =>
    field({
      name,
      label: t(label),
      hint: t('field.date.hint'),
      value: model.values[name] ?? '',
      error: errorOf(name),
      inputmode: 'numeric',
      maxlength: 10,
      ...(autocomplete && { autocomplete }),
    });
  const title = t(kind === 'register' ? 'register.title' : 'reset.title');
  return layout({
    locale,
    title,
    switchHref: model.switchHref,
    body: html`<h1>${title}</h1>
<p>${t(kind === 'register' ? 'register.lead' : 'reset.lead')}</p>
${model.formExpired ? html`<p role="alert" id="form-error">${t('error.form_expired')}</p>` : ''}
<form method="post" action="${FLOW_PATHS[kind].form}" novalidate>
<input type="hidden" name="lang" value="${locale}">
${field({
  name: 'national_id',
  label: t('field.national_id'),
  hint: t('field.national_id.hint'),
  value: model.values.national_id ?? '',
  error: errorOf('national_id'),
  autocomplete: 'username',
  inputmode: 'numeric',
  maxlength: 12,
})}
${
  kind === 'register'
    ? html`${field({
        name: 'full_name',
        label: t('field.full_name'),
        hint: t('field.full_name.hint'),
        value: model.values.full_name ?? '',
        error: errorOf('full_name'),
        autocomplete: 'name',
        maxlength: 100,
      })}
${dateField('birth_date', 'field.birth_date', 'bday')}
`
    : ''
}${dateField('card_issue_date', 'field.card_issue_date')}
<div class="actions"><button type="submit" class="primary">${t(kind === 'register' ? 'register.submit' : 'reset.submit')}</button></div>
</form>
<p><a href="${flowHref(kind === 'register' ? 'reset' : 'register', model.signIn)}">${t(kind === 'register' ? 'register.to_reset' : 'reset.to_register')}</a></p>`,
  });
}

// ---------------------------------------------------------------------------------------------
// The second step: the same page whatever the first step found.

export interface ConfirmFormModel {
  readonly locale: Locale;
  readonly kind: FlowKind;
  readonly minutes: number;
  readonly codeConfirmed: boolean;
  readonly errors: ConfirmationErrors;
  readonly triesLeft?: number | undefined;
  readonly switchHref: string;
}

function passwordError(locale: Locale, problem: NewPasswordProblem | undefined): string | undefined {
  return problem && translate(locale, `error.password.${problem}`);
}

export function confirmFormPage(model: ConfirmFormModel): string {
  const { locale, kind, errors } = model;
  const t = (key: Key) => translate(locale, key);
  const codeError =
    errors.code === 'format' ? t('error.code.format') : errors.code === 'wrong' ? fill(t('error.code.wrong'), { tries: model.triesLeft ?? 0 }) : undefined;
  const paths = FLOW_PATHS[kind];
  return layout({
    locale,
    title: t('sent.title'),
    switchHref: model.switchHref,
    body: html`<h1>${t('sent.title')}</h1>
${
  model.codeConfirmed
    ? html`<p role="status">${t('sent.code_confirmed')}</p>`
    : html`<p role="status">${fill(t(kind === 'register' ? 'sent.register' : 'sent.reset'), { minutes: model.minutes })}</p>
<p class="muted">${t(kind === 'register' ? 'sent.register.none' : 'sent.reset.none')}</p>`
}
<form method="post" action="${paths.confirm}" novalidate>
<input type="hidden" name="lang" value="${locale}">
${
  model.codeConfirmed
    ? ''
    : field({ name: 'code', label: t('field.code'), hint: t('field.code.hint'), error: codeError, autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 6 })
}
${field({
  name: 'password',
  label: t('field.password'),
  hint: t('field.password.hint'),
  error: passwordError(locale, errors.password),
  type: 'password',
  autocomplete: 'new-password',
})}
${field({
  name: 'password_repeat',
  label: t('field.password_repeat'),
  error: errors.passwordRepeat ? t('error.password_repeat') : undefined,
  type: 'password',
  autocomplete: 'new-password',
})}
<div class="actions"><button type="submit" class="primary">${t(kind === 'register' ? 'register.confirm' : 'reset.confirm')}</button></div>
</form>
<p><a href="${paths.form}">${t('sent.start_again')}</a></p>`,
  });
}

// ---------------------------------------------------------------------------------------------
// Endings

export interface FlowDoneModel {
  readonly locale: Locale;
  readonly kind: FlowKind;
  /** Where the security notices go (masked), for a registration one contact, for a reset every one told. */
  readonly contacts: readonly string[];
  /** The sign-in the flow was opened from: the way on goes back to it; without one, to the account page. */
  readonly signIn: string | undefined;
  readonly switchHref: string;
}

/** The end of a flow (after Post/Redirect/Get): what happened, and the way on to signing in. */
export function flowDonePage(model: FlowDoneModel): string {
  const { locale, kind, contacts } = model;
  const t = (key: Key) => translate(locale, key);
  const title = t(kind === 'register' ? 'registered.title' : 'changed.title');
  const told =
    contacts.length === 0
      ? ''
      : kind === 'register'
        ? html`<p>${fill(t('registered.contact'), { contact: contacts[0]! })}</p>`
        : html`<p>${fill(t('changed.contacts'), { contacts: contacts.join(', ') })}</p>`;
  return layout({
    locale,
    title,
    switchHref: model.switchHref,
    body: html`<h1>${title}</h1>
<p role="status">${t(kind === 'register' ? 'registered.lead' : 'changed.lead')}</p>
${told}
${kind === 'register' ? html`<p class="muted">${t('registered.level2')}</p>` : ''}
<div class="actions"><a class="primary" href="${model.signIn ?? `/account?lang=${locale}`}">${t(model.signIn ? 'done.back_to_sign_in' : 'done.to_account')}</a></div>`,
  });
}

export type FlowMessage =
  | 'expired'
  | 'too_many'
  | 'already_registered'
  | 'refused'
  | 'rate_limited'
  | 'registry_unavailable'
  | 'busy'
  | 'too_large'
  | 'bad_request';

/** A page with one message and a way back to the start of the flow. */
export function flowMessagePage(locale: Locale, kind: FlowKind, message: FlowMessage, values: { minutes?: number } = {}): string {
  const title = translate(locale, `flow.${message}.title`);
  const text = fill(translate(locale, `flow.${message}`), { minutes: values.minutes ?? 60 });
  return layout({
    locale,
    title,
    body: html`<h1>${title}</h1>
<p role="alert">${text}</p>
<p><a class="secondary" href="${FLOW_PATHS[kind].form}">${translate(locale, 'flow.start_again')}</a></p>`,
  });
}

// ---------------------------------------------------------------------------------------------
// Messages to contacts

/** The words of each notice in one language. */
export function noticeWriter(locale: Locale): NoticeWriter {
  const t = (key: Key) => translate(locale, key);
  return (notice: Notice) => {
    switch (notice.kind) {
      case 'registration-code':
        return {
          subject: t('notice.registration_code.subject'),
          body: fill(t('notice.registration_code.body'), { code: notice.code, minutes: notice.minutes }),
        };
      case 'registration-attempt':
        return { subject: t('notice.registration_attempt.subject'), body: t('notice.registration_attempt.body') };
      case 'registered':
        return { subject: t('notice.registered.subject'), body: t('notice.registered.body') };
      case 'reset-code':
        return { subject: t('notice.reset_code.subject'), body: fill(t('notice.reset_code.body'), { code: notice.code, minutes: notice.minutes }) };
      case 'password-changed':
        return { subject: t('notice.password_changed.subject'), body: t('notice.password_changed.body') };
    }
  };
}
