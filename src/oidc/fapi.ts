// The bank profile at the provider (docs/design.md "Client profiles"): oidc-provider's FAPI 2.0 profile for
// bank clients, plus what its `fapi` feature alone does not enforce — DPoP nonces, the FAPI 2.0
// algorithm allow-list on request objects (on client assertions: src/oidc/clients/client-assertions.ts),
// 60-second authorization codes.
// PAR, DPoP-bound tokens and the default acr ride on the client's metadata (src/oidc/clients/client-keys.ts).
import { createHmac } from 'node:crypto';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { FAPI_SIGNING_ALGORITHMS } from './clients/client-keys.ts';

/** FAPI 2.0 Security Profile 5.3.2.1: an authorization code lives at most 60 seconds. */
export const BANK_CODE_TTL_SECONDS = 60;
/** FAPI 2.0 5.3.2.1 (and the library's own FAPI check): a request object lives at most an hour from nbf. */
const REQUEST_OBJECT_MAX_LIFETIME_SECONDS = 3600;

export function isBankClient(client: object | undefined): boolean {
  return (client as { profile?: unknown } | undefined)?.profile === 'bank';
}

export const isFapiAlgorithm = (alg: unknown): boolean => (FAPI_SIGNING_ALGORITHMS as readonly unknown[]).includes(alg);

/**
 * The DPoP nonce secret, the same on every instance without storing anything: an HMAC of the
 * key-encryption key (which every instance has), so a nonce one instance issues, another accepts.
 */
export function dpopNonceSecret(keyEncryptionKey: Buffer): Buffer {
  return createHmac('sha256', keyEncryptionKey).update('citizen-idp DPoP nonce secret v1').digest();
}

/** features.fapi.profile: FAPI 2.0 for bank clients, nothing for the others. */
export function fapiProfile(_ctx: KoaContextWithOIDC, client: object | undefined): '2.0' | undefined {
  return isBankClient(client) ? '2.0' : undefined;
}

/**
 * features.dPoP.requireNonce: bank clients, wherever the client is known when the proof is checked
 * (PAR, token; at userinfo the proof is checked before the token names its client). Nonces come from
 * the shared secret, so they hold across instances.
 */
export function requireDpopNonce(ctx: KoaContextWithOIDC): boolean {
  return isBankClient(ctx.oidc.client);
}

/**
 * features.requestObjects.assertJwtClaimsAndHeader: the library's own rules (which setting this hook
 * replaces) — FAPI requests carry exp, aud and nbf at most an hour apart; CIBA requests exp, iat, nbf
 * and jti — and, for a bank, a FAPI 2.0 signing algorithm.
 */
export function assertRequestObject(ctx: KoaContextWithOIDC, claims: Record<string, unknown>, header: Record<string, unknown>, client: object): void {
  const fapi = isBankClient(client);
  const required = new Set<string>();
  if (fapi) for (const claim of ['exp', 'aud', 'nbf']) required.add(claim);
  if (ctx.oidc.route === 'backchannel_authentication') for (const claim of ['exp', 'iat', 'nbf', 'jti']) required.add(claim);
  for (const claim of required) {
    if (claims[claim] === undefined) throw new errors.InvalidRequestObject(`Request Object is missing the '${claim}' claim`);
  }
  if (fapi) {
    const lifetime = Number(claims.exp) - Number(claims.nbf);
    if (!(lifetime > 0 && lifetime <= REQUEST_OBJECT_MAX_LIFETIME_SECONDS)) {
      throw new errors.InvalidRequestObject("Request Object 'exp' claim too far from 'nbf' claim");
    }
    // A pushed request comes back from the provider's own store (checked when it was pushed, or the
    // provider's unsigned record of plain PAR parameters): only what a client sends is held to the list.
    const pushed = 'PushedAuthorizationRequest' in ctx.oidc.entities;
    if (!pushed && !isFapiAlgorithm(header.alg)) {
      throw new errors.InvalidRequestObject(`a bank client signs its request objects with ${FAPI_SIGNING_ALGORITHMS.join(', ')}`);
    }
  }
}

/** ttl.AuthorizationCode: the configured lifetime, at most 60 seconds for a bank. */
export function authorizationCodeTtl(configured: number) {
  return (_ctx: KoaContextWithOIDC, _code: unknown, client: object | undefined): number =>
    isBankClient(client) ? Math.min(configured, BANK_CODE_TTL_SECONDS) : configured;
}
