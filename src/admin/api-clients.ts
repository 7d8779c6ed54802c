// The admin API's relying-party endpoints: create, read, list (search and paging), replace, suspend,
// resume, delete, rotate the secret. Every profile rule is the repository's own (buildClientMetadata,
// the same checks `clients add` runs); this file only shapes the JSON and decides what waits for a
// second administrator: newly approved sensitive scopes (four eyes, src/admin/approvals.ts).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/database.ts';
import { CHIP_VERIFICATION_SCOPE, CLIENT_PROFILES, PROFILE_RULES } from '../oidc/clients/client-profiles.ts';
import { InvalidClientRegistration, type ClientRecord, type ClientRegistration, type ClientRepository } from '../oidc/clients/clients.ts';
import { ENCRYPTION_ALGORITHMS, TLS_SUBJECT_KINDS } from '../oidc/clients/client-keys.ts';
import { resourceConflictOf } from '../oidc/clients/resource-servers.ts';
import { initialAccessTokenOf } from '../oidc/clients/dynamic-registration.ts';
import { assertResourceScopesOffered } from './client-options.ts';
import { AdminProblem, notFound } from './problem.ts';
import type { AdminPrincipal, AdminRoute } from './route.ts';
import type { ApplyApproval, FourEyesApprovals } from './approvals.ts';
import { ADMIN_SCOPES, isAdminScope } from './auth-roles.ts';

/**
 * Scopes whose approval needs a second administrator: the most sensitive citizen data, and the admin
 * scopes (a service client holding one administers the provider).
 */
export const SENSITIVE_SCOPES: readonly string[] = ['ethnicity', 'national_id', ...ADMIN_SCOPES, CHIP_VERIFICATION_SCOPE];
export const CLIENT_SCOPES_APPROVAL = 'client.scopes';

/** The provider's own applications: registered by the code itself, never changed through the API. */
const FIRST_PARTY = new Set(['account-console', 'admin-console']);

const uri = z.string().min(1).max(2000);
const contact = z.strictObject({ name: z.string().trim().min(1).max(200), email: z.email().max(254) });

const registrationFields = {
  name: z.string().min(1).max(200).describe('Shown to citizens on the consent page.'),
  profile: z.enum(CLIENT_PROFILES).describe('Fixes how the client authenticates and what it may do (rules in the description above).'),
  approvedScopes: z.array(z.string().min(1).max(64)).max(50).default([]).describe('Scopes the client may ask for. Newly added sensitive scopes wait for a second administrator.'),
  redirectUris: z.array(uri).max(50).optional(),
  postLogoutRedirectUris: z.array(uri).max(50).optional(),
  tokenEndpointAuthMethod: z.string().max(64).optional().describe("Default: the profile's first method."),
  subjectType: z.enum(['pairwise', 'public']).optional().describe('Pairwise unless given (service clients are public).'),
  backchannelLogoutUri: uri.optional(),
  backchannelLogoutSessionRequired: z.boolean().optional(),
  sectorIdentifierUri: uri.optional().describe('Fetched now; must list every redirect URI.'),
  settings: z
    .strictObject({
      idTokenSignedResponseAlg: z.string().max(16).optional(),
      userinfoSignedResponseAlg: z.string().max(16).optional(),
      accessTokenTtl: z.number().int().optional(),
      idTokenTtl: z.number().int().optional(),
      refreshTokenTtl: z.number().int().optional(),
      resourceServer: z
        .strictObject({
          resources: z.array(uri).max(20),
          scopes: z.array(z.string().max(64)).max(50).optional(),
          accessTokenFormat: z.string().max(16).optional(),
          accessTokenTtl: z.number().int().optional(),
        })
        .optional(),
    })
    .optional(),
  ciba: z
    .union([z.literal(false), z.strictObject({ deliveryMode: z.enum(['poll', 'ping']), notificationEndpoint: uri.optional() })])
    .optional()
    .describe('Bank clients: poll by default when possible; false turns CIBA off.'),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(10) }).optional().describe('Inline public keys (private_key_jwt, x5c, encryption).'),
  jwksUri: uri.optional().describe('Or where the client publishes them (https).'),
  tlsClientAuthSubject: z.strictObject({ kind: z.enum(TLS_SUBJECT_KINDS), value: z.string().min(1).max(500) }).optional(),
  senderConstraint: z.enum(['dpop', 'mtls']).optional(),
  idTokenEncryptedResponseAlg: z.enum(ENCRYPTION_ALGORITHMS).optional(),
  userinfoEncryptedResponseAlg: z.enum(ENCRYPTION_ALGORITHMS).optional(),
  authorizationSignedResponseAlg: z.string().max(16).optional(),
  contacts: z.array(contact).min(1).max(10).describe('Who answers for the client (at least one).'),
  agreementReference: z.string().trim().min(1).max(200).describe('The data-sharing agreement the client uses citizens’ data under.'),
};

