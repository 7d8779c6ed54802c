// The account page's shared template parts (their words are ../messages/account.ts): the frame, form
// fields, the error and signed-out pages, and the notices sent to contacts. Plain forms that work
// without JavaScript; every form carries the console session's CSRF token; every error sits next to
// its field, tied to it by aria-describedby, in a role="alert" element.
import { html, layout, type Html } from '../../web/html.ts';
import { formatDateTime, translator, type Locale } from '../../web/i18n.ts';
import { ACCOUNT_MESSAGES } from '../messages/account.ts';

export type AccountMessageKey = keyof typeof ACCOUNT_MESSAGES;
export const t = translator(ACCOUNT_MESSAGES);

export function isAccountMessageKey(key: string | undefined): key is AccountMessageKey {
  return key !== undefined && key in ACCOUNT_MESSAGES;
}

export function maskedPhone(phone: string): string {
  return phone.length > 6 ? `${phone.slice(0, 3)}•••${phone.slice(-4)}` : phone;
}

/** Hidden fields every console form carries. */
export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}

/** An error tied to its field: the input names it in aria-describedby. */
export function fieldError(id: string, text: string | undefined): Html {
  return text ? html`<p class="field-error" id="${id}" role="alert">${text}</p>` : html``;
}

export function describedBy(...ids: (string | false | undefined)[]): Html {
  const present = ids.filter((id): id is string => typeof id === 'string' && id !== '');
  return present.length > 0 ? html` aria-describedby="${present.join(' ')}"` : html``;
}

export function invalid(flag: boolean): Html {
  return flag ? html` aria-invalid="true"` : html``;
}

export interface PageFrame {
  readonly locale: Locale;
  readonly switchHref: string;
}

export function page(frame: PageFrame, title: string, body: Html): string {
  return layout({ locale: frame.locale, title, body, switchHref: frame.switchHref });
}


/** The account page's page groups, each a real URL, in the order the navigation lists them. */
export const ACCOUNT_SECTIONS = {
  overview: { path: '/account', label: 'nav.overview' },
  contacts: { path: '/account/contacts', label: 'contacts.title' },
  security: { path: '/account/security', label: 'factors.title' },
  password: { path: '/account/password', label: 'password.title' },
  sessions: { path: '/account/sessions', label: 'sessions.title' },
  services: { path: '/account/services', label: 'consents.title' },
  approvals: { path: '/account/approvals', label: 'approvals.nav' },
  history: { path: '/account/history', label: 'history.title' },
  organisations: { path: '/account/organisations', label: 'organisations.nav' },
} as const satisfies Record<string, { path: string; label: AccountMessageKey }>;

export type AccountSection = keyof typeof ACCOUNT_SECTIONS;

/** The bar of page groups at the top of each account page; the current one is marked for screen readers. */
export function accountNav(locale: Locale, current: AccountSection | undefined): Html {
  return html`<nav class="account-nav" aria-label="${t(locale, 'nav.label')}"><ul>${Object.entries(ACCOUNT_SECTIONS).map(
    ([name, section]) => html`<li><a href="${section.path}"${name === current ? html` aria-current="page"` : ''}>${t(locale, section.label)}</a></li>`,
  )}</ul></nav>`;
}

export const backLink = (locale: Locale) => html`<p><a href="/account">${t(locale, 'account.back')}</a></p>`;

export function signedOutPage(frame: PageFrame & { readonly everywhere: boolean }): string {
  const { locale } = frame;
  return page(
    frame,
    t(locale, 'signed_out.title'),
    html`<h1>${t(locale, 'signed_out.title')}</h1>
<p role="status">${t(locale, frame.everywhere ? 'signed_out.all' : 'signed_out.lead')}</p>
<div class="actions"><a class="secondary" href="/account">${t(locale, 'signed_out.again')}</a></div>`,
  );
}

/** A page that explains why the account page cannot go on, with a way back. */
export function accountErrorPage(frame: PageFrame, message: AccountMessageKey, code?: string): string {
  const { locale } = frame;
  return page(
    frame,
    t(locale, 'signin.failed'),
    html`<h1>${t(locale, 'account.title')}</h1>
<p role="alert">${t(locale, message)}</p>
${code ? html`<p class="muted"><code>${code}</code></p>` : ''}
${backLink(locale)}`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Messages to the citizen's contacts (no language preference is stored: both languages)

export type AccountChange =
  | 'totp.enrolled'
  | 'totp.removed'
  | 'recovery_codes.generated'
  | 'passkey.added'
  | 'passkey.removed'
  | 'password.changed'
  | 'phone.changed'
  | 'email.changed'
  | 'email.removed'
  | 'session.ended'
  | 'sessions.ended'
  | 'account.locked';

const CHANGE_TEXT: Record<AccountChange, Record<Locale, string>> = {
  'totp.enrolled': { vi: 'Một ứng dụng xác thực đã được thêm vào tài khoản của bạn', en: 'An authenticator app was added to your account' },
  'totp.removed': { vi: 'Ứng dụng xác thực đã bị gỡ khỏi tài khoản của bạn', en: 'The authenticator app was removed from your account' },
  'recovery_codes.generated': { vi: 'Mã khôi phục mới đã được tạo; các mã cũ không còn dùng được', en: 'New recovery codes were created; the old ones no longer work' },
  'passkey.added': { vi: 'Một khóa truy cập (passkey) đã được thêm vào tài khoản của bạn', en: 'A passkey was added to your account' },
  'passkey.removed': { vi: 'Một khóa truy cập (passkey) đã bị gỡ khỏi tài khoản của bạn', en: 'A passkey was removed from your account' },
  'password.changed': { vi: 'Mật khẩu tài khoản của bạn đã được thay đổi', en: 'Your account password was changed' },
  'phone.changed': { vi: 'Số điện thoại liên hệ của tài khoản đã được thay đổi', en: "Your account's mobile number was changed" },
  'email.changed': { vi: 'Email liên hệ của tài khoản đã được thay đổi', en: "Your account's email address was changed" },
  'email.removed': { vi: 'Email liên hệ đã bị xóa khỏi tài khoản của bạn', en: 'The email address was removed from your account' },
  'session.ended': { vi: 'Một phiên đăng nhập của tài khoản đã được kết thúc', en: 'A sign-in session of your account was ended' },
  'sessions.ended': { vi: 'Mọi phiên đăng nhập của tài khoản đã được kết thúc', en: 'Every sign-in session of your account was ended' },
  'account.locked': { vi: 'Tài khoản định danh điện tử của bạn đã bị khóa theo yêu cầu của bạn', en: 'Your electronic identity account was locked at your request' },
};

/** The notice sent to each verified contact after a change on the account page. */
export function securityNotice(change: AccountChange, at: Date): { subject: string; body: string } {
  const text = CHANGE_TEXT[change];
  const unlock = change === 'account.locked';
  return {
    subject: 'Định danh điện tử: thay đổi bảo mật / Electronic identity: security change',
    body: [
      `${text.vi} (${formatDateTime('vi', at)}).`,
      unlock
        ? 'Để mở khóa, hãy mang thẻ căn cước tới cơ quan Công an.'
        : 'Nếu không phải bạn, hãy khóa tài khoản ngay tại trang tài khoản hoặc liên hệ cơ quan Công an nơi gần nhất.',
      '',
      `${text.en} (${formatDateTime('en', at)}).`,
      unlock
        ? 'To unlock it, bring your identity card to a police office.'
        : 'If this was not you, lock your account now on your account page or contact your nearest police office.',
    ].join('\n'),
  };
}
