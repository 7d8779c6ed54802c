// The Redis connection; the server refuses to start against an instance that may evict keys.
import { Redis } from 'ioredis';

/**
 * Fails fast rather than hang: no offline queue (a command while Redis is down fails at once), a
 * command timeout (a stalled Redis cannot hold requests), a connect timeout. ioredis keeps
 * reconnecting on its own, so the store serves again as soon as Redis is back.
 */
export function createRedis(
  url: string,
  options: { keyPrefix?: string; commandTimeoutMs?: number; connectTimeoutMs?: number } = {},
): Redis {
  return new Redis(url, {
    ...(options.keyPrefix && { keyPrefix: options.keyPrefix }),
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    connectionName: 'citizen-idp',
  });
}

/** An evicted session or code is a silent failure: only `noeviction` is acceptable. */
export async function readEvictionPolicy(redis: Redis): Promise<string> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    if (reply[1]) return reply[1];
  } catch {
    // Managed Redis often disables CONFIG; INFO still tells.
  }
  const info = await redis.info('memory');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? 'unknown';
}
