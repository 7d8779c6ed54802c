// A rolling deploy: the previous release's code and this checkout's, side by side on one PostgreSQL
// database (migrated by this checkout) and one Redis prefix, behind a round-robin proxy as the load
// balancer. A citizen's sign-in begun on one finishes on the other, and each accepts the other's tokens.
//
// "The previous release" is the code that ran on the schema before the newest migration: the parent
// of the newest commit that added or changed a file under migrations/ — or HEAD itself, when the
// working tree holds migrations not committed yet. Its src/, config/, migrations/ and package.json
// are exported with `git archive` into a scratch folder and run with this checkout's node_modules (a
// real deploy runs each release with its own; a package it needs and this checkout lacks fails the
// suite, naming the package). PREVIOUS_RELEASE=<tag or commit> names another release (the one actually
// deployed). Without git history (no git, a shallow clone) the suite says why and skips.
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import * as client from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import { freePort, startTestServer, TEST_REDIS_URL, type RunningServer } from '../support/world.ts';
import { Browser, formsOf, stepOf } from '../support/browserless.ts';
import { BICH, Portal, PORTAL } from '../support/rp-flow.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const OLD = 0;
const NEW = 1;
const NAMES = ['old', 'new'] as const;

/** What this suite uses of the previous release's modules (its public shapes, not its types). */
interface OldServer {
  readonly publicApp: { callback(): RequestListener };
  readonly adminApp: { callback(): RequestListener };
  close(): Promise<void>;
}
interface OldModules {
  loadConfig(environ: Record<string, string>): unknown;
  buildServer(config: unknown, options?: { migrate?: boolean }): Promise<OldServer>;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The previous release's commit and why it is that one, or why there is none to run. */
function previousRelease(): { commit: string; why: string } | { skip: string } {
  try {
    if (git('rev-parse', '--is-inside-work-tree') !== 'true') return { skip: 'not a git checkout' };
  } catch {
    return { skip: 'no git history here (git missing or not a git checkout): the previous release cannot be found' };
  }
  // An operator can name the release actually deployed (a tag, a commit).
  const named = process.env.PREVIOUS_RELEASE;
  if (named) return { commit: git('rev-parse', '--verify', `${named}^{commit}`), why: `PREVIOUS_RELEASE=${named}` };
  if (git('status', '--porcelain', '--', 'migrations') !== '') {
    return { commit: git('rev-parse', 'HEAD'), why: 'the working tree adds or changes migrations: HEAD ran on the schema before them' };
  }
  const newest = git('log', '-1', '--format=%H', '--', 'migrations');
  if (newest === '') return { skip: 'no commit touches migrations/' };
  try {
    return { commit: git('rev-parse', '--verify', `${newest}^`), why: `the parent of ${newest.slice(0, 7)}, the newest commit that changed migrations/` };
  } catch {
    const shallow = git('rev-parse', '--is-shallow-repository') === 'true';
    return { skip: `${newest.slice(0, 7)} has no parent here${shallow ? ' (shallow clone: fetch the history with git fetch --unshallow)' : ''}` };
  }
}

/** Exports the release's tree into a scratch folder and links this checkout's node_modules into it. */
function exportRelease(commit: string): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'cidp-previous-'));
  // The commit is git's own hex and the folder mkdtemp's: nothing here comes from outside.
  execSync(`git archive --format=tar ${commit} src config migrations package.json | tar -x -C ${folder}`, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(folder, 'node_modules'), 'dir');
  const { dependencies = {} } = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const missing = Object.keys(dependencies).filter((name) => !existsSync(path.join(ROOT, 'node_modules', name, 'package.json')));
  if (missing.length > 0) {
    rmSync(folder, { recursive: true, force: true });
    throw new Error(`the previous release (${commit.slice(0, 7)}) needs ${missing.join(', ')}, which this checkout's node_modules no longer has`);
  }
  return folder;
}

function listen(listener: RequestListener, port: number): Promise<HttpServer> {
  const http = createServer(listener);
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve(http));
  });
}

