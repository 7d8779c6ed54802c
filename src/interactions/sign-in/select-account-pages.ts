// The account question of prompt=select_account: go on as the citizen signed in to this browser, or
// sign in as someone else. The citizen is named by name and a masked ID number only (a shared
// computer shows this page to whoever sits at it next).
import { html, layout } from '../../web/html.ts';
import { translator, type Locale } from '../../web/i18n.ts';
import { SELECT_ACCOUNT_MESSAGES } from '../messages/select-account.ts';
import { translate } from '../i18n.ts';


export const t = translator(SELECT_ACCOUNT_MESSAGES);

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
