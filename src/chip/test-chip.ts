// Test chips (docs/chip-verification.md "Test chips"): a synthetic chip for a registry record — EF.SOD,
// DG1, DG2 (a small generated image), DG13 — signed by a test document signer under a test CSCA. The
// quickstart keeps that authority under DATA_DIR/chip-test-authority/ and trusts it outside production;
// its certificates say "TEST ONLY" and production refuses them (src/chip/trust-list.ts).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import * as asn1js from 'asn1js';
import type { RegistryRecord } from '../registry/registry.ts';
import { certificateFromDer, certificatePem, exportPrivateKey, importPrivateKey, issueCertificate, pemBlocks, type IssuedCertificate } from './certificates.ts';
import { encodeDg1, mrzLines } from './mrz.ts';
import { encodeDg13 } from './dg13.ts';
import { buildSod } from './sod.ts';

export interface TestChipAuthority {
  readonly csca: IssuedCertificate;
  readonly documentSigner: IssuedCertificate;
}

export interface ChipFiles {
  readonly sod: Buffer;
  readonly dg1: Buffer;
  readonly dg2: Buffer;
  readonly dg13: Buffer;
}

const FOLDER = 'chip-test-authority';
const YEAR_MS = 365 * 24 * 3600 * 1000;

export const testAuthorityFolder = (dataDir: string) => path.resolve(dataDir, FOLDER);

/** A new test CSCA (ten years) and a document signer under it (two years). */
export async function newTestAuthority(label = 'citizen-idp quickstart'): Promise<TestChipAuthority> {
  const now = Date.now();
  const csca = await issueCertificate({ commonName: `TEST ONLY CSCA ${label}`, notBefore: new Date(now - 3600_000), notAfter: new Date(now + 10 * YEAR_MS) });
  const documentSigner = await newDocumentSigner(csca, { notBefore: new Date(now - 3600_000), notAfter: new Date(now + 2 * YEAR_MS) });
  return { csca, documentSigner };
}

export function newDocumentSigner(csca: IssuedCertificate, validity: { notBefore: Date; notAfter: Date }, label = 'document signer'): Promise<IssuedCertificate> {
  return issueCertificate({ commonName: `TEST ONLY ${label}`, issuer: csca, ...validity });
}

async function readIssued(folder: string, name: string): Promise<IssuedCertificate> {
  const [der] = pemBlocks(readFileSync(path.join(folder, `${name}.pem`), 'utf8'), 'CERTIFICATE');
  if (!der) throw new Error(`${folder}/${name}.pem: no certificate`);
  return { certificate: certificateFromDer(der), privateKey: await importPrivateKey(readFileSync(path.join(folder, `${name}.key.pem`), 'utf8')) };
}

/**
 * The quickstart's test authority, generated once into DATA_DIR/chip-test-authority/ (written to a
 * temporary folder and renamed, so two processes starting at once end with one authority).
 */
export async function ensureTestAuthority(dataDir: string): Promise<TestChipAuthority> {
  const folder = testAuthorityFolder(dataDir);
  if (!existsSync(path.join(folder, 'document-signer.key.pem'))) {
    const authority = await newTestAuthority();
    const staging = `${folder}.${randomBytes(6).toString('hex')}`;
    mkdirSync(staging, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(staging, 'README'), 'TEST ONLY: the quickstart\'s chip-signing authority. Never trust it outside a test or a demo.\n');
    for (const [name, issued] of [['csca', authority.csca], ['document-signer', authority.documentSigner]] as const) {
      writeFileSync(path.join(staging, `${name}.pem`), certificatePem(issued.certificate));
      writeFileSync(path.join(staging, `${name}.key.pem`), await exportPrivateKey(issued.privateKey), { mode: 0o600 });
    }
    try {
      renameSync(staging, folder);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process was first: use its authority
    }
  }
  return { csca: await readIssued(folder, 'csca'), documentSigner: await readIssued(folder, 'document-signer') };
}

/** The test CSCA certificate only (what the server trusts), generating the authority when missing. */
export async function testTrustAnchor(dataDir: string) {
  return (await ensureTestAuthority(dataDir)).csca.certificate;
}

/** A 16×16 PNG, grey with a lighter disc: a stand-in face image. */
export function placeholderFace(): Buffer {
  const size = 16;
  const rows: number[] = [];
  for (let y = 0; y < size; y += 1) {
    rows.push(0);
    for (let x = 0; x < size; x += 1) rows.push((x - 7.5) ** 2 + (y - 6.5) ** 2 < 25 ? 0xd8 : 0x70);
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/** DG2: 75 { 7F61 { 02 count, 7F60 { A1 header, 5F2E image } } } (ICAO 9303 part 10, 4.7.2, simplified). */
export function encodeDg2(image: Buffer): Buffer {
  const tagged = (tagNumber: number, value: asn1js.AsnType[]) => new asn1js.Constructed({ idBlock: { tagClass: 2, tagNumber }, value });
  const header = new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: new Uint8Array([1, 1]) })] });
  const data = new asn1js.Primitive({ idBlock: { tagClass: 2, tagNumber: 0x2e }, valueHex: new Uint8Array(image) });
  const group = tagged(0x61, [new asn1js.Integer({ value: 1 }), tagged(0x60, [header, data])]);
  return Buffer.from(tagged(0x15, [group]).toBER());
}

/** The chip of `record`'s current card, signed by `signer`. */
export async function issueTestChip(record: RegistryRecord, signer: IssuedCertificate): Promise<ChipFiles> {
  if (!record.idCardIssueDate) throw new Error(`${record.nationalId}: the registry shows no identity card`);
  const dg1 = encodeDg1(
    mrzLines({
      nationalId: record.nationalId,
      birthDate: record.birthDate,
      sex: record.gender === 'female' ? 'F' : 'M',
      expiryDate: record.idCardExpiryDate,
      familyName: record.familyName,
      givenNames: [record.middleName, record.givenName].filter(Boolean).join(' '),
    }),
  );
  const dg13 = encodeDg13({
    nationalId: record.nationalId,
    fullName: record.fullName,
    birthDate: record.birthDate,
    sex: record.gender === 'female' ? 'Nữ' : 'Nam',
    nationality: 'Việt Nam',
    placeOfOrigin: record.placeOfOrigin,
    issueDate: record.idCardIssueDate,
    expiryDate: record.idCardExpiryDate,
  });
  const dg2 = encodeDg2(placeholderFace());
  const sod = await buildSod(
    new Map([
      [1, dg1],
      [2, dg2],
      [13, dg13],
    ]),
    signer,
  );
  return { sod, dg1, dg2, dg13 };
}

/** Writes a chip as DIR/sod.bin, dg1.bin, dg2.bin, dg13.bin. */
export function writeChip(dir: string, chip: ChipFiles): string[] {
  mkdirSync(dir, { recursive: true });
  return (['sod', 'dg1', 'dg2', 'dg13'] as const).map((name) => {
    const file = path.join(dir, `${name}.bin`);
    writeFileSync(file, chip[name]);
    return file;
  });
}

/** The JSON a bank posts to /chip/verifications for a chip read. */
export function chipRequestBody(chip: ChipFiles, options: { withDg2?: boolean } = {}): { sod: string; dg1: string; dg13: string; dg2?: string } {
  return {
    sod: chip.sod.toString('base64'),
    dg1: chip.dg1.toString('base64'),
    dg13: chip.dg13.toString('base64'),
    ...(options.withDg2 !== false && { dg2: chip.dg2.toString('base64') }),
  };
}
