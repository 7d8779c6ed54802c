// Verified claims (OpenID Connect for Identity Assurance 1.0, docs/integrating-a-bank.md "Requesting
// verified claims"): what the provider can say about how a citizen's registry data was verified, and
// the release of exactly what a client asked for. The verification is the account's: its level, when
// that level was reached, the population register looked up for this very request, and for level 2
// the identity card as checked at the counter (in person, or its chip verified). A constraint the data
// cannot meet leaves the whole verified_claims element out, never a weaker claim.
import { randomUUID } from 'node:crypto';
import { CONSTRAINT_KEYS, isConstraint, isPlainObject, type VerifiedClaimsRequest } from './verified-claims-request.ts';

/** The one trust framework: Vietnam's eID under the Law on Identification and Decree 69/2024 (docs/domain.md). */
export const TRUST_FRAMEWORK = 'vn_eid';
export const ASSURANCE_LEVELS = ['level_1', 'level_2'] as const;
/** The population register, as the Identity Assurance predefined electronic-record type names it. */
export const POPULATION_REGISTER = 'population_register';
export const ID_CARD = 'idcard';
/**
 * Check methods (the Identity Assurance predefined values): `data` — the record read from the
 * authoritative source; `vpip` — the card inspected in person; `vcrypt` — its chip's signatures
 * verified; `pvp` — an officer compared the person with the card, in person.
 */
export const CHECK_METHODS = ['data', 'vpip', 'vcrypt', 'pvp'] as const;

/** The registry-backed claims a verified_claims element may carry (never the account's e-mail or phone). */
export const CLAIMS_IN_VERIFIED_CLAIMS = [
  'name',
  'family_name',
  'middle_name',
  'given_name',
  'birthdate',
  'gender',
  'national_id',
  'nationality',
  'place_of_origin',
  'address',
] as const;

const REGISTER_NAME = 'Cơ sở dữ liệu quốc gia về dân cư';
/** The department of the Ministry of Public Security that issues identity cards (as the chip check names it, src/chip/). */
const CARD_ISSUER = 'Cục Cảnh sát quản lý hành chính về trật tự xã hội';
const COUNTRY_CODE = 'VNM';

/** What discovery says of verified claims ("OP metadata"). */
export const VERIFIED_CLAIMS_DISCOVERY = {
  verified_claims_supported: true,
  trust_frameworks_supported: [TRUST_FRAMEWORK],
  evidence_supported: ['electronic_record', 'document'],
  documents_supported: [ID_CARD],
  documents_check_methods_supported: ['vpip', 'vcrypt', 'pvp'],
  electronic_records_supported: [POPULATION_REGISTER],
  claims_in_verified_claims_supported: [...CLAIMS_IN_VERIFIED_CLAIMS],
} as const;

/** How an account's level was evidenced (accounts.level_* columns). */
export interface LevelEvidence {
  readonly level: 1 | 2;
  readonly createdAt: Date;
  readonly levelRaisedAt: Date | null;
  /** `chip` when the card's chip was verified at the raise; null for level 1 and for raises before the column (in person). */
  readonly method: 'in_person' | 'chip' | null;
  /** The card as the chip check read it (accounts.level_evidence_document), when level 2 was raised with the chip. */
  readonly document: CheckedCard | null;
}

/** What the chip check recorded of the card it verified; each field only if it was there. */
export interface CheckedCard {
  readonly documentNumber?: string;
  readonly dateOfIssuance?: string;
  readonly dateOfExpiry?: string;
  /** The chip verification's transaction id (its audit event and signed result). */
  readonly txn?: string;
  /** When the chip was verified. */
  readonly time?: Date;
}

/** Reads accounts.level_evidence_document as the chip check writes it, ignoring whatever is not as expected. */
export function checkedCardOf(document: unknown): CheckedCard | null {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return null;
  const field = (name: string) => {
    const value = (document as Record<string, unknown>)[name];
    return typeof value === 'string' && value.length > 0 && value.length <= 100 ? value : undefined;
  };
  const date = (name: string) => {
    const value = field(name);
    return value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : undefined;
  };
  const time = field('time');
  const at = time === undefined ? Number.NaN : Date.parse(time);
  const card: CheckedCard = {
    ...(field('document_number') && { documentNumber: field('document_number') }),
    ...(date('date_of_issuance') && { dateOfIssuance: date('date_of_issuance') }),
    ...(date('date_of_expiry') && { dateOfExpiry: date('date_of_expiry') }),
    ...(field('txn') && { txn: field('txn') }),
    ...(!Number.isNaN(at) && { time: new Date(at) }),
  };
  return card;
}

