// The account page's approvals (/account/approvals): requests a bank sent through CIBA, shown with the
// bank's name, the binding message, what it would receive (the consent page's words) and when the
// request ends; approved with the citizen's second factor, denied with one click. Plain forms with the
// console's CSRF token; a passkey approval uses /assets/passkey.js (no inline script).
import { html, layout, type Html } from '../../web/html.ts';
import { formatDateTime, translator, type Locale } from '../../web/i18n.ts';
import { APPROVAL_MESSAGES } from '../messages/approvals.ts';
import { consentClaimLists, consentWording, type ConsentRequest } from '../pages.ts';
import type { PendingApproval } from '../../oidc/ciba/ciba-approvals.ts';
import { accountNav } from './pages.ts';

export type ApprovalMessageKey = keyof typeof APPROVAL_MESSAGES;
const t = translator(APPROVAL_MESSAGES);

export function isApprovalMessageKey(key: string | undefined): key is ApprovalMessageKey {
  return key !== undefined && key in APPROVAL_MESSAGES;
}

/** A waiting request as the page shows it. */
export interface ApprovalItem
  extends Pick<PendingApproval, 'id' | 'clientName' | 'subjectType' | 'bindingMessage' | 'scopes' | 'claims' | 'requestedAt' | 'expiresAt'> {
  /** Why this citizen cannot approve it, if they cannot (they can always deny). */
  readonly blocked?: 'approvals.no_factor' | 'approvals.needs_level2';
  /** PublicKeyCredentialRequestOptionsJSON when the citizen has passkeys. */
  readonly passkeyOptions?: unknown;
  /** A refusal of the last try at this request (a wrong code…). */
  readonly error?: ApprovalMessageKey;
}

export interface ApprovalsPageModel {
  readonly locale: Locale;
  readonly switchHref: string;
  readonly csrf: string;
  readonly notice?: ApprovalMessageKey;
  readonly items: readonly ApprovalItem[];
  /** The citizen's contacts: what the bank would receive lists no phone or e-mail they have not given. */
  readonly contacts: ConsentRequest['contacts'];
}

type ShownItem = Pick<ApprovalItem, 'clientName' | 'subjectType' | 'bindingMessage' | 'scopes' | 'claims' | 'expiresAt'>;

/** What the page says of one request, line by line: shown, and kept word for word in the consent record. */
export function approvalLines(locale: Locale, item: ShownItem, contacts: ConsentRequest['contacts']): {
  readonly lead: string;
  readonly binding: string;
  readonly expires: string;
  readonly wording: ReturnType<typeof consentWording>;
} {
  return {
    lead: `${item.clientName} ${t(locale, 'approvals.asks')}`,
    binding: `${t(locale, 'approvals.binding')}: ${item.bindingMessage}`,
    expires: `${t(locale, 'approvals.expires_at')}: ${formatDateTime(locale, item.expiresAt)}`,
    wording: consentWording(locale, { scopes: item.scopes, claims: item.claims, subjectType: item.subjectType, contacts }),
  };
}

/** The consent record's text of an approval: the page's words for that request, in order. */
export function approvalShownText(locale: Locale, item: ShownItem, contacts: ConsentRequest['contacts']): string {
  const lines = approvalLines(locale, item, contacts);
  const { wording } = lines;
  return [
    t(locale, 'approvals.title'),
    lines.lead,
    ...wording.ordinary.map((line) => `- ${line.text}`),
    ...(wording.otherClaims ? [`- ${wording.otherClaims}`] : []),
    ...(wording.sensitive.length > 0 ? [wording.sensitiveHeading, ...wording.sensitive.map((line) => `- ${line.text}`)] : []),
    lines.binding,
    t(locale, 'approvals.warning'),
    t(locale, 'approvals.note'),
  ].join('\n');
}

