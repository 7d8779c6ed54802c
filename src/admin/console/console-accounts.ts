// The console's account pages for support officers: look an account up by ID number (in a POST body,
// never a URL), lock and unlock it, end its sessions, reset its second factors (the hand-over code
// shown once) and raise it to level 2 under four eyes — each behind its confirmation.
import { html } from '../../web/html.ts';
import { Router } from '../../web/router.ts';
import { AdminProblem } from '../problem.ts';
import { consoleText, type ConsoleMessageKey } from './console-i18n.ts';
import { accountPath, actorName, alert, changeFields, confirmPage, consoleLayout, csrfField, iso, notice, textAreaField, textInput, type ActorNames, type FieldErrors, type Frame } from './console-layout.ts';
import { doneOf, issuesText, placeIssues, render, seeOther, self, text, UUID, type ConsoleApi, type PageHandler, type PageRequest } from './console-session.ts';

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
 * single-use token; `decisionOnce` the one of a pending level-2 request's approve or reject; `names`
 * the officers' the page shows.
 */
export function accountPage(frame: Frame, model: { account: AccountView; done?: string; errors: FieldErrors; reason: string; lockOnce: string; decisionOnce?: string; self: string; names: ActorNames }): string {
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
${account.handoverCode ? html`<dt>${t('account.handover_outstanding')}</dt><dd>${actorName(account.handoverCode.issuedBy, model.names)}, ${t('account.until')} ${iso(account.handoverCode.expiresAt)}</dd>` : ''}
${pending ? html`<dt>${t('account.pending_level')}</dt><dd id="pending-level">${actorName(pending.requestedBy, model.names)}${pending.requestedBy === model.self ? html` (${t('approvals.yours')})` : ''}, ${iso(pending.requestedAt)}</dd>` : ''}
</dl>
${
  pending && model.decisionOnce
    ? html`<h2>${t('account.level_decide')}</h2>
<p class="muted">${t('account.level_decide_note')}</p>
<div class="actions">
<form method="post" action="${decision}/approve" class="inline">${changeFields(frame, model.decisionOnce)}<button type="submit" class="primary">${t('account.level_approve')}</button></form>
<form method="post" action="${decision}/reject" class="inline">${changeFields(frame, model.decisionOnce)}<button type="submit" class="secondary">${t('account.level_reject')}</button></form>
</div>`
    : pending && pending.requestedBy === model.self
      ? html`<p class="muted" id="four-eyes">${t('approvals.four_eyes_own')}</p>`
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


export function accountPages(api: ConsoleApi): Router {
  const { invoke, mayOpen, once } = api;

  const accountLookupForm: PageHandler = async (request) => {
    await mayOpen(request, 'lookUpAccount');
    render(request.ctx, 200, accountLookupPage(request.frame, { nationalId: '', errors: {} }));
  };

  const readAccount = async (request: PageRequest, accountId: string): Promise<AccountView> => {
    if (!UUID.test(accountId)) throw new AdminProblem(404, 'not_found', 'account not found');
    const outcome = await invoke<AccountView>(request, 'getAccount', { params: { accountId } });
    if (!outcome.ok) throw new AdminProblem(400, 'invalid_request', issuesText(request.frame.locale, outcome.issues));
    return outcome.body;
  };

  /** The account page, with fresh single-use tokens for its forms. */
  const showAccount = async (request: PageRequest, status: number, account: AccountView, extra: { done?: string; errors?: FieldErrors; reason?: string } = {}) => {
    const path = accountPath(account.accountId);
    const pending = account.pendingLevelTwo;
    const decision = pending && `${path}/level-two/${encodeURIComponent(pending.requestId)}`;
    // Four eyes: the requester is offered no decision (the API would refuse it), and is told why.
    const decisionOnce = decision && pending.requestedBy !== self(request) ? await once(request, `${decision}/approve`, `${decision}/reject`) : undefined;
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
        names: await api.namesOf([pending?.requestedBy, account.handoverCode?.issuedBy]),
      }),
    );
  };

  /** The ID number goes in a POST body, never a URL (URLs end up in logs): the answer is the account page itself. */
  const lookUp: PageHandler = async (request) => {
    const nationalId = text(request.form, 'nationalId');
    const outcome = await invoke<AccountView>(request, 'lookUpAccount', { body: { nationalId } });
    if (!outcome.ok) {
      const { errors, unplaced } = placeIssues(request.frame.locale, outcome.issues, () => 'nationalId');
      render(request.ctx, 400, accountLookupPage(request.frame, { nationalId, errors, ...(unplaced && { alert: unplaced }) }));
      return;
    }
    await showAccount(request, 200, outcome.body);
  };

  const accountView: PageHandler = async (request, { accountId }) => {
    const account = await readAccount(request, accountId!);
    const done = doneOf(request);
    await showAccount(request, 200, account, { ...(done && { done }) });
  };

  const lockOrUnlock =
    (operationId: 'lockAccount' | 'unlockAccount', done: string): PageHandler =>
    async (request, { accountId }) => {
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
    (name: AccountAction): PageHandler =>
    async (request, { accountId }) => {
      await mayOpen(request, ACCOUNT_ACTIONS[name].operationId);
      const account = await readAccount(request, accountId!);
      await showAccountConfirm(request, 200, account, name);
    };

  const accountAction =
    (name: AccountAction): PageHandler =>
    async (request, { accountId }) => {
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
    (operationId: 'approveLevelTwo' | 'rejectLevelTwo', done: string): PageHandler =>
    async (request, { accountId, requestId }) => {
      if (!UUID.test(accountId!)) throw new AdminProblem(404, 'not_found', 'account not found');
      await invoke(request, operationId, { params: { requestId: requestId! } });
      seeOther(request.ctx, `${accountPath(accountId!)}?done=${done}`);
    };


  const router = new Router()
    .get('/console/accounts', api.page(accountLookupForm))
    .post('/console/accounts/lookup', api.page(lookUp))
    .get('/console/accounts/{accountId}', api.page(accountView))
    .post('/console/accounts/{accountId}/lock', api.page(lockOrUnlock('lockAccount', 'locked')))
    .post('/console/accounts/{accountId}/unlock', api.page(lockOrUnlock('unlockAccount', 'unlocked')));
  for (const name of Object.keys(ACCOUNT_ACTIONS) as AccountAction[]) {
    router.get(`/console/accounts/{accountId}/${name}`, api.page(confirmAccountAction(name))).post(`/console/accounts/{accountId}/${name}`, api.page(accountAction(name)));
  }
  return router
    .post('/console/accounts/{accountId}/level-two/{requestId}/approve', api.page(decideLevelTwo('approveLevelTwo', 'level_approved')))
    .post('/console/accounts/{accountId}/level-two/{requestId}/reject', api.page(decideLevelTwo('rejectLevelTwo', 'level_rejected')));
}
