// The RFC 9396 authorization-details types a relying party is approved for (docs/representation.md
// "Approving a portal"): today one, urn:vn:eid:representation — acting for an organisation or a child.
// Like a sensitive scope it needs two administrators: adding a type is a request a second
// administrator approves (src/admin/approvals.ts, decided at POST /api/approvals/{id}/approve);
// withdrawing one applies at once. The provider sees the approved types as the client's
// authorization_details_types metadata (src/oidc/clients/clients.ts).
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import { REPRESENTATION_TYPE } from '../representation/representation.ts';
import { AdminProblem, notFound } from './problem.ts';
import type { AdminRoute } from './route.ts';
import type { ApplyApproval, FourEyesApprovals } from './approvals.ts';

export const CLIENT_DETAILS_TYPES_APPROVAL = 'client.authorization_details_types';

/** The types the provider offers (discovery's authorization_details_types_supported). */
export const SUPPORTED_DETAILS_TYPES: readonly string[] = [REPRESENTATION_TYPE];

/** Profiles whose citizens sign in through a browser: only they can show the chooser. */
const BROWSER_PROFILES = new Set(['portal', 'bank', 'spa', 'native']);

const typesSchema = z.strictObject({
  types: z.array(z.enum(SUPPORTED_DETAILS_TYPES as [string, ...string[]])).max(10).describe('Every type the client should be approved for; new ones wait for a second administrator, missing ones are withdrawn now.'),
});
const typesView = z.object({
  clientId: z.string(),
  approved: z.array(z.string()),
  pending: z.array(z.string()).describe('Types asked for, waiting for a second administrator.'),
  pendingApproval: z.object({ id: z.string(), types: z.array(z.string()) }).nullable().optional(),
});

export interface DetailsTypesRoutesDependencies {
  readonly clients: Pick<ClientRepository, 'find' | 'setAuthorizationDetailsTypes'>;
  readonly approvals: FourEyesApprovals;
  readonly audit: AuditLog;
}

/** Requests adding types (four eyes) for a client that may hold them; the approval's id, or null with nothing new. */
export async function requestDetailsTypes(
  deps: DetailsTypesRoutesDependencies,
  clientId: string,
  types: readonly string[],
  actor: string,
): Promise<{ id: string; types: string[] } | null> {
  const record = await deps.clients.find(clientId);
  if (!record) throw notFound('client');
  const unknown = types.filter((type) => !SUPPORTED_DETAILS_TYPES.includes(type));
  if (unknown.length > 0) throw new AdminProblem(400, 'invalid_request', `unknown authorization-details type(s): ${unknown.join(', ')}`);
  const added = [...new Set(types)].filter((type) => !record.approvedAuthorizationDetailsTypes.includes(type));
  if (added.length === 0) return null;
  if (!BROWSER_PROFILES.has(record.profile)) {
    throw new AdminProblem(400, 'invalid_request', `a ${record.profile} client has no citizen in a browser to choose whom to act for`);
  }
  const approval = await deps.approvals.request({ kind: CLIENT_DETAILS_TYPES_APPROVAL, subject: clientId, change: { add: added }, requestedBy: actor });
  await deps.audit.record({ type: 'admin.action', actor, clientId, data: { action: 'client.details_types_requested', approval: approval.id, types: added } });
  return { id: approval.id, types: added };
}

export function detailsTypesRoutes(deps: DetailsTypesRoutesDependencies): AdminRoute<never, never>[] {
  const pendingOf = async (clientId: string): Promise<string[]> => {
    const { approvals: waiting } = await deps.approvals.pending({ kind: CLIENT_DETAILS_TYPES_APPROVAL, subject: clientId, limit: 10 });
    return [...new Set(waiting.flatMap((approval) => (approval.change.add as string[] | undefined) ?? []))];
  };

  const read: AdminRoute<never, never> = {
    method: 'GET',
    path: '/api/clients/{clientId}/authorization-details-types',
    operationId: 'getClientAuthorizationDetailsTypes',
    summary: 'The authorization-details types a relying party is approved for',
    tag: 'Relying parties',
    access: { roles: ['client_admin', 'support_officer', 'auditor'], scope: 'admin:clients' },
    responses: { 200: { description: 'Approved and pending types', schema: typesView } },
    async handle({ params }) {
      const clientId = params.clientId!;
      const record = await deps.clients.find(clientId);
      if (!record) throw notFound('client');
      return { status: 200, body: { clientId, approved: [...record.approvedAuthorizationDetailsTypes], pending: await pendingOf(clientId) } };
    },
  };

  const replace: AdminRoute<z.infer<typeof typesSchema>, never> = {
    method: 'PUT',
    path: '/api/clients/{clientId}/authorization-details-types',
    operationId: 'setClientAuthorizationDetailsTypes',
    summary: 'Approve or withdraw authorization-details types (urn:vn:eid:representation)',
    description:
      'Types not yet approved wait for a second administrator (POST /api/approvals/{id}/approve); types left out are withdrawn at once. A newer request supersedes one still pending.',
    tag: 'Relying parties',
    access: { roles: ['client_admin'], scope: 'admin:clients' },
    body: typesSchema,
    responses: { 200: { description: 'Approved, withdrawn or waiting', schema: typesView } },
    async handle({ principal, params, body }) {
      const clientId = params.clientId!;
      const record = await deps.clients.find(clientId);
      if (!record) throw notFound('client');
      const kept = record.approvedAuthorizationDetailsTypes.filter((type) => body.types.includes(type));
      if (kept.length !== record.approvedAuthorizationDetailsTypes.length) {
        await deps.clients.setAuthorizationDetailsTypes(clientId, kept);
        await deps.audit.record({
          type: 'admin.action',
          actor: principal.actor,
          clientId,
          data: { action: 'client.details_types_withdrawn', types: record.approvedAuthorizationDetailsTypes.filter((type) => !kept.includes(type)) },
        });
      }
      await deps.approvals.supersede(CLIENT_DETAILS_TYPES_APPROVAL, clientId);
      const pendingApproval = await requestDetailsTypes(deps, clientId, body.types, principal.actor);
      return { status: 200, body: { clientId, approved: kept, pending: pendingApproval?.types ?? [], pendingApproval } };
    },
  };

  return [read, replace] as unknown as AdminRoute<never, never>[];
}

/** Applies an approved request: the types join the client's approved ones (the client must still exist). */
export const applyDetailsTypes: ApplyApproval = async (approval, trx) => {
  const types = (approval.change.add as unknown[]).filter((type): type is string => typeof type === 'string' && SUPPORTED_DETAILS_TYPES.includes(type));
  const row = await trx('clients')
    .where({ client_id: approval.subject })
    .forUpdate()
    .first<{ approved_authorization_details_types: string[] } | undefined>('approved_authorization_details_types');
  if (!row) throw new AdminProblem(409, 'conflict', `client ${approval.subject} no longer exists`);
  await trx('clients')
    .where({ client_id: approval.subject })
    .update({ approved_authorization_details_types: [...new Set([...row.approved_authorization_details_types, ...types])], updated_at: trx.fn.now() });
};
