// response_mode=form_post under the pages' Content-Security-Policy. oidc-provider's form-post page
// submits itself with one inline script, whose hash it adds to script-src; but the form posts to the
// client's redirect URI, another origin, which the policy's `form-action 'self'` forbids. So a
// form-post response is let post to that one origin — and to no other.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The client's redirect URI a form-post response of this request posts to, if it is one. */
function formPostTarget(ctx: KoaContextWithOIDC): string | undefined {
  const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
  const params = oidc?.params;
  // form_post.jwt (JARM) renders the same page, with the signed response as its one input.
  if (!params || (params.response_mode !== 'form_post' && params.response_mode !== 'form_post.jwt')) return undefined;
  const redirectUri = params.redirect_uri;
  if (typeof redirectUri !== 'string' || !URL.canParse(redirectUri)) return undefined;
  // Only once oidc-provider has checked the redirect URI against the client's registration.
  if (!oidc?.client?.redirectUriAllowed(redirectUri)) return undefined;
  return new URL(redirectUri).origin;
}

/** Adds the redirect URI's origin to form-action on the provider's form-post pages. */
export function allowFormPostToRedirectUri(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.type !== 'text/html') return;
    const target = formPostTarget(ctx as KoaContextWithOIDC);
    const policy = ctx.response.get('content-security-policy');
    if (!target || !policy || !/(^|;)\s*form-action\s/.test(policy)) return;
    ctx.set(
      'content-security-policy',
      policy
        .split(';')
        .map((directive) => (directive.trim().startsWith('form-action ') ? `${directive.trimEnd()} ${target}` : directive))
        .join(';'),
    );
  });
}
