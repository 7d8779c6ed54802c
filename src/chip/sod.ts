// EF.SOD (ICAO Doc 9303 part 10, 4.6.2): tag 77 around a CMS SignedData (RFC 5652) whose content is the
// LDSSecurityObject, the hash of every data group on the chip, signed by the document signer. Parsed and
// built with pkijs and asn1js (docs/chip-verification.md "What is read"); nothing here reads DER by hand.
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { CryptoKey } from 'jose';
import { ChipFormatError, readable } from './errors.ts';

export const LDS_SECURITY_OBJECT_OID = '2.23.136.1.1.1';
const SIGNED_DATA_OID = '1.2.840.113549.1.7.2';
const CONTENT_TYPE_ATTRIBUTE = '1.2.840.113549.1.9.3';
const MESSAGE_DIGEST_ATTRIBUTE = '1.2.840.113549.1.9.4';
const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

/** The hash algorithms a data group's hash may use (SHA-1 and SHA-224 are not accepted). */
export const HASH_ALGORITHMS: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface Sod {
  readonly signedData: pkijs.SignedData;
  /** The LDSSecurityObject's hash algorithm (OID). */
  readonly hashAlgorithm: string;
  /** Data-group number → its hash as the SOD lists it. */
  readonly dataGroupHashes: ReadonlyMap<number, Buffer>;
  /** The certificate the signer info names, from the SOD's own certificates; undefined when absent. */
  readonly documentSigner: pkijs.Certificate | undefined;
}

const ldsSchema = new asn1js.Sequence({
  value: [
    new asn1js.Integer({ name: 'version' }),
    new asn1js.Any({ name: 'hashAlgorithm' }),
    new asn1js.Sequence({
      name: 'hashes',
      value: [
        new asn1js.Repeated({
          name: 'dataGroups',
          value: new asn1js.Sequence({ value: [new asn1js.Integer(), new asn1js.OctetString()] }),
        }),
      ],
    }),
    new asn1js.Any({ name: 'ldsVersionInfo', optional: true }),
  ],
});

function fail(message: string): never {
  throw new ChipFormatError(`SOD: ${message}`);
}

/** Parses EF.SOD; ChipFormatError when it is not DER, not a SignedData, or not over an LDSSecurityObject. */
export function parseSod(bytes: Uint8Array): Sod {
  return readable('SOD', () => unsafeParseSod(bytes));
}

function unsafeParseSod(bytes: Uint8Array): Sod {
  const decoded = asn1js.fromBER(bytes);
  if (decoded.offset === -1 || decoded.offset !== bytes.length) fail('not DER');
  const wrapper = decoded.result;
  if (wrapper.idBlock.tagClass !== 2 || wrapper.idBlock.tagNumber !== 23) fail('not an EF.SOD (tag 77)');
  const [inner] = (wrapper.valueBlock as { value?: asn1js.AsnType[] }).value ?? [];
  if (!inner) fail('empty');
  let signedData: pkijs.SignedData;
  try {
    const contentInfo = new pkijs.ContentInfo({ schema: inner });
    if (contentInfo.contentType !== SIGNED_DATA_OID) fail('not a CMS SignedData');
    signedData = new pkijs.SignedData({ schema: contentInfo.content });
  } catch (error) {
    if (error instanceof ChipFormatError) throw error;
    fail(`not a CMS SignedData (${(error as Error).message})`);
  }
  const { encapContentInfo } = signedData;
  if (encapContentInfo.eContentType !== LDS_SECURITY_OBJECT_OID) fail('its content is not an LDSSecurityObject');
  if (!encapContentInfo.eContent) fail('no LDSSecurityObject');
  if (signedData.signerInfos.length !== 1) fail('expected one signer');
  const lds = asn1js.verifySchema(encapContentInfo.eContent.getValue(), ldsSchema);
  if (!lds.verified) fail('the LDSSecurityObject is malformed');
  const result = lds.result as unknown as Record<string, asn1js.AsnType | asn1js.AsnType[] | undefined>;
  const algorithm = new pkijs.AlgorithmIdentifier({ schema: result.hashAlgorithm });
  const dataGroupHashes = new Map<number, Buffer>();
  for (const entry of (result.dataGroups as asn1js.Sequence[] | undefined) ?? []) {
    const [number, hash] = entry.valueBlock.value as [asn1js.Integer, asn1js.OctetString];
    const group = number.valueBlock.valueDec;
    if (group < 1 || group > 16 || dataGroupHashes.has(group)) fail(`data group ${group} is out of range or listed twice`);
    dataGroupHashes.set(group, Buffer.from(hash.getValue()));
  }
  return { signedData, hashAlgorithm: algorithm.algorithmId, dataGroupHashes, documentSigner: signerCertificateOf(signedData) };
}

