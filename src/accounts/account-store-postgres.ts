// The account store in PostgreSQL: every query on accounts, passkeys, recovery_codes, known_devices
// and enrolment_handover_codes. (One deliberate exception: src/oidc/models/token-holder.ts joins the
// account with its registry record and grant in one statement, see docs/design.md.)
import type { Knex } from 'knex';
import type { Database } from '../storage/database.ts';
import { ACCOUNT_ID, type Account, type AccountEnrolment, type AccountLevel, type AccountStatus } from './accounts.ts';
import type {
  AccountKey,
  AccountRecord,
  AccountStore,
  ContactKind,
  HandoverCode,
  Passkey,
  SecondFactors,
  StoredPasskey,
  LevelTwoCheck,
} from './account-store.ts';

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

interface AccountRecordRow extends AccountRow {
  totp_enrolled_at: Date | null;
  locked_at: Date | null;
  lock_reason: string | null;
  level_raised_at: Date | null;
  level_raised_by: string | null;
  level_evidence: string | null;
}

interface PasskeyRow {
  credential_id: string;
  account_id: string;
  public_key: string;
  counter: string;
  transports: string[];
  name: string;
  created_at: Date;
  last_used_at: Date | null;
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

const passkeyFromRow = (row: PasskeyRow): Passkey => ({ credentialId: row.credential_id, name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at });

/** A key as a WHERE clause; undefined for an id that is no UUID (PostgreSQL is not asked). */
function whereOf(key: AccountKey): { id: string } | { national_id: string } | undefined {
  if ('id' in key) return ACCOUNT_ID.test(key.id) ? { id: key.id } : undefined;
  return { national_id: key.nationalId };
}

export class PostgresAccountStore implements AccountStore {
  readonly #db: Database;

  /** `db` may be a transaction: the store then reads and writes inside it. */
  constructor(db: Database) {
    this.#db = db;
  }

  joining(transaction: Knex.Transaction): AccountStore {
    return new PostgresAccountStore(transaction);
  }

  transaction<T>(work: (store: AccountStore) => Promise<T>): Promise<T> {
    return this.#db.transaction((trx) => work(new PostgresAccountStore(trx)));
  }

  // ---- accounts

  async findByNationalId(nationalId: string): Promise<Account | undefined> {
    const row = await this.#db<AccountRow>('accounts').where({ national_id: nationalId }).first();
    return row && accountFromRow(row);
  }

  async findById(id: string): Promise<Account | undefined> {
    if (!ACCOUNT_ID.test(id)) return undefined;
    const row = await this.#db<AccountRow>('accounts').where({ id }).first();
    return row && accountFromRow(row);
  }

  async findRecord(key: AccountKey, options: { forUpdate?: boolean } = {}): Promise<AccountRecord | undefined> {
    const where = whereOf(key);
    if (!where) return undefined;
    let query = this.#db<AccountRecordRow>('accounts').where(where);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.first();
    return (
      row && {
        ...accountFromRow(row),
        totpEnrolledAt: row.totp_enrolled_at,
        lockedAt: row.locked_at,
        lockReason: row.lock_reason,
        levelRaisedAt: row.level_raised_at,
        levelRaisedBy: row.level_raised_by,
        levelEvidence: row.level_evidence,
      }
    );
  }

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

  async createIfAbsent(account: { nationalId: string; passwordHash: string; phoneNumber: string | null; email: string | null }): Promise<string | undefined> {
    const rows = await this.#db('accounts')
      .insert({
        national_id: account.nationalId,
        level: 1,
        status: 'active',
        password_hash: account.passwordHash,
        totp_secret_sealed: null,
        phone_number: account.phoneNumber,
        phone_number_verified: account.phoneNumber !== null,
        email: account.email,
        email_verified: account.email !== null,
      })
      .onConflict('national_id')
      .ignore()
      .returning<{ id: string }[]>('id');
    return rows[0]?.id;
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.#db('accounts').where({ id }).update({ password_hash: passwordHash, updated_at: this.#db.fn.now() });
  }

  async lock(key: AccountKey, reason: string | null): Promise<{ id: string; lockedNow: boolean } | undefined> {
    const where = whereOf(key);
    if (!where) return undefined;
    const now = this.#db.fn.now();
    // One conditional UPDATE decides between racing lockers; only a miss asks whether the account exists.
    const [locked] = await this.#db('accounts')
      .where({ ...where, status: 'active' })
      .update({ status: 'locked', ...(reason !== null && { locked_at: now, lock_reason: reason }), updated_at: now })
      .returning<{ id: string }[]>('id');
    if (locked) return { id: locked.id, lockedNow: true };
    const existing = await this.#db('accounts').where(where).forUpdate().first<{ id: string } | undefined>('id');
    return existing && { id: existing.id, lockedNow: false };
  }

