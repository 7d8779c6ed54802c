// Rows for business register tests: a valid organisation to vary, and the CSV and NDJSON files that hold them.
import { BUSINESS_FILE_COLUMNS, type BusinessFileColumn } from '../../src/business/business-file.ts';

export type OrganisationRow = Record<BusinessFileColumn, string>;

export const TODAY = '2026-11-26';

/** The demo organisation's shape (docs/design.md "Demo data"); each test changes what it is about. */
export function organisation(fields: Partial<OrganisationRow> = {}): OrganisationRow {
  return {
    enterprise_code: '0109999999',
    name: 'Công ty TNHH Dịch vụ Số An Phát',
    name_en: 'An Phat Digital Services Company Limited',
    status: 'active',
    founded_on: '2019-05-20',
    head_office: 'Số 12 phố Điện Biên Phủ, Phường Ba Đình, Thành phố Hà Nội',
    representatives: '001099012345:Giám đốc',
    ...fields,
  };
}

/** The n-th other organisation: a distinct code, one representative. */
export function other(n: number, fields: Partial<OrganisationRow> = {}): OrganisationRow {
  return organisation({ enterprise_code: `01${String(n).padStart(8, '0')}`, name: `Công ty Cổ phần Thử nghiệm ${n}`, name_en: '', ...fields });
}

export function csvOf(rows: OrganisationRow[]): string {
  const quote = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  return [BUSINESS_FILE_COLUMNS.join(','), ...rows.map((row) => BUSINESS_FILE_COLUMNS.map((column) => quote(row[column])).join(','))].join('\n') + '\n';
}

/** NDJSON with the representatives as an array of {national_id, title}. */
export function ndjsonOf(rows: OrganisationRow[]): string {
  return rows
    .map((row) =>
      JSON.stringify({
        ...Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === '' ? null : value])),
        representatives: row.representatives.split(';').map((item) => ({ national_id: item.slice(0, item.indexOf(':')), title: item.slice(item.indexOf(':') + 1) })),
      }),
    )
    .join('\n') + '\n';
}
