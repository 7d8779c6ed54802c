// The quickstart as a person runs it: `node src/main.ts` with no DATABASE_URL and no REDIS_URL starts
// an embedded PostgreSQL and the in-memory store, serves discovery, stops cleanly on SIGTERM (taking
// its database down with it) and comes back on the same data folder with the same keys and clients.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import * as client from 'openid-client';
import { runCli } from '../support/cli.ts';
import { freePort } from '../support/world.ts';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
/** Every setting the configuration reads from the environment; the child gets only ours. */
const CONFIG_VARIABLES = [
  'PORT',
  'ADMIN_PORT',
  'HOST',
  'ISSUER',
  'DATABASE_URL',
  'REDIS_URL',
  'KEY_ENCRYPTION_KEY',
  'PAIRWISE_KEY',
  'TRUSTED_PROXIES',
  'LOG_LEVEL',
  'DATA_DIR',
  'EMBEDDED_POSTGRES_PORT',
  'DEMO_PORTAL_PORT',
  'DEMO_BANK_PORT',
];
const FIRST_START_DEADLINE_MS = 60_000;
/** Printed by the quickstart when it has finished starting (src/quickstart.ts). */
const START_BANNER = 'citizen-idp is running';
const STOP_DEADLINE_MS = 15_000;

interface Quickstart {
  readonly process: ChildProcess;
  /** Everything the process printed so far, for failure messages. */
  output(): string;
  /** Resolves with the exit code (or the signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startQuickstart(env: NodeJS.ProcessEnv): Quickstart {
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { process: child, output: () => chunks.join(''), exited };
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls discovery until it answers 200, then waits for the start banner (the quickstart prints it
 * once the demo data is loaded and the start is over); fails if the process dies or time runs out.
 */
async function waitForStart(quickstart: Quickstart, issuer: string, deadlineMs: number): Promise<Record<string, unknown>> {
  let exited = false;
  void quickstart.exited.then(() => (exited = true));
  const until = Date.now() + deadlineMs;
  let discovery: Record<string, unknown> | undefined;
  while (Date.now() < until) {
    if (exited) throw new Error(`the quickstart exited before it had started:\n${tail(quickstart.output())}`);
    if (!discovery) {
      try {
        const response = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2_000) });
        if (response.status === 200) discovery = (await response.json()) as Record<string, unknown>;
      } catch {
        // not listening yet
      }
    }
    if (discovery && quickstart.output().includes(START_BANNER)) return discovery;
    await delay(250);
  }
  const waitingFor = discovery ? `the start banner "${START_BANNER}"` : 'discovery';
  throw new Error(`${waitingFor} did not come within ${deadlineMs} ms:\n${tail(quickstart.output())}`);
}

async function stopQuickstart(quickstart: Quickstart): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  quickstart.process.kill('SIGTERM');
  const outcome = await Promise.race([quickstart.exited, delay(STOP_DEADLINE_MS).then(() => 'timeout' as const)]);
  if (outcome === 'timeout') {
    throw new Error(`the quickstart did not exit within ${STOP_DEADLINE_MS} ms of SIGTERM:\n${tail(quickstart.output())}`);
  }
  return outcome;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function fetchJwks(issuer: string): Promise<{ keys: Record<string, unknown>[] }> {
  const response = await fetch(`${issuer}/jwks`);
  expect(response.status).to.equal(200);
  return (await response.json()) as { keys: Record<string, unknown>[] };
}

