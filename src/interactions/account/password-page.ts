// The page that changes the password: the current one, the new one twice, the policy next to the field.
import { html } from '../../web/html.ts';
import { accountNav, csrfField, describedBy, fieldError, invalid, page, t, type PageFrame } from './pages.ts';

export type PasswordError =
  | 'password.wrong_current'
  | 'password.locked'
  | 'password.mismatch'
  | 'password.too-short'
  | 'password.too-long'
  | 'password.common'
  | 'password.contains-id-number'
  | 'password.contains-birth-date'
  | 'password.same'
  | 'password.busy';

export interface PasswordPageModel extends PageFrame {
  readonly csrf: string;
  readonly error?: PasswordError;
}

export function passwordPage(model: PasswordPageModel): string {
  const { locale, error } = model;
  const onCurrent = error === 'password.wrong_current' || error === 'password.locked' || error === 'password.busy';
  const onConfirm = error === 'password.mismatch';
  const onNew = error !== undefined && !onCurrent && !onConfirm;
  const text = error && t(locale, error);
  return page(
    model,
    t(locale, 'password.change'),
    html`<h1>${t(locale, 'password.change')}</h1>
${accountNav(locale, 'password')}
<p class="muted">${t(locale, 'password.ends_sessions')}</p>
<form method="post" action="/account/password">${csrfField(model.csrf)}
<label for="current-password">${t(locale, 'password.current')}</label>
<input id="current-password" name="current_password" type="password" autocomplete="current-password" required${describedBy(onCurrent && 'current-password-error')}${invalid(onCurrent)}>
${fieldError('current-password-error', onCurrent ? text : undefined)}
<label for="new-password">${t(locale, 'password.new')}</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password" required minlength="10"${describedBy('new-password-hint', onNew && 'new-password-error')}${invalid(onNew)}>
<p class="muted" id="new-password-hint">${t(locale, 'password.new_hint')}</p>
${fieldError('new-password-error', onNew ? text : undefined)}
<label for="confirm-password">${t(locale, 'password.confirm')}</label>
<input id="confirm-password" name="confirm_password" type="password" autocomplete="new-password" required${describedBy(onConfirm && 'confirm-password-error')}${invalid(onConfirm)}>
${fieldError('confirm-password-error', onConfirm ? text : undefined)}
<div class="actions"><button type="submit" class="primary">${t(locale, 'password.submit')}</button><a class="secondary" href="/account">${t(locale, 'account.cancel')}</a></div>
</form>`,
  );
}
