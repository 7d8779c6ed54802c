// Who may administer: roles held by level-2 accounts (table admin_roles), and the scopes automation
// (service clients with client_credentials tokens) is approved for. Free of Koa and oidc-provider, so
// the CLI's `admins grant` uses it too.
import type { Database } from '../storage/database.ts';

export const ADMIN_ROLES = ['client_admin', 'support_officer', 'auditor'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/**
 * Scopes a service client may be approved for to call the admin API with a client_credentials token.
 * `admin:clients` acts on relying parties, `admin:accounts` on accounts, `admin:audit` reads the trail.
 */
export const ADMIN_SCOPES = ['admin:clients', 'admin:accounts', 'admin:audit'] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value);
}

export function isAdminScope(value: unknown): value is AdminScope {
  return typeof value === 'string' && (ADMIN_SCOPES as readonly string[]).includes(value);
}

export interface RoleGrant {
  readonly accountId: string;
  readonly nationalId: string;
  readonly role: AdminRole;
  readonly grantedBy: string;
  readonly grantedAt: Date;
}

/** A role can only be held by an existing, active, level-2 account. */
export class RoleRefused extends Error {
  override readonly name = 'RoleRefused';
}

interface RoleRow {
  account_id: string;
  national_id: string;
  role: AdminRole;
  granted_by: string;
  granted_at: Date;
}

const toGrant = (row: RoleRow): RoleGrant => ({
  accountId: row.account_id,
  nationalId: row.national_id.trim(),
  role: row.role,
  grantedBy: row.granted_by,
  grantedAt: row.granted_at,
});

export class AdminRoles {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The roles of an account, read on every request so a revocation takes effect at once. */
  async rolesOf(accountId: string): Promise<Set<AdminRole>> {
    // Roles count only while the account is active and at level 2 (a locked administrator has none).
    const rows = await this.#db('admin_roles as r')
      .join('accounts as a', 'a.id', 'r.account_id')
      .where({ 'r.account_id': accountId, 'a.status': 'active', 'a.level': 2 })
      .select<{ role: AdminRole }[]>('r.role');
    return new Set(rows.map((row) => row.role));
  }

  /**
   * Grants a role to the account of a 12-digit ID number. False when it already held it; throws
   * RoleRefused when there is no such active level-2 account.
   */
  async grant(nationalId: string, role: AdminRole, grantedBy: string): Promise<{ accountId: string; granted: boolean }> {
    const account = await this.#db('accounts').where({ national_id: nationalId }).first<{ id: string; level: number; status: string } | undefined>('id', 'level', 'status');
    if (!account) throw new RoleRefused('no account for that ID number');
    if (account.level !== 2) throw new RoleRefused('the account is not at level 2 (administrators sign in at level 2)');
    if (account.status !== 'active') throw new RoleRefused('the account is not active');
    const inserted = await this.#db('admin_roles')
      .insert({ account_id: account.id, role, granted_by: grantedBy })
      .onConflict(['account_id', 'role'])
      .ignore()
      .returning('role');
    return { accountId: account.id, granted: inserted.length > 0 };
  }

  /** The account of an ID number, if there is one. */
  async accountIdOf(nationalId: string): Promise<string | undefined> {
    const account = await this.#db('accounts').where({ national_id: nationalId }).first<{ id: string } | undefined>('id');
    return account?.id;
  }

  /** Takes a role away; false when the account did not hold it (or there is no such account). */
  async revoke(nationalId: string, role: AdminRole): Promise<{ accountId: string | undefined; revoked: boolean }> {
    const account = await this.#db('accounts').where({ national_id: nationalId }).first<{ id: string } | undefined>('id');
    if (!account) return { accountId: undefined, revoked: false };
    const removed = await this.#db('admin_roles').where({ account_id: account.id, role }).delete();
    return { accountId: account.id, revoked: removed > 0 };
  }

  /** Every grant, by ID number then role (administrators are few). */
  async list(): Promise<RoleGrant[]> {
    const rows = await this.#db('admin_roles as r')
      .join('accounts as a', 'a.id', 'r.account_id')
      .orderBy([{ column: 'a.national_id' }, { column: 'r.role' }])
      .select<RoleRow[]>('r.account_id', 'a.national_id', 'r.role', 'r.granted_by', 'r.granted_at');
    return rows.map(toGrant);
  }
}
