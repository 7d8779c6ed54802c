// Chip verification (docs/chip-verification.md): a chip read — EF.SOD, DG1, DG13 and optionally DG2 —
// is checked by passive authentication (src/chip/passive-authentication.ts), its MRZ and DG13 read and
// compared with each other, and then with the population registry: the number exists, the person is
// alive, the card is the current one, names and birth date match. The registry is asked only about a
// chip that passed passive authentication: a forged chip must not be a way to probe the registry.
import { randomUUID } from 'node:crypto';
import type { RegistryGateway } from '../registry/gateway.ts';
import { isAlive } from '../registry/registry.ts';
import { ChipFormatError } from './errors.ts';
import { parseDg1, mrzName } from './mrz.ts';
import { parseDg13, type Dg13 } from './dg13.ts';
import { parseSod, HASH_ALGORITHMS } from './sod.ts';
import { passiveAuthentication, type Check } from './passive-authentication.ts';
import type { TrustList } from './trust-list.ts';

/** What a bank's app read from a card over NFC (or an officer's reader at the counter). */
export interface ChipRead {
  readonly sod: Buffer;
  readonly dg1: Buffer;
  readonly dg13: Buffer;
  /** The face image's data group; optional (its hash is in the SOD either way). */
  readonly dg2?: Buffer;
}

/** The largest data group accepted (a DG2 face image is some tens of kB). */
export const MAX_DATA_GROUP_BYTES = 96 * 1024;
/** The largest request body (four base64 fields and their JSON). */
export const MAX_CHIP_BODY_BYTES = 256 * 1024;

