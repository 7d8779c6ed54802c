// eID accounts: one per person, tied to one registry record, level 1 or 2 (stored by account-store.ts).

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
