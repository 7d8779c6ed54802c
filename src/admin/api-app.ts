// Puts the admin API together for the admin app (src/server.ts): every group of endpoints, the OpenAPI
// document, the administrators' sign-in and the web console, from the services the composition root
// built (src/admin/services.ts) and the few repositories and settings they use. Another group of
// endpoints is one more `api.add(...yourRoutes(deps))` line here (docs/administration.md).
import { CLIENT_DETAILS_TYPES_APPROVAL, detailsTypesRoutes } from './api-client-details-types.ts';
import type Koa from 'koa';
import type { Config } from '../config/config.ts';
import type { AccountStore } from '../accounts/account-store.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import type { KeyRotation } from '../oidc/keys/key-rotation.ts';
import type { Database } from '../storage/database.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import { Router } from '../web/router.ts';
import { AdminApi } from './api.ts';
import { adminSignInRoutes, adminUrlOf } from './auth-sign-in.ts';
import { CLIENT_SCOPES_APPROVAL, clientRoutes } from './api-clients.ts';
import { adminRoutes } from './api-admins.ts';
import { openApiDocument } from './openapi.ts';
import { accountRoutes } from './api-accounts.ts';
import { auditRoutes } from './api-audit.ts';
import { keyRoutes } from './api-keys.ts';
import { registrationRoutes, type RegistrationRoutesDependencies } from './api-registration.ts';
import { outboxRoutes, type OutboxReader } from './api-outbox.ts';
import { organisationRoutes } from './api-organisations.ts';
import type { OrganisationAccounts } from '../representation/organisation-accounts.ts';
import type { AdminServices } from './services.ts';
import { adminConsoleRoutes } from './console/console-routes.ts';
import { VERIFIED_CLAIMS_APPROVAL, verifiedClaimsRoutes } from './api-verified-claims.ts';

export interface AdminApiDependencies {
  readonly config: Config;
  readonly db: Database;
  /** The shared ephemeral store (Redis): the console's single-use form tokens. */
  readonly store: EphemeralStore;
  readonly services: AdminServices;
  readonly audit: AuditLog;
  readonly clients: ClientRepository;
  readonly signingKeys: KeyRotation;
  readonly registrations: RegistrationRoutesDependencies['registrations'];
  /** Issues an initial access token through the provider in service. */
  readonly issueInitialAccessToken: RegistrationRoutesDependencies['issue'];
  /** The administrators' sign-in client's secret, derived by the composition root (src/container.ts). */
  readonly adminConsoleSecret: string;
  /** The console names administrators by their holders' names (one read per page); the API answers with ids only. */
  readonly accounts: Pick<AccountStore, 'holderNamesOf'>;
  /** The outbox, where notifications are stored instead of sent (notifications.mode outbox); absent otherwise. */
  readonly outbox?: OutboxReader;
  /** Organisations' eID accounts, read-only for officers (docs/administration.md "Organisations' eID accounts"). */
  readonly organisationAccounts?: Pick<OrganisationAccounts, 'organisation' | 'grantsOf'>;
}

/** Every endpoint of the admin API, each group with the services it uses. */
export function buildAdminApi(deps: AdminApiDependencies): AdminApi {
  const { config, audit, services } = deps;
  const { approvals } = services;
  const api = new AdminApi(services.auth);
  api.add(...clientRoutes({ db: deps.db, clients: deps.clients, approvals, audit, secretRotationOverlapSeconds: config.admin.secretRotationOverlapSeconds }));
  // Verified claims, approved like a sensitive scope (docs/integrating-a-bank.md "Requesting verified claims").
  api.add(...verifiedClaimsRoutes({ verifiedClaims: services.verifiedClaims }));
  api.add(...adminRoutes({ roles: services.roles, approvals, audit, decidableKinds: [CLIENT_SCOPES_APPROVAL, VERIFIED_CLAIMS_APPROVAL, CLIENT_DETAILS_TYPES_APPROVAL] }));
  // Authorization-details types (acting for others), four eyes like sensitive scopes (docs/representation.md).
  api.add(...detailsTypesRoutes({ clients: deps.clients, approvals, audit }));
  // Accounts and the audit trail (docs/administration.md "Account administration", "Audit trail").
  api.add(...accountRoutes({ administration: services.administration }));
  api.add(...auditRoutes({ trail: services.trail, audit }));
  // Signing keys: list, rotate, emergency revoke (docs/administration.md "Signing keys").
  api.add(...keyRoutes({ signingKeys: deps.signingKeys }));
  // Initial access tokens for dynamic client registration (docs/portals.md "Dynamic client registration").
  api.add(...registrationRoutes({
    registrations: deps.registrations,
    issue: deps.issueInitialAccessToken,
    audit,
    registrationEndpoint: `${config.issuer.replace(/\/$/, '')}/reg`,
  }));
  // The outbox, for support officers (docs/administration.md "The outbox").
  if (deps.outbox) api.add(...outboxRoutes({ outbox: deps.outbox }));
  // Organisations' eID accounts, read-only (docs/administration.md "Organisations' eID accounts").
  if (deps.organisationAccounts) api.add(...organisationRoutes({ organisations: deps.organisationAccounts, audit }));
  return api;
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

/** The admin API's middleware for the admin app, in order: /openapi.json, /auth/… (sign-in), /api/…, /console/…. */
export function adminApiMiddleware(deps: AdminApiDependencies, api: AdminApi = buildAdminApi(deps)): Koa.Middleware[] {
  const { config, services } = deps;
  const document = openApiDocument(api.routes, adminUrlOf(config));
  return [
    apiSecurityHeaders(),
    new Router()
      .get('/openapi.json', (ctx) => {
        ctx.body = document;
      })
      .middleware(),
    adminSignInRoutes({
      config,
      clientSecret: deps.adminConsoleSecret,
      clients: deps.clients,
      sessions: services.sessions,
      auth: services.auth,
      audit: deps.audit,
      rolesOf: (accountId) => services.roles.rolesOf(accountId),
    }),
    api.middleware(),
    // The web console over the same routes (docs/administration.md "Admin console").
    adminConsoleRoutes({
      routes: api.routes,
      auth: services.auth,
      issuer: config.issuer,
      store: deps.store,
      holderNames: (accountIds) => deps.accounts.holderNamesOf(accountIds),
      secretRotationOverlapSeconds: config.admin.secretRotationOverlapSeconds,
      keyPublishAheadSeconds: config.keys.publishAheadSeconds,
    }),
  ];
}
