// Whom a citizen may act for (docs/representation.md): an organisation they represent in law or were
// authorised for, or a child under 14 whose parent or guardian the population registry names them.
// Computed from the registers on every call, never cached: a revoked authorisation, a replaced
// representative, a dissolved organisation or a 14th birthday refuse the very next request.
import type { Database } from '../storage/database.ts';
import { todayInVietnam } from '../registry/record-schema.ts';

/** The RFC 9396 authorization-details type of a representation request and of its granted entry. */
export const REPRESENTATION_TYPE = 'urn:vn:eid:representation';

/**
 * The roles an organisation grants (docs/representation.md). `all` holds every other; a legal
 * representative holds `all`.
 */
export const ORGANISATION_ROLES = ['tax', 'social_insurance', 'customs', 'business_registration', 'all'] as const;
export type OrganisationRole = (typeof ORGANISATION_ROLES)[number];

export const PARTY_KINDS = ['organisation', 'child'] as const;
export type PartyKind = (typeof PARTY_KINDS)[number];

/** Children act for themselves from this birthday on (docs/domain.md "Acting for others"). */
export const CHILD_AGE_LIMIT = 14;

export interface OrganisationParty {
  readonly kind: 'organisation';
  readonly enterpriseCode: string;
  /** As registered, in Vietnamese. */
  readonly name: string;
  readonly nameEn: string | null;
  /** What the citizen holds for it: `all` for a legal representative, else the authorised roles. */
  readonly roles: readonly OrganisationRole[];
  /** How: as its legal representative (with the register's title) or by an authorisation. */
  readonly basis: { readonly kind: 'legal_representative'; readonly title: string } | { readonly kind: 'authorisation'; readonly authorisationId: string };
}

export interface ChildParty {
  readonly kind: 'child';
  readonly nationalId: string;
  readonly name: string;
  readonly birthDate: string;
  /** How the registry relates the citizen to the child. */
  readonly relation: 'father' | 'mother' | 'guardian';
}

export type Party = OrganisationParty | ChildParty;

/** The acting citizen, as their account says. */
export interface Actor {
  readonly nationalId: string;
  /** Only a level-2 account acts for others (docs/domain.md). */
  readonly level: 1 | 2;
}

/** What a relying party asked for: which kinds of party, and (for organisations) which roles. */
export interface RepresentationRequest {
  readonly partyKinds: readonly PartyKind[];
  readonly roles: readonly OrganisationRole[];
}

/** A party as a granted authorization-details entry names it, to be checked again. */
export type PartyReference = { readonly kind: 'organisation'; readonly enterpriseCode: string } | { readonly kind: 'child'; readonly nationalId: string };

/** True when `held` covers every role of `asked` (`all` covers every role). */
export function holdsRoles(held: readonly string[], asked: readonly string[]): boolean {
  return held.includes('all') || asked.every((role) => held.includes(role));
}

/** The day `years` after a birth date (29 February → 28 February of a common year). */
export function birthday(birthDate: string, years: number): string {
  const year = Number(birthDate.slice(0, 4)) + years;
  const monthDay = birthDate.slice(5);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return `${String(year).padStart(4, '0')}-${monthDay === '02-29' && !leap ? '02-28' : monthDay}`;
}

interface OrganisationRow {
  enterprise_code: string;
  name: string;
  name_en: string | null;
  title: string | null;
  authorisation_id: string | null;
  roles: string[] | null;
}

interface ChildRow {
  national_id: string;
  full_name: string;
  birth_date: string;
  relation: 'father' | 'mother' | 'guardian';
}

export class RepresentationDirectory {
  readonly #db: Database;
  readonly #today: () => string;

  /** `today` is the calendar day in Vietnam (tests set their own clock). */
  constructor(db: Database, options: { today?: () => string } = {}) {
    this.#db = db;
    this.#today = options.today ?? (() => todayInVietnam());
  }

  /** The day the rules are computed on. */
  today(): string {
    return this.#today();
  }

