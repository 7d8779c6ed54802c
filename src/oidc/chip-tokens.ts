// Access tokens for chip verification (POST /chip/verifications, src/chip/routes.ts): a bank client's
// client_credentials token for the resource indicator CHIP_VERIFICATION_RESOURCE (RFC 8707) carrying
// the scope `chip_verification` when an administrator approved it for the bank (four eyes, like any
// sensitive scope). The bank profile requires DPoP-bound tokens, so the token names its key (jkt);
// the route checks the proof. Tokens are opaque and looked up, so suspension and revocation count at once.
import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { approvedScopesOf } from './consent/interaction-policy.ts';
import { CHIP_VERIFICATION_SCOPE } from './clients/client-profiles.ts';

export { CHIP_VERIFICATION_SCOPE };

/** The chip-verification API's resource indicator: ask for `resource=urn:vn:eid:chip-verification`. */
export const CHIP_VERIFICATION_RESOURCE = 'urn:vn:eid:chip-verification';

type ResourceIndicatorsFeature = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

const isBank = (client: object | undefined) => (client as { profile?: unknown } | undefined)?.profile === 'bank';

/** The resource indicators feature with the chip-verification API as one more resource: only banks get its scope. */
export function withChipVerificationResource(feature: ResourceIndicatorsFeature): ResourceIndicatorsFeature {
  const delegate = feature.getResourceServerInfo!;
  return {
    ...feature,
    getResourceServerInfo: (ctx: KoaContextWithOIDC, indicator: string, client) => {
      if (indicator !== CHIP_VERIFICATION_RESOURCE) return delegate(ctx, indicator, client);
      const approved = isBank(client) && approvedScopesOf(client).has(CHIP_VERIFICATION_SCOPE);
      return { audience: CHIP_VERIFICATION_RESOURCE, scope: approved ? CHIP_VERIFICATION_SCOPE : '', accessTokenFormat: 'opaque' };
    },
  };
}

export interface ChipToken {
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  /** The DPoP key's thumbprint the token is bound to (RFC 9449 cnf.jkt); undefined when not DPoP-bound. */
  readonly jkt: string | undefined;
}

/** An unexpired client_credentials token for the chip-verification API, by its value; undefined for anything else. */
export async function findChipToken(provider: Provider, value: string): Promise<ChipToken | undefined> {
  if (value.length < 16 || value.length > 512) return undefined;
  const token = await provider.ClientCredentials.find(value).catch(() => undefined);
  if (!token || typeof token.clientId !== 'string') return undefined;
  const { aud, jkt } = token as unknown as { aud?: unknown; jkt?: unknown };
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(CHIP_VERIFICATION_RESOURCE)) return undefined;
  return { clientId: token.clientId, scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)), jkt: typeof jkt === 'string' ? jkt : undefined };
}

/** The client as the chip API needs it now (active, its profile and approved scopes); undefined when gone or suspended. */
export async function chipClientOf(provider: Provider, clientId: string): Promise<{ profile: string; approvedScopes: ReadonlySet<string> } | undefined> {
  const client = await provider.Client.find(clientId).catch(() => undefined);
  if (!client) return undefined;
  const { profile } = client as unknown as { profile?: unknown };
  return { profile: typeof profile === 'string' ? profile : '', approvedScopes: approvedScopesOf(client) };
}
