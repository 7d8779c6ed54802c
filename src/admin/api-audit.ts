// The admin API's audit-trail endpoints (docs/administration.md "Audit trail"): a query in pages, newest first, and
// the NDJSON export, streamed, oldest first. For auditors; automation with `admin:audit`.
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import { MAX_PAGE_SIZE, auditFilterSchema, filterOf, type AuditTrail } from '../audit/audit-trail.ts';
import { AdminProblem } from './problem.ts';
import type { AdminRoute } from './route.ts';

const filterFields = {
  actor: z.string().min(1).max(300).optional().describe('Who acted: `account:<uuid>`, `client:<id>`, `cli:<user>`, `officer:<name>`, `system`…'),
  accountId: z.string().max(36).optional().describe('The citizen the event concerns (the account id, a UUID)'),
  clientId: z.string().min(1).max(300).optional(),
  type: z.string().max(400).optional().describe('Event types, comma-separated: `admin.action,account.locked`'),
  from: z.string().max(40).optional().describe('ISO 8601, inclusive'),
  to: z.string().max(40).optional().describe('ISO 8601, exclusive'),
};

const querySchema = z.strictObject({
  ...filterFields,
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  cursor: z.string().regex(/^\d{1,19}$/, "expected the previous page's `next`").optional(),
});
const exportSchema = z.strictObject(filterFields);

const eventSchema = z.object({
  id: z.string(),
  writerId: z.string(),
  seq: z.number().int(),
  occurredAt: z.string(),
  type: z.string(),
  actor: z.string().nullable(),
  accountId: z.string().nullable(),
  clientId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

function filterFrom(query: Record<string, unknown>) {
  const parsed = auditFilterSchema.safeParse({
    actor: query.actor,
    accountId: query.accountId,
    clientId: query.clientId,
    type: query.type,
    from: query.from,
    to: query.to,
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: ['query', ...issue.path.map(String)].join('.'), message: issue.message, code: issue.code }));
    throw new AdminProblem(400, 'invalid_request', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
  }
  return filterOf(parsed.data);
}

export function auditRoutes(deps: { trail: AuditTrail; audit: AuditLog }): AdminRoute<never, never>[] {
  const { trail, audit } = deps;
  const access = { roles: ['auditor'] as const, scope: 'admin:audit' as const };

  const events: AdminRoute<never, z.infer<typeof querySchema>> = {
    method: 'GET',
    path: '/api/audit/events',
    operationId: 'queryAuditEvents',
    summary: 'Audit events by actor, account, client, type and time, newest first',
    description: 'Pages of `limit`; the next page: the same query with `cursor` set to `next`.',
    tag: 'Audit trail',
    access,
    query: querySchema,
    responses: { 200: { description: 'A page', schema: z.object({ events: z.array(eventSchema), next: z.string().optional() }) } },
    async handle({ query }) {
      const page = await trail.query(filterFrom(query), { limit: query.limit, before: query.cursor });
      return {
        status: 200,
        body: { events: page.events.map((event) => ({ ...event, occurredAt: event.occurredAt.toISOString() })), ...(page.next !== undefined && { next: page.next }) },
      };
    },
  };

  const exported: AdminRoute<never, z.infer<typeof exportSchema>> = {
    method: 'GET',
    path: '/api/audit/export',
    operationId: 'exportAuditEvents',
    summary: 'The matching audit events as NDJSON (application/x-ndjson), oldest first, streamed',
    description: 'One event per line, with its writer, sequence number and hashes, so the chains can be re-checked offline. The export itself is audited.',
    tag: 'Audit trail',
    access,
    query: exportSchema,
    responses: { 200: { description: 'NDJSON, one event per line (each as in the query\'s `events`)' } },
    async handle({ principal, query, ctx }) {
      const filter = filterFrom(query);
      await audit.record({ type: 'admin.action', actor: principal.actor, data: { action: 'audit.exported', via: 'api', filter: query } });
      ctx.type = 'application/x-ndjson';
      ctx.set('Content-Disposition', 'attachment; filename="audit-events.ndjson"');
      return { status: 200, body: Readable.from(trail.ndjson(filter)) };
    },
  };

  return [events, exported] as unknown as AdminRoute<never, never>[];
}
