// The states of a signing key, computed from its timestamps and the clock alone, so that every
// instance reading the same rows agrees on the JWKS and on the signing key at the same moment.
//
//   created_at ── next ──▶ active_from ── active ──▶ retired_at ── retired ──▶ + retention ── expired
//   revoked_at (any time): revoked — out of the JWKS at once, never signs again.

export type KeyState = 'next' | 'active' | 'retired' | 'expired' | 'revoked';

/** What the lifecycle needs of a stored key. */
export interface KeyTimeline {
  readonly kid: string;
  readonly alg: string;
  readonly createdAt: Date;
  /** Signs from here (after the publish-ahead period, for a scheduled successor). */
  readonly activeFrom: Date;
  /** Signs no more from here; set ahead of time when a successor is scheduled. */
  readonly retiredAt: Date | null;
  readonly revokedAt: Date | null;
}

/**
 * `retentionSeconds`: how long a retired key stays published after it last signed — the longest
 * lifetime of anything it signed, plus the poll interval (an instance may switch that much late).
 */
export function keyState(key: KeyTimeline, now: Date, retentionSeconds: number): KeyState {
  if (key.revokedAt !== null && key.revokedAt <= now) return 'revoked';
  if (now < key.activeFrom) return 'next';
  if (key.retiredAt === null || now < key.retiredAt) return 'active';
  return now < publishedUntil(key, retentionSeconds)! ? 'retired' : 'expired';
}

/** When a retired key leaves the JWKS; undefined while it has no retirement date. */
export function publishedUntil(key: KeyTimeline, retentionSeconds: number): Date | undefined {
  return key.retiredAt === null ? undefined : new Date(key.retiredAt.getTime() + retentionSeconds * 1000);
}

export function isPublished(state: KeyState): boolean {
  return state === 'next' || state === 'active' || state === 'retired';
}

/**
 * The keys to hand the provider, in the provider's order: by algorithm as `algorithms` lists them,
 * and within one algorithm the signing key first (oidc-provider signs with the first key of an alg),
 * then the newer ones. Two keys active at once (a successor promoted early) resolve to the newer.
 */
export function publishedInOrder<T extends KeyTimeline>(keys: readonly T[], now: Date, retentionSeconds: number, algorithms: readonly string[]): T[] {
  const rank = (key: T): number => {
    const state = keyState(key, now, retentionSeconds);
    return state === 'active' ? 0 : state === 'next' ? 1 : 2;
  };
  const position = (alg: string) => {
    const index = algorithms.indexOf(alg);
    return index === -1 ? algorithms.length : index;
  };
  return keys
    .filter((key) => isPublished(keyState(key, now, retentionSeconds)))
    .sort(
      (a, b) =>
        position(a.alg) - position(b.alg) ||
        rank(a) - rank(b) ||
        b.activeFrom.getTime() - a.activeFrom.getTime() ||
        a.kid.localeCompare(b.kid),
    );
}

/** The key that signs for `alg` at `now`, if any. */
export function signingKeyOf<T extends KeyTimeline>(keys: readonly T[], alg: string, now: Date, retentionSeconds: number): T | undefined {
  return publishedInOrder(
    keys.filter((key) => key.alg === alg),
    now,
    retentionSeconds,
    [alg],
  ).find((key) => keyState(key, now, retentionSeconds) === 'active');
}

/** The next moment any key changes state after `now` (an instance re-reads its keys then). */
export function nextTransition(keys: readonly KeyTimeline[], now: Date, retentionSeconds: number): Date | undefined {
  const moments = keys.flatMap((key) => [key.activeFrom, key.retiredAt, publishedUntil(key, retentionSeconds), key.revokedAt]);
  let earliest: Date | undefined;
  for (const moment of moments) {
    if (moment && moment > now && (!earliest || moment < earliest)) earliest = moment;
  }
  return earliest;
}
