// Signing-key rotation and emergency revocation. A successor is published `publishAheadSeconds`
// before it signs (relying parties cache the JWKS), the key it replaces stays published until all it
// signed has expired, and a revoked key leaves at once. Only timestamps are written; every instance
// computes states from them (src/oidc/keys/key-lifecycle.ts) and rebuilds its provider when they change
// (src/oidc/keys/signing-key-watch.ts). Changes run under the key lock, so one instance makes each key.
import type { JWK } from 'jose';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { SigningKeySettings } from '../../config/config.ts';
import type { Database } from '../../storage/database.ts';
import { keyState, publishedUntil, signingKeyOf, type KeyState } from './key-lifecycle.ts';
import { SIGNING_ALGORITHMS, type KeyRepository, type SigningAlgorithm, type SigningKeySummary } from './keys.ts';


/** The lifetimes (seconds) of everything the provider signs, as configured. */
export interface SignedLifetimes {
  readonly idToken: number;
  readonly accessToken: number;
  readonly clientCredentials: number;
}

/** Logout tokens, JARM responses: oidc-provider gives them 120 seconds. */
const FIXED_SIGNED_LIFETIME = 120;

export interface SigningKeyView extends SigningKeySummary {
  readonly state: KeyState;
  /** When a retired key leaves the JWKS (undefined while it has no retirement date). */
  readonly publishedUntil: Date | undefined;
}

/** A refused key operation (unknown kid, a revoked key, a bad algorithm): the CLI exits 2, the API answers 4xx. */
export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
  readonly code: 'unknown_key' | 'invalid_request';
  constructor(code: SigningKeyError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface KeyRotationDependencies {
  readonly db: Database;
  readonly keys: KeyRepository;
  readonly audit: AuditLog;
  readonly settings: SigningKeySettings;
  readonly lifetimes: SignedLifetimes;
  readonly clock?: () => Date;
}

export function isSigningAlgorithm(alg: string): alg is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(alg);
}

export class KeyRotation {
  readonly #deps: KeyRotationDependencies;
  readonly #clock: () => Date;

  constructor(deps: KeyRotationDependencies) {
    this.#deps = deps;
    this.#clock = deps.clock ?? (() => new Date());
  }

  get settings(): SigningKeySettings {
    return this.#deps.settings;
  }

