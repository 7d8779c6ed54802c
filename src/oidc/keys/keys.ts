// Signing keys and cookie keys, shared by every instance through PostgreSQL. Private parts are
// sealed with the key-encryption key, bound to their key id; the first instance to start creates
// them under an advisory lock, every later one loads the same ones. Which keys are published and
// which signs follows from each key's dates (src/oidc/keys/key-lifecycle.ts, src/oidc/keys/key-rotation.ts).
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Database } from '../../storage/database.ts';
import type { KeyEncryption } from '../../storage/key-encryption.ts';
import { publishedInOrder, type KeyTimeline } from './key-lifecycle.ts';

/**
 * ES256 signs by default; the RSA algorithms and EdDSA (Ed25519) are there for clients that ask for
 * them at registration. A deployment started before an algorithm was added gets its key on next start.
 */
export const SIGNING_ALGORITHMS = ['ES256', 'PS256', 'RS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

// Any constant shared by all instances; keeps two first starts from creating two key sets.
const KEY_CREATION_LOCK = 0x6369_6470; // "cidp"

export interface SigningKeySummary extends KeyTimeline {
  readonly kid: string;
  readonly alg: string;
  /** `active` (in the lifecycle) or `revoked`; the state at a moment is src/oidc/keys/key-lifecycle.ts's. */
  readonly status: string;
  readonly createdAt: Date;
  readonly revokedReason: string | null;
  readonly publicJwk: JWK;
}

interface SigningKeyRow {
  kid: string;
  alg: SigningAlgorithm;
  public_jwk: JWK;
  private_jwk_sealed: string;
  status: string;
  created_at: Date;
  active_from: Date;
  retired_at: Date | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

async function newSigningKey(alg: SigningAlgorithm): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const rsa = alg === 'PS256' || alg === 'RS256';
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(rsa && { modulusLength: 2048 }), ...(alg === 'EdDSA' && { crv: 'Ed25519' }) });
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

  /**
   * Runs `work` in a transaction holding the key lock: the one place keys are created or change
   * state, so two instances never both create a key for the same need.
   */
  async withKeyLock<T>(work: (trx: Transaction) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?)', [KEY_CREATION_LOCK]);
      return work(trx);
    });
  }

  /** A new signing key for `alg`, signing from `activeFrom` (published from now). Returns its kid. */
  async createSigningKey(trx: Transaction, alg: SigningAlgorithm, activeFrom: Date): Promise<string> {
    const { kid, publicJwk, privateJwk } = await newSigningKey(alg);
    await trx('signing_keys').insert({
      kid,
      alg,
      public_jwk: JSON.stringify(publicJwk),
      private_jwk_sealed: this.#sealer.seal(JSON.stringify(privateJwk), `signing-key:${kid}`),
      status: 'active',
      created_at: trx.fn.now(),
      active_from: activeFrom,
    });
    return kid;
  }

  /** Creates a signing key for each algorithm with none signing now or later, and a cookie key if there is none. */
  async ensureKeys(): Promise<void> {
    await this.withKeyLock(async (trx) => {
      const now = new Date();
      const present = new Set(
        (
          await trx<SigningKeyRow>('signing_keys')
            .where({ status: 'active' })
            .andWhere((live) => {
              void live.whereNull('retired_at').orWhere('retired_at', '>', now);
            })
            .select('alg')
        ).map((row) => row.alg),
      );
      for (const alg of SIGNING_ALGORITHMS) {
        if (!present.has(alg)) await this.createSigningKey(trx, alg, now);
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

  /**
   * Private JWKs of the keys published at `now` (next, active, retired within `retentionSeconds`),
   * ES256 first and the signing key first within its algorithm (the provider signs with the first
   * key of an alg). Without options: the keys published now, retired ones not kept.
   */
  async signingJwks(at: { now: Date; retentionSeconds: number } = { now: new Date(), retentionSeconds: 0 }): Promise<{ keys: JWK[] }> {
    const rows = await this.#db<SigningKeyRow>('signing_keys').where({ status: 'active' });
    const keys = publishedInOrder(rows.map(timelineOf), at.now, at.retentionSeconds, SIGNING_ALGORITHMS);
    const sealed = new Map(rows.map((row) => [row.kid, row.private_jwk_sealed]));
    return {
      keys: keys.map((key) => JSON.parse(this.#open(sealed.get(key.kid)!, `signing-key:${key.kid}`, `signing key ${key.kid}`)) as JWK),
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

  /** Every signing key with its dates, newest first (no private part). */
  async list(db: Database | Transaction = this.#db): Promise<SigningKeySummary[]> {
    const rows = await db<SigningKeyRow>('signing_keys').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'kid' }]);
    return rows.map(summaryOf);
  }
}

function timelineOf(row: SigningKeyRow): KeyTimeline {
  return { kid: row.kid, alg: row.alg, createdAt: row.created_at, activeFrom: row.active_from, retiredAt: row.retired_at, revokedAt: row.revoked_at };
}

function summaryOf(row: SigningKeyRow): SigningKeySummary {
  return { ...timelineOf(row), status: row.status, revokedReason: row.revoked_reason, publicJwk: row.public_jwk };
}