describe('the quickstart process (no DATABASE_URL, no REDIS_URL)', function () {
  this.timeout(120_000);

  /** A folder closed to others (0700, as a home folder may be) that holds the data folder. */
  let closedParent: string;
  let dataDir: string;
  let issuer: string;
  let embeddedPostgresPort: number;
  let portalUrl: string;
  let env: NodeJS.ProcessEnv;
  let running: Quickstart | undefined;
  let firstJwks: { keys: Record<string, unknown>[] } | undefined;

  before(async function () {
    closedParent = mkdtempSync(path.join(tmpdir(), 'cidp-quickstart-'));
    dataDir = path.join(closedParent, 'data');
    // The demo portal and bank too: a quickstart the person left running holds 4000 and 4003.
    const [port, adminPort, postgresPort, portalPort, bankPort] = (await distinctFreePorts(5)) as [number, number, number, number, number];
    embeddedPostgresPort = postgresPort;
    portalUrl = `http://localhost:${portalPort}`;
    issuer = `http://127.0.0.1:${port}`;
    env = { ...process.env };
    for (const name of CONFIG_VARIABLES) delete env[name];
    Object.assign(env, {
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      EMBEDDED_POSTGRES_PORT: String(postgresPort),
      DEMO_PORTAL_PORT: String(portalPort),
      DEMO_BANK_PORT: String(bankPort),
      ISSUER: issuer,
      LOG_LEVEL: 'info',
    });
  });

  after(async function () {
    // Leave nothing behind: a process that is still up, then a database it could not stop.
    if (running && running.process.exitCode === null && running.process.signalCode === null) {
      running.process.kill('SIGKILL');
      await running.exited;
    }
    const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      try {
        if (pid > 0) process.kill(pid, 'SIGINT');
        await delay(2_000);
      } catch {
        // already gone
      }
    }
    // Run as root, the cluster lives outside the data folder, which links to it.
    const cluster = existsSync(path.join(dataDir, 'postgres')) ? realpathSync(path.join(dataDir, 'postgres')) : undefined;
    if (cluster && !cluster.startsWith(dataDir)) rmSync(cluster, { recursive: true, force: true });
    rmSync(closedParent, { recursive: true, force: true });
  });

  it('starts on the embedded database and serves discovery and the JWKS', async function () {
    running = startQuickstart(env);
    const discovery = await waitForStart(running, issuer, FIRST_START_DEADLINE_MS);
    expect(discovery.issuer).to.equal(issuer);
    firstJwks = await fetchJwks(issuer);
    expect(firstJwks.keys).to.not.be.empty;
    expect(existsSync(path.join(dataDir, 'postgres', 'PG_VERSION')), 'the cluster is at, or linked from, DATA_DIR/postgres').to.equal(true);
    expect(existsSync(path.join(dataDir, 'secrets.json')), 'generated secrets are kept under DATA_DIR').to.equal(true);
    expect(statSync(closedParent).mode & 0o777, 'the folder above the data folder is left as it was').to.equal(0o700);
    expect(running.output()).to.include(`its cluster in ${realpathSync(path.join(dataDir, 'postgres'))}`);
  });

  it('serves the demo portal on its configured port, registered there: its sign-in reaches the login page', async function () {
    const login = await fetch(`${portalUrl}/login`, { redirect: 'manual' });
    expect(login.status).to.equal(302);
    const authorization = new URL(login.headers.get('location')!);
    expect(authorization.searchParams.get('redirect_uri')).to.equal(`${portalUrl}/callback`);
    const answer = await fetch(authorization, { redirect: 'manual' });
    expect(answer.status, await answer.text()).to.equal(303);
    expect(new URL(answer.headers.get('location')!, issuer).pathname).to.match(/^\/interaction\//);
  });

  it('exits with code 0 on SIGTERM and stops its embedded PostgreSQL', async function () {
    expect(running, 'the first start must have run').to.not.equal(undefined);
    const outcome = await stopQuickstart(running!);
    expect(outcome, tail(running!.output())).to.deep.equal({ code: 0, signal: null });
    expect(await accepts(embeddedPostgresPort), 'the embedded PostgreSQL port still accepts connections').to.equal(false);
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid')), 'postmaster.pid is left behind').to.equal(false);
  });

  it('restarts on the same data folder with the same keys and the demo clients', async function () {
    expect(firstJwks, 'the first start must have published its keys').to.not.equal(undefined);
    running = startQuickstart(env);
    await waitForStart(running, issuer, FIRST_START_DEADLINE_MS);
    const secondJwks = await fetchJwks(issuer);
    expect(secondJwks).to.deep.equal(firstJwks);

    const config = await client.discovery(new URL(issuer), 'demo-service', undefined, client.ClientSecretBasic('demo-service-secret'), {
      execute: [client.allowInsecureRequests],
    });
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.access_token).to.be.a('string').and.not.empty;
    const introspection = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspection.active).to.equal(true);
  });

  it('lets the command line work beside it, on its running database (to name the console\'s first administrator)', async function () {
    expect(running, 'the second start must have run').to.not.equal(undefined);
    const granted = await runCli(['admins', 'grant', '001099012345', 'client_admin'], env as Record<string, string>);
    expect(granted.code, granted.stderr).to.equal(0);
    expect(granted.stdout).to.contain('granted client_admin');
    // The command line leaves the quickstart's database running: the server still serves from it.
    expect(await accepts(embeddedPostgresPort)).to.equal(true);
    // Told only the data folder, not the port: it finds the running cluster's port in its postmaster.pid.
    const withoutPort = { ...env } as Record<string, string>;
    delete withoutPort.EMBEDDED_POSTGRES_PORT;
    const listed = await runCli(['admins', 'list'], withoutPort);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.contain('client_admin');
    expect((await fetch(`${issuer}/.well-known/openid-configuration`)).status).to.equal(200);
  });

  it('stops cleanly again', async function () {
    expect(running, 'the second start must have run').to.not.equal(undefined);
    const outcome = await stopQuickstart(running!);
    expect(outcome, tail(running!.output())).to.deep.equal({ code: 0, signal: null });
    expect(await accepts(embeddedPostgresPort)).to.equal(false);
  });
});
