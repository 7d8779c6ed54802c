// The second factor at sign-in: a TOTP code (burnt once used), with guesses counted per account
// like password failures, so a stolen password does not open a level-2 session by brute force.
import type { Database } from '../storage/database.ts';
import type { KeyEncryption } from '../storage/key-encryption.ts';
import type { Account } from './accounts.ts';
import type { BruteForceGuard, Lock } from './brute-force.ts';
import type { TotpVerifier } from './totp.ts';
import type { Metrics } from '../observability/metrics.ts';

export type SecondFactorOutcome =
  | { readonly outcome: 'valid'; readonly amr: readonly string[] }
  | { readonly outcome: 'invalid' }
  | { readonly outcome: 'locked'; readonly until: Date };

/** Another way to prove the second factor (recovery codes, from the account page's module). */
export type AlternativeFactor = (accountId: string, input: string) => Promise<boolean>;

export class SecondFactorCheck {
  readonly #db: Database;
  readonly #sealer: KeyEncryption;
  readonly #totp: TotpVerifier;
  readonly #guard: BruteForceGuard;
  readonly #alternatives: readonly AlternativeFactor[];
  readonly #metrics: Pick<Metrics, 'signIn'> | undefined;

  constructor(deps: {
    db: Database;
    sealer: KeyEncryption;
    totp: TotpVerifier;
    bruteForce: BruteForceGuard;
    alternatives?: readonly AlternativeFactor[];
    metrics?: Pick<Metrics, 'signIn'>;
  }) {
    this.#db = deps.db;
    this.#sealer = deps.sealer;
    this.#totp = deps.totp;
    this.#guard = deps.bruteForce;
    this.#alternatives = deps.alternatives ?? [];
    this.#metrics = deps.metrics;
  }

  /** Whether the account can be stepped up to level 2 at all. */
  canReachLevel2(account: Account): boolean {
    return account.level === 2 && account.hasSecondFactor;
  }

  lockOf(account: Account): Promise<Lock> {
    return this.#guard.lockOf({ kind: 'otp', accountId: account.id });
  }

  async verify(account: Account, input: string, context: { ip?: string }): Promise<SecondFactorOutcome> {
    const target = { kind: 'otp' as const, accountId: account.id };
    const lock = await this.#guard.lockOf(target);
    if (lock.locked) {
      this.#metrics?.signIn('locked');
      return { outcome: 'locked', until: lock.until };
    }
    const code = input.replace(/\s+/g, '');
    let amr: string[] | undefined;
    if (/^\d{6}$/.test(code)) {
      const row = await this.#db('accounts').where({ id: account.id }).first<{ totp_secret_sealed: string | null } | undefined>('totp_secret_sealed');
      if (row?.totp_secret_sealed) {
        const secret = this.#sealer.open(row.totp_secret_sealed, `totp:${account.nationalId}`);
        if ((await this.#totp.verify(account.id, secret, code)) === 'valid') amr = ['otp'];
      }
    } else if (code.length > 0 && code.length <= 64) {
      for (const alternative of this.#alternatives) {
        if (await alternative(account.id, code)) {
          amr = ['otp'];
          break;
        }
      }
    }
    if (!amr) {
      const locked = await this.#guard.recordFailure(target, { ip: context.ip, accountId: account.id });
      this.#metrics?.signIn('second_factor_invalid');
      return locked.locked ? { outcome: 'locked', until: locked.until } : { outcome: 'invalid' };
    }
    await this.#guard.recordSuccess(target);
    return { outcome: 'valid', amr };
  }
}
