// How the provider looks a person up in the population registry: one interface, two ways — the local
// PostgreSQL mirror (the default) or the remote registry over HTTPS (gateway-remote.ts).
import type { RegistryRecord, RegistryRepository } from './registry.ts';

export interface RegistryGateway {
  /** The person's record, or undefined when the registry has none; RegistryUnavailable when it cannot say. */
  findByNationalId(nationalId: string): Promise<RegistryRecord | undefined>;
  /**
   * The record changed (a change feed saw a death, a move, a rename…): forget any copy kept of it, so
   * the next lookup asks the registry again.
   */
  forget(nationalId: string): void;
  /** Releases connections, if any. */
  close(): Promise<void>;
}

/**
 * The registry could not answer (down, slow, failing, or its circuit is open). Nothing may be decided
 * about the person; the sign-in page answers 503 and the citizen tries again shortly.
 */
export class RegistryUnavailable extends Error {
  override readonly name = 'RegistryUnavailable';
  readonly code = 'registry_unavailable';
  readonly status = 503;
  /** The message names internals (addresses, status codes): for the logs, never for a response. */
  readonly expose = false;
  /** Seconds after which asking again may succeed (what remains of the circuit's cool-down), if known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The local mirror, fed by imports and change feeds: always current, nothing to cache or forget. */
export class LocalRegistryGateway implements RegistryGateway {
  readonly #mirror: RegistryRepository;

  constructor(mirror: RegistryRepository) {
    this.#mirror = mirror;
  }

  findByNationalId(nationalId: string): Promise<RegistryRecord | undefined> {
    return this.#mirror.findByNationalId(nationalId);
  }

  forget(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
