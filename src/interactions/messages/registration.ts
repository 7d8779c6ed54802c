// Self-registration and password reset: their words in Vietnamese and English.

export const REGISTRATION_MESSAGES = {
  'register.title': { vi: 'Đăng ký tài khoản định danh điện tử', en: 'Register for an electronic identity account' },
  'register.lead': {
    vi: 'Nhập thông tin in trên thẻ căn cước của bạn. Chúng tôi đối chiếu với Cơ sở dữ liệu quốc gia về dân cư và gửi mã xác nhận đến số điện thoại hoặc email mà cơ sở dữ liệu đã ghi nhận cho bạn. Tài khoản tạo tại đây là tài khoản mức 1.',
    en: 'Enter the details printed on your identity card. We check them against the National Population Database and send a confirmation code to the phone number or e-mail address the database holds for you. The account created here is a level 1 account.',
  },
  'register.submit': { vi: 'Gửi mã xác nhận', en: 'Send me a confirmation code' },
  'register.to_reset': { vi: 'Đã có tài khoản nhưng quên mật khẩu?', en: 'Already have an account but forgot the password?' },
  'reset.title': { vi: 'Đặt lại mật khẩu', en: 'Reset your password' },
  'reset.lead': {
    vi: 'Nhập số định danh cá nhân và ngày cấp thẻ căn cước. Nếu khớp với một tài khoản, chúng tôi gửi mã xác nhận đến số điện thoại hoặc email đã xác minh của tài khoản đó.',
    en: 'Enter your identification number and the issue date of your identity card. If they match an account, we send a confirmation code to that account’s verified phone number or e-mail address.',
  },
  'reset.submit': { vi: 'Gửi mã xác nhận', en: 'Send me a confirmation code' },
  'reset.to_register': { vi: 'Chưa có tài khoản? Đăng ký', en: 'No account yet? Register' },

  'field.national_id': { vi: 'Số định danh cá nhân', en: 'Personal identification number' },
  'field.national_id.hint': { vi: '12 chữ số in trên thẻ căn cước của bạn.', en: 'The 12 digits printed on your identity card.' },
  'field.full_name': { vi: 'Họ, chữ đệm và tên', en: 'Full name' },
  'field.full_name.hint': { vi: 'Đúng như trên thẻ căn cước, ví dụ: Nguyễn Văn An.', en: 'As on your identity card, for example: Nguyễn Văn An.' },
  'field.birth_date': { vi: 'Ngày sinh', en: 'Date of birth' },
  'field.card_issue_date': { vi: 'Ngày cấp thẻ căn cước', en: 'Identity card issue date' },
  'field.date.hint': { vi: 'Ngày/tháng/năm, ví dụ: 09/01/1990.', en: 'Day/month/year, for example: 09/01/1990.' },
  'field.code': { vi: 'Mã xác nhận', en: 'Confirmation code' },
  'field.code.hint': { vi: '6 chữ số trong tin nhắn chúng tôi gửi.', en: 'The 6 digits in the message we sent.' },
  'field.password': { vi: 'Mật khẩu mới', en: 'New password' },
  'field.password.hint': {
    vi: 'Ít nhất 10 ký tự. Không dùng mật khẩu phổ biến, số định danh hay ngày sinh của bạn.',
    en: 'At least 10 characters. Not a common password, and not your identification number or date of birth.',
  },
  'field.password_repeat': { vi: 'Nhập lại mật khẩu mới', en: 'New password again' },

  'error.national_id': { vi: 'Hãy nhập số định danh cá nhân gồm đúng 12 chữ số.', en: 'Enter your identification number: exactly 12 digits.' },
  'error.full_name': {
    vi: 'Hãy nhập họ và tên như trên thẻ căn cước, chỉ gồm chữ cái và dấu cách.',
    en: 'Enter your full name as on your identity card, in letters and spaces only.',
  },
  'error.date': {
    vi: 'Hãy nhập một ngày có thật theo dạng ngày/tháng/năm, ví dụ: 09/01/1990.',
    en: 'Enter a real date as day/month/year, for example: 09/01/1990.',
  },
  'error.form_expired': {
    vi: 'Biểu mẫu này đã hết hạn. Hãy kiểm tra thông tin và gửi lại.',
    en: 'This form has expired. Check your details and send them again.',
  },
  'error.code.format': { vi: 'Hãy nhập mã xác nhận gồm 6 chữ số.', en: 'Enter the 6-digit confirmation code.' },
  'error.code.wrong': { vi: 'Mã xác nhận không đúng. Bạn còn {tries} lần thử.', en: 'That code is not right. You have {tries} tries left.' },
  'error.password.missing': { vi: 'Hãy nhập mật khẩu mới.', en: 'Enter a new password.' },
  'error.password.too-short': { vi: 'Mật khẩu cần ít nhất 10 ký tự.', en: 'Use at least 10 characters.' },
  'error.password.too-long': { vi: 'Mật khẩu không được dài quá 256 ký tự.', en: 'Use at most 256 characters.' },
  'error.password.common': {
    vi: 'Mật khẩu này quá phổ biến nên dễ bị đoán. Hãy chọn mật khẩu khác.',
    en: 'This password is too common and easy to guess. Choose another.',
  },
  'error.password.contains-id-number': {
    vi: 'Mật khẩu không được chứa số định danh cá nhân của bạn.',
    en: 'The password must not contain your identification number.',
  },
  'error.password.contains-birth-date': { vi: 'Mật khẩu không được chứa ngày sinh của bạn.', en: 'The password must not contain your date of birth.' },
  'error.password.control-characters': {
    vi: 'Mật khẩu không được chứa ký tự điều khiển.',
    en: 'The password must not contain control characters.',
  },
  'error.password_repeat': { vi: 'Hai mật khẩu không giống nhau.', en: 'The two passwords are not the same.' },

  'sent.title': { vi: 'Nhập mã xác nhận', en: 'Enter your confirmation code' },
  'sent.register': {
    vi: 'Nếu thông tin bạn nhập khớp với Cơ sở dữ liệu quốc gia về dân cư, chúng tôi đã gửi một mã gồm 6 chữ số đến số điện thoại (hoặc email, nếu không có số điện thoại) mà cơ sở dữ liệu ghi nhận cho bạn — không bao giờ đến một số hay địa chỉ nhập trên trang này. Mã có hiệu lực trong {minutes} phút.',
    en: 'If the details you gave match the National Population Database, we have sent a 6-digit code to the mobile number (or, if there is none, the e-mail address) the database holds for you — never to one typed on this page. The code is valid for {minutes} minutes.',
  },
  'sent.register.none': {
    vi: 'Không nhận được mã sau vài phút? Có thể cơ sở dữ liệu chưa có số điện thoại hay email của bạn, hoặc thông tin chưa khớp. Hãy thử lại, hoặc đến cơ quan Công an nơi gần nhất để được hỗ trợ.',
    en: 'No code after a few minutes? The database may hold no phone number or e-mail address for you, or the details did not match. Try again, or visit your nearest police office for help.',
  },
  'sent.reset': {
    vi: 'Nếu thông tin bạn nhập khớp với một tài khoản định danh điện tử, chúng tôi đã gửi một mã gồm 6 chữ số đến số điện thoại (hoặc email) đã xác minh của tài khoản đó. Mã có hiệu lực trong {minutes} phút.',
    en: 'If the details you gave match an electronic identity account, we have sent a 6-digit code to that account’s verified phone number (or e-mail address). The code is valid for {minutes} minutes.',
  },
  'sent.reset.none': {
    vi: 'Không nhận được mã sau vài phút? Hãy kiểm tra lại thông tin và thử lại. Nếu tài khoản của bạn không còn số điện thoại hay email dùng được, hãy đến cơ quan Công an nơi gần nhất.',
    en: 'No code after a few minutes? Check your details and try again. If your account no longer has a phone number or e-mail address you can use, visit your nearest police office.',
  },
  'sent.code_confirmed': { vi: 'Mã xác nhận đã đúng. Bây giờ hãy chọn mật khẩu.', en: 'Your code is confirmed. Now choose a password.' },
  'sent.start_again': { vi: 'Gửi lại mã (bắt đầu lại)', en: 'Send a new code (start again)' },
  'register.confirm': { vi: 'Tạo tài khoản', en: 'Create my account' },
  'reset.confirm': { vi: 'Đổi mật khẩu', en: 'Change my password' },

  'registered.title': { vi: 'Đã tạo tài khoản', en: 'Your account is ready' },
  'registered.lead': {
    vi: 'Tài khoản định danh điện tử mức 1 của bạn đã được tạo. Bây giờ bạn có thể đăng nhập bằng số định danh cá nhân và mật khẩu vừa chọn.',
    en: 'Your level 1 electronic identity account has been created. You can now sign in with your identification number and the password you chose.',
  },
  'registered.contact': { vi: 'Các thông báo bảo mật sẽ được gửi đến {contact}.', en: 'Security notices will go to {contact}.' },
  'registered.level2': {
    vi: 'Để nâng lên tài khoản mức 2, hãy mang thẻ căn cước đến cơ quan Công an.',
    en: 'To raise it to level 2, bring your identity card to a police office.',
  },
  'done.back_to_sign_in': { vi: 'Tiếp tục đăng nhập', en: 'Continue signing in' },
  'done.to_account': { vi: 'Đăng nhập vào trang tài khoản', en: 'Sign in to your account page' },
  'changed.title': { vi: 'Đã đổi mật khẩu', en: 'Your password has been changed' },
  'changed.lead': {
    vi: 'Mật khẩu của bạn đã được đổi. Mọi phiên đăng nhập và mọi quyền truy cập đã cấp cho các dịch vụ đều đã kết thúc; hãy đăng nhập lại bằng mật khẩu mới.',
    en: 'Your password has been changed. Every sign-in session and all access given to services have ended; sign in again with your new password.',
  },
  'changed.contacts': { vi: 'Chúng tôi đã thông báo việc này đến {contacts}.', en: 'We have told {contacts} about this.' },

  'flow.expired.title': { vi: 'Mã đã hết hạn', en: 'This code has expired' },
  'flow.expired': {
    vi: 'Mã xác nhận này đã hết hạn hoặc đã được dùng. Hãy bắt đầu lại để nhận mã mới.',
    en: 'This confirmation code has expired or has already been used. Start again to get a new one.',
  },
  'flow.too_many.title': { vi: 'Nhập sai quá nhiều lần', en: 'Too many wrong codes' },
  'flow.too_many': {
    vi: 'Bạn đã nhập sai mã quá nhiều lần nên mã này không còn dùng được. Hãy bắt đầu lại để nhận mã mới.',
    en: 'The code was entered wrongly too many times and can no longer be used. Start again to get a new one.',
  },
  'flow.already_registered.title': { vi: 'Bạn đã có tài khoản', en: 'You already have an account' },
  'flow.already_registered': {
    vi: 'Số định danh này đã có tài khoản định danh điện tử. Hãy đăng nhập, hoặc đặt lại mật khẩu nếu bạn quên.',
    en: 'This identification number already has an electronic identity account. Sign in, or reset the password if you forgot it.',
  },
  'flow.refused.title': { vi: 'Không thể hoàn tất', en: 'This cannot be completed' },
  'flow.refused': {
    vi: 'Không thể hoàn tất yêu cầu cho số định danh này qua mạng. Vui lòng đến cơ quan Công an nơi gần nhất.',
    en: 'This request cannot be completed online for this identification number. Please visit your nearest police office.',
  },
  'flow.rate_limited.title': { vi: 'Quá nhiều yêu cầu', en: 'Too many requests' },
  'flow.rate_limited': {
    vi: 'Đã có quá nhiều yêu cầu cho số định danh này trong giờ qua. Để bảo vệ bạn, hãy thử lại sau {minutes} phút.',
    en: 'There have been too many requests for this identification number in the past hour. To protect you, try again in {minutes} minutes.',
  },
  'flow.registry_unavailable.title': { vi: 'Tạm thời gián đoạn', en: 'Temporarily unavailable' },
  'flow.registry_unavailable': {
    vi: 'Cơ sở dữ liệu quốc gia về dân cư tạm thời không phản hồi. Thông tin của bạn chưa được gửi đi; vui lòng thử lại sau giây lát.',
    en: 'The National Population Database is not answering right now. Nothing was sent; please try again in a moment.',
  },
  'flow.busy.title': { vi: 'Hệ thống đang bận', en: 'The service is busy' },
  'flow.busy': {
    vi: 'Hệ thống đang bận. Thông tin của bạn chưa được lưu; vui lòng gửi lại sau giây lát.',
    en: 'The service is busy. Nothing was saved; please send the form again in a moment.',
  },
  'flow.too_large.title': { vi: 'Dữ liệu quá lớn', en: 'Too much data' },
  'flow.too_large': { vi: 'Dữ liệu gửi lên quá lớn. Hãy mở lại biểu mẫu.', en: 'The submitted data is too large. Open the form again.' },
  'flow.bad_request.title': { vi: 'Yêu cầu không hợp lệ', en: 'Invalid request' },
  'flow.bad_request': {
    vi: 'Yêu cầu này không hợp lệ. Hãy mở lại biểu mẫu và gửi lại.',
    en: 'This request is not valid. Open the form again and send it from there.',
  },
  'flow.start_again': { vi: 'Bắt đầu lại', en: 'Start again' },

  'notice.registration_code.subject': { vi: 'Mã xác nhận đăng ký', en: 'Your registration code' },
  'notice.registration_code.body': {
    vi: 'Mã xác nhận đăng ký tài khoản định danh điện tử của bạn là {code}, có hiệu lực trong {minutes} phút. Không cung cấp mã này cho bất kỳ ai.',
    en: 'Your electronic identity registration code is {code}. It is valid for {minutes} minutes. Never give it to anyone.',
  },
  'notice.registration_attempt.subject': { vi: 'Có người thử đăng ký bằng thông tin của bạn', en: 'Someone tried to register with your details' },
  'notice.registration_attempt.body': {
    vi: 'Vừa có người thử đăng ký tài khoản định danh điện tử mới bằng thông tin trên thẻ căn cước của bạn. Bạn đã có tài khoản nên không có gì được tạo. Nếu không phải bạn, hãy giữ kỹ thẻ căn cước và các bản sao. Nếu bạn quên mật khẩu, hãy dùng chức năng đặt lại mật khẩu.',
    en: 'Someone just tried to register a new electronic identity account with the details on your identity card. You already have an account, so nothing was created. If this was not you, keep your card and any copies of it safe. If you forgot your password, use password reset.',
  },
  'notice.registered.subject': { vi: 'Đã tạo tài khoản định danh điện tử', en: 'Your electronic identity account was created' },
  'notice.registered.body': {
    vi: 'Tài khoản định danh điện tử mức 1 của bạn vừa được tạo. Nếu không phải bạn, hãy đến cơ quan Công an nơi gần nhất ngay.',
    en: 'Your level 1 electronic identity account has just been created. If this was not you, visit your nearest police office at once.',
  },
  'notice.reset_code.subject': { vi: 'Mã đặt lại mật khẩu', en: 'Your password reset code' },
  'notice.reset_code.body': {
    vi: 'Mã đặt lại mật khẩu tài khoản định danh điện tử của bạn là {code}, có hiệu lực trong {minutes} phút. Không cung cấp mã này cho bất kỳ ai. Nếu bạn không yêu cầu, hãy bỏ qua tin nhắn này.',
    en: 'Your electronic identity password reset code is {code}. It is valid for {minutes} minutes. Never give it to anyone. If you did not ask for it, ignore this message.',
  },
  'notice.password_changed.subject': { vi: 'Mật khẩu đã được đổi', en: 'Your password was changed' },
  'notice.password_changed.body': {
    vi: 'Mật khẩu tài khoản định danh điện tử của bạn vừa được đổi và mọi phiên đăng nhập đã kết thúc. Nếu không phải bạn, hãy đến cơ quan Công an nơi gần nhất ngay để khóa tài khoản.',
    en: 'The password of your electronic identity account has just been changed and every sign-in session has ended. If this was not you, visit your nearest police office at once to lock the account.',
  },
} as const;