/** The identity card as the registry knows it. */
export interface RegistryCard {
  readonly nationalId: string;
  readonly issueDate: string | null;
  readonly expiryDate: string | null;
}

/** What the release may use: the evidence, the card, when the register was read, and which data the client may receive. */
export interface VerificationSource {
  readonly evidence: LevelEvidence;
  readonly card: RegistryCard;
  /** When the population register was read for this request. */
  readonly registryReadAt: Date;
  /** Claim values the client may receive (approved for it and consented by the citizen), by name. */
  readonly allowedClaims: Readonly<Record<string, unknown>>;
}

export interface VerifiedClaimsRelease {
  /** The element to put in the token or response: an object, or an array when an array was asked for. */
  readonly element: unknown;
  /** Ties this release to its audit event and to the register lookup's check_id. */
  readonly txn: string;
  readonly claims: readonly string[];
  readonly assuranceLevel: string;
  readonly evidence: readonly string[];
}

/** ISO 8601 in UTC without fractions, as the schema's `time` elements are written. */
const isoTime = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The card's number on the card and in its MRZ: the last 9 digits of the ID number (docs/domain.md "The chip"). */
export const documentNumberOf = (nationalId: string): string => nationalId.slice(-9);

/** Everything the provider could say in `verification`, before the request picks from it. */
export function availableVerification(source: VerificationSource, txn: string): Record<string, unknown> {
  const { evidence, card, allowedClaims } = source;
  const reachedAt = evidence.level === 2 ? (evidence.levelRaisedAt ?? evidence.createdAt) : evidence.createdAt;
  const items: Record<string, unknown>[] = [
    {
      type: 'electronic_record',
      check_details: [{ check_method: 'data', check_id: txn, time: isoTime(source.registryReadAt) }],
      record: { type: POPULATION_REGISTER, source: { name: REGISTER_NAME, country_code: COUNTRY_CODE } },
    },
  ];
  if (evidence.level === 2) {
    const raisedAt = isoTime(evidence.levelRaisedAt ?? evidence.createdAt);
    // Raised with the chip: the card the chip check read (it may have been renewed since); in person:
    // the card the registry holds.
    const chip = evidence.method === 'chip' ? (evidence.document ?? {}) : undefined;
    const number = chip ? chip.documentNumber : documentNumberOf(card.nationalId);
    const issued = chip ? chip.dateOfIssuance : card.issueDate;
    const expires = chip ? chip.dateOfExpiry : card.expiryDate;
    // The card's number and dates are personal data: only for a client that may receive them as claims.
    const details: Record<string, unknown> = { type: ID_CARD };
    if (allowedClaims.national_id !== undefined && number) details.document_number = number;
    if (allowedClaims.id_card_issue_date !== undefined && issued) details.date_of_issuance = issued;
    if (allowedClaims.id_card_expiry_date !== undefined && expires) details.date_of_expiry = expires;
    details.issuer = { name: CARD_ISSUER, country_code: COUNTRY_CODE };
    const cardCheck = chip
      ? { check_method: 'vcrypt', ...(chip.txn && { check_id: chip.txn }), time: chip.time ? isoTime(chip.time) : raisedAt }
      : { check_method: 'vpip', time: raisedAt };
    items.push({ type: 'document', check_details: [cardCheck, { check_method: 'pvp', time: raisedAt }], document_details: details });
  }
  return {
    trust_framework: TRUST_FRAMEWORK,
    assurance_level: `level_${evidence.level}`,
    time: isoTime(reachedAt),
    evidence: items,
  };
}

type Outcome = { readonly met: true; readonly value: unknown } | { readonly met: false };
const UNMET: Outcome = { met: false };
const omitted: Outcome = { met: true, value: undefined };

/** Elements a valid response always carries when their parent is given. */
const REQUIRED_KEYS = ['trust_framework', 'type', 'check_method'];

