// Organisations' eID accounts (docs/representation.md "Organisations' eID accounts"): a current legal
// representative activates the organisation's account, checked against the business register at that
// moment, and grants, revokes and reads authorisations; the grantee reads and declines them; the
// representative (and a parent, for a child) reads every use of a representation. The one writer of
// organisation_accounts and organisation_authorisations. Every change is audited and notified.
//
// Authorisations belong to the organisation, not to who granted them: a representative the register's
// change feed puts in place sees, revokes and inherits them all. Whether one may be used today is
// RepresentationDirectory's answer (./representation.ts); here a grant's status is computed for display
// by the same rules (period, declined, revoked, the organisation no longer active).
import type { Database } from '../storage/database.ts';
import type { Account } from '../accounts/accounts.ts';
import type { AccountStore } from '../accounts/account-store.ts';
import type { Notifier } from '../accounts/notifier.ts';
import { notifyContacts } from '../accounts/self-service.ts';
import type { AuditEventType, AuditLog } from '../audit/audit-log.ts';
import type { RegistryGateway } from '../registry/gateway.ts';
import { isAlive } from '../registry/registry.ts';
import type { Logger } from '../observability/logger.ts';
import { formatDate, formatDateTime } from '../web/i18n.ts';
import { CHILD_AGE_LIMIT, ORGANISATION_ROLES, birthday, type OrganisationRole } from './representation.ts';

/** The audit event of every change here (data.change says which). */
export const ORGANISATION_CHANGED: AuditEventType = 'organisation.changed';

/** An enterprise code: 10 digits, and `-NNN` for a branch or dependent unit. */
export const ENTERPRISE_CODE = /^[0-9]{10}(?:-[0-9]{3})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** How many uses one page of the usage list shows. */
export const USES_PAGE_SIZE = 50;

export type OrganisationStatus = 'active' | 'suspended' | 'dissolving' | 'dissolved' | 'revoked' | 'bankrupt';

/** Why a request about an organisation's account was refused; `status` is the HTTP answer. */
export type RefusalCode =
  | 'unknown_organisation'
  | 'not_representative'
  | 'organisation_inactive'
  | 'level_two_needed'
  | 'already_activated'
  | 'not_activated'
  | 'bad_grantee'
  | 'grantee_unknown'
  | 'grantee_not_alive'
  | 'grantee_self'
  | 'bad_roles'
  | 'bad_date'
  | 'from_in_past'
  | 'until_before_from'
  | 'grant_not_found'
  | 'grant_ended';

const REFUSAL_STATUS: Record<RefusalCode, number> = {
  unknown_organisation: 404,
  not_representative: 403,
  organisation_inactive: 409,
  level_two_needed: 403,
  already_activated: 409,
  not_activated: 409,
  bad_grantee: 400,
  grantee_unknown: 400,
  grantee_not_alive: 400,
  grantee_self: 400,
  bad_roles: 400,
  bad_date: 400,
  from_in_past: 400,
  until_before_from: 400,
  grant_not_found: 404,
  grant_ended: 409,
};

export class OrganisationRefusal extends Error {
  override readonly name = 'OrganisationRefusal';
  readonly code: RefusalCode;
  readonly status: number;
  /** The form field the refusal is about, when one is. */
  readonly field: 'grantee' | 'roles' | 'valid_from' | 'valid_until' | undefined;

  constructor(code: RefusalCode, field?: OrganisationRefusal['field']) {
    super(code);
    this.code = code;
    this.status = REFUSAL_STATUS[code];
    this.field = field;
  }
}

/** Who acts: the signed-in citizen's account. */
export interface Actor {
  readonly accountId: string;
  readonly nationalId: string;
  readonly level: 1 | 2;
}

/** Where a change came from, for the audit trail. */
export interface ChangeContext {
  readonly ip?: string;
  readonly via: string;
}

export interface OrganisationEntry {
  readonly enterpriseCode: string;
  readonly name: string;
  readonly nameEn: string | null;
  readonly status: OrganisationStatus;
  readonly foundedOn: string;
  readonly headOffice: string;
  readonly representatives: readonly { readonly nationalId: string; readonly name: string | null; readonly title: string }[];
  /** The organisation's eID account, once activated. */
  readonly activation: { readonly activatedBy: string; readonly activatedByNationalId: string; readonly activatedAt: Date } | null;
}

