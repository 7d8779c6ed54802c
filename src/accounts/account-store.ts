// What the account services need of storage: the one interface to the accounts table and its
// satellites (passkeys, recovery codes, known devices, enrolment handover codes). Services take it;
// only its PostgreSQL implementation (account-store-postgres.ts) writes SQL for these tables.
import type { Knex } from 'knex';
import type { Account, AccountEnrolment } from './accounts.ts';

/** An account named by its internal id or by the ID number of its holder. */
export type AccountKey = { readonly id: string } | { readonly nationalId: string };

/** The whole account as an officer sees it: what sign-in needs, and how it got its level and lock. */
export interface AccountRecord extends Account {
  readonly totpEnrolledAt: Date | null;
  readonly lockedAt: Date | null;
  readonly lockReason: string | null;
  readonly levelRaisedAt: Date | null;
  readonly levelRaisedBy: string | null;
  readonly levelEvidence: string | null;
}

/** A contact its owner confirmed with a code. */
export type ContactKind = 'phone' | 'email';

/** The factors an account has; a level-2 account needs TOTP or a passkey to reach level 2. */
export interface SecondFactors {
  readonly totp: boolean;
  /** Null for a secret stored without enrolment (the demo seed). */
  readonly totpEnrolledAt: Date | null;
  readonly passkeys: number;
  readonly recoveryCodesLeft: number;
}

export interface Passkey {
  readonly credentialId: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

/** A passkey as its verification needs it. */
export interface StoredPasskey {
  readonly credentialId: string;
  readonly accountId: string;
  /** COSE public key, base64url. */
  readonly publicKey: string;
  readonly counter: number;
  readonly transports: string[];
}

export interface HandoverCode {
  readonly codeHash: string;
  readonly expiresAt: Date;
  readonly failedAttempts: number;
  readonly issuedBy: string;
}

export interface AccountStore {
  /** The same store inside a transaction that another module opened (four-eyes approvals, the change feed). */
  joining(transaction: Knex.Transaction): AccountStore;
  /** Runs `work` in one transaction; the store it is given reads and writes inside it. */
  transaction<T>(work: (store: AccountStore) => Promise<T>): Promise<T>;

  // ---- accounts
  findByNationalId(nationalId: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  /** The full record; `forUpdate` keeps the row locked until the transaction ends. */
  findRecord(key: AccountKey, options?: { forUpdate?: boolean }): Promise<AccountRecord | undefined>;
  /** Creates the account of a person, or resets it to the given state (the demo seed). */
  enrol(enrolment: AccountEnrolment): Promise<Account>;
  /** A new level-1 account from self-registration; undefined when the person has one already (never overwritten). */
  createIfAbsent(account: { nationalId: string; passwordHash: string; phoneNumber: string | null; email: string | null }): Promise<string | undefined>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  /**
   * The one lock path (an officer, the holder, a death in the registry). Returns the account's id and
   * whether this call locked it, or undefined when there is no such account. Inside a transaction the
   * row stays locked until it ends. A null reason (the registry's) records no lock time or reason.
   */
  lock(key: AccountKey, reason: string | null): Promise<{ id: string; lockedNow: boolean } | undefined>;
  /** True when this call unlocked it. */
  unlock(id: string): Promise<boolean>;
  /** Raises a level-1 account to level 2; false when it is at level 2 already, or gone. */
  raiseToLevelTwo(id: string, check: LevelTwoCheck): Promise<boolean>;
  saveVerifiedContact(id: string, kind: ContactKind, value: string): Promise<void>;
  removeEmail(id: string): Promise<void>;
  /**
   * The holders' full names by account id, from the registry mirror, in one statement (the console
   * names administrators by them); an id without an account or a mirrored record is left out.
   */
  holderNamesOf(ids: readonly string[]): Promise<Map<string, string>>;

  // ---- TOTP (sealed by the caller: the store never sees a secret in clear)
  sealedTotpSecretOf(id: string): Promise<string | undefined>;
  saveTotpSecret(id: string, sealed: string): Promise<void>;
  /** True when a secret was removed. */
  removeTotpSecret(id: string): Promise<boolean>;
  secondFactorsOf(id: string): Promise<SecondFactors>;

  // ---- recovery codes (SHA-256 hashes)
  /** Forgets every earlier code, used or not, and keeps these. */
  replaceRecoveryCodes(accountId: string, codeHashes: readonly string[]): Promise<void>;
  /** True exactly once per code, even when two requests race (one conditional UPDATE). */
  spendRecoveryCode(accountId: string, codeHash: string): Promise<boolean>;
  removeRecoveryCodes(accountId: string): Promise<number>;

  // ---- passkeys
  listPasskeys(accountId: string): Promise<Passkey[]>;
  passkeyCredentialsOf(accountId: string): Promise<{ credentialId: string; transports: string[] }[]>;
  findPasskey(credentialId: string): Promise<StoredPasskey | undefined>;
  /** Undefined when the credential is registered already. */
  addPasskey(passkey: StoredPasskey & { readonly name: string }): Promise<Passkey | undefined>;
  /** Compare-and-set on the signature counter: of two racing assertions with the same counter, one wins. */
  advancePasskeyCounter(credentialId: string, from: number, to: number): Promise<boolean>;
  removePasskey(accountId: string, credentialId: string): Promise<boolean>;
  removePasskeys(accountId: string): Promise<number>;

  // ---- known devices (hashes of the device cookie)
  /** Records a sign-in from a device: whether it is new to the account, and how many the account knows. */
  rememberDevice(accountId: string, deviceHash: string): Promise<{ isNew: boolean; known: number }>;

  // ---- enrolment handover codes
  handoverCodeOf(accountId: string): Promise<HandoverCode | undefined>;
  /** Replaces any earlier code of the account. */
  saveHandoverCode(accountId: string, code: { codeHash: string; expiresAt: Date; issuedBy: string }): Promise<void>;
  countHandoverFailure(accountId: string): Promise<void>;
  /** Deletes the code if it is this one and still good: true for the one caller that spent it. */
  spendHandoverCode(accountId: string, codeHash: string, maxAttempts: number): Promise<boolean>;
}

/** How a level-2 raise was evidenced (accounts.level_evidence_method and level_evidence_document, migration 018). */
export interface LevelTwoCheck {
  readonly raisedBy: string;
  readonly evidence: string;
  /** Checked in person by an officer (the default), or the card's chip verified (src/chip/). */
  readonly method?: 'in_person' | 'chip';
  /** The document as checked (for a chip: src/chip/chip-verification.ts CheckedDocument). */
  readonly document?: Readonly<Record<string, unknown>> | null;
}
