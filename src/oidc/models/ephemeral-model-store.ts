// Provider models in the ephemeral store (Redis or memory). Key layout — every key is a single
// Redis Cluster slot of its own (the {…} hash tag), and no command spans two keys:
//   oidc:<Model>:{<id>}              hash {payload, consumed}, TTL = the model's expiry
//   oidc:<Model>:uid:{<uid>}         → id (sessions found by their cookie uid)
//   oidc:<Model>:user-code:{<code>}  → id (device flow)
//   oidc:grant:{<grantId>}           set of item keys issued under the grant
//   oidc:account-sessions:{<accountId>} set of session ids, so a citizen's sessions end together
import type { AdapterPayload } from 'oidc-provider';
import type { ConsumeOutcome, EphemeralStore } from '../../storage/ephemeral-store.ts';
import type { ModelStore } from './model-store.ts';

const itemKey = (model: string, id: string) => `oidc:${model}:{${id}}`;
const uidKey = (model: string, uid: string) => `oidc:${model}:uid:{${uid}}`;
const userCodeKey = (model: string, code: string) => `oidc:${model}:user-code:{${code}}`;
const grantKey = (grantId: string) => `oidc:grant:{${grantId}}`;
const accountSessionsKey = (accountId: string) => `oidc:account-sessions:{${accountId}}`;

export class EphemeralModelStore implements ModelStore {
  readonly #store: EphemeralStore;

  constructor(store: EphemeralStore) {
    this.#store = store;
  }

  /**
   * Replay detection: one SET NX, so of two concurrent first uses exactly one is told it is first.
   * (oidc-provider itself looks up, then saves.)
   */
  insertReplayMarker(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
    return this.#store.putIfAbsent(itemKey('ReplayDetection', id), JSON.stringify(payload), Math.max(1, expiresIn));
  }

  async upsert(model: string, id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    const writes: Promise<unknown>[] = [this.#store.putItem(itemKey(model, id), JSON.stringify(payload), expiresIn)];
    if (typeof payload.grantId === 'string') {
      writes.push(this.#store.addToSet(grantKey(payload.grantId), itemKey(model, id), expiresIn));
    }
    if (typeof payload.uid === 'string') writes.push(this.#store.put(uidKey(model, payload.uid), id, expiresIn));
    if (typeof payload.userCode === 'string') {
      writes.push(this.#store.put(userCodeKey(model, payload.userCode), id, expiresIn));
    }
    if (model === 'Session' && typeof payload.accountId === 'string') {
      writes.push(this.#store.addToSet(accountSessionsKey(payload.accountId), id, expiresIn));
    }
    await Promise.all(writes);
  }

  async find(model: string, id: string): Promise<AdapterPayload | undefined> {
    if (model === 'ReplayDetection') {
      const marker = await this.#store.get(itemKey(model, id));
      return marker === undefined ? undefined : (JSON.parse(marker) as AdapterPayload);
    }
    const item = await this.#store.getItem(itemKey(model, id));
    if (!item) return undefined;
    const payload = JSON.parse(item.payload) as AdapterPayload;
    return item.consumedAt === undefined ? payload : { ...payload, consumed: item.consumedAt };
  }

  async findByUid(model: string, uid: string): Promise<AdapterPayload | undefined> {
    if (this.#store.getIndexedItem) {
      // One round trip where the store can (a single Redis), rather than the index, then the item.
      const found = await this.#store.getIndexedItem(uidKey(model, uid), (id) => itemKey(model, id));
      if (!found) return undefined;
      const payload = JSON.parse(found.item.payload) as AdapterPayload;
      return found.item.consumedAt === undefined ? payload : { ...payload, consumed: found.item.consumedAt };
    }
    const id = await this.#store.get(uidKey(model, uid));
    return id === undefined ? undefined : this.find(model, id);
  }

  async findByUserCode(model: string, userCode: string): Promise<AdapterPayload | undefined> {
    const id = await this.#store.get(userCodeKey(model, userCode));
    return id === undefined ? undefined : this.find(model, id);
  }

  consume(model: string, id: string): Promise<ConsumeOutcome> {
    return this.#store.consumeItem(itemKey(model, id), Math.floor(Date.now() / 1000));
  }

  async destroy(model: string, id: string): Promise<void> {
    const key = itemKey(model, id);
    // A replay marker is a plain value, not an item hash: reading it as an item is a WRONGTYPE error in Redis.
    if (model === 'ReplayDetection') {
      await this.#store.delete(key);
      return;
    }
    const item = await this.#store.getItem(key);
    await this.destroyKnown(model, id, item && (JSON.parse(item.payload) as AdapterPayload));
  }

  /** destroy() of an item whose payload the caller read a moment ago (undefined: there was none): no second read. */
  async destroyKnown(model: string, id: string, payload: AdapterPayload | undefined): Promise<void> {
    const key = itemKey(model, id);
    await this.#store.delete(key);
    if (!payload) return;
    const cleanups: Promise<unknown>[] = [];
    if (typeof payload.uid === 'string') cleanups.push(this.#deleteIndex(uidKey(model, payload.uid), id));
    if (typeof payload.userCode === 'string') cleanups.push(this.#deleteIndex(userCodeKey(model, payload.userCode), id));
    if (typeof payload.grantId === 'string') cleanups.push(this.#store.removeFromSet(grantKey(payload.grantId), key));
    if (model === 'Session' && typeof payload.accountId === 'string') {
      cleanups.push(this.#store.removeFromSet(accountSessionsKey(payload.accountId), id));
    }
    await Promise.all(cleanups);
  }

  /**
   * Deletes a uid or user-code index only while it still points at this id: a session renamed by the
   * provider (new id, same uid) keeps its index when the old id goes second.
   */
  async #deleteIndex(key: string, id: string): Promise<void> {
    if ((await this.#store.get(key)) === id) await this.#store.delete(key);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const key = grantKey(grantId);
    const members = await this.#store.setMembers(key);
    await this.#store.delete(...members, key);
  }

  /** Session ids of one account (sessions that expired may linger in the set until it expires). */
  sessionIdsOfAccount(accountId: string): Promise<string[]> {
    return this.#store.setMembers(accountSessionsKey(accountId));
  }

  /** Drops a session id from an account's index (the session is gone or is no longer the account's). */
  forgetSessionOfAccount(accountId: string, sessionId: string): Promise<void> {
    return this.#store.removeFromSet(accountSessionsKey(accountId), sessionId);
  }
}
