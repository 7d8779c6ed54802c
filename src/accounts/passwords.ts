// Password hashing: argon2id with parameters from configuration (OWASP's minimum by default).
import argon2 from 'argon2';

export interface Argon2Parameters {
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/** Too many hashes are waiting: the login form answers 503 rather than stall everything else. */
export class HashingOverloaded extends Error {
  override readonly name = 'HashingOverloaded';
}

export interface HashingLimits {
  /** Hashes computed at once: below libuv's thread pool size, so signing always finds a thread. */
  readonly concurrent: number;
  /** Hashes allowed to wait for a slot; beyond that, HashingOverloaded. */
  readonly queued: number;
}

export class PasswordHasher {
  readonly #options: { type: typeof argon2.argon2id; memoryCost: number; timeCost: number; parallelism: number };
  readonly #limits: HashingLimits;
  #decoy: Promise<string> | undefined;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(parameters: Argon2Parameters, limits: HashingLimits = { concurrent: 2, queued: 64 }) {
    this.#limits = limits;
    this.#options = {
      type: argon2.argon2id,
      memoryCost: parameters.memoryKiB,
      timeCost: parameters.iterations,
      parallelism: parameters.parallelism,
    };
  }

  /** Runs one hash within the limits: at most `concurrent` at once, `queued` waiting. */
  async #limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limits.concurrent) {
      if (this.#waiting.length >= this.#limits.queued) throw new HashingOverloaded('too many password checks in flight');
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next in line, or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }

  hash(password: string): Promise<string> {
    return this.#limited(() => argon2.hash(password, this.#options));
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.#limited(async () => {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    });
  }

  /** Spends the cost of one verification, so an unknown account answers as slowly as a known one. */
  async verifyDecoy(password: string): Promise<false> {
    this.#decoy ??= argon2.hash('decoy password that matches nothing', this.#options);
    await this.verify(await this.#decoy, password);
    return false;
  }

  /** True when a stored hash was made with other parameters (rehash it at the next sign-in). */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, this.#options);
  }
}
