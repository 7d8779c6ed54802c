// Opaque token values that say which kind of token they can be: access tokens carry 264 random bits
// (44 characters), client-credentials tokens 270 (45), refresh tokens and everything else 256 (43).
// Introspection without a hint looks a value up as an access token, a client-credentials token and a
// refresh token at once; a value of the access or client-credentials tokens' lengths cannot be a
// refresh token, so PostgreSQL is not asked (issue 9), and one of the client-credentials tokens' length
// cannot be an access token, so Redis is asked once rather than twice (issue 19). Refresh tokens issued
// before the first rule were 43 characters too, and client-credentials tokens before the second 44, as
// access tokens are: both still looked up.
import type { KoaContextWithOIDC } from 'oidc-provider';

const ACCESS_TOKEN_BITS = 264;
const CLIENT_CREDENTIALS_BITS = 270;
const OTHER_TOKEN_BITS = 256;
/** 6 bits per base64url character. */
const ACCESS_TOKEN_LENGTH = Math.ceil(ACCESS_TOKEN_BITS / 6);
const CLIENT_CREDENTIALS_LENGTH = Math.ceil(CLIENT_CREDENTIALS_BITS / 6);

/** The provider's `formats.bitsOfOpaqueRandomness`. */
export function bitsOfOpaqueRandomness(_ctx: KoaContextWithOIDC, token: { kind: string }): number {
  if (token.kind === 'AccessToken') return ACCESS_TOKEN_BITS;
  return token.kind === 'ClientCredentials' ? CLIENT_CREDENTIALS_BITS : OTHER_TOKEN_BITS;
}

/** False for a value that only an access or client-credentials token has (the adapter skips the lookup). */
export function couldBeRefreshToken(id: string): boolean {
  return id.length !== ACCESS_TOKEN_LENGTH && id.length !== CLIENT_CREDENTIALS_LENGTH;
}

/** False for a value that only a client-credentials token has (the adapter skips the lookup). */
export function couldBeAccessToken(id: string): boolean {
  return id.length !== CLIENT_CREDENTIALS_LENGTH;
}
