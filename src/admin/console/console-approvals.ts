// The console's four-eyes queue: pending changes, and the approve and reject buttons for those a
// client administrator decides here — never on their own request, which another must decide.
import { html } from '../../web/html.ts';
import { Router } from '../../web/router.ts';
import { AdminProblem } from '../problem.ts';
import { CLIENT_SCOPES_APPROVAL } from '../api-clients.ts';
import { VERIFIED_CLAIMS_APPROVAL } from '../api-verified-claims.ts';
import { consoleText, consoleTextOr, type ConsoleMessageKey } from './console-i18n.ts';
import { actorName, changeFields, clientPath, consoleLayout, iso, notice, type ActorNames, type Frame } from './console-layout.ts';
import { doneOf, issuesText, render, seeOther, self, type ConsoleApi, type PageHandler } from './console-session.ts';

/** Rows of the four-eyes queue per page: each decidable row costs one single-use token in the store. */
export const APPROVALS_PAGE_SIZE = 25;


/** A pending request as the admin API's listPendingApprovals returns it. */
export interface ApprovalView {
  readonly id: string;
  readonly kind: string;
  readonly subject: string;
  readonly change: Readonly<Record<string, unknown>>;
  readonly requestedBy: string;
  readonly requestedAt: string;
}

/** `decisions`: for each request decided here, the single-use token of its approve-or-reject forms; `names`: the requesters'. */
export function approvalsPage(frame: Frame, model: { approvals: readonly ApprovalView[]; decisions: ReadonlyMap<string, string>; names: ActorNames; self: string; next?: string; paged: boolean; done?: string }): string {
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
<td>${actorName(approval.requestedBy, model.names)}${approval.requestedBy === model.self ? html` (${t('approvals.yours')})` : ''}</td>
<td>${
          once
            ? html`<form method="post" action="${path}/approve" class="inline">${changeFields(frame, once)}<button type="submit" class="primary" aria-label="${label('approvals.approve')}">${t('approvals.approve')}</button></form>
<form method="post" action="${path}/reject" class="inline">${changeFields(frame, once)}<button type="submit" class="secondary" aria-label="${label('approvals.reject')}">${t('approvals.reject')}</button></form>`
            : approval.requestedBy === model.self
              ? html`<span class="muted">${t('approvals.four_eyes_own')}</span>`
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


export function approvalPages(api: ConsoleApi): Router {
  const { invoke, may, once } = api;

  const approvalList: PageHandler = async (request) => {
    const after = typeof request.ctx.query.after === 'string' ? request.ctx.query.after.trim() : '';
    const outcome = await invoke<{ approvals: ApprovalView[]; next?: string }>(request, 'listPendingApprovals', { query: { limit: String(APPROVALS_PAGE_SIZE), ...(after && { cursor: after }) } });
    if (!outcome.ok) throw new AdminProblem(400, 'invalid_request', issuesText(request.frame.locale, outcome.issues));
    // Buttons for what a client administrator decides here, except on their own requests: four eyes
    // (the API refuses the requester with 403 four_eyes all the same); the page says why instead.
    const decisions = new Map<string, string>();
    if (may(request, 'approveChange')) {
      for (const approval of outcome.body.approvals.filter((item) => (item.kind === CLIENT_SCOPES_APPROVAL || item.kind === VERIFIED_CLAIMS_APPROVAL) && item.requestedBy !== self(request))) {
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
        names: await api.namesOf(outcome.body.approvals.map((approval) => approval.requestedBy)),
        self: self(request),
        paged: after !== '',
        ...(outcome.body.next !== undefined && { next: outcome.body.next }),
        ...(done && { done }),
      }),
    );
  };

  const decideApproval =
    (operationId: 'approveChange' | 'rejectChange', done: string): PageHandler =>
    async (request, { approvalId }) => {
      await invoke(request, operationId, { params: { approvalId: approvalId! } });
      seeOther(request.ctx, `/console/approvals?done=${done}`);
    };


  return new Router()
    .get('/console/approvals', api.page(approvalList))
    .post('/console/approvals/{approvalId}/approve', api.page(decideApproval('approveChange', 'approved')))
    .post('/console/approvals/{approvalId}/reject', api.page(decideApproval('rejectChange', 'rejected')));
}
