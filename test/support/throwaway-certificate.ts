// A throwaway self-signed TLS pair for the test servers that speak https on loopback (the
// TLS-terminating proxy, the sector host): made by openssl when asked, so no private key is committed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A P-256 key and a two-day certificate for IP 127.0.0.1 and DNS localhost (CN localhost), both PEM. */
export function throwawayCertificate(): { key: string; cert: string } {
  const folder = mkdtempSync(path.join(tmpdir(), 'throwaway-certificate-'));
  try {
    const keyFile = path.join(folder, 'key.pem');
    const certFile = path.join(folder, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
