// Callers of the admin API for tests: an administrator's session (roles granted, the session made
// directly in the store, as the sign-in would leave it), a service client's client_credentials token
// with admin scopes, and a small fetch wrapper. test/admin/admin-api-auth.test.ts signs in for real.
import { randomBytes } from 'node:crypto';
import type { RunningServer } from './world.ts';
import { AdminRoles, type AdminRole } from '../../src/admin/auth-roles.ts';
import { ADMIN_SESSION_COOKIE, CSRF_HEADER } from '../../src/admin/auth.ts';
import { LOA_2 } from '../../src/oidc/consent/assurance.ts';
import { ADMIN_API_RESOURCE } from '../../src/oidc/admin-tokens.ts';

/** The demo citizens at level 2 (src/admin/demo-data.ts): enough for four eyes. */
export const FIRST_ADMIN = '001099012345';
export const SECOND_ADMIN = '048203000777';

/** How a test call authenticates: an administrator's session, a bearer token, or nothing. */
export type AdminCredentials =
  | { readonly kind: 'session'; readonly cookie: string; readonly csrf: string; readonly accountId: string }
  | { readonly kind: 'bearer'; readonly token: string; readonly clientId: string }
  | { readonly kind: 'none' };

export interface AdminAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** Grants `roles` to the account of `nationalId` (a level-2 account) and opens a session for it. */
export async function adminSession(world: RunningServer, nationalId: string, roles: readonly AdminRole[]): Promise<AdminCredentials & { kind: 'session' }> {
  const { container } = world.server;
  const grants = new AdminRoles(container.db);
  let accountId: string | undefined;
  for (const role of roles) accountId = (await grants.grant(nationalId, role, 'test')).accountId;
  accountId ??= await grants.accountIdOf(nationalId);
  if (!accountId) throw new Error(`no account ${nationalId}`);
  const now = Math.floor(Date.now() / 1000);
  const csrf = randomBytes(32).toString('base64url');
  const id = await container.admin.sessions.create({ accountId, acr: LOA_2, authTime: now, createdAt: now, csrf, idToken: 'test' });
  return { kind: 'session', cookie: `${ADMIN_SESSION_COOKIE}=${id}`, csrf, accountId };
}

/**
 * A service client approved for `scopes` (registered directly, as `clients add` would), and a
 * client_credentials token it got from the token endpoint asking for `requested` (default: `scopes`).
 */
export async function serviceToken(
  world: RunningServer,
  scopes: readonly string[],
  options: { clientId?: string; requested?: readonly string[] } = {},
): Promise<AdminCredentials & { kind: 'bearer'; secret: string }> {
  const clientId = options.clientId ?? `automation-${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(24).toString('base64url');
  await world.server.container.clients.create({ clientId, name: 'Automation', profile: 'service', approvedScopes: scopes, secret, tokenEndpointAuthMethod: 'client_secret_basic' });
  const token = await clientCredentialsToken(world, clientId, secret, options.requested ?? scopes);
  return { kind: 'bearer', token, clientId, secret };
}

/** A client_credentials access token from the token endpoint. */
export async function clientCredentialsToken(world: RunningServer, clientId: string, secret: string, scopes: readonly string[]): Promise<string> {
  const response = await fetch(`${world.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
    },
    // The admin API is a resource server of its own (RFC 8707): its tokens are asked for by name.
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' '), resource: ADMIN_API_RESOURCE }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`no token for ${clientId}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** One admin API call; JSON in and out. */
export async function adminCall<T = Record<string, unknown>>(
  world: RunningServer,
  credentials: AdminCredentials,
  method: string,
  path: string,
  body?: unknown,
  options: { csrf?: boolean } = {},
): Promise<AdminAnswer<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (credentials.kind === 'session') {
    headers.cookie = credentials.cookie;
    if (options.csrf !== false) headers[CSRF_HEADER] = credentials.csrf;
  }
  if (credentials.kind === 'bearer') headers.authorization = `Bearer ${credentials.token}`;
  const response = await fetch(`${world.adminUrl}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
}

/** The newest audit events of a type (and, if given, an actor), newest first. */
export async function auditEvents(world: RunningServer, type: string, actor?: string): Promise<{ actor: string; client_id: string | null; account_id: string | null; data: Record<string, unknown> }[]> {
  await world.server.container.audit.flush();
  let query = world.server.container.db('audit_events').where({ type }).orderBy('id', 'desc');
  if (actor !== undefined) query = query.where({ actor });
  return query.select('actor', 'client_id', 'account_id', 'data');
}
