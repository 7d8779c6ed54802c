// The administrators' web console under /console/ on the admin port: server-rendered pages over the
// admin API's own routes. Every action calls the AdminRoute the JSON API would (found by operationId),
// after the same authorization (AdminAuthenticator.authorize: roles, CSRF, refusals audited) and the
// same zod schema, so role checks, validation, four eyes and audit cannot drift from the API's.
// Forms post url-encoded with the session's CSRF token and a single-use form token (a reload replays
// nothing: console-form-tokens.ts) in hidden fields; an action that cannot be taken back is reached
// through a confirmation page saying what it does. A change answers 303 to a page, except where a
// secret or hand-over code is shown once (it never goes into a URL or a store).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Koa from 'koa';
import type { z } from 'zod';
import { readForm, FormTooLarge } from '../../web/forms.ts';
import { isLocale, type Locale } from '../../web/i18n.ts';
import { contentSecurityPolicy } from '../../web/security.ts';
import { buildClientMetadata } from '../../oidc/clients/clients.ts';
import type { EphemeralStore } from '../../storage/ephemeral-store.ts';
import { AdminProblem, type AdminRoute } from '../api.ts';
import { CLIENT_SCOPES_APPROVAL } from '../api-clients.ts';
import type { AdminAuthenticator } from '../auth.ts';
import { ConsoleFormTokens } from './console-form-tokens.ts';
import { consoleText, consoleTextWith, type ConsoleMessageKey } from './console-i18n.ts';
import {
  AUDIT_FILTERS,
  EMPTY_CLIENT_FORM,
  FORM_PROFILES,
  NEW_CLIENT_PATH,
  accountLookupPage,
  accountPage,
  accountPath,
  approvalsPage,
  auditPage,
  clientDetailPage,
  clientFormPage,
  clientListPage,
  clientPath,
  clientSecretPage,
  confirmPage,
  errorPage,
  handoverCodePage,
  homePage,
  keysPage,
  rotateNowField,
  signedOutPage,
  textAreaField,
  type AccountView,
  type ApprovalView,
  type AuditEventView,
  type AuditFilterForm,
  type ClientForm,
  type ClientView,
  type FieldErrors,
  type Frame,
  type KeyView,
} from './console-pages.ts';

