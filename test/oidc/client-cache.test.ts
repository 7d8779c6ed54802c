// Clients served from each instance's memory (src/oidc/clients/client-cache.ts): a change made on one instance
// is seen on another at once, and when the generation in Redis cannot be trusted — unreadable, lost,
// or never moved — no instance serves a stale client past the fallback rule.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { startTestServer, TEST_REDIS_URL, type RunningServer } from '../support/world.ts';
import { runCli } from '../support/cli.ts';
import { createRedis } from '../../src/storage/redis.ts';
import { RedisEphemeralStore } from '../../src/storage/ephemeral-store-redis.ts';
import { ClientCache, CLIENT_GENERATION_KEY } from '../../src/oidc/clients/client-cache.ts';
import { ClientRepository, type ClientMetadata, type ClientRegistration } from '../../src/oidc/clients/clients.ts';

const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;

async function clientCredentials(server: RunningServer, clientId: string, secret: string): Promise<number> {
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  await response.body?.cancel();
  return response.status;
}

const SERVICE: ClientRegistration = {
  clientId: 'cache-service',
  name: 'Cache service',
  profile: 'service',
  approvedScopes: [],
  secret: 'cache-service-secret-1',
};

describe('client cache', function () {
  this.timeout(60_000);
  let first: RunningServer;
  let second: RunningServer;
  /** Statements on the second instance's pool that read the clients table. */
  let clientReads = 0;

  before(async () => {
    first = await startTestServer();
    second = await startTestServer({ sameStorageAs: first });
    second.server.container.db.on('query', (query: { sql: string }) => {
      if (/from "clients"/.test(query.sql)) clientReads += 1;
    });
    await first.server.container.clients.create(SERVICE);
  });
  after(async () => {
    await second?.close();
    await first?.close();
  });

  describe('across instances', () => {
    it('serves a client from memory while nothing changed', async () => {
      expect(await clientCredentials(second, SERVICE.clientId, SERVICE.secret!)).to.equal(200);
      const before = clientReads;
      for (let request = 0; request < 5; request += 1) expect(await clientCredentials(second, SERVICE.clientId, SERVICE.secret!)).to.equal(200);
      expect(clientReads - before).to.equal(0);
    });

    it('refuses a client suspended on the other instance at once, and takes it back when resumed', async () => {
      expect(await clientCredentials(second, SERVICE.clientId, SERVICE.secret!)).to.equal(200);
      await first.server.container.clients.setStatus(SERVICE.clientId, 'suspended');
      expect(await clientCredentials(second, SERVICE.clientId, SERVICE.secret!)).to.equal(401);
      await first.server.container.clients.setStatus(SERVICE.clientId, 'active');
      expect(await clientCredentials(second, SERVICE.clientId, SERVICE.secret!)).to.equal(200);
    });

    it('sees an update and a secret rotated on the other instance at once (the old secret in its overlap)', async () => {
      await first.server.container.clients.update({ ...SERVICE, secret: 'cache-service-secret-2' });
      expect(await clientCredentials(second, SERVICE.clientId, SERVICE.secret!)).to.equal(401);
      expect(await clientCredentials(second, SERVICE.clientId, 'cache-service-secret-2')).to.equal(200);
      await first.server.container.clients.rotateSecret(SERVICE.clientId, 'cache-service-secret-3', 3600);
      expect(await clientCredentials(second, SERVICE.clientId, 'cache-service-secret-3')).to.equal(200);
      expect(await clientCredentials(second, SERVICE.clientId, 'cache-service-secret-2')).to.equal(200);
      // A second rotation ends the first one's overlap.
      await first.server.container.clients.rotateSecret(SERVICE.clientId, 'cache-service-secret-4', 3600);
      expect(await clientCredentials(second, SERVICE.clientId, 'cache-service-secret-2')).to.equal(401);
      expect(await clientCredentials(second, SERVICE.clientId, 'cache-service-secret-4')).to.equal(200);
    });

    it('refuses a client removed on the other instance at once', async () => {
      const removable = { ...SERVICE, clientId: 'cache-removable' };
      await first.server.container.clients.create(removable);
      expect(await clientCredentials(second, removable.clientId, removable.secret!)).to.equal(200);
      await first.server.container.clients.remove(removable.clientId);
      expect(await clientCredentials(second, removable.clientId, removable.secret!)).to.equal(401);
    });

    it('refuses a client removed from the command line (another process) at once', async () => {
      const removable = { ...SERVICE, clientId: 'cache-cli-removable' };
      await first.server.container.clients.create(removable);
      expect(await clientCredentials(second, removable.clientId, removable.secret!)).to.equal(200);
      const removed = await runCli(['clients', 'remove', '--id', removable.clientId], {
        NODE_ENV: 'test',
        DATABASE_URL: first.database.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: first.config.redisKeyPrefix,
        KEY_ENCRYPTION_KEY: first.config.keyEncryptionKey!.toString('base64'),
        PAIRWISE_KEY: first.config.pairwiseKey!.toString('base64'),
      });
      expect(removed.code, removed.stderr).to.equal(0);
      expect(await clientCredentials(second, removable.clientId, removable.secret!)).to.equal(401);
    });

    it('sees a change written outside the repository once the writer says so (clientsChanged)', async () => {
      const db = first.server.container.db;
      expect(await clientCredentials(second, SERVICE.clientId, 'cache-service-secret-4')).to.equal(200);
      await db('clients').where({ client_id: SERVICE.clientId }).update({ status: 'suspended' });
      await first.server.container.clients.clientsChanged();
      expect(await clientCredentials(second, SERVICE.clientId, 'cache-service-secret-4')).to.equal(401);
      await first.server.container.clients.setStatus(SERVICE.clientId, 'active');
    });
  });

  describe('when the generation cannot be trusted', () => {
    let redis: Redis;
    let clock: number;
    let cache: ClientCache<ClientMetadata>;
    let repository: ClientRepository;
    const clientId = 'demo-service';
    const suspend = (status: 'active' | 'suspended') => first.server.container.db('clients').where({ client_id: clientId }).update({ status });
    /** The first lookup under a fresh prefix sets the generation; the second keeps the client. */
    const warm = async () => {
      expect(await repository.findMetadata(clientId)).to.not.equal(undefined);
      expect(await repository.findMetadata(clientId)).to.not.equal(undefined);
      expect(cache.size).to.equal(1);
    };

    beforeEach(async () => {
      // A repository of its own over the servers' database, its generation under a Redis prefix of its own.
      redis = createRedis(TEST_REDIS_URL, { keyPrefix: `test-cache-${randomBytes(4).toString('hex')}:` });
      await redis.connect();
      clock = 1_000_000;
      cache = new ClientCache<ClientMetadata>(new RedisEphemeralStore(redis), { maxAgeMs: 30_000, now: () => clock });
      repository = new ClientRepository(first.server.container.db, first.server.container.sealer, {}, cache);
    });
    afterEach(async () => {
      redis.disconnect();
      await suspend('active');
    });

    it('reads PostgreSQL, and keeps nothing, while Redis cannot be read', async () => {
      await warm();
      redis.disconnect();
      await suspend('suspended');
      expect(await repository.findMetadata(clientId)).to.equal(undefined);
      await suspend('active');
      expect(await repository.findMetadata(clientId)).to.not.equal(undefined);
      expect(cache.size).to.equal(0);
    });

    it('serves nothing from memory when the generation is gone (Redis lost its data)', async () => {
      await warm();
      await redis.del(CLIENT_GENERATION_KEY);
      await suspend('suspended');
      expect(await repository.findMetadata(clientId)).to.equal(undefined);
    });

    it('serves an entry no longer than its maximum age when a change never moved the generation', async () => {
      await warm();
      await suspend('suspended');
      // The contract was broken (no clientsChanged): the entry is served until it is too old, never after.
      expect(await repository.findMetadata(clientId)).to.not.equal(undefined);
      clock += 30_000;
      expect(await repository.findMetadata(clientId)).to.equal(undefined);
    });

    it('refuses a change, and writes nothing, when Redis cannot be told', async () => {
      redis.disconnect();
      let refused: unknown;
      await repository.setStatus(clientId, 'suspended').catch((error: unknown) => (refused = error));
      expect(refused).to.be.instanceOf(Error);
      const row = await first.server.container.db('clients').where({ client_id: clientId }).first<{ status: string }>('status');
      expect(row?.status).to.equal('active');
    });

    it('hands every caller metadata none of them can change', async () => {
      const one = await repository.findMetadata(clientId);
      expect(() => (one!.approved_scopes as string[]).push('tampered')).to.throw(TypeError);
      expect(() => Object.assign(one!, { client_name: 'tampered' })).to.throw(TypeError);
      const two = await repository.findMetadata(clientId);
      expect(two!.approved_scopes).to.not.include('tampered');
      expect(two!.client_name).to.not.equal('tampered');
    });
  });

  describe('its bound', () => {
    it('keeps at most its capacity, dropping the least recently used', async () => {
      const redis = createRedis(TEST_REDIS_URL, { keyPrefix: `test-cache-${randomBytes(4).toString('hex')}:` });
      await redis.connect();
      try {
        const cache = new ClientCache<string>(new RedisEphemeralStore(redis), { capacity: 2 });
        let loads = 0;
        const load = (value: string) => () => Promise.resolve(`${value}-${++loads}`);
        await cache.find('warm', load('warm')); // the first lookup sets a generation and keeps nothing
        expect(await cache.find('a', load('a'))).to.equal('a-2');
        expect(await cache.find('b', load('b'))).to.equal('b-3');
        expect(await cache.find('a', load('a'))).to.equal('a-2');
        expect(await cache.find('c', load('c'))).to.equal('c-4');
        expect(cache.size).to.equal(2);
        // b was the least recently used: loaded again; a stayed.
        expect(await cache.find('b', load('b'))).to.equal('b-5');
        expect(await cache.find('c', load('c'))).to.equal('c-4');
      } finally {
        redis.disconnect();
      }
    });
  });
});
