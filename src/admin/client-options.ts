// The `clients add` options for a client's own settings (signing algorithms, lifetimes, resource
// server), read into a ClientSettings; the rules themselves are src/oidc/clients/client-settings.ts's.
import type { Database } from '../storage/database.ts';
import { InvalidClientRegistration } from '../oidc/clients/clients.ts';
import type { ClientSettings } from '../oidc/clients/client-settings.ts';
import { isAdminScope } from './auth-roles.ts';
import { isResourceScope, ResourceServerRegistry, type ResourceServerSettings } from '../oidc/clients/resource-servers.ts';

export const CLIENT_SETTINGS_OPTIONS = {
  'id-token-signed-alg': { type: 'string' },
  'userinfo-signed-alg': { type: 'string' },
  'access-token-ttl': { type: 'string' },
  'id-token-ttl': { type: 'string' },
  'refresh-token-ttl': { type: 'string' },
  resource: { type: 'string', multiple: true },
  'resource-scopes': { type: 'string' },
  'resource-token-format': { type: 'string' },
  'resource-token-ttl': { type: 'string' },
} as const;

export const CLIENT_SETTINGS_USAGE = `              [--id-token-signed-alg ES256|PS256|RS256|EdDSA] [--userinfo-signed-alg ALG]
              [--access-token-ttl S] [--id-token-ttl S] [--refresh-token-ttl S]
              [--resource URI]... [--resource-scopes "api:read api:write"]
              [--resource-token-format jwt|opaque] [--resource-token-ttl S]`;

type SettingsOptions = { [K in keyof typeof CLIENT_SETTINGS_OPTIONS]?: (typeof CLIENT_SETTINGS_OPTIONS)[K] extends { multiple: true } ? string[] : string };

function seconds(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(value)) throw new InvalidClientRegistration(`--${option}: a whole number of seconds, got "${value}"`);
  return Number(value);
}

/** The `settings` of a registration from the parsed options; `{}` when none was given. */
export function clientSettingsOf(options: SettingsOptions): { settings?: ClientSettings } {
  const resources = options.resource ?? [];
  const resourceOnly = (['resource-scopes', 'resource-token-format', 'resource-token-ttl'] as const).find((name) => options[name] !== undefined);
  if (resources.length === 0 && resourceOnly) throw new InvalidClientRegistration(`--${resourceOnly}: needs --resource`);
  const accessTokenTtl = seconds(options['access-token-ttl'], 'access-token-ttl');
  const idTokenTtl = seconds(options['id-token-ttl'], 'id-token-ttl');
  const refreshTokenTtl = seconds(options['refresh-token-ttl'], 'refresh-token-ttl');
  const resourceTokenTtl = seconds(options['resource-token-ttl'], 'resource-token-ttl');
  const resourceServer: ResourceServerSettings | undefined =
    resources.length === 0
      ? undefined
      : {
          resources,
          scopes: (options['resource-scopes'] ?? '').split(/[\s,]+/).filter(Boolean),
          ...(options['resource-token-format'] !== undefined && { accessTokenFormat: options['resource-token-format'] }),
          ...(resourceTokenTtl !== undefined && { accessTokenTtl: resourceTokenTtl }),
        };
  const settings: ClientSettings = {
    ...(options['id-token-signed-alg'] !== undefined && { idTokenSignedResponseAlg: options['id-token-signed-alg'] }),
    ...(options['userinfo-signed-alg'] !== undefined && { userinfoSignedResponseAlg: options['userinfo-signed-alg'] }),
    ...(accessTokenTtl !== undefined && { accessTokenTtl }),
    ...(idTokenTtl !== undefined && { idTokenTtl }),
    ...(refreshTokenTtl !== undefined && { refreshTokenTtl }),
    ...(resourceServer && { resourceServer }),
  };
  return Object.keys(settings).length > 0 ? { settings } : {};
}

/** Approved resource-server scopes must be offered by a registered resource server (register it first). */
export async function assertResourceScopesOffered(db: Database, approvedScopes: readonly string[]): Promise<void> {
  // Admin scopes (src/admin/auth-roles.ts) are the admin API's, not a resource server's.
  const unoffered = await new ResourceServerRegistry(db).unoffered(approvedScopes.filter((scope) => isResourceScope(scope) && !isAdminScope(scope)));
  if (unoffered.length > 0) {
    throw new InvalidClientRegistration(`approved scopes: no registered resource server offers ${unoffered.map((scope) => `"${scope}"`).join(', ')}`);
  }
}
