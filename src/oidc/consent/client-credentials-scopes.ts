// A client_credentials token carries only the scopes its client is approved for, as every other grant
// does: the rest of what was asked for is dropped, not refused (docs/design.md), and the token
// response's `scope` says what was granted — `""` when nothing was.
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
  // oidc-provider leaves `scope` out of the token response when the token has none; RFC 6749 §5.1 reads
  // an absent scope as "as requested", so a client whose every scope was dropped would think it had
  // them. The response says `""` then: granted, nothing.
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx as Partial<KoaContextWithOIDC>;
    if (oidc?.route !== 'token' || oidc.params?.grant_type !== 'client_credentials' || ctx.status !== 200) return;
    const body = ctx.body as { scope?: unknown } | undefined;
    const requested = oidc.params.scope;
    if (body && typeof body === 'object' && body.scope === undefined && typeof requested === 'string' && requested.trim() !== '') body.scope = '';
  });
}
