// Every cookie the public pages write (oidc-provider writes its own): HttpOnly, SameSite=Lax,
// unsigned, and Secure exactly when the issuer is https — decided once, from the issuer, because
// behind a TLS-terminating proxy this hop may be plain HTTP while the browser sees https.
import type Koa from 'koa';

/** What writing a cookie needs of a request. */
type WithCookies = Pick<Koa.Context, 'cookies'>;

/** The language chosen with ?lang=, shared by every page of the service. */
export const LANGUAGE_COOKIE = 'lang';

export interface CookieScope {
  /** Where the browser sends it back (default: everywhere). */
  readonly path?: string;
  /** Milliseconds; without it the cookie ends with the browser session. */
  readonly maxAge?: number;
}

export interface PublicCookies {
  /** Sets (or, with null, clears) a cookie. */
  set(ctx: WithCookies, name: string, value: string | null, scope?: CookieScope): void;
}

export function publicCookies(issuer: string): PublicCookies {
  const secure = new URL(issuer).protocol === 'https:';
  return {
    set(ctx, name, value, scope = {}) {
      // Koa refuses a Secure cookie on a plain-HTTP hop unless told the browser's side is https.
      if (secure) ctx.cookies.secure = true;
      ctx.cookies.set(name, value, {
        path: scope.path ?? '/',
        httpOnly: true,
        sameSite: 'lax',
        secure,
        overwrite: true,
        signed: false,
        ...(scope.maxAge !== undefined && { maxAge: scope.maxAge }),
      });
    },
  };
}
