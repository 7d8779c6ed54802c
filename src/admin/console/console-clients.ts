// The console's relying-party pages: the list (searched, keyset-paged), a client's page, the
// registration form for new and editable clients, suspension and secret rotation behind their
// confirmations; the client secret is shown once, on the answer that made it.
import { html } from '../../web/html.ts';
import { Router } from '../../web/router.ts';
import { KNOWN_SCOPES } from '../../oidc/clients/client-profiles.ts';
import { buildClientMetadata } from '../../oidc/clients/clients.ts';
import { AdminProblem } from '../problem.ts';
import { consoleText, consoleTextWith, type ConsoleMessageKey } from './console-i18n.ts';
import { NEW_CLIENT_PATH, alert, aria, changeFields, clientPath, confirmPage, consoleLayout, field, iso, notice, textInput, type FieldErrors, type Frame } from './console-layout.ts';
import { doneOf, issuesText, placeIssues, render, seeOther, text, type ConsoleApi, type Issue, type PageHandler, type PageRequest } from './console-session.ts';

/** Rows per page of the relying-party list: the list never loads more (keyset paging). */
export const CLIENTS_PAGE_SIZE = 25;
/** The provider's own applications: shown, never changed here. */
const FIRST_PARTY = new Set(['account-console', 'admin-console']);


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
${typeof metadata.backchannel_logout_uri === 'string' ? html`<dt>${t('client.backchannel')}</dt><dd id="client-backchannel"><code>${metadata.backchannel_logout_uri}</code>${metadata.backchannel_logout_session_required === true ? html` (sid)` : ''}</dd>` : ''}
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
  /** backchannel_logout_session_required: the logout token (and the ID tokens) carry `sid`. */
  readonly backchannelLogoutSessionRequired: boolean;
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
  backchannelLogoutSessionRequired: false,
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
${textInput(locale, 'backchannelLogoutUri', t('client.backchannel'), form.backchannelLogoutUri, errors, { type: 'url', hint: t('client.backchannel_hint') })}
<div class="check"><input type="checkbox" id="backchannelLogoutSessionRequired" name="backchannelLogoutSessionRequired" value="yes"${form.backchannelLogoutSessionRequired ? html` checked` : ''}${errors.backchannelLogoutSessionRequired ? html` aria-invalid="true" aria-describedby="backchannelLogoutSessionRequired-error"` : ''}><label for="backchannelLogoutSessionRequired">${t('client.backchannel_sid')}</label></div>
${errors.backchannelLogoutSessionRequired ? html`<p class="field-error" id="backchannelLogoutSessionRequired-error">${t('form.check')}: ${errors.backchannelLogoutSessionRequired}</p>` : ''}
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
    backchannelLogoutSessionRequired: form.get('backchannelLogoutSessionRequired') === 'yes',
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
    ...(form.backchannelLogoutSessionRequired && { backchannelLogoutSessionRequired: true }),
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
    backchannelLogoutSessionRequired: metadata.backchannel_logout_session_required === true,
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
        ...(body.backchannelLogoutSessionRequired === true && { backchannelLogoutSessionRequired: true }),
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
    backchannelLogoutSessionRequired: 'backchannelLogoutSessionRequired',
    backchannel_logout_session_required: 'backchannelLogoutSessionRequired',
    agreementReference: 'agreementReference',
  };
  if (head === 'contacts') return /email/.test(issue.path) ? 'contactEmail' : 'contactName';
  return fields[head] ?? '';
}


