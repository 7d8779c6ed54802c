// Time-based one-time passwords (RFC 6238, 6 digits, 30 s): verification with one step of clock
// drift either way, and each accepted code burnt in the shared store so it cannot be replayed.
import { createGuardrails, generate, generateSecret, generateURI, verify } from 'otplib';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';

const PERIOD_SECONDS = 30;
// RFC 4226 asks for 16-byte secrets; the published demo secrets are 10 bytes (docs/design.md), so accept
// those for verification. New enrolments always get 20 bytes.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: 10 });

export type TotpOutcome = 'valid' | 'invalid' | 'replayed';

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The otpauth:// URI an authenticator app scans. */
export function totpUri(secret: string, accountLabel: string): string {
  return generateURI({ issuer: 'citizen-idp', label: accountLabel, secret });
}

/** The current code for a secret (tests and the demo use it; the server never shows it). */
export function currentTotp(secret: string): Promise<string> {
  return generate({ secret, guardrails });
}

export class TotpVerifier {
  readonly #store: EphemeralStore;

  constructor(store: EphemeralStore) {
    this.#store = store;
  }

  async verify(accountId: string, secret: string, code: string): Promise<TotpOutcome> {
    if (!/^\d{6}$/.test(code)) return 'invalid';
    const result = await verify({ secret, token: code, epochTolerance: PERIOD_SECONDS, guardrails });
    if (!result.valid) return 'invalid';
    const step = Math.floor(Date.now() / 1000 / PERIOD_SECONDS) + (result.delta ?? 0);
    // Burnt for longer than the window in which the same step could still be accepted.
    const first = await this.#store.putIfAbsent(`totp-used:{${accountId}}:${step}`, '1', PERIOD_SECONDS * 4);
    return first ? 'valid' : 'replayed';
  }
}
