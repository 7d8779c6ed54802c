// The one oidc-provider adapter: routes each model to its store (DESIGN.md "Where data lives") and
// turns a lost consumption race into the protocol error the loser deserves.
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import type { ModelStore } from './model-store.ts';
import type { EphemeralModelStore } from './ephemeral-model-store.ts';

/** Models whose loss would log citizens out or lose consent: PostgreSQL. Everything else: Redis. */
export const DURABLE_MODELS: ReadonlySet<string> = new Set([
  'Grant',
  'RefreshToken',
  'InitialAccessToken',
  'RegistrationAccessToken',
]);

/**
 * Kept this many seconds past their expiry, so that a late poll is told expired_token (CIBA Core 11)
 * rather than invalid_grant for a request already gone; the model's own `exp` still decides validity.
 */
const KEPT_AFTER_EXPIRY: Readonly<Record<string, number>> = { BackchannelAuthenticationRequest: 600 };

export interface ClientLookup {
  /** Metadata of an active client, or undefined (unknown or suspended). */
  findMetadata(clientId: string): Promise<AdapterPayload | undefined>;
}

export interface AdapterStores {
  readonly ephemeral: EphemeralModelStore;
  readonly durable: ModelStore;
  readonly clients: ClientLookup;
}

export function createAdapterClass(stores: AdapterStores): AdapterConstructor {
  const revokeGrant = async (grantId: string) => {
    await Promise.all([
      stores.ephemeral.revokeByGrantId(grantId),
      stores.durable.revokeByGrantId(grantId),
      stores.durable.destroy('Grant', grantId),
    ]);
  };

  return class RoutingAdapter implements Adapter {
    readonly #model: string;
    readonly #store: ModelStore;

    constructor(model: string) {
      this.#model = model;
      this.#store = DURABLE_MODELS.has(model) ? stores.durable : stores.ephemeral;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.#model === 'Client') throw new Error('clients are managed by administrators, not through the adapter');
      if (this.#model === 'ReplayDetection') {
        if (!(await stores.ephemeral.insertReplayMarker(id, payload, expiresIn ?? 60))) {
          throw new errors.InvalidRequest('replay detected: this one-time proof was already used');
        }
        return;
      }
      const kept = KEPT_AFTER_EXPIRY[this.#model];
      await this.#store.upsert(this.#model, id, payload, expiresIn !== undefined && kept !== undefined ? expiresIn + kept : expiresIn);
    }

    find(id: string): Promise<AdapterPayload | undefined> {
      if (this.#model === 'Client') return stores.clients.findMetadata(id);
      return this.#store.find(this.#model, id);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#store.findByUid(this.#model, uid);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#store.findByUserCode(this.#model, userCode);
    }

    async consume(id: string): Promise<void> {
      const outcome = await this.#store.consume(this.#model, id);
      if (outcome === 'consumed') return;
      // Lost the race (or the item vanished under us): a replay. Revoke what it issued, refuse it.
      const payload = await this.#store.find(this.#model, id);
      if (typeof payload?.grantId === 'string') await revokeGrant(payload.grantId);
      if (this.#model === 'PushedAuthorizationRequest') {
        throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
      }
      throw new errors.InvalidGrant('grant already used');
    }

    async destroy(id: string): Promise<void> {
      await this.#store.destroy(this.#model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await this.#store.revokeByGrantId(grantId);
    }
  };
}
