// "Lock my account": the question, and the page after it.
import { html } from '../../web/html.ts';
import { csrfField, page, t, type PageFrame } from './pages.ts';

export function lockPage(model: PageFrame & { readonly csrf: string }): string {
  const { locale } = model;
  return page(
    model,
    t(locale, 'lock.title'),
    html`<h1>${t(locale, 'lock.title')}</h1>
<p>${t(locale, 'lock.lead')}</p>
<p id="lock-explain">${t(locale, 'lock.explain')}</p>
<form method="post" action="/account/lock">${csrfField(model.csrf)}
<div class="actions"><button type="submit" class="primary" aria-describedby="lock-explain">${t(locale, 'lock.confirm')}</button><a class="secondary" href="/account">${t(locale, 'lock.cancel')}</a></div>
</form>`,
  );
}

export function lockedPage(frame: PageFrame): string {
  const { locale } = frame;
  return page(frame, t(locale, 'lock.done_title'), html`<h1>${t(locale, 'lock.done_title')}</h1><p role="status">${t(locale, 'lock.done')}</p>`);
}
