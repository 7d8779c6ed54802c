// The quickstart's outbox, on the admin port: the messages that would have gone to citizens'
// phones and mailboxes (confirmation codes, security notices), newest first.
import type { OutboxMessage } from '../accounts/notifier.ts';
import { html } from '../web/html.ts';

export function outboxPage(messages: readonly OutboxMessage[]): string {
  const rows = messages.map(
    (message) => html`<tr><td>${message.createdAt.toISOString()}</td><td>${message.channel}</td><td>${message.destination}</td><td>${message.subject}</td><td><pre>${message.body}</pre></td></tr>`,
  );
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><title>Outbox · citizen-idp</title></head>
<body><h1>Outbox</h1>
<p>Messages the quickstart would have sent to citizens. Nothing here left this machine.</p>
<table><thead><tr><th>when</th><th>channel</th><th>to</th><th>subject</th><th>message</th></tr></thead>
<tbody>${rows}</tbody></table></body></html>`.value}`;
}
