// What the two demo relying parties (portal.ts, bank.ts) share: the page shell with its language
// switch, the choice of language (query, then a cookie), HTML escaping and the claims table.
import type Koa from 'koa';

export type Lang = 'vi' | 'en';

export const escape = (value: unknown) =>
  (typeof value === 'string' ? value : (JSON.stringify(value, null, 2) ?? '')).replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!,
  );

const BASE_STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:var(--width);margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
.button{display:inline-block;padding:.6rem 1.2rem;background:var(--accent);color:#fff;border:0;border-radius:4px;text-decoration:none;font-size:1rem;cursor:pointer}
[role=alert]{padding:.75rem;background:#fdecea;border-left:4px solid #b3261e}`;

export interface PageLook {
  /** The page's title, per language. */
  readonly title: Readonly<Record<Lang, string>>;
  /** The language switch's label, per language (in the other language). */
  readonly other: Readonly<Record<Lang, string>>;
  readonly width: string;
  readonly accent: string;
  /** Rules of this demo's own. */
  readonly style?: string;
}

export function demoPage(look: PageLook, lang: Lang, body: string): string {
  const other: Lang = lang === 'vi' ? 'en' : 'vi';
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${look.title[lang]}</title>
<style>:root{--width:${look.width};--accent:${look.accent}}
${BASE_STYLE}${look.style ? `\n${look.style}` : ''}</style></head>
<body><p><a href="/?lang=${other}" lang="${other}">${look.other[lang]}</a></p><h1>${look.title[lang]}</h1>${body}</body></html>`;
}

/** `?lang=` when given (remembered in `cookie`), else the remembered one, else Vietnamese. */
export function pageLanguage(ctx: Koa.Context, cookie: string): Lang {
  const lang: Lang = ctx.query.lang === 'en' || (ctx.query.lang === undefined && ctx.cookies.get(cookie) === 'en') ? 'en' : 'vi';
  if (ctx.query.lang === 'en' || ctx.query.lang === 'vi') ctx.cookies.set(cookie, lang, { httpOnly: true, sameSite: 'lax' });
  return lang;
}

export function claimsTable(claims: Record<string, unknown>): string {
  const rows = Object.entries(claims)
    .map(([name, value]) => `<tr><th>${escape(name)}</th><td>${escape(typeof value === 'object' ? JSON.stringify(value, null, 1) : value)}</td></tr>`)
    .join('');
  return `<table>${rows}</table>`;
}
