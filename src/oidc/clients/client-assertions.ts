// The rules a private_key_jwt client assertion must meet beyond oidc-provider's own (signature, iss,
// jti, exp present): `aud` is exactly the issuer, `exp` at most an hour away, and a bank signs with a
// FAPI 2.0 algorithm. A refusal says why in `error_description`, and is logged and audited.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Logger } from '../../observability/logger.ts';
import { FAPI_SIGNING_ALGORITHMS } from './client-keys.ts';
import { isBankClient, isFapiAlgorithm } from '../fapi.ts';

/** The longest an assertion may be valid from now (docs/portals.md); authlib signs for an hour by default. */
export const CLIENT_ASSERTION_MAX_LIFETIME_SECONDS = 3600;
/** Allowance for a client's clock running ahead of ours. */
const CLOCK_SKEW_SECONDS = 60;

type AssertionHook = NonNullable<Configuration['assertJwtClientAuthClaimsAndHeader']>;

/** Why an assertion is refused, as the client is told; undefined when it is acceptable. */
function refusalOf(issuer: string, claims: Record<string, unknown>, header: Record<string, unknown>, client: object): string | undefined {
  // Only the issuer: an endpoint URL as audience is what the 2025 audience-injection attack on
  // private_key_jwt abuses (a client that also trusts a malicious server signs what it can replay here).
  if (claims.aud !== issuer) {
    return `aud must be the issuer identifier ${issuer} alone, not an endpoint URL (see the integration guide for your library's setting)`;
  }
  const lifetime = Number(claims.exp) - Math.floor(Date.now() / 1000);
  if (lifetime > CLIENT_ASSERTION_MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) {
    return `exp must be at most ${CLIENT_ASSERTION_MAX_LIFETIME_SECONDS} seconds from now`;
  }
  if (isBankClient(client) && !isFapiAlgorithm(header.alg)) {
    return `a bank client signs its assertions with ${FAPI_SIGNING_ALGORITHMS.join(', ')}`;
  }
  return undefined;
}

/** assertJwtClientAuthClaimsAndHeader, for every profile (the library asks for the issuer only under FAPI 2.0). */
export function clientAssertionRule(deps: { audit: AuditLog; logger: Logger }): AssertionHook {
  return (ctx: KoaContextWithOIDC, claims, header, client) => {
    const reason = refusalOf(ctx.oidc.issuer, claims, header, client);
    if (reason === undefined) return;
    const details = { endpoint: ctx.oidc.route, reason, aud: claims.aud ?? null, alg: header.alg ?? null };
    deps.logger.warn({ clientId: client.clientId, ...details }, 'refused a client assertion');
    void deps.audit
      .recordLater({ type: 'client.assertion_refused', actor: client.clientId, clientId: client.clientId, data: details })
      .catch((error: unknown) => deps.logger.error({ err: error }, 'could not write the audit event for a refused client assertion'));
    const refusal = new errors.InvalidClientAuth(reason);
    refusal.error_description = `client authentication failed: ${reason}`;
    throw refusal;
  };
}
