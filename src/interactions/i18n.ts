// The words citizens read, in Vietnamese (default) and English.
export const LOCALES = ['vi', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

const MESSAGES = {
  'service.name': { vi: 'Định danh điện tử quốc gia', en: 'National electronic identity' },
  'language.name': { vi: 'Tiếng Việt', en: 'English' },
  'footer.privacy': {
    vi: 'Dữ liệu của bạn chỉ được chia sẻ khi bạn đồng ý.',
    en: 'Your data is shared only with your consent.',
  },
  'error.title': { vi: 'Đã có lỗi xảy ra', en: 'Something went wrong' },
  'error.lead': {
    vi: 'Không thể hoàn tất yêu cầu đăng nhập này. Hãy quay lại dịch vụ bạn đang dùng và thử lại.',
    en: 'This sign-in request cannot be completed. Go back to the service you were using and try again.',
  },
  'error.code': { vi: 'Mã lỗi', en: 'Error code' },
  'logout.title': { vi: 'Đăng xuất', en: 'Sign out' },
  'logout.question': {
    vi: 'Bạn có muốn đăng xuất khỏi định danh điện tử trên thiết bị này không?',
    en: 'Do you want to sign out of your electronic identity on this device?',
  },
  'logout.yes': { vi: 'Đăng xuất', en: 'Sign out' },
  'logout.no': { vi: 'Không, giữ đăng nhập', en: 'No, stay signed in' },
  'logout.done': { vi: 'Bạn đã đăng xuất.', en: 'You have signed out.' },
} as const satisfies Record<string, Record<Locale, string>>;

export type MessageKey = keyof typeof MESSAGES;

export function translate(locale: Locale, key: MessageKey): string {
  return MESSAGES[key][locale];
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** The first supported entry of a space-separated `ui_locales` list, else Vietnamese. */
export function pickLocale(...candidates: (string | undefined | null)[]): Locale {
  for (const candidate of candidates) {
    for (const tag of (candidate ?? '').split(/[\s,]+/)) {
      const language = tag.toLowerCase().split('-')[0];
      if (isLocale(language)) return language;
    }
  }
  return 'vi';
}
