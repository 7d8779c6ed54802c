// Password hashing: argon2id with parameters from configuration (OWASP's minimum by default).
import argon2 from 'argon2';

export interface Argon2Parameters {
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
}

export class PasswordHasher {
  readonly #options: { type: typeof argon2.argon2id; memoryCost: number; timeCost: number; parallelism: number };
  #decoy: Promise<string> | undefined;

  constructor(parameters: Argon2Parameters) {
    this.#options = {
      type: argon2.argon2id,
      memoryCost: parameters.memoryKiB,
      timeCost: parameters.iterations,
      parallelism: parameters.parallelism,
    };
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, this.#options);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Spends the cost of one verification, so an unknown account answers as slowly as a known one. */
  async verifyDecoy(password: string): Promise<false> {
    this.#decoy ??= this.hash('decoy password that matches nothing');
    await this.verify(await this.#decoy, password);
    return false;
  }

  /** True when a stored hash was made with other parameters (rehash it at the next sign-in). */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, this.#options);
  }
}
