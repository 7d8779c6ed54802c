// Resource servers (RFC 8707): a service client registered for one or more resource indicators. Access
// tokens addressed to it are JWTs (RFC 9068) it checks against the provider's JWKS, or, when it was
// registered so, opaque tokens it introspects with its own credentials (RFC 7662). Which scopes it
// offers is its registration; which of them a client gets, the client's approved scopes.
import { errors, type Configuration, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { Database } from '../../storage/database.ts';
import { KNOWN_SCOPES } from './client-profiles.ts';
import { InvalidClientRegistration } from './invalid-client-registration.ts';
import { approvedScopesOf } from '../consent/interaction-policy.ts';

export const ACCESS_TOKEN_FORMATS = ['jwt', 'opaque'] as const;
export type AccessTokenFormat = (typeof ACCESS_TOKEN_FORMATS)[number];

/** What an administrator registers (the `--resource…` options of `clients add`). */
export interface ResourceServerSettings {
  /** Absolute https URIs (http on loopback outside production), no query, no fragment. */
  readonly resources: readonly string[];
  /** Scopes it offers, written `prefix:name` (e.g. `tax:read`), so they never pass for OpenID scopes. */
  readonly scopes?: readonly string[];
  /** `jwt` unless the resource server would rather introspect every token (immediate revocation). */
  readonly accessTokenFormat?: string;
  /** Seconds; shortens the access tokens addressed to it. */
  readonly accessTokenTtl?: number;
}

/** As kept in the client's metadata (`resource_server`). */
interface StoredResourceServer {
  readonly resources: readonly string[];
  readonly scopes: readonly string[];
  readonly access_token_format: AccessTokenFormat;
  readonly access_token_ttl?: number;
}

export interface RegisteredResourceServer {
  readonly clientId: string;
  /** The indicator as registered (canonical URL form); the `aud` of its tokens. */
  readonly resource: string;
  readonly scopes: readonly string[];
  readonly accessTokenFormat: AccessTokenFormat;
  readonly accessTokenTtl: number | undefined;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const MAX_RESOURCES = 20;
const MAX_SCOPES = 50;
const RESOURCE_SCOPE = /^[a-z0-9][a-z0-9_.-]*(?::[a-z0-9_.-]+)+$/;

/** A scope a resource server may offer: `prefix:name`, lower case, never one of the OpenID scopes. */
export function isResourceScope(scope: string): boolean {
  return scope.length <= 64 && RESOURCE_SCOPE.test(scope) && !(KNOWN_SCOPES as readonly string[]).includes(scope);
}

/** The resource indicator in canonical URL form (what tokens carry as `aud`); throws when unfit. */
export function canonicalResource(uri: string, allowLoopback: boolean): string {
  const field = 'resource';
  const parsed = URL.parse(uri);
  if (!parsed || uri.length > 255) throw new InvalidClientRegistration(`${field}: "${uri}" is not an absolute URI (at most 255 characters)`);
  if (uri.includes('#')) throw new InvalidClientRegistration(`${field}: "${uri}" must not have a fragment (RFC 8707)`);
  if (parsed.search) throw new InvalidClientRegistration(`${field}: "${uri}" must not have a query (RFC 8707)`);
  if (parsed.username || parsed.password) throw new InvalidClientRegistration(`${field}: "${uri}" must not carry a user name or password`);
  const loopback = LOOPBACK_HOSTS.includes(parsed.hostname);
  if (parsed.protocol === 'https:') return parsed.href;
  if (parsed.protocol === 'http:' && loopback) {
    if (allowLoopback) return parsed.href;
    throw new InvalidClientRegistration(`${field}: "${uri}" is http on loopback, allowed only outside production`);
  }
  throw new InvalidClientRegistration(`${field}: "${uri}" must use https${allowLoopback ? ' (http only on loopback)' : ''}`);
}

/** Checks a resource-server registration; returns what the metadata keeps. (client-settings.ts checks its lifetime.) */
export function resourceServerMetadata(settings: ResourceServerSettings, rules: { allowLoopback: boolean }): StoredResourceServer {
  if (settings.resources.length === 0) throw new InvalidClientRegistration('resource: at least one resource indicator');
  if (settings.resources.length > MAX_RESOURCES) throw new InvalidClientRegistration(`resource: at most ${MAX_RESOURCES} per resource server`);
  const resources = [...new Set(settings.resources.map((uri) => canonicalResource(uri, rules.allowLoopback)))];
  const scopes = [...new Set(settings.scopes ?? [])];
  if (scopes.length > MAX_SCOPES) throw new InvalidClientRegistration(`resource scopes: at most ${MAX_SCOPES}`);
  for (const scope of scopes) {
    if (!isResourceScope(scope)) {
      throw new InvalidClientRegistration(`resource scopes: "${scope}" must read prefix:name (a-z, 0-9, "_", "-", "."), and not be an OpenID scope`);
    }
  }
  const format = settings.accessTokenFormat ?? 'jwt';
  if (!(ACCESS_TOKEN_FORMATS as readonly string[]).includes(format)) {
    throw new InvalidClientRegistration(`resource token format: jwt or opaque, got "${format}"`);
  }
  const ttl = settings.accessTokenTtl;
  return { resources, scopes, access_token_format: format as AccessTokenFormat, ...(ttl !== undefined && { access_token_ttl: ttl }) };
}

/** The refusal of a resource indicator another client already serves (raised by the database). */
export function resourceConflictOf(error: unknown): InvalidClientRegistration | undefined {
  const { code, constraint, message } = (error ?? {}) as { code?: unknown; constraint?: unknown; message?: unknown };
  if (code !== '23505' || constraint !== 'resource_servers_pkey') return undefined;
  // The trigger's own words (knex puts the statement before them), else the bare key violation of a race.
  const explained = typeof message === 'string' ? /resource: "[^"]*" is already served by client "[^"]*"/.exec(message)?.[0] : undefined;
  return new InvalidClientRegistration(explained ?? 'resource: already served by another client');
}

interface ResourceServerRow {
  client_id: string;
  resource: string;
  settings: Partial<StoredResourceServer> | null;
}

/** The registered resource servers, read from PostgreSQL (migration 009 indexes their indicators). */
export class ResourceServerRegistry {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The active resource server registered for an indicator (compared in canonical URL form). */
  async find(indicator: string): Promise<RegisteredResourceServer | undefined> {
    const resource = URL.parse(indicator)?.href;
    if (!resource || resource.length > 255) return undefined;
    const row = await this.#db('resource_servers as r')
      .join('clients as c', 'c.client_id', 'r.client_id')
      .where({ 'r.resource': resource, 'c.status': 'active' })
      .first<ResourceServerRow | undefined>('r.client_id', 'r.resource', this.#db.raw("c.metadata->'resource_server' AS settings"));
    if (!row?.settings) return undefined;
    const format = row.settings.access_token_format;
    const ttl = row.settings.access_token_ttl;
    return {
      clientId: row.client_id,
      resource: row.resource,
      scopes: Array.isArray(row.settings.scopes) ? row.settings.scopes.filter((scope) => typeof scope === 'string') : [],
      accessTokenFormat: format === 'opaque' ? 'opaque' : 'jwt',
      accessTokenTtl: typeof ttl === 'number' && Number.isSafeInteger(ttl) && ttl > 0 ? ttl : undefined,
    };
  }

  /** Of these scopes, those that no registered resource server offers. */
  async unoffered(scopes: readonly string[]): Promise<string[]> {
    if (scopes.length === 0) return [];
    const rows = await this.#db('clients')
      .whereRaw("metadata \\? 'resource_server'")
      .select<{ scope: string }[]>(this.#db.raw("jsonb_array_elements_text(metadata->'resource_server'->'scopes') AS scope"));
    const offered = new Set(rows.map((row) => row.scope));
    return scopes.filter((scope) => !offered.has(scope));
  }
}

type ResourceIndicatorsFeature = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;
type IntrospectionPolicy = NonNullable<NonNullable<NonNullable<Configuration['features']>['introspection']>['allowedPolicy']>;
type RevocationPolicy = NonNullable<NonNullable<NonNullable<Configuration['features']>['revocation']>['allowedPolicy']>;

/**
 * RFC 8707 over our registry. An unknown indicator is `invalid_target`. A token for a resource server
 * carries the scopes it offers that the client is approved for; others are dropped, not refused.
 */
export function resourceIndicatorsFeature(registry: ResourceServerRegistry): ResourceIndicatorsFeature {
  return {
    enabled: true,
    // No resource asked for: no resource (an OpenID token for userinfo). Several granted and none
    // chosen at the token endpoint: left unresolved, so the client is told to pick one (invalid_target).
    defaultResource: (_ctx, _client, oneOf) => oneOf,
    // An OpenID Connect code or refresh token exchanged without `resource` yields the userinfo token,
    // as OpenID libraries expect; the resource server's token is asked for by naming it. (Without
    // `openid`, oidc-provider uses the one granted resource anyway.)
    useGrantedResource: () => false,
    getResourceServerInfo: async (_ctx: KoaContextWithOIDC, indicator: string, client): Promise<ResourceServer> => {
      const server = await registry.find(indicator);
      if (!server) throw new errors.InvalidTarget('the resource indicator is not a registered resource server');
      const approved = approvedScopesOf(client);
      return {
        audience: server.resource,
        scope: server.scopes.filter((scope) => approved.has(scope)).join(' '),
        accessTokenFormat: server.accessTokenFormat,
        ...(server.accessTokenTtl !== undefined && { accessTokenTTL: server.accessTokenTtl }),
        ...(server.accessTokenFormat === 'jwt' && { jwt: { sign: { alg: 'ES256' } } }),
      };
    },
  };
}

/**
 * Introspection answers for a token its own client asks about, or the resource server it is addressed
 * to. Anything else — another audience, no audience, a token whose client is suspended or removed —
 * is `active: false`. (Checking the client here also spares oidc-provider loading a client that is gone,
 * which it does not expect to fail.)
 */
export function introspectionAllowedPolicy(registry: ResourceServerRegistry): IntrospectionPolicy {
  return async (ctx, client, token) => {
    const owner = 'clientId' in token && typeof token.clientId === 'string' ? token.clientId : undefined;
    if (owner === undefined) return false;
    if (owner === client.clientId) return true;
    const audience = (token as { aud?: unknown }).aud;
    if (typeof audience !== 'string') return false;
    const server = await registry.find(audience);
    if (server?.clientId !== client.clientId) return false;
    return (await ctx.oidc.provider.Client.find(owner)) !== undefined;
  };
}

/**
 * Only a token's own client revokes it (RFC 7009 2.1), a resource server included: another confidential
 * client is told so (invalid_request); a public one learns nothing (as oidc-provider's default does).
 */
export const revocationAllowedPolicy: RevocationPolicy = (_ctx, client, token) => {
  if ('clientId' in token && token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none') return false;
  throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
};
