// The admin API's endpoints for dynamic client registration (docs/portals.md "Dynamic client registration"):
// issue an initial access token with limits (the token is shown once), list the tokens with their
// limits and usage, revoke one. The limits' rules are src/oidc/clients/dynamic-registration.ts's.
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import {
  InvalidRegistrationLimits,
  MAX_CLIENTS_PER_TOKEN,
  MAX_TOKEN_LIFETIME_SECONDS,
  SELF_REGISTRATION_PROFILES,
  type DynamicRegistration,
  type IssuedInitialAccessToken,
} from '../oidc/clients/dynamic-registration.ts';
import type { InitialAccessTokenRecord, RegistrationLimits } from '../oidc/clients/initial-access-tokens.ts';
import { AdminProblem, notFound } from './problem.ts';
import type { AdminRoute } from './route.ts';

const issueSchema = z.strictObject({
  description: z.string().trim().min(1).max(200).describe('What the token is for, e.g. "portals of the Ministry of Health".'),
  profiles: z.array(z.enum(SELF_REGISTRATION_PROFILES)).min(1).max(4).describe('Profiles a client may register under (never bank). The first is the default.'),
  scopes: z.array(z.string().min(1).max(64)).min(1).max(20).describe('Scopes a client may ask for; never ethnicity or national_id (four eyes per client).'),
  redirectHosts: z
    .array(z.string().min(1).max(260))
    .max(50)
    .default([])
    .describe('Hosts every registered URI must be on: `portal.moh.gov.vn`, `*.moh.gov.vn` (any name under it), `127.0.0.1:8080`.'),
  allowPublicSubjects: z.boolean().default(false).describe('Let a client ask for public subjects instead of pairwise ones.'),
  agreementReference: z.string().trim().min(1).max(200).optional().describe('The data-sharing agreement, kept on every client the token registers.'),
  maxClients: z.number().int().min(1).max(MAX_CLIENTS_PER_TOKEN).describe('How many clients the token may register, ever (a deleted client does not give its slot back).'),
  expiresInSeconds: z.number().int().min(60).max(MAX_TOKEN_LIFETIME_SECONDS).describe('Until when the token registers clients (at most 90 days).'),
});

const tokenSchema = z.object({
  id: z.string().describe('The token’s public name; registered clients carry it (`initialAccessToken`). Never the token itself.'),
  description: z.string(),
  profiles: z.array(z.string()),
  scopes: z.array(z.string()),
  redirectHosts: z.array(z.string()),
  allowPublicSubjects: z.boolean(),
  agreementReference: z.string().nullable(),
  maxClients: z.number().int(),
  clientsRegistered: z.number().int(),
  status: z.enum(['active', 'exhausted', 'expired', 'revoked']),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  issuedBy: z.string(),
  issuedAt: z.string(),
});

const issuedSchema = z.object({
  token: z.string().describe('The initial access token: shown in this response only. The registrant sends it as `Authorization: Bearer …`.'),
  registrationEndpoint: z.string(),
  initialAccessToken: tokenSchema,
});

function statusOf(record: InitialAccessTokenRecord): z.infer<typeof tokenSchema>['status'] {
  if (record.revokedAt !== undefined) return 'revoked';
  if (record.expiresAt.getTime() <= Date.now()) return 'expired';
  return record.clientsRegistered >= record.maxClients ? 'exhausted' : 'active';
}

function viewOf(record: InitialAccessTokenRecord): z.infer<typeof tokenSchema> {
  return {
    id: record.id,
    description: record.description,
    profiles: [...record.profiles],
    scopes: [...record.scopes],
    redirectHosts: [...record.redirectHosts],
    allowPublicSubjects: record.allowPublicSubjects,
    agreementReference: record.agreementReference ?? null,
    maxClients: record.maxClients,
    clientsRegistered: record.clientsRegistered,
    status: statusOf(record),
    expiresAt: record.expiresAt.toISOString(),
    revokedAt: record.revokedAt?.toISOString() ?? null,
    revokedBy: record.revokedBy ?? null,
    issuedBy: record.issuedBy,
    issuedAt: record.issuedAt.toISOString(),
  };
}

