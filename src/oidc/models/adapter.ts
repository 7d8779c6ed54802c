// The one oidc-provider adapter: routes each model to its store (docs/design.md "Where data lives") and
// turns a lost consumption race into the protocol error the loser deserves.
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import type { ModelStore } from './model-store.ts';
import type { EphemeralModelStore } from './ephemeral-model-store.ts';
import { couldBeAccessToken, couldBeRefreshToken } from './token-lengths.ts';
import { forgetGrant, forgetInteraction, recallInteraction, rememberGrant, rememberInteraction, rememberTokenHolderRow, takeGrant } from './request-reads.ts';

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

/** Where clients that register themselves (RFC 7591/7592) are stored: src/oidc/clients/dynamic-registration.ts. */
export interface ClientSelfRegistration {
  /** Stores the registration the registration policy accepted for this client id; throws otherwise. */
  store(clientId: string): Promise<void>;
  /** Removes a client that registered itself; throws for any other. */
  remove(clientId: string): Promise<void>;
}

export interface AdapterStores {
  readonly ephemeral: EphemeralModelStore;
  readonly durable: ModelStore;
  readonly clients: ClientLookup;
  /** Without it, no client is ever written through the adapter. */
  readonly selfRegistration?: ClientSelfRegistration;
}

export function createAdapterClass(stores: AdapterStores): AdapterConstructor {
  const revokeGrant = async (grantId: string) => {
    forgetGrant(grantId);
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
      if (this.#model === 'Client') {
        // Only dynamic registration writes clients here, and only what its policy accepted.
        if (!stores.selfRegistration) throw new Error('clients are managed by administrators, not through the adapter');
        await stores.selfRegistration.store(id);
        return;
      }
      if (this.#model === 'ReplayDetection') {
        if (!(await stores.ephemeral.insertReplayMarker(id, payload, expiresIn ?? 60))) {
          throw new errors.InvalidRequest('replay detected: this one-time proof was already used');
        }
        return;
      }
      if (this.#model === 'Grant') forgetGrant(id);
      const kept = KEPT_AFTER_EXPIRY[this.#model];
      if (this.#model !== 'Interaction') {
        await this.#store.upsert(this.#model, id, payload, expiresIn !== undefined && kept !== undefined ? expiresIn + kept : expiresIn);
        return;
      }
      // What this request wrote is what it reads next (src/oidc/models/request-reads.ts).
      forgetInteraction(id);
      await this.#store.upsert(this.#model, id, payload, expiresIn);
      rememberInteraction(id, payload);
    }

    find(id: string): Promise<AdapterPayload | undefined> {
      if (this.#model === 'Client') return stores.clients.findMetadata(id);
      // Introspection asks every model at once; an access or client-credentials token's value is no refresh token, a
      // client-credentials token's no access token (src/oidc/models/token-lengths.ts).
      if (this.#model === 'RefreshToken') return couldBeRefreshToken(id) ? this.#findRefreshToken(id) : Promise.resolve(undefined);
      if (this.#model === 'AccessToken' && !couldBeAccessToken(id)) return Promise.resolve(undefined);
      if (this.#model === 'Grant') {
        // Read with the refresh token a moment ago, in this request (src/oidc/models/request-reads.ts).
        const read = takeGrant(id);
        if (read.found) return Promise.resolve(read.payload);
      }
      if (this.#model === 'Interaction') return this.#findInteraction(id);
      return this.#store.find(this.#model, id);
    }

    /** Once per request (src/oidc/models/request-reads.ts). */
    async #findInteraction(id: string): Promise<AdapterPayload | undefined> {
      const known = recallInteraction(id);
      if (known.found) return known.payload;
      const payload = await this.#store.find(this.#model, id);
      rememberInteraction(id, payload);
      return payload;
    }

    /** The token, and its grant kept for the lookup of it that follows in the same request. */
    async #findRefreshToken(id: string): Promise<AdapterPayload | undefined> {
      if (!this.#store.findWithGrant) return this.#store.find(this.#model, id);
      const found = await this.#store.findWithGrant(this.#model, id);
      if (typeof found?.payload.grantId === 'string') rememberGrant(found.payload.grantId, found.grant);
      if (found?.holder && typeof found.payload.accountId === 'string') rememberTokenHolderRow(found.payload.accountId, found.holder);
      return found?.payload;
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
      if (this.#model === 'Client') {
        if (!stores.selfRegistration) throw new Error('clients are managed by administrators, not through the adapter');
        await stores.selfRegistration.remove(id);
        return;
      }
      if (this.#model === 'Grant') forgetGrant(id);
      if (this.#model === 'Interaction') {
        // Its indexes are known from this request's read: no second read to clean them up.
        const known = recallInteraction(id);
        forgetInteraction(id);
        if (known.found) {
          await stores.ephemeral.destroyKnown(this.#model, id, known.payload);
          return;
        }
      }
      await this.#store.destroy(this.#model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      forgetGrant(grantId);
      await this.#store.revokeByGrantId(grantId);
    }
  };
}