export function clientPages(api: ConsoleApi): Router {
  const { invoke, once, may, mayOpen } = api;

  const clientList: PageHandler = async (request) => {
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
      render(ctx, 400, clientListPage(request.frame, { ...model, clients: [], error: issuesText(request.frame.locale, outcome.issues) }));
      return;
    }
    render(ctx, 200, clientListPage(request.frame, { ...model, clients: outcome.body.clients, ...(outcome.body.next !== undefined && { next: outcome.body.next }) }));
  };

  const readClient = async (request: PageRequest, clientId: string): Promise<ClientView> => {
    const outcome = await invoke<ClientView>(request, 'getClient', { params: { clientId } });
    if (!outcome.ok) throw new AdminProblem(400, 'invalid_request', issuesText(request.frame.locale, outcome.issues));
    return outcome.body;
  };

  const clientDetail: PageHandler = async (request, { clientId }) => {
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

  const newClient: PageHandler = async (request) => {
    // The form is for client administrators only: ask the API's own check (audited if refused).
    await mayOpen(request, 'createClient');
    await showClientForm(request, 200, { mode: 'create', form: EMPTY_CLIENT_FORM, errors: {} });
  };

  const createClient: PageHandler = async (request) => {
    const form = clientFormOf(request.form);
    const outcome = await invoke<{ client: ClientView; secret?: string; pendingApproval: { scopes: string[] } | null }>(request, 'createClient', {
      body: { clientId: form.clientId, ...registrationBody(form) },
    }).catch((error: unknown) => {
      // The one conflict of a registration: its client id is taken.
      if (error instanceof AdminProblem && error.code === 'conflict') return { ok: false as const, taken: true, issues: [{ path: 'clientId', message: error.message, code: 'taken' }] };
      throw error;
    });
    if (!outcome.ok) {
      const { errors, unplaced } = placeIssues(request.frame.locale, outcome.issues, clientFieldOf);
      await showClientForm(request, 'taken' in outcome ? 409 : 400, { mode: 'create', form, errors, ...(unplaced && { alert: `${consoleText(request.frame.locale, 'form.invalid')} ${unplaced}` }) });
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

  const editClient: PageHandler = async (request, { clientId }) => {
    await mayOpen(request, 'updateClient');
    const client = await readClient(request, clientId!);
    if (!editableInConsole(client)) throw new AdminProblem(409, 'conflict', consoleText(request.frame.locale, 'client.not_editable'));
    await showClientForm(request, 200, { mode: 'edit', clientId: client.clientId, form: formOfClient(client), errors: {} });
  };

  const updateClient: PageHandler = async (request, { clientId }) => {
    // Role and CSRF first (audited if refused), then whether the form can carry this client whole.
    await api.authorize(request, 'updateClient');
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

  const confirmSuspend: PageHandler = async (request, { clientId }) => {
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
    (operationId: 'suspendClient' | 'resumeClient', done: string): PageHandler =>
    async (request, { clientId }) => {
      await invoke(request, operationId, { params: { clientId: clientId! } });
      seeOther(request.ctx, `${clientPath(clientId!)}?done=${done}`);
    };

  const confirmRotateSecret: PageHandler = async (request, { clientId }) => {
    const client = await clientToConfirm(request, 'rotateClientSecret', clientId!);
    if (!client.hasSecret) throw new AdminProblem(409, 'no_secret', `client ${client.clientId} authenticates without a secret`);
    const { locale } = request.frame;
    const t = (key: ConsoleMessageKey) => consoleText(locale, key);
    const seconds = api.secretRotationOverlapSeconds;
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

  const rotateSecret: PageHandler = async (request, { clientId }) => {
    const outcome = await invoke<{ clientId: string; secret: string; previousSecretValidUntil: string }>(request, 'rotateClientSecret', { params: { clientId: clientId! } });
    if (!outcome.ok) throw new AdminProblem(400, 'invalid_request', issuesText(request.frame.locale, outcome.issues));
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


  return (
    new Router()
      .get('/console/clients', api.page(clientList))
      .post('/console/clients', api.page(createClient))
      // `-` is no client id, so the form's URL never hides a client's page (a client may be called `new`).
      .get(NEW_CLIENT_PATH, api.page(newClient))
      .get('/console/clients/{clientId}', api.page(clientDetail))
      .post('/console/clients/{clientId}', api.page(updateClient))
      .get('/console/clients/{clientId}/edit', api.page(editClient))
      .get('/console/clients/{clientId}/suspend', api.page(confirmSuspend))
      .post('/console/clients/{clientId}/suspend', api.page(setClientStatus('suspendClient', 'suspended')))
      .post('/console/clients/{clientId}/resume', api.page(setClientStatus('resumeClient', 'resumed')))
      .get('/console/clients/{clientId}/secret', api.page(confirmRotateSecret))
      .post('/console/clients/{clientId}/secret', api.page(rotateSecret))
  );
}