describe('rolling deploy: the previous release and this one side by side on the new schema', function () {
  this.timeout(60_000);
  let release: { commit: string; why: string };
  let folder: string | undefined;
  let modules: OldModules;
  let proxy: RoundRobinProxy;
  let current: RunningServer;
  /** The environment an instance of the previous release runs with: this deployment's storage and secrets. */
  let environment: (ports: { port: number; adminPort: number }) => Record<string, string>;
  let previous: { server: OldServer; port: number; close(): Promise<void> };
  let portal: Portal;

  /** Starts the previous release's server in this process, on the deployment's storage. */
  async function startPrevious(options: { migrate: boolean }) {
    const ports = { port: await freePort(), adminPort: await freePort() };
    const server = await modules.buildServer(modules.loadConfig(environment(ports)), { migrate: options.migrate });
    const publicHttp = await listen(server.publicApp.callback(), ports.port);
    const adminHttp = await listen(server.adminApp.callback(), ports.adminPort);
    return {
      server,
      port: ports.port,
      async close() {
        for (const http of [publicHttp, adminHttp]) {
          http.closeAllConnections();
          await new Promise((resolve) => http.close(resolve));
        }
        await server.close();
      },
    };
  }

  before(async function () {
    const found = previousRelease();
    if ('skip' in found) {
      console.log(`      rolling deploy skipped: ${found.skip}`);
      this.skip();
    }
    release = found;
    console.log(`      previous release: ${release.commit.slice(0, 7)} (${release.why})`);
    folder = exportRelease(release.commit);
    const load = (file: string) => import(pathToFileURL(path.join(folder!, file)).href) as Promise<Record<string, unknown>>;
    const [config, server] = await Promise.all([load('src/config/config.ts'), load('src/server.ts')]).catch((error: unknown) => {
      throw new Error(`the previous release (${release.commit.slice(0, 7)}) does not load: ${error instanceof Error ? error.message : String(error)}`);
    });
    modules = { loadConfig: config.loadConfig, buildServer: server.buildServer } as OldModules;

    proxy = await startRoundRobinProxy();
    // This release first: it migrates the fresh database to the newest schema and loads the demo data.
    // A previous release that stored tokens by their value finds only such tokens: during that upgrade this
    // release stores them so too (TOKENS_STORED_BY_VALUE, docs/operations.md "Tokens at rest").
    const storedByValue = !git('ls-tree', '--name-only', release.commit, 'src/oidc/models/').split('\n').includes('src/oidc/models/tokens-at-rest.ts');
    current = await startTestServer({ overrides: { issuer: proxy.url, trustedProxies: ['127.0.0.1'], tokensStoredByValue: storedByValue } });
    environment = (ports) => ({
      NODE_ENV: 'test',
      PORT: String(ports.port),
      ADMIN_PORT: String(ports.adminPort),
      ISSUER: proxy.url,
      TRUSTED_PROXIES: '127.0.0.1',
      DATABASE_URL: current.database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: current.config.redisKeyPrefix,
      KEY_ENCRYPTION_KEY: current.config.keyEncryptionKey!.toString('base64'),
      PAIRWISE_KEY: current.config.pairwiseKey!.toString('base64'),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    // An instance of the previous release that was already running when this one migrated: it does not
    // migrate again (see the last test for one that starts afterwards).
    previous = await startPrevious({ migrate: false });
    proxy.setUpstreams([previous.port, current.config.port]);
    portal = new Portal(proxy.url);
  });

  after(async function () {
    await proxy?.close();
    await previous?.close();
    await current?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  afterEach(function () {
    proxy?.pin(undefined);
  });

  async function fromEach<T>(work: () => Promise<T>): Promise<[T, T]> {
    proxy.pin(OLD);
    const fromOld = await work();
    proxy.pin(NEW);
    return [fromOld, await work()];
  }

  /** Bích's sign-in: authorization request and login page on `first`, credentials, consent and code redemption on `second`. */
  async function signInAcross(first: number, second: number) {
    const citizen = new Browser(proxy.url);
    const attempt = await portal.start();
    const from = proxy.log.length;
    proxy.pin(first);
    const loginPage = await citizen.get(attempt.url);
    expect(stepOf(loginPage), `the login page from the ${NAMES[first]} instance`).to.equal('login');
    proxy.pin(second);
    const consentPage = await citizen.submit(formsOf(loginPage).find((form) => form.action.endsWith('/login'))!, {
      username: BICH.id,
      password: BICH.password,
    });
    expect(stepOf(consentPage), `the consent page from the ${NAMES[second]} instance`).to.equal('consent');
    const done = await citizen.submit(formsOf(consentPage).find((form) => form.action.endsWith('/consent'))!);
    expect(done.location, 'the redirect to the portal').to.match(new RegExp(`^${PORTAL.redirectUri}\\?`));
    const tokens = await portal.redeem(attempt, new URL(done.location!));
    const flow = proxy.log.slice(from);
    expect(flow.find((entry) => entry.path === '/auth')?.upstream, 'the authorization request').to.equal(first);
    expect(flow.find((entry) => entry.method === 'POST' && entry.path.endsWith('/login'))).to.include({ upstream: second, status: 303 });
    expect(flow.find((entry) => entry.path === '/token')).to.include({ upstream: second, status: 200 });
    return tokens;
  }

  /** The tokens of a sign-in are good on both instances: userinfo, introspection, refresh (rotated) and reuse refused. */
  async function acceptedByBoth(tokens: Awaited<ReturnType<Portal['signIn']>>, issuedBy: number) {
    const config = await portal.config();
    const sub = tokens.claims()!.sub;
    const other = 1 - issuedBy;
    for (const [name, userinfo] of (await fromEach(() => portal.userinfo(tokens.access_token, sub))).entries()) {
      expect(userinfo.sub, `userinfo at the ${NAMES[name]} instance`).to.equal(sub);
    }
    for (const [name, introspection] of (await fromEach(() => client.tokenIntrospection(config, tokens.access_token))).entries()) {
      expect(introspection, `introspection at the ${NAMES[name]} instance`).to.include({ active: true, sub, client_id: PORTAL.id });
    }
    // Refreshed at the other instance, then at the issuing one with the rotated token.
    proxy.pin(other);
    const refreshed = await portal.refresh(tokens.refresh_token!);
    proxy.pin(issuedBy);
    const again = await portal.refresh(refreshed.refresh_token!);
    expect(again.claims()!.sub).to.equal(sub);
    expect(decodeProtectedHeader(again.id_token!).kid, 'both sign with the same key').to.equal(decodeProtectedHeader(tokens.id_token!).kid);
    proxy.pin(other);
    expect((await portal.userinfo(again.access_token, sub)).sub).to.equal(sub);
    // The rotated-away token is refused by both: reuse detection spans the two releases.
    for (const instance of [OLD, NEW]) {
      proxy.pin(instance);
      const reuse = await portal.rawRefresh(refreshed.refresh_token!);
      expect(reuse.status, `reuse at the ${NAMES[instance]} instance`).to.equal(400);
      expect(reuse.body.error).to.equal('invalid_grant');
    }
  }

  it('serves one issuer from both releases: the same discovery document and keys', async function () {
    const [oldDiscovery, newDiscovery] = await fromEach(async () => (await fetch(`${proxy.url}/.well-known/openid-configuration`)).json());
    expect((oldDiscovery as { issuer: string }).issuer).to.equal(proxy.url);
    expect((newDiscovery as { issuer: string }).issuer).to.equal(proxy.url);
    const [oldKeys, newKeys] = await fromEach(async () => (await fetch(`${proxy.url}/jwks`)).json());
    expect(oldKeys).to.deep.equal(newKeys);
  });

  it('finishes on the new release a sign-in begun on the previous one, and both accept its tokens', async function () {
    const tokens = await signInAcross(OLD, NEW);
    await acceptedByBoth(tokens, NEW);
  });

  it('finishes on the previous release a sign-in begun on the new one, and both accept its tokens', async function () {
    const tokens = await signInAcross(NEW, OLD);
    await acceptedByBoth(tokens, OLD);
  });

  it('lets an instance of the previous release start, and report ready, after the new release migrated', async function () {
    const migrateSource = readFileSync(path.join(folder!, 'src/storage/migrate.ts'), 'utf8');
    if (!migrateSource.includes('disableMigrationsListValidation')) {
      // Releases before the tolerant check (src/storage/migrate.ts schemaState) take a newer release's
      // migrations for a corrupt folder. Show that this is indeed what happens, then say so visibly.
      const readiness = await fetch(`http://127.0.0.1:${previous.port}/readyz`);
      expect(readiness.status, 'the previous release reports not ready').to.equal(503);
      expect(JSON.stringify(await readiness.json())).to.match(/migration directory is corrupt/);
      let refusal: unknown;
      try {
        await (await startPrevious({ migrate: true })).close();
      } catch (error) {
        refusal = error;
      }
      expect(String(refusal), 'a restart of the previous release').to.match(/migration directory is corrupt/);
      console.log(
        `      ${release.commit.slice(0, 7)} predates tolerant migration checks: its /readyz answers 503 and it cannot restart once the new release has migrated`,
      );
      this.skip();
    }
    const readiness = await fetch(`http://127.0.0.1:${previous.port}/readyz`);
    expect(readiness.status, JSON.stringify(await readiness.clone().json())).to.equal(200);
    const restarted = await startPrevious({ migrate: true });
    try {
      const answer = await fetch(`http://127.0.0.1:${restarted.port}/readyz`);
      expect(answer.status, JSON.stringify(await answer.clone().json())).to.equal(200);
    } finally {
      await restarted.close();
    }
  });
});
