// The admin API's endpoints about administrators themselves: who am I, who holds which role, granting
// and revoking roles, and the four-eyes queue (approve or reject another administrator's request).
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import { isNationalIdShape } from '../registry/national-id.ts';
import { AdminProblem } from './problem.ts';
import type { AdminRoute } from './route.ts';
import type { Approval, FourEyesApprovals } from './approvals.ts';
import { ADMIN_ROLES, RoleRefused, isAdminRole, type AdminRoles } from './auth-roles.ts';

export interface AdminRoutesDependencies {
  readonly roles: AdminRoles;
  readonly approvals: FourEyesApprovals;
  readonly audit: AuditLog;
  /** Kinds of request a client administrator decides here; others have endpoints (and deciders) of their own. */
  readonly decidableKinds: readonly string[];
}

const approvalSchema = z.object({
  id: z.string(),
  kind: z.string(),
  subject: z.string(),
  change: z.record(z.string(), z.unknown()),
  status: z.enum(['pending', 'approved', 'rejected', 'superseded']),
  requestedBy: z.string(),
  requestedAt: z.string(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
});

const approvalView = ({ decidedAt, requestedAt, change, ...approval }: Approval): z.infer<typeof approvalSchema> => ({
  ...approval,
  change: { ...change },
  requestedAt: requestedAt.toISOString(),
  ...(decidedAt !== undefined && { decidedAt: decidedAt.toISOString() }),
});

const grantSchema = z.object({ nationalId: z.string(), accountId: z.string(), role: z.enum(ADMIN_ROLES), grantedBy: z.string(), grantedAt: z.string() });

const approvalsQuerySchema = z.strictObject({
  kind: z.string().max(64).optional(),
  subject: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(64).optional(),
});

function roleParams(params: Readonly<Record<string, string>>): { nationalId: string; role: (typeof ADMIN_ROLES)[number] } {
  const { nationalId, role } = params;
  if (!isNationalIdShape(nationalId ?? '')) throw new AdminProblem(400, 'invalid_request', 'nationalId: 12 digits');
  if (!isAdminRole(role)) throw new AdminProblem(400, 'invalid_request', `role: one of ${ADMIN_ROLES.join(', ')}`);
  return { nationalId: nationalId!, role };
}

export function adminRoutes(deps: AdminRoutesDependencies): AdminRoute<never, never>[] {
  const { roles, approvals, audit } = deps;

  const me: AdminRoute<never, never> = {
    method: 'GET',
    path: '/api/me',
    operationId: 'whoAmI',
    summary: 'The signed-in administrator and their roles',
    tag: 'Administrators',
    access: { roles: ADMIN_ROLES },
    responses: { 200: { description: 'The caller', schema: z.object({ accountId: z.string(), roles: z.array(z.enum(ADMIN_ROLES)) }) } },
    handle({ principal }) {
      if (principal.kind !== 'administrator') throw new AdminProblem(403, 'forbidden', 'administrators only');
      return Promise.resolve({ status: 200, body: { accountId: principal.accountId, roles: [...principal.roles].sort() } });
    },
  };

  const list: AdminRoute<never, never> = {
    method: 'GET',
    path: '/api/admins',
    operationId: 'listAdministrators',
    summary: 'Who holds which role',
    tag: 'Administrators',
    access: { roles: ['client_admin', 'auditor'] },
    responses: { 200: { description: 'Every grant', schema: z.object({ grants: z.array(grantSchema) }) } },
    async handle() {
      const grants = await roles.list();
      return { status: 200, body: { grants: grants.map((grant) => ({ ...grant, grantedAt: grant.grantedAt.toISOString() })) } };
    },
  };

  const grant: AdminRoute<never, never> = {
    method: 'PUT',
    path: '/api/admins/{nationalId}/roles/{role}',
    operationId: 'grantRole',
    summary: 'Grant a role to the level-2 account of an ID number',
    description: 'By a client administrator signed in (never by automation), never to themselves.',
    tag: 'Administrators',
    access: { roles: ['client_admin'] },
    responses: { 200: { description: 'Granted (or already held)', schema: z.object({ accountId: z.string(), role: z.enum(ADMIN_ROLES), granted: z.boolean() }) } },
    async handle({ principal, params }) {
      const { nationalId, role } = roleParams(params);
      if (principal.kind === 'administrator' && (await roles.accountIdOf(nationalId)) === principal.accountId) {
        throw new AdminProblem(403, 'forbidden', 'an administrator cannot change their own roles');
      }
      let result;
      try {
        result = await roles.grant(nationalId, role, principal.actor);
      } catch (error) {
        if (error instanceof RoleRefused) throw new AdminProblem(400, 'invalid_request', error.message);
        throw error;
      }
      if (result.granted) await audit.record({ type: 'admin.action', actor: principal.actor, accountId: result.accountId, data: { action: 'admin.role_granted', role } });
      return { status: 200, body: { accountId: result.accountId, role, granted: result.granted } };
    },
  };

  const revoke: AdminRoute<never, never> = {
    method: 'DELETE',
    path: '/api/admins/{nationalId}/roles/{role}',
    operationId: 'revokeRole',
    summary: 'Revoke a role',
    description: 'Takes effect on the next call of that administrator, on every instance.',
    tag: 'Administrators',
    access: { roles: ['client_admin'] },
    responses: { 204: { description: 'Revoked' } },
    async handle({ principal, params }) {
      const { nationalId, role } = roleParams(params);
      const held = (await roles.list()).find((entry) => entry.nationalId === nationalId && entry.role === role);
      if (!held) throw new AdminProblem(404, 'not_found', 'that account does not hold that role');
      if (principal.kind === 'administrator' && held.accountId === principal.accountId) {
        throw new AdminProblem(403, 'forbidden', 'an administrator cannot change their own roles');
      }
      await roles.revoke(nationalId, role);
      await audit.record({ type: 'admin.action', actor: principal.actor, accountId: held.accountId, data: { action: 'admin.role_revoked', role } });
      return { status: 204 };
    },
  };

  const pending: AdminRoute<never, z.infer<typeof approvalsQuerySchema>> = {
    method: 'GET',
    path: '/api/approvals',
    operationId: 'listPendingApprovals',
    summary: 'Changes waiting for a second administrator',
    tag: 'Four eyes',
    access: { roles: ['client_admin', 'auditor'], scope: 'admin:clients' },
    query: approvalsQuerySchema,
    responses: { 200: { description: 'One page, oldest first', schema: z.object({ approvals: z.array(approvalSchema), next: z.string().optional() }) } },
    async handle({ query }) {
      const page = await approvals.pending({
        limit: query.limit,
        ...(query.kind !== undefined && { kind: query.kind }),
        ...(query.subject !== undefined && { subject: query.subject }),
        ...(query.cursor !== undefined && { after: query.cursor }),
      });
      return { status: 200, body: { approvals: page.approvals.map(approvalView), ...(page.next !== undefined && { next: page.next }) } };
    },
  };

  const decide = (decision: 'approved' | 'rejected'): AdminRoute<never, never> => ({
    method: 'POST',
    path: decision === 'approved' ? '/api/approvals/{approvalId}/approve' : '/api/approvals/{approvalId}/reject',
    operationId: decision === 'approved' ? 'approveChange' : 'rejectChange',
    summary: decision === 'approved' ? 'Approve another administrator’s request (four eyes)' : 'Reject another administrator’s request',
    description:
      'Requests about relying parties (kind client.scopes) only; only a client administrator signed in, and never the one who asked (403 four_eyes). Approving applies the change at once.',
    tag: 'Four eyes',
    access: { roles: ['client_admin'] },
    responses: { 200: { description: 'Decided', schema: approvalSchema } },
    async handle({ principal, params }) {
      const pending = await approvals.find(params.approvalId!);
      if (!pending) throw new AdminProblem(404, 'not_found', 'approval not found');
      if (!deps.decidableKinds.includes(pending.kind)) {
        throw new AdminProblem(403, 'forbidden', `a ${pending.kind} request is decided at its own endpoint, by its own officers`);
      }
      const approval = await approvals.decide(pending.id, principal.actor, decision);
      await audit.record({
        type: 'admin.action',
        actor: principal.actor,
        ...(approval.kind.startsWith('client.') && { clientId: approval.subject }),
        data: { action: decision === 'approved' ? 'approval.approved' : 'approval.rejected', approval: approval.id, kind: approval.kind, change: approval.change, requestedBy: approval.requestedBy },
      });
      return { status: 200, body: approvalView(approval) };
    },
  });

  return [me, list, grant, revoke, pending, decide('approved'), decide('rejected')] as unknown as AdminRoute<never, never>[];
}