  /**
   * Every party the citizen may act for today with the roles asked, organisations first, each list
   * by name. Empty for a level-1 account.
   */
  async partiesFor(actor: Actor, request: RepresentationRequest): Promise<Party[]> {
    if (actor.level !== 2) return [];
    const today = this.#today();
    const parties: Party[] = [];
    if (request.partyKinds.includes('organisation')) {
      for (const organisation of await this.#organisations(actor.nationalId, today)) {
        if (holdsRoles(organisation.roles, request.roles)) parties.push(organisation);
      }
    }
    if (request.partyKinds.includes('child')) parties.push(...(await this.#children(actor.nationalId, today)));
    return parties;
  }

  /**
   * The party again, as today's registers say, if the citizen may still act for it with these roles;
   * undefined otherwise. Called at every token issued and refreshed for a representation.
   */
  async recheck(actor: Actor, party: PartyReference, roles: readonly OrganisationRole[]): Promise<Party | undefined> {
    if (actor.level !== 2) return undefined;
    const today = this.#today();
    if (party.kind === 'organisation') {
      const found = (await this.#organisations(actor.nationalId, today, party.enterpriseCode))[0];
      return found && holdsRoles(found.roles, roles) ? found : undefined;
    }
    return (await this.#children(actor.nationalId, today, party.nationalId))[0];
  }

  /**
   * Organisations the register shows active, whose eID account is activated, and which the citizen
   * represents in law (every role) or holds a current, undeclined, unrevoked authorisation for.
   */
  async #organisations(nationalId: string, today: string, only?: string): Promise<OrganisationParty[]> {
    const rows = await this.#db.raw<{ rows: OrganisationRow[] }>(
      `SELECT o.enterprise_code, o.name, o.name_en, r.title, NULL::uuid AS authorisation_id, NULL::text[] AS roles
         FROM business_representatives r
         JOIN business_organisations o ON o.enterprise_code = r.enterprise_code AND o.status = 'active'
         JOIN organisation_accounts a ON a.enterprise_code = r.enterprise_code
        WHERE r.national_id = :nationalId AND (:only::text IS NULL OR r.enterprise_code = :only)
       UNION ALL
       SELECT o.enterprise_code, o.name, o.name_en, NULL, g.id, g.roles
         FROM organisation_authorisations g
         JOIN business_organisations o ON o.enterprise_code = g.enterprise_code AND o.status = 'active'
        WHERE g.grantee_national_id = :nationalId AND (:only::text IS NULL OR g.enterprise_code = :only)
          AND g.declined_at IS NULL AND g.revoked_at IS NULL
          AND g.valid_from <= :today::date AND (g.valid_until IS NULL OR g.valid_until >= :today::date)`,
      { nationalId, today, only: only ?? null },
    );
    // One entry per organisation: a legal representative's `all` wins; several authorisations add up.
    const byCode = new Map<string, OrganisationParty>();
    for (const row of rows.rows) {
      const existing = byCode.get(row.enterprise_code);
      if (row.title !== null) {
        byCode.set(row.enterprise_code, {
          kind: 'organisation',
          enterpriseCode: row.enterprise_code,
          name: row.name,
          nameEn: row.name_en,
          roles: ['all'],
          basis: { kind: 'legal_representative', title: row.title },
        });
      } else if (existing?.basis.kind !== 'legal_representative') {
        const roles = [...new Set([...(existing?.roles ?? []), ...((row.roles ?? []) as OrganisationRole[])])];
        byCode.set(row.enterprise_code, {
          kind: 'organisation',
          enterpriseCode: row.enterprise_code,
          name: row.name,
          nameEn: row.name_en,
          roles: ORGANISATION_ROLES.filter((role) => roles.includes(role)),
          basis: existing?.basis ?? { kind: 'authorisation', authorisationId: row.authorisation_id! },
        });
      }
    }
    return [...byCode.values()].sort((a, b) => a.name.localeCompare(b.name, 'vi'));
  }

  /** Living children under 14 today whose current registry record names the citizen as father, mother or guardian. */
  async #children(nationalId: string, today: string, only?: string): Promise<ChildParty[]> {
    // A first cut by birth date, one day wide of the exact rule applied below (29 February).
    const bornAfter = birthday(today, -CHILD_AGE_LIMIT);
    const rows = await this.#db.raw<{ rows: ChildRow[] }>(
      `SELECT national_id, full_name, to_char(birth_date, 'YYYY-MM-DD') AS birth_date, relation FROM (
         SELECT c.*, 'father' AS relation FROM registry_records c WHERE c.father_national_id = :nationalId
         UNION ALL
         SELECT c.*, 'mother' FROM registry_records c WHERE c.mother_national_id = :nationalId
         UNION ALL
         SELECT c.*, 'guardian' FROM registry_records c WHERE c.guardian_national_id = :nationalId
       ) children
       WHERE birth_date >= :bornAfter::date - 1 AND died_on IS NULL AND missing_since IS NULL
         AND (:only::text IS NULL OR national_id = :only)`,
      { nationalId, bornAfter, only: only ?? null },
    );
    const byId = new Map<string, ChildParty>();
    for (const row of rows.rows) {
      if (byId.has(row.national_id) || birthday(row.birth_date, CHILD_AGE_LIMIT) <= today) continue;
      byId.set(row.national_id, { kind: 'child', nationalId: row.national_id, name: row.full_name, birthDate: row.birth_date, relation: row.relation });
    }
    return [...byId.values()].sort((a, b) => a.birthDate.localeCompare(b.birthDate) || a.name.localeCompare(b.name, 'vi'));
  }
}
