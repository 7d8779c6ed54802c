// The select-account question: its words in Vietnamese and English.

export const SELECT_ACCOUNT_MESSAGES = {
  'select.title': { vi: 'Chọn tài khoản', en: 'Choose an account' },
  'select.lead': { vi: 'Thiết bị này đang đăng nhập với tài khoản:', en: 'This device is signed in as:' },
  'select.name': { vi: 'Họ và tên', en: 'Full name' },
  'select.id_number': { vi: 'Số định danh cá nhân', en: 'Personal identification number' },
  'select.continue': { vi: 'Tiếp tục với tài khoản {name}', en: 'Continue as {name}' },
  'select.another': { vi: 'Dùng tài khoản khác', en: 'Use another account' },
  'select.another_note': {
    vi: 'Khi chọn tài khoản khác, tài khoản trên sẽ được đăng xuất khỏi thiết bị này.',
    en: 'Choosing another account signs the account above out of this device.',
  },
} as const;
