// The admin API's read of the outbox (docs/administration.md "The outbox"): the messages the quickstart
// and tests store instead of sending (confirmation codes, security notices), newest first. Only where
// notifications.mode is `outbox`; only support officers, the role that helps citizens with their
// accounts, since a code read here registers or resets an account. No automation scope: a program
// reads its test messages from the database, not through the admin API.
import { z } from 'zod';
import type { OutboxMessage } from '../accounts/notifier.ts';
import type { AdminRoute } from './route.ts';

/** What the route reads: the outbox notifier (src/accounts/notifier.ts). */
export interface OutboxReader {
  list(options: { destination?: string; limit?: number }): Promise<OutboxMessage[]>;
}

const querySchema = z.strictObject({
  destination: z.string().min(1).max(320).optional().describe('Only the messages to this phone number (E.164) or e-mail address'),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});

const messageSchema = z.object({
  id: z.number().int(),
  createdAt: z.string(),
  channel: z.enum(['sms', 'email']),
  destination: z.string(),
  subject: z.string(),
  body: z.string(),
});

export function outboxRoutes(deps: { outbox: OutboxReader }): AdminRoute<never, never>[] {
  const list: AdminRoute<never, z.infer<typeof querySchema>> = {
    method: 'GET',
    path: '/api/outbox',
    operationId: 'listOutbox',
    summary: 'The messages stored instead of sent (notifications.mode outbox), newest first',
    description: 'Served only outside production, where notifications are stored in the outbox. The messages carry confirmation and reset codes: support officers only.',
    tag: 'Outbox',
    access: { roles: ['support_officer'] },
    query: querySchema,
    responses: { 200: { description: 'The newest messages', schema: z.object({ messages: z.array(messageSchema) }) } },
    async handle({ query }) {
      const messages = await deps.outbox.list({ limit: query.limit, ...(query.destination !== undefined && { destination: query.destination }) });
      return { status: 200, body: { messages: messages.map((message) => ({ ...message, createdAt: message.createdAt.toISOString() })) } };
    },
  };
  return [list] as unknown as AdminRoute<never, never>[];
}
