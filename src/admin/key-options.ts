// The `clients add` options for a client's own keys (src/oidc/clients/client-keys.ts): its public keys for
// private_key_jwt (a JWKS file, or a jwks_uri), mutual TLS, encryption and JARM. A bank needs one of them.
import { readFileSync } from 'node:fs';
import { InvalidClientRegistration } from '../oidc/clients/clients.ts';
import { TLS_SUBJECT_KINDS, type ClientKeyRegistration, type EncryptionAlgorithm, type TlsSubjectKind } from '../oidc/clients/client-keys.ts';

export const KEY_OPTIONS = {
  jwks: { type: 'string' },
  'jwks-uri': { type: 'string' },
  'tls-client-auth-subject': { type: 'string' },
  'sender-constraint': { type: 'string' },
  'id-token-encrypted-alg': { type: 'string' },
  'userinfo-encrypted-alg': { type: 'string' },
  'authorization-signed-alg': { type: 'string' },
} as const;

export const KEY_USAGE = `              [--jwks FILE | --jwks-uri URI] [--tls-client-auth-subject subject_dn=DN|san_dns=NAME|…]
              [--sender-constraint dpop|mtls] [--id-token-encrypted-alg RSA-OAEP-256|ECDH-ES]
              [--userinfo-encrypted-alg ALG] [--authorization-signed-alg ALG]`;

type KeyOptions = { [K in keyof typeof KEY_OPTIONS]?: string };

/** A JWKS file with the client's public keys. */
function jwksFile(file: string): ClientKeyRegistration['jwks'] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InvalidClientRegistration(`--jwks: cannot read ${JSON.stringify(file)}`);
  }
  try {
    return JSON.parse(text) as ClientKeyRegistration['jwks'];
  } catch {
    throw new InvalidClientRegistration(`--jwks: ${JSON.stringify(file)} is not JSON (expected {"keys": [...]})`);
  }
}

/** The key parts of a registration from the parsed options; `{}` when none was given. */
export function clientKeysOf(options: KeyOptions): ClientKeyRegistration {
  const subject = options['tls-client-auth-subject'];
  let tlsClientAuthSubject: ClientKeyRegistration['tlsClientAuthSubject'];
  if (subject !== undefined) {
    const separator = subject.indexOf('=');
    const kind = subject.slice(0, separator);
    if (separator < 1 || !(TLS_SUBJECT_KINDS as readonly string[]).includes(kind)) {
      throw new InvalidClientRegistration(`--tls-client-auth-subject: KIND=VALUE with KIND one of ${TLS_SUBJECT_KINDS.join(', ')}`);
    }
    tlsClientAuthSubject = { kind: kind as TlsSubjectKind, value: subject.slice(separator + 1) };
  }
  const constraint = options['sender-constraint'];
  if (constraint !== undefined && constraint !== 'dpop' && constraint !== 'mtls') {
    throw new InvalidClientRegistration(`--sender-constraint: dpop or mtls, got "${constraint}"`);
  }
  return {
    ...(options.jwks !== undefined && { jwks: jwksFile(options.jwks) }),
    ...(options['jwks-uri'] !== undefined && { jwksUri: options['jwks-uri'] }),
    ...(tlsClientAuthSubject && { tlsClientAuthSubject }),
    ...(constraint !== undefined && { senderConstraint: constraint }),
    ...(options['id-token-encrypted-alg'] !== undefined && { idTokenEncryptedResponseAlg: options['id-token-encrypted-alg'] as EncryptionAlgorithm }),
    ...(options['userinfo-encrypted-alg'] !== undefined && { userinfoEncryptedResponseAlg: options['userinfo-encrypted-alg'] as EncryptionAlgorithm }),
    ...(options['authorization-signed-alg'] !== undefined && { authorizationSignedResponseAlg: options['authorization-signed-alg'] }),
  };
}
