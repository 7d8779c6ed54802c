// The oidc-provider adapter's contract, held against both deployments of the short-lived store:
// Redis + PostgreSQL (production) and the in-memory map + PostgreSQL (quickstart). It pins what the
// provider relies on (docs/design.md "Where data lives", "Protocol contract"): each model in its store,
// expiry, look-ups by uid and user code, grant revocation, and single use under concurrency.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import { createAdapterClass, DURABLE_MODELS, type ClientLookup } from '../../src/oidc/models/adapter.ts';
import { DurableModelStore } from '../../src/oidc/models/durable-model-store.ts';
import { EphemeralModelStore } from '../../src/oidc/models/ephemeral-model-store.ts';
import { DIGESTED_MODELS, TokensAtRest } from '../../src/oidc/models/tokens-at-rest.ts';
import { SessionTerminator } from '../../src/oidc/sessions/sessions.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import type { EphemeralStore } from '../../src/storage/ephemeral-store.ts';
import { MemoryEphemeralStore } from '../../src/storage/ephemeral-store-memory.ts';
import { RedisEphemeralStore } from '../../src/storage/ephemeral-store-redis.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { createTestDatabase, flushTestRedis, STORE_TEST_REDIS_URL, type TestDatabase } from '../support/world.ts';

/** Every model oidc-provider 9 persists through the adapter (Client aside). */
const MODELS = [
  'Session',
  'Interaction',
  'AuthorizationCode',
  'AccessToken',
  'ClientCredentials',
  'PushedAuthorizationRequest',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'ReplayDetection',
  'Grant',
  'RefreshToken',
  'InitialAccessToken',
  'RegistrationAccessToken',
] as const;

const PORTAL_METADATA: AdapterPayload = {
  client_id: 'demo-portal',
  redirect_uris: ['http://localhost:4000/callback'],
  token_endpoint_auth_method: 'client_secret_basic',
};

/** A client repository in miniature: one known client, nothing else. */
const clients: ClientLookup = {
  findMetadata: (clientId) => Promise.resolve(clientId === 'demo-portal' ? PORTAL_METADATA : undefined),
};

interface EphemeralSide {
  readonly store: EphemeralStore;
  /** Every key in the test Redis database (Redis only). */
  readonly redisKeys?: () => Promise<string[]>;
  close(): Promise<void>;
}

interface AdapterWorld {
  readonly adapter: (model: string) => Adapter;
  readonly durable: DurableModelStore;
  readonly sessions: SessionTerminator;
  readonly db: Database;
  readonly redisKeys?: () => Promise<string[]>;
  /** The id a model's item is stored under: a token's digest (src/oidc/models/tokens-at-rest.ts), else the id. */
  readonly storedId: (model: string, id: string) => string;
  readonly ephemeralModels: EphemeralModelStore;
  /** The key-encryption key the adapter's digests are derived from. */
  readonly keyEncryptionKey: Buffer;
  /** Another adapter over the same stores, under other keys (a rotation of the key-encryption key). */
  readonly adapterUnder: (keyEncryptionKey: Buffer, previous: Buffer[], tokensStoredByValue?: boolean) => (model: string) => Adapter;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);
const newId = (prefix: string) => `${prefix}-${randomBytes(9).toString('base64url')}`;

/** A payload shaped like the provider's: jti, kind, iat, exp, plus the model's own fields. */
function payloadFor(model: string, id: string, fields: AdapterPayload = {}, expiresIn = 300): AdapterPayload {
  const iat = nowSeconds();
  return { jti: id, kind: model, iat, exp: iat + expiresIn, ...fields };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got a fulfilment');
}