/** An organisation a citizen represents in law, as the register says today. */
export interface RepresentedOrganisation {
  readonly enterpriseCode: string;
  readonly name: string;
  readonly nameEn: string | null;
  readonly status: OrganisationStatus;
  readonly title: string;
  readonly activatedAt: Date | null;
}

/** Current: may be used today; upcoming: from a later day; ended: past its period or the organisation is not active. */
export type AuthorisationStatus = 'current' | 'upcoming' | 'ended' | 'declined' | 'revoked';

export interface Authorisation {
  readonly id: string;
  readonly enterpriseCode: string;
  readonly organisationName: string;
  readonly organisationNameEn: string | null;
  readonly organisationStatus: OrganisationStatus;
  readonly granteeNationalId: string;
  /** From the population registry's mirror, when it holds the grantee. */
  readonly granteeName: string | null;
  readonly roles: readonly OrganisationRole[];
  readonly validFrom: string;
  readonly validUntil: string | null;
  readonly grantedBy: string;
  readonly grantedAt: Date;
  readonly declinedAt: Date | null;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
  readonly status: AuthorisationStatus;
}

export interface GrantInput {
  readonly grantee: string;
  readonly roles: readonly string[];
  readonly validFrom: string;
  readonly validUntil: string;
}

/** One token issued or refreshed while someone acted for a party (written by the protocol side). */
export interface RepresentationUse {
  readonly id: string;
  readonly usedAt: Date;
  readonly actorNationalId: string;
  readonly actorName: string | null;
  readonly clientId: string;
  readonly clientName: string;
  readonly roles: readonly string[];
  readonly event: string;
  /** For a child's use: the child. */
  readonly childNationalId?: string;
  readonly childName?: string | null;
}

export interface OrganisationAccountsDependencies {
  readonly db: Database;
  readonly audit: AuditLog;
  readonly notifier: Pick<Notifier, 'enqueue'>;
  readonly accounts: Pick<AccountStore, 'findByNationalId'>;
  readonly registry: Pick<RegistryGateway, 'findByNationalId'>;
  /** The day in Vietnam the rules are computed on (the representation directory's, so tests move both). */
  readonly today: () => string;
  readonly issuer: string;
  readonly logger: Logger;
}

interface AuthorisationRow {
  id: string;
  enterprise_code: string;
  name: string;
  name_en: string | null;
  org_status: OrganisationStatus;
  grantee_national_id: string;
  grantee_name: string | null;
  roles: string[];
  valid_from: string;
  valid_until: string | null;
  granted_by: string;
  granted_at: Date;
  declined_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const AUTHORISATION_SELECT = `
  SELECT g.id, g.enterprise_code, o.name, o.name_en, o.status AS org_status, g.grantee_national_id,
         r.full_name AS grantee_name, g.roles, to_char(g.valid_from, 'YYYY-MM-DD') AS valid_from,
         to_char(g.valid_until, 'YYYY-MM-DD') AS valid_until, g.granted_by, g.granted_at, g.declined_at,
         g.revoked_at, g.revoked_by
    FROM organisation_authorisations g
    JOIN business_organisations o ON o.enterprise_code = g.enterprise_code
    LEFT JOIN registry_records r ON r.national_id = g.grantee_national_id`;

/** A real calendar day, YYYY-MM-DD, years 1900–9999. */
function isCalendarDay(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1900 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** The roles of a form, checked against the fixed set and put in its order; undefined when any is unknown or none is given. */
export function parseRoles(input: readonly string[]): OrganisationRole[] | undefined {
  if (input.length === 0 || input.length > 20) return undefined;
  if (!input.every((role) => (ORGANISATION_ROLES as readonly string[]).includes(role))) return undefined;
  return ORGANISATION_ROLES.filter((role) => input.includes(role));
}

export class OrganisationAccounts {
  readonly #deps: OrganisationAccountsDependencies;
  readonly #db: Database;

  constructor(deps: OrganisationAccountsDependencies) {
    this.#deps = deps;
    this.#db = deps.db;
  }

  today(): string {
    return this.#deps.today();
  }

  /** The register's entry, its representatives and the account's activation; undefined for an unknown code. */
  async organisation(enterpriseCode: string): Promise<OrganisationEntry | undefined> {
    if (!ENTERPRISE_CODE.test(enterpriseCode)) return undefined;
    const organisation = await this.#db('business_organisations')
      .where({ enterprise_code: enterpriseCode })
      .first<{ enterprise_code: string; name: string; name_en: string | null; status: OrganisationStatus; founded_on: string; head_office: string } | undefined>(
        'enterprise_code',
        'name',
        'name_en',
        'status',
        this.#db.raw(`to_char(founded_on, 'YYYY-MM-DD') AS founded_on`),
        'head_office',
      );
    if (!organisation) return undefined;
    const representatives = await this.#db.raw<{ rows: { national_id: string; full_name: string | null; title: string }[] }>(
      `SELECT b.national_id, r.full_name, b.title FROM business_representatives b
         LEFT JOIN registry_records r ON r.national_id = b.national_id
        WHERE b.enterprise_code = ? ORDER BY b.national_id`,
      [enterpriseCode],
    );
    const activation = await this.#db.raw<{ rows: { activated_by: string; national_id: string; activated_at: Date }[] }>(
      `SELECT a.activated_by, c.national_id, a.activated_at FROM organisation_accounts a JOIN accounts c ON c.id = a.activated_by WHERE a.enterprise_code = ?`,
      [enterpriseCode],
    );
    const activated = activation.rows[0];
    return {
      enterpriseCode: organisation.enterprise_code,
      name: organisation.name,
      nameEn: organisation.name_en,
      status: organisation.status,
      foundedOn: organisation.founded_on,
      headOffice: organisation.head_office,
      representatives: representatives.rows.map((row) => ({ nationalId: row.national_id, name: row.full_name, title: row.title })),
      activation: activated ? { activatedBy: activated.activated_by, activatedByNationalId: activated.national_id, activatedAt: activated.activated_at } : null,
    };
  }

