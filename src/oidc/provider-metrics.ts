// Instruments each provider built (src/container.ts wraps createProvider): names the route of every
// request it handles, so request metrics carry `token` or `authorization` rather than a path, and
// counts the tokens it issues by grant type and client profile.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Metrics } from '../observability/metrics.ts';
import { profileOf } from './provider.ts';

const GRANT_TYPES = new Set([
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:openid:params:grant-type:ciba',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
]);

export function instrumentProvider(provider: Provider, metrics: Metrics): Provider {
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      const route = (ctx as Partial<KoaContextWithOIDC>).oidc?.route;
      if (typeof route === 'string') metrics.nameRoute(ctx.req, route);
    }
  });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = ctx.oidc.params?.grant_type;
    metrics.tokenIssued(typeof grantType === 'string' && GRANT_TYPES.has(grantType) ? grantType : 'other', profileOf(ctx.oidc.client) ?? 'none');
  });
  return provider;
}