function itemSection(model: ApprovalsPageModel, item: ApprovalItem, index: number): Html {
  const { locale, csrf } = model;
  const lines = approvalLines(locale, item, model.contacts);
  const { wording } = lines;
  const heading = `approval-${index}`;
  const errorId = `approval-${index}-error`;
  const hidden = html`<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="request" value="${item.id}">`;
  const approveForms = item.blocked
    ? html`<p role="alert" class="notice">${t(locale, item.blocked)}</p>`
    : html`<form method="post" action="/account/approvals/approve" aria-labelledby="${heading}">${hidden}
<label for="otp-${index}">${t(locale, 'approvals.otp')}</label>
<input id="otp-${index}" name="otp" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required${
        item.error ? html` aria-invalid="true" aria-describedby="${errorId}"` : ''
      }>
<div class="actions"><button type="submit" class="primary">${t(locale, 'approvals.approve')}</button></div>
</form>
${
  item.passkeyOptions === undefined
    ? ''
    : html`<form method="post" action="/account/approvals/approve" data-passkey="get" data-passkey-options="${JSON.stringify(item.passkeyOptions)}" data-passkey-failed="${t(
        locale,
        'approvals.passkey_failed',
      )}" data-passkey-unsupported="${t(locale, 'approvals.passkey_unsupported')}">${hidden}
<input type="hidden" name="credential" value="">
<p class="muted" data-passkey-nojs>${t(locale, 'approvals.passkey_nojs')}</p>
<p role="alert" data-passkey-error hidden></p>
<div class="actions"><button type="submit" class="secondary">${t(locale, 'approvals.approve_passkey')}</button></div>
</form>`
}`;
  return html`<section class="approval" aria-labelledby="${heading}" data-request="${item.id}">
<h2 id="${heading}">${item.clientName}</h2>
<p class="binding">${t(locale, 'approvals.binding')}: <strong>${item.bindingMessage}</strong></p>
<p>${lines.lead}</p>
${consentClaimLists(wording)}
<p class="muted">${t(locale, 'approvals.requested_at')} ${formatDateTime(locale, item.requestedAt)} · ${lines.expires}</p>
<p>${t(locale, 'approvals.warning')}</p>
${item.error ? html`<p class="field-error" id="${errorId}" role="alert">${t(locale, item.error)}</p>` : ''}
${approveForms}
<form method="post" action="/account/approvals/deny">${hidden}
<div class="actions"><button type="submit" class="secondary" aria-describedby="${heading}">${t(locale, 'approvals.deny')}</button></div>
</form>
</section>`;
}

export function approvalsPage(model: ApprovalsPageModel): string {
  const { locale } = model;
  const passkeys = model.items.some((item) => !item.blocked && item.passkeyOptions !== undefined);
  return layout({
    locale,
    title: t(locale, 'approvals.title'),
    switchHref: model.switchHref,
    body: html`<h1>${t(locale, 'approvals.title')}</h1>
${accountNav(locale, 'approvals')}
${model.notice ? html`<p role="status" class="notice">${t(locale, model.notice)}</p>` : ''}
<p>${t(locale, 'approvals.lead')}</p>
${model.items.length === 0 ? html`<p>${t(locale, 'approvals.none')}</p>` : model.items.map((item, index) => itemSection(model, item, index))}
<p class="muted">${t(locale, 'approvals.note')}</p>
${passkeys ? html`<script src="/assets/passkey.js"></script>` : ''}`,
  });
}

/**
 * The notice to the citizen's contacts, in both languages (contacts carry no language preference). It
 * names the bank, the binding message and the account page's address; approving happens only there.
 */
export function approvalNotice(issuer: string, request: { readonly bankName: string; readonly bindingMessage: string; readonly expiresAt: Date }): {
  subject: string;
  body: string;
} {
  const page = `${issuer}/account/approvals`;
  return {
    subject: 'Định danh điện tử: yêu cầu xác nhận / Electronic identity: approval request',
    body: [
      `${request.bankName} đề nghị bạn xác nhận danh tính (mã đối chiếu: ${request.bindingMessage}), trước ${formatDateTime('vi', request.expiresAt)}.`,
      `Mở trang tài khoản (${page}) để đồng ý hoặc từ chối. Nếu bạn không ở ngân hàng này, hãy từ chối.`,
      '',
      `${request.bankName} asks you to confirm who you are (matching code: ${request.bindingMessage}), before ${formatDateTime('en', request.expiresAt)}.`,
      `Open your account page (${page}) to approve or deny. If you are not at this bank, deny it.`,
    ].join('\n'),
  };
}
