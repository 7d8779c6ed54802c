// The registry file's column set (CSV header, NDJSON keys) and the rules every imported row must pass,
// turning a raw row into the registry_records columns or into one line saying what is wrong with it.
import { checkNationalId, nationalIdFormatProblem, type Gender } from './national-id.ts';
import { currentProvinceNamed } from './administrative-units.ts';
import { RELATIONS_TO_HEAD } from './registry.ts';
import { foldName } from './names.ts';

/** The columns of a registry file, in the order the generator writes them (an import takes any order). */
export const REGISTRY_FILE_COLUMNS = [
  'national_id',
  'family_name',
  'middle_name',
  'given_name',
  'birth_date',
  'gender',
  'birth_registration_province',
  'place_of_origin',
  'ethnicity',
  'nationality',
  'id_card_issue_date',
  'id_card_expiry_date',
  'permanent_street',
  'permanent_locality',
  'permanent_region',
  'temporary_street',
  'temporary_locality',
  'temporary_region',
  'household_id',
  'relation_to_head',
  'died_on',
  'missing_since',
  'contact_phone',
  'contact_email',
  'father_national_id',
  'mother_national_id',
  'guardian_national_id',
] as const;

export type RegistryFileColumn = (typeof REGISTRY_FILE_COLUMNS)[number];

/**
 * The family relations (docs/registry.md "Parents and guardian"): optional columns, so that files
 * written before them still import. A file without a column says nothing about it: an import keeps what
 * the registry holds there (registry-import.ts).
 */
export const RELATION_COLUMNS = ['father_national_id', 'mother_national_id', 'guardian_national_id'] as const;
export type RelationColumn = (typeof RELATION_COLUMNS)[number];

/** The columns a file must have (all but the relations). */
export const REQUIRED_FILE_COLUMNS: readonly RegistryFileColumn[] = REGISTRY_FILE_COLUMNS.filter(
  (column) => !(RELATION_COLUMNS as readonly string[]).includes(column),
);

/** registry_records' columns that an import writes, in the order RegistryRowValidator.check() returns them. */
export const RECORD_COLUMNS = [
  'national_id',
  'family_name',
  'middle_name',
  'given_name',
  'full_name',
  'full_name_folded',
  'birth_date',
  'gender',
  'birth_registration_province',
  'place_of_origin',
  'ethnicity',
  'nationality',
  'id_card_issue_date',
  'id_card_expiry_date',
  'permanent_address',
  'temporary_address',
  'household_id',
  'relation_to_head',
  'died_on',
  'missing_since',
  'contact_phone',
  'contact_email',
  'father_national_id',
  'mother_national_id',
  'guardian_national_id',
] as const;

/** The SQL type of each record column, for a staging table that mirrors registry_records. */
export const RECORD_COLUMN_TYPES: Readonly<Record<(typeof RECORD_COLUMNS)[number], string>> = {
  national_id: 'char(12)',
  family_name: 'text',
  middle_name: 'text',
  given_name: 'text',
  full_name: 'text',
  full_name_folded: 'text',
  birth_date: 'date',
  gender: 'text',
  birth_registration_province: 'char(3)',
  place_of_origin: 'text',
  ethnicity: 'text',
  nationality: 'char(2)',
  id_card_issue_date: 'date',
  id_card_expiry_date: 'date',
  permanent_address: 'jsonb',
  temporary_address: 'jsonb',
  household_id: 'text',
  relation_to_head: 'text',
  died_on: 'date',
  missing_since: 'date',
  contact_phone: 'text',
  contact_email: 'text',
  father_national_id: 'char(12)',
  mother_national_id: 'char(12)',
  guardian_national_id: 'char(12)',
};

/** A raw row: one value per REGISTRY_FILE_COLUMNS entry, null (or '') where the file has none. */
export type RawRegistryRow = readonly (string | null)[];

/** Column values in RECORD_COLUMNS order (null for SQL NULL), or the reasons the row is refused. */
export type RowVerdict = { readonly values: (string | null)[] } | { readonly problems: string[] };

const COLUMN_INDEX = Object.fromEntries(REGISTRY_FILE_COLUMNS.map((name, index) => [name, index])) as Record<RegistryFileColumn, number>;

