// The account question of prompt=select_account: go on as the citizen signed in to this browser, or
// sign in as someone else. The citizen is named by name and a masked ID number only (a shared
// computer shows this page to whoever sits at it next).
import { html, layout } from '../web/html.ts';
import { translator, type Locale } from '../web/i18n.ts';
import { translate } from './i18n.ts';

const MESSAGES = {
  'select.title': { vi: 'Chọn tài khoản', en: 'Choose an account' },
  'select.lead': { vi: 'Thiết bị này đang đăng nhập với tài khoản:', en: 'This device is signed in as:' },
  'select.name': { vi: 'Họ và tên', en: 'Full name' },
  'select.id_number': { vi: 'Số định danh cá nhân', en: 'Personal identification number' },
  'select.continue': { vi: 'Tiếp tục với tài khoản {name}', en: 'Continue as {name}' },
  'select.another': { vi: 'Dùng tài khoản khác', en: 'Use another account' },
  'select.another_note': {
    vi: 'Khi chọn tài khoản khác, tài khoản trên sẽ được đăng xuất khỏi thiết bị này.',
    en: 'Choosing another account signs the account above out of this device.',
  },
} as const;

export const t = translator(MESSAGES);

/** The last four digits only: enough for the citizen to recognise, too little for anyone else. */
export function maskedNationalId(nationalId: string): string {
  return `${'•'.repeat(8)}${nationalId.slice(-4)}`;
}

export interface SelectAccountPageModel {
  readonly locale: Locale;
  readonly uid: string;
  readonly clientName: string;
  /** The registry's full name; undefined when the registry cannot say (the masked number stands alone). */
  readonly fullName: string | undefined;
  readonly nationalId: string;
  readonly switchHref: string;
}

export function selectAccountPage(model: SelectAccountPageModel): string {
  const { locale } = model;
  const masked = maskedNationalId(model.nationalId);
  const who = model.fullName ?? masked;
  return layout({
    locale,
    title: t(locale, 'select.title'),
    switchHref: model.switchHref,
    body: html`<h1>${t(locale, 'select.title')}</h1>
<p>${translate(locale, 'login.continue_to')} <strong>${model.clientName}</strong></p>
<p>${t(locale, 'select.lead')}</p>
<dl class="claims" id="current-account">
${model.fullName ? html`<dt>${t(locale, 'select.name')}</dt><dd><strong>${model.fullName}</strong></dd>` : ''}
<dt>${t(locale, 'select.id_number')}</dt><dd>${masked}</dd>
</dl>
<form method="post" action="/interaction/${model.uid}/select-account/continue">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="primary">${t(locale, 'select.continue').replace('{name}', who)}</button></div>
</form>
<form method="post" action="/interaction/${model.uid}/select-account/another">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="secondary" aria-describedby="another-note">${t(locale, 'select.another')}</button></div>
</form>
<p class="muted" id="another-note">${t(locale, 'select.another_note')}</p>
<form method="post" action="/interaction/${model.uid}/abort">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="secondary">${translate(locale, 'login.cancel')}</button></div>
</form>`,
  });
}
