// Server-rendered HTML: one escaping function and one page layout. No inline script or style, so
// the strict Content-Security-Policy holds.
import { translator, type Locale } from './i18n.ts';

/** The layout's own words. */
const t = translator({
  'service.name': { vi: 'Định danh điện tử quốc gia', en: 'National electronic identity' },
  'language.name': { vi: 'Tiếng Việt', en: 'English' },
  'footer.privacy': {
    vi: 'Dữ liệu của bạn chỉ được chia sẻ khi bạn đồng ý.',
    en: 'Your data is shared only with your consent.',
  },
});

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = value.toString();
  else text = JSON.stringify(value) ?? '';
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** A template tag whose interpolations are escaped unless they are already Html. */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, index) => {
    const text = Array.isArray(value)
      ? value.map((item) => (item instanceof Html ? item.value : escapeHtml(item))).join('')
      : value instanceof Html
        ? value.value
        : escapeHtml(value);
    out += text + strings[index + 1]!;
  });
  return new Html(out);
}

export interface LayoutOptions {
  readonly locale: Locale;
  readonly title: string;
  readonly body: Html;
  /** The current path and query, to build the language switch link. */
  readonly switchHref?: string;
}

export function layout({ locale, title, body, switchHref }: LayoutOptions): string {
  const other: Locale = locale === 'vi' ? 'en' : 'vi';
  const switcher = switchHref
    ? html`<a class="lang" href="${switchHref}" hreflang="${other}" lang="${other}">${t(other, 'language.name')}</a>`
    : html``;
  return `<!doctype html>${html`<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${t(locale, 'service.name')}</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<link rel="stylesheet" href="/assets/site.css">
</head>
<body>
<header class="top"><span class="brand">${t(locale, 'service.name')}</span>${switcher}</header>
<main>${body}</main>
<footer>${t(locale, 'footer.privacy')}</footer>
</body>
</html>`.value}`;
}
