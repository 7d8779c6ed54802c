// A client's own keys and what rides on them: its public keys (`jwks`, or a `jwks_uri` the provider
// fetches), private_key_jwt, mutual TLS (RFC 8705), encrypted ID tokens and userinfo, signed
// authorization responses (JARM), and the bank profile's FAPI 2.0 metadata. All checked at
// registration, before anything is written.
import { createPublicKey, X509Certificate, type JsonWebKey } from 'node:crypto';
import type { ClientProfile } from './client-profiles.ts';
import { InvalidClientRegistration } from './invalid-client-registration.ts';
import type { ClientSettings } from './client-settings.ts';
import { SIGNING_ALGORITHMS } from '../keys/keys.ts';
import { LOA_2 } from '../consent/assurance.ts';
import { isLoopbackHost } from '../outgoing-request.ts';

/** FAPI 2.0 Security Profile 5.4: the only signing algorithms a bank client and the provider use with it. */
export const FAPI_SIGNING_ALGORITHMS = ['PS256', 'ES256', 'EdDSA'] as const;
/** Key management for encrypted ID tokens, userinfo and authorization responses; content is always A256GCM. */
export const ENCRYPTION_ALGORITHMS = ['RSA-OAEP-256', 'ECDH-ES'] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];
export const ENCRYPTION_ENCODING = 'A256GCM';

/** The certificate field a tls_client_auth client's certificate is recognised by (RFC 8705 2.1.2). */
export const TLS_SUBJECT_KINDS = ['subject_dn', 'san_dns', 'san_uri', 'san_ip', 'san_email'] as const;
export type TlsSubjectKind = (typeof TLS_SUBJECT_KINDS)[number];

export interface ClientKeyRegistration {
  /** The client's public keys (at most 10): private_key_jwt signatures, self-signed certificates (x5c), encryption. */
  readonly jwks?: { readonly keys: readonly JsonWebKey[] };
  /** Where the client publishes them instead (https); fetched SSRF-guarded, time- and size-limited. */
  readonly jwksUri?: string;
  /** tls_client_auth: the one certificate field and value its certificate must carry. */
  readonly tlsClientAuthSubject?: { readonly kind: TlsSubjectKind; readonly value: string };
  /** bank: access tokens bound to a DPoP key (default with private_key_jwt) or the mTLS certificate (default under mTLS). */
  readonly senderConstraint?: 'dpop' | 'mtls';
  /** ID tokens (and, below, userinfo) encrypted to the client's key, content A256GCM. */
  readonly idTokenEncryptedResponseAlg?: EncryptionAlgorithm;
  readonly userinfoEncryptedResponseAlg?: EncryptionAlgorithm;
  /** JARM (response_mode=jwt): ES256 unless registered otherwise. */
  readonly authorizationSignedResponseAlg?: string;
}

export interface ClientKeyContext {
  readonly profile: ClientProfile;
  readonly authMethod: string;
  readonly settings: ClientSettings | undefined;
  /** http jwks_uri on loopback: outside production only. */
  readonly allowLoopback: boolean;
}

const MAX_KEYS = 10;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The signing algorithm a public key can serve under FAPI 2.0, if any. */
function fapiAlgorithmOf(jwk: JsonWebKey): string | undefined {
  if (jwk.kty === 'RSA') return 'PS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

/** Each key: a well-formed public key with a kid, RSA at least 2048 bits, a known use; x5c certificates parse. */
function assertJwks(jwks: unknown, profile: ClientProfile): readonly JsonWebKey[] {
  const field = 'jwks';
  const keys = (jwks as { keys?: unknown } | null | undefined)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) {
    throw new InvalidClientRegistration(`${field}: a JSON Web Key Set, {"keys": [...]}, with 1 to ${MAX_KEYS} public keys`);
  }
  const kids = new Set<string>();
  for (const [index, key] of (keys as unknown[]).entries()) {
    const where = `${field}: key ${index + 1}`;
    if (key === null || typeof key !== 'object' || Array.isArray(key)) throw new InvalidClientRegistration(`${where} is not a JSON object`);
    const jwk = key as JsonWebKey;
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
      throw new InvalidClientRegistration(`${where} holds private or symmetric key material; register the public keys only`);
    }
    if (typeof jwk.kid !== 'string' || jwk.kid === '' || kids.has(jwk.kid)) {
      throw new InvalidClientRegistration(`${where} needs a kid of its own`);
    }
    kids.add(jwk.kid);
    if (jwk.use !== undefined && jwk.use !== 'sig' && jwk.use !== 'enc') throw new InvalidClientRegistration(`${where}: use is "sig" or "enc"`);
    let details;
    try {
      details = createPublicKey({ key: jwk, format: 'jwk' }).asymmetricKeyDetails;
    } catch {
      throw new InvalidClientRegistration(`${where} is not a valid RSA, EC or OKP public key`);
    }
    if (jwk.kty === 'RSA' && (details?.modulusLength ?? 0) < 2048) throw new InvalidClientRegistration(`${where}: RSA keys have at least 2048 bits`);
    if (jwk.use !== 'enc' && typeof jwk.alg === 'string') {
      const offered: readonly string[] = profile === 'bank' ? FAPI_SIGNING_ALGORITHMS : SIGNING_ALGORITHMS;
      if (!offered.includes(jwk.alg) && !(ENCRYPTION_ALGORITHMS as readonly string[]).includes(jwk.alg)) {
        throw new InvalidClientRegistration(`${where}: alg "${jwk.alg}" is not accepted${profile === 'bank' ? ` from a bank client (FAPI 2.0: ${FAPI_SIGNING_ALGORITHMS.join(', ')})` : ''}`);
      }
    }
    if (profile === 'bank' && jwk.use !== 'enc' && fapiAlgorithmOf(jwk) === undefined) {
      throw new InvalidClientRegistration(`${where}: a bank client signs with RSA (PS256), EC P-256 (ES256) or Ed25519 (EdDSA) keys`);
    }
    if (jwk.x5c !== undefined) {
      const first: unknown = Array.isArray(jwk.x5c) ? (jwk.x5c as unknown[])[0] : undefined;
      try {
        if (typeof first !== 'string') throw new TypeError('x5c[0] is not a string');
        new X509Certificate(Buffer.from(first, 'base64'));
      } catch {
        throw new InvalidClientRegistration(`${where}: x5c[0] is not a base64 DER certificate`);
      }
    }
  }
  return keys as JsonWebKey[];
}

