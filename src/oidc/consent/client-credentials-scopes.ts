// A client_credentials token carries only the scopes its client is approved for, as every other grant
// does: the rest of what was asked for is dropped, not refused (docs/design.md), and the token
// response's `scope` says what was granted.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { approvedScopesOf } from './interaction-policy.ts';

type OIDCContext = KoaContextWithOIDC['oidc'];

/**
 * oidc-provider's client_credentials grant takes `requestParamScopes` as asked (it checks only the
 * client's `scope` metadata, which we leave unset: that would refuse, not drop). Its maintainer's advice
 * for per-client scopes is to overload that getter of the provider's own OIDCContext
 * (panva/node-oidc-provider#376); resource-server and admin tokens are filtered again per resource.
 */
export function grantOnlyApprovedClientScopes(provider: Provider): void {
  const { prototype } = provider.OIDCContext;
  const asked = Object.getOwnPropertyDescriptor(prototype, 'requestParamScopes')!;
  Object.defineProperty(prototype, 'requestParamScopes', {
    configurable: true,
    get(this: OIDCContext): Set<string> {
      const scopes = asked.get!.call(this) as Set<string>;
      if (this.route !== 'token' || this.params?.grant_type !== 'client_credentials') return scopes;
      const approved = approvedScopesOf(this.client);
      return new Set([...scopes].filter((scope) => approved.has(scope)));
    },
  });
}
