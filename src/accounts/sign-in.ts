// Password sign-in against the eID account and the registry. An unknown ID number and a wrong
// password take the same time and get the same answer; only the right password learns more.
// Failures count against the *submitted* ID number (BruteForceGuard), so a lock looks the same
// whether or not an account exists.
import type { AuditLog } from '../audit/audit-log.ts';
import type { RegistryRecord } from '../registry/registry.ts';
import type { RegistryGateway } from '../registry/gateway.ts';
import { isAlive } from '../registry/registry.ts';
import { isNationalIdShape } from '../registry/national-id.ts';
import { maskIdNumbers } from '../observability/redact.ts';
import type { Account } from './accounts.ts';
import type { AccountStore } from './account-store.ts';
import type { PasswordHasher } from './passwords.ts';
import type { BruteForceGuard } from './brute-force.ts';
import type { Metrics } from '../observability/metrics.ts';

export type SignInResult =
  | { readonly outcome: 'signed-in'; readonly account: Account; readonly record: RegistryRecord }
  /** Unknown ID number or wrong password: deliberately indistinguishable. */
  | { readonly outcome: 'invalid-credentials' }
  /** Right password, but the account may not be used: locked, or the person is dead or missing. */
  | { readonly outcome: 'refused'; readonly reason: 'locked' | 'deceased-or-missing' }
  /** Too many failures for this ID number: passwords are not even checked until `until`. */
  | { readonly outcome: 'temporarily-locked'; readonly until: Date };

/** Longest password accepted; argon2 would hash more, but nobody types 1 kB. */
export const MAX_PASSWORD_LENGTH = 1024;

export class PasswordSignIn {
  readonly #accounts: Pick<AccountStore, 'findByNationalId' | 'updatePasswordHash'>;
  readonly #registry: RegistryGateway;
  readonly #hasher: PasswordHasher;
  readonly #audit: AuditLog;
  readonly #guard: BruteForceGuard;
  readonly #metrics: Pick<Metrics, 'signIn'> | undefined;

  constructor(deps: {
    accounts: Pick<AccountStore, 'findByNationalId' | 'updatePasswordHash'>;
    registry: RegistryGateway;
    hasher: PasswordHasher;
    audit: AuditLog;
    bruteForce: BruteForceGuard;
    /** Counts failures here; a success is counted when the sign-in completes, with its level (src/oidc/consent/interactions.ts). */
    metrics?: Pick<Metrics, 'signIn'>;
  }) {
    this.#accounts = deps.accounts;
    this.#registry = deps.registry;
    this.#hasher = deps.hasher;
    this.#audit = deps.audit;
    this.#guard = deps.bruteForce;
    this.#metrics = deps.metrics;
  }

  async signIn(nationalId: string, password: string, context: { clientId?: string; ip?: string }): Promise<SignInResult> {
    const target = { kind: 'password' as const, nationalId };
    const lock = await this.#guard.lockOf(target);
    if (lock.locked) {
      this.#metrics?.signIn('locked');
      return { outcome: 'temporarily-locked', until: lock.until };
    }
    const account = isNationalIdShape(nationalId) ? await this.#accounts.findByNationalId(nationalId) : undefined;
    const valid = account
      ? await this.#hasher.verify(account.passwordHash, password)
      : await this.#hasher.verifyDecoy(password);
    if (!account || !valid) {
      await this.#audit.record({
        type: 'signin.failed',
        ...(account && { accountId: account.id }),
        ...(context.clientId && { clientId: context.clientId }),
        data: { submittedId: maskIdNumbers(nationalId.slice(0, 12)), ip: context.ip ?? null },
      });
      const locked = await this.#guard.recordFailure(target, { ip: context.ip, accountId: account?.id });
      this.#metrics?.signIn('invalid_credentials');
      return locked.locked ? { outcome: 'temporarily-locked', until: locked.until } : { outcome: 'invalid-credentials' };
    }
    // RegistryUnavailable propagates from here: nothing about the sign-in is written (no audit, no
    // rehash, no session), and the login page answers 503.
    const record = await this.#registry.findByNationalId(nationalId);
    const refusal = account.status === 'locked' ? 'locked' : !record || !isAlive(record) ? 'deceased-or-missing' : undefined;
    if (refusal || !record) {
      await this.#audit.record({
        type: 'signin.refused',
        accountId: account.id,
        ...(context.clientId && { clientId: context.clientId }),
        data: { reason: refusal ?? 'deceased-or-missing', ip: context.ip ?? null },
      });
      this.#metrics?.signIn('refused');
      return { outcome: 'refused', reason: refusal ?? 'deceased-or-missing' };
    }
    await this.#guard.recordSuccess(target);
    if (this.#hasher.needsRehash(account.passwordHash)) {
      await this.#accounts.updatePasswordHash(account.id, await this.#hasher.hash(password));
    }
    await this.#audit.record({
      type: 'signin.succeeded',
      accountId: account.id,
      ...(context.clientId && { clientId: context.clientId }),
      data: { method: 'pwd', ip: context.ip ?? null },
    });
    return { outcome: 'signed-in', account, record };
  }
}
