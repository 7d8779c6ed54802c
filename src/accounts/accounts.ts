// eID accounts: one per person, tied to one registry record, level 1 or 2.
import type { Database } from '../storage/database.ts';

export type AccountLevel = 1 | 2;
export type AccountStatus = 'active' | 'locked';

export interface Account {
  /** Internal id (a UUID): what the provider knows the citizen by; never the ID number. */
  readonly id: string;
  readonly nationalId: string;
  readonly level: AccountLevel;
  readonly status: AccountStatus;
  readonly passwordHash: string;
  readonly hasSecondFactor: boolean;
  readonly phoneNumber: string | null;
  readonly phoneNumberVerified: boolean;
  readonly email: string | null;
  readonly emailVerified: boolean;
}

export interface AccountRow {
  id: string;
  national_id: string;
  level: AccountLevel;
  status: AccountStatus;
  password_hash: string;
  totp_secret_sealed: string | null;
  phone_number: string | null;
  phone_number_verified: boolean;
  email: string | null;
  email_verified: boolean;
}

export function accountFromRow(row: AccountRow): Account {
  return {
    id: row.id,
    nationalId: row.national_id,
    level: row.level,
    status: row.status,
    passwordHash: row.password_hash,
    hasSecondFactor: row.totp_secret_sealed !== null,
    phoneNumber: row.phone_number,
    phoneNumberVerified: row.phone_number_verified,
    email: row.email,
    emailVerified: row.email_verified,
  };
}

export interface AccountEnrolment {
  readonly nationalId: string;
  readonly level: AccountLevel;
  readonly passwordHash: string;
  readonly totpSecretSealed: string | null;
  readonly phoneNumber: string | null;
  readonly phoneNumberVerified: boolean;
  readonly email: string | null;
  readonly emailVerified: boolean;
}

/** An account id's shape (a UUID): anything else is no account, and PostgreSQL is not asked. */
export const ACCOUNT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class AccountRepository {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async findByNationalId(nationalId: string): Promise<Account | undefined> {
    const row = await this.#db<AccountRow>('accounts').where({ national_id: nationalId }).first();
    return row && accountFromRow(row);
  }

  async findById(id: string): Promise<Account | undefined> {
    if (!ACCOUNT_ID.test(id)) return undefined;
    const row = await this.#db<AccountRow>('accounts').where({ id }).first();
    return row && accountFromRow(row);
  }

  /** Creates the account of a person, or resets it to the given state (the demo seed). */
  async enrol(enrolment: AccountEnrolment): Promise<Account> {
    const [row] = await this.#db('accounts')
      .insert({
        national_id: enrolment.nationalId,
        level: enrolment.level,
        status: 'active',
        password_hash: enrolment.passwordHash,
        totp_secret_sealed: enrolment.totpSecretSealed,
        phone_number: enrolment.phoneNumber,
        phone_number_verified: enrolment.phoneNumberVerified,
        email: enrolment.email,
        email_verified: enrolment.emailVerified,
      })
      .onConflict('national_id')
      .merge(['level', 'status', 'password_hash', 'totp_secret_sealed', 'phone_number', 'phone_number_verified', 'email', 'email_verified'])
      .returning<AccountRow[]>('*');
    return accountFromRow(row!);
  }

  /**
   * Raises an account to level 2 after an in-person check, recording who, when and the evidence.
   * Returns the account as it is now, or undefined when there is no such account. Idempotent: an
   * account already at level 2 keeps its first record.
   */
  async raiseToLevelTwo(nationalId: string, check: { officer: string; evidence: string }): Promise<{ account: Account; raisedNow: boolean } | undefined> {
    const [row] = await this.#db('accounts')
      .where({ national_id: nationalId, level: 1 })
      .update({ level: 2, level_raised_at: this.#db.fn.now(), level_raised_by: check.officer, level_evidence: check.evidence, updated_at: this.#db.fn.now() })
      .returning<AccountRow[]>('*');
    if (row) return { account: accountFromRow(row), raisedNow: true };
    const existing = await this.findByNationalId(nationalId);
    return existing && { account: existing, raisedNow: false };
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.#db('accounts').where({ id }).update({ password_hash: passwordHash, updated_at: this.#db.fn.now() });
  }

  /**
   * Locks the account of a person, if there is one (a death or disappearance in the registry). Returns
   * its id and whether this call locked it (false when it was locked already); the row stays locked
   * until the caller's transaction ends, when given a transaction as the database.
   */
  async lockByNationalId(nationalId: string): Promise<{ id: string; lockedNow: boolean } | undefined> {
    const row = await this.#db<AccountRow>('accounts').where({ national_id: nationalId }).forUpdate().first('id', 'status');
    if (!row) return undefined;
    if (row.status === 'locked') return { id: row.id, lockedNow: false };
    await this.#db('accounts').where({ id: row.id }).update({ status: 'locked', updated_at: this.#db.fn.now() });
    return { id: row.id, lockedNow: true };
  }
}
