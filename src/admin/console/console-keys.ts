// The console's signing-key pages: the keys in every state, and a rotation behind its confirmation
// (the successor published ahead, or at once).
import { html, type Html } from '../../web/html.ts';
import { Router } from '../../web/router.ts';
import { consoleText, consoleTextOr, consoleTextWith, type ConsoleMessageKey } from './console-i18n.ts';
import { confirmPage, consoleLayout, iso, notice, type Frame } from './console-layout.ts';
import { doneOf, render, seeOther, type ConsoleApi, type PageHandler } from './console-session.ts';

/** The successor-key choice on the key rotation's confirmation. */
export const rotateNowField = (frame: Frame, now: boolean): Html =>
  html`<div class="check"><input type="checkbox" id="now" name="now" value="yes"${now ? html` checked` : ''}><label for="now">${consoleText(frame.locale, 'keys.rotate_now')}</label></div>`;

export interface KeyView {
  readonly kid: string;
  readonly alg: string;
  readonly state: string;
  readonly createdAt: string;
  readonly activeFrom: string;
  readonly retiredAt: string | null;
  readonly publishedUntil: string | null;
  readonly revokedAt: string | null;
}

export function keysPage(frame: Frame, model: { keys: readonly KeyView[]; canRotate: boolean; done?: string }): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  return consoleLayout(
    frame,
    t('keys.title'),
    html`<h1>${t('keys.title')}</h1>
${notice(model.done)}
<table>
<caption>${t('keys.caption')}</caption>
<thead><tr><th scope="col">${t('keys.kid')}</th><th scope="col">${t('keys.alg')}</th><th scope="col">${t('keys.state')}</th><th scope="col">${t('keys.created')}</th><th scope="col">${t('keys.active_from')}</th><th scope="col">${t('keys.retired')}</th><th scope="col">${t('keys.published_until')}</th><th scope="col">${t('keys.revoked')}</th></tr></thead>
<tbody>${model.keys.map(
      (key) =>
        html`<tr><th scope="row"><code>${key.kid}</code></th><td>${key.alg}</td><td>${consoleTextOr(frame.locale, `key.state.${key.state}`, key.state)}</td><td>${iso(key.createdAt)}</td><td>${iso(key.activeFrom)}</td><td>${iso(key.retiredAt)}</td><td>${iso(key.publishedUntil)}</td><td>${iso(key.revokedAt)}</td></tr>`,
    )}</tbody>
</table>
${
  model.canRotate
    ? html`<h2>${t('keys.rotate')}</h2>
<p><a class="button primary" href="/console/keys/rotate">${t('keys.rotate')}</a></p>`
    : ''
}`,
    '/console/keys',
  );
}


export function keyPages(api: ConsoleApi): Router {
  const { invoke, may, mayOpen, once } = api;

  const keyList: PageHandler = async (request) => {
    const outcome = await invoke<{ keys: KeyView[] }>(request, 'listSigningKeys');
    const done = doneOf(request);
    render(request.ctx, 200, keysPage(request.frame, { keys: outcome.ok ? outcome.body.keys : [], canRotate: may(request, 'rotateSigningKeys'), ...(done && { done }) }));
  };

  const confirmRotateKeys: PageHandler = async (request) => {
    await mayOpen(request, 'rotateSigningKeys');
    const { locale } = request.frame;
    const t = (key: ConsoleMessageKey) => consoleText(locale, key);
    render(
      request.ctx,
      200,
      confirmPage(request.frame, {
        title: t('confirm.keys.title'),
        subject: api.issuerOrigin,
        consequences: [t('confirm.keys.publish'), consoleTextWith(locale, 'confirm.keys.ahead', { seconds: api.keyPublishAheadSeconds }), t('confirm.keys.current')],
        action: '/console/keys/rotate',
        once: await once(request, '/console/keys/rotate'),
        submit: t('keys.rotate'),
        cancel: '/console/keys',
        fields: rotateNowField(request.frame, false),
        current: '/console/keys',
      }),
    );
  };

  const rotateKeys: PageHandler = async (request) => {
    await invoke(request, 'rotateSigningKeys', { body: { ...(request.form.get('now') === 'yes' && { now: true }) } });
    seeOther(request.ctx, '/console/keys?done=rotated');
  };


  return new Router()
    .get('/console/keys', api.page(keyList))
    .get('/console/keys/rotate', api.page(confirmRotateKeys))
    .post('/console/keys/rotate', api.page(rotateKeys));
}
