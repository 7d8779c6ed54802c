// The second-factor page (the `otp` field is a contract, DESIGN.md "Demo data") and the notices of
// the login form: locked, too many attempts from one address, busy.
import { html, layout, type Html } from '../web/html.ts';
import { translator, type Locale } from '../web/i18n.ts';

const MESSAGES = {
  'otp.title': { vi: 'Xác thực hai yếu tố', en: 'Two-step verification' },
  'otp.lead': {
    vi: 'yêu cầu mức bảo đảm cao (mức 2). Nhập mã 6 chữ số trong ứng dụng xác thực của bạn.',
    en: 'needs a high level of assurance (level 2). Enter the 6-digit code from your authenticator app.',
  },
  'otp.label': { vi: 'Mã xác thực', en: 'Verification code' },
  'otp.hint': {
    vi: 'Mất điện thoại? Nhập một trong các mã khôi phục của bạn.',
    en: 'Lost your phone? Enter one of your recovery codes instead.',
  },
  'otp.submit': { vi: 'Xác nhận', en: 'Verify' },
  'otp.cancel': { vi: 'Hủy và quay lại dịch vụ', en: 'Cancel and return to the service' },
  'otp.invalid': { vi: 'Mã xác thực không đúng hoặc đã được dùng.', en: 'The code is wrong or has already been used.' },
  'locked.message': {
    vi: 'Đăng nhập bằng mật khẩu tạm thời bị khóa do nhập sai nhiều lần. Hãy thử lại sau {until}.',
    en: 'Password sign-in is temporarily locked after too many failed attempts. Try again after {until}.',
  },
  'otp.locked': {
    vi: 'Nhập sai mã quá nhiều lần. Hãy thử lại sau {until}.',
    en: 'Too many wrong codes. Try again after {until}.',
  },
  'address.limited': {
    vi: 'Có quá nhiều lần đăng nhập từ địa chỉ mạng của bạn. Hãy thử lại sau một phút.',
    en: 'Too many sign-in attempts from your network address. Try again in a minute.',
  },
  'passkey.heading': { vi: 'Hoặc dùng khóa truy cập', en: 'Or use a passkey' },
  'passkey.submit': { vi: 'Dùng khóa truy cập (passkey)', en: 'Use a passkey' },
  'passkey.nojs': {
    vi: 'Đăng nhập bằng khóa truy cập cần bật JavaScript.',
    en: 'Signing in with a passkey needs JavaScript.',
  },
  'passkey.failed': {
    vi: 'Không dùng được khóa truy cập. Hãy thử lại hoặc đăng nhập bằng mật khẩu.',
    en: 'The passkey could not be used. Try again, or sign in with your password.',
  },
  'passkey.unsupported': {
    vi: 'Trình duyệt này không hỗ trợ khóa truy cập.',
    en: 'This browser does not support passkeys.',
  },
  'passkey.invalid': {
    vi: 'Khóa truy cập không được chấp nhận. Hãy thử lại hoặc đăng nhập bằng mật khẩu.',
    en: 'The passkey was not accepted. Try again, or sign in with your password.',
  },
  'busy.message': {
    vi: 'Hệ thống đang bận. Hãy thử lại sau giây lát.',
    en: 'The service is busy. Please try again in a moment.',
  },
} as const;

export const t = translator(MESSAGES);

/** A lock's end in the citizen's language and Vietnam's time zone. */
export function formatUntil(locale: Locale, until: Date): string {
  return new Intl.DateTimeFormat(locale === 'vi' ? 'vi-VN' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Asia/Ho_Chi_Minh',
  }).format(until);
}

export function lockedMessage(locale: Locale, until: Date, what: 'password' | 'otp'): string {
  return t(locale, what === 'password' ? 'locked.message' : 'otp.locked').replace('{until}', formatUntil(locale, until));
}

/** The passkey alternative under the login form (passkey.js drives it; the password form needs none). */
export function passkeySection(locale: Locale, uid: string, optionsJson: string): Html {
  return html`<h2>${t(locale, 'passkey.heading')}</h2>
<form method="post" action="/interaction/${uid}/passkey" data-passkey="get" data-passkey-options="${optionsJson}" data-passkey-failed="${t(locale, 'passkey.failed')}" data-passkey-unsupported="${t(locale, 'passkey.unsupported')}">
<input type="hidden" name="lang" value="${locale}">
<input type="hidden" name="credential" value="">
<p class="muted" data-passkey-nojs>${t(locale, 'passkey.nojs')}</p>
<p data-passkey-error aria-live="assertive" hidden></p>
<div class="actions"><button type="submit" class="secondary">${t(locale, 'passkey.submit')}</button></div>
</form>
<script src="/assets/passkey.js"></script>`;
}

export interface OtpPageModel {
  readonly locale: Locale;
  readonly uid: string;
  readonly clientName: string;
  readonly alert?: string;
  readonly switchHref: string;
}

export function otpPage(model: OtpPageModel): string {
  const { locale } = model;
  return layout({
    locale,
    title: t(locale, 'otp.title'),
    switchHref: model.switchHref,
    body: html`<h1>${t(locale, 'otp.title')}</h1>
<p><strong>${model.clientName}</strong> ${t(locale, 'otp.lead')}</p>
${model.alert ? html`<p role="alert" id="otp-error">${model.alert}</p>` : ''}
<form method="post" action="/interaction/${model.uid}/otp">
<input type="hidden" name="lang" value="${locale}">
<label for="otp">${t(locale, 'otp.label')}</label>
<input id="otp" name="otp" type="text" inputmode="numeric" autocomplete="one-time-code" required aria-describedby="otp-hint${model.alert ? ' otp-error' : ''}"${model.alert ? html` aria-invalid="true"` : ''}>
<p class="muted" id="otp-hint">${t(locale, 'otp.hint')}</p>
<div class="actions"><button type="submit" class="primary">${t(locale, 'otp.submit')}</button></div>
</form>
<form method="post" action="/interaction/${model.uid}/abort">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="secondary">${t(locale, 'otp.cancel')}</button></div>
</form>`,
  });
}