  async unlock(id: string): Promise<boolean> {
    const updated = await this.#db('accounts')
      .where({ id, status: 'locked' })
      .update({ status: 'active', locked_at: null, lock_reason: null, updated_at: this.#db.fn.now() });
    return updated > 0;
  }

  async raiseToLevelTwo(id: string, check: LevelTwoCheck): Promise<boolean> {
    const raised = await this.#db('accounts')
      .where({ id, level: 1 })
      .update({
        level: 2,
        level_raised_at: this.#db.fn.now(),
        level_raised_by: check.raisedBy,
        level_evidence: check.evidence,
        level_evidence_method: check.method ?? 'in_person',
        level_evidence_document: check.document ? JSON.stringify(check.document) : null,
        updated_at: this.#db.fn.now(),
      });
    return raised === 1;
  }

  async saveVerifiedContact(id: string, kind: ContactKind, value: string): Promise<void> {
    await this.#db('accounts')
      .where({ id })
      .update(
        kind === 'phone'
          ? { phone_number: value, phone_number_verified: true, updated_at: this.#db.fn.now() }
          : { email: value, email_verified: true, updated_at: this.#db.fn.now() },
      );
  }

  async removeEmail(id: string): Promise<void> {
    await this.#db('accounts').where({ id }).update({ email: null, email_verified: false, updated_at: this.#db.fn.now() });
  }

  async holderNamesOf(ids: readonly string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(ids)].filter((id) => ACCOUNT_ID.test(id));
    if (wanted.length === 0) return new Map();
    const rows = await this.#db('accounts as a')
      .join('registry_records as r', 'r.national_id', 'a.national_id')
      .whereIn('a.id', wanted)
      .select<{ id: string; full_name: string }[]>('a.id', 'r.full_name');
    return new Map(rows.map((row) => [row.id, row.full_name]));
  }

  // ---- TOTP

  async sealedTotpSecretOf(id: string): Promise<string | undefined> {
    const row = await this.#db('accounts').where({ id }).first<{ totp_secret_sealed: string | null } | undefined>('totp_secret_sealed');
    return row?.totp_secret_sealed ?? undefined;
  }

  async saveTotpSecret(id: string, sealed: string): Promise<void> {
    await this.#db('accounts').where({ id }).update({ totp_secret_sealed: sealed, totp_enrolled_at: this.#db.fn.now(), updated_at: this.#db.fn.now() });
  }

  async removeTotpSecret(id: string): Promise<boolean> {
    const updated = await this.#db('accounts')
      .where({ id })
      .whereNotNull('totp_secret_sealed')
      .update({ totp_secret_sealed: null, totp_enrolled_at: null, updated_at: this.#db.fn.now() });
    return updated > 0;
  }

  async secondFactorsOf(id: string): Promise<SecondFactors> {
    const [account, passkeys, codes] = await Promise.all([
      this.#db('accounts').where({ id }).first<{ totp_secret_sealed: string | null; totp_enrolled_at: Date | null } | undefined>('totp_secret_sealed', 'totp_enrolled_at'),
      this.#db('passkeys').where({ account_id: id }).count<{ count: string }[]>('* as count'),
      this.#db('recovery_codes').where({ account_id: id }).whereNull('used_at').count<{ count: string }[]>('* as count'),
    ]);
    const totp = account?.totp_secret_sealed != null;
    return {
      totp,
      totpEnrolledAt: totp ? (account.totp_enrolled_at ?? null) : null,
      passkeys: Number(passkeys[0]?.count ?? 0),
      recoveryCodesLeft: Number(codes[0]?.count ?? 0),
    };
  }

  // ---- recovery codes

  async replaceRecoveryCodes(accountId: string, codeHashes: readonly string[]): Promise<void> {
    await this.#db.transaction(async (trx) => {
      await trx('recovery_codes').where({ account_id: accountId }).delete();
      await trx('recovery_codes').insert(codeHashes.map((codeHash) => ({ account_id: accountId, code_hash: codeHash })));
    });
  }

  async spendRecoveryCode(accountId: string, codeHash: string): Promise<boolean> {
    const updated = await this.#db('recovery_codes').where({ account_id: accountId, code_hash: codeHash }).whereNull('used_at').update({ used_at: this.#db.fn.now() });
    return updated === 1;
  }

  removeRecoveryCodes(accountId: string): Promise<number> {
    return this.#db('recovery_codes').where({ account_id: accountId }).delete();
  }

  // ---- passkeys

  async listPasskeys(accountId: string): Promise<Passkey[]> {
    const rows = await this.#db<PasskeyRow>('passkeys').where({ account_id: accountId }).orderBy('created_at', 'asc');
    return rows.map(passkeyFromRow);
  }

  async passkeyCredentialsOf(accountId: string): Promise<{ credentialId: string; transports: string[] }[]> {
    const rows = await this.#db<PasskeyRow>('passkeys').where({ account_id: accountId }).select('credential_id', 'transports');
    return rows.map((row) => ({ credentialId: row.credential_id, transports: row.transports }));
  }

  async findPasskey(credentialId: string): Promise<StoredPasskey | undefined> {
    const row = await this.#db<PasskeyRow>('passkeys').where({ credential_id: credentialId }).first();
    return (
      row && { credentialId: row.credential_id, accountId: row.account_id, publicKey: row.public_key, counter: Number(row.counter), transports: row.transports }
    );
  }

  async addPasskey(passkey: StoredPasskey & { readonly name: string }): Promise<Passkey | undefined> {
    const [row] = await this.#db('passkeys')
      .insert({
        credential_id: passkey.credentialId,
        account_id: passkey.accountId,
        public_key: passkey.publicKey,
        counter: passkey.counter,
        transports: passkey.transports,
        name: passkey.name,
      })
      .onConflict('credential_id')
      .ignore()
      .returning<PasskeyRow[]>('*');
    return row && { ...passkeyFromRow(row), lastUsedAt: null };
  }

  async advancePasskeyCounter(credentialId: string, from: number, to: number): Promise<boolean> {
    const updated = await this.#db('passkeys').where({ credential_id: credentialId, counter: from }).update({ counter: to, last_used_at: this.#db.fn.now() });
    return updated === 1;
  }

  async removePasskey(accountId: string, credentialId: string): Promise<boolean> {
    return (await this.#db('passkeys').where({ account_id: accountId, credential_id: credentialId }).delete()) > 0;
  }

  removePasskeys(accountId: string): Promise<number> {
    return this.#db('passkeys').where({ account_id: accountId }).delete();
  }

  // ---- known devices

  async rememberDevice(accountId: string, deviceHash: string): Promise<{ isNew: boolean; known: number }> {
    const inserted = await this.#db('known_devices')
      .insert({ account_id: accountId, device_hash: deviceHash })
      .onConflict(['account_id', 'device_hash'])
      .merge({ last_seen_at: this.#db.fn.now() })
      .returning<{ first_seen_at: Date; last_seen_at: Date }[]>(['first_seen_at', 'last_seen_at']);
    const row = inserted[0];
    const isNew = row !== undefined && row.first_seen_at.getTime() === row.last_seen_at.getTime();
    const known = await this.#db('known_devices').where({ account_id: accountId }).count<{ count: string }[]>({ count: '*' });
    return { isNew, known: Number(known[0]?.count ?? 0) };
  }

  // ---- enrolment handover codes

  async handoverCodeOf(accountId: string): Promise<HandoverCode | undefined> {
    const row = await this.#db('enrolment_handover_codes')
      .where({ account_id: accountId })
      .first<{ code_hash: string; expires_at: Date; failed_attempts: number; issued_by: string } | undefined>('code_hash', 'expires_at', 'failed_attempts', 'issued_by');
    return row && { codeHash: row.code_hash, expiresAt: row.expires_at, failedAttempts: row.failed_attempts, issuedBy: row.issued_by };
  }

  async saveHandoverCode(accountId: string, code: { codeHash: string; expiresAt: Date; issuedBy: string }): Promise<void> {
    await this.#db('enrolment_handover_codes')
      .insert({ account_id: accountId, code_hash: code.codeHash, expires_at: code.expiresAt, issued_by: code.issuedBy, failed_attempts: 0 })
      .onConflict('account_id')
      .merge(['code_hash', 'expires_at', 'issued_by', 'failed_attempts', 'issued_at']);
  }

  async countHandoverFailure(accountId: string): Promise<void> {
    await this.#db('enrolment_handover_codes').where({ account_id: accountId }).increment('failed_attempts', 1);
  }

  async spendHandoverCode(accountId: string, codeHash: string, maxAttempts: number): Promise<boolean> {
    const deleted = await this.#db('enrolment_handover_codes')
      .where({ account_id: accountId, code_hash: codeHash })
      .where('expires_at', '>', this.#db.fn.now())
      .where('failed_attempts', '<', maxAttempts)
      .delete();
    return deleted === 1;
  }
}
