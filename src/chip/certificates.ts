// X.509 for chips, with pkijs: reading PEM files of certificates and revocation lists (the trust list of
// country signing CAs), and making the test chips' CSCA and document signers. Test certificates say so
// in their subject (CN "TEST ONLY …"), and production refuses to trust one (src/chip/trust-list.ts).
import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { CryptoKey } from 'jose';

export const TEST_ONLY_PREFIX = 'TEST ONLY';
const COMMON_NAME = '2.5.4.3';
const COUNTRY = '2.5.4.6';
const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** The DER blocks of a PEM text with the given label (`CERTIFICATE`, `X509 CRL`, `PRIVATE KEY`). */
export function pemBlocks(text: string, label: string): Buffer[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, 'g');
  return [...text.matchAll(pattern)].map((match) => Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}

export function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const base64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

export function certificateFromDer(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(der);
}

export function crlFromDer(der: Uint8Array): pkijs.CertificateRevocationList {
  return pkijs.CertificateRevocationList.fromBER(der);
}

/** The subject's common name, or '' when it has none. */
export function commonNameOf(certificate: pkijs.Certificate): string {
  const attribute = certificate.subject.typesAndValues.find((item) => item.type === COMMON_NAME);
  return attribute ? String((attribute.value as { valueBlock: { value: unknown } }).valueBlock.value) : '';
}

export function isTestCertificate(certificate: pkijs.Certificate): boolean {
  return commonNameOf(certificate).startsWith(TEST_ONLY_PREFIX);
}

/** The key-usage bits of a certificate, or undefined when it has no key-usage extension. */
export function keyUsageOf(certificate: pkijs.Certificate): { digitalSignature: boolean; keyCertSign: boolean } | undefined {
  const extension = certificate.extensions?.find((item) => item.extnID === KEY_USAGE);
  const value: unknown = extension?.parsedValue;
  if (!(value instanceof asn1js.BitString)) return undefined; // absent, or not a BIT STRING: no usage to rely on
  const first = new Uint8Array(value.valueBlock.valueHexView)[0] ?? 0;
  return { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
}

export interface IssuedCertificate {
  readonly certificate: pkijs.Certificate;
  readonly privateKey: CryptoKey;
}

/**
 * A certificate for a new P-256 key: a CSCA (self-signed, CA, keyCertSign and cRLSign) when `issuer`
 * is absent, else a document signer issued by it (digitalSignature only).
 */
export async function issueCertificate(options: {
  commonName: string;
  issuer?: IssuedCertificate;
  notBefore: Date;
  notAfter: Date;
}): Promise<IssuedCertificate> {
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  const serial = randomBytes(12);
  serial[0] = serial[0]! & 0x7f;
  certificate.serialNumber = new asn1js.Integer({ valueHex: serial });
  certificate.subject.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({ type: COUNTRY, value: new asn1js.PrintableString({ value: 'VN' }) }),
    new pkijs.AttributeTypeAndValue({ type: COMMON_NAME, value: new asn1js.Utf8String({ value: options.commonName }) }),
  );
  certificate.issuer = options.issuer ? options.issuer.certificate.subject : certificate.subject;
  certificate.notBefore.value = options.notBefore;
  certificate.notAfter.value = options.notAfter;
  const ca = options.issuer === undefined;
  certificate.extensions = [
    new pkijs.Extension({
      extnID: BASIC_CONSTRAINTS,
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: ca, ...(ca && { pathLenConstraint: 0 }) }).toSchema().toBER(false),
    }),
    new pkijs.Extension({
      extnID: KEY_USAGE,
      critical: true,
      // digitalSignature (bit 0) for a signer; keyCertSign and cRLSign (bits 5, 6) for a CA.
      extnValue: new asn1js.BitString(ca ? { valueHex: new Uint8Array([0x06]), unusedBits: 1 } : { valueHex: new Uint8Array([0x80]), unusedBits: 7 }).toBER(false),
    }),
  ];
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey);
  await certificate.sign(options.issuer?.privateKey ?? keys.privateKey, 'SHA-256');
  return { certificate, privateKey: keys.privateKey };
}

export async function exportPrivateKey(key: CryptoKey): Promise<string> {
  return toPem(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const [der] = pemBlocks(pem, 'PRIVATE KEY');
  if (!der) throw new Error('no PRIVATE KEY block');
  return crypto.subtle.importKey('pkcs8', der, ECDSA_P256, false, ['sign']);
}

export function certificatePem(certificate: pkijs.Certificate): string {
  return toPem(certificate.toSchema().toBER(false), 'CERTIFICATE');
}

/** A revocation list issued by `issuer` (tests): the given serial numbers revoked, next update as given. */
export async function issueCrl(issuer: IssuedCertificate, revoked: readonly pkijs.Certificate[], nextUpdate: Date): Promise<pkijs.CertificateRevocationList> {
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer = issuer.certificate.subject;
  crl.thisUpdate = new pkijs.Time({ type: 0, value: new Date(Date.now() - 60_000) });
  crl.nextUpdate = new pkijs.Time({ type: 0, value: nextUpdate });
  crl.revokedCertificates = revoked.map(
    (certificate) => new pkijs.RevokedCertificate({ userCertificate: certificate.serialNumber, revocationDate: new pkijs.Time({ type: 0, value: new Date(Date.now() - 60_000) }) }),
  );
  await crl.sign(issuer.privateKey, 'SHA-256');
  return crl;
}