/** The SOD's certificate that its signer info names (by issuer and serial number, or key identifier). */
function signerCertificateOf(signedData: pkijs.SignedData): pkijs.Certificate | undefined {
  const sid = signedData.signerInfos[0]!.sid as unknown;
  const certificates = (signedData.certificates ?? []).filter((item): item is pkijs.Certificate => item instanceof pkijs.Certificate);
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return certificates.find((certificate) => certificate.issuer.isEqual(sid.issuer) && certificate.serialNumber.isEqual(sid.serialNumber));
  }
  // [0] SubjectKeyIdentifier (RFC 5652 5.3): the certificate whose subjectKeyIdentifier extension is it.
  const wanted = (sid as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock?.valueHexView;
  if (!wanted || wanted.length === 0) return undefined;
  // Its extension, or (none) the SHA-1 of its public key's bits (RFC 5280 4.2.1.2, method 1), as pkijs looks it up.
  return certificates.find((certificate) => {
    const extension = certificate.extensions?.find((item) => item.extnID === SUBJECT_KEY_IDENTIFIER);
    const value: unknown = extension?.parsedValue;
    const identifier =
      value instanceof asn1js.OctetString
        ? Buffer.from(value.valueBlock.valueHexView)
        : createHash('sha1').update(certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
    return identifier.equals(Buffer.from(wanted));
  });
}

/** The hash of a data group's bytes under the SOD's algorithm; undefined when the algorithm is not accepted. */
export function dataGroupHash(hashAlgorithm: string, bytes: Uint8Array): Buffer | undefined {
  const name = HASH_ALGORITHMS[hashAlgorithm];
  return name ? createHash(name).update(bytes).digest() : undefined;
}

/** Builds EF.SOD over the given data groups, signed (SHA-256, signed attributes) by `signer` (test chips). */
export async function buildSod(
  dataGroups: ReadonlyMap<number, Uint8Array>,
  signer: { certificate: pkijs.Certificate; privateKey: CryptoKey },
  options: { signerIdentifier?: 'issuerAndSerialNumber' | 'subjectKeyIdentifier' } = {},
): Promise<Buffer> {
  const keyIdentifier = createHash('sha1').update(signer.certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
  const sid =
    options.signerIdentifier === 'subjectKeyIdentifier'
      ? new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: new Uint8Array(keyIdentifier) })
      : new pkijs.IssuerAndSerialNumber({ issuer: signer.certificate.issuer, serialNumber: signer.certificate.serialNumber });
  const sha256 = '2.16.840.1.101.3.4.2.1';
  const lds = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      new pkijs.AlgorithmIdentifier({ algorithmId: sha256 }).toSchema(),
      new asn1js.Sequence({
        value: [...dataGroups].map(
          ([group, bytes]) => new asn1js.Sequence({ value: [new asn1js.Integer({ value: group }), new asn1js.OctetString({ valueHex: dataGroupHash(sha256, bytes)! })] }),
        ),
      }),
    ],
  });
  const ldsBytes = lds.toBER();
  const signedData = new pkijs.SignedData({
    version: 3,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: LDS_SECURITY_OBJECT_OID, eContent: new asn1js.OctetString({ valueHex: ldsBytes }) }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: options.signerIdentifier === 'subjectKeyIdentifier' ? 3 : 1,
        sid,
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({ type: CONTENT_TYPE_ATTRIBUTE, values: [new asn1js.ObjectIdentifier({ value: LDS_SECURITY_OBJECT_OID })] }),
            new pkijs.Attribute({ type: MESSAGE_DIGEST_ATTRIBUTE, values: [new asn1js.OctetString({ valueHex: createHash('sha256').update(new Uint8Array(ldsBytes)).digest() })] }),
          ],
        }),
      }),
    ],
    certificates: [signer.certificate],
  });
  await signedData.sign(signer.privateKey, 0, 'SHA-256');
  const contentInfo = new pkijs.ContentInfo({ contentType: SIGNED_DATA_OID, content: signedData.toSchema(true) });
  return Buffer.from(new asn1js.Constructed({ idBlock: { tagClass: 2, tagNumber: 23 }, value: [contentInfo.toSchema()] }).toBER());
}
