// The pages the provider itself shows: the error page and the logout pages.
import type { KoaContextWithOIDC } from 'oidc-provider';
import { Html, html, layout } from './html.ts';
import { pickLocale, translate, type Locale } from './i18n.ts';
import type { ProviderPages } from '../oidc/provider.ts';

/** ?lang= wins, then the language cookie, then ui_locales, then Vietnamese. */
export function localeOf(ctx: { query: Record<string, unknown>; cookies: { get(name: string): string | undefined } }): Locale {
  const asString = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return pickLocale(asString(ctx.query.lang), ctx.cookies.get('lang'), asString(ctx.query.ui_locales));
}

function withLang(url: string, locale: Locale): string {
  const parsed = new URL(url, 'http://x');
  parsed.searchParams.set('lang', locale);
  return `${parsed.pathname}${parsed.search}`;
}

export const errorPages: ProviderPages = {
  errorPage(ctx, error) {
    const locale = localeOf(ctx);
    return layout({
      locale,
      title: translate(locale, 'error.title'),
      body: html`<h1>${translate(locale, 'error.title')}</h1>
<p role="alert">${translate(locale, 'error.lead')}</p>
<p class="muted">${translate(locale, 'error.code')}: <code>${error.error}</code>${
        error.error_description ? html` — ${error.error_description}` : ''
      }</p>`,
      switchHref: ctx.method === 'GET' ? withLang(ctx.originalUrl, locale === 'vi' ? 'en' : 'vi') : undefined,
    });
  },
  logoutConfirmationPage(ctx: KoaContextWithOIDC, form: string) {
    const locale = localeOf(ctx);
    // `form` is the provider's own hidden form (id="op.logoutForm", carrying its xsrf token): trusted
    // markup; the buttons below submit it, the first one agreeing to sign out.
    return layout({
      locale,
      title: translate(locale, 'logout.title'),
      body: html`<h1>${translate(locale, 'logout.title')}</h1>
${new Html(form)}
<p>${translate(locale, 'logout.question')}</p>
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" class="primary">${translate(locale, 'logout.yes')}</button>
<button type="submit" form="op.logoutForm" class="secondary">${translate(locale, 'logout.no')}</button>
</div>`,
    });
  },
  logoutDonePage(ctx) {
    const locale = localeOf(ctx);
    return layout({
      locale,
      title: translate(locale, 'logout.title'),
      body: html`<h1>${translate(locale, 'logout.title')}</h1><p role="status">${translate(locale, 'logout.done')}</p>`,
    });
  },
};