/** Seconds since a date (counted from its last second) or a time; undefined if it is neither. */
function ageOf(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const at = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T23:59:59Z`) : Date.parse(value);
  return Number.isNaN(at) ? undefined : (now - at) / 1000;
}

/** value, values and max_age against one available value. */
function meets(constraint: Record<string, unknown>, available: unknown, now: number): boolean {
  if ('value' in constraint && available !== constraint.value) return false;
  if ('values' in constraint && !(constraint.values as unknown[]).includes(available)) return false;
  if ('max_age' in constraint) {
    const age = ageOf(available, now);
    if (age === undefined || age > (constraint.max_age as number)) return false;
  }
  return true;
}

const restricts = (constraint: Record<string, unknown>) => 'value' in constraint || 'values' in constraint || 'max_age' in constraint;

/**
 * The part of `available` a request asks for. null asks for the element as it is; a constraint
 * object must be met; an object names deeper elements; an array is a list of filters (OR), each also
 * the template of what a matching item shows. Unmet anywhere means unmet for the whole.
 */
export function select(available: unknown, request: unknown, now: number, template = false): Outcome {
  if (request === null) return { met: true, value: available };
  if (Array.isArray(request)) {
    if (!Array.isArray(available)) return UNMET;
    const chosen: unknown[] = [];
    for (const item of available) {
      for (const filter of request) {
        const outcome = select(item, filter, now);
        if (outcome.met) {
          chosen.push(outcome.value);
          break;
        }
      }
    }
    return chosen.length > 0 ? { met: true, value: chosen } : UNMET;
  }
  if (!isPlainObject(request)) return UNMET;
  // The verification element itself is always a template: `{}` asks for nothing but what a valid answer needs.
  if (isConstraint(request) && !(template && isPlainObject(available))) {
    if (!restricts(request)) return { met: true, value: available };
    if (available === undefined || isPlainObject(available) || Array.isArray(available)) return UNMET;
    return meets(request, available, now) ? { met: true, value: available } : UNMET;
  }
  if (available === undefined) {
    // Nothing to give: fine unless something deeper had to be met.
    for (const [key, value] of Object.entries(request)) {
      if (!CONSTRAINT_KEYS.has(key) && !select(undefined, value, now).met) return UNMET;
    }
    return omitted;
  }
  if (!isPlainObject(available)) return UNMET;
  const out: Record<string, unknown> = {};
  for (const key of REQUIRED_KEYS) if (available[key] !== undefined) out[key] = available[key];
  for (const [key, value] of Object.entries(request)) {
    if (CONSTRAINT_KEYS.has(key)) continue;
    const outcome = select(available[key], value, now);
    if (!outcome.met) return UNMET;
    if (outcome.value !== undefined) out[key] = outcome.value;
  }
  return { met: true, value: out };
}

/** The claims an entry asks for that the client may receive; a claim whose constraint is unmet is left out. */
function selectClaims(requested: Record<string, unknown>, allowed: Readonly<Record<string, unknown>>, now: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, request] of Object.entries(requested)) {
    if (!(CLAIMS_IN_VERIFIED_CLAIMS as readonly string[]).includes(name)) continue;
    const value = allowed[name];
    if (value === undefined) continue;
    if (isPlainObject(request) && restricts(request) && (isPlainObject(value) || !meets(request, value, now))) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The verified_claims element for a request, or undefined when no entry could be met. Each entry is
 * answered on its own ("Requesting claims sets with different verification requirements").
 */
export function releaseVerifiedClaims(request: VerifiedClaimsRequest, source: VerificationSource, now = Date.now()): VerifiedClaimsRelease | undefined {
  const txn = randomUUID();
  const available = availableVerification(source, txn);
  const answered: { verification: Record<string, unknown>; claims: Record<string, unknown> }[] = [];
  for (const entry of request.entries) {
    const verification = select(available, entry.verification, now, true);
    if (!verification.met) continue;
    answered.push({ verification: verification.value as Record<string, unknown>, claims: selectClaims(entry.claims, source.allowedClaims, now) });
  }
  if (answered.length === 0) return undefined;
  const evidenceTypes = new Set<string>();
  for (const { verification } of answered) {
    for (const item of (verification.evidence as { type?: unknown }[] | undefined) ?? []) if (typeof item.type === 'string') evidenceTypes.add(item.type);
  }
  return {
    element: request.asArray ? answered : answered[0],
    txn,
    claims: [...new Set(answered.flatMap((entry) => Object.keys(entry.claims)))].sort(),
    assuranceLevel: available.assurance_level as string,
    evidence: [...evidenceTypes],
  };
}
