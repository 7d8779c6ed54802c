// What the two demo relying parties (portal.ts, bank.ts) share: the page shell with its language
// switch and stylesheet, the choice of language (query, then a cookie), HTML escaping, and the claims
// shown as a person reads them — dates as dates, an address as an address — each beside its claim name.
import type Koa from 'koa';
import { DEMO_STYLESHEET } from './demo-style.ts';

export type Lang = 'vi' | 'en';

export const escape = (value: unknown) =>
  (typeof value === 'string' ? value : (JSON.stringify(value, null, 2) ?? '')).replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!,
  );

export interface PageLook {
  /** Which demo: the body's class, which picks its accent colour in the stylesheet. */
  readonly app: 'portal' | 'bank';
  /** The page's title, per language. */
  readonly title: Readonly<Record<Lang, string>>;
  /** The language switch's label, per language (in the other language). */
  readonly other: Readonly<Record<Lang, string>>;
}

const BRAND: Record<Lang, string> = { vi: 'citizen-idp · ứng dụng mẫu', en: 'citizen-idp · demo application' };
const FOOTER: Record<Lang, string> = {
  vi: 'Ứng dụng mẫu của citizen-idp, chỉ dùng để thử. Mọi bước trao đổi với nhà cung cấp định danh được hiển thị như nó diễn ra.',
  en: 'A sample application of citizen-idp, for trying it out. Every exchange with the identity provider is shown as it happens.',
};

