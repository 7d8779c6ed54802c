// The words the sign-in pages share (errors, scopes, claims), in Vietnamese (default) and English;
// the language machinery is src/web/i18n.ts.
import type { Locale } from '../web/i18n.ts';

const MESSAGES = {
  'error.title': { vi: 'Đã có lỗi xảy ra', en: 'Something went wrong' },
  'error.lead': {
    vi: 'Không thể hoàn tất yêu cầu đăng nhập này. Hãy quay lại dịch vụ bạn đang dùng và thử lại.',
    en: 'This sign-in request cannot be completed. Go back to the service you were using and try again.',
  },
  'error.logout_lead': {
    vi: 'Không thể hoàn tất yêu cầu đăng xuất này. Hãy quay lại dịch vụ bạn đang dùng và thử lại.',
    en: 'This sign-out request cannot be completed. Go back to the service you were using and try again.',
  },
  'error.code': { vi: 'Mã lỗi', en: 'Error code' },
  'logout.title': { vi: 'Đăng xuất', en: 'Sign out' },
  'logout.question': {
    vi: 'Bạn có muốn đăng xuất khỏi định danh điện tử trên thiết bị này không?',
    en: 'Do you want to sign out of your electronic identity on this device?',
  },
  'logout.in_progress': { vi: 'Đang đăng xuất…', en: 'Signing you out…' },
  'logout.yes': { vi: 'Đăng xuất', en: 'Sign out' },
  'logout.no': { vi: 'Không, quay lại dịch vụ', en: 'No, go back to the service' },
  'logout.done': { vi: 'Bạn đã đăng xuất.', en: 'You have signed out.' },
  'error.server': {
    vi: 'Hệ thống gặp sự cố ngoài dự kiến nên chưa thể xử lý yêu cầu này. Sự cố đã được ghi lại; vui lòng thử lại sau ít phút.',
    en: 'Something unexpected went wrong, so this request could not be handled. It has been logged; please try again in a few minutes.',
  },
  'error.expired': {
    vi: 'Phiên đăng nhập này đã hết hạn hoặc không còn hợp lệ. Hãy quay lại dịch vụ bạn đang dùng và đăng nhập lại.',
    en: 'This sign-in has expired or is no longer valid. Go back to the service you were using and sign in again.',
  },
  'error.too_large': { vi: 'Dữ liệu gửi lên quá lớn.', en: 'The submitted data is too large.' },
  'error.registry_unavailable': {
    vi: 'Cơ sở dữ liệu quốc gia về dân cư tạm thời không phản hồi nên chưa thể xác nhận đăng nhập. Vui lòng quay lại và thử lại sau giây lát.',
    en: 'The population registry is temporarily unavailable, so your sign-in cannot be confirmed right now. Please go back and try again in a moment.',
  },
  'error.unavailable': {
    vi: 'Hệ thống định danh tạm thời gián đoạn nên chưa thể xử lý yêu cầu này. Không có thông tin nào bị lưu dở dang; vui lòng thử lại sau ít phút.',
    en: 'The identity service is temporarily unavailable, so this request cannot be handled right now. Nothing was saved halfway; please try again in a few minutes.',
  },
  'error.https_only': {
    vi: 'Trang này chỉ mở được qua kết nối an toàn (https). Hãy mở lại từ địa chỉ',
    en: 'This page only opens over a secure connection (https). Open it again from',
  },
  'login.title': { vi: 'Đăng nhập', en: 'Sign in' },
  'login.continue_to': { vi: 'để tiếp tục đến', en: 'to continue to' },
  'login.username': { vi: 'Số định danh cá nhân', en: 'Personal identification number' },
  'login.username_hint': {
    vi: '12 chữ số in trên thẻ căn cước của bạn.',
    en: 'The 12 digits printed on your identity card.',
  },
  'login.password': { vi: 'Mật khẩu', en: 'Password' },
  'login.submit': { vi: 'Đăng nhập', en: 'Sign in' },
  'login.forgot': { vi: 'Quên mật khẩu?', en: 'Forgot your password?' },
  'login.no_account': { vi: 'Chưa có tài khoản?', en: 'No account yet?' },
  'login.register': { vi: 'Đăng ký tài khoản', en: 'Register for an account' },
  'login.cancel': { vi: 'Hủy và quay lại dịch vụ', en: 'Cancel and return to the service' },
  'login.invalid': {
    vi: 'Số định danh cá nhân hoặc mật khẩu không đúng.',
    en: 'The identification number or password is incorrect.',
  },
  'login.missing': {
    vi: 'Hãy nhập số định danh cá nhân gồm 12 chữ số và mật khẩu.',
    en: 'Enter your 12-digit identification number and your password.',
  },
  'login.refused': {
    vi: 'Tài khoản định danh điện tử này không thể dùng để đăng nhập. Vui lòng liên hệ cơ quan Công an nơi gần nhất.',
    en: 'This electronic identity account cannot be used to sign in. Please contact your nearest police office.',
  },
  'consent.title': { vi: 'Chia sẻ thông tin', en: 'Share your information' },
  'consent.lead': { vi: 'yêu cầu được nhận các thông tin sau của bạn:', en: 'asks to receive this information about you:' },
  'consent.sensitive': {
    vi: 'Dữ liệu nhạy cảm — chỉ chia sẻ khi bạn thật sự đồng ý:',
    en: 'Sensitive data — share it only if you really agree:',
  },
  'consent.agree': { vi: 'Đồng ý chia sẻ', en: 'Agree and share' },
  'consent.refuse': { vi: 'Từ chối', en: 'Refuse' },
  'consent.note': {
    vi: 'Bạn có thể rút lại sự đồng ý bất cứ lúc nào. Mỗi lần chia sẻ đều được ghi lại để bạn xem.',
    en: 'You can withdraw your consent at any time. Every release is recorded for you to see.',
  },
  // The account page's list of what a service may receive; the consent page says more (below).
  'scope.openid': { vi: 'Một mã định danh của bạn (không phải số định danh cá nhân)', en: 'An identifier for you (not your ID number)' },
  // The consent page's openid line says what the service's `sub` is shared with (docs/design.md "Subjects").
  'subject.pairwise': {
    vi: 'Một mã định danh của bạn chỉ dùng cho dịch vụ này (không phải số định danh cá nhân)',
    en: 'An identifier for you used only for this service (not your ID number)',
  },
  'subject.public': {
    vi: 'Một mã định danh chung của bạn: mọi dịch vụ dùng mã định danh chung đều nhận cùng mã này, nên có thể biết đó là cùng một người (không phải số định danh cá nhân)',
    en: 'A shared identifier for you: every service that uses shared identifiers receives this same one, so they can tell it is you (not your ID number)',
  },
  'scope.profile': { vi: 'Họ và tên, ngày sinh, giới tính', en: 'Your full name, date of birth and gender' },
  'scope.national_id': { vi: 'Số định danh cá nhân (12 chữ số)', en: 'Your personal identification number (12 digits)' },
  'scope.identity_document': {
    vi: 'Thẻ căn cước: ngày cấp, ngày hết hạn; quốc tịch; quê quán',
    en: 'Your identity card: issue and expiry dates; nationality; place of origin',
  },
  'scope.address': { vi: 'Địa chỉ thường trú', en: 'Your permanent address' },
  'scope.phone': { vi: 'Số điện thoại', en: 'Your phone number' },
  'scope.email': { vi: 'Địa chỉ email', en: 'Your email address' },
  'scope.ethnicity': { vi: 'Dân tộc', en: 'Your ethnicity' },
  'scope.offline_access': {
    vi: 'Tiếp tục truy cập các thông tin trên cả khi bạn không sử dụng dịch vụ',
    en: 'Keep access to this information while you are not using the service',
  },
  'claim.other': { vi: 'Thông tin riêng được yêu cầu', en: 'Individually requested information' },
} as const satisfies Record<string, Record<Locale, string>>;

export type MessageKey = keyof typeof MESSAGES;

export function translate(locale: Locale, key: MessageKey): string {
  return MESSAGES[key][locale];
}

/** A message key chosen at run time (for example `scope.<name>`), if it exists. */
export function translateIfKnown(locale: Locale, key: string): string | undefined {
  return key in MESSAGES ? MESSAGES[key as MessageKey][locale] : undefined;
}
