// Messages to a citizen's contacts (confirmation codes, security notices). In the quickstart and in
// tests they land in an outbox table that support officers read in the admin console; in production an SMTP
// server carries e-mail and an HTTP SMS gateway carries text messages.
import type { Database } from '../storage/database.ts';

export type Channel = 'sms' | 'email';

export interface Message {
  readonly channel: Channel;
  /** A phone number (E.164) or an e-mail address. */
  readonly destination: string;
  readonly subject: string;
  readonly body: string;
}

export interface Notifier {
  send(message: Message): Promise<void>;
}

export interface OutboxMessage extends Message {
  readonly id: number;
  readonly createdAt: Date;
}

/** Quickstart and tests: messages are stored, never sent. */
export class OutboxNotifier implements Notifier {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async send(message: Message): Promise<void> {
    await this.#db('outbox_messages').insert({
      channel: message.channel,
      destination: message.destination,
      subject: message.subject,
      body: message.body,
    });
  }

  /** Newest first; optionally only those to one destination. */
  async list(options: { destination?: string; limit?: number } = {}): Promise<OutboxMessage[]> {
    const query = this.#db<{ id: string; channel: Channel; destination: string; subject: string; body: string; created_at: Date }>(
      'outbox_messages',
    )
      .orderBy('id', 'desc')
      .limit(options.limit ?? 50);
    if (options.destination) void query.where({ destination: options.destination });
    const rows = await query;
    return rows.map((row) => ({
      id: Number(row.id),
      channel: row.channel,
      destination: row.destination,
      subject: row.subject,
      body: row.body,
      createdAt: row.created_at,
    }));
  }
}

/** Production: e-mail through SMTP (nodemailer), text messages through an HTTP gateway. */
export class DeliveringNotifier implements Notifier {
  readonly #mail: ((message: Message) => Promise<void>) | undefined;
  readonly #sms: ((message: Message) => Promise<void>) | undefined;

  constructor(channels: { mail?: (message: Message) => Promise<void>; sms?: (message: Message) => Promise<void> }) {
    this.#mail = channels.mail;
    this.#sms = channels.sms;
  }

  async send(message: Message): Promise<void> {
    const deliver = message.channel === 'email' ? this.#mail : this.#sms;
    if (!deliver) throw new Error(`no ${message.channel} channel is configured`);
    await deliver(message);
  }
}

/** An SMTP sender built from a URL such as smtps://user:pass@smtp.example.vn:465. */
export async function smtpSender(url: string, from: string): Promise<(message: Message) => Promise<void>> {
  const { createTransport } = await import('nodemailer');
  // Bounded like every outgoing call (docs/operations.md "Timeouts"): nodemailer's own defaults wait minutes.
  const transport = createTransport({ url, connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 10_000 });
  return async (message) => {
    await transport.sendMail({ from, to: message.destination, subject: message.subject, text: message.body });
  };
}

/** An SMS gateway that takes POST {to, text} as JSON with a bearer token. */
export function httpSmsSender(url: string, token: string): (message: Message) => Promise<void> {
  return async (message) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ to: message.destination, text: `${message.subject}: ${message.body}` }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`the SMS gateway answered ${response.status}`);
  };
}
