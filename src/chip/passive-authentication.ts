// ICAO Doc 9303 part 11, 5.1: passive authentication. The SOD's document-signer certificate must be
// issued by a country signing CA on the trust list, valid now, for digital signatures and not revoked
// (when revocation lists are configured); its signature over the LDSSecurityObject must verify; and each
// submitted data group must hash to the value the SOD lists. Each of these is a named check, so a
// refusal says which one failed (docs/chip-verification.md "Checks").
import type * as pkijs from 'pkijs';
import { keyUsageOf } from './certificates.ts';
import { dataGroupHash, type Sod } from './sod.ts';
import type { TrustList } from './trust-list.ts';

export interface Check {
  readonly check: string;
  readonly passed: boolean;
}

export interface PassiveAuthentication {
  readonly checks: readonly Check[];
  readonly passed: boolean;
  /** The document signer (for the record), when the SOD carried its certificate. */
  readonly documentSigner: { readonly serialNumber: string; readonly issuerMatched: boolean } | undefined;
}

/** The data groups a bank may submit, by number (DG1 MRZ, DG2 face, DG13 Vietnamese personal data). */
export const SUBMITTED_GROUPS = [1, 2, 13] as const;

export async function passiveAuthentication(
  sod: Sod,
  dataGroups: ReadonlyMap<number, Uint8Array>,
  trust: TrustList,
  now: Date = new Date(),
): Promise<PassiveAuthentication> {
  const checks: Check[] = [];
  const signer = sod.documentSigner;

  const csca = signer ? await issuerOf(signer, trust.cscas) : undefined;
  checks.push({ check: 'document_signer_trusted', passed: csca !== undefined });
  checks.push({ check: 'document_signer_in_validity_period', passed: signer !== undefined && signer.notBefore.value <= now && now <= signer.notAfter.value });
  checks.push({ check: 'document_signer_key_usage', passed: signer !== undefined && keyUsageOf(signer)?.digitalSignature === true });
  if (trust.crls.length > 0) checks.push({ check: 'document_signer_not_revoked', passed: signer !== undefined && csca !== undefined && (await notRevoked(signer, csca, trust.crls, now)) });

  let signatureVerified = false;
  if (signer) {
    try {
      const verified = await sod.signedData.verify({ signer: 0, checkChain: false, extendedMode: true });
      signatureVerified = verified.signatureVerified === true;
    } catch {
      signatureVerified = false;
    }
  }
  checks.push({ check: 'sod_signature_valid', passed: signatureVerified });

  for (const group of SUBMITTED_GROUPS) {
    const bytes = dataGroups.get(group);
    if (bytes === undefined) continue;
    const listed = sod.dataGroupHashes.get(group);
    const actual = dataGroupHash(sod.hashAlgorithm, bytes);
    checks.push({ check: `dg${group}_hash_matches`, passed: listed !== undefined && actual !== undefined && listed.equals(actual) });
  }

  return {
    checks,
    passed: checks.every((check) => check.passed),
    documentSigner: signer && { serialNumber: Buffer.from(signer.serialNumber.valueBlock.valueHexView).toString('hex'), issuerMatched: csca !== undefined },
  };
}

/** The trusted CSCA that issued `certificate` (same name, and its signature verifies), if any. */
async function issuerOf(certificate: pkijs.Certificate, cscas: readonly pkijs.Certificate[]): Promise<pkijs.Certificate | undefined> {
  for (const csca of cscas) {
    if (!certificate.issuer.isEqual(csca.subject)) continue;
    try {
      if (await certificate.verify(csca)) return csca;
    } catch {
      // another key under the same name (a CSCA rollover): try the next
    }
  }
  return undefined;
}

/**
 * Not revoked: a revocation list of the issuing CSCA, signed by it and current (a list past its next
 * update counts as none — the stricter reading), does not list the certificate. A CSCA with no list
 * configured passes: revocation lists are configured per country.
 */
async function notRevoked(certificate: pkijs.Certificate, csca: pkijs.Certificate, crls: readonly pkijs.CertificateRevocationList[], now: Date): Promise<boolean> {
  const own = crls.filter((crl) => crl.issuer.isEqual(csca.subject));
  if (own.length === 0) return true;
  for (const crl of own) {
    const signed = await crl.verify({ issuerCertificate: csca }).catch(() => false);
    if (!signed) continue;
    if (crl.nextUpdate && crl.nextUpdate.value < now) continue;
    return !crl.isCertificateRevoked(certificate);
  }
  return false;
}
