// The console's audit viewer for auditors: the trail filtered by actor, account, client, type and
// time (typed as UTC), keyset-paged.
import { html } from '../../web/html.ts';
import { Router } from '../../web/router.ts';
import { consoleText, type ConsoleMessageKey } from './console-i18n.ts';
import { actorName, consoleLayout, iso, textInput, type ActorNames, type FieldErrors, type Frame } from './console-layout.ts';
import { placeIssues, render, type ConsoleApi, type PageHandler } from './console-session.ts';

export const AUDIT_PAGE_SIZE = 50;

/** An audit filter as typed in a datetime-local field (no zone): read as UTC, as the label says. */
const utc = (value: string) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value}${value.length === 16 ? ':00' : ''}Z` : value);


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

/** `names`: the administrators' among the events' actors (the trail itself keeps ids). */
export function auditPage(frame: Frame, model: { filters: AuditFilterForm; events: readonly AuditEventView[]; names: ActorNames; next?: string; paged: boolean; errors: FieldErrors }): string {
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
          html`<tr><th scope="row">${iso(event.occurredAt)}</th><td><code>${event.type}</code></td><td>${actorName(event.actor, model.names)}</td><td>${event.accountId ?? '—'}</td><td>${event.clientId ?? '—'}</td><td><code class="data">${summary(event.data)}</code></td></tr>`,
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


export function auditPages(api: ConsoleApi): Router {
  const { invoke } = api;

  const auditViewer: PageHandler = async (request) => {
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
      render(ctx, 400, auditPage(request.frame, { filters, events: [], names: new Map(), paged: false, errors }));
      return;
    }
    render(ctx, 200, auditPage(request.frame, { filters, events: outcome.body.events, names: await api.namesOf(outcome.body.events.map((event) => event.actor)), paged: cursor !== '', errors: {}, ...(outcome.body.next !== undefined && { next: outcome.body.next }) }));
  };


  return new Router().get('/console/audit', api.page(auditViewer));
}
