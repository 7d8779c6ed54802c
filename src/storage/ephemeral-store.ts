// The contract of the short-lived store (sessions, interactions, codes, access tokens, replay ids,
// counters). Redis backs it in deployments, a single-process map in the quickstart; one test suite
// holds both to it. Every operation touches one key, so it works unchanged on a Redis Cluster.

export interface StoredItem {
  readonly payload: string;
  /** Epoch seconds at which the item was consumed, if it was. */
  readonly consumedAt: number | undefined;
}

export type ConsumeOutcome = 'consumed' | 'already-consumed' | 'missing';

export interface EphemeralStore {
  /** Writes an item's payload with a time to live (seconds; none = until deleted). A consumed mark stays. */
  putItem(key: string, payload: string, ttlSeconds: number | undefined): Promise<void>;
  getItem(key: string): Promise<StoredItem | undefined>;
  /**
   * The item an index key names (its value: the item's id, `itemKey(id)` its key) in one round trip,
   * where the store can (a single Redis: one script); without it, callers read the index, then the item.
   * The two keys are in different Cluster slots, so a Cluster store does not offer it.
   */
  getIndexedItem?(indexKey: string, itemKey: (id: string) => string): Promise<{ id: string; item: StoredItem } | undefined>;
  /** Atomically marks an item consumed: of any number of concurrent callers exactly one gets 'consumed'. */
  consumeItem(key: string, atEpochSeconds: number): Promise<ConsumeOutcome>;

  get(key: string): Promise<string | undefined>;
  put(key: string, value: string, ttlSeconds: number | undefined): Promise<void>;
  /** Writes only if the key is absent (SET NX): true for the one caller that wrote it. */
  putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Deletes each key on its own (no multi-key command, so no cross-slot error). */
  delete(...keys: string[]): Promise<void>;

  /** Adds to a set and makes the set live at least ttlSeconds more (none = until deleted). */
  addToSet(key: string, member: string, ttlSeconds: number | undefined): Promise<void>;
  setMembers(key: string): Promise<string[]>;
  removeFromSet(key: string, member: string): Promise<void>;

  /** Counts up; the first increment starts the window of ttlSeconds. Returns the new count. */
  increment(key: string, ttlSeconds: number): Promise<number>;

  /** Throws when the store cannot serve (readiness), including when it may evict keys. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
