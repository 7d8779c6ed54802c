// What every page group of the console shares: the signed-in request a page handles, and the admin
// API as pages call it — found by operationId, authorized exactly as the JSON API does (roles, CSRF
// from the form, refusals audited), single-use form tokens used up before anything is done, the same
// zod schemas — so role checks, validation, four eyes and audit cannot drift from the API's.
import type Koa from 'koa';
import type { z } from 'zod';
import type { Locale } from '../../web/i18n.ts';
import type { EphemeralStore } from '../../storage/ephemeral-store.ts';
import { readForm } from '../../web/forms.ts';
import type { RouteHandler, RouteParams } from '../../web/router.ts';
import type { AdminAuthenticator } from '../auth.ts';
import { AdminProblem } from '../problem.ts';
import type { AdminPrincipal, AdminRoute } from '../route.ts';
import { ConsoleFormTokens } from './console-form-tokens.ts';
import { consoleText, consoleTextWith, type ConsoleMessageKey } from './console-i18n.ts';
import { accountIdOfActor, type ActorNames, type FieldErrors, type Frame } from './console-layout.ts';

export interface ConsoleDependencies {
  /** The admin API's routes (AdminApi.routes): the console's only way to read or change anything. */
  readonly routes: readonly AdminRoute<unknown, unknown>[];
  readonly auth: AdminAuthenticator;
  /** The provider's issuer: signing out continues there (the forms' CSP must allow it). */
  readonly issuer: string;
  /** The shared ephemeral store (Redis): the forms' single-use tokens live there, so every instance agrees. */
  readonly store: EphemeralStore;
  /**
   * The holders' full names of these accounts (the registry's), read in one statement: pages name the
   * administrators they show by them. Only for display; the admin API and the audit trail keep ids.
   */
  readonly holderNames: (accountIds: readonly string[]) => Promise<ReadonlyMap<string, string>>;
  /** What the confirmation pages promise: admin.secretRotationOverlapSeconds and keys.publishAheadSeconds. */
  readonly secretRotationOverlapSeconds: number;
  readonly keyPublishAheadSeconds: number;
}

/** The signed-in administrator's request, as a page handles it. */
export interface PageRequest {
  readonly ctx: Koa.Context;
  readonly frame: Frame & { readonly csrf: string };
  readonly accountId: string;
  /** The admin session's id: the forms' single-use tokens are bound to it. */
  readonly sessionId: string;
  /** The posted form (POST only). */
  readonly form: URLSearchParams;
}

export type PageHandler = (request: PageRequest, params: RouteParams) => Promise<void>;

/**
 * One thing wrong with the input: where, the admin API's message (English, for the API's callers), and
 * why in a stable code — zod's, or the registration check's (src/oidc/clients/invalid-client-registration.ts).
 */
export type Issue = { readonly path: string; readonly message: string; readonly code?: string };

export type Outcome<T> = { readonly ok: true; readonly status: number; readonly body: T } | { readonly ok: false; readonly issues: readonly Issue[] };

/**
 * An issue's code in the page's language: zod's common findings and the registration check's codes.
 * Any other is 'issue.invalid' — a page never shows the API's English words.
 */
export const ISSUE_TEXT: Readonly<Record<string, ConsoleMessageKey>> = {
  too_small: 'issue.too_small',
  too_big: 'issue.too_big',
  invalid_format: 'issue.invalid_format',
  invalid_value: 'issue.invalid_value',
  invalid_type: 'issue.invalid_type',
  required: 'issue.required',
  not_for_profile: 'issue.not_for_profile',
  unknown_scope: 'issue.unknown_scope',
  service_only: 'issue.service_only',
  not_absolute_url: 'issue.not_absolute_url',
  fragment: 'issue.fragment',
  https_required: 'issue.https_required',
  loopback_production: 'issue.loopback_production',
  credentials_in_url: 'issue.credentials_in_url',
  one_sector_host: 'issue.one_sector_host',
  native_redirect: 'issue.native_redirect',
  needs_backchannel_uri: 'issue.needs_backchannel_uri',
  taken: 'issue.taken',
};

/** What is wrong, in the page's language (by the issue's code). */
export const issueText = (locale: Locale, issue: Issue) => consoleText(locale, (issue.code !== undefined && ISSUE_TEXT[issue.code]) || 'issue.invalid');