/** Rows per page of the relying-party list: the list never loads more (keyset paging). */
export const CLIENTS_PAGE_SIZE = 25;
export const AUDIT_PAGE_SIZE = 50;
/** Rows of the four-eyes queue per page: each decidable row costs one single-use token in the store. */
export const APPROVALS_PAGE_SIZE = 25;
const FIRST_PARTY = new Set(['account-console', 'admin-console']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const STYLESHEET = Buffer.concat([
  readFileSync(path.join(import.meta.dirname, '../../interactions/assets/site.css')),
  readFileSync(path.join(import.meta.dirname, 'console.css')),
]);

export interface ConsoleDependencies {
  /** The admin API's routes (AdminApi.routes): the console's only way to read or change anything. */
  readonly routes: readonly AdminRoute<unknown, unknown>[];
  readonly auth: AdminAuthenticator;
  /** The provider's issuer: signing out continues there (the forms' CSP must allow it). */
  readonly issuer: string;
  /** The shared ephemeral store (Redis): the forms' single-use tokens live there, so every instance agrees. */
  readonly store: EphemeralStore;
  /** What the confirmation pages promise: admin.secretRotationOverlapSeconds and keys.publishAheadSeconds. */
  readonly secretRotationOverlapSeconds: number;
  readonly keyPublishAheadSeconds: number;
  readonly onError: (error: unknown) => void;
}

interface PageRequest {
  readonly ctx: Koa.Context;
  readonly frame: Frame & { readonly csrf: string };
  readonly accountId: string;
  /** The admin session's id: the forms' single-use tokens are bound to it. */
  readonly sessionId: string;
  /** The posted form (POST only). */
  readonly form: URLSearchParams;
}

/** One thing wrong with the input: where, the admin API's message, and zod's code when zod found it. */
type Issue = { readonly path: string; readonly message: string; readonly code?: string };

/** zod's common findings in the page's language; anything else keeps the admin API's own words. */
const ISSUE_TEXT: Readonly<Record<string, ConsoleMessageKey>> = {
  too_small: 'issue.too_small',
  too_big: 'issue.too_big',
  invalid_format: 'issue.invalid_format',
  invalid_value: 'issue.invalid_value',
  invalid_type: 'issue.invalid_type',
};
type Outcome<T> = { readonly ok: true; readonly status: number; readonly body: T } | { readonly ok: false; readonly issues: readonly Issue[] };

type Handler = (request: PageRequest, params: readonly string[]) => Promise<void>;

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

/** Refusals with words of their own (others are told by status). */
const OWN_MESSAGES: Readonly<Record<string, ConsoleMessageKey>> = {
  already_done: 'error.already_done',
  form_expired: 'error.form_expired',
  four_eyes: 'error.four_eyes',
};

/** Calls to the admin API that are POSTs yet change nothing: their forms need no single-use token. */
const READ_ONLY_POSTS = new Set(['lookUpAccount']);

/** The page a POST's form came from (for the language switch of the page answering it): never a confirmation, which would invite a second action. */
const POSTED_FROM: readonly (readonly [RegExp, (match: RegExpExecArray) => string])[] = [
  [/^\/console\/clients$/, () => NEW_CLIENT_PATH],
  [/^(\/console\/clients\/[^/]+)(\/.*)?$/, (match) => match[1]!],
  [/^\/console\/keys\/rotate$/, () => '/console/keys'],
  [/^\/console\/approvals(\/.*)?$/, () => '/console/approvals'],
  [/^\/console\/accounts\/lookup$/, () => '/console/accounts'],
  [/^(\/console\/accounts\/[^/]+)(\/.*)?$/, (match) => match[1]!],
];

/** ?lang= (remembered in a cookie for the console's pages), else the cookie, else Vietnamese. */
function localeOf(ctx: Koa.Context): Locale {
  const asked = ctx.query.lang;
  if (typeof asked === 'string' && isLocale(asked)) {
    ctx.cookies.set('lang', asked, { path: '/console', httpOnly: true, sameSite: 'lax', overwrite: true });
    return asked;
  }
  const remembered = ctx.cookies.get('lang');
  return isLocale(remembered) ? remembered : 'vi';
}

/** The same page in the other language; a POST's page switches on the page its form came from. */
function switchHrefOf(ctx: Koa.Context, locale: Locale): string {
  const posted = POSTED_FROM.map(([pattern, page]) => {
    const match = pattern.exec(ctx.path);
    return match && page(match);
  }).find((page) => page);
  const base = ctx.method === 'GET' || ctx.method === 'HEAD' ? ctx.originalUrl : (posted ?? '/console/');
  const parsed = new URL(base, 'http://console');
  parsed.searchParams.set('lang', locale === 'vi' ? 'en' : 'vi');
  return `${parsed.pathname}${parsed.search}`;
}

const text = (form: URLSearchParams, name: string) => (form.get(name) ?? '').trim();
const lines = (value: string) =>
  value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');

function clientFormOf(form: URLSearchParams): ClientForm {
  return {
    clientId: text(form, 'clientId'),
    name: text(form, 'name'),
    profile: text(form, 'profile'),
    redirectUris: form.get('redirectUris') ?? '',
    postLogoutRedirectUris: form.get('postLogoutRedirectUris') ?? '',
    scopes: form.getAll('scope'),
    subjectType: text(form, 'subjectType'),
    backchannelLogoutUri: text(form, 'backchannelLogoutUri'),
    contactName: text(form, 'contactName'),
    contactEmail: text(form, 'contactEmail'),
    agreementReference: text(form, 'agreementReference'),
  };
}

/** The form as the admin API's registration body (without clientId). */
function registrationBody(form: ClientForm): Record<string, unknown> {
  const contact = form.contactName === '' && form.contactEmail === '' ? [] : [{ name: form.contactName, email: form.contactEmail }];
  return {
    name: form.name,
    profile: form.profile,
    approvedScopes: [...form.scopes],
    redirectUris: lines(form.redirectUris),
    postLogoutRedirectUris: lines(form.postLogoutRedirectUris),
    ...(form.subjectType !== '' && { subjectType: form.subjectType }),
    ...(form.backchannelLogoutUri !== '' && { backchannelLogoutUri: form.backchannelLogoutUri }),
    contacts: contact,
    agreementReference: form.agreementReference,
  };
}

/** The registration of `client` as the form would show it. */
function formOfClient(client: ClientView): ClientForm {
  const metadata = client.metadata;
  const uris = (value: unknown) => (Array.isArray(value) ? value.join('\n') : '');
  return {
    clientId: client.clientId,
    name: client.name,
    profile: client.profile,
    redirectUris: uris(metadata.redirect_uris),
    postLogoutRedirectUris: uris(metadata.post_logout_redirect_uris),
    scopes: [...client.approvedScopes, ...(client.pendingScopes ?? [])],
    subjectType: typeof metadata.subject_type === 'string' ? metadata.subject_type : '',
    backchannelLogoutUri: typeof metadata.backchannel_logout_uri === 'string' ? metadata.backchannel_logout_uri : '',
    contactName: client.contacts[0]?.name ?? '',
    contactEmail: client.contacts[0]?.email ?? '',
    agreementReference: client.agreementReference ?? '',
  };
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : inner,
  );

/**
 * Whether saving the form loses nothing: the update replaces the whole registration, so the console
 * edits only a client whose metadata the form's fields rebuild exactly (no keys, lifetimes, CIBA,
 * sector document, extra contacts…); any other goes through the admin API. Stricter than merging
 * hidden fields back, which could silently drop a setting the form does not know.
 */
function editableInConsole(client: ClientView): boolean {
  if (FIRST_PARTY.has(client.clientId) || !(FORM_PROFILES as readonly string[]).includes(client.profile) || client.contacts.length > 1) return false;
  const body = registrationBody(formOfClient(client));
  try {
    const rebuilt = buildClientMetadata(
      {
        clientId: client.clientId,
        name: client.name,
        profile: client.profile as (typeof FORM_PROFILES)[number],
        approvedScopes: client.approvedScopes,
        redirectUris: body.redirectUris as string[],
        postLogoutRedirectUris: body.postLogoutRedirectUris as string[],
        ...(body.subjectType !== undefined && { subjectType: body.subjectType as 'pairwise' | 'public' }),
        ...(body.backchannelLogoutUri !== undefined && { backchannelLogoutUri: body.backchannelLogoutUri as string }),
        ...(typeof client.metadata.backchannel_logout_session_required === 'boolean' && { backchannelLogoutSessionRequired: client.metadata.backchannel_logout_session_required }),
        ...(client.hasSecret && { secret: 'x'.repeat(32) }),
      },
      { allowLoopbackReceivers: true },
    );
    return canonical(rebuilt) === canonical(client.metadata);
  } catch {
    return false;
  }
}

/** Which form field an issue of the admin API is about (its zod path, or the registration's own "field: …" message). */
function clientFieldOf(issue: Issue): string {
  const head = (issue.path || issue.message.split(':')[0] || '').split('.')[0]!.trim();
  const fields: Record<string, string> = {
    clientId: 'clientId',
    client_id: 'clientId',
    name: 'name',
    profile: 'profile',
    token_endpoint_auth_method: 'profile',
    secret: 'profile',
    approvedScopes: 'scopes',
    'approved scopes': 'scopes',
    redirectUris: 'redirectUris',
    redirect_uris: 'redirectUris',
    postLogoutRedirectUris: 'postLogoutRedirectUris',
    post_logout_redirect_uris: 'postLogoutRedirectUris',
    subjectType: 'subjectType',
    subject_type: 'subjectType',
    backchannelLogoutUri: 'backchannelLogoutUri',
    backchannel_logout_uri: 'backchannelLogoutUri',
    agreementReference: 'agreementReference',
  };
  if (head === 'contacts') return /email/.test(issue.path) ? 'contactEmail' : 'contactName';
  return fields[head] ?? '';
}

/** Issues by field; those about no field of the form are joined into `unplaced`. */
function placeIssues(locale: Locale, issues: readonly Issue[], fieldOf: (issue: Issue) => string): { errors: FieldErrors; unplaced?: string } {
  const errors: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const issue of issues) {
    const name = fieldOf(issue);
    const known = issue.code !== undefined ? ISSUE_TEXT[issue.code] : undefined;
    const message = known ? consoleText(locale, known) : issue.path && !issue.message.startsWith(issue.path) ? issue.message : issue.message.replace(/^[^:]*:\s*/, '');
    if (name === '') unplaced.push(issue.path ? `${issue.path}: ${issue.message}` : issue.message);
    else errors[name] = errors[name] ? `${errors[name]}; ${message}` : message;
  }
  return { errors, ...(unplaced.length > 0 && { unplaced: unplaced.join('; ') }) };
}

