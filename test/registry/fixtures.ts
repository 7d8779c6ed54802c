// Rows for registry import tests: a valid citizen to vary, and the CSV and NDJSON files that hold them.
import { REGISTRY_FILE_COLUMNS, type RegistryFileColumn } from '../../src/registry/record-schema.ts';

export type Citizen = Record<RegistryFileColumn, string>;

export const TODAY = '2026-11-26';

/** A valid row; each test changes what it is about. */
export function citizen(fields: Partial<Citizen> = {}): Citizen {
  return {
    national_id: '001099012345',
    family_name: 'Nguyễn',
    middle_name: 'Văn',
    given_name: 'An',
    birth_date: '1999-03-15',
    gender: 'male',
    birth_registration_province: '001',
    place_of_origin: 'Hà Nội',
    ethnicity: 'Kinh',
    nationality: 'VN',
    id_card_issue_date: '2021-04-01',
    id_card_expiry_date: '2024-03-15',
    permanent_street: '12 Phố Điện Biên Phủ',
    permanent_locality: 'Phường Ba Đình',
    permanent_region: 'Thành phố Hà Nội',
    temporary_street: '',
    temporary_locality: '',
    temporary_region: '',
    household_id: 'HK0000000001',
    relation_to_head: 'head',
    died_on: '',
    missing_since: '',
    contact_phone: '+84900000001',
    contact_email: 'an@example.com',
    father_national_id: '',
    mother_national_id: '',
    guardian_national_id: '',
    ...fields,
  };
}

export function csvOf(rows: Citizen[]): string {
  const quote = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  return [REGISTRY_FILE_COLUMNS.join(','), ...rows.map((row) => REGISTRY_FILE_COLUMNS.map((column) => quote(row[column])).join(','))].join('\n') + '\n';
}

export function ndjsonOf(rows: Citizen[]): string {
  return rows.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === '' ? null : value])))).join('\n') + '\n';
}