  /**
   * How long a key stays published after it last signed: the longest lifetime of anything it signed
   * (ID, access and logout tokens, JARM responses, access tokens of resource servers registered with
   * their own lifetime) plus one poll interval, as an instance may go on signing that much late.
   */
  async retentionSeconds(): Promise<number> {
    const { lifetimes, settings } = this.#deps;
    const row = await this.#deps
      .db('clients')
      .whereRaw(`jsonb_typeof(metadata->'resource_server'->'access_token_ttl') = 'number'`)
      .max<{ longest: string | number | null }[]>({ longest: this.#deps.db.raw(`(metadata->'resource_server'->>'access_token_ttl')::numeric`) });
    const resourceServers = Number(row[0]?.longest ?? 0);
    return Math.max(lifetimes.idToken, lifetimes.accessToken, lifetimes.clientCredentials, FIXED_SIGNED_LIFETIME, resourceServers) + settings.pollSeconds;
  }

  /** The private JWKs the provider is to hold now, and the moment that set next changes. */
  async providerJwks(): Promise<{ jwks: { keys: JWK[] }; now: Date; retentionSeconds: number }> {
    const now = this.#clock();
    const retentionSeconds = await this.retentionSeconds();
    return { jwks: await this.#deps.keys.signingJwks({ now, retentionSeconds }), now, retentionSeconds };
  }

  /** Every signing key with its state now, newest first. */
  async list(): Promise<SigningKeyView[]> {
    const now = this.#clock();
    const retention = await this.retentionSeconds();
    return (await this.#deps.keys.list()).map((key) => viewOf(key, now, retention));
  }

  /**
   * The scheduled work, run by every instance at each poll (cheap when there is nothing to do):
   * each algorithm gets a signing key if it has none, and — with `rotationDays` — a successor once
   * its signing key is within `publishAheadSeconds` of its rotation date. Returns the kids made.
   */
  async maintain(): Promise<string[]> {
    const { keys, settings } = this.#deps;
    await keys.ensureKeys();
    if (settings.rotationDays <= 0) return [];
    const rotationMs = settings.rotationDays * 86_400_000;
    const aheadMs = settings.publishAheadSeconds * 1000;
    const quick = await this.#dueForRotation(await keys.list(), rotationMs, aheadMs);
    if (quick.length === 0) return [];
    const created = await keys.withKeyLock(async (trx) => {
      const made: { kid: string; alg: string; replaces: string; activeFrom: Date }[] = [];
      // Again under the lock: another instance may have just made the successor.
      for (const { current, rotateAt } of await this.#dueForRotation(await keys.list(trx), rotationMs, aheadMs)) {
        const now = this.#clock();
        const activeFrom = new Date(Math.max(rotateAt.getTime(), now.getTime() + aheadMs));
        const kid = await keys.createSigningKey(trx, current.alg as SigningAlgorithm, activeFrom);
        await trx('signing_keys').where({ kid: current.kid }).update({ retired_at: activeFrom });
        made.push({ kid, alg: current.alg, replaces: current.kid, activeFrom });
      }
      return made;
    });
    for (const key of created) {
      await this.#record('signing-key.rotated', 'system', { kid: key.kid, alg: key.alg, replaces: key.replaces, activeFrom: key.activeFrom.toISOString(), scheduled: true });
    }
    return created.map((key) => key.kid);
  }

  /** Signing keys that the schedule says should have a successor by now, and have none. */
  async #dueForRotation(all: SigningKeySummary[], rotationMs: number, aheadMs: number) {
    const now = this.#clock();
    const retention = await this.retentionSeconds();
    const due: { current: SigningKeySummary; rotateAt: Date }[] = [];
    for (const alg of SIGNING_ALGORITHMS) {
      const live = all.filter((key) => key.alg === alg && key.revokedAt === null);
      const current = signingKeyOf(live, alg, now, retention);
      if (!current || current.retiredAt !== null) continue; // none, or a successor already scheduled
      const rotateAt = new Date(current.activeFrom.getTime() + rotationMs);
      if (now.getTime() >= rotateAt.getTime() - aheadMs) due.push({ current, rotateAt });
    }
    return due;
  }

  /**
   * A new key for each of `algorithms`: published now, signing after the publish-ahead period (or at
   * once with `immediately`, for when the current key must stop signing now). The key it replaces
   * signs until then and stays published until what it signed has expired. A successor already
   * waiting is kept (no second one), and promoted to sign now with `immediately`.
   */
  async rotate(options: { algorithms?: readonly string[]; immediately?: boolean; actor: string }): Promise<SigningKeyView[]> {
    const algorithms = options.algorithms ?? SIGNING_ALGORITHMS;
    for (const alg of algorithms) {
      if (!isSigningAlgorithm(alg)) throw new SigningKeyError('invalid_request', `unknown algorithm "${alg}"; one of ${SIGNING_ALGORITHMS.join(', ')}`);
    }
    const { keys, settings } = this.#deps;
    await keys.ensureKeys();
    const retention = await this.retentionSeconds();
    const changes = await keys.withKeyLock(async (trx) => {
      const now = this.#clock();
      const activeFrom = options.immediately ? now : new Date(now.getTime() + settings.publishAheadSeconds * 1000);
      const all = await keys.list(trx);
      const done: Record<string, unknown>[] = [];
      for (const alg of algorithms as SigningAlgorithm[]) {
        const live = all.filter((key) => key.alg === alg && key.revokedAt === null);
        const current = signingKeyOf(live, alg, now, retention);
        const waiting = live.find((key) => keyState(key, now, retention) === 'next');
        let kid: string;
        if (waiting) {
          kid = waiting.kid;
          if (!options.immediately) {
            done.push({ alg, kid, activeFrom: waiting.activeFrom.toISOString(), unchanged: 'a successor is already published and waiting' });
            continue;
          }
          await trx('signing_keys').where({ kid }).update({ active_from: now, retired_at: null });
        } else {
          kid = await keys.createSigningKey(trx, alg, activeFrom);
        }
        const starts = waiting ? now : activeFrom;
        if (current) await trx('signing_keys').where({ kid: current.kid }).update({ retired_at: starts });
        done.push({ alg, kid, replaces: current?.kid ?? null, activeFrom: starts.toISOString() });
      }
      return done;
    });
    for (const change of changes) {
      if (change.unchanged) continue;
      await this.#record('signing-key.rotated', options.actor, { ...change, immediately: options.immediately === true });
    }
    return this.list();
  }

  /**
   * Emergency: the key leaves the JWKS and stops signing on every instance at its next poll, and
   * tokens it signed stop verifying at relying parties. If it was signing (or waiting to), its
   * algorithm gets a new key that signs at once — there is no time to publish ahead.
   */
  async revoke(kid: string, reason: string, actor: string): Promise<SigningKeyView> {
    if (reason.trim() === '') throw new SigningKeyError('invalid_request', 'a reason is required');
    const { keys } = this.#deps;
    const retention = await this.retentionSeconds();
    const outcome = await keys.withKeyLock(async (trx) => {
      const now = this.#clock();
      const all = await keys.list(trx);
      const target = all.find((key) => key.kid === kid);
      if (!target) throw new SigningKeyError('unknown_key', `no signing key "${kid}"`);
      if (target.revokedAt !== null) throw new SigningKeyError('invalid_request', `signing key "${kid}" was already revoked on ${target.revokedAt.toISOString()}`);
      await trx('signing_keys').where({ kid }).update({ status: 'revoked', revoked_at: now, revoked_reason: reason, revoked_by: actor });
      const live = all.filter((key) => key.alg === target.alg && key.revokedAt === null && key.kid !== kid);
      const signer = signingKeyOf(live, target.alg, now, retention);
      const waiting = live
        .filter((key) => keyState(key, now, retention) === 'next')
        .sort((a, b) => a.activeFrom.getTime() - b.activeFrom.getTime())[0];
      let replacement: string | undefined;
      if (!signer) {
        // It was the signing key: a waiting successor signs now, or a new key does — no time to publish ahead.
        if (waiting) {
          replacement = waiting.kid;
          await trx('signing_keys').where({ kid: waiting.kid }).update({ active_from: now });
        } else {
          replacement = await keys.createSigningKey(trx, target.alg as SigningAlgorithm, now);
        }
      } else if (signer.retiredAt !== null && !waiting) {
        // It was the successor the signing key was to hand over to: the signing key goes on signing.
        await trx('signing_keys').where({ kid: signer.kid }).update({ retired_at: null });
      }
      return { alg: target.alg, state: keyState(target, now, retention), replacement };
    });
    await this.#record('signing-key.revoked', actor, { kid, alg: outcome.alg, stateBefore: outcome.state, reason, replacement: outcome.replacement ?? null });
    const view = (await this.list()).find((key) => key.kid === kid);
    return view!;
  }

  async #record(action: string, actor: string, data: Record<string, unknown>): Promise<void> {
    await this.#deps.audit.record({ type: 'admin.action', actor, data: { action, ...data } });
  }
}

function viewOf(key: SigningKeySummary, now: Date, retention: number): SigningKeyView {
  return { ...key, state: keyState(key, now, retention), publishedUntil: publishedUntil(key, retention) };
}
