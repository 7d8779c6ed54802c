// Bearer tokens for the admin API: client_credentials tokens this provider issues for the resource
// indicator ADMIN_API_RESOURCE (RFC 8707), carrying the admin scopes the service client is approved
// for, and looked up in the provider's own store when presented — so automation needs no other
// credential, and a token for the admin API is good nowhere else (nor any other token here).
import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { approvedScopesOf } from './consent/interaction-policy.ts';

/** The admin API's resource indicator: ask for `resource=urn:vn:eid:admin-api` at the token endpoint. */
export const ADMIN_API_RESOURCE = 'urn:vn:eid:admin-api';

type ResourceIndicatorsFeature = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

/**
 * The resource indicators feature, with the admin API as one more resource server: its tokens are
 * opaque (looked up, so revocation and suspension count at once) and carry only admin scopes the
 * client is approved for.
 */
export function withAdminApiResource(feature: ResourceIndicatorsFeature, adminScopes: readonly string[]): ResourceIndicatorsFeature {
  const delegate = feature.getResourceServerInfo!;
  return {
    ...feature,
    getResourceServerInfo: (ctx: KoaContextWithOIDC, indicator: string, client) => {
      if (indicator !== ADMIN_API_RESOURCE) return delegate(ctx, indicator, client);
      const approved = approvedScopesOf(client);
      return {
        audience: ADMIN_API_RESOURCE,
        scope: adminScopes.filter((scope) => approved.has(scope)).join(' '),
        accessTokenFormat: 'opaque',
      };
    },
  };
}

export interface ServiceToken {
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  /** Bound to a DPoP key or a TLS certificate: the admin API cannot check the proof, so it refuses them. */
  readonly senderConstrained: boolean;
}

/** An unexpired client_credentials token for the admin API, by its value; undefined for anything else. */
export async function findServiceToken(provider: Provider, value: string): Promise<ServiceToken | undefined> {
  if (value.length < 16 || value.length > 512) return undefined;
  const token = await provider.ClientCredentials.find(value).catch(() => undefined);
  if (!token || typeof token.clientId !== 'string') return undefined;
  const { aud, jkt, 'x5t#S256': x5t } = token as unknown as { aud?: unknown; jkt?: unknown; 'x5t#S256'?: unknown };
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(ADMIN_API_RESOURCE)) return undefined;
  return {
    clientId: token.clientId,
    scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)),
    senderConstrained: jkt !== undefined || x5t !== undefined,
  };
}
