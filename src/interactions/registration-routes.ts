// HTTP for self-registration (/register) and password reset (/reset). Each flow is two plain forms:
// the details, then the code with a new password. The flow's random id travels in an HttpOnly,
// SameSite=Lax cookie and names server-side state, which is also what stops cross-site posts.
// Input is validated here, where it enters: a bad form gets the page again with its fields marked
// (4xx), never a 500, and nothing is written until the input is whole.
import type { ParameterizedContext } from 'koa';
import { Router } from '../web/router.ts';
import { LANGUAGE_COOKIE, type PublicCookies } from '../web/cookies.ts';
import { HashingOverloaded } from '../accounts/passwords.ts';
import type { SelfRegistration } from '../accounts/registration.ts';
import type { ConfirmationInput, ConfirmationPolicy } from '../accounts/contact-confirmation.ts';
import type { PasswordReset } from '../accounts/password-reset.ts';
import { isNationalIdShape } from '../registry/national-id.ts';
import { RegistryUnavailable } from '../registry/gateway.ts';
import { isLocale, type Locale, localeOf, switchHref } from '../web/i18n.ts';
import { contentSecurityPolicy } from '../web/security.ts';
import {
  FLOW_PATHS,
  confirmFormPage,
  detailsFormPage,
  flowDonePage,
  flowMessagePage,
  isSignInPath,
  noticeWriter,
  type DetailsErrors,
  type DetailsField,
  type FlowKind,
  type FlowMessage,
} from './registration-pages.ts';

const MAX_FORM_BYTES = 64 * 1024;
/** Longest value shown back in a form: enough for any real entry, not an echo chamber. */
const MAX_ECHO = 100;
const COOKIE: Record<FlowKind, string> = { register: 'cidp_register', reset: 'cidp_reset' };
/** The sign-in a flow was opened from (/register?return=/interaction/…), to go back to at the end. */
const RETURN_COOKIE: Record<FlowKind, string> = { register: 'cidp_register_return', reset: 'cidp_reset_return' };
/** What the end page shows (masked contacts, the way on), so that it can be a plain GET: reloadable, in either language. */
const DONE_COOKIE: Record<FlowKind, string> = { register: 'cidp_register_done', reset: 'cidp_reset_done' };
/** About as long as the sign-in it returns to (an interaction) can wait. */
const RETURN_MAX_AGE_MS = 60 * 60 * 1000;
const DONE_MAX_AGE_MS = 15 * 60 * 1000;

type Step = 'form' | 'confirm' | 'done';

interface FlowEnding {
  readonly contacts: readonly string[];
  readonly signIn?: string;
}

function readEnding(value: string | undefined): FlowEnding | undefined {
  try {
    const parsed: unknown = JSON.parse(decodeURIComponent(value ?? ''));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { contacts, signIn } = parsed as Record<string, unknown>;
    if (!Array.isArray(contacts) || !contacts.every((contact) => typeof contact === 'string' && contact.length <= MAX_ECHO)) return undefined;
    return { contacts: contacts.slice(0, 4) as string[], ...(isSignInPath(signIn) && { signIn }) };
  } catch {
    return undefined;
  }
}

/** What /register and /reset use; the composition root builds both flows under one policy. */
export interface RegistrationRoutesDependencies {
  readonly selfRegistration: SelfRegistration;
  readonly passwordReset: PasswordReset;
  /** The code's lifetime is told to the citizen. */
  readonly confirmationPolicy: Pick<ConfirmationPolicy, 'codeTtlSeconds'>;
  readonly cookies: PublicCookies;
}

// ---------------------------------------------------------------------------------------------
// Reading input

class FormRefused extends Error {
  readonly status: number;
  readonly page: FlowMessage;
  constructor(status: number, page: FlowMessage) {
    super(page);
    this.status = status;
    this.page = page;
  }
}

