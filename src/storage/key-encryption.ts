// Envelope for secrets at rest (private keys, cookie keys, client secrets): AES-256-GCM under the
// key-encryption key, bound to what it protects by associated data, so a sealed value copied to
// another row does not open there.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class KeyEncryption {
  readonly #key: Buffer;
  readonly #previous: readonly Buffer[];

  /**
   * `previous`: keys of before a key-encryption-key rotation, tried when a value does not open under
   * the current one (the window of a rolling rotation, docs/administration.md "Signing keys"); nothing is sealed under them.
   */
  constructor(keyEncryptionKey: Buffer, previous: readonly Buffer[] = []) {
    for (const key of [keyEncryptionKey, ...previous]) {
      if (key.length !== 32) throw new Error('the key-encryption key must be 32 bytes');
    }
    this.#key = Buffer.from(keyEncryptionKey);
    this.#previous = previous.map((key) => Buffer.from(key));
  }

  /** Seals plaintext; `context` (for example the key id) must be given again to open it. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Opens a sealed value; throws if it was altered, sealed under another key or another context. */
  open(sealed: string, context: string): string {
    try {
      return openUnder(this.#key, sealed, context);
    } catch (error) {
      for (const key of this.#previous) {
        try {
          return openUnder(key, sealed, context);
        } catch {
          // the next one, if any
        }
      }
      throw error;
    }
  }
}

function openUnder(key: Buffer, sealed: string, context: string): string {
  const [version, ivText, bodyText] = sealed.split('.');
  if (version !== VERSION || !ivText || !bodyText) throw new Error('not a sealed value');
  const body = Buffer.from(bodyText, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
}
