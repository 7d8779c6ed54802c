// The population registry as the provider reads it: records by ID number from the local mirror.
// The provider never writes the registry itself; imports and change feeds do (see the CLI).
import type { Database } from '../storage/database.ts';
import type { Gender } from './national-id.ts';
import { foldName, splitFullName } from './names.ts';

export interface Address {
  readonly streetAddress: string;
  /** Commune or ward (two-level administration since 1 July 2025). */
  readonly locality: string;
  /** Province or centrally governed city. */
  readonly region: string;
  readonly country: 'VN';
}

/** How a household member relates to its head (docs/domain.md "Households"). */
export const RELATIONS_TO_HEAD = ['head', 'spouse', 'child', 'parent', 'grandchild', 'sibling', 'other'] as const;
export type RelationToHead = (typeof RELATIONS_TO_HEAD)[number];

export interface RegistryRecord {
  readonly nationalId: string;
  readonly familyName: string;
  readonly middleName: string;
  readonly givenName: string;
  readonly fullName: string;
  readonly birthDate: string;
  readonly gender: Gender;
  readonly birthRegistrationProvince: string;
  readonly placeOfOrigin: string;
  readonly ethnicity: string;
  readonly nationality: string;
  readonly idCardIssueDate: string | null;
  readonly idCardExpiryDate: string | null;
  readonly permanentAddress: Address;
  readonly temporaryAddress: Address | null;
  /**
   * The household the person belongs to and how they relate to its head; null when in none, absent
   * when the source does not say (a remote registry's answer may leave households out).
   */
  readonly householdId?: string | null;
  readonly relationToHead?: RelationToHead | null;
  readonly diedOn: string | null;
  readonly missingSince: string | null;
  readonly contactPhone: string | null;
  readonly contactEmail: string | null;
  /**
   * The father, the mother and the legal guardian by ID number (docs/registry.md "Parents and
   * guardian"): null when the registry names none, absent when the source does not say (a remote
   * registry's answer, a record written without them). Who may act for a child under 14 follows from
   * these (src/representation/representation.ts).
   */
  readonly fatherNationalId?: string | null;
  readonly motherNationalId?: string | null;
  readonly guardianNationalId?: string | null;
}

/** Dead or missing people cannot sign in (docs/domain.md: their eID is locked). */
export function isAlive(record: RegistryRecord): boolean {
  return record.diedOn === null && record.missingSince === null;
}

/**
 * Cards are renewed at 25, 40 and 60; one issued within two years of a threshold lasts to the next.
 * Someone born on 29 February reaches the age on 28 February of a common year.
 */
export function cardExpiry(birthDate: string, issueDate: string): string | null {
  const birthYear = Number(birthDate.slice(0, 4));
  const ageAtIssue = Number(issueDate.slice(0, 4)) - birthYear - (issueDate.slice(5) < birthDate.slice(5) ? 1 : 0);
  const threshold = [25, 40, 60].find((age) => ageAtIssue < age - 2);
  if (threshold === undefined) return null;
  const year = birthYear + threshold;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return `${year}${birthDate.slice(4) === '-02-29' && !leap ? '-02-28' : birthDate.slice(4)}`;
}

export function formatAddress(address: Address): string {
  return [address.streetAddress, address.locality, address.region, 'Việt Nam'].filter(Boolean).join(', ');
}

export interface RegistryRow {
  national_id: string;
  family_name: string;
  middle_name: string;
  given_name: string;
  full_name: string;
  birth_date: string;
  gender: Gender;
  birth_registration_province: string;
  place_of_origin: string;
  ethnicity: string;
  nationality: string;
  id_card_issue_date: string | null;
  id_card_expiry_date: string | null;
  permanent_address: Address;
  temporary_address: Address | null;
  household_id: string | null;
  relation_to_head: RelationToHead | null;
  died_on: string | null;
  missing_since: string | null;
  contact_phone: string | null;
  contact_email: string | null;
  father_national_id: string | null;
  mother_national_id: string | null;
  guardian_national_id: string | null;
}

export function registryRecordFromRow(row: RegistryRow): RegistryRecord {
  return {
    nationalId: row.national_id,
    familyName: row.family_name,
    middleName: row.middle_name,
    givenName: row.given_name,
    fullName: row.full_name,
    birthDate: row.birth_date,
    gender: row.gender,
    birthRegistrationProvince: row.birth_registration_province,
    placeOfOrigin: row.place_of_origin,
    ethnicity: row.ethnicity,
    nationality: row.nationality,
    idCardIssueDate: row.id_card_issue_date,
    idCardExpiryDate: row.id_card_expiry_date,
    permanentAddress: row.permanent_address,
    temporaryAddress: row.temporary_address,
    householdId: row.household_id,
    relationToHead: row.relation_to_head,
    diedOn: row.died_on,
    missingSince: row.missing_since,
    contactPhone: row.contact_phone,
    contactEmail: row.contact_email,
    fatherNationalId: row.father_national_id,
    motherNationalId: row.mother_national_id,
    guardianNationalId: row.guardian_national_id,
  };
}

/** A record to write: the name parts come from the full name. */
export type NewRegistryRecord = Omit<RegistryRecord, 'familyName' | 'middleName' | 'givenName'>;

export class RegistryRepository {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async findByNationalId(nationalId: string): Promise<RegistryRecord | undefined> {
    const row = await this.#db<RegistryRow>('registry_records')
      .where({ national_id: nationalId })
      .first();
    return row && registryRecordFromRow(row);
  }

  /** The members of a household, its head first, then by birth date (oldest first). */
  async findHouseholdMembers(householdId: string): Promise<RegistryRecord[]> {
    const rows = await this.#db<RegistryRow>('registry_records')
      .where({ household_id: householdId })
      .orderByRaw("relation_to_head = 'head' DESC, birth_date, national_id");
    return rows.map(registryRecordFromRow);
  }

  /**
   * Inserts or replaces a record (the demo seed; imports use their own bulk path). A relation left out
   * (undefined) is not known: a new record gets none, an existing one keeps its own; null clears it.
   */
  async upsert(record: NewRegistryRecord): Promise<void> {
    const name = splitFullName(record.fullName);
    await this.#db('registry_records')
      .insert({
        national_id: record.nationalId,
        family_name: name.familyName,
        middle_name: name.middleName,
        given_name: name.givenName,
        full_name: name.fullName,
        full_name_folded: foldName(name.fullName),
        birth_date: record.birthDate,
        gender: record.gender,
        birth_registration_province: record.birthRegistrationProvince,
        place_of_origin: record.placeOfOrigin,
        ethnicity: record.ethnicity,
        nationality: record.nationality,
        id_card_issue_date: record.idCardIssueDate,
        id_card_expiry_date: record.idCardExpiryDate,
        permanent_address: JSON.stringify(record.permanentAddress),
        temporary_address: record.temporaryAddress && JSON.stringify(record.temporaryAddress),
        household_id: record.householdId ?? null,
        relation_to_head: record.householdId ? (record.relationToHead ?? null) : null,
        died_on: record.diedOn,
        missing_since: record.missingSince,
        contact_phone: record.contactPhone,
        contact_email: record.contactEmail,
        ...(record.fatherNationalId !== undefined && { father_national_id: record.fatherNationalId }),
        ...(record.motherNationalId !== undefined && { mother_national_id: record.motherNationalId }),
        ...(record.guardianNationalId !== undefined && { guardian_national_id: record.guardianNationalId }),
        updated_at: this.#db.fn.now(),
      })
      .onConflict('national_id')
      .merge();
  }
}
