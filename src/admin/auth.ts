// Who is calling the admin API, and whether they may. Two kinds of caller:
// - an administrator, signed in through this provider at level 2 (src/admin/auth-sign-in.ts), whose
//   browser holds the `admin_session` cookie; their roles are read from PostgreSQL on every call, and
//   every call that changes something carries the session's CSRF token in `X-CSRF-Token`;
// - automation: a service client's client_credentials token (`Authorization: Bearer …`), looked up in
//   the provider's own store; it counts only for the admin scopes the client is approved for today.
// Every refusal — no credentials, a bad token, a missing role or scope — is audited as `admin.denied`.
import type Koa from 'koa';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import type { ServiceToken } from '../oidc/admin-tokens.ts';
import { FirstPartySessions, sameSecret } from '../web/first-party-sign-in.ts';
import { AdminProblem } from './problem.ts';
import type { AdminPrincipal, AdminRoute } from './route.ts';
import { ADMIN_SCOPES, type AdminRole, type AdminRoles } from './auth-roles.ts';

/** The admin console's first-party client (src/admin/auth-sign-in.ts); its sessions are kept under this name. */
export const ADMIN_CONSOLE_CLIENT_ID = 'admin-console';
export const ADMIN_SESSION_COOKIE = 'admin_session';
export const CSRF_HEADER = 'x-csrf-token';
/** An administrator's session ends after this long without a call, and in any case after ABSOLUTE. */
const SESSION_IDLE_SECONDS = 15 * 60;
const SESSION_ABSOLUTE_SECONDS = 8 * 3600;

export interface AdminSession {
  readonly accountId: string;
  readonly acr: string;
  /** Epoch seconds of the sign-in the provider vouched for. */
  readonly authTime: number;
  /** Epoch seconds; the session never outlives createdAt + 8 hours. */
  readonly createdAt: number;
  readonly csrf: string;
  /** The provider's ID token, for signing out of the provider too. */
  readonly idToken: string;
}

/** Administrators' sessions and pending sign-ins in the shared store (Redis): the first-party sessions, with an absolute limit. */
export class AdminSessions extends FirstPartySessions<AdminSession> {
  constructor(store: EphemeralStore) {
    super(store, { clientId: ADMIN_CONSOLE_CLIENT_ID, idleSeconds: SESSION_IDLE_SECONDS, absoluteSeconds: SESSION_ABSOLUTE_SECONDS });
  }
}

export interface AdminAuthDependencies {
  /** The provider's client_credentials token for the admin API with this value, if any (src/oidc/admin-tokens.ts). */
  readonly findServiceToken: (value: string) => Promise<ServiceToken | undefined>;
  readonly clients: ClientRepository;
  readonly roles: AdminRoles;
  readonly sessions: AdminSessions;
  readonly audit: AuditLog;
}

export class AdminAuthenticator {
  readonly #deps: AdminAuthDependencies;

  constructor(deps: AdminAuthDependencies) {
    this.#deps = deps;
  }

  /**
   * The caller, allowed to call `route`; otherwise audits the refusal and throws 401 or 403. The web
   * console (src/admin/console/) passes `sessionOnly` (a bearer token counts for nothing there) and
   * the CSRF token its form carried instead of the header.
   */
  async authorize(
    ctx: Koa.Context,
    route: Pick<AdminRoute, 'access' | 'operationId' | 'method'>,
    options: { readonly sessionOnly?: boolean; readonly csrfToken?: string } = {},
  ): Promise<AdminPrincipal> {
    const caller = await this.#authenticate(ctx, options.sessionOnly === true);
    if ('refused' in caller) {
      await this.#deny(ctx, route.operationId, 'anonymous', caller.refused);
      ctx.set('WWW-Authenticate', `Bearer realm="admin", error="invalid_token"`);
      throw new AdminProblem(401, 'unauthenticated', 'sign in as an administrator, or present a client_credentials token with an admin scope');
    }
    const { principal } = caller;
    const allowed =
      principal.kind === 'administrator'
        ? route.access.roles.some((role) => principal.roles.has(role))
        : route.access.scope !== undefined && principal.scopes.has(route.access.scope);
    if (!allowed) {
      const needed =
        principal.kind === 'administrator'
          ? `one of the roles ${route.access.roles.join(', ')}`
          : route.access.scope
            ? `the scope ${route.access.scope}`
            : 'an administrator signed in (not available to automation)';
      await this.#deny(ctx, route.operationId, principal.actor, `needs ${needed}`);
      throw new AdminProblem(403, 'forbidden', `this call needs ${needed}`);
    }
    // A browser session changes things only with the token a page of ours could read (CSRF).
    if (principal.kind === 'administrator' && route.method !== 'GET' && !sameSecret(options.csrfToken ?? ctx.get(CSRF_HEADER), caller.csrf ?? '')) {
      await this.#deny(ctx, route.operationId, principal.actor, 'missing or wrong CSRF token');
      throw new AdminProblem(403, 'csrf', `send the session's CSRF token (GET /auth/session) in the ${CSRF_HEADER} header`);
    }
    return principal;
  }

  /** The signed-in administrator of this request, if any (the sign-in routes use it). */
  async sessionOf(ctx: Koa.Context): Promise<{ id: string; session: AdminSession; roles: ReadonlySet<AdminRole> } | undefined> {
    const id = ctx.cookies.get(ADMIN_SESSION_COOKIE);
    const session = await this.#deps.sessions.get(id);
    if (!session || id === undefined) return undefined;
    return { id, session, roles: await this.#deps.roles.rolesOf(session.accountId) };
  }

  async #authenticate(ctx: Koa.Context, sessionOnly = false): Promise<{ principal: AdminPrincipal; csrf?: string } | { refused: string }> {
    const authorization = ctx.get('authorization');
    if (authorization && !sessionOnly) {
      const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization);
      if (!match) return { refused: 'malformed Authorization header' };
      const token = await this.#deps.findServiceToken(match[1]!);
      if (!token) return { refused: 'unknown, expired or revoked token (only client_credentials tokens are accepted)' };
      if (token.senderConstrained) return { refused: `sender-constrained token of ${token.clientId} (not accepted here)` };
      const client = await this.#deps.clients.find(token.clientId);
      if (!client || client.status !== 'active') return { refused: `token of a suspended or removed client ${token.clientId}` };
      // The token's scope counts only as far as the client is approved for it now.
      const approved = new Set(client.approvedScopes);
      const scopes = new Set(ADMIN_SCOPES.filter((scope) => token.scopes.has(scope) && approved.has(scope)));
      return { principal: { kind: 'service', clientId: client.clientId, scopes, actor: `client:${client.clientId}` } };
    }
    const signedIn = await this.sessionOf(ctx);
    if (!signedIn) return { refused: ctx.cookies.get(ADMIN_SESSION_COOKIE) ? 'unknown or expired admin session' : 'no credentials' };
    const { session, roles } = signedIn;
    return {
      principal: { kind: 'administrator', accountId: session.accountId, roles, actor: `account:${session.accountId}` },
      csrf: session.csrf,
    };
  }

  async #deny(ctx: Koa.Context, operation: string, actor: string, reason: string): Promise<void> {
    await this.#deps.audit.record({
      type: 'admin.denied',
      actor,
      data: { operation, method: ctx.method, path: ctx.path, reason, address: ctx.ip },
    });
  }
}
