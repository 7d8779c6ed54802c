// Brute-force protection, shared by every instance through the ephemeral store (Redis):
// failures are counted per *submitted* ID number, whether or not an account exists, so a lock says
// nothing about who has an account. Five failures lock passwords for 15 minutes; each further lock
// doubles, up to 24 hours; a success resets. Second-factor guesses are counted the same way, per
// account. Per-address limits are generous, for carrier-grade NAT.
import type { AuditLog } from '../audit/audit-log.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import { maskIdNumbers } from '../observability/redact.ts';

export interface BruteForcePolicy {
  readonly failuresBeforeLock: number;
  readonly firstLockSeconds: number;
  readonly maxLockSeconds: number;
  /** Sign-in attempts one client address may make per minute. */
  readonly attemptsPerAddressPerMinute: number;
}

export const DEFAULT_BRUTE_FORCE_POLICY: BruteForcePolicy = {
  failuresBeforeLock: 5,
  firstLockSeconds: 15 * 60,
  maxLockSeconds: 24 * 60 * 60,
  attemptsPerAddressPerMinute: 600,
};

export type Lock = { readonly locked: false } | { readonly locked: true; readonly until: Date };

/** What is being guessed: a password for a submitted ID number, or a second factor of an account. */
export type Target = { readonly kind: 'password'; readonly nationalId: string } | { readonly kind: 'otp'; readonly accountId: string };

const FAILURE_WINDOW_SECONDS = 24 * 60 * 60;
const LOCK_MEMORY_SECONDS = 7 * 24 * 60 * 60;

function keyOf(target: Target): string {
  return target.kind === 'password' ? `pwd:{${target.nationalId}}` : `otp:{${target.accountId}}`;
}

export class BruteForceGuard {
  readonly #store: EphemeralStore;
  readonly #audit: AuditLog;
  readonly #policy: BruteForcePolicy;
  readonly #metrics: Pick<Metrics, 'lockout'> | undefined;

  constructor(store: EphemeralStore, audit: AuditLog, policy: BruteForcePolicy = DEFAULT_BRUTE_FORCE_POLICY, metrics?: Pick<Metrics, 'lockout'>) {
    this.#store = store;
    this.#audit = audit;
    this.#policy = policy;
    this.#metrics = metrics;
  }

  async lockOf(target: Target): Promise<Lock> {
    const until = await this.#store.get(`bf:lock:${keyOf(target)}`);
    if (until === undefined || Number(until) <= Date.now()) return { locked: false };
    return { locked: true, until: new Date(Number(until)) };
  }

  /** Counts a failure; returns the lock it caused, if it caused one. */
  async recordFailure(target: Target, context: { ip?: string | undefined; accountId?: string | undefined }): Promise<Lock> {
    const key = keyOf(target);
    const failures = await this.#store.increment(`bf:fail:${key}`, FAILURE_WINDOW_SECONDS);
    // Exactly one of several concurrent failures sees the threshold itself, and only it locks.
    if (failures !== this.#policy.failuresBeforeLock) return { locked: false };
    const locks = await this.#store.increment(`bf:locks:${key}`, LOCK_MEMORY_SECONDS);
    const seconds = Math.min(this.#policy.firstLockSeconds * 2 ** (locks - 1), this.#policy.maxLockSeconds);
    const until = new Date(Date.now() + seconds * 1000);
    await this.#store.put(`bf:lock:${key}`, String(until.getTime()), seconds);
    await this.#store.delete(`bf:fail:${key}`);
    this.#metrics?.lockout(target.kind);
    await this.#audit.record({
      type: 'account.locked',
      actor: 'system',
      ...(context.accountId && { accountId: context.accountId }),
      data: {
        what: target.kind,
        ...(target.kind === 'password' && { submittedId: maskIdNumbers(target.nationalId) }),
        until: until.toISOString(),
        lockNumber: locks,
        ip: context.ip ?? null,
      },
    });
    return { locked: true, until };
  }

  async recordSuccess(target: Target): Promise<void> {
    const key = keyOf(target);
    await this.#store.delete(`bf:fail:${key}`, `bf:locks:${key}`);
  }

  /** Lifts a lock and forgets past failures (after a password reset proved who the citizen is). */
  async clear(target: Target): Promise<void> {
    const key = keyOf(target);
    await this.#store.delete(`bf:lock:${key}`, `bf:fail:${key}`, `bf:locks:${key}`);
  }

  /** Counts one attempt from an address; false once it is over its per-minute allowance. */
  async allowAddress(ip: string): Promise<boolean> {
    const attempts = await this.#store.increment(`bf:ip:{${ip}}`, 60);
    return attempts <= this.#policy.attemptsPerAddressPerMinute;
  }
}
