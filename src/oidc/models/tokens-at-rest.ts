// Opaque tokens at rest (issue 20): PostgreSQL and Redis hold a keyed digest of each token value, never
// the value, so a copy of either (a backup, a replica, a dump) lets nobody in. The digest is
// HMAC-SHA256 under a key derived from KEY_ENCRYPTION_KEY (HKDF, its own info string, as the other
// derived keys in src/container.ts); with KEY_ENCRYPTION_KEY_PREVIOUS set, tokens stored under the
// previous key are still found (docs/operations.md "Tokens at rest").
//
// One value has to come back from storage: a device code found by the user code the citizen typed
// (the provider then saves it, and the interaction that follows names it). That one is sealed
// (AES-256-GCM under another derived key), in the device code's payload and in the interaction's.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** Models whose id is a bearer value: stored by digest. Grants, sessions and interactions are not tokens a client presents. */
export const DIGESTED_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'InitialAccessToken',
  'RegistrationAccessToken',
]);

/** Stored ids start with this; token values are base64url, so a value never does. */
export const DIGEST_PREFIX = 'h1.';
const SEALED_PREFIX = 's1.';

function derive(keyEncryptionKey: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', keyEncryptionKey, Buffer.alloc(0), info, 32));
}

export class TokensAtRest {
  readonly #digestKeys: readonly Buffer[];
  readonly #sealKeys: readonly Buffer[];

  /** `previous`: KEY_ENCRYPTION_KEY_PREVIOUS, during a rotation of the key-encryption key. */
  constructor(keyEncryptionKey: Buffer, previous: readonly Buffer[] = []) {
    const keys = [keyEncryptionKey, ...previous];
    this.#digestKeys = keys.map((key) => derive(key, 'citizen-idp token digests v1'));
    this.#sealKeys = keys.map((key) => derive(key, 'citizen-idp token seal v1'));
  }

  /** The id a token value is stored under (current key). */
  storedId(value: string): string {
    return this.#digest(this.#digestKeys[0]!, value);
  }

  /** Every id the value may be stored under: the current key's first, then the previous keys'. */
  storedIds(value: string): string[] {
    return this.#digestKeys.map((key) => this.#digest(key, value));
  }

  #digest(key: Buffer, value: string): string {
    return DIGEST_PREFIX + createHmac('sha256', key).update(value, 'utf8').digest('base64url');
  }

  seal(value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKeys[0]!, iv);
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The value sealed by seal(); undefined for anything else (a clear value kept from before the upgrade comes back as it is). */
  open(stored: unknown): string | undefined {
    if (typeof stored !== 'string') return undefined;
    if (!stored.startsWith(SEALED_PREFIX)) return stored;
    const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64url');
    if (raw.length < 28) return undefined;
    for (const key of this.#sealKeys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        // another key's
      }
    }
    return undefined;
  }
}
