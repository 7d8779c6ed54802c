// The short-lived store's contract, held against both implementations: Redis (deployments) and the
// in-memory map (quickstart). One suite, run twice, so the two cannot drift apart.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { EphemeralStore } from '../../src/storage/ephemeral-store.ts';
import { RedisEphemeralStore } from '../../src/storage/ephemeral-store-redis.ts';
import { MemoryEphemeralStore } from '../../src/storage/ephemeral-store-memory.ts';
import { flushTestRedis, STORE_TEST_REDIS_URL } from '../support/world.ts';
import { createRedisCluster } from '../../src/storage/redis-cluster.ts';
import { startRedisCluster } from '../support/redis-servers.ts';

interface StoreWorld {
  /** The store under test. */
  readonly store: EphemeralStore;
  /** Stores sharing its data, as other instances would (other connections for Redis). */
  readonly peers: readonly EphemeralStore[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

function count<T>(values: readonly T[], wanted: T): number {
  return values.filter((value) => value === wanted).length;
}

function describeEphemeralStoreContract(name: string, openWorld: () => Promise<StoreWorld>): void {
  describe(`ephemeral store contract: ${name}`, () => {
    let world: StoreWorld;
    let store: EphemeralStore;

    before(async () => {
      world = await openWorld();
      store = world.store;
    });

    after(async () => {
      await world.close();
    });

    it('answers ping while it can serve', async () => {
      await store.ping();
    });

    describe('items', () => {
      it('reads back an item it stored, not yet consumed', async () => {
        await store.putItem('item:{read-back}', '{"a":1}', 60);
        expect(await store.getItem('item:{read-back}')).to.deep.equal({ payload: '{"a":1}', consumedAt: undefined });
      });

      it('finds an item through an index in one call, where it offers that, as reading the index and then the item would', async function () {
        if (!store.getIndexedItem) {
          // A Cluster keeps index and item in different slots; the in-memory store has no round trips to save.
          expect(name).to.match(/Cluster|in-memory/);
          this.skip();
        }
        const itemKey = (id: string) => `item:{${id}}`;
        await store.putItem(itemKey('indexed-1'), '{"s":1}', 60);
        await store.put('index:{uid-1}', 'indexed-1', 60);
        expect(await store.getIndexedItem('index:{uid-1}', itemKey)).to.deep.equal({ id: 'indexed-1', item: { payload: '{"s":1}', consumedAt: undefined } });
        await store.consumeItem(itemKey('indexed-1'), 1_800_000_000);
        expect((await store.getIndexedItem('index:{uid-1}', itemKey))?.item.consumedAt).to.equal(1_800_000_000);
        expect(await store.getIndexedItem('index:{uid-none}', itemKey), 'no index').to.equal(undefined);
        await store.put('index:{uid-2}', 'indexed-gone', 60);
        expect(await store.getIndexedItem('index:{uid-2}', itemKey), 'an index to an item that is gone').to.equal(undefined);
      });

      it('knows nothing of an item never stored', async () => {
        expect(await store.getItem('item:{never-stored}')).to.equal(undefined);
      });

      it('replaces the payload when an item is written again', async () => {
        await store.putItem('item:{rewritten}', 'first', 60);
        await store.putItem('item:{rewritten}', 'second', 60);
        expect((await store.getItem('item:{rewritten}'))?.payload).to.equal('second');
      });

      it('consumes an item once and records when', async () => {
        await store.putItem('item:{consumed-once}', 'code', 60);
        const at = nowSeconds();
        expect(await store.consumeItem('item:{consumed-once}', at)).to.equal('consumed');
        expect(await store.getItem('item:{consumed-once}')).to.deep.equal({ payload: 'code', consumedAt: at });
      });

      it('refuses a second consumption and keeps the first time', async () => {
        await store.putItem('item:{consumed-twice}', 'code', 60);
        expect(await store.consumeItem('item:{consumed-twice}', 1_000)).to.equal('consumed');
        expect(await store.consumeItem('item:{consumed-twice}', 2_000)).to.equal('already-consumed');
        expect((await store.getItem('item:{consumed-twice}'))?.consumedAt).to.equal(1_000);
      });

      it('reports a missing item as missing when asked to consume it, and does not create it', async () => {
        expect(await store.consumeItem('item:{absent}', nowSeconds())).to.equal('missing');
        expect(await store.getItem('item:{absent}')).to.equal(undefined);
      });

      it('keeps the consumed mark when the item is written again', async () => {
        await store.putItem('item:{consumed-then-saved}', 'before', 60);
        await store.consumeItem('item:{consumed-then-saved}', 1_234);
        await store.putItem('item:{consumed-then-saved}', 'after', 60);
        expect(await store.getItem('item:{consumed-then-saved}')).to.deep.equal({ payload: 'after', consumedAt: 1_234 });
        expect(await store.consumeItem('item:{consumed-then-saved}', 5_678)).to.equal('already-consumed');
      });
    });

    describe('values', () => {
      it('reads back a value it stored, and overwrites it on put', async () => {
        await store.put('value:{plain}', 'one', 60);
        expect(await store.get('value:{plain}')).to.equal('one');
        await store.put('value:{plain}', 'two', undefined);
        expect(await store.get('value:{plain}')).to.equal('two');
      });

      it('knows nothing of a value never stored', async () => {
        expect(await store.get('value:{never-stored}')).to.equal(undefined);
      });

      it('writes only the first of two putIfAbsent calls and keeps the first value', async () => {
        expect(await store.putIfAbsent('value:{first-wins}', 'first', 60)).to.equal(true);
        expect(await store.putIfAbsent('value:{first-wins}', 'second', 60)).to.equal(false);
        expect(await store.get('value:{first-wins}')).to.equal('first');
      });

      it('deletes several keys of any kind in one call, and ignores keys that do not exist', async () => {
        await store.putItem('delete:{item}', 'payload', 60);
        await store.put('delete:{value}', 'value', 60);
        await store.addToSet('delete:{set}', 'member', 60);
        await store.increment('delete:{counter}', 60);
        await store.put('delete:{kept}', 'kept', 60);

        await store.delete('delete:{item}', 'delete:{value}', 'delete:{set}', 'delete:{counter}', 'delete:{never}');

        expect(await store.getItem('delete:{item}')).to.equal(undefined);
        expect(await store.get('delete:{value}')).to.equal(undefined);
        expect(await store.setMembers('delete:{set}')).to.deep.equal([]);
        expect(await store.increment('delete:{counter}', 60)).to.equal(1);
        expect(await store.get('delete:{kept}')).to.equal('kept');
      });

      it('accepts a delete of no keys at all', async () => {
        await store.delete();
      });
    });

    describe('sets', () => {
      it('collects distinct members', async () => {
        await store.addToSet('set:{members}', 'a', 60);
        await store.addToSet('set:{members}', 'b', 60);
        await store.addToSet('set:{members}', 'a', 60);
        expect((await store.setMembers('set:{members}')).sort()).to.deep.equal(['a', 'b']);
      });

      it('removes one member and leaves the others', async () => {
        await store.addToSet('set:{removal}', 'a', 60);
        await store.addToSet('set:{removal}', 'b', 60);
        await store.removeFromSet('set:{removal}', 'a');
        await store.removeFromSet('set:{removal}', 'not-a-member');
        expect(await store.setMembers('set:{removal}')).to.deep.equal(['b']);
      });

      it('reads a set emptied of its last member, or never made, as empty', async () => {
        await store.addToSet('set:{emptied}', 'only', 60);
        await store.removeFromSet('set:{emptied}', 'only');
        expect(await store.setMembers('set:{emptied}')).to.deep.equal([]);
        expect(await store.setMembers('set:{never-made}')).to.deep.equal([]);
        await store.removeFromSet('set:{never-made}', 'anything');
      });
    });

    describe('counters', () => {
      it('counts up from one', async () => {
        expect(await store.increment('counter:{count}', 60)).to.equal(1);
        expect(await store.increment('counter:{count}', 60)).to.equal(2);
        expect(await store.increment('counter:{count}', 60)).to.equal(3);
      });
    });

    // Everything that must expire is written first, then one wait covers all of it.
    describe('time to live', () => {
      before(async () => {
        await store.putItem('ttl:{item}', 'short', 1);
        await store.putItem('ttl:{item-forever}', 'long', undefined);
        await store.putItem('ttl:{item-made-permanent}', 'first', 1);
        await store.putItem('ttl:{item-made-permanent}', 'second', undefined);
        await store.putItem('ttl:{consumed-item}', 'code', 1);
        await store.consumeItem('ttl:{consumed-item}', nowSeconds());

        await store.put('ttl:{value}', 'short', 1);
        await store.put('ttl:{value-forever}', 'long', undefined);
        expect(await store.putIfAbsent('ttl:{marker}', 'first', 1)).to.equal(true);

        await store.addToSet('ttl:{set}', 'a', 1);
        await store.addToSet('ttl:{set-lengthened}', 'a', 1);
        await store.addToSet('ttl:{set-lengthened}', 'b', 60);
        await store.addToSet('ttl:{set-not-shortened}', 'a', 60);
        await store.addToSet('ttl:{set-not-shortened}', 'b', 1);
        await store.addToSet('ttl:{set-made-permanent}', 'a', 1);
        await store.addToSet('ttl:{set-made-permanent}', 'b', undefined);
        await store.addToSet('ttl:{set-permanent}', 'a', undefined);
        await store.addToSet('ttl:{set-permanent}', 'b', 1);

        expect(await store.increment('ttl:{counter}', 1)).to.equal(1);
        // A later increment asking for a longer window must not move the first one's.
        expect(await store.increment('ttl:{counter}', 60)).to.equal(2);

        await sleep(1_600);
      });

      it('forgets an item after its time to live, consumed or not', async () => {
        expect(await store.getItem('ttl:{item}')).to.equal(undefined);
        expect(await store.getItem('ttl:{consumed-item}')).to.equal(undefined);
        expect(await store.consumeItem('ttl:{item}', nowSeconds())).to.equal('missing');
      });

      it('keeps an item written without a time to live, even one that had a time to live before', async () => {
        expect((await store.getItem('ttl:{item-forever}'))?.payload).to.equal('long');
        expect((await store.getItem('ttl:{item-made-permanent}'))?.payload).to.equal('second');
      });

      it('forgets a value after its time to live, and keeps one written without', async () => {
        expect(await store.get('ttl:{value}')).to.equal(undefined);
        expect(await store.get('ttl:{value-forever}')).to.equal('long');
      });

      it('lets putIfAbsent write again once the earlier value expired', async () => {
        expect(await store.putIfAbsent('ttl:{marker}', 'second', 60)).to.equal(true);
        expect(await store.get('ttl:{marker}')).to.equal('second');
      });

      it('forgets a set after its time to live', async () => {
        expect(await store.setMembers('ttl:{set}')).to.deep.equal([]);
      });

      it('lengthens a set\'s life when a member needs longer', async () => {
        expect((await store.setMembers('ttl:{set-lengthened}')).sort()).to.deep.equal(['a', 'b']);
        expect((await store.setMembers('ttl:{set-made-permanent}')).sort()).to.deep.equal(['a', 'b']);
      });

      it('never shortens a set\'s life when a member needs less', async () => {
        expect((await store.setMembers('ttl:{set-not-shortened}')).sort()).to.deep.equal(['a', 'b']);
        expect((await store.setMembers('ttl:{set-permanent}')).sort()).to.deep.equal(['a', 'b']);
      });

      it('starts a counter\'s window at its first increment and counts afresh after it', async () => {
        expect(await store.increment('ttl:{counter}', 60)).to.equal(1);
      });
    });

    describe('under concurrency', () => {
      it('lets exactly one of 50 concurrent consumers consume an item', async () => {
        await store.putItem('race:{code}', 'code', 60);
        const at = nowSeconds();
        const outcomes = await Promise.all(
          Array.from({ length: 50 }, (_, i) => world.peers[i % world.peers.length]!.consumeItem('race:{code}', at)),
        );
        expect(count(outcomes, 'consumed')).to.equal(1);
        expect(count(outcomes, 'already-consumed')).to.equal(49);
      });

      it('lets exactly one of 50 concurrent putIfAbsent calls write', async () => {
        const written = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            world.peers[i % world.peers.length]!.putIfAbsent('race:{marker}', `writer-${i}`, 60),
          ),
        );
        expect(count(written, true)).to.equal(1);
        const winner = written.indexOf(true);
        expect(await store.get('race:{marker}')).to.equal(`writer-${winner}`);
      });
    });
  });
}

