// Signing keys and cookie keys, shared by every instance through PostgreSQL. Private parts are
// sealed with the key-encryption key, bound to their key id; the first instance to start creates
// them under an advisory lock, every later one loads the same ones.
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Database } from '../storage/database.ts';
import type { KeyEncryption } from '../storage/key-encryption.ts';

/** ES256 signs by default; the RSA algorithms are there for clients that need them. */
export const SIGNING_ALGORITHMS = ['ES256', 'PS256', 'RS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

// Any constant shared by all instances; keeps two first starts from creating two key sets.
const KEY_CREATION_LOCK = 0x6369_6470; // "cidp"

export interface SigningKeySummary {
  readonly kid: string;
  readonly alg: string;
  readonly status: string;
  readonly createdAt: Date;
}

interface SigningKeyRow {
  kid: string;
  alg: SigningAlgorithm;
  public_jwk: JWK;
  private_jwk_sealed: string;
  status: string;
  created_at: Date;
}

async function newSigningKey(alg: SigningAlgorithm): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg !== 'ES256' && { modulusLength: 2048 }) });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  const privateJwk: JWK = { ...jwk, kid, alg, use: 'sig' };
  const publicJwk: JWK = Object.fromEntries(
    Object.entries(privateJwk).filter(([name]) => !['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(name)),
  );
  return { kid, publicJwk, privateJwk };
}

/** A stored key that does not open: almost always a KEY_ENCRYPTION_KEY other than the one it was sealed under. */
export class UnreadableKeyError extends Error {
  override readonly name = 'UnreadableKeyError';
  constructor(what: string, cause: unknown) {
    super(`${what} does not open under this KEY_ENCRYPTION_KEY (the database was set up with another key, or the row was altered)`, { cause });
  }
}

export class KeyRepository {
  readonly #db: Database;
  readonly #sealer: KeyEncryption;

  constructor(db: Database, sealer: KeyEncryption) {
    this.#db = db;
    this.#sealer = sealer;
  }

  /** Creates an active key for each algorithm that has none, and a cookie key if there is none. */
  async ensureKeys(): Promise<void> {
    await this.#db.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?)', [KEY_CREATION_LOCK]);
      const present = new Set(
        (await trx<SigningKeyRow>('signing_keys').where({ status: 'active' }).select('alg')).map((row) => row.alg),
      );
      for (const alg of SIGNING_ALGORITHMS) {
        if (present.has(alg)) continue;
        const { kid, publicJwk, privateJwk } = await newSigningKey(alg);
        await trx('signing_keys').insert({
          kid,
          alg,
          public_jwk: JSON.stringify(publicJwk),
          private_jwk_sealed: this.#sealer.seal(JSON.stringify(privateJwk), `signing-key:${kid}`),
          status: 'active',
        });
      }
      const cookieKeys = await trx('cookie_keys').count<{ count: string }[]>({ count: '*' });
      if (Number(cookieKeys[0]?.count ?? 0) === 0) {
        const id = randomBytes(8).toString('hex');
        await trx('cookie_keys').insert({
          id,
          key_sealed: this.#sealer.seal(randomBytes(32).toString('base64url'), `cookie-key:${id}`),
        });
      }
    });
  }

  /** Private JWKs for the provider, ES256 first (the provider signs with the first key of an alg). */
  async signingJwks(): Promise<{ keys: JWK[] }> {
    const rows = await this.#db<SigningKeyRow>('signing_keys').where({ status: 'active' }).orderBy('created_at', 'desc');
    const order = (alg: string) => SIGNING_ALGORITHMS.indexOf(alg as SigningAlgorithm);
    rows.sort((a, b) => order(a.alg) - order(b.alg));
    return {
      keys: rows.map((row) => JSON.parse(this.#open(row.private_jwk_sealed, `signing-key:${row.kid}`, `signing key ${row.kid}`)) as JWK),
    };
  }

  /** Cookie-signing keys, newest first: the newest signs, all verify. */
  async cookieKeys(): Promise<string[]> {
    const rows = await this.#db<{ id: string; key_sealed: string }>('cookie_keys').orderBy('created_at', 'desc');
    return rows.map((row) => this.#open(row.key_sealed, `cookie-key:${row.id}`, `cookie key ${row.id}`));
  }

  #open(sealed: string, context: string, what: string): string {
    try {
      return this.#sealer.open(sealed, context);
    } catch (error) {
      throw new UnreadableKeyError(what, error);
    }
  }

  async list(): Promise<SigningKeySummary[]> {
    const rows = await this.#db<SigningKeyRow>('signing_keys').orderBy('created_at', 'desc');
    return rows.map((row) => ({ kid: row.kid, alg: row.alg, status: row.status, createdAt: row.created_at }));
  }
}