export interface RegistrationRoutesDependencies {
  readonly registrations: Pick<DynamicRegistration, 'list' | 'revoke' | 'find'>;
  /** Issues a token through the provider in service (src/oidc/clients/dynamic-registration.ts). */
  readonly issue: (limits: RegistrationLimits, options: { expiresInSeconds: number; issuedBy: string }) => Promise<IssuedInitialAccessToken>;
  readonly audit: AuditLog;
  /** The provider's registration endpoint, for the registrant. */
  readonly registrationEndpoint: string;
}

export function registrationRoutes(deps: RegistrationRoutesDependencies): AdminRoute<never, never>[] {
  const { registrations, audit } = deps;

  const issue: AdminRoute<z.infer<typeof issueSchema>, never> = {
    method: 'POST',
    path: '/api/registration-tokens',
    operationId: 'issueInitialAccessToken',
    summary: 'Issue an initial access token for dynamic client registration',
    description:
      'A ministry registers its own clients (RFC 7591) with the token, within its limits: profiles, scopes, the hosts of every registered URI, how many clients, until when. Self-registered subjects are pairwise unless `allowPublicSubjects`. The token is in this response only.',
    tag: 'Dynamic registration',
    access: { roles: ['client_admin'], scope: 'admin:clients' },
    body: issueSchema,
    responses: { 201: { description: 'Issued', schema: issuedSchema } },
    async handle({ principal, body }) {
      const { expiresInSeconds, ...rest } = body;
      const limits: RegistrationLimits = {
        description: rest.description,
        profiles: rest.profiles,
        scopes: rest.scopes,
        redirectHosts: rest.redirectHosts.map((host) => host.toLowerCase()),
        allowPublicSubjects: rest.allowPublicSubjects,
        ...(rest.agreementReference !== undefined && { agreementReference: rest.agreementReference }),
        maxClients: rest.maxClients,
      };
      let issued: IssuedInitialAccessToken;
      try {
        issued = await deps.issue(limits, { expiresInSeconds, issuedBy: principal.actor });
      } catch (error) {
        if (error instanceof InvalidRegistrationLimits) throw new AdminProblem(400, 'invalid_request', error.message);
        throw error;
      }
      const view = viewOf(issued.record);
      await audit.record({
        type: 'admin.action',
        actor: principal.actor,
        data: {
          action: 'registration_token.issued',
          initialAccessToken: view.id,
          profiles: view.profiles,
          scopes: view.scopes,
          redirectHosts: view.redirectHosts,
          allowPublicSubjects: view.allowPublicSubjects,
          maxClients: view.maxClients,
          expiresAt: view.expiresAt,
        },
      });
      return { status: 201, body: { token: issued.token, registrationEndpoint: deps.registrationEndpoint, initialAccessToken: view } };
    },
  };

  const list: AdminRoute<never, never> = {
    method: 'GET',
    path: '/api/registration-tokens',
    operationId: 'listInitialAccessTokens',
    summary: 'List initial access tokens with their limits and how many clients each registered',
    description: 'Newest first (at most 200). The tokens themselves are never shown again.',
    tag: 'Dynamic registration',
    access: { roles: ['client_admin', 'auditor'], scope: 'admin:clients' },
    responses: { 200: { description: 'The tokens', schema: z.object({ initialAccessTokens: z.array(tokenSchema) }) } },
    async handle() {
      return { status: 200, body: { initialAccessTokens: (await registrations.list()).map(viewOf) } };
    },
  };

  const revoke: AdminRoute<never, never> = {
    method: 'POST',
    path: '/api/registration-tokens/{tokenId}/revoke',
    operationId: 'revokeInitialAccessToken',
    summary: 'Revoke an initial access token',
    description:
      'At once: the token registers no more clients (invalid_token). The clients it registered stay, each managed with its own registration access token; suspend or delete them as any client.',
    tag: 'Dynamic registration',
    access: { roles: ['client_admin'], scope: 'admin:clients' },
    responses: { 200: { description: 'Revoked', schema: tokenSchema } },
    async handle({ principal, params }) {
      const tokenId = params.tokenId!;
      const revoked = await registrations.revoke(tokenId, principal.actor);
      if (!revoked) {
        if (await registrations.find(tokenId)) throw new AdminProblem(409, 'conflict', `initial access token ${tokenId} is already revoked`);
        throw notFound('initial access token');
      }
      await audit.record({ type: 'admin.action', actor: principal.actor, data: { action: 'registration_token.revoked', initialAccessToken: tokenId } });
      return { status: 200, body: viewOf(revoked) };
    },
  };

  return [issue, list, revoke] as unknown as AdminRoute<never, never>[];
}