  /** Organisations the register names the citizen legal representative of, whatever their status. */
  async representedBy(nationalId: string): Promise<RepresentedOrganisation[]> {
    const rows = await this.#db.raw<{
      rows: { enterprise_code: string; name: string; name_en: string | null; status: OrganisationStatus; title: string; activated_at: Date | null }[];
    }>(
      `SELECT o.enterprise_code, o.name, o.name_en, o.status, b.title, a.activated_at
         FROM business_representatives b
         JOIN business_organisations o ON o.enterprise_code = b.enterprise_code
         LEFT JOIN organisation_accounts a ON a.enterprise_code = b.enterprise_code
        WHERE b.national_id = ?
        ORDER BY o.name, o.enterprise_code`,
      [nationalId],
    );
    return rows.rows.map((row) => ({
      enterpriseCode: row.enterprise_code,
      name: row.name,
      nameEn: row.name_en,
      status: row.status,
      title: row.title,
      activatedAt: row.activated_at,
    }));
  }

  /**
   * The organisation as its current legal representative manages it; refused for anyone else (403),
   * a level-1 account (403) and an unknown code (404: the business register is public, so telling
   * the two apart gives nothing away).
   */
  async managed(actor: Actor, enterpriseCode: string): Promise<OrganisationEntry> {
    const entry = await this.organisation(enterpriseCode);
    if (!entry || !entry.representatives.some((representative) => representative.nationalId === actor.nationalId)) {
      throw new OrganisationRefusal(entry ? 'not_representative' : 'unknown_organisation');
    }
    if (actor.level !== 2) throw new OrganisationRefusal('level_two_needed');
    return entry;
  }

  /**
   * Activates the organisation's account. In one statement: the register must name the actor its legal
   * representative and show the organisation active, and no account may exist yet.
   */
  async activate(actor: Actor, enterpriseCode: string, context: ChangeContext): Promise<OrganisationEntry> {
    const entry = await this.managed(actor, enterpriseCode);
    const inserted = await this.#db.raw<{ rows: { activated_at: Date }[] }>(
      `INSERT INTO organisation_accounts (enterprise_code, activated_by)
       SELECT o.enterprise_code, :accountId FROM business_organisations o
        WHERE o.enterprise_code = :code AND o.status = 'active'
          AND EXISTS (SELECT 1 FROM business_representatives b WHERE b.enterprise_code = o.enterprise_code AND b.national_id = :nationalId)
       ON CONFLICT (enterprise_code) DO NOTHING
       RETURNING activated_at`,
      { accountId: actor.accountId, code: enterpriseCode, nationalId: actor.nationalId },
    );
    if (inserted.rows.length === 0) {
      const now = await this.organisation(enterpriseCode);
      if (now?.activation) throw new OrganisationRefusal('already_activated');
      if (now?.status !== 'active') throw new OrganisationRefusal('organisation_inactive');
      throw new OrganisationRefusal('not_representative');
    }
    await this.#audit(actor, 'organisation.activated', { enterpriseCode }, context);
    await this.#notifyRepresentatives(enterpriseCode, activationNotice(entry.name, enterpriseCode, this.#deps.issuer));
    return { ...entry, activation: { activatedBy: actor.accountId, activatedByNationalId: actor.nationalId, activatedAt: inserted.rows[0]!.activated_at } };
  }

  /** Every authorisation of the organisation, newest first, each with its status today. */
  async grantsOf(enterpriseCode: string): Promise<Authorisation[]> {
    const rows = await this.#db.raw<{ rows: AuthorisationRow[] }>(`${AUTHORISATION_SELECT} WHERE g.enterprise_code = ? ORDER BY g.granted_at DESC, g.id`, [
      enterpriseCode,
    ]);
    return rows.rows.map((row) => this.#authorisationOf(row));
  }

  /** One authorisation by its id (a well-formed UUID), whoever it concerns. */
  async #authorisation(id: string): Promise<Authorisation | undefined> {
    const rows = await this.#db.raw<{ rows: AuthorisationRow[] }>(`${AUTHORISATION_SELECT} WHERE g.id = ?`, [id]);
    return rows.rows[0] && this.#authorisationOf(rows.rows[0]);
  }

  /** Every authorisation granted to the citizen, newest first. */
  async grantsTo(nationalId: string): Promise<Authorisation[]> {
    const rows = await this.#db.raw<{ rows: AuthorisationRow[] }>(`${AUTHORISATION_SELECT} WHERE g.grantee_national_id = ? ORDER BY g.granted_at DESC, g.id`, [
      nationalId,
    ]);
    return rows.rows.map((row) => this.#authorisationOf(row));
  }

  /**
   * Grants an authorisation to another living citizen by ID number: roles from the fixed set, from a
   * day (today or later), until an optional day not before it. Nothing is written unless all holds.
   */
  async grant(actor: Actor, enterpriseCode: string, input: GrantInput, context: ChangeContext): Promise<Authorisation> {
    const entry = await this.managed(actor, enterpriseCode);
    if (entry.status !== 'active') throw new OrganisationRefusal('organisation_inactive');
    if (!entry.activation) throw new OrganisationRefusal('not_activated');
    const grantee = input.grantee.replace(/[\s.]/g, '');
    if (!/^[0-9]{12}$/.test(grantee)) throw new OrganisationRefusal('bad_grantee', 'grantee');
    if (grantee === actor.nationalId) throw new OrganisationRefusal('grantee_self', 'grantee');
    const roles = parseRoles(input.roles);
    if (!roles) throw new OrganisationRefusal('bad_roles', 'roles');
    const validFrom = input.validFrom.trim();
    const validUntil = input.validUntil.trim();
    if (!isCalendarDay(validFrom)) throw new OrganisationRefusal('bad_date', 'valid_from');
    if (validUntil !== '' && !isCalendarDay(validUntil)) throw new OrganisationRefusal('bad_date', 'valid_until');
    if (validFrom < this.today()) throw new OrganisationRefusal('from_in_past', 'valid_from');
    if (validUntil !== '' && validUntil < validFrom) throw new OrganisationRefusal('until_before_from', 'valid_until');
    const record = await this.#deps.registry.findByNationalId(grantee);
    if (!record) throw new OrganisationRefusal('grantee_unknown', 'grantee');
    if (!isAlive(record)) throw new OrganisationRefusal('grantee_not_alive', 'grantee');

    // Checked again in the statement itself: still a representative, still active, still activated.
    const inserted = await this.#db.raw<{ rows: { id: string }[] }>(
      `INSERT INTO organisation_authorisations (enterprise_code, grantee_national_id, roles, valid_from, valid_until, granted_by)
       SELECT o.enterprise_code, :grantee, :roles::text[], :validFrom::date, :validUntil::date, :accountId
         FROM business_organisations o JOIN organisation_accounts a ON a.enterprise_code = o.enterprise_code
        WHERE o.enterprise_code = :code AND o.status = 'active'
          AND EXISTS (SELECT 1 FROM business_representatives b WHERE b.enterprise_code = o.enterprise_code AND b.national_id = :nationalId)
       RETURNING id`,
      {
        grantee,
        roles: roles as unknown as string[],
        validFrom,
        validUntil: validUntil === '' ? null : validUntil,
        accountId: actor.accountId,
        code: enterpriseCode,
        nationalId: actor.nationalId,
      },
    );
    const id = inserted.rows[0]?.id;
    if (!id) throw new OrganisationRefusal('not_representative');
    const granted = (await this.#authorisation(id))!;
    const granteeAccount = await this.#deps.accounts.findByNationalId(grantee);
    await this.#audit(actor, 'authorisation.granted', {
      enterpriseCode,
      authorisationId: id,
      roles,
      validFrom,
      validUntil: validUntil === '' ? null : validUntil,
      ...(granteeAccount && { granteeAccountId: granteeAccount.id }),
    }, context);
    const notice = authorisationNotice('granted', granted, this.#deps.issuer);
    await this.#notify(granteeAccount, notice);
    await this.#notifyRepresentatives(enterpriseCode, notice);
    return granted;
  }

  /** Revokes one of the organisation's authorisations (any representative's, past or present). */
  async revoke(actor: Actor, enterpriseCode: string, authorisationId: string, context: ChangeContext): Promise<Authorisation> {
    await this.managed(actor, enterpriseCode);
    if (!UUID.test(authorisationId)) throw new OrganisationRefusal('grant_not_found');
    const updated = await this.#db.raw<{ rows: { id: string }[] }>(
      `UPDATE organisation_authorisations g SET revoked_at = now(), revoked_by = :accountId
        WHERE g.id = :id AND g.enterprise_code = :code AND g.revoked_at IS NULL AND g.declined_at IS NULL
          AND EXISTS (SELECT 1 FROM business_representatives b WHERE b.enterprise_code = g.enterprise_code AND b.national_id = :nationalId)
       RETURNING g.id`,
      { accountId: actor.accountId, id: authorisationId, code: enterpriseCode, nationalId: actor.nationalId },
    );
    const grant = await this.#authorisation(authorisationId);
    if (grant?.enterpriseCode !== enterpriseCode) throw new OrganisationRefusal('grant_not_found');
    if (updated.rows.length === 0) throw new OrganisationRefusal('grant_ended');
    const granteeAccount = await this.#deps.accounts.findByNationalId(grant.granteeNationalId);
    await this.#audit(actor, 'authorisation.revoked', {
      enterpriseCode,
      authorisationId,
      ...(granteeAccount && { granteeAccountId: granteeAccount.id }),
    }, context);
    const notice = authorisationNotice('revoked', grant, this.#deps.issuer);
    await this.#notify(granteeAccount, notice);
    await this.#notifyRepresentatives(enterpriseCode, notice);
    return grant;
  }

  /** The grantee declines an authorisation granted to them; anyone else's is not found. */
  async decline(actor: Actor, authorisationId: string, context: ChangeContext): Promise<Authorisation> {
    if (!UUID.test(authorisationId)) throw new OrganisationRefusal('grant_not_found');
    const updated = await this.#db.raw<{ rows: { id: string }[] }>(
      `UPDATE organisation_authorisations SET declined_at = now()
        WHERE id = :id AND grantee_national_id = :nationalId AND declined_at IS NULL AND revoked_at IS NULL
       RETURNING id`,
      { id: authorisationId, nationalId: actor.nationalId },
    );
    const grant = await this.#authorisation(authorisationId);
    if (grant?.granteeNationalId !== actor.nationalId) throw new OrganisationRefusal('grant_not_found');
    if (updated.rows.length === 0) throw new OrganisationRefusal('grant_ended');
    await this.#audit(actor, 'authorisation.declined', { enterpriseCode: grant.enterpriseCode, authorisationId }, context);
    await this.#notifyRepresentatives(grant.enterpriseCode, authorisationNotice('declined', grant, this.#deps.issuer));
    return grant;
  }

  /** Uses of the organisation's account, newest first; `page` 0 is the newest. */
  async usesOf(enterpriseCode: string, page = 0): Promise<{ uses: RepresentationUse[]; hasMore: boolean }> {
    const rows = await this.#db.raw<{ rows: UseRow[] }>(
      `${USE_SELECT} WHERE u.enterprise_code = ? ORDER BY u.used_at DESC, u.id DESC LIMIT ? OFFSET ?`,
      [enterpriseCode, USES_PAGE_SIZE + 1, page * USES_PAGE_SIZE],
    );
    return { uses: rows.rows.slice(0, USES_PAGE_SIZE).map(useOf), hasMore: rows.rows.length > USES_PAGE_SIZE };
  }

  /**
   * Uses for the children under 14 today whose current registry record names the citizen father,
   * mother or guardian (by whichever parent), newest first, at most one page.
   */
  async childUsesFor(nationalId: string): Promise<RepresentationUse[]> {
    const today = this.today();
    const rows = await this.#db.raw<{ rows: (UseRow & { child_birth_date: string })[] }>(
      `${USE_SELECT}
        JOIN registry_records c ON c.national_id = u.child_national_id
       WHERE (c.father_national_id = :nationalId OR c.mother_national_id = :nationalId OR c.guardian_national_id = :nationalId)
         AND c.birth_date >= :bornAfter::date - 1
       ORDER BY u.used_at DESC, u.id DESC LIMIT :limit`,
      { nationalId, bornAfter: birthday(today, -CHILD_AGE_LIMIT), limit: USES_PAGE_SIZE },
    );
    return rows.rows.filter((row) => birthday(row.child_birth_date, CHILD_AGE_LIMIT) > today).map(useOf);
  }

  #authorisationOf(row: AuthorisationRow): Authorisation {
    const today = this.today();
    const status: AuthorisationStatus =
      row.revoked_at !== null
        ? 'revoked'
        : row.declined_at !== null
          ? 'declined'
          : row.org_status !== 'active' || (row.valid_until !== null && row.valid_until < today)
            ? 'ended'
            : row.valid_from > today
              ? 'upcoming'
              : 'current';
    return {
      id: row.id,
      enterpriseCode: row.enterprise_code,
      organisationName: row.name,
      organisationNameEn: row.name_en,
      organisationStatus: row.org_status,
      granteeNationalId: row.grantee_national_id,
      granteeName: row.grantee_name,
      roles: row.roles as OrganisationRole[],
      validFrom: row.valid_from,
      validUntil: row.valid_until,
      grantedBy: row.granted_by,
      grantedAt: row.granted_at,
      declinedAt: row.declined_at,
      revokedAt: row.revoked_at,
      revokedBy: row.revoked_by,
      status,
    };
  }

  async #audit(actor: Actor, change: string, data: Record<string, unknown>, context: ChangeContext): Promise<void> {
    await this.#deps.audit.record({
      type: ORGANISATION_CHANGED,
      actor: actor.accountId,
      accountId: actor.accountId,
      data: { change, via: context.via, ...(context.ip !== undefined && { ip: context.ip }), ...data },
    });
  }

  /** Notifies one citizen's verified contacts; a notice that cannot be queued never undoes the change. */
  async #notify(account: Account | undefined, notice: { subject: string; body: string }): Promise<void> {
    if (!account || account.status !== 'active') return;
    try {
      await notifyContacts(this.#deps.notifier, account, notice);
    } catch (error) {
      this.#deps.logger.error({ err: error }, 'could not notify a citizen of a change to an organisation account');
    }
  }

  /** Every current legal representative with an account. */
  async #notifyRepresentatives(enterpriseCode: string, notice: { subject: string; body: string }): Promise<void> {
    const representatives = await this.#db('business_representatives').where({ enterprise_code: enterpriseCode }).select<{ national_id: string }[]>('national_id');
    for (const { national_id } of representatives) await this.#notify(await this.#deps.accounts.findByNationalId(national_id), notice);
  }
}

