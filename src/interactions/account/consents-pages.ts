// A consent record as a page to print, and the question before withdrawing it.
import { html } from '../../web/html.ts';
import { formatDateTime, type Locale } from '../../web/i18n.ts';
import { inClaimOrder, inScopeOrder } from '../../oidc/consent/claims.ts';
import { backLink, csrfField, page, t, type PageFrame } from './pages.ts';

export interface ConsentRecordModel extends PageFrame {
  readonly id: string;
  readonly clientName: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly claims: readonly string[];
  readonly shownText: string;
  readonly shownLocale: Locale;
  readonly givenAt: Date;
  readonly withdrawnAt: Date | undefined;
}

/** A consent record as a page to print: the service, the words shown verbatim, when, and its status. */
export function consentRecordPage(model: ConsentRecordModel): string {
  const { locale } = model;
  const status = model.withdrawnAt ? `${t(locale, 'record.withdrawn_at')} ${formatDateTime(locale, model.withdrawnAt)}` : t(locale, 'record.in_force');
  return page(
    model,
    t(locale, 'record.title'),
    html`<h1>${t(locale, 'record.title')}</h1>
<dl class="claims">
<dt>${t(locale, 'record.number')}</dt><dd><code>${model.id}</code></dd>
<dt>${t(locale, 'record.service')}</dt><dd>${model.clientName} (<code>${model.clientId}</code>)</dd>
<dt>${t(locale, 'record.given_at')}</dt><dd><time datetime="${model.givenAt.toISOString()}">${formatDateTime(locale, model.givenAt)}</time></dd>
<dt>${t(locale, 'record.scopes')}</dt><dd>${inScopeOrder(model.scopes).join(' ')}</dd>
${model.claims.length > 0 ? html`<dt>${t(locale, 'record.claims')}</dt><dd>${inClaimOrder(model.claims).join(' ')}</dd>` : ''}
<dt>${t(locale, 'record.status')}</dt><dd id="consent-status">${status}</dd>
<dt>${t(locale, 'record.language')}</dt><dd>${t(locale, `language.${model.shownLocale}`)}</dd>
</dl>
<h2 id="shown-title">${t(locale, 'record.shown')}</h2>
<blockquote lang="${model.shownLocale}" aria-labelledby="shown-title"><pre class="shown-text">${model.shownText}</pre></blockquote>
<p class="muted">${t(locale, 'record.print')}</p>
${backLink(locale)}`,
  );
}

export function withdrawConsentPage(model: PageFrame & { readonly csrf: string; readonly id: string; readonly clientName: string }): string {
  const { locale } = model;
  return page(
    model,
    t(locale, 'withdraw.title'),
    html`<h1>${t(locale, 'withdraw.title')}</h1>
<p>${t(locale, 'withdraw.question')} <strong>${model.clientName}</strong>?</p>
<p id="withdraw-explain">${t(locale, 'withdraw.explain')}</p>
<form method="post" action="/account/consents/${model.id}/withdraw">${csrfField(model.csrf)}
<div class="actions"><button type="submit" class="primary" aria-describedby="withdraw-explain">${t(locale, 'withdraw.confirm')}</button><a class="secondary" href="/account">${t(locale, 'withdraw.cancel')}</a></div>
</form>`,
  );
}
