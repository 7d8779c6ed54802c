// Opaque token values that say which kind of token they can be: access and client-credentials tokens
// carry 264 random bits (44 characters), refresh tokens and everything else 256 (43). Introspection
// without a hint looks a value up as an access token, a client-credentials token and a refresh token
// at once; a value of the access tokens' length cannot be a refresh token, so PostgreSQL is not asked
// (issue 9). Refresh tokens issued before this rule were 43 characters too: still looked up.
import type { KoaContextWithOIDC } from 'oidc-provider';

const BEARER_TOKEN_BITS = 264;
const OTHER_TOKEN_BITS = 256;
/** 6 bits per base64url character. */
const BEARER_TOKEN_LENGTH = Math.ceil(BEARER_TOKEN_BITS / 6);

/** The provider's `formats.bitsOfOpaqueRandomness`. */
export function bitsOfOpaqueRandomness(_ctx: KoaContextWithOIDC, token: { kind: string }): number {
  return token.kind === 'AccessToken' || token.kind === 'ClientCredentials' ? BEARER_TOKEN_BITS : OTHER_TOKEN_BITS;
}

/** False for a value that only an access or client-credentials token has (the adapter skips the lookup). */
export function couldBeRefreshToken(id: string): boolean {
  return id.length !== BEARER_TOKEN_LENGTH;
}
