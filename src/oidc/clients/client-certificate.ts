// Client certificates for mutual TLS (RFC 8705) behind a TLS-terminating proxy: the proxy does the
// handshake and passes the client's certificate in a header (its name is configuration). The header is
// believed only on a connection from a peer in TRUSTED_PROXIES; from anyone else it is ignored, so
// nobody can claim a certificate by sending the header themselves.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KoaContextWithOIDC } from 'oidc-provider';

export interface ClientCertificateRules {
  /** The header the proxy sets (any case). */
  readonly header: string;
  /** True for a connection whose peer is a trusted proxy. */
  readonly isTrustedPeer: (remoteAddress: string | undefined) => boolean;
  /** Issuers a tls_client_auth certificate must chain to directly; none: tls_client_auth is refused. */
  readonly authorities: readonly X509Certificate[];
}

/** The certificates of a PEM bundle (MTLS_CA_FILE); none without a file. A file without one stops the start. */
export function certificateAuthorities(caFile: string | undefined): X509Certificate[] {
  if (caFile === undefined) return [];
  const blocks = [...readFileSync(caFile, 'utf8').matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)];
  try {
    if (blocks.length === 0) throw new Error('no certificate in it');
    return blocks.map((match) => new X509Certificate(match[0]));
  } catch (cause) {
    throw new Error(`MTLS_CA_FILE: ${caFile} is not a PEM bundle of CA certificates (${(cause as Error).message})`, { cause });
  }
}

/** Longest header value read: a certificate chain of a few kB, PEM and URL-encoded. */
const MAX_HEADER_LENGTH = 16 * 1024;

/**
 * The certificate in a header value, in any of the forms proxies send: RFC 9440 (`:base64 DER:`),
 * PEM (newlines possibly as spaces), URL-encoded PEM (nginx `$ssl_client_escaped_cert`), bare base64 DER.
 * Undefined when it is none of these, or outside its validity period.
 */
export function certificateFromHeader(value: string, now = new Date()): X509Certificate | undefined {
  let text = value.trim();
  if (text === '' || text.length > MAX_HEADER_LENGTH) return undefined;
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return undefined;
    }
  }
  const base64 = text.startsWith(':') && text.endsWith(':')
    ? text.slice(1, -1)
    : text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(base64, 'base64'));
  } catch {
    return undefined;
  }
  const inForce = new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
  return inForce ? certificate : undefined;
}

/** An RFC 4514 distinguished name as a list of `type=value`, first RDN last (as written), types upper-cased. */
function rdnsOf(dn: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let index = 0; index < dn.length; index += 1) {
    const char = dn[index]!;
    if (char === '\\' && index + 1 < dn.length) {
      current += dn[index + 1];
      index += 1;
    } else if (char === ',') {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => {
    const separator = part.indexOf('=');
    return `${part.slice(0, separator).trim().toUpperCase()}=${part.slice(separator + 1).trim()}`;
  });
}

/** Does the certificate carry this registered tls_client_auth_* value? */
export function certificateMatches(certificate: X509Certificate, property: string, expected: string): boolean {
  if (property === 'tls_client_auth_subject_dn') {
    // Node lists the subject's RDNs first to last, one per line; RFC 4514 strings list them last to first.
    const actual = certificate.subject.split('\n').map((rdn) => {
      const separator = rdn.indexOf('=');
      return `${rdn.slice(0, separator).toUpperCase()}=${rdn.slice(separator + 1)}`;
    });
    const wanted = rdnsOf(expected).reverse();
    return actual.length === wanted.length && actual.every((rdn, index) => rdn === wanted[index]);
  }
  const prefix = { tls_client_auth_san_dns: 'DNS:', tls_client_auth_san_uri: 'URI:', tls_client_auth_san_ip: 'IP Address:', tls_client_auth_san_email: 'email:' }[
    property
  ];
  if (prefix === undefined) return false;
  const names = (certificate.subjectAltName ?? '').split(', ');
  return names.some((name) => name.startsWith(prefix) && name.slice(prefix.length) === expected);
}

/** The three mTLS helpers oidc-provider asks for (features.mTLS). */
export function clientCertificateHelpers(rules: ClientCertificateRules) {
  const header = rules.header.toLowerCase();
  const seen = new WeakMap<object, X509Certificate | null>();
  const getCertificate = (ctx: KoaContextWithOIDC): X509Certificate | undefined => {
    const cached = seen.get(ctx.req);
    if (cached !== undefined) return cached ?? undefined;
    const raw = ctx.req.headers[header];
    const value = typeof raw === 'string' && rules.isTrustedPeer(ctx.req.socket.remoteAddress) ? raw : undefined;
    const certificate = value === undefined ? undefined : certificateFromHeader(value);
    seen.set(ctx.req, certificate ?? null);
    return certificate;
  };
  return {
    getCertificate,
    /** Issued (and signed) by one of the configured authorities; the proxy has checked possession of its key. */
    certificateAuthorized: (ctx: KoaContextWithOIDC): boolean => {
      const certificate = getCertificate(ctx);
      return (
        certificate !== undefined &&
        rules.authorities.some((authority) => certificate.checkIssued(authority) && certificate.verify(authority.publicKey))
      );
    },
    certificateSubjectMatches: (ctx: KoaContextWithOIDC, property: string, expected: string): boolean => {
      const certificate = getCertificate(ctx);
      return certificate !== undefined && certificateMatches(certificate, property, expected);
    },
  };
}
