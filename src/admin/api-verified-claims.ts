// Approving a relying party for verified claims (OpenID Connect for Identity Assurance,
// docs/integrating-a-bank.md "Requesting verified claims"), like a sensitive scope: one administrator
// asks, a second one approves (four eyes, src/admin/approvals.ts), and only then is the client's
// `verified_claims_approved` set. Withdrawing the approval takes effect at once. The admin API's
// endpoints and the command line (`clients verified-claims`) share VerifiedClaimsApprovals.
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import type { Database } from '../storage/database.ts';
import { AdminProblem, notFound } from './problem.ts';
import type { AdminRoute } from './route.ts';
import type { ApplyApproval, FourEyesApprovals } from './approvals.ts';

export const VERIFIED_CLAIMS_APPROVAL = 'client.verified_claims';

/** The provider's own applications release nothing to themselves. */
const FIRST_PARTY = new Set(['account-console', 'admin-console']);

export interface VerifiedClaimsStatus {
  readonly clientId: string;
  readonly approved: boolean;
  /** The four-eyes request waiting for a second administrator, if any. */
  readonly pendingApproval: string | null;
}

/** Applies an approved `client.verified_claims` request, in the deciding transaction. */
export const applyVerifiedClaims: ApplyApproval = async (approval, trx) => {
  const updated = await trx('clients').where({ client_id: approval.subject }).update({ verified_claims_approved: true, updated_at: trx.fn.now() });
  if (updated !== 1) throw new AdminProblem(409, 'conflict', `client ${approval.subject} no longer exists`);
};

export class VerifiedClaimsApprovals {
  readonly #db: Database;
  readonly #approvals: FourEyesApprovals;
  readonly #audit: AuditLog;
  readonly #clients: Pick<ClientRepository, 'clientsChanged'>;

  constructor(deps: { db: Database; approvals: FourEyesApprovals; audit: AuditLog; clients: Pick<ClientRepository, 'clientsChanged'> }) {
    this.#db = deps.db;
    this.#approvals = deps.approvals;
    this.#audit = deps.audit;
    this.#clients = deps.clients;
  }

  async status(clientId: string): Promise<VerifiedClaimsStatus> {
    const row = await this.#db('clients').where({ client_id: clientId }).first<{ verified_claims_approved: boolean } | undefined>('verified_claims_approved');
    if (!row) throw notFound('client');
    const { approvals } = await this.#approvals.pending({ kind: VERIFIED_CLAIMS_APPROVAL, subject: clientId, limit: 1 });
    return { clientId, approved: row.verified_claims_approved, pendingApproval: approvals[0]?.id ?? null };
  }

  /** Asks for the approval; a second administrator decides it (POST /api/approvals/{id}). */
  async request(clientId: string, actor: string): Promise<VerifiedClaimsStatus> {
    if (FIRST_PARTY.has(clientId)) throw new AdminProblem(409, 'first_party', `${clientId} is the provider's own application and is managed by it`);
    const current = await this.status(clientId);
    if (current.approved) return current;
    if (current.pendingApproval) throw new AdminProblem(409, 'conflict', `a request is already waiting for a second administrator (${current.pendingApproval})`);
    const approval = await this.#approvals.request({ kind: VERIFIED_CLAIMS_APPROVAL, subject: clientId, change: { verifiedClaims: true }, requestedBy: actor });
    await this.#audit.record({ type: 'admin.action', actor, clientId, data: { action: 'client.verified_claims_requested', approval: approval.id } });
    return { clientId, approved: false, pendingApproval: approval.id };
  }

  /** Withdraws the approval at once (and any request still waiting); tokens issued before keep what they carry. */
  async revoke(clientId: string, actor: string): Promise<VerifiedClaimsStatus> {
    await this.status(clientId);
    await this.#clients.clientsChanged();
    await this.#db('clients').where({ client_id: clientId }).update({ verified_claims_approved: false, updated_at: this.#db.fn.now() });
    await this.#clients.clientsChanged();
    await this.#approvals.supersede(VERIFIED_CLAIMS_APPROVAL, clientId);
    await this.#audit.record({ type: 'admin.action', actor, clientId, data: { action: 'client.verified_claims_revoked' } });
    return { clientId, approved: false, pendingApproval: null };
  }
}

const statusSchema = z.object({
  clientId: z.string(),
  approved: z.boolean().describe('Approved: the client may receive verified_claims.'),
  pendingApproval: z.string().nullable().describe('The four-eyes request waiting for a second administrator (decide it at /api/approvals/{id}).'),
});
const changeSchema = z.strictObject({ approved: z.boolean().describe('true asks for the approval (four eyes); false withdraws it at once.') });

export function verifiedClaimsRoutes(deps: { verifiedClaims: VerifiedClaimsApprovals }): AdminRoute<never, never>[] {
  const { verifiedClaims } = deps;
  const read: AdminRoute<never, never> = {
    method: 'GET',
    path: '/api/clients/{clientId}/verified-claims',
    operationId: 'getClientVerifiedClaims',
    summary: 'Whether a relying party is approved for verified claims',
    tag: 'Relying parties',
    access: { roles: ['client_admin', 'support_officer', 'auditor'], scope: 'admin:clients' },
    responses: { 200: { description: 'The approval', schema: statusSchema } },
    async handle({ params }) {
      return { status: 200, body: await verifiedClaims.status(params.clientId!) };
    },
  };
  const change: AdminRoute<z.infer<typeof changeSchema>, never> = {
    method: 'PUT',
    path: '/api/clients/{clientId}/verified-claims',
    operationId: 'setClientVerifiedClaims',
    summary: 'Approve a relying party for verified claims, or withdraw it',
    description:
      'Approving waits for a second administrator (202, `pendingApproval`), like a sensitive scope; withdrawing takes effect at once (200). See docs/integrating-a-bank.md "Requesting verified claims".',
    tag: 'Relying parties',
    access: { roles: ['client_admin'], scope: 'admin:clients' },
    body: changeSchema,
    responses: { 200: { description: 'Approved already, or withdrawn', schema: statusSchema }, 202: { description: 'Waiting for a second administrator', schema: statusSchema } },
    async handle({ principal, params, body }) {
      const clientId = params.clientId!;
      if (!body.approved) return { status: 200, body: await verifiedClaims.revoke(clientId, principal.actor) };
      const status = await verifiedClaims.request(clientId, principal.actor);
      return { status: status.approved ? 200 : 202, body: status };
    },
  };
  return [read, change] as unknown as AdminRoute<never, never>[];
}
