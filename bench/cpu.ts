// CPU time per process for the benchmarks (issue 19): what each process of a measured round — the
// provider, the bare library, Redis, PostgreSQL's backends, the load generator — spent, read from
// /proc/<pid>/stat (utime + stime, every thread of the process) at the start and end of the round, and
// divided by the requests the round completed. On a shared machine throughput measures the sum of every
// process's CPU; a deployment pays only the provider's on the provider's cores.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/** Clock ticks per second of /proc's CPU fields (100 on every Linux this runs on; asked once). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Cumulative CPU microseconds of each process a reader watches, by pid. */
export type CpuReader = () => Promise<Map<number, number>>;

/** User + system CPU microseconds a process has used so far (all its threads), or undefined once it is gone. */
export function cpuMicrosOf(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
}

/** One process by pid (a server the benchmark started, or Redis). */
export function processCpu(pid: number): CpuReader {
  return () => {
    const micros = cpuMicrosOf(pid);
    return Promise.resolve(new Map(micros === undefined ? [] : [[pid, micros]]));
  };
}

/** The benchmark's own process (the load generator): process.cpuUsage(), to the microsecond. */
export function ownCpu(): CpuReader {
  return () => {
    const { user, system } = process.cpuUsage();
    return Promise.resolve(new Map([[process.pid, user + system]]));
  };
}

/**
 * Every PostgreSQL backend connected to `database` (pg_stat_activity), each read from /proc. Only the
 * bench's own database counts: other users of a shared server are not the provider's cost. Not counted:
 * the server's shared background processes (WAL writer, checkpointer, background writer), which work
 * for every database at once; a backend that ends within the round (the pool keeps its connections).
 */
export function postgresBackends(postgresUrl: string, database: string): CpuReader & { close(): Promise<void> } {
  const client = new pg.Client({ connectionString: postgresUrl });
  const connected = client.connect();
  const read = async () => {
    await connected;
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    const result = new Map<number, number>();
    for (const { pid } of rows) {
      const micros = cpuMicrosOf(pid);
      if (micros !== undefined) result.set(pid, micros);
    }
    return result;
  };
  return Object.assign(read, { close: () => client.end() });
}

/** The pid of the redis-server listening on `port` (its command line names the port), if it runs on this machine. */
export function redisServerPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'redis-server') continue;
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (new RegExp(`:${port}\\b|--port ${port}\\b`).test(commandLine) || (port === 6379 && !/:\d+|--port/.test(commandLine))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** A reading of every reader at one moment. */
export type CpuSnapshot = Record<string, Map<number, number>>;

export async function readCpu(readers: Record<string, CpuReader>): Promise<CpuSnapshot> {
  const entries = await Promise.all(Object.entries(readers).map(async ([name, read]) => [name, await read()] as const));
  return Object.fromEntries(entries);
}

/**
 * CPU microseconds each reader's processes used between two readings. A process first seen at the end
 * counts whole (a backend the pool opened within the round).
 */
export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, after] of Object.entries(end)) {
    const before = start[name] ?? new Map<number, number>();
    let sum = 0;
    for (const [pid, micros] of after) sum += micros - (before.get(pid) ?? 0);
    result[name] = sum;
  }
  return result;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