export const clientCreateSchema = z.strictObject({ clientId: z.string().min(1).max(64), ...registrationFields });
export const clientUpdateSchema = z.strictObject(registrationFields);
type ClientInput = z.infer<typeof clientUpdateSchema>;

const clientSchema = z.object({
  clientId: z.string(),
  name: z.string(),
  profile: z.enum(CLIENT_PROFILES),
  status: z.enum(['active', 'suspended']),
  approvedScopes: z.array(z.string()),
  pendingScopes: z.array(z.string()).describe('Sensitive scopes asked for, waiting for a second administrator.'),
  contacts: z.array(z.object({ name: z.string(), email: z.string() })),
  agreementReference: z.string().nullable(),
  initialAccessToken: z.string().nullable().describe('Set when the client registered itself (RFC 7591): the initial access token it used.'),
  hasSecret: z.boolean(),
  previousSecretValidUntil: z.string().nullable().optional().describe('After a rotation: until when the previous secret is still accepted.'),
  metadata: z.record(z.string(), z.unknown()).describe('The OpenID Connect client metadata the provider uses.'),
  createdAt: z.string(),
});
const pendingApprovalSchema = z.object({ id: z.string(), scopes: z.array(z.string()) }).nullable();
const createdSchema = z.object({
  client: clientSchema,
  secret: z.string().optional().describe('client_secret_basic only; shown this once and never again.'),
  pendingApproval: pendingApprovalSchema,
});

