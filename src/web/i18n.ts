// The two languages of every page — Vietnamese (default) and English — and the language-neutral
// machinery: choosing a request's language, translating through a page group's own catalogue,
// the link to the same page in the other language, and dates as people in Vietnam write them.
export const LOCALES = ['vi', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** A catalogue: each key in both languages. */
export type Messages = Record<string, Record<Locale, string>>;

/**
 * A translator over a page group's own catalogue, so each group (registration, account, second
 * factor…) keeps its words apart from its templates: `const t = translator(MY_MESSAGES)`.
 */
export function translator<T extends Messages>(table: T): (locale: Locale, key: keyof T) => string {
  return (locale, key) => table[key]![locale];
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

/** What choosing a language needs of a request (a subset of Koa's context). */
export interface LocaleSource {
  readonly query: Record<string, unknown>;
  readonly cookies: { get(name: string): string | undefined };
}

/** ?lang= wins, then the language cookie, then the request's ui_locales, then Vietnamese. */
export function localeOf(ctx: LocaleSource, uiLocales?: string): Locale {
  const asString = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return pickLocale(asString(ctx.query.lang), ctx.cookies.get('lang'), asString(ctx.query.ui_locales), uiLocales);
}

/** The same page in the other language. */
export function switchHref(originalUrl: string, locale: Locale): string {
  const parsed = new URL(originalUrl, 'http://x');
  parsed.searchParams.set('lang', locale === 'vi' ? 'en' : 'vi');
  return `${parsed.pathname}${parsed.search}`;
}

const TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** A moment in Vietnam's time: 14:05 27/11/2026 in Vietnamese, 27 Nov 2026, 14:05 in English. */
export function formatDateTime(locale: Locale, date: Date): string {
  return locale === 'vi'
    ? new Intl.DateTimeFormat('vi-VN', { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: TIME_ZONE }).format(date)
    : new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: TIME_ZONE }).format(date);
}

/** A calendar date (YYYY-MM-DD) as people write it: 02/07/1985 in Vietnamese, 2 Jul 1985 in English. */
export function formatDate(locale: Locale, isoDate: string): string {
  const [year, month, day] = isoDate.split('-').map(Number) as [number, number, number];
  const options: Intl.DateTimeFormatOptions =
    locale === 'vi' ? { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'UTC' } : { dateStyle: 'medium', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(locale === 'vi' ? 'vi-VN' : 'en-GB', options).format(new Date(Date.UTC(year, month - 1, day)));
}
