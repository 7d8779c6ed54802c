// Puts the admin API together for the admin app (src/server.ts): authentication, the four-eyes queue,
// every group of endpoints, the OpenAPI document and the administrators' sign-in. Another group of
// endpoints is one more `api.add(...yourRoutes(deps))` line here (docs: /work/helper-notes/admin-api.md).
import type Koa from 'koa';
import type { Container } from '../container.ts';
import { resolveSecrets } from '../config/quickstart-secrets.ts';
import { AdminApi } from './api.ts';
import { FourEyesApprovals } from './approvals.ts';
import { AdminAuthenticator, AdminSessions } from './auth.ts';
import { AdminRoles } from './auth-roles.ts';
import { adminSignInRoutes, adminUrlOf } from './auth-sign-in.ts';
import { applyClientScopes, CLIENT_SCOPES_APPROVAL, clientRoutes } from './api-clients.ts';
import { adminRoutes } from './api-admins.ts';
import { openApiDocument } from './openapi.ts';
import { AccountAdministration } from './account-administration.ts';
import { accountRoutes } from './api-accounts.ts';
import { auditRoutes } from './api-audit.ts';
import { AuditTrail } from '../audit/audit-trail.ts';
import { keyRoutes } from './api-keys.ts';
import { registrationRoutes } from './api-registration.ts';
import { adminConsoleRoutes } from './console/console-routes.ts';

export interface AdminApiParts {
  readonly api: AdminApi;
  readonly auth: AdminAuthenticator;
  readonly roles: AdminRoles;
  readonly approvals: FourEyesApprovals;
  readonly sessions: AdminSessions;
}

export function buildAdminApi(container: Container): AdminApiParts {
  const roles = new AdminRoles(container.db);
  const sessions = new AdminSessions(container.ephemeral);
  const approvals = new FourEyesApprovals(container.db);
  // Applied in the approval's transaction, outside ClientRepository: other instances are told after the commit.
  approvals.register(CLIENT_SCOPES_APPROVAL, applyClientScopes, () => container.clients.clientsChanged());
  const auth = new AdminAuthenticator({ provider: container.provider, clients: container.clients, roles, sessions, audit: container.audit });
  const api = new AdminApi(auth, (error) => container.logger.error({ err: error }, 'an admin API call failed'));
  api.add(...clientRoutes({
    db: container.db,
    clients: container.clients,
    approvals,
    audit: container.audit,
    secretRotationOverlapSeconds: container.config.admin.secretRotationOverlapSeconds,
  }));
  api.add(...adminRoutes({ roles, approvals, audit: container.audit, decidableKinds: [CLIENT_SCOPES_APPROVAL] }));
  // Accounts and the audit trail (README "Account administration", "Audit trail"); registers the level-2 approvals.
  api.add(...accountRoutes({ administration: new AccountAdministration({ db: container.db, audit: container.audit, access: container.sessions, approvals }) }));
  api.add(...auditRoutes({ trail: new AuditTrail(container.db), audit: container.audit }));
  // Signing keys: list, rotate, emergency revoke (README "Signing keys").
  api.add(...keyRoutes({ signingKeys: container.signingKeys }));
  // Initial access tokens for dynamic client registration (README "Dynamic client registration").
  api.add(...registrationRoutes({
    registrations: container.registrations,
    issue: (limits, options) => container.registrations.issue(container.provider, limits, options),
    audit: container.audit,
    registrationEndpoint: `${container.config.issuer.replace(/\/$/, '')}/reg`,
  }));
  return { api, auth, roles, approvals, sessions };
}

/** Headers for the admin API's JSON answers: nothing to sniff, frame or refer, nothing cached. */
function apiSecurityHeaders(): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.path.startsWith('/api/') || ctx.path.startsWith('/auth/') || ctx.path === '/openapi.json') {
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    }
    await next();
  };
}

/** The admin API's middleware for the admin app, in order. */
export function adminApiMiddleware(container: Container, parts: AdminApiParts = buildAdminApi(container)): Koa.Middleware[] {
  const document = openApiDocument(parts.api.routes, adminUrlOf(container.config));
  return [
    apiSecurityHeaders(),
    async (ctx, next) => {
      if (ctx.path === '/openapi.json' && ctx.method === 'GET') {
        ctx.body = document;
        return;
      }
      await next();
    },
    adminSignInRoutes({
      config: container.config,
      keyEncryptionKey: resolveSecrets(container.config).keyEncryptionKey,
      clients: container.clients,
      store: container.ephemeral,
      sessions: parts.sessions,
      auth: parts.auth,
      audit: container.audit,
      rolesOf: (accountId) => parts.roles.rolesOf(accountId),
    }),
    parts.api.middleware(),
    // The web console over the same routes (README "Admin console").
    adminConsoleRoutes({
      routes: parts.api.routes,
      auth: parts.auth,
      issuer: container.config.issuer,
      store: container.ephemeral,
      secretRotationOverlapSeconds: container.config.admin.secretRotationOverlapSeconds,
      keyPublishAheadSeconds: container.config.keys.publishAheadSeconds,
      onError: (error) => container.logger.error({ err: error }, 'an admin console page failed'),
    }),
  ];
}