const DONE_KEYS: Readonly<Record<string, ConsoleMessageKey>> = {
  created: 'done.created',
  updated: 'done.updated',
  suspended: 'done.suspended',
  resumed: 'done.resumed',
  rotated: 'done.rotated',
  locked: 'done.locked',
  unlocked: 'done.unlocked',
  sessions_ended: 'done.sessions_ended',
  level_requested: 'done.level_requested',
  level_approved: 'done.level_approved',
  level_rejected: 'done.level_rejected',
  approved: 'done.approved',
  rejected: 'done.rejected',
};

/** Calls to the admin API that are POSTs yet change nothing: their forms need no single-use token. */
const READ_ONLY_POSTS = new Set(['lookUpAccount']);

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A posted field, trimmed. */
export const text = (form: URLSearchParams, name: string) => (form.get(name) ?? '').trim();

/** Issues by field, in the page's language; those about no field of the form are joined into `unplaced`, each naming its field. */
export function placeIssues(locale: Locale, issues: readonly Issue[], fieldOf: (issue: Issue) => string): { errors: FieldErrors; unplaced?: string } {
  const errors: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const issue of issues) {
    const name = fieldOf(issue);
    const message = issueText(locale, issue);
    if (name !== '') errors[name] = errors[name] && errors[name] !== message ? `${errors[name]}; ${message}` : message;
    else unplaced.push(issue.path ? consoleTextWith(locale, 'issue.unplaced', { field: issue.path, problem: message }) : consoleText(locale, 'issue.unknown'));
  }
  return { errors, ...(unplaced.length > 0 && { unplaced: unplaced.join('; ') }) };
}

/** Every issue, each naming its field, in the page's language (for a page that has no form to place them on). */
export const issuesText = (locale: Locale, issues: readonly Issue[]) => placeIssues(locale, issues, () => '').unplaced ?? consoleText(locale, 'issue.unknown');

export const render = (ctx: Koa.Context, status: number, page: string) => {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = page;
};

export const seeOther = (ctx: Koa.Context, location: string) => {
  ctx.status = 303;
  ctx.redirect(location);
};

/** How the audit trail names the signed-in administrator. */
export const self = (request: PageRequest) => `account:${request.accountId}`;

/** The confirmation (?done=…) a page shows after a change redirected to it. */
export const doneOf = (request: PageRequest) => {
  const key = DONE_KEYS[typeof request.ctx.query.done === 'string' ? request.ctx.query.done : ''];
  return key && consoleText(request.frame.locale, key);
};

/** The admin API as the console's pages call it, with the settings their confirmations promise. */
export interface ConsoleApi {
  readonly issuerOrigin: string;
  readonly secretRotationOverlapSeconds: number;
  readonly keyPublishAheadSeconds: number;
  /** The names of the administrators among `actors` (`account:<uuid>`), by account id: one read for the whole page. */
  readonly namesOf: (actors: Iterable<string | null | undefined>) => Promise<ActorNames>;
  /** A handler of the router for a page: the signed-in request (console-routes.ts opened it), the form read. */
  readonly page: (handler: PageHandler) => RouteHandler;
  /** Opens the signed-in request for `ctx`, before the router runs. */
  readonly enter: (ctx: Koa.Context, signedIn: Omit<PageRequest, 'ctx' | 'form'>) => void;
  /** A single-use token for one rendered form, which may post to `actions` (paths as the form's action writes them). */
  readonly once: (request: PageRequest, ...actions: string[]) => Promise<string>;
  /** May the signed-in administrator call `operationId`? (Only to decide which links and buttons to show.) */
  readonly may: (request: PageRequest, operationId: string) => boolean;
  /** Asks the API's own role check for a page that only leads to `operationId` (a form, a confirmation): refused is audited. */
  readonly mayOpen: (request: PageRequest, operationId: string) => Promise<AdminPrincipal>;
  /** The API's role and CSRF check for `operationId`, refused audited, before anything else is read. */
  readonly authorize: (request: PageRequest, operationId: string) => Promise<AdminPrincipal>;
  /**
   * Calls the admin API's route: authorize exactly as the API does (refusal audited, CSRF from the
   * form), use up the form's single-use token if it changes something (a replay stops here: 409,
   * nothing done), validate with its schemas, run its handler. A 400 comes back as issues for the form.
   */
  readonly invoke: <T>(request: PageRequest, operationId: string, input?: { params?: Record<string, string>; query?: unknown; body?: unknown }) => Promise<Outcome<T>>;
}

