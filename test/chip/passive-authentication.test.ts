// ICAO 9303 passive authentication as src/chip/passive-authentication.ts does it, check by check: the
// document signer chains to a trusted CSCA, is within its dates, is for digital signatures, is not on a
// current revocation list of its CSCA; the SOD's signature holds; each submitted data group hashes to
// the SOD's value. And the trust list: production never trusts a TEST ONLY certificate.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as asn1js from 'asn1js';
import { passiveAuthentication, type Check } from '../../src/chip/passive-authentication.ts';
import { buildSod, parseSod } from '../../src/chip/sod.ts';
import { certificatePem, issueCrl, toPem } from '../../src/chip/certificates.ts';
import { newDocumentSigner, newTestAuthority, type TestChipAuthority } from '../../src/chip/test-chip.ts';
import { holdsTestCertificate, loadTrustList, TrustListError, type TrustList } from '../../src/chip/trust-list.ts';
import { chipCommand, ChipCommandRefused } from '../../src/chip/chip-cli.ts';

const DG1 = Buffer.from('dg1 bytes');
const DG13 = Buffer.from('dg13 bytes');
const DAY = 24 * 3600 * 1000;

const failed = (checks: readonly Check[]) => checks.filter((check) => !check.passed).map((check) => check.check);
const groups = (dg1 = DG1, dg13 = DG13) => new Map<number, Uint8Array>([[1, dg1], [13, dg13]]);

describe('passive authentication', function () {
  this.timeout(30_000);
  let authority: TestChipAuthority;
  let trust: TrustList;
  let sod: Buffer;
  let folder: string;

  before(async function () {
    authority = await newTestAuthority('unit');
    trust = { cscas: [authority.csca.certificate], crls: [] };
    sod = await buildSod(groups(), authority.documentSigner);
    folder = mkdtempSync(path.join(tmpdir(), 'chip-trust-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('passes a SOD of a trusted signer over the submitted groups', async function () {
    const result = await passiveAuthentication(parseSod(sod), groups(), trust);
    expect(result.passed).to.equal(true);
    expect(result.checks.map((check) => check.check)).to.deep.equal([
      'document_signer_trusted',
      'document_signer_in_validity_period',
      'document_signer_key_usage',
      'sod_signature_valid',
      'dg1_hash_matches',
      'dg13_hash_matches',
    ]);
  });

  it('finds the signer named by its subject key identifier too (RFC 5652 SignerIdentifier [0])', async function () {
    const byKey = await buildSod(groups(), authority.documentSigner, { signerIdentifier: 'subjectKeyIdentifier' });
    const result = await passiveAuthentication(parseSod(byKey), groups(), trust);
    expect(failed(result.checks)).to.deep.equal([]);
  });

  it('fails only the hash of a changed data group', async function () {
    expect(failed((await passiveAuthentication(parseSod(sod), groups(DG1, Buffer.from('other')), trust)).checks)).to.deep.equal(['dg13_hash_matches']);
  });

  it('fails a data group the SOD does not list', async function () {
    const withoutDg13 = await buildSod(new Map([[1, DG1]]), authority.documentSigner);
    expect(failed((await passiveAuthentication(parseSod(withoutDg13), groups(), trust)).checks)).to.deep.equal(['dg13_hash_matches']);
  });

  it('fails the signature of a SOD whose signature bytes were changed', async function () {
    const parsed = parseSod(sod);
    const signature = parsed.signedData.signerInfos[0]!.signature;
    const bytes = new Uint8Array(signature.valueBlock.valueHexView);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    parsed.signedData.signerInfos[0]!.signature = new asn1js.OctetString({ valueHex: bytes });
    expect(failed((await passiveAuthentication(parsed, groups(), trust)).checks)).to.deep.equal(['sod_signature_valid']);
  });

  it('fails the key usage of a signer that is a CA certificate (keyCertSign, not digitalSignature)', async function () {
    const signedByCsca = await buildSod(groups(), authority.csca);
    expect(failed((await passiveAuthentication(parseSod(signedByCsca), groups(), trust)).checks)).to.deep.equal(['document_signer_key_usage']);
  });

  it('fails a signer not yet valid', async function () {
    const future = await newDocumentSigner(authority.csca, { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 400 * DAY) });
    const chip = await buildSod(groups(), future);
    expect(failed((await passiveAuthentication(parseSod(chip), groups(), trust)).checks)).to.deep.equal(['document_signer_in_validity_period']);
  });

  it('fails a signer its CSCA revoked; a current list without it passes; a stale list fails (the stricter reading)', async function () {
    const revoked = await issueCrl(authority.csca, [authority.documentSigner.certificate], new Date(Date.now() + 30 * DAY));
    const clean = await issueCrl(authority.csca, [], new Date(Date.now() + 30 * DAY));
    const stale = await issueCrl(authority.csca, [], new Date(Date.now() - DAY));
    const parsed = parseSod(sod);
    expect(failed((await passiveAuthentication(parsed, groups(), { ...trust, crls: [revoked] })).checks)).to.deep.equal(['document_signer_not_revoked']);
    expect(failed((await passiveAuthentication(parsed, groups(), { ...trust, crls: [clean] })).checks)).to.deep.equal([]);
    expect(failed((await passiveAuthentication(parsed, groups(), { ...trust, crls: [stale] })).checks)).to.deep.equal(['document_signer_not_revoked']);
  });

  it('reads the trust list and revocation lists from PEM files (CHIP_TRUST_LIST, CHIP_CRL_FILE)', async function () {
    const certificates = path.join(folder, 'csca.pem');
    writeFileSync(certificates, certificatePem(authority.csca.certificate));
    const crls = path.join(folder, 'crl.pem');
    const crl = await issueCrl(authority.csca, [authority.documentSigner.certificate], new Date(Date.now() + 30 * DAY));
    writeFileSync(crls, toPem((crl.toSchema() as asn1js.Sequence).toBER(false), 'X509 CRL'));
    const loaded = loadTrustList({ production: false, trustListFile: certificates, crlFile: crls });
    expect(loaded.cscas).to.have.length(1);
    expect(failed((await passiveAuthentication(parseSod(sod), groups(), loaded)).checks)).to.deep.equal(['document_signer_not_revoked']);
    const empty = path.join(folder, 'empty.pem');
    writeFileSync(empty, 'nothing here');
    expect(() => loadTrustList({ production: false, trustListFile: empty })).to.throw(TrustListError, /no PEM certificate/);
  });

  it('never trusts a TEST ONLY certificate in production: refused in the file, the test anchor left out', function () {
    const file = path.join(folder, 'test-csca.pem');
    writeFileSync(file, certificatePem(authority.csca.certificate));
    expect(holdsTestCertificate(file)).to.equal(true);
    expect(() => loadTrustList({ production: true, trustListFile: file })).to.throw(TrustListError, /never trusted in production/);
    expect(loadTrustList({ production: true, test: [authority.csca.certificate] }).cscas).to.deep.equal([]);
    expect(loadTrustList({ production: false, test: [authority.csca.certificate] }).cscas).to.have.length(1);
  });

  it('issues no test chip in production', async function () {
    let refusal: unknown;
    await chipCommand('issue', ['--id', '001099012345', '--out', path.join(folder, 'never')], {
      production: true,
      dataDir: folder,
      findRecord: () => Promise.reject(new Error('not asked')),
    }).catch((error: unknown) => (refusal = error));
    expect(refusal).to.be.instanceOf(ChipCommandRefused);
    expect((refusal as Error).message).to.include('never issued in production');
  });
});
