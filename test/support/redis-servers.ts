// Redis servers of a test's own, on loopback ports: a single server the test may stop and restart
// (fault tests), and a three-master Redis Cluster (scale-out tests). Each lives in a temporary
// directory removed on stop; nothing touches the machine's Redis on 6379.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
export async function freeRedisPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a Redis server');
}

async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not come up`);
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
}

function spawnRedis(port: number, dir: string, extra: readonly string[]): ChildProcess {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction', ...extra],
    { stdio: 'ignore' },
  );
  return child;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** One redis-server with an append-only file, so a restart keeps its data as a production one does. */
export interface StoppableRedis {
  readonly url: string;
  readonly port: number;
  /** Kills the server (no goodbye to clients: like a crash or a network cut). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (nothing when it runs). */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>;
}

export async function startStoppableRedis(): Promise<StoppableRedis> {
  const port = await freeRedisPort();
  const dir = mkdtempSync(path.join(tmpdir(), 'cidp-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawnRedis(port, dir, ['--appendonly', 'yes', '--appendfsync', 'always']);
    await waitForPing(port);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => stopProcess(child),
    start,
    async destroy() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisCluster {
  /** The first master's URL: a seed node for REDIS_URL. */
  readonly url: string;
  readonly ports: readonly number[];
  destroy(): Promise<void>;
}

/** Three masters, no replicas, all 16384 slots assigned; resolves once every node says cluster_state:ok. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cidp-redis-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const destroy = async () => {
    await Promise.all(children.map((child) => stopProcess(child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < 3; index += 1) {
      let port = await freeRedisPort();
      while (ports.includes(port)) port = await freeRedisPort();
      ports.push(port);
      children.push(
        spawnRedis(port, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--appendonly', 'no']),
      );
    }
    await Promise.all(ports.map((port) => waitForPing(port)));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      const node = new Redis({ port, host: '127.0.0.1' });
      try {
        while (!/cluster_state:ok/.test(await node.cluster('INFO'))) {
          if (Date.now() > deadline) throw new Error(`cluster node ${port} never reached cluster_state:ok`);
          await sleep(100);
        }
      } finally {
        node.disconnect();
      }
    }
    return { url: `redis://127.0.0.1:${ports[0]}`, ports, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