function assertJwksUri(uri: string, allowLoopback: boolean): void {
  const field = 'jwks_uri';
  const parsed = URL.parse(uri);
  if (!parsed) throw new InvalidClientRegistration(`${field}: "${uri}" is not an absolute URL`);
  if (uri.includes('#')) throw new InvalidClientRegistration(`${field}: "${uri}" must not have a fragment`);
  if (parsed.username || parsed.password) throw new InvalidClientRegistration(`${field}: "${uri}" must not carry credentials`);
  const loopback = isLoopbackHost(parsed.hostname);
  if (loopback && !allowLoopback) throw new InvalidClientRegistration(`${field}: "${uri}" is on loopback, allowed only outside production`);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new InvalidClientRegistration(`${field}: "${uri}" must use https${allowLoopback ? ' (http only on loopback)' : ''}`);
  }
}

/** A signing algorithm the client may ask for: the provider's, and for a bank only FAPI 2.0's. */
function assertSigningAlgorithm(alg: string, field: string, profile: ClientProfile): void {
  const offered: readonly string[] = profile === 'bank' ? FAPI_SIGNING_ALGORITHMS.filter((fapi) => (SIGNING_ALGORITHMS as readonly string[]).includes(fapi)) : SIGNING_ALGORITHMS;
  if (!offered.includes(alg)) {
    throw new InvalidClientRegistration(`${field}: "${alg}" is not offered${profile === 'bank' ? ' to a bank client' : ''}; one of ${offered.join(', ')}`);
  }
}

