// The quickstart's stand-in for Redis: one process, one map, same contract as the Redis store.
// JavaScript runs one callback at a time, so every operation here is naturally atomic.
import type { ConsumeOutcome, EphemeralStore, StoredItem } from './ephemeral-store.ts';

type Entry =
  | { kind: 'item'; payload: string; consumedAt: number | undefined; expiresAt: number | undefined }
  | { kind: 'value'; value: string; expiresAt: number | undefined }
  | { kind: 'set'; members: Set<string>; expiresAt: number | undefined }
  | { kind: 'counter'; count: number; expiresAt: number | undefined };

const expiry = (ttlSeconds: number | undefined): number | undefined =>
  ttlSeconds === undefined ? undefined : Date.now() + ttlSeconds * 1000;

export class MemoryEphemeralStore implements EphemeralStore {
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(sweepIntervalMs = 60_000) {
    this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs);
    this.#sweeper.unref();
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    for (const key of [...this.#entries.keys()]) this.#live(key);
  }

  putItem(key: string, payload: string, ttlSeconds: number | undefined): Promise<void> {
    const current = this.#live(key);
    const consumedAt = current?.kind === 'item' ? current.consumedAt : undefined;
    this.#entries.set(key, { kind: 'item', payload, consumedAt, expiresAt: expiry(ttlSeconds) });
    return Promise.resolve();
  }

  getItem(key: string): Promise<StoredItem | undefined> {
    const entry = this.#live(key);
    if (entry?.kind !== 'item') return Promise.resolve(undefined);
    return Promise.resolve({ payload: entry.payload, consumedAt: entry.consumedAt });
  }

  consumeItem(key: string, atEpochSeconds: number): Promise<ConsumeOutcome> {
    const entry = this.#live(key);
    if (entry?.kind !== 'item') return Promise.resolve('missing');
    if (entry.consumedAt !== undefined) return Promise.resolve('already-consumed');
    entry.consumedAt = atEpochSeconds;
    return Promise.resolve('consumed');
  }

  get(key: string): Promise<string | undefined> {
    const entry = this.#live(key);
    return Promise.resolve(entry?.kind === 'value' ? entry.value : undefined);
  }

  put(key: string, value: string, ttlSeconds: number | undefined): Promise<void> {
    this.#entries.set(key, { kind: 'value', value, expiresAt: expiry(ttlSeconds) });
    return Promise.resolve();
  }

  putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if (this.#live(key)) return Promise.resolve(false);
    this.#entries.set(key, { kind: 'value', value, expiresAt: expiry(ttlSeconds) });
    return Promise.resolve(true);
  }

  delete(...keys: string[]): Promise<void> {
    for (const key of keys) this.#entries.delete(key);
    return Promise.resolve();
  }

  addToSet(key: string, member: string, ttlSeconds: number | undefined): Promise<void> {
    const entry = this.#live(key);
    const wanted = expiry(ttlSeconds);
    if (entry?.kind === 'set') {
      entry.members.add(member);
      if (entry.expiresAt !== undefined && (wanted === undefined || wanted > entry.expiresAt)) entry.expiresAt = wanted;
    } else {
      this.#entries.set(key, { kind: 'set', members: new Set([member]), expiresAt: wanted });
    }
    return Promise.resolve();
  }

  setMembers(key: string): Promise<string[]> {
    const entry = this.#live(key);
    return Promise.resolve(entry?.kind === 'set' ? [...entry.members] : []);
  }

  removeFromSet(key: string, member: string): Promise<void> {
    const entry = this.#live(key);
    if (entry?.kind === 'set') {
      entry.members.delete(member);
      if (entry.members.size === 0) this.#entries.delete(key);
    }
    return Promise.resolve();
  }

  increment(key: string, ttlSeconds: number): Promise<number> {
    const entry = this.#live(key);
    if (entry?.kind === 'counter') {
      entry.count += 1;
      return Promise.resolve(entry.count);
    }
    this.#entries.set(key, { kind: 'counter', count: 1, expiresAt: expiry(ttlSeconds) });
    return Promise.resolve(1);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#entries.clear();
    return Promise.resolve();
  }
}