function describeAdapterContract(
  name: string,
  openEphemeral: () => Promise<EphemeralSide>,
  { redis }: { redis: boolean },
): void {
  describe(`oidc adapter contract: ${name}`, function () {
    let database: TestDatabase;
    let db: Database;
    let ephemeralSide: EphemeralSide;
    let world: AdapterWorld;

    before(async () => {
      database = await createTestDatabase();
      db = createDatabase(database.url);
      await migrateToLatest(db);
      ephemeralSide = await openEphemeral();
      const ephemeral = new EphemeralModelStore(ephemeralSide.store);
      const durable = new DurableModelStore(db);
      const keyEncryptionKey = randomBytes(32);
      const tokens = new TokensAtRest(keyEncryptionKey);
      const Adapter: AdapterConstructor = createAdapterClass({ ephemeral, durable, clients, tokens });
      world = {
        adapter: (model) => new Adapter(model),
        durable,
        sessions: new SessionTerminator(ephemeral, durable),
        db,
        storedId: (model, id) => (DIGESTED_MODELS.has(model) ? tokens.storedId(id) : id),
        ephemeralModels: ephemeral,
        keyEncryptionKey,
        adapterUnder: (key, previous, tokensStoredByValue = false) => {
          const Other = createAdapterClass({ ephemeral, durable, clients, tokens: new TokensAtRest(key, previous), tokensStoredByValue });
          return (model) => new Other(model);
        },
        ...(ephemeralSide.redisKeys && { redisKeys: ephemeralSide.redisKeys }),
      };
    });

    after(async () => {
      await ephemeralSide?.close();
      await db?.destroy();
      await database?.drop();
    });

    /** Rows of the oidc_models table for one model and id: where a model actually lives. */
    const durableRows = async (model: string, id: string) =>
      Number((await db('oidc_models').where({ model, id: world.storedId(model, id) }).count<{ count: string }[]>('* as count'))[0]?.count);

    /** One grant with a code, an access token and a refresh token, as a code exchange leaves it. */
    async function issueGrant(fields: { code?: boolean } = {}) {
      const grantId = newId('grant');
      const ids = { grantId, code: newId('code'), accessToken: newId('at'), refreshToken: newId('rt') };
      await world.adapter('Grant').upsert(grantId, payloadFor('Grant', grantId, { accountId: 'acct', clientId: 'demo-portal' }), 600);
      if (fields.code !== false) {
        await world.adapter('AuthorizationCode').upsert(ids.code, payloadFor('AuthorizationCode', ids.code, { grantId }), 60);
      }
      await world.adapter('AccessToken').upsert(ids.accessToken, payloadFor('AccessToken', ids.accessToken, { grantId }), 600);
      await world.adapter('RefreshToken').upsert(ids.refreshToken, payloadFor('RefreshToken', ids.refreshToken, { grantId }), 600);
      return ids;
    }

    async function grantTokensLeft(ids: Awaited<ReturnType<typeof issueGrant>>) {
      return {
        grant: await world.adapter('Grant').find(ids.grantId),
        code: await world.adapter('AuthorizationCode').find(ids.code),
        accessToken: await world.adapter('AccessToken').find(ids.accessToken),
        refreshToken: await world.adapter('RefreshToken').find(ids.refreshToken),
      };
    }

    describe('every model', () => {
      for (const model of MODELS) {
        it(`stores, finds and destroys a ${model}`, async () => {
          const adapter = world.adapter(model);
          const id = newId(model);
          const payload = payloadFor(model, id, { clientId: 'demo-portal' });
          await adapter.upsert(id, payload, 300);
          expect(await adapter.find(id)).to.deep.equal(payload);
          await adapter.destroy(id);
          expect(await adapter.find(id)).to.equal(undefined);
        });
      }

      it('keeps Grant, RefreshToken, InitialAccessToken and RegistrationAccessToken in PostgreSQL, the rest out of it', async () => {
        for (const model of MODELS) {
          const id = newId(model);
          await world.adapter(model).upsert(id, payloadFor(model, id), 300);
          expect(await durableRows(model, id), model).to.equal(DURABLE_MODELS.has(model) ? 1 : 0);
        }
        expect([...DURABLE_MODELS].sort()).to.deep.equal(
          ['Grant', 'InitialAccessToken', 'RefreshToken', 'RegistrationAccessToken'],
        );
      });

      it('replaces a payload saved again under the same id', async () => {
        for (const model of MODELS.filter((candidate) => candidate !== 'ReplayDetection')) {
          const adapter = world.adapter(model);
          const id = newId(model);
          await adapter.upsert(id, payloadFor(model, id, { scope: 'openid' }), 300);
          const second = payloadFor(model, id, { scope: 'openid profile' });
          await adapter.upsert(id, second, 300);
          expect(await adapter.find(id), model).to.deep.equal(second);
        }
      });

      it('knows nothing of an id never saved', async () => {
        for (const model of MODELS) expect(await world.adapter(model).find(newId(model)), model).to.equal(undefined);
      });
    });

    describe('clients', () => {
      it('reads a client from the client repository', async () => {
        expect(await world.adapter('Client').find('demo-portal')).to.deep.equal(PORTAL_METADATA);
        expect(await world.adapter('Client').find('no-such-client')).to.equal(undefined);
      });

      it('refuses to save a client through the provider', async () => {
        const error = await rejectionOf(world.adapter('Client').upsert('rogue', { client_id: 'rogue' }));
        expect(error).to.be.instanceOf(Error);
        expect(await world.adapter('Client').find('rogue')).to.equal(undefined);
      });
    });

    // Everything that must expire is saved first; one wait covers all of it.
    describe('expiry', () => {
      const expiring = new Map<string, string>();
      const lasting = new Map<string, string>();

      before(async () => {
        for (const model of MODELS) {
          const id = newId(model);
          await world.adapter(model).upsert(id, payloadFor(model, id, {}, 1), 1);
          expiring.set(model, id);
          if (DURABLE_MODELS.has(model)) {
            const kept = newId(model);
            await world.adapter(model).upsert(kept, payloadFor(model, kept), 300);
            lasting.set(model, kept);
          }
        }
        await sleep(1_600);
      });

      for (const model of MODELS) {
        if (model === 'BackchannelAuthenticationRequest') {
          // Kept ten minutes past its expiry (src/oidc/models/adapter.ts): a late poll is told expired_token.
          it(`keeps a ${model} past its expiry, for expired_token`, async () => {
            expect(await world.adapter(model).find(expiring.get(model)!)).to.not.equal(undefined);
          });
          continue;
        }
        it(`forgets a ${model} saved with expiresIn 1 after its second is up`, async () => {
          expect(await world.adapter(model).find(expiring.get(model)!)).to.equal(undefined);
        });
      }

      it('purges expired rows from PostgreSQL in batches and keeps the live ones', async () => {
        const expiredRows = async () =>
          Number((await db('oidc_models').where('expires_at', '<', db.fn.now()).count<{ count: string }[]>('* as count'))[0]?.count);
        const before = await expiredRows();
        expect(before).to.be.at.least(DURABLE_MODELS.size);

        expect(await world.durable.purgeExpired(2)).to.equal(2);
        expect(await world.durable.purgeExpired()).to.equal(before - 2);
        expect(await world.durable.purgeExpired()).to.equal(0);
        expect(await expiredRows()).to.equal(0);

        for (const model of DURABLE_MODELS) {
          expect(await durableRows(model, expiring.get(model)!), model).to.equal(0);
          expect(await world.adapter(model).find(lasting.get(model)!), model).to.not.equal(undefined);
        }
      });
    });

    describe('look-ups', () => {
      it('finds a session by its uid, and no longer once it is destroyed', async () => {
        const sessions = world.adapter('Session');
        const id = newId('session');
        const uid = newId('uid');
        const payload = payloadFor('Session', id, { uid, accountId: newId('account') });
        await sessions.upsert(id, payload, 300);
        expect(await sessions.findByUid(uid)).to.deep.equal(payload);
        expect(await sessions.findByUid(newId('uid'))).to.equal(undefined);
        await sessions.destroy(id);
        expect(await sessions.findByUid(uid)).to.equal(undefined);
      });

      it('keeps finding a session by its uid after the provider renames it, whichever id is written first', async () => {
        const sessions = world.adapter('Session');
        for (const oldGoesFirst of [true, false]) {
          const uid = newId('uid');
          const oldId = newId('session');
          const renamedId = newId('session');
          await sessions.upsert(oldId, payloadFor('Session', oldId, { uid }), 300);
          const renamed = payloadFor('Session', renamedId, { uid, accountId: newId('account') });
          // oidc-provider's Session#save destroys the old id, then saves the new one; a concurrent
          // request holding the old session may destroy it after.
          if (oldGoesFirst) await sessions.destroy(oldId);
          await sessions.upsert(renamedId, renamed, 300);
          if (!oldGoesFirst) await sessions.destroy(oldId);
          expect(await sessions.findByUid(uid), `old id destroyed ${oldGoesFirst ? 'first' : 'last'}`).to.deep.equal(renamed);
        }
      });

      it('finds a device code by its user code, and no longer once it is destroyed', async () => {
        const deviceCodes = world.adapter('DeviceCode');
        const id = newId('device');
        const userCode = 'BCDF-GHJK';
        const payload = payloadFor('DeviceCode', id, { userCode, clientId: 'demo-portal' });
        await deviceCodes.upsert(id, payload, 300);
        expect(await deviceCodes.findByUserCode(userCode)).to.deep.equal(payload);
        expect(await deviceCodes.findByUserCode('XXXX-XXXX')).to.equal(undefined);
        await deviceCodes.destroy(id);
        expect(await deviceCodes.findByUserCode(userCode)).to.equal(undefined);
      });
    });

    describe('tokens at rest (issue 20)', () => {
      const TOKEN_MODELS = MODELS.filter((model) => DIGESTED_MODELS.has(model));
      const storeOf = (model: string) => (DURABLE_MODELS.has(model) ? world.durable : world.ephemeralModels);

      it('stores every opaque token under a keyed digest, with its value nowhere in what is stored', async () => {
        expect(TOKEN_MODELS).to.have.length(9);
        for (const model of TOKEN_MODELS) {
          const id = newId(model);
          await world.adapter(model).upsert(id, payloadFor(model, id, { clientId: 'demo-portal', grantId: newId('grant'), userCode: `${model}-code` }), 300);
          expect(await storeOf(model).find(model, id), model).to.equal(undefined);
          const stored = await storeOf(model).find(model, world.storedId(model, id));
          expect(stored, model).to.not.equal(undefined);
          expect(JSON.stringify(stored), model).to.not.include(id);
          expect(world.storedId(model, id), model).to.match(/^h1\.[\w-]{43}$/);
        }
      });

      it('finds nothing for a digest presented as a token', async () => {
        for (const model of TOKEN_MODELS) {
          const id = newId(model);
          await world.adapter(model).upsert(id, payloadFor(model, id), 300);
          expect(await world.adapter(model).find(world.storedId(model, id)), model).to.equal(undefined);
          expect(await world.adapter(model).find(id), model).to.deep.include({ jti: id });
        }
      });

      it('still finds, consumes and destroys a token stored by its clear value before the upgrade', async () => {
        for (const model of ['AuthorizationCode', 'RefreshToken', 'AccessToken']) {
          const id = newId(model);
          const payload = payloadFor(model, id, { grantId: newId('grant') });
          await storeOf(model).upsert(model, id, payload, 300);
          const adapter = world.adapter(model);
          expect(await adapter.find(id), model).to.deep.equal(payload);
          if (model !== 'AccessToken') {
            await adapter.consume(id);
            expect(await adapter.find(id), model).to.have.property('consumed');
            expect(await rejectionOf(adapter.consume(id)), model).to.be.instanceOf(errors.InvalidGrant);
          }
          await adapter.destroy(id);
          expect(await storeOf(model).find(model, id), model).to.equal(undefined);
        }
      });

      it('keeps a device code found by its user code, and the interaction naming it, sealed at rest', async () => {
        const id = newId('device');
        const userCode = 'MNPQ-RSTV';
        await world.adapter('DeviceCode').upsert(id, payloadFor('DeviceCode', id, { userCode }), 300);
        const found = await world.adapter('DeviceCode').findByUserCode(userCode);
        expect(found?.jti).to.equal(id);
        const interactionId = newId('Interaction');
        const interaction = payloadFor('Interaction', interactionId, { deviceCode: id });
        await world.adapter('Interaction').upsert(interactionId, interaction, 300);
        expect(JSON.stringify(await world.ephemeralModels.find('Interaction', interactionId))).to.not.include(id);
        expect(await world.adapter('Interaction').find(interactionId)).to.deep.equal(interaction);
        // The provider saves the code it found by the user code under the same stored id.
        await world.adapter('DeviceCode').upsert(id, { ...found!, accountId: 'acct' }, 300);
        expect(await world.adapter('DeviceCode').find(id)).to.deep.include({ jti: id, accountId: 'acct' });
      });

      it('stores by value while upgrading from a release before digests (TOKENS_STORED_BY_VALUE), and finds either kind', async () => {
        const byValue = world.adapterUnder(world.keyEncryptionKey, [], true);
        const old = newId('rt');
        await byValue('RefreshToken').upsert(old, payloadFor('RefreshToken', old), 300);
        expect(await world.durable.find('RefreshToken', old), 'stored as the previous release stores it').to.deep.include({ jti: old });
        expect(await world.adapter('RefreshToken').find(old)).to.deep.include({ jti: old });
        const digested = newId('rt');
        await world.adapter('RefreshToken').upsert(digested, payloadFor('RefreshToken', digested), 300);
        expect(await byValue('RefreshToken').find(digested)).to.deep.include({ jti: digested });
        await byValue('RefreshToken').consume(digested);
        expect(await rejectionOf(world.adapter('RefreshToken').consume(digested))).to.be.instanceOf(errors.InvalidGrant);
      });

      it('finds tokens stored under the previous key-encryption key during its rotation, and not after', async () => {
        const id = newId('rt');
        await world.adapter('RefreshToken').upsert(id, payloadFor('RefreshToken', id), 300);
        const newKey = randomBytes(32);
        expect(await world.adapterUnder(newKey, [world.keyEncryptionKey])('RefreshToken').find(id)).to.deep.include({ jti: id });
        expect(await world.adapterUnder(newKey, [])('RefreshToken').find(id)).to.equal(undefined);
      });
    });

    describe('grant revocation', () => {
      it('removes the access token, code and refresh token of a grant and leaves another grant\'s alone', async () => {
        const revoked = await issueGrant();
        const kept = await issueGrant();
        const deviceCode = newId('device');
        await world.adapter('DeviceCode').upsert(deviceCode, payloadFor('DeviceCode', deviceCode, { grantId: revoked.grantId }), 300);

        // As oidc-provider revokes a grant: every token model, then the grant itself.
        for (const model of ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']) {
          await world.adapter(model).revokeByGrantId(revoked.grantId);
        }
        await world.adapter('Grant').destroy(revoked.grantId);

        expect(await grantTokensLeft(revoked)).to.deep.equal({
          grant: undefined,
          code: undefined,
          accessToken: undefined,
          refreshToken: undefined,
        });
        expect(await world.adapter('DeviceCode').find(deviceCode)).to.equal(undefined);
        expect(await durableRows('RefreshToken', revoked.refreshToken)).to.equal(0);

        const left = await grantTokensLeft(kept);
        expect(left.grant?.jti).to.equal(kept.grantId);
        expect(left.code?.jti).to.equal(kept.code);
        expect(left.accessToken?.jti).to.equal(kept.accessToken);
        expect(left.refreshToken?.jti).to.equal(kept.refreshToken);
      });

      it('revokes a refresh token\'s grant through the RefreshToken adapter alone', async () => {
        const ids = await issueGrant();
        await world.adapter('RefreshToken').revokeByGrantId(ids.grantId);
        expect(await world.adapter('RefreshToken').find(ids.refreshToken)).to.equal(undefined);
      });
    });

    describe('single use', () => {
      it('marks a consumed code as consumed, with the time of consumption', async () => {
        const ids = await issueGrant();
        const before = nowSeconds();
        await world.adapter('AuthorizationCode').consume(ids.code);
        const code = await world.adapter('AuthorizationCode').find(ids.code);
        expect(code?.consumed).to.be.a('number').within(before, nowSeconds());
        expect(code?.grantId).to.equal(ids.grantId);
      });

      it('keeps a refresh token\'s consumed mark when the provider saves it again', async () => {
        const ids = await issueGrant();
        const refreshTokens = world.adapter('RefreshToken');
        await refreshTokens.consume(ids.refreshToken);
        await refreshTokens.upsert(ids.refreshToken, payloadFor('RefreshToken', ids.refreshToken, { grantId: ids.grantId }), 600);
        expect((await refreshTokens.find(ids.refreshToken))?.consumed).to.be.a('number');
      });

      it('refuses a second consumption of a code with invalid_grant and revokes its grant', async () => {
        const ids = await issueGrant();
        const other = await issueGrant();
        await world.adapter('AuthorizationCode').consume(ids.code);

        const error = await rejectionOf(world.adapter('AuthorizationCode').consume(ids.code));
        expect(error).to.be.instanceOf(errors.InvalidGrant);
        expect((error as errors.InvalidGrant).statusCode).to.equal(400);

        expect(await grantTokensLeft(ids)).to.deep.equal({
          grant: undefined,
          code: undefined,
          accessToken: undefined,
          refreshToken: undefined,
        });
        expect((await grantTokensLeft(other)).accessToken?.jti).to.equal(other.accessToken);
      });

      it('lets exactly one of 50 concurrent consumptions of a code win; the rest get invalid_grant and the grant is revoked', async () => {
        const ids = await issueGrant();
        const other = await issueGrant();
        const codes = world.adapter('AuthorizationCode');

        const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => codes.consume(ids.code)));

        const rejections = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => outcome.reason as unknown);
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).to.have.length(1);
        expect(rejections).to.have.length(49);
        for (const reason of rejections) {
          expect(reason).to.be.instanceOf(errors.InvalidGrant);
          expect((reason as errors.InvalidGrant).statusCode).to.equal(400);
        }
        const left = await grantTokensLeft(ids);
        expect(left.grant).to.equal(undefined);
        expect(left.accessToken).to.equal(undefined);
        expect(left.refreshToken).to.equal(undefined);
        expect((await grantTokensLeft(other)).refreshToken?.jti).to.equal(other.refreshToken);
      });

      it('lets exactly one of 50 concurrent consumptions of a refresh token win; the rest get invalid_grant and the grant is revoked', async () => {
        const ids = await issueGrant({ code: false });
        const other = await issueGrant({ code: false });
        const refreshTokens = world.adapter('RefreshToken');

        const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => refreshTokens.consume(ids.refreshToken)));

        const rejections = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => outcome.reason as unknown);
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).to.have.length(1);
        expect(rejections).to.have.length(49);
        for (const reason of rejections) {
          expect(reason).to.be.instanceOf(errors.InvalidGrant);
          expect((reason as errors.InvalidGrant).statusCode).to.equal(400);
        }
        const left = await grantTokensLeft(ids);
        expect(left.grant).to.equal(undefined);
        expect(left.accessToken).to.equal(undefined);
        expect(left.refreshToken).to.equal(undefined);
        expect((await grantTokensLeft(other)).accessToken?.jti).to.equal(other.accessToken);
      });

      it('refuses a consumed pushed authorization request with invalid_request_uri', async () => {
        const requests = world.adapter('PushedAuthorizationRequest');
        const id = newId('par');
        await requests.upsert(id, payloadFor('PushedAuthorizationRequest', id, { clientId: 'demo-portal', request: 'eyJ...' }), 60);
        await requests.consume(id);

        const error = await rejectionOf(requests.consume(id));
        expect(error).to.be.instanceOf(errors.InvalidRequestUri);
        expect((error as errors.InvalidRequestUri).statusCode).to.equal(400);
      });

      it('refuses a replayed one-time proof: of 50 concurrent first uses exactly one is accepted', async () => {
        const replays = world.adapter('ReplayDetection');
        const id = newId('jti');
        const outcomes = await Promise.allSettled(
          Array.from({ length: 50 }, () => replays.upsert(id, payloadFor('ReplayDetection', id, { iss: 'demo-portal' }), 60)),
        );
        const rejections = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => outcome.reason as unknown);
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).to.have.length(1);
        expect(rejections).to.have.length(49);
        for (const reason of rejections) expect((reason as { statusCode?: unknown }).statusCode).to.equal(400);
        expect((await replays.find(id))?.jti).to.equal(id);
      });
    });

    describe('ending every session of a citizen', () => {
      async function openSession(accountId: string, grantIdsByClient: Record<string, string>) {
        const id = newId('session');
        const uid = newId('uid');
        const authorizations = Object.fromEntries(
          Object.entries(grantIdsByClient).map(([clientId, grantId]) => [clientId, { grantId, sid: newId('sid') }]),
        );
        await world.adapter('Session').upsert(id, payloadFor('Session', id, { uid, accountId, authorizations }), 600);
        return { id, uid };
      }

      it('ends all sessions of one account, revokes the grants they authorised, and counts them', async () => {
        const citizen = newId('account');
        const neighbour = newId('account');
        const first = await issueGrant();
        const second = await issueGrant();
        const neighbours = await issueGrant();
        const sessionA = await openSession(citizen, { 'demo-portal': first.grantId });
        const sessionB = await openSession(citizen, { 'demo-portal': second.grantId, 'demo-tax': newId('grant') });
        const sessionOfNeighbour = await openSession(neighbour, { 'demo-portal': neighbours.grantId });

        expect(await world.sessions.endAllSessions(citizen)).to.equal(2);

        for (const session of [sessionA, sessionB]) {
          expect(await world.adapter('Session').find(session.id)).to.equal(undefined);
          expect(await world.adapter('Session').findByUid(session.uid)).to.equal(undefined);
        }
        for (const grant of [first, second]) {
          expect(await grantTokensLeft(grant)).to.deep.equal({
            grant: undefined,
            code: undefined,
            accessToken: undefined,
            refreshToken: undefined,
          });
        }
        expect((await world.adapter('Session').find(sessionOfNeighbour.id))?.accountId).to.equal(neighbour);
        const left = await grantTokensLeft(neighbours);
        expect(left.grant?.jti).to.equal(neighbours.grantId);
        expect(left.accessToken?.jti).to.equal(neighbours.accessToken);
        expect(left.refreshToken?.jti).to.equal(neighbours.refreshToken);

        expect(await world.sessions.endAllSessions(citizen)).to.equal(0);
      });

      it('ends nothing for an account without sessions', async () => {
        expect(await world.sessions.endAllSessions(newId('account'))).to.equal(0);
      });

      it('does not end a session whose id once belonged to the account but now belongs to another', async () => {
        const citizen = newId('account');
        const other = newId('account');
        const id = newId('session');
        await world.adapter('Session').upsert(id, payloadFor('Session', id, { uid: newId('uid'), accountId: citizen }), 600);
        await world.adapter('Session').upsert(id, payloadFor('Session', id, { uid: newId('uid'), accountId: other }), 600);

        expect(await world.sessions.endAllSessions(citizen)).to.equal(0);
        expect((await world.adapter('Session').find(id))?.accountId).to.equal(other);
        expect(await world.sessions.endAllSessions(other)).to.equal(1);
      });
    });

    if (redis) describe('Redis key layout', () => {
      it('puts a {hash tag} in every key it writes, so each item stays in one Redis Cluster slot', async () => {
        const ids = await issueGrant();
        await world.adapter('Session').upsert('tagged-session', payloadFor('Session', 'tagged-session', {
          uid: newId('uid'),
          accountId: newId('account'),
          authorizations: { 'demo-portal': { grantId: ids.grantId } },
        }), 300);
        await world.adapter('DeviceCode').upsert('tagged-device', payloadFor('DeviceCode', 'tagged-device', { userCode: 'WXYZ-BCDF', grantId: ids.grantId }), 300);
        await world.adapter('ReplayDetection').upsert('tagged-replay', payloadFor('ReplayDetection', 'tagged-replay'), 60);
        await world.adapter('AuthorizationCode').consume(ids.code);

        const keys = await world.redisKeys!();
        expect(keys).to.include.members([
          'oidc:Session:{tagged-session}',
          `oidc:DeviceCode:{${world.storedId('DeviceCode', 'tagged-device')}}`,
          'oidc:ReplayDetection:{tagged-replay}',
          `oidc:grant:{${ids.grantId}}`,
        ]);
        expect(keys.some((key) => key.includes(':uid:'))).to.equal(true);
        expect(keys.some((key) => key.includes(':user-code:'))).to.equal(true);
        expect(keys.some((key) => key.startsWith('oidc:account-sessions:'))).to.equal(true);
        for (const key of keys) expect(key).to.match(/\{[^}]+\}/);
      });
    });
  });
}

describeAdapterContract('Redis + PostgreSQL', async () => {
  await flushTestRedis();
  const store = new RedisEphemeralStore(new Redis(STORE_TEST_REDIS_URL));
  const inspector = new Redis(STORE_TEST_REDIS_URL);
  return {
    store,
    async redisKeys() {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await inspector.scan(cursor, 'COUNT', 500);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      return keys;
    },
    async close() {
      await store.close();
      await inspector.quit();
    },
  };
}, { redis: true });

describeAdapterContract('in-memory + PostgreSQL', () => {
  const store = new MemoryEphemeralStore();
  return Promise.resolve({ store, close: () => store.close() });
}, { redis: false });