/** An encryption algorithm, and a registered key that can receive it (when the keys are given inline). */
function assertEncryption(alg: string, field: string, keys: readonly JsonWebKey[] | undefined, hasJwksUri: boolean): void {
  if (!(ENCRYPTION_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new InvalidClientRegistration(`${field}: one of ${ENCRYPTION_ALGORITHMS.join(', ')} (content is always ${ENCRYPTION_ENCODING})`);
  }
  if (!keys && !hasJwksUri) throw new InvalidClientRegistration(`${field}: needs the client's encryption key in jwks or jwks_uri`);
  if (!keys) return;
  const fits = (jwk: JsonWebKey) =>
    jwk.use !== 'sig' && jwk.x5c === undefined && (alg === 'RSA-OAEP-256' ? jwk.kty === 'RSA' : jwk.kty === 'EC' || (jwk.kty === 'OKP' && jwk.crv === 'X25519'));
  if (!keys.some(fits)) {
    throw new InvalidClientRegistration(`${field}: jwks has no ${alg === 'RSA-OAEP-256' ? 'RSA' : 'EC'} key for encryption (use "enc" or none)`);
  }
}

/** Checks the keys, mTLS and encryption parts of a registration; returns the metadata they add. */
export function clientKeyMetadata(registration: ClientKeyRegistration, context: ClientKeyContext): Record<string, unknown> {
  const { profile, authMethod, settings } = context;
  const bank = profile === 'bank';
  const metadata: Record<string, unknown> = {};
  if (registration.jwks !== undefined && registration.jwksUri !== undefined) {
    throw new InvalidClientRegistration('jwks_uri: give the keys inline (jwks) or by reference (jwks_uri), not both');
  }
  const keys = registration.jwks !== undefined ? assertJwks(registration.jwks, profile) : undefined;
  if (keys) metadata.jwks = { keys };
  if (registration.jwksUri !== undefined) {
    assertJwksUri(registration.jwksUri, context.allowLoopback);
    metadata.jwks_uri = registration.jwksUri;
  }
  const hasKeys = keys !== undefined || registration.jwksUri !== undefined;

  if (authMethod === 'private_key_jwt' && !hasKeys) {
    // oidc-provider would refuse such a client at every request; refuse it here instead.
    throw new InvalidClientRegistration("token_endpoint_auth_method: private_key_jwt needs the client's public keys: give jwks or jwks_uri");
  }
  if (authMethod === 'self_signed_tls_client_auth' && !registration.jwksUri && !keys?.some((jwk) => jwk.x5c !== undefined)) {
    throw new InvalidClientRegistration('token_endpoint_auth_method: self_signed_tls_client_auth needs the certificate in jwks (a key with x5c) or jwks_uri');
  }
  const subject = registration.tlsClientAuthSubject;
  if (authMethod === 'tls_client_auth') {
    if (!subject) throw new InvalidClientRegistration('tls_client_auth_subject: tls_client_auth needs the certificate subject DN or one subject alternative name');
    if (!(TLS_SUBJECT_KINDS as readonly string[]).includes(subject.kind)) {
      throw new InvalidClientRegistration(`tls_client_auth_subject: the kind is one of ${TLS_SUBJECT_KINDS.join(', ')}`);
    }
    if (typeof subject.value !== 'string' || subject.value.trim() === '' || subject.value.length > 500) {
      throw new InvalidClientRegistration('tls_client_auth_subject: the value is 1 to 500 characters');
    }
    metadata[`tls_client_auth_${subject.kind}`] = subject.value.trim();
  } else if (subject) {
    throw new InvalidClientRegistration('tls_client_auth_subject: only for a client authenticating with tls_client_auth');
  }

  if (bank) {
    const mutualTls = authMethod === 'tls_client_auth' || authMethod === 'self_signed_tls_client_auth';
    const constraint = registration.senderConstraint ?? (mutualTls ? 'mtls' : 'dpop');
    if (constraint !== 'dpop' && constraint !== 'mtls') throw new InvalidClientRegistration('sender_constraint: dpop or mtls');
    // FAPI 2.0: PAR only, tokens bound to the DPoP key or the certificate, level 2 unless asked otherwise.
    metadata.require_pushed_authorization_requests = true;
    metadata[constraint === 'dpop' ? 'dpop_bound_access_tokens' : 'tls_client_certificate_bound_access_tokens'] = true;
    metadata.default_acr_values = [LOA_2];
    if (settings?.idTokenSignedResponseAlg !== undefined) assertSigningAlgorithm(settings.idTokenSignedResponseAlg, 'id_token_signed_response_alg', profile);
    if (settings?.userinfoSignedResponseAlg !== undefined) assertSigningAlgorithm(settings.userinfoSignedResponseAlg, 'userinfo_signed_response_alg', profile);
  } else if (registration.senderConstraint !== undefined) {
    throw new InvalidClientRegistration(`sender_constraint: set by the bank profile only, not for a ${profile} client`);
  }

  const jarmAlg = registration.authorizationSignedResponseAlg;
  if (jarmAlg !== undefined) {
    assertSigningAlgorithm(jarmAlg, 'authorization_signed_response_alg', profile);
    metadata.authorization_signed_response_alg = jarmAlg;
  }
  if (registration.idTokenEncryptedResponseAlg !== undefined) {
    if (profile === 'service') throw new InvalidClientRegistration('id_token_encrypted_response_alg: a service client gets no ID tokens');
    assertEncryption(registration.idTokenEncryptedResponseAlg, 'id_token_encrypted_response_alg', keys, registration.jwksUri !== undefined);
    metadata.id_token_encrypted_response_alg = registration.idTokenEncryptedResponseAlg;
    metadata.id_token_encrypted_response_enc = ENCRYPTION_ENCODING;
  }
  if (registration.userinfoEncryptedResponseAlg !== undefined) {
    if (profile === 'service') throw new InvalidClientRegistration('userinfo_encrypted_response_alg: a service client gets no userinfo');
    assertEncryption(registration.userinfoEncryptedResponseAlg, 'userinfo_encrypted_response_alg', keys, registration.jwksUri !== undefined);
    metadata.userinfo_encrypted_response_alg = registration.userinfoEncryptedResponseAlg;
    metadata.userinfo_encrypted_response_enc = ENCRYPTION_ENCODING;
    // An encrypted userinfo is a signed JWT first (oidc-provider needs userinfo_signed_response_alg).
    if (settings?.userinfoSignedResponseAlg === undefined) metadata.userinfo_signed_response_alg = settings?.idTokenSignedResponseAlg ?? 'ES256';
  }
  return metadata;
}
