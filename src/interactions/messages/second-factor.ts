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
  'unmet.title': { vi: 'Dịch vụ này cần tài khoản mức 2', en: 'This service needs a level 2 account' },
  'unmet.level': {
    vi: 'yêu cầu tài khoản định danh điện tử mức 2. Tài khoản của bạn là tài khoản mức 1 nên chưa thể dùng để đăng nhập vào dịch vụ này.',
    en: 'needs a level 2 electronic identity account. Yours is a level 1 account, so it cannot be used to sign in to this service yet.',
  },
  'unmet.level.how': {
    vi: 'Để nâng lên mức 2, hãy mang thẻ căn cước đến cơ quan Công an nơi gần nhất; cán bộ sẽ đối chiếu thẻ và sinh trắc học của bạn. Sau đó, thêm ứng dụng xác thực hoặc khóa truy cập (passkey) tại trang tài khoản.',
    en: 'To raise it to level 2, bring your identity card to your nearest police office, where an officer checks the card and your biometrics. Then add an authenticator app or a passkey on your account page.',
  },
  'unmet.second_factor': {
    vi: 'yêu cầu đăng nhập mức 2: mật khẩu cùng một yếu tố thứ hai. Tài khoản của bạn là tài khoản mức 2 nhưng chưa có yếu tố thứ hai nào.',
    en: 'needs a level 2 sign-in: your password and a second factor. Your account is level 2 but has no second factor yet.',
  },
  'unmet.second_factor.how': {
    vi: 'Hãy thêm ứng dụng xác thực hoặc khóa truy cập (passkey) tại trang tài khoản, rồi đăng nhập lại vào dịch vụ.',
    en: 'Add an authenticator app or a passkey on your account page, then sign in to the service again.',
  },
  'unmet.account': { vi: 'Mở trang tài khoản', en: 'Open your account page' },
  'unmet.back': { vi: 'Quay lại dịch vụ', en: 'Return to the service' },
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
