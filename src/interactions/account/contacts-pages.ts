// The pages that change a phone number or e-mail address, and the message carrying the code that
// confirms the new one.
import { html } from '../../web/html.ts';
import type { ContactKind } from '../../accounts/self-service.ts';
import { csrfField, maskedPhone, describedBy, fieldError, invalid, page, t, type PageFrame } from './pages.ts';

export type ContactError =
  | 'contacts.invalid_phone'
  | 'contacts.invalid_email'
  | 'contacts.same'
  | 'contacts.wrong_code'
  | 'contacts.too_many_codes';

export interface ContactPageModel extends PageFrame {
  readonly csrf: string;
  readonly kind: ContactKind;
  /** Set once a code was sent: the page asks for it. */
  readonly pendingValue?: string;
  readonly value?: string;
  readonly error?: ContactError;
}

export function contactPage(model: ContactPageModel): string {
  const { locale, kind } = model;
  const title = t(locale, kind === 'phone' ? 'contacts.change_phone' : 'contacts.change_email');
  const text = model.error && t(locale, model.error);
  if (model.pendingValue !== undefined) {
    const shown = kind === 'phone' ? maskedPhone(model.pendingValue) : model.pendingValue;
    return page(
      model,
      title,
      html`<h1>${title}</h1>
<p role="status">${t(locale, 'contacts.code_sent')} <strong>${shown}</strong>.</p>
<form method="post" action="/account/contacts/${kind}/confirm">${csrfField(model.csrf)}
<label for="contact-code">${t(locale, 'contacts.code')}</label>
<input id="contact-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required${describedBy(text && 'contact-code-error')}${invalid(Boolean(text))}>
${fieldError('contact-code-error', text)}
<div class="actions"><button type="submit" class="primary">${t(locale, 'contacts.confirm')}</button><a class="secondary" href="/account">${t(locale, 'account.cancel')}</a></div>
</form>`,
    );
  }
  const label = t(locale, kind === 'phone' ? 'contacts.new_phone' : 'contacts.new_email');
  return page(
    model,
    title,
    html`<h1>${title}</h1>
<form method="post" action="/account/contacts/${kind}">${csrfField(model.csrf)}
<label for="contact-value">${label}</label>
${
  kind === 'phone'
    ? html`<input id="contact-value" name="value" type="tel" autocomplete="tel" required value="${model.value ?? ''}"${describedBy('contact-value-hint', text && 'contact-value-error')}${invalid(Boolean(text))}>
<p class="muted" id="contact-value-hint">${t(locale, 'contacts.new_phone_hint')}</p>`
    : html`<input id="contact-value" name="value" type="email" autocomplete="email" required value="${model.value ?? ''}"${describedBy(text && 'contact-value-error')}${invalid(Boolean(text))}>`
}
${fieldError('contact-value-error', text)}
<div class="actions"><button type="submit" class="primary">${t(locale, 'contacts.send_code')}</button><a class="secondary" href="/account">${t(locale, 'account.cancel')}</a></div>
</form>`,
  );
}

/** The message carrying a code that confirms a new contact. */
export function contactCodeMessage(code: string, minutes: number): { subject: string; body: string } {
  return {
    subject: 'Định danh điện tử: mã xác nhận / Electronic identity: confirmation code',
    body: [
      `Mã xác nhận liên hệ mới của tài khoản định danh điện tử: ${code} (hiệu lực ${minutes} phút). Không chia sẻ mã này với ai.`,
      `Code confirming a new contact for your electronic identity account: ${code} (valid ${minutes} minutes). Do not share it with anyone.`,
    ].join('\n'),
  };
}
