// A client's CIBA registration (src/oidc/ciba/ciba.ts runs the protocol): whether it may use CIBA, how it
// receives answers, and the checks on its notification endpoint. Free of oidc-provider, for the CLI.
export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';
export const CIBA_DELIVERY_MODES = ['poll', 'ping'] as const;
export type CibaDeliveryMode = (typeof CIBA_DELIVERY_MODES)[number];

/** How a bank receives its answers: by polling, or pinged at its notification endpoint (then it fetches). */
export interface CibaRegistration {
  readonly deliveryMode: CibaDeliveryMode;
  /** https, on a loopback host only outside production; ping mode only, and required there. */
  readonly notificationEndpoint?: string;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** Facts of the registration that decide whether its client can use CIBA at all. */
export interface CibaClientContext {
  /** The profile lists the CIBA grant (banks only). */
  readonly allowed: boolean;
  readonly subjectType: string;
  readonly authMethod: string;
  readonly hasJwksUri: boolean;
  readonly hasSectorIdentifierUri: boolean;
  /** Notification endpoints on a loopback host: outside production only. */
  readonly allowLoopback: boolean;
}

/**
 * A client's CIBA metadata. `false` turns CIBA off; settings turn it on as given, or are refused with a
 * message naming the field; none give a bank client poll mode whenever it can have CIBA: oidc-provider
 * loads a pairwise CIBA client (with redirect URIs) only with a jwks_uri, a sector_identifier_uri and
 * private_key_jwt or self_signed_tls_client_auth. User codes are never supported.
 */
export function cibaClientMetadata(
  registration: CibaRegistration | false | undefined,
  context: CibaClientContext,
): { enabled: boolean; metadata: Record<string, unknown> } | { refused: string } {
  const off = { enabled: false, metadata: {} };
  if (registration === false) return off;
  const pairwiseProblem =
    context.subjectType !== 'pairwise'
      ? undefined
      : !context.hasJwksUri || !context.hasSectorIdentifierUri
        ? 'a pairwise CIBA client needs a jwks_uri and a sector_identifier_uri (or public subjects)'
        : !['private_key_jwt', 'self_signed_tls_client_auth'].includes(context.authMethod)
          ? 'a pairwise CIBA client authenticates with private_key_jwt or self_signed_tls_client_auth'
          : undefined;
  if (registration === undefined) {
    return context.allowed && pairwiseProblem === undefined
      ? { enabled: true, metadata: { backchannel_token_delivery_mode: 'poll', backchannel_user_code_parameter: false } }
      : off;
  }
  if (!context.allowed) return { refused: 'backchannel_token_delivery_mode: CIBA is for bank clients only' };
  if (pairwiseProblem) return { refused: `backchannel_token_delivery_mode: ${pairwiseProblem}` };
  const mode: unknown = registration.deliveryMode;
  if (!CIBA_DELIVERY_MODES.includes(mode as CibaDeliveryMode)) {
    return { refused: `backchannel_token_delivery_mode: one of ${CIBA_DELIVERY_MODES.join(', ')}` };
  }
  const field = 'backchannel_client_notification_endpoint';
  const uri = registration.notificationEndpoint;
  if (mode === 'poll') {
    return uri === undefined
      ? { enabled: true, metadata: { backchannel_token_delivery_mode: 'poll', backchannel_user_code_parameter: false } }
      : { refused: `${field}: only in ping mode` };
  }
  if (uri === undefined) return { refused: `${field}: required in ping mode` };
  if (!URL.canParse(uri)) return { refused: `${field}: "${uri}" is not an absolute URL` };
  const parsed = new URL(uri);
  if (uri.includes('#')) return { refused: `${field}: "${uri}" must not have a fragment` };
  if (parsed.username || parsed.password) return { refused: `${field}: "${uri}" must not carry credentials` };
  const loopback = LOOPBACK_HOSTS.includes(parsed.hostname);
  if (loopback && !context.allowLoopback) return { refused: `${field}: "${uri}" is on loopback, allowed only outside production` };
  // oidc-provider loads no client whose notification endpoint is anything else (CIBA Core 4).
  if (parsed.protocol !== 'https:') return { refused: `${field}: "${uri}" must use https` };
  return { enabled: true, metadata: { backchannel_token_delivery_mode: 'ping', [field]: uri, backchannel_user_code_parameter: false } };
}
