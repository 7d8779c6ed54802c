// The one-time code an officer hands over in person after resetting an account's second factors
// (docs/administration.md "Account administration"). Without it, whoever knows the password could sign in (a level-2
// account with no factor left signs in with the password alone) and enrol their own authenticator;
// with it, the first new enrolment needs something only the person at the counter was given.
// Only a SHA-256 hash is stored (40 random bits, five guesses, a day: enough against guessing);
// the code is shown once, to the officer.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { AccountStore } from './account-store.ts';
import { CROCKFORD_ALPHABET, normalizeCrockford } from './second-factors.ts';

export const HANDOVER_CODE_TTL_SECONDS = 24 * 3600;
export const HANDOVER_CODE_MAX_ATTEMPTS = 5;
// Crockford's base32, as the recovery codes: read aloud or off paper without confusion.
const LENGTH = 8;

const hashOf = (code: string) => createHash('sha256').update(`handover:${normalizeCrockford(code)}`).digest();

export type HandoverCheck = 'not-required' | 'valid' | 'invalid' | 'expired';

type HandoverStore = Pick<AccountStore, 'handoverCodeOf' | 'saveHandoverCode' | 'countHandoverFailure' | 'spendHandoverCode'>;

export class EnrolmentHandover {
  readonly #store: HandoverStore;

  constructor(store: HandoverStore) {
    this.#store = store;
  }

  /** A new code for the account, replacing any earlier one; returned once, to be shown once. */
  async issue(accountId: string, issuedBy: string, store: HandoverStore = this.#store): Promise<{ code: string; expiresAt: Date }> {
    let code = '';
    for (let index = 0; index < LENGTH; index += 1) code += CROCKFORD_ALPHABET[randomInt(CROCKFORD_ALPHABET.length)];
    const expiresAt = new Date(Date.now() + HANDOVER_CODE_TTL_SECONDS * 1000);
    await store.saveHandoverCode(accountId, { codeHash: hashOf(code).toString('hex'), expiresAt, issuedBy });
    return { code: `${code.slice(0, 4)}-${code.slice(4)}`, expiresAt };
  }

  /** Whether the account's next enrolment needs a handover code (one was issued and not yet spent). */
  async required(accountId: string): Promise<boolean> {
    return (await this.#store.handoverCodeOf(accountId)) !== undefined;
  }

  /**
   * Checks a code without spending it (the enrolment spends it with `spend` once it succeeds). A wrong
   * code counts; after five, the code is void and only a new one (a new reset) helps: 'expired'.
   */
  async check(accountId: string, code: string): Promise<HandoverCheck> {
    const row = await this.#store.handoverCodeOf(accountId);
    if (!row) return 'not-required';
    if (row.expiresAt.getTime() <= Date.now() || row.failedAttempts >= HANDOVER_CODE_MAX_ATTEMPTS) return 'expired';
    const normalized = normalizeCrockford(code);
    const matches = normalized.length === LENGTH && timingSafeEqual(hashOf(normalized), Buffer.from(row.codeHash, 'hex'));
    if (matches) return 'valid';
    await this.#store.countHandoverFailure(accountId);
    return 'invalid';
  }

  /** Spends the account's code: true for the one caller that spent it. */
  spend(accountId: string, code: string): Promise<boolean> {
    return this.#store.spendHandoverCode(accountId, hashOf(code).toString('hex'), HANDOVER_CODE_MAX_ATTEMPTS);
  }
}
