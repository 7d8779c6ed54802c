// A registration access token (RFC 7592) is replaced on every use (issue 20): oidc-provider replaces it
// on an update (features.registrationManagement.rotateRegistrationAccessToken, src/oidc/clients/dynamic-registration.ts),
// and this replaces it on a read too, so a token copied from a client's logs or configuration works at
// most once after the client last used it. RFC 7592 §2.1: a read's response may carry a new token, and
// the client must then discard the old one. Tokens also expire (ttl.registrationAccessToken).
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** Installs the replacement on the provider's registration read (route `client`, GET). */
export function rotateRegistrationTokenOnRead(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (ctx.method !== 'GET' || oidc?.route !== 'client' || ctx.status !== 200) return;
    const used = oidc.entities.RegistrationAccessToken;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!used || !oidc.client || typeof body?.registration_access_token !== 'string') return;
    // The type declarations omit the constructor's properties (oidc-provider's own registration action passes these).
    const RegistrationAccessToken = provider.RegistrationAccessToken as unknown as new (properties: { client: unknown; policies: unknown }) => { save(): Promise<string> };
    const fresh = new RegistrationAccessToken({ client: oidc.client, policies: used.policies });
    await used.destroy();
    ctx.body = { ...body, registration_access_token: await fresh.save() };
  });
}
