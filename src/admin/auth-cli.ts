// The command line's `admins` commands: the bootstrap path for administrators' roles (the first
// client administrator can only come from here), and their listing. Every change is audited.
import { parseArgs } from 'node:util';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/database.ts';
import { isNationalIdShape } from '../registry/national-id.ts';
import { ADMIN_ROLES, AdminRoles, RoleRefused, isAdminRole } from './auth-roles.ts';

export const ADMINS_USAGE = `  admins grant ID ROLE             give the level-2 account of ID number ID an administrator role
                                   (client_admin, support_officer or auditor)
  admins revoke ID ROLE            take the role away (effective at that administrator's next call)
  admins list                      who holds which role`;

/** Input refused before anything is written; the CLI exits 2. */
export class AdminsCommandRefused extends Error {
  override readonly name = 'AdminsCommandRefused';
}

function idAndRole(args: string[]): { nationalId: string; role: (typeof ADMIN_ROLES)[number] } {
  let positionals: string[];
  try {
    positionals = parseArgs({ args, options: {}, strict: true, allowPositionals: true }).positionals;
  } catch (error) {
    throw new AdminsCommandRefused((error as Error).message);
  }
  const [nationalId, role, ...extra] = positionals;
  if (nationalId === undefined || role === undefined || extra.length > 0) throw new AdminsCommandRefused('expected: ID ROLE');
  if (!isNationalIdShape(nationalId)) throw new AdminsCommandRefused('the ID number must be 12 digits');
  if (!isAdminRole(role)) throw new AdminsCommandRefused(`ROLE: one of ${ADMIN_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
  return { nationalId, role };
}

/** Runs `admins grant|revoke|list`; resolves to the exit status. */
export async function adminsCommand(command: string, args: string[], deps: { db: Database; audit: AuditLog; actor: string }): Promise<number> {
  const roles = new AdminRoles(deps.db);
  if (command === 'list') {
    if (args.length > 0) throw new AdminsCommandRefused('admins list takes no arguments');
    const grants = await roles.list();
    if (grants.length === 0) console.log('no administrators');
    for (const grant of grants) console.log(`${grant.nationalId}  ${grant.role.padEnd(15)}  granted ${grant.grantedAt.toISOString()} by ${grant.grantedBy}`);
    return 0;
  }
  const { nationalId, role } = idAndRole(args);
  if (command === 'grant') {
    let result;
    try {
      result = await roles.grant(nationalId, role, deps.actor);
    } catch (error) {
      if (error instanceof RoleRefused) throw new AdminsCommandRefused(error.message);
      throw error;
    }
    if (result.granted) {
      await deps.audit.record({ type: 'admin.action', actor: deps.actor, accountId: result.accountId, data: { action: 'admin.role_granted', role } });
    }
    console.log(result.granted ? `granted ${role}` : `the account already holds ${role}; nothing changed`);
    return 0;
  }
  if (command === 'revoke') {
    const result = await roles.revoke(nationalId, role);
    if (!result.revoked) throw new AdminsCommandRefused(`that account does not hold ${role}`);
    await deps.audit.record({ type: 'admin.action', actor: deps.actor, accountId: result.accountId!, data: { action: 'admin.role_revoked', role } });
    console.log(`revoked ${role}`);
    return 0;
  }
  throw new AdminsCommandRefused(`unknown command admins ${command}`);
}