const FIELDS = ['sod', 'dg1', 'dg13', 'dg2'] as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Reads `{sod, dg1, dg13, dg2?}` (standard base64); ChipFormatError names the first field at fault. */
export function chipReadOf(body: unknown): ChipRead {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ChipFormatError('expected a JSON object {"sod", "dg1", "dg13", "dg2"}');
  const unknown = Object.keys(body).filter((key) => !(FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new ChipFormatError(`unknown field "${unknown[0]}"`);
  const record = body as Record<string, unknown>;
  const bytes = (field: (typeof FIELDS)[number], required: boolean): Buffer | undefined => {
    const value = record[field];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '') throw new ChipFormatError(`${field}: required, base64`);
    if (!BASE64.test(value)) throw new ChipFormatError(`${field}: not base64`);
    const decoded = Buffer.from(value, 'base64');
    if (decoded.length > MAX_DATA_GROUP_BYTES) throw new ChipFormatError(`${field}: larger than ${MAX_DATA_GROUP_BYTES} bytes`);
    return decoded;
  };
  const dg2 = bytes('dg2', false);
  return { sod: bytes('sod', true)!, dg1: bytes('dg1', true)!, dg13: bytes('dg13', true)!, ...(dg2 && { dg2 }) };
}

/** The identity document as checked, in OpenID Connect for Identity Assurance's terms (accounts.level_evidence_document). */
export interface CheckedDocument {
  readonly type: 'idcard';
  readonly document_number: string;
  readonly issuer: { readonly name: string; readonly country_code: 'VNM' };
  readonly date_of_issuance: string;
  readonly date_of_expiry: string | null;
  /** How it was checked: the chip, by passive authentication. */
  readonly method: 'chip';
  /** The verification's transaction id (in the audit trail and the signed result). */
  readonly txn: string;
  /** When it was checked (ISO 8601). */
  readonly time: string;
}

/** The issuer of citizen identity cards (docs/domain.md). */
export const CARD_ISSUER = 'Cục Cảnh sát quản lý hành chính về trật tự xã hội';

export interface ChipCheck {
  readonly result: 'verified' | 'refused';
  readonly checks: readonly Check[];
  readonly txn: string;
  readonly time: Date;
  /** DG13's personal identification number (parsed, whether or not the chip was genuine). */
  readonly nationalId: string;
  /** The data groups whose hashes were checked. */
  readonly dataGroups: readonly number[];
  /** Only when verified. */
  readonly document?: CheckedDocument;
  /** DG2's hash as the SOD lists it (base64url, with the algorithm), so a face image can be tied to the card later. */
  readonly dg2Hash?: { readonly alg: string; readonly value: string };
}

const todayInVietnam = (now: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(now);
const yymmdd = (iso: string) => `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`;
const sameName = (a: string, b: string) => a.normalize('NFC').replace(/\s+/g, ' ').trim() === b.normalize('NFC').replace(/\s+/g, ' ').trim();

export class ChipVerifier {
  readonly #trust: () => TrustList;
  readonly #registry: Pick<RegistryGateway, 'findByNationalId'>;
  readonly #clock: () => Date;

  constructor(deps: { trust: () => TrustList; registry: Pick<RegistryGateway, 'findByNationalId'>; clock?: () => Date }) {
    this.#trust = deps.trust;
    this.#registry = deps.registry;
    this.#clock = deps.clock ?? (() => new Date());
  }

  /** Checks a chip read; ChipFormatError (the caller's 400) when a part cannot be read at all. */
  async check(read: ChipRead): Promise<ChipCheck> {
    const time = this.#clock();
    const sod = parseSod(read.sod);
    const mrz = parseDg1(read.dg1);
    const dg13 = parseDg13(read.dg13);
    const groups = new Map<number, Uint8Array>([
      [1, read.dg1],
      [13, read.dg13],
      ...(read.dg2 ? ([[2, read.dg2]] as const) : []),
    ]);
    const authentication = await passiveAuthentication(sod, groups, this.#trust(), time);
    const checks: Check[] = [...authentication.checks];
    checks.push({ check: 'mrz_check_digits_valid', passed: mrz.checkDigitsValid });
    checks.push({
      check: 'mrz_matches_dg13',
      passed: mrz.nationalId === dg13.nationalId && mrz.documentNumber === dg13.nationalId.slice(3) && mrz.birthDate === yymmdd(dg13.birthDate),
    });
    checks.push({ check: 'card_not_expired', passed: dg13.expiryDate === null || dg13.expiryDate >= todayInVietnam(time) });

    if (checks.every((check) => check.passed)) checks.push(...(await this.#registryChecks(dg13, mrz.primaryIdentifier)));
    const verified = checks.every((check) => check.passed);
    const txn = randomUUID();
    const dg2Listed = sod.dataGroupHashes.get(2);
    const hashName = HASH_ALGORITHMS[sod.hashAlgorithm];
    return {
      result: verified ? 'verified' : 'refused',
      checks,
      txn,
      time,
      nationalId: dg13.nationalId,
      dataGroups: [...groups.keys()].sort((a, b) => a - b),
      ...(verified && { document: documentOf(dg13, txn, time) }),
      ...(dg2Listed && hashName && { dg2Hash: { alg: hashName, value: dg2Listed.toString('base64url') } }),
    };
  }

  async #registryChecks(dg13: Dg13, mrzSurname: string): Promise<Check[]> {
    const record = await this.#registry.findByNationalId(dg13.nationalId);
    if (!record) return [{ check: 'registry_record_found', passed: false }];
    return [
      { check: 'registry_record_found', passed: true },
      { check: 'citizen_alive', passed: isAlive(record) },
      // The card number is the personal identification number; a new card has a new issue date.
      { check: 'card_is_current', passed: record.idCardIssueDate !== null && record.idCardIssueDate === dg13.issueDate && record.nationalId === dg13.nationalId },
      { check: 'name_matches_registry', passed: sameName(dg13.fullName, record.fullName) && mrzName(record.familyName) === mrzSurname },
      { check: 'birth_date_matches_registry', passed: dg13.birthDate === record.birthDate },
    ];
  }
}

function documentOf(dg13: Dg13, txn: string, time: Date): CheckedDocument {
  return {
    type: 'idcard',
    document_number: dg13.nationalId,
    issuer: { name: CARD_ISSUER, country_code: 'VNM' },
    date_of_issuance: dg13.issueDate,
    date_of_expiry: dg13.expiryDate,
    method: 'chip',
    txn,
    time: time.toISOString(),
  };
}

export { ChipFormatError };
