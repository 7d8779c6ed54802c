// The command line's `clients verified-claims …`: the same four-eyes approval as the admin API's
// PUT /api/clients/{clientId}/verified-claims (src/admin/api-verified-claims.ts) — one administrator
// asks, another approves; withdrawing is at once.
import { parseArgs } from 'node:util';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import type { Database } from '../storage/database.ts';
import { applyVerifiedClaims, VERIFIED_CLAIMS_APPROVAL, VerifiedClaimsApprovals, type VerifiedClaimsStatus } from './api-verified-claims.ts';
import { FourEyesApprovals } from './approvals.ts';
import { AdminProblem } from './problem.ts';

export const VERIFIED_CLAIMS_CLI_USAGE = `  clients verified-claims show CLIENT_ID
  clients verified-claims request CLIENT_ID --admin NAME
                                   ask to approve a client for verified claims (OpenID Connect for
                                   Identity Assurance); prints the request id for a second administrator
  clients verified-claims approve REQUEST --admin NAME [--reject]
                                   decide the request (never the administrator who asked)
  clients verified-claims revoke CLIENT_ID --admin NAME
                                   withdraw the approval at once`;

export interface VerifiedClaimsCommandDeps {
  readonly db: Database;
  readonly audit: AuditLog;
  readonly clients: Pick<ClientRepository, 'clientsChanged'>;
}

const describe = (status: VerifiedClaimsStatus) =>
  `${status.clientId}: ${status.approved ? 'approved for verified claims' : 'not approved for verified claims'}${status.pendingApproval ? ` (request ${status.pendingApproval} waits for a second administrator)` : ''}`;

/** Runs `clients verified-claims ACTION …`; resolves to the exit status (2: refused, nothing changed). */
export async function verifiedClaimsCommand(args: string[], deps: VerifiedClaimsCommandDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { admin: { type: 'string' }, reject: { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (error) {
    console.error(`citizen-idp clients verified-claims: ${(error as Error).message}`);
    return 2;
  }
  const [action, subject, ...extra] = parsed.positionals;
  const admin = parsed.values.admin?.trim() ?? '';
  const refuse = (message: string) => {
    console.error(`citizen-idp clients verified-claims: ${message}`);
    return 2;
  };
  if (!action || !['show', 'request', 'approve', 'revoke'].includes(action)) return refuse('show, request, approve or revoke');
  if (!subject || extra.length > 0) return refuse(action === 'approve' ? 'one request id' : 'one client id');
  if (action !== 'show' && (admin === '' || admin.length > 200)) return refuse('--admin NAME is required (at most 200 characters)');
  if (parsed.values.reject && action !== 'approve') return refuse('--reject is for approve only');
  const actor = `officer:${admin}`;
  const approvals = new FourEyesApprovals(deps.db);
  approvals.register(VERIFIED_CLAIMS_APPROVAL, applyVerifiedClaims, () => deps.clients.clientsChanged());
  const service = new VerifiedClaimsApprovals({ db: deps.db, approvals, audit: deps.audit, clients: deps.clients });
  try {
    switch (action) {
      case 'show':
        console.log(describe(await service.status(subject)));
        return 0;
      case 'request':
        console.log(describe(await service.request(subject, actor)));
        return 0;
      case 'revoke':
        console.log(describe(await service.revoke(subject, actor)));
        return 0;
      default: {
        const found = await approvals.find(subject);
        if (!found || found.kind !== VERIFIED_CLAIMS_APPROVAL) return refuse(`no verified-claims request ${subject}`);
        const decided = await approvals.decide(subject, actor, parsed.values.reject ? 'rejected' : 'approved');
        await deps.audit.record({ type: 'admin.action', actor, clientId: decided.subject, data: { action: `approval.${decided.status}`, approval: decided.id, kind: decided.kind, change: decided.change, requestedBy: decided.requestedBy } });
        console.log(decided.status === 'approved' ? `${decided.subject}: approved for verified claims` : `${decided.subject}: request rejected`);
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof AdminProblem) {
      console.error(`citizen-idp clients verified-claims ${action}: ${error.message}`);
      return error.status === 404 ? 1 : 2;
    }
    throw error;
  }
}
