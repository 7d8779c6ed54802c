// The Redis connection; the server refuses to start against an instance that may evict keys.
import { Redis } from 'ioredis';

export function createRedis(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectionName: 'citizen-idp',
  });
}

/** An evicted session or code is a silent failure: only `noeviction` is acceptable. */
export async function readEvictionPolicy(redis: Redis): Promise<string> {
  const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
  return reply[1] ?? 'unknown';
}