export function demoPage(look: PageLook, lang: Lang, body: string): string {
  const other: Lang = lang === 'vi' ? 'en' : 'vi';
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${look.title[lang]}</title>
<link rel="stylesheet" href="/demo.css"></head>
<body class="${look.app}"><header class="top"><span class="brand">${BRAND[lang]}</span><a href="/?lang=${other}" lang="${other}">${look.other[lang]}</a></header>
<main><h1>${look.title[lang]}</h1>${body}</main>
<footer>${FOOTER[lang]}</footer></body></html>`;
}

/** Answers GET /demo.css with the stylesheet; false for any other request. */
export function servedStylesheet(ctx: Koa.Context): boolean {
  if (ctx.method !== 'GET' || ctx.path !== '/demo.css') return false;
  ctx.type = 'text/css';
  ctx.set('Cache-Control', 'public, max-age=3600');
  ctx.body = DEMO_STYLESHEET;
  return true;
}

/** `?lang=` when given (remembered in `cookie`), else the remembered one, else Vietnamese. */
export function pageLanguage(ctx: Koa.Context, cookie: string): Lang {
  const lang: Lang = ctx.query.lang === 'en' || (ctx.query.lang === undefined && ctx.cookies.get(cookie) === 'en') ? 'en' : 'vi';
  if (ctx.query.lang === 'en' || ctx.query.lang === 'vi') ctx.cookies.set(cookie, lang, { httpOnly: true, sameSite: 'lax' });
  return lang;
}

/** Errors from the provider a person can act on, in plain words; the demos show the protocol's error beside them. */
const PLAIN_ERRORS = new Map<string, Readonly<Record<Lang, string>>>([
  [
    'unmet_authentication_requirements',
    {
      vi: 'Dịch vụ này cần tài khoản định danh điện tử mức 2, đăng nhập bằng hai yếu tố. Tài khoản vừa dùng chưa đạt mức này: hãy dùng một tài khoản mức 2 có ứng dụng xác thực hoặc khóa truy cập (passkey).',
      en: 'This service needs a level-2 eID account, signed in with two factors. The account just used cannot reach that level: use a level-2 account with an authenticator app or a passkey.',
    },
  ],
]);
const PROTOCOL_ERROR: Readonly<Record<Lang, string>> = { vi: 'Lỗi giao thức', en: 'Protocol error' };

/** A sign-in that failed: in plain words when the error is one a person can act on, always with the error as it came. */
export function failureView(lang: Lang, failed: Readonly<Record<Lang, string>>, failure: { readonly code?: string | undefined; readonly text: string }): string {
  const plain = failure.code === undefined ? undefined : PLAIN_ERRORS.get(failure.code)?.[lang];
  return plain
    ? `<p role="alert">${failed[lang]}: ${escape(plain)}</p><p class="hint">${PROTOCOL_ERROR[lang]}: <code>${escape(failure.text)}</code></p>`
    : `<p role="alert">${failed[lang]}: ${escape(failure.text)}</p>`;
}

/** What a person calls each claim the demos receive; a claim not named here shows by its name alone. */
const CLAIM_LABELS: Record<string, Readonly<Record<Lang, string>>> = {
  sub: { vi: 'Mã người dùng tại dịch vụ này', en: 'Subject at this service' },
  iss: { vi: 'Nhà cung cấp định danh', en: 'Issuer' },
  aud: { vi: 'Dịch vụ nhận', en: 'Audience' },
  acr: { vi: 'Mức đảm bảo', en: 'Assurance level' },
  amr: { vi: 'Cách xác thực', en: 'Authentication methods' },
  auth_time: { vi: 'Thời điểm đăng nhập', en: 'Signed in at' },
  iat: { vi: 'Phát hành lúc', en: 'Issued at' },
  exp: { vi: 'Hết hạn lúc', en: 'Expires at' },
  nonce: { vi: 'Nonce (chống phát lại)', en: 'Nonce (replay protection)' },
  sid: { vi: 'Phiên đăng nhập', en: 'Session' },
  at_hash: { vi: 'Băm của access token', en: 'Access token hash' },
  name: { vi: 'Họ và tên', en: 'Full name' },
  family_name: { vi: 'Họ', en: 'Family name' },
  middle_name: { vi: 'Tên đệm', en: 'Middle name' },
  given_name: { vi: 'Tên', en: 'Given name' },
  birthdate: { vi: 'Ngày sinh', en: 'Date of birth' },
  gender: { vi: 'Giới tính', en: 'Gender' },
  address: { vi: 'Địa chỉ thường trú', en: 'Permanent address' },
  national_id: { vi: 'Số định danh cá nhân', en: 'National ID number' },
  identity_document: { vi: 'Giấy tờ tùy thân', en: 'Identity document' },
  id_card_issue_date: { vi: 'Ngày cấp thẻ căn cước', en: 'ID card issued on' },
  id_card_expiry_date: { vi: 'Thẻ căn cước có giá trị đến', en: 'ID card valid until' },
  nationality: { vi: 'Quốc tịch', en: 'Nationality' },
  place_of_origin: { vi: 'Quê quán', en: 'Place of origin' },
  phone_number: { vi: 'Số điện thoại', en: 'Phone number' },
  phone_number_verified: { vi: 'Số điện thoại đã xác minh', en: 'Phone number verified' },
  email: { vi: 'Thư điện tử', en: 'Email' },
  email_verified: { vi: 'Thư điện tử đã xác minh', en: 'Email verified' },
};

/** Claims holding seconds since 1970 (RFC 7519). */
const TIME_CLAIMS = new Set(['auth_time', 'iat', 'exp', 'nbf', 'updated_at']);
/** Claims holding a calendar date, YYYY-MM-DD. */
const DATE_CLAIMS = new Set(['birthdate', 'id_card_issue_date', 'id_card_expiry_date']);
const WORDS = {
  yes: { vi: 'có', en: 'yes' },
  no: { vi: 'không', en: 'no' },
  female: { vi: 'Nữ', en: 'Female' },
  male: { vi: 'Nam', en: 'Male' },
  level: { vi: 'mức', en: 'level' },
  VN: { vi: 'Việt Nam', en: 'Viet Nam' },
} as const;
/** Vietnamese time: the demo citizens and their services are there, whatever the server's zone. */
const TIME_ZONE = 'Asia/Ho_Chi_Minh';
const TIME_ZONE_NAME: Record<Lang, string> = { vi: 'giờ Việt Nam', en: 'Vietnam time' };
const LOCALES: Record<Lang, string> = { vi: 'vi-VN', en: 'en-GB' };
const DATE: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'long', day: 'numeric' };

const raw = (value: string) => ` <span class="raw">${escape(value)}</span>`;

function claimValue(lang: Lang, name: string, value: unknown): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number') {
    const at = new Date(value * 1000);
    const date = new Intl.DateTimeFormat(LOCALES[lang], { ...DATE, timeZone: TIME_ZONE }).format(at);
    const time = new Intl.DateTimeFormat(LOCALES[lang], { timeStyle: 'medium', timeZone: TIME_ZONE }).format(at);
    const shown = `${date}, ${time} (${TIME_ZONE_NAME[lang]})`;
    return `<time datetime="${at.toISOString()}">${escape(shown)}</time>${raw(String(value))}`;
  }
  if (DATE_CLAIMS.has(name) && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const shown = new Intl.DateTimeFormat(LOCALES[lang], { ...DATE, timeZone: 'UTC' }).format(new Date(`${value}T00:00:00Z`));
    return `<time datetime="${value}">${escape(shown)}</time>${raw(value)}`;
  }
  if (name === 'gender' && (value === 'female' || value === 'male')) return `${WORDS[value][lang]}${raw(value)}`;
  if (name === 'nationality' && value === 'VN') return `${WORDS.VN[lang]}${raw(value)}`;
  if (name === 'acr' && typeof value === 'string') {
    const level = /^urn:vn:eid:loa:(\d)$/.exec(value)?.[1];
    return `<code>${escape(value)}</code>${level ? ` (${WORDS.level[lang]} ${level})` : ''}`;
  }
  if (name === 'address' && value && typeof value === 'object') return addressValue(lang, value as Record<string, unknown>);
  if (typeof value === 'boolean') return `${value ? WORDS.yes[lang] : WORDS.no[lang]}${raw(String(value))}`;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.map((item) => `<code>${escape(item)}</code>`).join(', ');
  if (typeof value === 'string' || typeof value === 'number') return escape(String(value));
  return `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;
}

/** An OpenID Connect address claim as an address, line by line, the claim itself a click away. */
function addressValue(lang: Lang, address: Record<string, unknown>): string {
  const country = address.country === 'VN' ? WORDS.VN[lang] : address.country;
  const lines = [address.street_address, address.locality, address.region, country].filter((line) => typeof line === 'string' && line !== '');
  const shown = lines.length > 0 ? lines.map((line) => escape(line)).join('<br>') : escape(address.formatted ?? '');
  return `<address>${shown}</address><details><summary>JSON</summary><pre>${escape(JSON.stringify(address, null, 2))}</pre></details>`;
}

/** The claims, each under what a person calls it and its claim name. */
export function claimsList(lang: Lang, claims: Record<string, unknown>): string {
  const rows = Object.entries(claims).map(([name, value]) => {
    const label = CLAIM_LABELS[name]?.[lang];
    const term = label ? `${escape(label)}<code>${escape(name)}</code>` : `<code>${escape(name)}</code>`;
    return `<dt>${term}</dt><dd>${claimValue(lang, name, value)}</dd>`;
  });
  return `<dl class="claims">${rows.join('')}</dl>`;
}
