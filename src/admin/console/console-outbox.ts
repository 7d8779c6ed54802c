// The console's outbox page for support officers (quickstart and tests only): the messages that would
// have gone to citizens' phones and mailboxes — confirmation codes, security notices — newest first.
import { html } from '../../web/html.ts';
import { Router } from '../../web/router.ts';
import { consoleText, type ConsoleMessageKey } from './console-i18n.ts';
import { consoleLayout, iso, type Frame } from './console-layout.ts';
import { render, type ConsoleApi } from './console-session.ts';

export const OUTBOX_OPERATION = 'listOutbox';

interface OutboxMessageView {
  readonly createdAt: string;
  readonly channel: string;
  readonly destination: string;
  readonly subject: string;
  readonly body: string;
}

function outboxPage(frame: Frame, messages: readonly OutboxMessageView[]): string {
  const t = (key: ConsoleMessageKey) => consoleText(frame.locale, key);
  return consoleLayout(
    frame,
    t('outbox.title'),
    html`<h1>${t('outbox.title')}</h1>
<p>${t('outbox.lead')}</p>
${
  messages.length === 0
    ? html`<p>${t('outbox.none')}</p>`
    : html`<table class="events">
<caption>${t('outbox.caption')}</caption>
<thead><tr><th scope="col">${t('outbox.time')}</th><th scope="col">${t('outbox.channel')}</th><th scope="col">${t('outbox.to')}</th><th scope="col">${t('outbox.subject')}</th><th scope="col">${t('outbox.message')}</th></tr></thead>
<tbody>${messages.map(
        (message) =>
          html`<tr><th scope="row">${iso(message.createdAt)}</th><td>${message.channel}</td><td>${message.destination}</td><td>${message.subject}</td><td><pre>${message.body}</pre></td></tr>`,
      )}</tbody>
</table>`
}`,
    '/console/outbox',
  );
}

/** The page, when the admin API serves the outbox (notifications.mode outbox); otherwise no route. */
export function outboxPages(api: ConsoleApi, served: boolean): Router {
  const router = new Router();
  if (!served) return router;
  return router.get(
    '/console/outbox',
    api.page(async (request) => {
      const outcome = await api.invoke<{ messages: OutboxMessageView[] }>(request, OUTBOX_OPERATION, { query: {} });
      // The query is the page's own: no input of the administrator's can make it invalid.
      if (!outcome.ok) throw new Error('the outbox query was refused');
      render(request.ctx, 200, outboxPage(request.frame, outcome.body.messages));
    }),
  );
}
