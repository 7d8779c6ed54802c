// Where the provider's own CPU goes (issue 19): starts the server under `node --cpu-prof`, loads it
// with one scenario at a time (client credentials, introspection, refresh with rotation, userinfo),
// stops it, and prints the profile's top functions by self time and its time by module — the
// provider's own code (src/…), each package, and Node's internals.
//
//   npm run bench:profile [-- --seconds 10 --concurrency 16 --only userinfo --top 30]
//   npm run bench:profile -- --summarise <file.cpuprofile> --seconds 8   (a profile taken before)
//
// Same server, database and Redis arrangement as bench:protocol (bench/support.ts). The profiler
// itself costs CPU: compare shares within one profile, not its totals with bench:protocol's figures.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { benchRedis, enrolBenchCitizens, load, PORTAL, post, ROOT, SERVICE, signInOnce, startBenchServer } from './support.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    only: { type: 'string' },
    top: { type: 'string', default: '30' },
    /** Summarise a .cpuprofile taken before instead (its last --seconds, less --tail-ms before its end). */
    summarise: { type: 'string' },
    'tail-ms': { type: 'string', default: '300' },
    'postgres-url': { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL },
  },
});
const SECONDS = Number(args.seconds);
const CONCURRENCY = Number(args.concurrency);
const log = (message: string) => console.error(`[profile] ${message}`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which module a frame belongs to: src/<file>, a package, node:internal, or the engine. */
function moduleOf(url: string): string {
  if (!url) return '(engine: GC, program, idle)';
  if (url.startsWith('node:')) return 'node: internals';
  const packageAt = url.lastIndexOf('/node_modules/');
  if (packageAt >= 0) {
    const rest = url.slice(packageAt + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const at = url.indexOf('/src/');
  return at >= 0 ? url.slice(at + 1) : url.replace(/^file:\/\//, '');
}

/**
 * Self time per function and per module, of the samples within `window` (µs before the profile's end:
 * the load, not the start-up, seeding and preparation); native frames (no URL: socket writes, GC,
 * microtasks) and Node's internals are also charged, in the third table, to the nearest frame of the
 * provider's code or a package above them (a Redis command's socket write to ioredis).
 */
function summarise(profile: Profile, top: number, window: { from: number; to: number }): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    at += profile.timeDeltas[index] ?? 0;
    const before = profile.endTime - at;
    if (before > window.from || before < window.to) return;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const charged = new Map<string, number>();
  for (const [id, micros] of self) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    let node: number | undefined = id;
    const outside = (url: string) => !url || url.startsWith('node:');
    while (node !== undefined && outside(byId.get(node)!.callFrame.url)) node = parentOf.get(node);
    const where = node === undefined ? '(no caller outside Node.js: GC, program, timers)' : moduleOf(byId.get(node)!.callFrame.url);
    charged.set(where, (charged.get(where) ?? 0) + micros);
  }
  const total = [...self.values()].reduce((sum, value) => sum + value, 0);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((sum, [, value]) => sum + value, 0);
  const busy = total - idle;
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const where = moduleOf(url);
    const name = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
    modules.set(where, (modules.get(where) ?? 0) + micros);
  }
  const share = (micros: number) => `${((micros / busy) * 100).toFixed(1)}%`;
  const rows = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => `| ${share(micros)} | ${(micros / 1000).toFixed(0)} ms | \`${name.replaceAll('|', '\\|')}\` |`);
  return [
    `busy ${(busy / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s sampled`,
    '',
    '| self time (share of busy) | ms | module |',
    '| ---: | ---: | --- |',
    ...rows(modules),
    '',
    '| self time (share of busy) | ms | function |',
    '| ---: | ---: | --- |',
    ...rows(functions),
    '',
    '| self time with native callees (share of busy) | ms | module |',
    '| ---: | ---: | --- |',
    ...rows(charged),
  ].join('\n');
}

async function main(): Promise<void> {
  if (args.summarise) {
    const tail = Number(args['tail-ms']) * 1000;
    const profile = JSON.parse(readFileSync(args.summarise, 'utf8')) as Profile;
    console.log(`Profile: ${args.summarise} (its last ${SECONDS} s before ${args['tail-ms']} ms from its end)\n`);
    console.log(summarise(profile, Number(args.top), { from: SECONDS * 1e6 + tail, to: tail }));
    return;
  }
  const redis = await benchRedis(args['redis-url']);
  const profileDir = mkdtempSync(path.join(tmpdir(), 'cidp-profile-'));
  const times = { loadStarted: 0, loadEnded: 0, stopped: 0 };
  const server = await startBenchServer({ postgresUrl: args['postgres-url'], redisUrl: redis.url, nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  const { issuer } = server;
  try {
    const citizens = await enrolBenchCitizens(server, 20);
    const endpoints = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    const serviceToken = String((await post(endpoints.token_endpoint!, SERVICE, { grant_type: 'client_credentials' })).access_token);
    for (const citizen of citizens) await signInOnce(issuer, citizen);
    const refreshTokens = await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => (await signInOnce(issuer, citizens[worker % citizens.length]!, { scope: 'openid profile offline_access', prompt: 'consent' })).refresh_token!),
    );
    const accessToken = (await signInOnce(issuer, citizens[0]!)).access_token!;
    const scenarios: Record<string, (worker: number) => Promise<unknown>> = {
      clientCredentials: () => post(endpoints.token_endpoint!, SERVICE, { grant_type: 'client_credentials' }),
      introspection: () => post(endpoints.introspection_endpoint!, SERVICE, { token: serviceToken }),
      refresh: async (worker) => {
        const answer = await post(endpoints.token_endpoint!, PORTAL, { grant_type: 'refresh_token', refresh_token: refreshTokens[worker]! });
        refreshTokens[worker] = String(answer.refresh_token);
      },
      userinfo: async () => {
        const response = await fetch(endpoints.userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } });
        if (!response.ok) throw new Error(`userinfo answered ${response.status}`);
        await response.arrayBuffer();
      },
    };
    times.loadStarted = performance.now();
    for (const [name, work] of Object.entries(scenarios).filter(([name]) => !args.only || name === args.only)) {
      const result = await load(SECONDS, CONCURRENCY, work);
      log(`${name}: ${result.perSecond.toFixed(0)}/s, failures ${result.failures}${result.firstError ? ` (${result.firstError})` : ''}`);
    }
    times.loadEnded = performance.now();
  } finally {
    await server.stop();
    times.stopped = performance.now();
    await redis.stop();
  }
  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile in ${profileDir}`);
  const profile = JSON.parse(readFileSync(path.join(profileDir, file), 'utf8')) as Profile;
  console.log(`Profile: ${path.join(profileDir, file)} (${args.only ?? 'every scenario'}, ${SECONDS} s each at concurrency ${CONCURRENCY}; cwd ${path.relative(process.cwd(), ROOT) || '.'})\n`);
  // The load's window, in µs before the profile's end (the server's exit, a moment after stop() returned).
  console.log(summarise(profile, Number(args.top), { from: (times.stopped - times.loadStarted) * 1000, to: (times.stopped - times.loadEnded) * 1000 }));
}

await main();