async function readForm(ctx: ParameterizedContext): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new FormRefused(415, 'bad_request');
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > MAX_FORM_BYTES) throw new FormRefused(413, 'too_large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new FormRefused(413, 'too_large');
    chunks.push(chunk as Buffer);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new FormRefused(400, 'bad_request');
  }
  return new URLSearchParams(text);
}

const CONTROL = /[\p{Cc}\p{Cf}]/u;
/** Letters (with their marks) in words separated by single spaces, hyphens or apostrophes. */
const NAME = /^[\p{L}\p{M}]+(?:[ '’-][\p{L}\p{M}]+)*$/u;

export function parseNationalId(value: string): string | undefined {
  // Spaces are forgiven (people copy the number in groups); anything else but 12 digits is refused.
  const digits = value.replace(/\s+/g, '');
  return isNationalIdShape(digits) ? digits : undefined;
}

export function parseFullName(value: string): string | undefined {
  const name = value.normalize('NFC').trim().replace(/\s+/gu, ' ');
  if (name.length < 2 || name.length > MAX_ECHO || CONTROL.test(name) || !NAME.test(name)) return undefined;
  return name;
}

/** A calendar date written 09/01/1990 (day first, as in Vietnam) or 1990-01-09; YYYY-MM-DD or undefined. */
export function parseDate(value: string, today = new Date()): string | undefined {
  const text = value.trim();
  let year: number, month: number, day: number;
  let match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match) {
    [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else if ((match = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text))) {
    [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else {
    return undefined;
  }
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  if (year < 1900 || date.getTime() > today.getTime()) return undefined;
  return date.toISOString().slice(0, 10);
}

/** A value as it may be shown back: bounded, without control characters (escaping is the template's). */
function echo(value: string | null): string {
  return (value ?? '').replace(/[\p{Cc}\p{Cf}]/gu, '').slice(0, MAX_ECHO);
}

interface ParsedDetails {
  readonly nationalId?: string;
  readonly fullName?: string;
  readonly birthDate?: string;
  readonly idCardIssueDate?: string;
  readonly errors: DetailsErrors;
  readonly values: Partial<Record<DetailsField, string>>;
}

function parseDetails(form: URLSearchParams, kind: FlowKind): ParsedDetails {
  const raw = (name: DetailsField) => form.get(name) ?? '';
  const errors: Partial<Record<DetailsField, true>> = {};
  const nationalId = parseNationalId(raw('national_id'));
  if (!nationalId) errors.national_id = true;
  const idCardIssueDate = parseDate(raw('card_issue_date'));
  if (!idCardIssueDate) errors.card_issue_date = true;
  let fullName: string | undefined;
  let birthDate: string | undefined;
  if (kind === 'register') {
    fullName = parseFullName(raw('full_name'));
    if (!fullName) errors.full_name = true;
    birthDate = parseDate(raw('birth_date'));
    if (!birthDate) errors.birth_date = true;
  }
  const values: Partial<Record<DetailsField, string>> = {
    national_id: echo(form.get('national_id')),
    card_issue_date: echo(form.get('card_issue_date')),
    ...(kind === 'register' && { full_name: echo(form.get('full_name')), birth_date: echo(form.get('birth_date')) }),
  };
  return {
    errors,
    values,
    ...(nationalId && { nationalId }),
    ...(fullName && { fullName }),
    ...(birthDate && { birthDate }),
    ...(idCardIssueDate && { idCardIssueDate }),
  };
}

function confirmationInput(form: URLSearchParams): ConfirmationInput {
  return {
    code: (form.get('code') ?? '').trim(),
    password: form.get('password') ?? '',
    passwordRepeat: form.get('password_repeat') ?? '',
  };
}

// ---------------------------------------------------------------------------------------------
// Answering

function sendPage(ctx: ParameterizedContext, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', contentSecurityPolicy());
  ctx.body = body;
}

/** A browser that says the post comes from another site is refused (older ones rely on SameSite). */
function crossSite(ctx: ParameterizedContext): boolean {
  const site = ctx.get('sec-fetch-site');
  return site !== '' && site !== 'same-origin' && site !== 'none';
}

export function registrationRoutes(deps: RegistrationRoutesDependencies): Router {
  const services = { register: deps.selfRegistration, reset: deps.passwordReset };
  const minutes = Math.max(1, Math.ceil(deps.confirmationPolicy.codeTtlSeconds / 60));

  /** One step of one flow: GET shows its form, POST takes it. */
  const handle = async (ctx: ParameterizedContext, kind: FlowKind, step: Step) => {
    const service = services[kind];
    const isGet = ctx.method === 'GET' || ctx.method === 'HEAD';
    let locale: Locale = localeOf(ctx);
    const queryLang = typeof ctx.query.lang === 'string' && isLocale(ctx.query.lang) ? ctx.query.lang : undefined;
    if (queryLang) deps.cookies.set(ctx, LANGUAGE_COOKIE, queryLang);
    const setFlow = (id: string | null) => deps.cookies.set(ctx, COOKIE[kind], id, { path: FLOW_PATHS[kind].form });
    const flowId = ctx.cookies.get(COOKIE[kind], { signed: false });
    const returnCookie = ctx.cookies.get(RETURN_COOKIE[kind], { signed: false });
    const signIn = isSignInPath(returnCookie) ? returnCookie : undefined;
    /** Post/Redirect/Get to the end page, which reads what it shows from a short-lived cookie. */
    const finish = (contacts: readonly string[]) => {
      setFlow(null);
      deps.cookies.set(ctx, RETURN_COOKIE[kind], null, { path: FLOW_PATHS[kind].form });
      const ending: FlowEnding = { contacts, ...(signIn && { signIn }) };
      deps.cookies.set(ctx, DONE_COOKIE[kind], encodeURIComponent(JSON.stringify(ending)), { path: FLOW_PATHS[kind].form, maxAge: DONE_MAX_AGE_MS });
      ctx.status = 303;
      ctx.redirect(FLOW_PATHS[kind].done);
    };
    const here = (path: string) => switchHref(path, locale);
    const context = () => ({ notices: noticeWriter(locale) });

    try {
      if (isGet && step === 'form') {
        // The form's id is the anchor a POST must bring back: a cross-site form cannot.
        if (!(await service.find(flowId))) setFlow(await service.openForm());
        const opener = isSignInPath(ctx.query.return) ? ctx.query.return : signIn;
        if (opener && opener !== returnCookie) deps.cookies.set(ctx, RETURN_COOKIE[kind], opener, { path: FLOW_PATHS[kind].form, maxAge: RETURN_MAX_AGE_MS });
        sendPage(ctx, 200, detailsFormPage({ locale, kind, values: {}, errors: {}, signIn: opener, switchHref: here(ctx.originalUrl) }));
        return;
      }
      if (isGet && step === 'done') {
        const ending = readEnding(ctx.cookies.get(DONE_COOKIE[kind], { signed: false }));
        if (!ending) {
          ctx.status = 303;
          ctx.redirect(FLOW_PATHS[kind].form);
          return;
        }
        sendPage(ctx, 200, flowDonePage({ locale, kind, contacts: ending.contacts, signIn: ending.signIn, switchHref: here(FLOW_PATHS[kind].done) }));
        return;
      }
      if (isGet) {
        const flow = await service.find(flowId);
        if (flow?.stage !== 'code') {
          ctx.status = 303;
          ctx.redirect(FLOW_PATHS[kind].form);
          return;
        }
        sendPage(
          ctx,
          200,
          confirmFormPage({ locale, kind, minutes, codeConfirmed: flow.verified, errors: {}, switchHref: here(FLOW_PATHS[kind].confirm) }),
        );
        return;
      }

      if (crossSite(ctx)) throw new FormRefused(403, 'bad_request');
      const form = await readForm(ctx);
      const formLang = form.get('lang');
      if (isLocale(formLang)) locale = formLang;

      if (step === 'form') {
        const details = parseDetails(form, kind);
        const formPage = (status: number, formExpired = false) =>
          sendPage(ctx, status, detailsFormPage({ locale, kind, values: details.values, errors: details.errors, formExpired, signIn, switchHref: here(FLOW_PATHS[kind].form) }));
        if (!(await service.find(flowId))) {
          setFlow(await service.openForm());
          formPage(403, true);
          return;
        }
        if (Object.keys(details.errors).length > 0) {
          formPage(400);
          return;
        }
        const result =
          kind === 'register'
            ? await services.register.start(
                flowId,
                { nationalId: details.nationalId!, fullName: details.fullName!, birthDate: details.birthDate!, idCardIssueDate: details.idCardIssueDate! },
                context(),
              )
            : await services.reset.start(flowId, { nationalId: details.nationalId!, idCardIssueDate: details.idCardIssueDate! }, context());
        if (result.outcome === 'rate-limited') {
          ctx.set('Retry-After', String(result.retryAfterSeconds));
          sendPage(ctx, 429, flowMessagePage(locale, kind, 'rate_limited', { minutes: Math.ceil(result.retryAfterSeconds / 60) }));
          return;
        }
        setFlow(result.flowId);
        // Post/redirect/get: reloading the code page does not send the details again.
        ctx.status = 303;
        ctx.redirect(FLOW_PATHS[kind].confirm);
        return;
      }

      // step === 'confirm'
      const input = confirmationInput(form);
      const result = kind === 'register' ? await services.register.confirm(flowId, input, context()) : await services.reset.confirm(flowId, input, context());
      switch (result.outcome) {
        case 'expired':
        case 'too-many-tries':
          setFlow(null);
          sendPage(ctx, 400, flowMessagePage(locale, kind, result.outcome === 'expired' ? 'expired' : 'too_many'));
          return;
        case 'invalid':
          sendPage(
            ctx,
            400,
            confirmFormPage({
              locale,
              kind,
              minutes,
              codeConfirmed: result.codeConfirmed,
              errors: result.errors,
              triesLeft: result.triesLeft,
              switchHref: here(FLOW_PATHS[kind].confirm),
            }),
          );
          return;
        case 'registered':
          finish(result.contact ? [result.contact] : []);
          return;
        case 'changed':
          finish(result.contacts);
          return;
        case 'already-registered':
          setFlow(null);
          sendPage(ctx, 409, flowMessagePage(locale, kind, 'already_registered'));
          return;
        case 'refused':
          setFlow(null);
          sendPage(ctx, 403, flowMessagePage(locale, kind, 'refused'));
          return;
      }
    } catch (error) {
      if (error instanceof FormRefused) {
        sendPage(ctx, error.status, flowMessagePage(locale, kind, error.page));
        return;
      }
      if (error instanceof RegistryUnavailable) {
        if (error.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.retryAfterSeconds));
        sendPage(ctx, 503, flowMessagePage(locale, kind, 'registry_unavailable'));
        return;
      }
      if (error instanceof HashingOverloaded) {
        ctx.set('Retry-After', '5');
        sendPage(ctx, 503, flowMessagePage(locale, kind, 'busy'));
        return;
      }
      throw error;
    }
  };

  const router = new Router();
  for (const kind of ['register', 'reset'] as const) {
    for (const step of ['form', 'confirm'] as const) {
      router.get(FLOW_PATHS[kind][step], (ctx) => handle(ctx, kind, step)).post(FLOW_PATHS[kind][step], (ctx) => handle(ctx, kind, step));
    }
    router.get(FLOW_PATHS[kind].done, (ctx) => handle(ctx, kind, 'done'));
  }
  return router;
}