// Words of letters and combining marks, joined by single spaces; apostrophes and hyphens inside a word
// (ethnic-minority names such as H'Hen Niê).
const NAME = /^\p{L}[\p{L}\p{M}'’-]*(?: \p{L}[\p{L}\p{M}'’-]*)*$/u;
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;
const HOUSEHOLD_ID = /^[A-Za-z0-9_-]{1,40}$/;
const PHONE = /^\+[1-9][0-9]{7,14}$/;
const EMAIL = /^[^\s@"<>,;()\\]+@[^\s@"<>,;()\\]+\.[A-Za-z]{2,}$/;
const NATIONALITY = /^[A-Z]{2}$/;
export const RELATIONS: ReadonlySet<string> = new Set(RELATIONS_TO_HEAD);
const MAX_NAME = 100;
export const MAX_TEXT = 200;

/** Two ASCII digits at `at` as a number, or NaN. */
function twoDigits(value: string, at: number): number {
  const high = value.charCodeAt(at) - 48;
  const low = value.charCodeAt(at + 1) - 48;
  return high >= 0 && high <= 9 && low >= 0 && low <= 9 ? high * 10 + low : NaN;
}

/** A real calendar date written YYYY-MM-DD, from 1900 on. */
export function isCalendarDate(value: string): boolean {
  if (value.length !== 10 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return false;
  const year = twoDigits(value, 0) * 100 + twoDigits(value, 2);
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  if (!(year >= 1900) || !(month >= 1 && month <= 12) || !(day >= 1)) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

/** Today's date in Việt Nam (UTC+7), the bound for dates that cannot lie in the future. */
export function todayInVietnam(now: number = Date.now()): string {
  return new Date(now + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

/** What a name or text value became: its normal form, or what is wrong with it (without the column). */
export type Checked = { readonly value: string; readonly problem?: undefined } | { readonly value?: undefined; readonly problem: string };

/**
 * Remembers the outcome for values seen before: names, places and ethnicities repeat across millions
 * of rows, and normalising them is most of a row's cost. Bounded: forgets everything when full.
 */
class Memo {
  readonly #entries = new Map<string, Checked>();
  readonly #compute: (value: string) => Checked;

  constructor(compute: (value: string) => Checked) {
    this.#compute = compute;
  }

  get(value: string): Checked {
    let checked = this.#entries.get(value);
    if (checked === undefined) {
      checked = this.#compute(value);
      if (this.#entries.size >= 100_000) this.#entries.clear();
      this.#entries.set(value, checked);
    }
    return checked;
  }
}

/** A name as the registry keeps it (NFC, whitespace collapsed), or what is wrong with it. */
export function checkName(value: string): Checked {
  const normalised = value.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (normalised.length > MAX_NAME) return { problem: `longer than ${MAX_NAME} characters` };
  if (!NAME.test(normalised)) return { problem: `not a name (${JSON.stringify(value)})` };
  return { value: normalised };
}

/** A free text as the registry keeps it (NFC, trimmed), or what is wrong with it. */
export function checkText(value: string): Checked {
  const normalised = value.normalize('NFC').trim();
  if (CONTROL.test(normalised)) return { problem: 'contains a control character' };
  if (normalised.length > MAX_TEXT) return { problem: `longer than ${MAX_TEXT} characters` };
  return { value: normalised };
}

const I = COLUMN_INDEX;

/**
 * Checks rows against the registry's rules and turns them into registry_records' columns. Names are
 * NFC-normalised with their whitespace collapsed; nothing else is repaired. One validator serves a whole
 * import (it remembers the names it has checked).
 */
export class RegistryRowValidator {
  readonly #today: string;
  readonly #names = new Memo(checkName);
  readonly #texts = new Memo(checkText);
  readonly #folded = new Memo((name) => ({ value: foldName(name) }));
  readonly #regions = new Memo((region) => (currentProvinceNamed(region) ? { value: JSON.stringify(region) } : { problem: 'not a current province (since 1 July 2025)' }));

  /** `today` (YYYY-MM-DD) bounds the dates that cannot lie in the future. */
  constructor(today: string) {
    this.#today = today;
  }

  /** The row's values in RECORD_COLUMNS order, or every problem found (each "column: what is wrong"). */
  check(raw: RawRegistryRow): RowVerdict {
    const problems: string[] = [];
    const nationalId = present(raw[I.national_id]) ?? '';
    if (nationalId === '') problems.push('national_id: required');

    const familyName = this.#name(raw, 'family_name', false, problems);
    const middleName = this.#name(raw, 'middle_name', true, problems);
    const givenName = this.#name(raw, 'given_name', false, problems);

    const birthDate = this.#date(raw, 'birth_date', false, false, problems);
    const genderValue = present(raw[I.gender]);
    let gender: Gender | null = null;
    if (genderValue === 'male' || genderValue === 'female') gender = genderValue;
    else problems.push(genderValue === null ? 'gender: required' : `gender: must be male or female (${JSON.stringify(genderValue)})`);

    if (nationalId !== '') {
      // Without a usable birth date and gender only the number's own format can be checked.
      const problem = birthDate !== null && gender !== null ? checkNationalId(nationalId, birthDate, gender) : nationalIdFormatProblem(nationalId);
      if (problem) problems.push(`national_id: ${problem.message}`);
    }

    let province = present(raw[I.birth_registration_province]);
    const prefix = nationalId.slice(0, 3);
    if (province === null) province = prefix;
    else if (nationalId !== '' && province !== prefix) problems.push(`birth_registration_province: ${province} disagrees with the ID number's prefix ${prefix}`);

    const placeOfOrigin = this.#text(raw, 'place_of_origin', false, problems);
    const ethnicity = this.#text(raw, 'ethnicity', false, problems);
    const nationality = present(raw[I.nationality]);
    if (nationality === null) problems.push('nationality: required');
    else if (!NATIONALITY.test(nationality)) problems.push(`nationality: not a two-letter country code (${JSON.stringify(nationality)})`);

    const issued = this.#date(raw, 'id_card_issue_date', true, false, problems);
    // An expiry date lies in the future by nature; only its order against the issue date is checked.
    const expires = this.#date(raw, 'id_card_expiry_date', true, true, problems);
    if (issued !== null && birthDate !== null && issued < birthDate) problems.push('id_card_issue_date: before the birth date');
    if (expires !== null) {
      if (issued === null) problems.push('id_card_expiry_date: given without an issue date');
      else if (expires <= issued) problems.push('id_card_expiry_date: not after the issue date');
    }

    const permanent = this.#address(raw, 'permanent', problems);
    const temporary = this.#address(raw, 'temporary', problems);

    const householdId = present(raw[I.household_id]);
    const relation = present(raw[I.relation_to_head]);
    if (householdId !== null && !HOUSEHOLD_ID.test(householdId)) problems.push('household_id: 1–40 letters, digits, "-" or "_"');
    if (relation !== null && !RELATIONS.has(relation)) {
      problems.push(`relation_to_head: one of ${RELATIONS_TO_HEAD.join(', ')} (${JSON.stringify(relation)})`);
    }
    if ((householdId === null) !== (relation === null)) {
      problems.push(householdId === null ? 'relation_to_head: given without a household_id' : 'relation_to_head: required with a household_id');
    }

    const diedOn = this.#date(raw, 'died_on', true, false, problems);
    const missingSince = this.#date(raw, 'missing_since', true, false, problems);
    if (birthDate !== null && diedOn !== null && diedOn < birthDate) problems.push('died_on: before the birth date');
    if (birthDate !== null && missingSince !== null && missingSince < birthDate) problems.push('missing_since: before the birth date');

    const phone = present(raw[I.contact_phone]);
    if (phone !== null && !PHONE.test(phone)) problems.push(`contact_phone: not an international number +84… (${JSON.stringify(phone)})`);
    const email = present(raw[I.contact_email]);
    if (email !== null && (email.length > 254 || !EMAIL.test(email))) problems.push(`contact_email: not an email address (${JSON.stringify(email)})`);

    const father = this.#relation(raw, 'father_national_id', nationalId, problems);
    const mother = this.#relation(raw, 'mother_national_id', nationalId, problems);
    const guardian = this.#relation(raw, 'guardian_national_id', nationalId, problems);
    if (father !== null && father === mother) problems.push('mother_national_id: the same number as father_national_id');

    if (problems.length > 0) return { problems };
    const fullName = middleName === '' ? `${familyName} ${givenName}` : `${familyName} ${middleName} ${givenName}`;
    // Folding works word by word, so the parts are folded (and remembered) one at a time.
    const folded = middleName === ''
      ? `${this.#fold(familyName)} ${this.#fold(givenName)}`
      : `${this.#fold(familyName)} ${this.#fold(middleName)} ${this.#fold(givenName)}`;
    return {
      values: [
        nationalId, familyName, middleName, givenName, fullName, folded, birthDate, gender, province, placeOfOrigin, ethnicity,
        nationality, issued, expires, permanent, temporary, householdId, relation, diedOn, missingSince, phone, email,
        father, mother, guardian,
      ],
    };
  }

  /**
   * A parent's or the guardian's ID number: optional; a well-formed number (12 digits, a known province
   * prefix, a century/gender digit 0–5), never the person's own. Nothing more is asked of it: the person
   * it names need not be in this file or in the mirror.
   */
  #relation(raw: RawRegistryRow, column: RelationColumn, own: string, problems: string[]): string | null {
    const value = present(raw[I[column]]);
    if (value === null) return null;
    const problem = nationalIdFormatProblem(value);
    if (problem) problems.push(`${column}: ${problem.message}`);
    else if (value === own) problems.push(`${column}: the person's own number`);
    return value;
  }

  #fold(name: string): string {
    return this.#folded.get(name).value!;
  }

  #name(raw: RawRegistryRow, column: RegistryFileColumn, optional: boolean, problems: string[]): string {
    const value = present(raw[I[column]]);
    if (value === null) {
      if (!optional) problems.push(`${column}: required`);
      return '';
    }
    const checked = this.#names.get(value);
    if (checked.problem !== undefined) problems.push(`${column}: ${checked.problem}`);
    return checked.value ?? '';
  }

  /** `memo`: whether values repeat enough to be worth remembering (a street with its house number does not). */
  #text(raw: RawRegistryRow, column: RegistryFileColumn, optional: boolean, problems: string[], memo = true): string | null {
    const value = present(raw[I[column]]);
    if (value === null) {
      if (!optional) problems.push(`${column}: required`);
      return null;
    }
    const checked = memo ? this.#texts.get(value) : checkText(value);
    if (checked.problem !== undefined) problems.push(`${column}: ${checked.problem}`);
    return checked.value ?? null;
  }

  #date(raw: RawRegistryRow, column: RegistryFileColumn, optional: boolean, mayBeFuture: boolean, problems: string[]): string | null {
    const value = present(raw[I[column]]);
    if (value === null) {
      if (!optional) problems.push(`${column}: required`);
      return null;
    }
    if (!isCalendarDate(value)) {
      problems.push(`${column}: not a date YYYY-MM-DD from 1900 on (${JSON.stringify(value)})`);
      return null;
    }
    if (!mayBeFuture && value > this.#today) problems.push(`${column}: ${value} is in the future`);
    return value;
  }

  /** An address as the jsonb registry_records keeps; null when the file gives none (allowed if temporary). */
  #address(raw: RawRegistryRow, kind: 'permanent' | 'temporary', problems: string[]): string | null {
    const street = this.#text(raw, `${kind}_street`, true, problems, false);
    const localityGiven = present(raw[I[`${kind}_locality`]]) !== null;
    const region = present(raw[I[`${kind}_region`]]);
    if (kind === 'temporary' && street === null && !localityGiven && region === null) return null;
    const locality = this.#text(raw, `${kind}_locality`, false, problems);
    if (region === null) {
      problems.push(`${kind}_region: required`);
      return null;
    }
    const regionJson = this.#regions.get(region);
    if (regionJson.problem !== undefined) {
      problems.push(`${kind}_region: ${regionJson.problem} (${JSON.stringify(region)})`);
      return null;
    }
    return `{"streetAddress":${jsonString(street ?? '')},"locality":${jsonString(locality ?? '')},"region":${regionJson.value},"country":"VN"}`;
  }
}

/** JSON.stringify for a string without control characters (checked before), quick when nothing needs escaping. */
export function jsonString(value: string): string {
  return value.includes('"') || value.includes('\\') ? JSON.stringify(value) : `"${value}"`;
}

function present(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : value;
}
