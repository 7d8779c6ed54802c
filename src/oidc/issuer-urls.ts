// Every URL the provider publishes (discovery's endpoints, form actions, the audiences and DPoP `htu`
// it accepts) comes from the configured issuer, never from the request's Host or forwarded headers.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

type OIDCContext = KoaContextWithOIDC['oidc'];

/**
 * oidc-provider builds a request's URLs against `ctx.href`, so `Host: evil.example` came back in
 * `token_endpoint`. Its per-provider OIDCContext is given the provider's own `urlFor`, which resolves
 * against the issuer. (The provider is handed the raw request, never mounted: there is no mount path.)
 */
export function publishIssuerUrls(provider: Provider): void {
  Object.defineProperty(provider.OIDCContext.prototype, 'urlFor', {
    configurable: true,
    writable: true,
    value(this: OIDCContext, name: string, options?: Record<string, unknown>): string {
      return provider.urlFor(name, options);
    },
  });
}