export const listQuerySchema = z.strictObject({
  search: z.string().max(100).optional().describe('Substring of the client id or name (case-insensitive).'),
  status: z.enum(['active', 'suspended']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(64).optional().describe("The previous page's `next`."),
});

export interface ClientRoutesDependencies {
  readonly db: Database;
  readonly clients: ClientRepository;
  readonly approvals: FourEyesApprovals;
  readonly audit: AuditLog;
  readonly secretRotationOverlapSeconds: number;
}

const newSecret = () => randomBytes(32).toString('base64url');

function registrationOf(
  clientId: string,
  input: ClientInput,
  approvedScopes: readonly string[],
  secret: string | undefined,
  initialAccessToken?: string,
): ClientRegistration {
  return {
    clientId,
    name: input.name,
    profile: input.profile,
    approvedScopes,
    ...(input.redirectUris !== undefined && { redirectUris: input.redirectUris }),
    ...(input.postLogoutRedirectUris !== undefined && { postLogoutRedirectUris: input.postLogoutRedirectUris }),
    ...(input.tokenEndpointAuthMethod !== undefined && { tokenEndpointAuthMethod: input.tokenEndpointAuthMethod }),
    ...(input.subjectType !== undefined && { subjectType: input.subjectType }),
    ...(input.backchannelLogoutUri !== undefined && { backchannelLogoutUri: input.backchannelLogoutUri }),
    ...(input.backchannelLogoutSessionRequired !== undefined && { backchannelLogoutSessionRequired: input.backchannelLogoutSessionRequired }),
    ...(input.sectorIdentifierUri !== undefined && { sectorIdentifierUri: input.sectorIdentifierUri }),
    ...(input.settings !== undefined && { settings: input.settings }),
    ...(input.ciba !== undefined && { ciba: input.ciba }),
    ...(input.jwks !== undefined && { jwks: input.jwks }),
    ...(input.jwksUri !== undefined && { jwksUri: input.jwksUri }),
    ...(input.tlsClientAuthSubject !== undefined && { tlsClientAuthSubject: input.tlsClientAuthSubject }),
    ...(input.senderConstraint !== undefined && { senderConstraint: input.senderConstraint }),
    ...(input.idTokenEncryptedResponseAlg !== undefined && { idTokenEncryptedResponseAlg: input.idTokenEncryptedResponseAlg }),
    ...(input.userinfoEncryptedResponseAlg !== undefined && { userinfoEncryptedResponseAlg: input.userinfoEncryptedResponseAlg }),
    ...(input.authorizationSignedResponseAlg !== undefined && { authorizationSignedResponseAlg: input.authorizationSignedResponseAlg }),
    ...(secret !== undefined && { secret }),
    // A self-registered client stays marked with its initial access token through an administrator's edits.
    administration: { contacts: input.contacts, agreementReference: input.agreementReference, ...(initialAccessToken !== undefined && { initialAccessToken }) },
  };
}

function viewOf(record: ClientRecord, pendingScopes: readonly string[], previousSecretValidUntil?: Date): z.infer<typeof clientSchema> {
  const { administration, ...metadata } = record.metadata as {
    administration?: { contacts?: { name: string; email: string }[]; agreementReference?: string; initialAccessToken?: string };
  } & Record<string, unknown>;
  return {
    clientId: record.clientId,
    name: record.name,
    profile: record.profile,
    status: record.status,
    approvedScopes: [...record.approvedScopes],
    pendingScopes: [...pendingScopes],
    contacts: administration?.contacts ?? [],
    agreementReference: administration?.agreementReference ?? null,
    initialAccessToken: administration?.initialAccessToken ?? null,
    hasSecret: metadata.token_endpoint_auth_method === 'client_secret_basic',
    ...(previousSecretValidUntil !== undefined && { previousSecretValidUntil: previousSecretValidUntil.toISOString() }),
    metadata,
    createdAt: record.createdAt.toISOString(),
  };
}

/**
 * InvalidClientRegistration (and a resource already served elsewhere) become a 400 naming the field,
 * with one issue: the client metadata field, the message and the check's stable code (https_required…).
 */
function asProblem(error: unknown): never {
  const conflict = resourceConflictOf(error);
  if (conflict) throw new AdminProblem(400, 'invalid_registration', conflict.message);
  if (error instanceof InvalidClientRegistration) {
    throw new AdminProblem(400, 'invalid_registration', error.message, [{ path: error.field, message: error.message, code: error.code }]);
  }
  throw error;
}

function assertChangeable(clientId: string): void {
  if (FIRST_PARTY.has(clientId)) throw new AdminProblem(409, 'first_party', `${clientId} is the provider's own application and is managed by it`);
}

const clientIdParam = (params: Readonly<Record<string, string>>) => params.clientId!;

export function clientRoutes(deps: ClientRoutesDependencies): AdminRoute<never, never>[] {
  const { clients, approvals, audit } = deps;

  const pendingScopesOf = async (clientId: string): Promise<string[]> => {
    const { approvals: waiting } = await approvals.pending({ kind: CLIENT_SCOPES_APPROVAL, subject: clientId, limit: 10 });
    return [...new Set(waiting.flatMap((approval) => (approval.change.add as string[] | undefined) ?? []))];
  };

  /**
   * Validates the whole registration (sensitive scopes included, so a scope the profile cannot have
   * is refused now, not at approval), then checks that resource scopes are offered by a resource server.
   */
  const checkAll = async (registration: ClientRegistration): Promise<void> => {
    try {
      clients.check(registration);
      await assertResourceScopesOffered(deps.db, registration.approvedScopes.filter((scope) => !isAdminScope(scope)));
    } catch (error) {
      asProblem(error);
    }
  };

  /** Sensitive scopes not yet approved wait for a second administrator; the rest apply now. */
  const split = (requested: readonly string[], current: readonly string[]) => {
    const unique = [...new Set(requested)];
    const waiting = unique.filter((scope) => SENSITIVE_SCOPES.includes(scope) && !current.includes(scope));
    return { now: unique.filter((scope) => !waiting.includes(scope)), waiting };
  };

  const requestScopes = async (clientId: string, scopes: string[], principal: AdminPrincipal) => {
    if (scopes.length === 0) return null;
    const approval = await approvals.request({ kind: CLIENT_SCOPES_APPROVAL, subject: clientId, change: { add: scopes }, requestedBy: principal.actor });
    await audit.record({ type: 'admin.action', actor: principal.actor, clientId, data: { action: 'client.scopes_requested', approval: approval.id, scopes } });
    return { id: approval.id, scopes };
  };

  const secretFor = async (clientId: string, input: ClientInput, keep: boolean): Promise<{ secret?: string; generated: boolean }> => {
    const authMethod = input.tokenEndpointAuthMethod ?? PROFILE_RULES[input.profile].authMethods[0]!;
    if (authMethod !== 'client_secret_basic') return { generated: false };
    const existing = keep ? await clients.openSecret(clientId) : undefined;
    return existing ? { secret: existing, generated: false } : { secret: newSecret(), generated: true };
  };

  const create: AdminRoute<z.infer<typeof clientCreateSchema>, never> = {
    method: 'POST',
    path: '/api/clients',
    operationId: 'createClient',
    summary: 'Register a relying party',
    description: 'The secret (client_secret_basic) is generated here and shown in this response only. Sensitive scopes are registered pending a second administrator.',
    tag: 'Relying parties',
    access: { roles: ['client_admin'], scope: 'admin:clients' },
    body: clientCreateSchema,
    responses: { 201: { description: 'Registered', schema: createdSchema } },
    async handle({ principal, body }) {
      const { clientId, ...input } = body;
      assertChangeable(clientId);
      const { now, waiting } = split(input.approvedScopes, []);
      const { secret, generated } = await secretFor(clientId, input, false);
      await checkAll(registrationOf(clientId, input, [...now, ...waiting], secret));
      const record = await clients.create(registrationOf(clientId, input, now, secret)).catch(asProblem);
      if (!record) throw new AdminProblem(409, 'conflict', `a client "${clientId}" already exists`);
      await audit.record({
        type: 'admin.action',
        actor: principal.actor,
        clientId,
        data: { action: 'client.created', profile: record.profile, approvedScopes: record.approvedScopes, redirectUris: input.redirectUris ?? [] },
      });
      const pendingApproval = await requestScopes(clientId, waiting, principal);
      return {
        status: 201,
        body: { client: viewOf(record, waiting), ...(generated && { secret }), pendingApproval },
      };
    },
  };

  const list: AdminRoute<never, z.infer<typeof listQuerySchema>> = {
    method: 'GET',
    path: '/api/clients',
    operationId: 'listClients',
    summary: 'List relying parties, one page at a time',
    description: 'In client id order; `next` is the cursor of the following page (absent on the last).',
    tag: 'Relying parties',
    access: { roles: ['client_admin', 'support_officer', 'auditor'], scope: 'admin:clients' },
    query: listQuerySchema,
    responses: { 200: { description: 'One page', schema: z.object({ clients: z.array(clientSchema.omit({ pendingScopes: true })), next: z.string().optional() }) } },
    async handle({ query }) {
      const page = await clients.page({
        limit: query.limit,
        ...(query.search !== undefined && { search: query.search }),
        ...(query.cursor !== undefined && { after: query.cursor }),
        ...(query.status !== undefined && { status: query.status }),
      });
      return {
        status: 200,
        body: {
          // A list shows no pending requests (GET /api/clients/{clientId} and /api/approvals do).
          clients: page.clients.map((record) => {
            const view: Partial<ReturnType<typeof viewOf>> = viewOf(record, []);
            delete view.pendingScopes;
            return view;
          }),
          ...(page.next !== undefined && { next: page.next }),
        },
      };
    },
  };

  const read: AdminRoute<never, never> = {
    method: 'GET',
    path: '/api/clients/{clientId}',
    operationId: 'getClient',
    summary: 'Read a relying party (never its secret)',
    tag: 'Relying parties',
    access: { roles: ['client_admin', 'support_officer', 'auditor'], scope: 'admin:clients' },
    responses: { 200: { description: 'The client', schema: clientSchema } },
    async handle({ params }) {
      const clientId = clientIdParam(params);
      const record = await clients.find(clientId);
      if (!record) throw notFound('client');
      return { status: 200, body: viewOf(record, await pendingScopesOf(clientId), await clients.retiredSecretExpiry(clientId)) };
    },
  };

  const replace: AdminRoute<ClientInput, never> = {
    method: 'PUT',
    path: '/api/clients/{clientId}',
    operationId: 'updateClient',
    summary: 'Replace a relying party’s registration',
    description:
      'The whole registration, as at creation (without clientId). The status and the secret stay; a client that newly needs a secret gets one, shown in this response only. Sensitive scopes not approved before wait for a second administrator; a newer update supersedes a request still pending.',
    tag: 'Relying parties',
    access: { roles: ['client_admin'], scope: 'admin:clients' },
    body: clientUpdateSchema,
    responses: { 200: { description: 'Updated', schema: createdSchema } },
    async handle({ principal, params, body }) {
      const clientId = clientIdParam(params);
      assertChangeable(clientId);
      const existing = await clients.find(clientId);
      if (!existing) throw notFound('client');
      const { now, waiting } = split(body.approvedScopes, existing.approvedScopes);
      const { secret, generated } = await secretFor(clientId, body, true);
      const marker = initialAccessTokenOf(existing);
      await checkAll(registrationOf(clientId, body, [...now, ...waiting], secret, marker));
      const record = await clients.update(registrationOf(clientId, body, now, secret, marker)).catch(asProblem);
      if (!record) throw notFound('client');
      await audit.record({
        type: 'admin.action',
        actor: principal.actor,
        clientId,
        data: {
          action: 'client.updated',
          profile: record.profile,
          approvedScopes: record.approvedScopes,
          redirectUris: body.redirectUris ?? [],
          ...(generated && { secretIssued: true }),
        },
      });
      // The update states the whole wanted registration: an older pending request no longer stands.
      const pendingApproval = waiting.length > 0 ? await requestScopes(clientId, waiting, principal) : null;
      if (waiting.length === 0) await approvals.supersede(CLIENT_SCOPES_APPROVAL, clientId);
      return { status: 200, body: { client: viewOf(record, waiting), ...(generated && { secret }), pendingApproval } };
    },
  };

  const setStatus = (status: 'active' | 'suspended'): AdminRoute<never, never> => ({
    method: 'POST',
    path: status === 'suspended' ? '/api/clients/{clientId}/suspend' : '/api/clients/{clientId}/resume',
    operationId: status === 'suspended' ? 'suspendClient' : 'resumeClient',
    summary: status === 'suspended' ? 'Suspend a relying party' : 'Resume a suspended relying party',
    description:
      status === 'suspended'
        ? 'At once and on every instance: the client can start no flow, authenticate nowhere, and its tokens introspect as active: false.'
        : 'Its unexpired tokens and grants work again.',
    tag: 'Relying parties',
    access: { roles: ['client_admin'], scope: 'admin:clients' },
    responses: { 200: { description: 'The client', schema: clientSchema } },
    async handle({ principal, params }) {
      const clientId = clientIdParam(params);
      assertChangeable(clientId);
      const record = await clients.setStatus(clientId, status);
      if (!record) throw notFound('client');
      await audit.record({ type: 'admin.action', actor: principal.actor, clientId, data: { action: status === 'suspended' ? 'client.suspended' : 'client.resumed' } });
      return { status: 200, body: viewOf(record, await pendingScopesOf(clientId)) };
    },
  });

  const remove: AdminRoute<never, never> = {
    method: 'DELETE',
    path: '/api/clients/{clientId}',
    operationId: 'deleteClient',
    summary: 'Delete a relying party',
    description: 'Its grants and tokens stop working: the client can no longer be loaded.',
    tag: 'Relying parties',
    access: { roles: ['client_admin'], scope: 'admin:clients' },
    responses: { 204: { description: 'Deleted' } },
    async handle({ principal, params }) {
      const clientId = clientIdParam(params);
      assertChangeable(clientId);
      if (!(await clients.remove(clientId))) throw notFound('client');
      await approvals.supersede(CLIENT_SCOPES_APPROVAL, clientId);
      await audit.record({ type: 'admin.action', actor: principal.actor, clientId, data: { action: 'client.removed' } });
      return { status: 204 };
    },
  };

  const rotate: AdminRoute<never, never> = {
    method: 'POST',
    path: '/api/clients/{clientId}/secret',
    operationId: 'rotateClientSecret',
    summary: 'Rotate a relying party’s secret',
    description: `A new secret, shown in this response only. The previous one is still accepted until \`previousSecretValidUntil\` (configuration \`admin.secretRotationOverlapSeconds\`, default 86400); a secret older than that goes at once.`,
    tag: 'Relying parties',
    access: { roles: ['client_admin'], scope: 'admin:clients' },
    responses: { 200: { description: 'Rotated', schema: z.object({ clientId: z.string(), secret: z.string(), previousSecretValidUntil: z.string() }) } },
    async handle({ principal, params }) {
      const clientId = clientIdParam(params);
      assertChangeable(clientId);
      const existing = await clients.find(clientId);
      if (!existing) throw notFound('client');
      const secret = newSecret();
      const record = await clients.rotateSecret(clientId, secret, deps.secretRotationOverlapSeconds);
      if (!record) throw new AdminProblem(409, 'no_secret', `client ${clientId} authenticates without a secret`);
      const until = (await clients.retiredSecretExpiry(clientId)) ?? new Date();
      await audit.record({
        type: 'admin.action',
        actor: principal.actor,
        clientId,
        data: { action: 'client.secret_rotated', previousSecretValidUntil: until.toISOString() },
      });
      return { status: 200, body: { clientId, secret, previousSecretValidUntil: until.toISOString() } };
    },
  };

  return [create, list, read, replace, setStatus('suspended'), setStatus('active'), remove, rotate] as unknown as AdminRoute<never, never>[];
}

/**
 * Applies an approved `client.scopes` request: the scopes join the client's approved ones, checked
 * again against its profile as it is now (an admin scope only for a service client).
 */
export const applyClientScopes: ApplyApproval = async (approval, trx) => {
  const scopes = (approval.change.add as unknown[]).filter((scope): scope is string => typeof scope === 'string');
  const row = await trx('clients')
    .where({ client_id: approval.subject })
    .forUpdate()
    .first<{ profile: string; approved_scopes: string[] } | undefined>('profile', 'approved_scopes');
  if (!row) throw new AdminProblem(409, 'conflict', `client ${approval.subject} no longer exists`);
  if (row.profile !== 'service' && scopes.some(isAdminScope)) throw new AdminProblem(409, 'conflict', 'admin scopes are for service clients only');
  if (row.profile !== 'bank' && scopes.includes(CHIP_VERIFICATION_SCOPE)) throw new AdminProblem(409, 'conflict', 'chip_verification is for bank clients only');
  await trx('clients')
    .where({ client_id: approval.subject })
    .update({ approved_scopes: [...new Set([...row.approved_scopes, ...scopes])], updated_at: trx.fn.now() });
};