describeEphemeralStoreContract('Redis', async () => {
  await flushTestRedis();
  const store = new RedisEphemeralStore(new Redis(STORE_TEST_REDIS_URL));
  const others = Array.from({ length: 4 }, () => new RedisEphemeralStore(new Redis(STORE_TEST_REDIS_URL)));
  return {
    store,
    peers: [store, ...others],
    async close() {
      for (const peer of [store, ...others]) await peer.close();
    },
  };
});

// The same contract on a three-master Redis Cluster started here (test/support/redis-servers.ts),
// through the cluster client the server uses with REDIS_CLUSTER=true and a key prefix: keys hash to
// different masters, and each operation must still find its key in one slot.
// With a key prefix, as the server runs it (REDIS_KEY_PREFIX): a script that names a key itself must add it.
describeEphemeralStoreContract('Redis with a key prefix', async () => {
  await flushTestRedis();
  const open = () => new RedisEphemeralStore(new Redis(STORE_TEST_REDIS_URL, { keyPrefix: 'contract-prefixed:' }));
  const store = open();
  const others = Array.from({ length: 2 }, open);
  return {
    store,
    peers: [store, ...others],
    async close() {
      for (const peer of [store, ...others]) await peer.close();
    },
  };
});

describeEphemeralStoreContract('Redis Cluster (three masters)', async () => {
  const cluster = await startRedisCluster();
  const open = async () => {
    const client = createRedisCluster(cluster.url, { keyPrefix: 'contract:' });
    await client.connect();
    return new RedisEphemeralStore(client);
  };
  const store = await open();
  const others = await Promise.all(Array.from({ length: 2 }, open));
  return {
    store,
    peers: [store, ...others],
    async close() {
      for (const peer of [store, ...others]) await peer.close();
      await cluster.destroy();
    },
  };
});

describeEphemeralStoreContract('in-memory', () => {
  const store = new MemoryEphemeralStore();
  return Promise.resolve({ store, peers: [store], close: () => store.close() });
});

describe('Redis ephemeral store', () => {
  let redis: Redis;
  let store: RedisEphemeralStore;

  before(async () => {
    await flushTestRedis();
    redis = new Redis(STORE_TEST_REDIS_URL);
    store = new RedisEphemeralStore(redis);
  });

  after(async () => {
    await store.close();
  });

  it('rejects an item write that Redis refuses instead of reporting success', async () => {
    await redis.set('refused:{item}', 'a plain string, not an item hash');
    let failure: unknown;
    try {
      await store.putItem('refused:{item}', 'payload', 60);
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(Error).with.property('message').that.includes('WRONGTYPE');
  });
});
