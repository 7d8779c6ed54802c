// The country signing CA certificates a chip's document signer must chain to, and the revocation lists
// checked (CHIP_TRUST_LIST, CHIP_CRL_FILE: src/config/settings.ts). Outside production the quickstart's
// test CSCA (src/chip/test-chip.ts) is trusted as well; production never trusts it, nor any certificate
// marked TEST ONLY, whatever the files say.
import { readFileSync } from 'node:fs';
import type * as pkijs from 'pkijs';
import { certificateFromDer, commonNameOf, crlFromDer, isTestCertificate, pemBlocks } from './certificates.ts';

export interface TrustList {
  readonly cscas: readonly pkijs.Certificate[];
  readonly crls: readonly pkijs.CertificateRevocationList[];
}

export class TrustListError extends Error {
  override readonly name = 'TrustListError';
}

/** Certificates of a PEM file; TrustListError when it holds none or one is unreadable. */
export function readCertificates(file: string): pkijs.Certificate[] {
  const blocks = pemBlocks(readFileSync(file, 'utf8'), 'CERTIFICATE');
  if (blocks.length === 0) throw new TrustListError(`${file}: no PEM certificate`);
  return blocks.map((der, index) => {
    try {
      return certificateFromDer(der);
    } catch (error) {
      throw new TrustListError(`${file}: certificate ${index + 1} is unreadable (${(error as Error).message})`);
    }
  });
}

function readCrls(file: string): pkijs.CertificateRevocationList[] {
  const blocks = pemBlocks(readFileSync(file, 'utf8'), 'X509 CRL');
  if (blocks.length === 0) throw new TrustListError(`${file}: no PEM revocation list (X509 CRL)`);
  return blocks.map((der, index) => {
    try {
      return crlFromDer(der);
    } catch (error) {
      throw new TrustListError(`${file}: revocation list ${index + 1} is unreadable (${(error as Error).message})`);
    }
  });
}

/**
 * The trust list: the configured CSCAs (a production one marked TEST ONLY is refused), plus `test`
 * (the quickstart's test CSCA) outside production.
 */
export function loadTrustList(options: {
  production: boolean;
  trustListFile?: string | undefined;
  crlFile?: string | undefined;
  test?: readonly pkijs.Certificate[];
}): TrustList {
  const configured = options.trustListFile ? readCertificates(options.trustListFile) : [];
  if (options.production) {
    const marked = configured.find(isTestCertificate);
    if (marked) throw new TrustListError(`${options.trustListFile}: "${commonNameOf(marked)}" is a test certificate, never trusted in production`);
  }
  return {
    cscas: [...configured, ...(options.production ? [] : (options.test ?? []))],
    crls: options.crlFile ? readCrls(options.crlFile) : [],
  };
}

/** Whether a PEM file holds a certificate marked TEST ONLY (the configuration refuses it in production). */
export function holdsTestCertificate(file: string): boolean {
  try {
    return readCertificates(file).some(isTestCertificate);
  } catch {
    return false; // unreadable: the server's start says so (loadTrustList)
  }
}
