// Messages to a citizen's contacts (confirmation codes, security notices). Services queue them
// (src/accounts/notification-queue.ts) and a worker carries them after the answer: in the quickstart
// and in tests to an outbox table that support officers read in the admin console; in production to
// an SMTP server (e-mail) and an HTTP SMS gateway (text messages).
import type { Database } from '../storage/database.ts';

export type Channel = 'sms' | 'email';

export interface Message {
  readonly channel: Channel;
  /** A phone number (E.164) or an e-mail address. */
  readonly destination: string;
  readonly subject: string;
  readonly body: string;
}

/** A message as services queue it. */
export interface QueuedMessage extends Message {
  /** After this long the message is pointless (a code has expired): it is given up. Default 24 hours. */
  readonly validForSeconds?: number;
  /** The hourly per-destination allowance it counts against, checked at delivery; none for security notices. */
  readonly allowance?: 'register' | 'reset';
}

/** What services send through: each message is queued durably; delivery comes after the answer. */
export interface Notifier {
  send(message: QueuedMessage): Promise<void>;
  /** Queues several messages in one statement — also none, so that sending or not costs the same. */
  enqueue(messages: readonly QueuedMessage[]): Promise<void>;
}

/** Carries one message to its destination. `key` is the same on every attempt at one message (at-least-once delivery). */
export type Carrier = (message: Message, key: string) => Promise<void>;

export interface OutboxMessage extends Message {
  readonly id: number;
  readonly createdAt: Date;
}

/** Quickstart and tests: a message is delivered by storing it in the outbox, once per key. */
export function outboxCarrier(db: Database): Carrier {
  return async (message, key) => {
    // Only the worker holding a message's lease delivers it, so a repeat is sequential: NOT EXISTS suffices.
    await db.raw(
      `INSERT INTO outbox_messages (channel, destination, subject, body, idempotency_key)
       SELECT ?, ?, ?, ?, ?::uuid WHERE NOT EXISTS (SELECT 1 FROM outbox_messages WHERE idempotency_key = ?::uuid)`,
      [message.channel, message.destination, message.subject, message.body, key, key],
    );
  };
}

/**
 * Quickstart and tests: the queue, with the outbox to read. Reading first waits for this instance's
 * worker to deliver what is due, so a code queued by a request shows as soon as its answer has come.
 */
export class OutboxNotifier implements Notifier {
  readonly #queue: Notifier;
  readonly #db: Database;
  readonly #settled: () => Promise<void>;

  constructor(queue: Notifier, db: Database, settled: () => Promise<void>) {
    this.#queue = queue;
    this.#db = db;
    this.#settled = settled;
  }

  send(message: QueuedMessage): Promise<void> {
    return this.#queue.send(message);
  }

  enqueue(messages: readonly QueuedMessage[]): Promise<void> {
    return this.#queue.enqueue(messages);
  }

  /** Resolves once the worker has delivered everything due now. */
  settled(): Promise<void> {
    return this.#settled();
  }

  /** Newest first; optionally only those to one destination. */
  async list(options: { destination?: string; limit?: number } = {}): Promise<OutboxMessage[]> {
    await this.#settled();
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
export function deliveringCarrier(channels: { mail?: Carrier; sms?: Carrier }): Carrier {
  return async (message, key) => {
    const carry = message.channel === 'email' ? channels.mail : channels.sms;
    if (!carry) throw new Error(`no ${message.channel} channel is configured`);
    await carry(message, key);
  };
}

/** An SMTP sender built from a URL such as smtps://user:pass@smtp.example.vn:465. */
export async function smtpSender(url: string, from: string): Promise<Carrier> {
  const { createTransport } = await import('nodemailer');
  // Bounded like every outgoing call (docs/operations.md "Timeouts"): nodemailer's own defaults wait minutes.
  const transport = createTransport({ url, connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 10_000 });
  const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'localhost';
  return async (message, key) => {
    // The same Message-ID on a repeated attempt lets the receiving side drop the duplicate.
    await transport.sendMail({ from, to: message.destination, subject: message.subject, text: message.body, messageId: `<${key}@${domain}>` });
  };
}

/** An SMS gateway that takes POST {to, text} as JSON with a bearer token, and an Idempotency-Key header for repeats. */
export function httpSmsSender(url: string, token: string): Carrier {
  return async (message, key) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
      body: JSON.stringify({ to: message.destination, text: `${message.subject}: ${message.body}` }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`the SMS gateway answered ${response.status}`);
  };
}
