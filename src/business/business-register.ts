// Reads the business register mirror (docs/business-register.md): an organisation by its enterprise
// code with its legal representatives, and whom the register names as representatives. Written only
// by the import (business-import.ts) and the change feed (business-change-feed.ts).
import type { Database } from '../storage/database.ts';
import type { OrganisationStatus, Representative } from './business-file.ts';

export type { OrganisationStatus, Representative } from './business-file.ts';

export interface Organisation {
  /** 10 digits, `-NNN` more for a branch or dependent unit. */
  readonly enterpriseCode: string;
  /** As registered, in Vietnamese. */
  readonly name: string;
  /** The registered English name, where there is one. */
  readonly nameEn: string | null;
  readonly status: OrganisationStatus;
  /** YYYY-MM-DD. */
  readonly foundedOn: string;
  readonly headOffice: string;
  /** Legal representatives (a branch's head), by ID number. */
  readonly representatives: readonly Representative[];
}

/** An organisation a citizen is a legal representative of, whatever its status. */
export interface RepresentedOrganisation {
  readonly enterpriseCode: string;
  readonly name: string;
  readonly status: OrganisationStatus;
  readonly title: string;
}

interface OrganisationRow {
  enterprise_code: string;
  name: string;
  name_en: string | null;
  status: OrganisationStatus;
  founded_on: string;
  head_office: string;
}

export class BusinessRegister {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The organisation as the mirror holds it, or undefined for an unknown code. */
  async findOrganisation(enterpriseCode: string): Promise<Organisation | undefined> {
    const { rows: [row] } = await this.#db.raw<{ rows: OrganisationRow[] }>(
      `SELECT enterprise_code, name, name_en, status, to_char(founded_on, 'YYYY-MM-DD') AS founded_on, head_office
         FROM business_organisations WHERE enterprise_code = ?`,
      [enterpriseCode],
    );
    if (!row) return undefined;
    return {
      enterpriseCode: row.enterprise_code,
      name: row.name,
      nameEn: row.name_en,
      status: row.status,
      foundedOn: row.founded_on,
      headOffice: row.head_office,
      representatives: await this.representativesOf(enterpriseCode),
    };
  }

  /** The organisation's legal representatives, by ID number; empty for an unknown code. */
  async representativesOf(enterpriseCode: string): Promise<Representative[]> {
    const { rows } = await this.#db.raw<{ rows: { national_id: string; title: string }[] }>(
      'SELECT national_id, title FROM business_representatives WHERE enterprise_code = ? ORDER BY national_id',
      [enterpriseCode],
    );
    return rows.map((row) => ({ nationalId: row.national_id, title: row.title }));
  }

  /** Every organisation the register names the citizen a legal representative of, by enterprise code. */
  async organisationsRepresentedBy(nationalId: string): Promise<RepresentedOrganisation[]> {
    const rows = await this.#db('business_representatives as r')
      .join('business_organisations as o', 'o.enterprise_code', 'r.enterprise_code')
      .where('r.national_id', nationalId)
      .orderBy('o.enterprise_code')
      .select<{ enterprise_code: string; name: string; status: OrganisationStatus; title: string }[]>('o.enterprise_code', 'o.name', 'o.status', 'r.title');
    return rows.map((row) => ({ enterpriseCode: row.enterprise_code, name: row.name, status: row.status, title: row.title }));
  }
}
