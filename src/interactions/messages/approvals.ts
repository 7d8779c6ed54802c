// The account page's bank approvals (CIBA): its words in Vietnamese and English.

export const APPROVAL_MESSAGES = {
  'approvals.title': { vi: 'Yêu cầu xác nhận', en: 'Approval requests' },
  'approvals.lead': {
    vi: 'Ngân hàng có thể đề nghị bạn xác nhận danh tính từ xa, ví dụ khi bạn đang ở quầy giao dịch. Chỉ đồng ý khi mã đối chiếu giống hệt mã ngân hàng cho bạn xem.',
    en: 'A bank can ask you to confirm who you are from a distance, for example while you are at its counter. Approve only if the matching code is exactly the one the bank shows you.',
  },
  'approvals.none': { vi: 'Không có yêu cầu nào đang chờ.', en: 'No requests are waiting.' },
  'approvals.asks': {
    vi: 'đề nghị bạn xác nhận danh tính và được nhận các thông tin sau của bạn:',
    en: 'asks you to confirm who you are and to receive this information about you:',
  },
  'approvals.binding': { vi: 'Mã đối chiếu', en: 'Matching code' },
  'approvals.requested_at': { vi: 'Gửi lúc', en: 'Sent at' },
  'approvals.expires_at': { vi: 'Hết hạn lúc', en: 'Expires at' },
  'approvals.warning': {
    vi: 'Nếu bạn không ở ngân hàng này hoặc không chờ yêu cầu này, hãy từ chối.',
    en: 'If you are not at this bank or did not expect this request, deny it.',
  },
  'approvals.otp': { vi: 'Mã 6 số từ ứng dụng xác thực', en: '6-digit code from your authenticator app' },
  'approvals.approve': { vi: 'Đồng ý', en: 'Approve' },
  'approvals.approve_passkey': { vi: 'Đồng ý bằng khóa truy cập', en: 'Approve with a passkey' },
  'approvals.deny': { vi: 'Từ chối', en: 'Deny' },
  'approvals.no_factor': {
    vi: 'Tài khoản của bạn chưa có ứng dụng xác thực hay khóa truy cập (passkey), nên không thể đồng ý yêu cầu nào ở đây; bạn vẫn có thể từ chối. Hãy thêm ứng dụng xác thực trên trang tài khoản.',
    en: 'Your account has no authenticator app or passkey, so you cannot approve requests here; you can still deny them. Add an authenticator app on your account page.',
  },
  'approvals.needs_level2': {
    vi: 'Ngân hàng này cần tài khoản định danh điện tử mức 2. Tài khoản của bạn là mức 1 nên không thể đồng ý; bạn có thể từ chối. Để lên mức 2, hãy mang thẻ căn cước tới cơ quan Công an.',
    en: 'This bank needs a level-2 electronic identity account. Yours is level 1, so you cannot approve; you can deny. To reach level 2, bring your identity card to a police office.',
  },
  'approvals.wrong_code': {
    vi: 'Mã không đúng. Hãy nhập mã 6 số mới nhất trong ứng dụng xác thực.',
    en: 'That code is not right. Enter the newest 6-digit code from your authenticator app.',
  },
  'approvals.locked': {
    vi: 'Đã nhập sai mã quá nhiều lần. Hãy thử lại sau ít phút.',
    en: 'The code was entered wrongly too many times. Please try again in a few minutes.',
  },
  'approvals.passkey_rejected': { vi: 'Khóa truy cập không được chấp nhận. Hãy thử lại.', en: 'The passkey was not accepted. Please try again.' },
  'approvals.passkey_failed': {
    vi: 'Không dùng được khóa truy cập: thiết bị đã từ chối hoặc hết thời gian.',
    en: 'The passkey could not be used: the device refused or timed out.',
  },
  'approvals.passkey_unsupported': { vi: 'Trình duyệt này không hỗ trợ khóa truy cập.', en: 'This browser does not support passkeys.' },
  'approvals.passkey_nojs': {
    vi: 'Đồng ý bằng khóa truy cập cần JavaScript; bạn có thể dùng mã 6 số.',
    en: 'Approving with a passkey needs JavaScript; you can use a 6-digit code instead.',
  },
  'approvals.gone': {
    vi: 'Yêu cầu này không còn chờ: nó đã được trả lời hoặc đã hết hạn.',
    en: 'This request is no longer waiting: it was answered or has expired.',
  },
  'approvals.approved': { vi: 'Bạn đã đồng ý. Ngân hàng sẽ nhận được xác nhận.', en: 'Approved. The bank receives your confirmation.' },
  'approvals.denied': { vi: 'Bạn đã từ chối. Ngân hàng sẽ được báo.', en: 'Denied. The bank is told.' },
  'approvals.note': {
    vi: 'Khi bạn đồng ý, sự đồng ý được ghi lại và bạn có thể rút lại trên trang tài khoản.',
    en: 'When you approve, your consent is recorded and you can withdraw it on your account page.',
  },
} as const;