interface UseRow {
  id: string;
  used_at: Date;
  actor_national_id: string;
  actor_name: string | null;
  client_id: string;
  client_name: string | null;
  roles: string[];
  event: string;
  child_national_id: string | null;
  child_name: string | null;
}

const USE_SELECT = `
  SELECT u.id, u.used_at, a.national_id AS actor_national_id, ar.full_name AS actor_name, u.client_id,
         cl.name AS client_name, u.roles, u.event, u.child_national_id, cr.full_name AS child_name,
         to_char(cr.birth_date, 'YYYY-MM-DD') AS child_birth_date
    FROM representation_uses u
    JOIN accounts a ON a.id = u.actor_account_id
    LEFT JOIN registry_records ar ON ar.national_id = a.national_id
    LEFT JOIN clients cl ON cl.client_id = u.client_id
    LEFT JOIN registry_records cr ON cr.national_id = u.child_national_id`;

function useOf(row: UseRow): RepresentationUse {
  return {
    id: String(row.id),
    usedAt: row.used_at,
    actorNationalId: row.actor_national_id,
    actorName: row.actor_name,
    clientId: row.client_id,
    clientName: row.client_name ?? row.client_id,
    roles: row.roles,
    event: row.event,
    ...(row.child_national_id !== null && { childNationalId: row.child_national_id, childName: row.child_name }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Notices (contacts carry no language preference: Vietnamese and English)

const SUBJECT = 'Định danh điện tử: tài khoản tổ chức / Electronic identity: organisation account';

/** To the representatives: the organisation's account was activated. */
function activationNotice(name: string, code: string, issuer: string): { subject: string; body: string } {
  const page = `${issuer}/account/organisations/${code}`;
  const at = new Date();
  return {
    subject: SUBJECT,
    body: [
      `Tài khoản định danh điện tử của tổ chức ${name} (mã số doanh nghiệp ${code}) đã được kích hoạt (${formatDateTime('vi', at)}). Xem tại ${page}.`,
      'Nếu không phải bạn hay người đại diện của tổ chức, hãy liên hệ cơ quan Công an nơi gần nhất.',
      '',
      `The electronic identity account of ${name} (enterprise code ${code}) was activated (${formatDateTime('en', at)}). See ${page}.`,
      'If this was not you or another representative of the organisation, contact your nearest police office.',
    ].join('\n'),
  };
}

function authorisationNotice(change: 'granted' | 'revoked' | 'declined', grant: Authorisation, issuer: string): { subject: string; body: string } {
  const page = `${issuer}/account/organisations`;
  const period = (locale: 'vi' | 'en') =>
    grant.validUntil === null
      ? `${locale === 'vi' ? 'từ' : 'from'} ${formatDate(locale, grant.validFrom)}`
      : `${locale === 'vi' ? 'từ' : 'from'} ${formatDate(locale, grant.validFrom)} ${locale === 'vi' ? 'đến hết' : 'until'} ${formatDate(locale, grant.validUntil)}`;
  const who = `${grant.organisationName} (${grant.enterpriseCode})`;
  const roles = grant.roles.join(', ');
  const vi = {
    granted: `${who} đã ủy quyền cho bạn (${grant.granteeNationalId.slice(0, 3)}•••${grant.granteeNationalId.slice(-3)}) thay mặt tổ chức với vai trò: ${roles}, ${period('vi')}. Bạn có thể xem hoặc từ chối tại ${page}.`,
    revoked: `Ủy quyền của ${who} cho người có số định danh ${grant.granteeNationalId.slice(0, 3)}•••${grant.granteeNationalId.slice(-3)} (vai trò: ${roles}) đã bị thu hồi.`,
    declined: `Người có số định danh ${grant.granteeNationalId.slice(0, 3)}•••${grant.granteeNationalId.slice(-3)} đã từ chối ủy quyền của ${who} (vai trò: ${roles}).`,
  }[change];
  const en = {
    granted: `${who} has authorised you (${grant.granteeNationalId.slice(0, 3)}•••${grant.granteeNationalId.slice(-3)}) to act for it in the roles: ${roles}, ${period('en')}. You can see or decline it at ${page}.`,
    revoked: `The authorisation of ${who} for the person with ID number ${grant.granteeNationalId.slice(0, 3)}•••${grant.granteeNationalId.slice(-3)} (roles: ${roles}) was revoked.`,
    declined: `The person with ID number ${grant.granteeNationalId.slice(0, 3)}•••${grant.granteeNationalId.slice(-3)} declined the authorisation of ${who} (roles: ${roles}).`,
  }[change];
  return { subject: SUBJECT, body: [vi, '', en].join('\n') };
}
