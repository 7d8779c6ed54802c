// How long a sign-in session serves single sign-on: until it has been idle too long (not used by an
// authorization request), and never past its absolute end (counted from the citizen's last sign-in,
// however busy the session). oidc-provider saves the session again at the end of every request that
// uses it (authorization, resume, logout), asking `ttl.Session` for the time it is kept: that time is
// what remains of both limits, so the store (Redis) forgets a session at the first one reached.
// The login prompt's `absolute_lifetime` check (src/oidc/consent/interaction-policy.ts) is the second guard,
// for the last second the store's whole-second expiry leaves.
import type { SessionLifetimes } from '../../config/config.ts';

export type { SessionLifetimes };

const epochSeconds = () => Math.floor(Date.now() / 1000);

/** True when the sign-in at `loginTs` (epoch seconds) is as old as the absolute lifetime, or older. */
export function pastAbsoluteLifetime(lifetimes: SessionLifetimes, loginTs: number | undefined, now = epochSeconds()): boolean {
  return typeof loginTs === 'number' && now - loginTs >= lifetimes.absoluteSeconds;
}

/**
 * Seconds to keep a session saved now: the idle lifetime, cut to what remains of the absolute one.
 * A session nobody signed in to yet (no `loginTs`) gets the idle lifetime. At least 1: oidc-provider
 * refuses anything else, and a session at its absolute end is refused by the login check anyway.
 */
export function sessionTtlSeconds(lifetimes: SessionLifetimes, loginTs: number | undefined, now = epochSeconds()): number {
  const remaining = typeof loginTs === 'number' ? loginTs + lifetimes.absoluteSeconds - now : lifetimes.absoluteSeconds;
  return Math.max(1, Math.floor(Math.min(lifetimes.idleSeconds, remaining)));
}
