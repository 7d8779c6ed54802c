// The admin side's services, built once by the composition root (src/container.ts) from the storage
// and repositories it already holds: roles, administrators' sessions, the four-eyes queue, the
// authenticator, account administration and the audit trail's reader. The admin API, its sign-in and
// the console receive these (src/admin/api-app.ts), never the container.
import { CLIENT_DETAILS_TYPES_APPROVAL, applyDetailsTypes } from './api-client-details-types.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AccountStore } from '../accounts/account-store.ts';
import { AuditTrail } from '../audit/audit-trail.ts';
import type { ServiceToken } from '../oidc/admin-tokens.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import type { SessionTerminator } from '../oidc/sessions/sessions.ts';
import type { Database } from '../storage/database.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import { AccountAdministration } from './account-administration.ts';
import type { ChipVerifier } from '../chip/chip-verification.ts';
import { applyClientScopes, CLIENT_SCOPES_APPROVAL } from './api-clients.ts';
import { FourEyesApprovals } from './approvals.ts';
import { AdminAuthenticator, AdminSessions } from './auth.ts';
import { AdminRoles } from './auth-roles.ts';
import { applyVerifiedClaims, VERIFIED_CLAIMS_APPROVAL, VerifiedClaimsApprovals } from './api-verified-claims.ts';

export interface AdminServiceDependencies {
  readonly db: Database;
  readonly store: EphemeralStore;
  readonly accounts: AccountStore;
  readonly audit: AuditLog;
  readonly clients: ClientRepository;
  /** Ends an account's sessions and tokens (locking it, resetting its second factors). */
  readonly access: Pick<SessionTerminator, 'endAllAccess'>;
  /** The provider's client_credentials token for the admin API with this value (src/oidc/admin-tokens.ts). */
  readonly findServiceToken: (value: string) => Promise<ServiceToken | undefined>;
  /** Checks a card's chip, the evidence of a level-2 raise at the counter (src/chip/chip-verification.ts). */
  readonly chipVerifier?: ChipVerifier;
}

export interface AdminServices {
  readonly roles: AdminRoles;
  readonly sessions: AdminSessions;
  readonly approvals: FourEyesApprovals;
  readonly auth: AdminAuthenticator;
  readonly administration: AccountAdministration;
  readonly trail: AuditTrail;
  /** Clients' approval for verified claims (four eyes, src/admin/api-verified-claims.ts). */
  readonly verifiedClaims: VerifiedClaimsApprovals;
}

export function createAdminServices(deps: AdminServiceDependencies): AdminServices {
  const { db, audit, clients } = deps;
  const roles = new AdminRoles(db);
  const sessions = new AdminSessions(deps.store);
  const approvals = new FourEyesApprovals(db);
  // Applied in the approval's transaction, outside ClientRepository: other instances are told after the commit.
  approvals.register(CLIENT_SCOPES_APPROVAL, applyClientScopes, () => clients.clientsChanged());
  approvals.register(VERIFIED_CLAIMS_APPROVAL, applyVerifiedClaims, () => clients.clientsChanged());
  approvals.register(CLIENT_DETAILS_TYPES_APPROVAL, applyDetailsTypes, () => clients.clientsChanged());
  return {
    roles,
    sessions,
    approvals,
    auth: new AdminAuthenticator({ findServiceToken: deps.findServiceToken, clients, roles, sessions, audit }),
    // Registers the level-2 approvals with the queue (docs/administration.md "Account administration").
    administration: new AccountAdministration({ accounts: deps.accounts, audit, access: deps.access, approvals, ...(deps.chipVerifier && { chip: deps.chipVerifier }) }),
    trail: new AuditTrail(db),
    verifiedClaims: new VerifiedClaimsApprovals({ db, approvals, audit, clients }),
  };
}
