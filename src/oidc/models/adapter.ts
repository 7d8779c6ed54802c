// The one oidc-provider adapter: routes each model to its store (docs/design.md "Where data lives") and
// turns a lost consumption race into the protocol error the loser deserves.
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import type { ModelStore } from './model-store.ts';
import type { EphemeralModelStore } from './ephemeral-model-store.ts';
import { couldBeAccessToken, couldBeRefreshToken } from './token-lengths.ts';
import { forgetGrant, forgetInteraction, recallInteraction, rememberGrant, rememberInteraction, rememberTokenHolderRow, takeGrant } from './request-reads.ts';
import { DIGEST_PREFIX, DIGESTED_MODELS, type TokensAtRest } from './tokens-at-rest.ts';

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
  /** Token values become digests before they reach either store (src/oidc/models/tokens-at-rest.ts). */
  readonly tokens: TokensAtRest;
  /**
   * Stores new tokens by their clear value, as releases before digests did (TOKENS_STORED_BY_VALUE), so
   * that their instances find them during a rolling upgrade; lookups try digests either way.
   */
  readonly tokensStoredByValue?: boolean;
}

/**
 * Tokens stored by their clear value before the upgrade to digests (issue 20) are still looked up by it,
 * for one release: remove this (and the `legacy` lookups below) in the release after the one that
 * introduced digests, once the longest token lifetime (ttl.refreshToken, docs/configuration.md) has
 * passed since every instance ran it (docs/operations.md "Tokens at rest").
 */
const LOOK_UP_CLEAR_VALUES = true;

/** The clear value may still be a stored id (from before the upgrade); a digest presented as a token never is. */
const mayBeLegacyId = (id: string) => LOOK_UP_CLEAR_VALUES && !id.startsWith(DIGEST_PREFIX);

export function createAdapterClass(stores: AdapterStores): AdapterConstructor {
  const { tokens } = stores;
  const byValue = stores.tokensStoredByValue === true;

  /** What is stored of a payload: the value itself (`jti`) never; a device code's, sealed (src/oidc/models/tokens-at-rest.ts). */
  const atRest = (model: string, id: string, payload: AdapterPayload): AdapterPayload => {
    if (byValue) return payload;
    if (model === 'Interaction' && typeof payload.deviceCode === 'string') return { ...payload, deviceCode: tokens.seal(payload.deviceCode) };
    if (!DIGESTED_MODELS.has(model)) return payload;
    const rest = { ...payload };
    delete rest.jti;
    return model === 'DeviceCode' ? { ...rest, jti: tokens.seal(id) } : rest;
  };
  /** The payload as the provider knows it, its value back in place. */
  const inUse = (model: string, payload: AdapterPayload, value?: string): AdapterPayload => {
    if (model === 'Interaction' && typeof payload.deviceCode === 'string') return { ...payload, deviceCode: tokens.open(payload.deviceCode) };
    if (!DIGESTED_MODELS.has(model)) return payload;
    return { ...payload, jti: value ?? tokens.open(payload.jti) };
  };

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
    readonly #digested: boolean;

    constructor(model: string) {
      this.#model = model;
      this.#store = DURABLE_MODELS.has(model) ? stores.durable : stores.ephemeral;
      this.#digested = DIGESTED_MODELS.has(model);
    }

    /** The ids a value may be stored under: its digests, then (for one release) the value itself. */
    #storedIds(id: string): string[] {
      if (!this.#digested) return [id];
      const ids = tokens.storedIds(id);
      return mayBeLegacyId(id) ? [...ids, id] : ids;
    }

    /** The first of the value's stored ids that finds something. */
    async #findStored<T>(id: string, read: (storedId: string) => Promise<T | undefined>): Promise<T | undefined> {
      for (const storedId of this.#storedIds(id)) {
        const found = await read(storedId);
        if (found !== undefined) return found;
      }
      return undefined;
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
        const storedId = this.#digested && !byValue ? tokens.storedId(id) : id;
        await this.#store.upsert(this.#model, storedId, atRest(this.#model, id, payload), expiresIn !== undefined && kept !== undefined ? expiresIn + kept : expiresIn);
        return;
      }
      // What this request wrote is what it reads next (src/oidc/models/request-reads.ts).
      forgetInteraction(id);
      await this.#store.upsert(this.#model, id, atRest(this.#model, id, payload), expiresIn);
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
      return this.#find(id);
    }

    async #find(id: string): Promise<AdapterPayload | undefined> {
      const payload = await this.#findStored(id, (storedId) => this.#store.find(this.#model, storedId));
      return payload && inUse(this.#model, payload, this.#digested ? id : undefined);
    }

    /** Once per request (src/oidc/models/request-reads.ts). */
    async #findInteraction(id: string): Promise<AdapterPayload | undefined> {
      const known = recallInteraction(id);
      if (known.found) return known.payload;
      const payload = await this.#find(id);
      rememberInteraction(id, payload);
      return payload;
    }

    /** The token, and its grant kept for the lookup of it that follows in the same request. */
    async #findRefreshToken(id: string): Promise<AdapterPayload | undefined> {
      const store = this.#store;
      if (!store.findWithGrant) return this.#find(id);
      const found = await this.#findStored(id, (storedId) => store.findWithGrant!(this.#model, storedId));
      if (typeof found?.payload.grantId === 'string') rememberGrant(found.payload.grantId, found.grant);
      if (found?.holder && typeof found.payload.accountId === 'string') rememberTokenHolderRow(found.payload.accountId, found.holder);
      return found && inUse(this.#model, found.payload, id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const payload = await this.#store.findByUid(this.#model, uid);
      return payload && inUse(this.#model, payload);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      // The device code's value comes back from its sealed copy: the provider saves the code next.
      const payload = await this.#store.findByUserCode(this.#model, userCode);
      return payload && inUse(this.#model, payload);
    }

    async consume(id: string): Promise<void> {
      let outcome: Awaited<ReturnType<ModelStore['consume']>> = 'missing';
      let storedId = id;
      for (const candidate of this.#storedIds(id)) {
        storedId = candidate;
        outcome = await this.#store.consume(this.#model, candidate);
        if (outcome !== 'missing') break;
      }
      if (outcome === 'consumed') return;
      // Lost the race (or the item vanished under us): a replay. Revoke what it issued, refuse it.
      const payload = await this.#store.find(this.#model, storedId);
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
      await Promise.all(this.#storedIds(id).map((storedId) => this.#store.destroy(this.#model, storedId)));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      forgetGrant(grantId);
      await this.#store.revokeByGrantId(grantId);
    }
  };
}
