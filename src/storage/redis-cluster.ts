// Redis Cluster through ioredis's cluster client, chosen by REDIS_CLUSTER=true (docs/operations.md "Redis Cluster").
// Nothing else changes: every key the stores use carries a {…} hash tag and every command or Lua
// script touches one key, so no operation spans two slots; nothing uses KEYS, SCAN or pub/sub.
import { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import { createRedis, readEvictionPolicy } from './redis.ts';

/** A cluster client with the same fail-fast behaviour as the single-node one (src/storage/redis.ts). */
export function createRedisCluster(
  url: string,
  options: { keyPrefix?: string; seeds?: readonly string[]; commandTimeoutMs?: number; connectTimeoutMs?: number } = {},
): Cluster {
  const parsed = new URL(url);
  const seeds = [
    { host: parsed.hostname, port: Number(parsed.port || 6379) },
    ...(options.seeds ?? []).map((seed) => {
      const at = seed.lastIndexOf(':');
      return { host: seed.slice(0, at), port: Number(seed.slice(at + 1)) };
    }),
  ];
  return new Cluster(seeds, {
    ...(options.keyPrefix && { keyPrefix: options.keyPrefix }),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRedirections: 16,
    // Reads go to masters: a replica may lag behind a code just written or consumed.
    scaleReads: 'master',
    slotsRefreshTimeout: options.connectTimeoutMs ?? 2000,
    redisOptions: {
      ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
      ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
      ...(parsed.protocol === 'rediss:' && { tls: { servername: parsed.hostname } }),
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      connectionName: 'citizen-idp',
    },
  });
}

/** Where connection trouble is told: once when Redis becomes unreachable, once when it is back. */
export interface RedisLog {
  warn(details: { err: unknown }, message: string): void;
  info(message: string): void;
}

/** The client the configuration asks for, connected: one Redis, or a Redis Cluster. */
export async function openRedis(config: Config, log?: RedisLog): Promise<Redis | Cluster> {
  if (!config.redisUrl) throw new Error('REDIS_URL is not set');
  const timeouts = { commandTimeoutMs: config.redis.commandTimeoutMs, connectTimeoutMs: config.redis.connectTimeoutMs };
  const client = config.redis.cluster
    ? createRedisCluster(config.redisUrl, { keyPrefix: config.redisKeyPrefix, seeds: config.redis.clusterNodes, ...timeouts })
    : createRedis(config.redisUrl, { keyPrefix: config.redisKeyPrefix, ...timeouts });
  // Without a listener ioredis prints every failed reconnection attempt to stderr.
  let unreachable = false;
  client.on('error', (error: unknown) => {
    if (unreachable) return;
    unreachable = true;
    log?.warn({ err: error }, 'Redis unreachable: requests needing it answer 503 until it is back');
  });
  client.on('ready', () => {
    if (!unreachable) return;
    unreachable = false;
    log?.info('Redis reachable again');
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/**
 * The eviction policy that governs the keys: a single node's, or on a cluster the first master's
 * that is not `noeviction` (each master evicts on its own, so every one must refuse to).
 */
export async function evictionPolicyOf(client: Redis | Cluster): Promise<string> {
  if (client instanceof Redis) return readEvictionPolicy(client);
  const masters = client.nodes('master');
  if (masters.length === 0) throw new Error('Redis Cluster has no reachable master');
  const policies = await Promise.all(masters.map((node) => readEvictionPolicy(node)));
  return policies.find((policy) => policy !== 'noeviction') ?? 'noeviction';
}
