// The sign-in's second step (authenticator code, passkey): its words in Vietnamese and English.

export const SECOND_FACTOR_MESSAGES = {
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