export function consoleApi(deps: ConsoleDependencies): ConsoleApi {
  const byOperation = new Map(deps.routes.map((route) => [route.operationId, route]));
  const routeOf = (operationId: string) => {
    const route = byOperation.get(operationId);
    if (!route) throw new Error(`the admin API has no operation ${operationId}`);
    return route;
  };
  const forms = new ConsoleFormTokens(deps.store);
  const signedIn = new WeakMap<Koa.Context, Omit<PageRequest, 'ctx' | 'form'>>();

  return {
    issuerOrigin: new URL(deps.issuer).origin,
    secretRotationOverlapSeconds: deps.secretRotationOverlapSeconds,
    keyPublishAheadSeconds: deps.keyPublishAheadSeconds,
    namesOf: (actors) => deps.holderNames([...new Set([...actors].map((actor) => accountIdOfActor(actor ?? '')).filter((id) => id !== undefined))]),
    page: (handler) => async (ctx, params) => {
      const opened = signedIn.get(ctx);
      if (!opened) throw new Error('a console page ran without a signed-in request');
      const form = ctx.method === 'POST' ? await readForm(ctx) : new URLSearchParams();
      await handler({ ctx, ...opened, form }, params);
    },
    enter: (ctx, opened) => signedIn.set(ctx, opened),
    once: (request, ...actions) => forms.issue(request.sessionId, actions),
    may: (request, operationId) => routeOf(operationId).access.roles.some((role) => request.frame.roles.has(role)),
    mayOpen: (request, operationId) => deps.auth.authorize(request.ctx, { ...routeOf(operationId), method: 'GET' }, { sessionOnly: true }),
    authorize: (request, operationId) => deps.auth.authorize(request.ctx, routeOf(operationId), { sessionOnly: true, csrfToken: request.form.get('csrf') ?? '' }),
    invoke: async <T>(request: PageRequest, operationId: string, input: { params?: Record<string, string>; query?: unknown; body?: unknown } = {}): Promise<Outcome<T>> => {
      const route = routeOf(operationId);
      const principal = await deps.auth.authorize(request.ctx, route, { sessionOnly: true, csrfToken: request.form.get('csrf') ?? '' });
      if (route.method !== 'GET' && !READ_ONLY_POSTS.has(operationId)) {
        // Used up before anything is validated or done: a refused form comes back with a fresh token.
        const outcome = await forms.consume(request.form.get('once') ?? '', request.sessionId, request.ctx.path);
        if (outcome === 'used') throw new AdminProblem(409, 'already_done', 'this form was already submitted; nothing more was done');
        if (outcome === 'unknown') throw new AdminProblem(409, 'form_expired', 'the form expired or is not for this session; nothing was done');
      }
      const parse = (schema: z.ZodType | undefined, value: unknown): { data?: unknown; issues?: Issue[] } => {
        if (!schema) return {};
        const parsed = schema.safeParse(value);
        return parsed.success ? { data: parsed.data } : { issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message, code: issue.code })) };
      };
      const query = parse(route.query, input.query ?? {});
      const body = parse(route.body, input.body);
      const issues = [...(query.issues ?? []), ...(body.issues ?? [])];
      if (issues.length > 0) return { ok: false, issues };
      try {
        const response = await route.handle({ principal, params: input.params ?? {}, body: body.data, query: query.data, ctx: request.ctx });
        return { ok: true, status: response.status, body: response.body as T };
      } catch (error) {
        if (!(error instanceof AdminProblem) || error.status !== 400) throw error;
        const details = Array.isArray(error.details) ? (error.details as Issue[]) : [{ path: '', message: error.message }];
        return { ok: false, issues: details.map((issue) => ({ path: issue.path.replace(/^(query|body)\.?/, ''), message: issue.message, ...(issue.code !== undefined && { code: issue.code }) })) };
      }
    },
  };
}
