// The relying parties each instance keeps in memory, so that a token or introspection request does not
// read and decrypt its client's row in PostgreSQL every time (issue 9), and the rule that keeps every
// instance exact when an administrator changes a client on another one.
//
// The rule: a shared *generation* in Redis (one key) changes on every committed change of any client,
// whatever the path — ClientRepository's mutating methods set it before their write and again after
// it; a writer outside the repository (an approval, a script) calls ClientRepository.clientsChanged()
// after its commit. Each lookup reads the generation (one Redis GET) and serves from memory only an
// entry loaded under that very generation; otherwise it reloads that client from PostgreSQL. Since the
// generation is read *before* the row, an entry can never be newer in generation than in content, and
// an administrator's change is refused or seen on every instance as soon as the change's request has
// answered — no waiting, no expiry to ride out.
//
// Generations are random values, not a counter: a counter lost with a Redis restart would count up
// again and could meet an old entry's number (ABA); a random value never comes back. Redis failing:
// the lookup goes to PostgreSQL and nothing from memory is served or kept until the generation can be
// read again (a change may have been made meanwhile). The write before a change refuses the change if
// Redis cannot be written (nothing is half-done); the write after it is retried, and should it still
// fail, no entry is served past its maximum age (30 s), which bounds the one stale case left (an entry
// loaded between those two writes). Without Redis (the single-process quickstart) there is no cache:
// the command line, another process, changes clients too. A previous secret in its rotation overlap is
// not held here (ClientRepository.retiredSecretMatches asks PostgreSQL after a mismatch), and a
// key-encryption-key rotation changes nothing held here (secrets are kept opened, not sealed).
import { randomUUID } from 'node:crypto';
import { noteEphemeralAnswered } from '../models/request-reads.ts';

/** Where the generation lives: the ephemeral store (Redis); every instance and the CLI share it. */
export interface GenerationStore {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string, ttlSeconds: undefined): Promise<void>;
}

export const CLIENT_GENERATION_KEY = 'clients:{generation}';

export interface ClientCacheOptions {
  /** How many clients one instance keeps (least recently used go first); default 5,000. */
  readonly capacity?: number;
  /** The longest an entry is served, whatever the generation says (default 30 s): see above. */
  readonly maxAgeMs?: number;
  /** Told when the generation could not be written after a change (it is retried meanwhile). */
  readonly onBumpFailure?: (error: unknown) => void;
  readonly now?: () => number;
}

interface Entry<T> {
  readonly value: T;
  readonly generation: string;
  readonly loadedAt: number;
}

const BUMP_RETRIES = 5;
const BUMP_RETRY_MS = 200;

export class ClientCache<T> {
  readonly #store: GenerationStore;
  readonly #capacity: number;
  readonly #maxAgeMs: number;
  readonly #onBumpFailure: (error: unknown) => void;
  readonly #now: () => number;
  /** A Map keeps insertion order: the first key is the least recently used. */
  readonly #entries = new Map<string, Entry<T>>();
  /** Loads in flight, by generation and client: concurrent misses share one PostgreSQL read. */
  readonly #loading = new Map<string, Promise<T | undefined>>();

  constructor(store: GenerationStore, options: ClientCacheOptions = {}) {
    this.#store = store;
    this.#capacity = options.capacity ?? 5000;
    this.#maxAgeMs = options.maxAgeMs ?? 30_000;
    this.#onBumpFailure = options.onBumpFailure ?? (() => undefined);
    this.#now = options.now ?? Date.now;
  }

  /** How many clients are held (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The client from memory when it was loaded under the current generation, else `load()`'s answer
   * (kept when it is a client; an unknown or suspended one is not kept, so junk ids cannot crowd out
   * real clients).
   */
  async find(clientId: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    let generation: string | undefined;
    try {
      generation = await this.#store.get(CLIENT_GENERATION_KEY);
      noteEphemeralAnswered();
    } catch {
      // A change may be made while the generation cannot be read: forget everything, ask PostgreSQL.
      this.#entries.clear();
      return load();
    }
    if (generation === undefined) {
      // First start, or Redis lost its data: give it a generation; no entry can be under that one.
      this.#entries.clear();
      await this.#store.put(CLIENT_GENERATION_KEY, randomUUID(), undefined).catch(() => undefined);
      return load();
    }
    const entry = this.#entries.get(clientId);
    if (entry) {
      this.#entries.delete(clientId);
      if (entry.generation === generation && this.#now() - entry.loadedAt < this.#maxAgeMs) {
        this.#entries.set(clientId, entry);
        return entry.value;
      }
    }
    const flight = `${generation}\n${clientId}`;
    let loading = this.#loading.get(flight);
    if (!loading) {
      const loadedAt = this.#now();
      loading = load()
        .then((value) => {
          if (value !== undefined) this.#keep(clientId, { value, generation, loadedAt });
          return value;
        })
        .finally(() => this.#loading.delete(flight));
      this.#loading.set(flight, loading);
    }
    return loading;
  }

  #keep(clientId: string, entry: Entry<T>): void {
    this.#entries.delete(clientId);
    this.#entries.set(clientId, entry);
    while (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Before a change is written: throws (and so stops the change) when the generation cannot be written. */
  async changing(): Promise<void> {
    this.#entries.clear();
    await this.#store.put(CLIENT_GENERATION_KEY, randomUUID(), undefined);
  }

  /** After a change was committed: a new generation, retried a few times before giving up (see above). */
  async changed(): Promise<void> {
    this.#entries.clear();
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#store.put(CLIENT_GENERATION_KEY, randomUUID(), undefined);
        return;
      } catch (error) {
        if (attempt >= BUMP_RETRIES) {
          this.#onBumpFailure(error);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, BUMP_RETRY_MS * attempt));
      }
    }
  }
}
