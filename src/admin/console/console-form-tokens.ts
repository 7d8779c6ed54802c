// Single-use tokens for the console's forms that change something: each rendered form carries one,
// bound to the administrator's session and to the paths it may post to, kept in the shared ephemeral
// store (Redis in deployments, so every instance agrees). Reloading a page that answered a POST sends
// the same token again and is refused (409) before anything happens: a rotation never runs twice.
import { createHash, randomBytes } from 'node:crypto';
import type { EphemeralStore } from '../../storage/ephemeral-store.ts';

/** How long a rendered form stays usable: long enough to read a confirmation, short enough not to linger. */
export const FORM_TOKEN_SECONDS = 900;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** accepted: this is the token's one use; used: it was used before; unknown: never issued, expired, or not for this session or path. */
export type FormTokenOutcome = 'accepted' | 'used' | 'unknown';

interface StoredToken {
  readonly session: string;
  readonly actions: readonly string[];
}

// The token is the hash tag, so the token and its "used" mark live in one Redis Cluster slot.
const keyOf = (token: string) => `admin-console:form:{${token}}`;
// The session id is the session cookie's value: only its hash goes into the store.
const sessionHash = (sessionId: string) => createHash('sha256').update(sessionId).digest('base64url');

export class ConsoleFormTokens {
  readonly #store: EphemeralStore;
  readonly #ttlSeconds: number;

  constructor(store: EphemeralStore, ttlSeconds = FORM_TOKEN_SECONDS) {
    this.#store = store;
    this.#ttlSeconds = ttlSeconds;
  }

  /** A new token for one rendered form (or one row's alternatives, e.g. approve or reject): `actions` are the paths it may post to. */
  async issue(sessionId: string, actions: readonly string[]): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const stored: StoredToken = { session: sessionHash(sessionId), actions };
    await this.#store.put(keyOf(token), JSON.stringify(stored), this.#ttlSeconds);
    return token;
  }

  /**
   * Uses the token for a POST to `action` in session `sessionId`. Of any number of concurrent
   * submissions exactly one is accepted: the "used" mark is written with SET NX (putIfAbsent), never
   * read-then-written, and outlives the token by as long as the token could have lived.
   */
  async consume(token: string, sessionId: string, action: string): Promise<FormTokenOutcome> {
    if (!TOKEN_SHAPE.test(token)) return 'unknown';
    const key = keyOf(token);
    const stored = await this.#store.get(key);
    if (stored === undefined) return (await this.#store.get(`${key}:used`)) === undefined ? 'unknown' : 'used';
    const { session, actions } = JSON.parse(stored) as StoredToken;
    if (session !== sessionHash(sessionId) || !actions.includes(action)) return 'unknown';
    if (!(await this.#store.putIfAbsent(`${key}:used`, '1', this.#ttlSeconds))) return 'used';
    await this.#store.delete(key);
    return 'accepted';
  }
}