/** An audit filter as typed in a datetime-local field (no zone): read as UTC, as the label says. */
const utc = (value: string) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value}${value.length === 16 ? ':00' : ''}Z` : value);

export function adminConsoleRoutes(deps: ConsoleDependencies): Koa.Middleware {
  const byOperation = new Map(deps.routes.map((route) => [route.operationId, route]));
  const routeOf = (operationId: string) => {
    const route = byOperation.get(operationId);
    if (!route) throw new Error(`the admin API has no operation ${operationId}`);
    return route;
  };
  const issuerOrigin = new URL(deps.issuer).origin;
  const forms = new ConsoleFormTokens(deps.store);
  /** A single-use token for one rendered form, which may post to `actions` (paths as the form's action writes them). */
  const once = (request: PageRequest, ...actions: string[]) => forms.issue(request.sessionId, actions);

  const render = (ctx: Koa.Context, status: number, page: string) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = page;
  };
  const seeOther = (ctx: Koa.Context, location: string) => {
    ctx.status = 303;
    ctx.redirect(location);
  };

  /** May the signed-in administrator call `operationId`? (Only to decide which links and buttons to show.) */
  const may = (request: PageRequest, operationId: string) => routeOf(operationId).access.roles.some((role) => request.frame.roles.has(role));

  /**
   * Calls the admin API's route: authorize exactly as the API does (refusal audited, CSRF from the
   * form), use up the form's single-use token if it changes something (a replay stops here: 409,
   * nothing done), validate with its schemas, run its handler. A 400 comes back as issues for the form.
   */
  async function invoke<T>(request: PageRequest, operationId: string, input: { params?: Record<string, string>; query?: unknown; body?: unknown } = {}): Promise<Outcome<T>> {
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
      return { ok: false, issues: details.map((issue) => ({ path: issue.path.replace(/^(query|body)\.?/, ''), message: issue.message })) };
    }
  }

  const doneOf = (request: PageRequest) => {
    const key = DONE_KEYS[typeof request.ctx.query.done === 'string' ? request.ctx.query.done : ''];
    return key && consoleText(request.frame.locale, key);
  };
  const issuesText = (issues: readonly Issue[]) => issues.map((issue) => issue.message).join('; ');
  /** Asks the API's own role check for a page that only leads to `operationId` (a form, a confirmation): refused is audited. */
  const mayOpen = (request: PageRequest, operationId: string) => deps.auth.authorize(request.ctx, { ...routeOf(operationId), method: 'GET' }, { sessionOnly: true });
  const self = (request: PageRequest) => `account:${request.accountId}`;

  // ---- relying parties ----

  const clientList: Handler = async (request) => {
    const { ctx } = request;
    const value = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name]).trim() : '');
    const search = value('search');
    const status = value('status');
    const after = value('after');
    const outcome = await invoke<{ clients: ClientView[]; next?: string }>(request, 'listClients', {
      query: { limit: String(CLIENTS_PAGE_SIZE), ...(search && { search }), ...(status && { status }), ...(after && { cursor: after }) },
    });
    const model = { search, status, paged: after !== '', canCreate: may(request, 'createClient') };
    if (!outcome.ok) {
      render(ctx, 400, clientListPage(request.frame, { ...model, clients: [], error: outcome.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ') }));
      return;
    }
    render(ctx, 200, clientListPage(request.frame, { ...model, clients: outcome.body.clients, ...(outcome.body.next !== undefined && { next: outcome.body.next }) }));
  };

  const readClient = async (request: PageRequest, clientId: string): Promise<ClientView> => {
    const outcome = await invoke<ClientView>(request, 'getClient', { params: { clientId } });
    if (!outcome.ok) throw new AdminProblem(400, 'invalid_request', issuesText(outcome.issues));
    return outcome.body;
  };

  const clientDetail: Handler = async (request, [clientId]) => {
    const client = await readClient(request, clientId!);
    const done = doneOf(request);
    const canChange = may(request, 'updateClient');
    const firstParty = FIRST_PARTY.has(client.clientId);
    const resumeOnce = canChange && !firstParty && client.status === 'suspended' ? await once(request, `${clientPath(client.clientId)}/resume`) : undefined;
    render(
      request.ctx,
      200,
      clientDetailPage(request.frame, {
        client,
        ...(done && { done }),
        canChange,
        editable: editableInConsole(client),
        firstParty,
        ...(resumeOnce && { resumeOnce }),
      }),
    );
  };

  const showClientForm = async (request: PageRequest, status: number, model: { mode: 'create' | 'edit'; clientId?: string; form: ClientForm; errors: FieldErrors; alert?: string }) => {
    const action = model.mode === 'create' ? '/console/clients' : clientPath(model.clientId!);
    render(request.ctx, status, clientFormPage(request.frame, { ...model, once: await once(request, action) }));
  };

  const newClient: Handler = async (request) => {
    // The form is for client administrators only: ask the API's own check (audited if refused).
    await mayOpen(request, 'createClient');
    await showClientForm(request, 200, { mode: 'create', form: EMPTY_CLIENT_FORM, errors: {} });
  };

  const createClient: Handler = async (request) => {
    const form = clientFormOf(request.form);
    const outcome = await invoke<{ client: ClientView; secret?: string; pendingApproval: { scopes: string[] } | null }>(request, 'createClient', {
      body: { clientId: form.clientId, ...registrationBody(form) },
    }).catch((error: unknown) => {
      if (error instanceof AdminProblem && error.code === 'conflict') return { ok: false as const, conflict: error.message, issues: [] };
      throw error;
    });
    if (!outcome.ok) {
      const conflict = 'conflict' in outcome ? outcome.conflict : undefined;
      const { errors, unplaced } = placeIssues(request.frame.locale, outcome.issues, clientFieldOf);
      const alert = conflict ?? unplaced;
      await showClientForm(request, conflict ? 409 : 400, { mode: 'create', form, errors, ...(alert && { alert: `${consoleText(request.frame.locale, 'form.invalid')} ${alert}` }) });
      return;
    }
    const { client, secret, pendingApproval } = outcome.body;
    if (secret === undefined) {
      seeOther(request.ctx, `${clientPath(client.clientId)}?done=created`);
      return;
    }
    render(
      request.ctx,
      201,
      clientSecretPage(request.frame, { clientId: client.clientId, secret, done: consoleText(request.frame.locale, 'done.created'), pendingScopes: pendingApproval?.scopes ?? [] }),
    );
  };

  const editClient: Handler = async (request, [clientId]) => {
    await mayOpen(request, 'updateClient');
    const client = await readClient(request, clientId!);
    if (!editableInConsole(client)) throw new AdminProblem(409, 'conflict', consoleText(request.frame.locale, 'client.not_editable'));
    await showClientForm(request, 200, { mode: 'edit', clientId: client.clientId, form: formOfClient(client), errors: {} });
  };

  const updateClient: Handler = async (request, [clientId]) => {
    // Role and CSRF first (audited if refused), then whether the form can carry this client whole.
    await deps.auth.authorize(request.ctx, routeOf('updateClient'), { sessionOnly: true, csrfToken: request.form.get('csrf') ?? '' });
    const existing = await readClient(request, clientId!);
    if (!editableInConsole(existing)) throw new AdminProblem(409, 'conflict', consoleText(request.frame.locale, 'client.not_editable'));
    const form = { ...clientFormOf(request.form), clientId: existing.clientId };
    const outcome = await invoke<{ client: ClientView; secret?: string; pendingApproval: { scopes: string[] } | null }>(request, 'updateClient', {
      params: { clientId: existing.clientId },
      body: registrationBody(form),
    });
    if (!outcome.ok) {
      const { errors, unplaced } = placeIssues(request.frame.locale, outcome.issues, clientFieldOf);
      await showClientForm(request, 400, { mode: 'edit', clientId: existing.clientId, form, errors, ...(unplaced && { alert: `${consoleText(request.frame.locale, 'form.invalid')} ${unplaced}` }) });
      return;
    }
    const { secret, pendingApproval } = outcome.body;
    if (secret !== undefined) {
      render(request.ctx, 200, clientSecretPage(request.frame, { clientId: existing.clientId, secret, done: consoleText(request.frame.locale, 'done.updated'), pendingScopes: pendingApproval?.scopes ?? [] }));
      return;
    }
    seeOther(request.ctx, `${clientPath(existing.clientId)}?done=updated`);
  };

  /** A relying party's confirmation page: the provider's own applications are not the console's to change. */
  const clientToConfirm = async (request: PageRequest, operationId: string, clientId: string) => {
    await mayOpen(request, operationId);
    const client = await readClient(request, clientId);
    if (FIRST_PARTY.has(client.clientId)) throw new AdminProblem(409, 'conflict', consoleText(request.frame.locale, 'client.first_party'));
    return client;
  };

  const confirmSuspend: Handler = async (request, [clientId]) => {
    const client = await clientToConfirm(request, 'suspendClient', clientId!);
    if (client.status === 'suspended') {
      seeOther(request.ctx, clientPath(client.clientId));
      return;
    }
    const t = (key: ConsoleMessageKey) => consoleText(request.frame.locale, key);
    const action = `${clientPath(client.clientId)}/suspend`;
    render(
      request.ctx,
      200,
      confirmPage(request.frame, {
        title: t('confirm.suspend.title'),
        subject: client.clientId,
        subjectName: client.name,
        consequences: [t('confirm.suspend.tokens'), t('confirm.suspend.flows'), t('confirm.suspend.resume')],
        action,
        once: await once(request, action),
        submit: t('client.suspend'),
        cancel: clientPath(client.clientId),
        current: '/console/clients',
      }),
    );
  };

  const setClientStatus =
    (operationId: 'suspendClient' | 'resumeClient', done: string): Handler =>
    async (request, [clientId]) => {
      await invoke(request, operationId, { params: { clientId: clientId! } });
      seeOther(request.ctx, `${clientPath(clientId!)}?done=${done}`);
    };

  const confirmRotateSecret: Handler = async (request, [clientId]) => {
    const client = await clientToConfirm(request, 'rotateClientSecret', clientId!);
    if (!client.hasSecret) throw new AdminProblem(409, 'no_secret', `client ${client.clientId} authenticates without a secret`);
    const { locale } = request.frame;
    const t = (key: ConsoleMessageKey) => consoleText(locale, key);
    const seconds = deps.secretRotationOverlapSeconds;
    const until = new Date(Date.now() + seconds * 1000).toISOString().slice(0, 16).replace('T', ' ');
    const action = `${clientPath(client.clientId)}/secret`;
    render(
      request.ctx,
      200,
      confirmPage(request.frame, {
        title: t('confirm.rotate.title'),
        subject: client.clientId,
        subjectName: client.name,
        consequences: [t('confirm.rotate.new'), consoleTextWith(locale, 'confirm.rotate.overlap', { seconds, until }), t('confirm.rotate.operator')],
        action,
        once: await once(request, action),
        submit: t('client.rotate'),
        cancel: clientPath(client.clientId),
        current: '/console/clients',
      }),
    );
  };

  const rotateSecret: Handler = async (request, [clientId]) => {
    const outcome = await invoke<{ clientId: string; secret: string; previousSecretValidUntil: string }>(request, 'rotateClientSecret', { params: { clientId: clientId! } });
    if (!outcome.ok) throw new AdminProblem(400, 'invalid_request', issuesText(outcome.issues));
    render(
      request.ctx,
      200,
      clientSecretPage(request.frame, {
        clientId: outcome.body.clientId,
        secret: outcome.body.secret,
        done: consoleText(request.frame.locale, 'client.secret_once'),
        pendingScopes: [],
        previousSecretValidUntil: outcome.body.previousSecretValidUntil,
      }),
    );
  };

  // ---- signing keys ----

  const keyList: Handler = async (request) => {
    const outcome = await invoke<{ keys: KeyView[] }>(request, 'listSigningKeys');
    const done = doneOf(request);
    render(request.ctx, 200, keysPage(request.frame, { keys: outcome.ok ? outcome.body.keys : [], canRotate: may(request, 'rotateSigningKeys'), ...(done && { done }) }));
  };

  const confirmRotateKeys: Handler = async (request) => {
    await mayOpen(request, 'rotateSigningKeys');
    const { locale } = request.frame;
    const t = (key: ConsoleMessageKey) => consoleText(locale, key);
    render(
      request.ctx,
      200,
      confirmPage(request.frame, {
        title: t('confirm.keys.title'),
        subject: issuerOrigin,
        consequences: [t('confirm.keys.publish'), consoleTextWith(locale, 'confirm.keys.ahead', { seconds: deps.keyPublishAheadSeconds }), t('confirm.keys.current')],
        action: '/console/keys/rotate',
        once: await once(request, '/console/keys/rotate'),
        submit: t('keys.rotate'),
        cancel: '/console/keys',
        fields: rotateNowField(request.frame, false),
        current: '/console/keys',
      }),
    );
  };

  const rotateKeys: Handler = async (request) => {
    await invoke(request, 'rotateSigningKeys', { body: { ...(request.form.get('now') === 'yes' && { now: true }) } });
    seeOther(request.ctx, '/console/keys?done=rotated');
  };

  // ---- the four-eyes queue ----

  const approvalList: Handler = async (request) => {
    const after = typeof request.ctx.query.after === 'string' ? request.ctx.query.after.trim() : '';
    const outcome = await invoke<{ approvals: ApprovalView[]; next?: string }>(request, 'listPendingApprovals', { query: { limit: String(APPROVALS_PAGE_SIZE), ...(after && { cursor: after }) } });
    if (!outcome.ok) throw new AdminProblem(400, 'invalid_request', issuesText(outcome.issues));
    // Buttons for what a client administrator decides here; the requester gets them too, and the
    // API's own refusal (403 four_eyes) says why, rather than the console guessing.
    const decisions = new Map<string, string>();
    if (may(request, 'approveChange')) {
      for (const approval of outcome.body.approvals.filter((item) => item.kind === CLIENT_SCOPES_APPROVAL)) {
        const path = `/console/approvals/${encodeURIComponent(approval.id)}`;
        decisions.set(approval.id, await once(request, `${path}/approve`, `${path}/reject`));
      }
    }
    const done = doneOf(request);
    render(
      request.ctx,
      200,
      approvalsPage(request.frame, {
        approvals: outcome.body.approvals,
        decisions,
        self: self(request),
        paged: after !== '',
        ...(outcome.body.next !== undefined && { next: outcome.body.next }),
        ...(done && { done }),
      }),
    );
  };

  const decideApproval =
    (operationId: 'approveChange' | 'rejectChange', done: string): Handler =>
    async (request, [approvalId]) => {
      await invoke(request, operationId, { params: { approvalId: approvalId! } });
      seeOther(request.ctx, `/console/approvals?done=${done}`);
    };

  // ---- accounts ----

  const accountLookupForm: Handler = async (request) => {
    await mayOpen(request, 'lookUpAccount');
    render(request.ctx, 200, accountLookupPage(request.frame, { nationalId: '', errors: {} }));
  };

  const readAccount = async (request: PageRequest, accountId: string): Promise<AccountView> => {
    if (!UUID.test(accountId)) throw new AdminProblem(404, 'not_found', 'account not found');
    const outcome = await invoke<AccountView>(request, 'getAccount', { params: { accountId } });
    if (!outcome.ok) throw new AdminProblem(400, 'invalid_request', issuesText(outcome.issues));
    return outcome.body;
  };

  /** The account page, with fresh single-use tokens for its forms. */
  const showAccount = async (request: PageRequest, status: number, account: AccountView, extra: { done?: string; errors?: FieldErrors; reason?: string } = {}) => {
    const path = accountPath(account.accountId);
    const pending = account.pendingLevelTwo;
    const decision = pending && `${path}/level-two/${encodeURIComponent(pending.requestId)}`;
    const decisionOnce = decision ? await once(request, `${decision}/approve`, `${decision}/reject`) : undefined;
    render(
      request.ctx,
      status,
      accountPage(request.frame, {
        account,
        errors: extra.errors ?? {},
        reason: extra.reason ?? '',
        ...(extra.done && { done: extra.done }),
        lockOnce: await once(request, `${path}/${account.status === 'active' ? 'lock' : 'unlock'}`),
        ...(decisionOnce && { decisionOnce }),
        self: self(request),
      }),
    );
  };

  /** The ID number goes in a POST body, never a URL (URLs end up in logs): the answer is the account page itself. */
  const lookUp: Handler = async (request) => {
    const nationalId = text(request.form, 'nationalId');
    const outcome = await invoke<AccountView>(request, 'lookUpAccount', { body: { nationalId } });
    if (!outcome.ok) {
      const { errors, unplaced } = placeIssues(request.frame.locale, outcome.issues, () => 'nationalId');
      render(request.ctx, 400, accountLookupPage(request.frame, { nationalId, errors, ...(unplaced && { alert: unplaced }) }));
      return;
    }
    await showAccount(request, 200, outcome.body);
  };

  const accountView: Handler = async (request, [accountId]) => {
    const account = await readAccount(request, accountId!);
    const done = doneOf(request);
    await showAccount(request, 200, account, { ...(done && { done }) });
  };

  const lockOrUnlock =
    (operationId: 'lockAccount' | 'unlockAccount', done: string): Handler =>
    async (request, [accountId]) => {
      if (!UUID.test(accountId!)) throw new AdminProblem(404, 'not_found', 'account not found');
      const reason = text(request.form, 'reason');
      const outcome = await invoke(request, operationId, { params: { accountId: accountId! }, body: { reason } });
      if (!outcome.ok) {
        await showAccount(request, 400, await readAccount(request, accountId!), { errors: placeIssues(request.frame.locale, outcome.issues, () => 'reason').errors, reason });
        return;
      }
      seeOther(request.ctx, `${accountPath(accountId!)}?done=${done}`);
    };

  /** The confirmations of the account actions: what happens, and the field the API asks for (a reason, or the evidence). */
  const ACCOUNT_ACTIONS = {
    'end-sessions': { operationId: 'endAccountSessions', title: 'confirm.end_sessions.title', consequences: ['confirm.end_sessions.all', 'confirm.end_sessions.account'], submit: 'account.end_sessions', field: 'reason', label: 'account.reason' },
    'reset-second-factors': { operationId: 'resetSecondFactors', title: 'confirm.reset.title', consequences: ['confirm.reset.removed', 'confirm.reset.code'], submit: 'account.reset_factors', field: 'reason', label: 'account.reason' },
    'level-two': { operationId: 'requestLevelTwo', title: 'confirm.level.title', consequences: ['confirm.level.request', 'confirm.level.second'], submit: 'account.level_request', field: 'evidence', label: 'account.evidence' },
  } as const satisfies Record<string, { operationId: string; title: ConsoleMessageKey; consequences: readonly ConsoleMessageKey[]; submit: ConsoleMessageKey; field: string; label: ConsoleMessageKey }>;
  type AccountAction = keyof typeof ACCOUNT_ACTIONS;

  const showAccountConfirm = async (request: PageRequest, status: number, account: AccountView, name: AccountAction, value = '', errors: FieldErrors = {}) => {
    const t = (key: ConsoleMessageKey) => consoleText(request.frame.locale, key);
    const action = ACCOUNT_ACTIONS[name];
    const path = `${accountPath(account.accountId)}/${name}`;
    render(
      request.ctx,
      status,
      confirmPage(request.frame, {
        title: t(action.title),
        subject: account.nationalId,
        consequences: action.consequences.map(t),
        action: path,
        once: await once(request, path),
        submit: t(action.submit),
        cancel: accountPath(account.accountId),
        fields: textAreaField(request.frame, { name: action.field, label: t(action.label), value, errors }),
        invalid: Object.keys(errors).length > 0,
        current: '/console/accounts',
      }),
    );
  };

  const confirmAccountAction =
    (name: AccountAction): Handler =>
    async (request, [accountId]) => {
      await mayOpen(request, ACCOUNT_ACTIONS[name].operationId);
      const account = await readAccount(request, accountId!);
      await showAccountConfirm(request, 200, account, name);
    };

  const accountAction =
    (name: AccountAction): Handler =>
    async (request, [accountId]) => {
      if (!UUID.test(accountId!)) throw new AdminProblem(404, 'not_found', 'account not found');
      const { operationId, field } = ACCOUNT_ACTIONS[name];
      const value = text(request.form, field);
      const outcome = await invoke<{ handoverCode?: string; expiresAt?: string; removed?: { totp: boolean; passkeys: number; recoveryCodes: number }; sessions?: number }>(request, operationId, {
        params: { accountId: accountId! },
        body: { [field]: value },
      });
      if (!outcome.ok) {
        await showAccountConfirm(request, 400, await readAccount(request, accountId!), name, value, placeIssues(request.frame.locale, outcome.issues, () => field).errors);
        return;
      }
      const { handoverCode, expiresAt, removed, sessions } = outcome.body;
      if (name === 'reset-second-factors' && handoverCode !== undefined && expiresAt !== undefined && removed !== undefined) {
        // Shown once, on this answer only: the code goes into no URL and no store of ours.
        render(request.ctx, 200, handoverCodePage(request.frame, { account: await readAccount(request, accountId!), code: handoverCode, expiresAt, removed, sessions: sessions ?? 0 }));
        return;
      }
      seeOther(request.ctx, `${accountPath(accountId!)}?done=${name === 'level-two' ? 'level_requested' : 'sessions_ended'}`);
    };

  const decideLevelTwo =
    (operationId: 'approveLevelTwo' | 'rejectLevelTwo', done: string): Handler =>
    async (request, [accountId, requestId]) => {
      if (!UUID.test(accountId!)) throw new AdminProblem(404, 'not_found', 'account not found');
      await invoke(request, operationId, { params: { requestId: requestId! } });
      seeOther(request.ctx, `${accountPath(accountId!)}?done=${done}`);
    };

  // ---- audit trail ----

  const auditViewer: Handler = async (request) => {
    const { ctx } = request;
    const filters = Object.fromEntries(AUDIT_FILTERS.map((name) => [name, typeof ctx.query[name] === 'string' ? (ctx.query[name]).trim() : ''])) as AuditFilterForm;
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : '';
    const query: Record<string, string> = { limit: String(AUDIT_PAGE_SIZE), ...(cursor && { cursor }) };
    for (const name of AUDIT_FILTERS) if (filters[name] !== '') query[name] = name === 'from' || name === 'to' ? utc(filters[name]) : filters[name];
    const outcome = await invoke<{ events: AuditEventView[]; next?: string }>(request, 'queryAuditEvents', { query });
    if (!outcome.ok) {
      const { errors } = placeIssues(request.frame.locale, outcome.issues, (issue) => {
        const name = issue.path.split('.')[0]!;
        return (AUDIT_FILTERS as readonly string[]).includes(name) ? name : 'type';
      });
      render(ctx, 400, auditPage(request.frame, { filters, events: [], paged: false, errors }));
      return;
    }
    render(ctx, 200, auditPage(request.frame, { filters, events: outcome.body.events, paged: cursor !== '', errors: {}, ...(outcome.body.next !== undefined && { next: outcome.body.next }) }));
  };

  const home: Handler = (request) => {
    render(request.ctx, 200, homePage(request.frame, request.accountId));
    return Promise.resolve();
  };

  const segment = '([^/]+)';
  const client = (suffix = '') => new RegExp(`^/console/clients/${segment}${suffix}$`);
  const account = (suffix = '') => new RegExp(`^/console/accounts/${segment}${suffix}$`);
  const table: readonly (readonly [string, RegExp, Handler])[] = [
    ['GET', /^\/console\/?$/, home],
    ['GET', /^\/console\/clients$/, clientList],
    ['POST', /^\/console\/clients$/, createClient],
    // `-` is no client id, so the form's URL never hides a client's page (a client may be called `new`).
    ['GET', /^\/console\/clients\/-\/new$/, newClient],
    ['GET', client(), clientDetail],
    ['POST', client(), updateClient],
    ['GET', client('/edit'), editClient],
    ['GET', client('/suspend'), confirmSuspend],
    ['POST', client('/suspend'), setClientStatus('suspendClient', 'suspended')],
    ['POST', client('/resume'), setClientStatus('resumeClient', 'resumed')],
    ['GET', client('/secret'), confirmRotateSecret],
    ['POST', client('/secret'), rotateSecret],
    ['GET', /^\/console\/keys$/, keyList],
    ['GET', /^\/console\/keys\/rotate$/, confirmRotateKeys],
    ['POST', /^\/console\/keys\/rotate$/, rotateKeys],
    ['GET', /^\/console\/approvals$/, approvalList],
    ['POST', new RegExp(`^/console/approvals/${segment}/approve$`), decideApproval('approveChange', 'approved')],
    ['POST', new RegExp(`^/console/approvals/${segment}/reject$`), decideApproval('rejectChange', 'rejected')],
    ['GET', /^\/console\/accounts$/, accountLookupForm],
    ['POST', /^\/console\/accounts\/lookup$/, lookUp],
    ['GET', account(), accountView],
    ['POST', account('/lock'), lockOrUnlock('lockAccount', 'locked')],
    ['POST', account('/unlock'), lockOrUnlock('unlockAccount', 'unlocked')],
    ...(Object.keys(ACCOUNT_ACTIONS) as AccountAction[]).flatMap((name) => [
      ['GET', account(`/${name}`), confirmAccountAction(name)] as const,
      ['POST', account(`/${name}`), accountAction(name)] as const,
    ]),
    ['POST', account(`/level-two/${segment}/approve`), decideLevelTwo('approveLevelTwo', 'level_approved')],
    ['POST', account(`/level-two/${segment}/reject`), decideLevelTwo('rejectLevelTwo', 'level_rejected')],
    ['GET', /^\/console\/audit$/, auditViewer],
  ];

  const securityHeaders = (ctx: Koa.Context) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    // Forms post to us only; signing out continues to the provider's end-session endpoint.
    ctx.set('Content-Security-Policy', contentSecurityPolicy([issuerOrigin]));
    ctx.set('Cache-Control', 'no-store');
  };

  return async (ctx, next) => {
    if (ctx.path !== '/console' && !ctx.path.startsWith('/console/')) {
      await next();
      return;
    }
    securityHeaders(ctx);
    if (ctx.path === '/console/assets/console.css' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.type = 'text/css';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = STYLESHEET;
      return;
    }
    const locale = localeOf(ctx);
    const switchHref = switchHrefOf(ctx, locale);
    if (ctx.path === '/console/signed-out' && ctx.method === 'GET') {
      render(ctx, 200, signedOutPage(locale, switchHref));
      return;
    }
    let found: { handler: Handler; params: string[] } | undefined;
    let pathMatched = false;
    for (const [method, pattern, handler] of table) {
      const match = pattern.exec(ctx.path);
      if (!match) continue;
      pathMatched = true;
      if (method !== (ctx.method === 'HEAD' ? 'GET' : ctx.method)) continue;
      try {
        found = { handler, params: match.slice(1).map((part) => decodeURIComponent(part)) };
      } catch {
        found = undefined;
      }
      break;
    }
    const signedIn = await deps.auth.sessionOf(ctx);
    // No session: sign in through the provider (the callback lands on /console/). Nothing is audited
    // yet: this is every administrator's way in, not a refusal.
    if (!signedIn) {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') ctx.redirect('/auth/sign-in');
      else seeOther(ctx, '/auth/sign-in');
      return;
    }
    const frame = { locale, switchHref, csrf: signedIn.session.csrf, roles: signedIn.roles };
    if (!found) {
      ctx.set('Allow', pathMatched ? table.filter(([, pattern]) => pattern.test(ctx.path)).map(([method]) => method).join(', ') : '');
      render(ctx, pathMatched ? 405 : 404, errorPage(frame, 'error.not_found'));
      return;
    }
    try {
      const form = ctx.method === 'POST' ? await readForm(ctx) : new URLSearchParams();
      await found.handler({ ctx, frame, accountId: signedIn.session.accountId, sessionId: signedIn.id, form }, found.params);
    } catch (caught) {
      if (caught instanceof FormTooLarge) {
        render(ctx, 413, errorPage(frame, 'error.server'));
        return;
      }
      if (!(caught instanceof AdminProblem)) {
        deps.onError(caught);
        render(ctx, 500, errorPage(frame, 'error.server'));
        return;
      }
      if (caught.status === 401) {
        seeOther(ctx, '/auth/sign-in');
        return;
      }
      const own = OWN_MESSAGES[caught.code];
      const message: ConsoleMessageKey =
        own ?? (caught.code === 'csrf' ? 'error.csrf' : caught.status === 403 ? 'error.forbidden' : caught.status === 404 ? 'error.not_found' : caught.status === 409 ? 'error.conflict' : 'error.server');
      // The console's own refusals say it all in the page's language; the API's keep its words as detail.
      render(ctx, caught.status, errorPage(frame, message, caught.code === 'already_done' || caught.code === 'form_expired' ? undefined : caught.message));
    }
  };
}
