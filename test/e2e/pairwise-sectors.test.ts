// Pairwise subjects per sector (OpenID Connect Core 8.1, docs/design.md "Subjects"): portals registered with
// one sector_identifier_uri share a sector and so a citizen's `sub`; a portal of another sector gets
// another. The sector document is fetched once, at registration, SSRF-guarded, time- and size-limited,
// and must list every redirect URI; signing in never fetches it again.
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as client from 'openid-client';
import { ClientRepository, InvalidClientRegistration, type ClientRegistration, type ClientRules } from '../../src/oidc/clients/clients.ts';
import { pairwiseSubject } from '../../src/oidc/subjects.ts';
import { Browser } from '../support/browserless.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { json, SECTOR_HOST_CA, sectorHostCaFile, startSectorHost, type SectorHost } from '../support/sector-host.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const AN = { id: '001099012345', password: 'An#Demo2026' };

/** Two portals of one ministry, on different hosts, sharing its sector; a third of another sector. */
const LAND = { id: 'gov-land', secret: 'gov-land-secret-2026', redirectUris: ['http://127.0.0.1:5201/callback', 'http://localhost:5201/callback'] };
const PERMITS = { id: 'gov-permits', secret: 'gov-permits-secret-2026', redirectUris: ['http://localhost:5202/callback'] };
const HEALTH = { id: 'gov-health', secret: 'gov-health-secret-2026', redirectUris: ['http://127.0.0.1:5203/callback'] };
type Portal = typeof LAND;

const registration = (portal: Portal, sectorIdentifierUri?: string): ClientRegistration => ({
  clientId: portal.id,
  name: portal.id,
  profile: 'portal',
  approvedScopes: ['openid', 'profile'],
  redirectUris: portal.redirectUris,
  secret: portal.secret,
  ...(sectorIdentifierUri !== undefined && { sectorIdentifierUri }),
});

/** The message a refused registration gives; fails the test when it was not refused as it should be. */
async function refusal(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidClientRegistration);
    return (error as Error).message;
  }
  throw new Error('expected the registration to be refused');
}

describe('pairwise subjects per sector (sector_identifier_uri)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let host: SectorHost;
  /** Test and quickstart rules: loopback allowed; the sector host's certificate trusted; short timeout. */
  let clients: ClientRepository;
  /** Production rules: the same, with loopback and non-public addresses refused. */
  let productionClients: ClientRepository;

  before(async () => {
    world = await startTestServer();
    host = await startSectorHost({
      '/ministry.json': json([...LAND.redirectUris, ...PERMITS.redirectUris, 'https://land.example.vn/callback']),
      // The same document served on another host name is another sector.
      '/health.json': json(HEALTH.redirectUris),
      '/missing-one.json': json([LAND.redirectUris[0]]),
      '/not-json': (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('["http://127.0.0.1:5201/callback",'),
      '/not-uris.json': json({ redirect_uris: LAND.redirectUris }),
      '/too-big.json': json([...LAND.redirectUris, ...Array.from({ length: 1500 }, (_, index) => `https://padding.example.vn/${index}/callback`)]),
      '/slow.json': () => undefined, // never answers
      '/gone.json': (_request, response) => response.writeHead(404).end(),
      '/moved.json': (_request, response) => response.writeHead(302, { location: '/ministry.json' }).end(),
    });
    const { db, sealer } = world.server.container;
    const rules: ClientRules = { allowLoopbackReceivers: true, sectorFetchCa: SECTOR_HOST_CA, sectorFetchTimeoutMs: 1_000 };
    clients = new ClientRepository(db, sealer, rules);
    productionClients = new ClientRepository(db, sealer, { ...rules, allowLoopbackReceivers: false });
  });
  after(async () => {
    await host?.close();
    await world?.close();
  });

  const ministry = () => `${host.origin}/ministry.json`;
  const healthSector = () => `https://localhost:${host.port}/health.json`;

  /** Signs a citizen in at a portal (fresh browser) and returns the verified ID token's claims. */
  async function subAt(portal: Portal, citizen = BICH, redirectUri = portal.redirectUris[0]!): Promise<string> {
    const config = await client.discovery(new URL(world.issuer), portal.id, undefined, client.ClientSecretBasic(portal.secret), {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await new Browser(world.issuer).signIn(url, citizen.id, citizen.password);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    return tokens.claims()!.sub;
  }

  const accountIdOf = async (citizen: typeof BICH) => (await world.server.container.accounts.findByNationalId(citizen.id))!.id;
  const stored = (clientId: string) =>
    world.server.container.db('clients').where({ client_id: clientId }).first<{ metadata: Record<string, unknown> } | undefined>();

  describe('registration', () => {
    it('fetches the document, and stores the client with its sector_identifier_uri', async () => {
      const before = host.hits.get('/ministry.json') ?? 0;
      await clients.create(registration(LAND, ministry()));
      await clients.create(registration(PERMITS, ministry()));
      await clients.create(registration(HEALTH, healthSector()));
      expect(host.hits.get('/ministry.json')).to.equal(before + 2);
      expect((await stored(LAND.id))!.metadata).to.include({ sector_identifier_uri: ministry(), subject_type: 'pairwise' });
    });

    it('refuses redirect URIs on several hosts without a sector_identifier_uri', async () => {
      const message = await refusal(clients.create(registration({ ...LAND, id: 'gov-land-nosector' })));
      expect(message).to.match(/share one host.*sector_identifier_uri/);
      expect(await stored('gov-land-nosector')).to.equal(undefined);
    });

    const refusals: [string, string, RegExp][] = [
      ['omits one of its redirect URIs', '/missing-one.json', /does not list the redirect URI http:\/\/localhost:5201\/callback/],
      ['is not JSON', '/not-json', /is not JSON/],
      ['is JSON but not an array of URIs', '/not-uris.json', /not a JSON array of URIs/],
      ['is larger than 32 kB', '/too-big.json', /larger than 32768 bytes/],
      ['does not answer in time', '/slow.json', /no answer .* within 1000 ms/],
      ['answers 404', '/gone.json', /answered HTTP 404, expected 200/],
      ['answers a redirect (not followed)', '/moved.json', /answered HTTP 302.*redirects are not followed/],
    ];
    for (const [what, route, expected] of refusals) {
      it(`refuses the client, writing nothing, when the document ${what}`, async () => {
        const portal = { ...LAND, id: `gov-refused-${route.replace(/[^a-z]/g, '')}` };
        const message = await refusal(clients.create(registration(portal, `${host.origin}${route}`)));
        expect(message).to.match(/^sector_identifier_uri: /);
        expect(message).to.match(expected);
        expect(await stored(portal.id)).to.equal(undefined);
      });
    }

    it('refuses plain http, and a sector for a public client', async () => {
      const http = await refusal(clients.create(registration({ ...PERMITS, id: 'gov-http' }, `http://127.0.0.1:${host.port}/ministry.json`)));
      expect(http).to.match(/must use https/);
      const publicClient = await refusal(clients.create({ ...registration({ ...PERMITS, id: 'gov-public' }, ministry()), subjectType: 'public' }));
      expect(publicClient).to.match(/only a pairwise client has a sector/);
    });

    it('with production rules, refuses a loopback sector, a non-public address, and a name resolving to one', async () => {
      // https redirect URIs: in production a web client's http loopback redirect is refused first (src/oidc/clients/clients.ts).
      const portal = { ...PERMITS, id: 'gov-production', redirectUris: ['https://permits.example.vn/callback'] };
      expect(await refusal(productionClients.create(registration(portal, ministry())))).to.match(/is on loopback, allowed only outside production/);
      // 127.0.0.2 is loopback too, though not named so: the address guard refuses it before connecting.
      const before = host.hits.get('/ministry.json') ?? 0;
      expect(await refusal(productionClients.create(registration(portal, `https://127.0.0.2:${host.port}/ministry.json`)))).to.match(
        /refused sector_identifier_uri .*: a non-public address/,
      );
      expect(await refusal(productionClients.create(registration(portal, `https://[::ffff:127.0.0.1]:${host.port}/ministry.json`)))).to.match(
        /non-public address/,
      );
      // This machine's own name resolves to a loopback address (/etc/hosts): refused after resolution.
      const name = hostname();
      const resolved = await lookup(name).catch(() => undefined);
      if (resolved?.address.startsWith('127.') && !['localhost'].includes(name)) {
        expect(await refusal(productionClients.create(registration(portal, `https://${name}:${host.port}/ministry.json`)))).to.match(
          /resolves to a non-public address/,
        );
      }
      expect(host.hits.get('/ministry.json') ?? 0).to.equal(before);
      expect(await stored(portal.id)).to.equal(undefined);
    });
  });

  describe('subjects', () => {
    it('gives a citizen the same sub at two portals of one sector, computed over the sector URI\'s host', async () => {
      const hitsBefore = [...host.hits.values()].reduce((sum, count) => sum + count, 0);
      const land = await subAt(LAND);
      const permits = await subAt(PERMITS);
      expect(land).to.equal(permits);
      expect(land).to.equal(pairwiseSubject(world.config.pairwiseKey!, `127.0.0.1:${host.port}`, await accountIdOf(BICH)));
      // Loading the clients and signing in fetched nothing from the sector host.
      expect([...host.hits.values()].reduce((sum, count) => sum + count, 0)).to.equal(hitsBefore);
    });

    it('gives the same sub through either of a portal\'s redirect hosts, and again at the next sign-in', async () => {
      const first = await subAt(LAND);
      expect(await subAt(LAND, BICH, LAND.redirectUris[1])).to.equal(first);
      expect(await subAt(LAND)).to.equal(first);
    });

    it('gives a different sub at a portal of another sector, and at a portal with no sector document', async () => {
      const ministrySub = await subAt(LAND);
      const health = await subAt(HEALTH);
      expect(health).not.to.equal(ministrySub);
      expect(health).to.equal(pairwiseSubject(world.config.pairwiseKey!, `localhost:${host.port}`, await accountIdOf(BICH)));
      const demoPortal = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUris: ['http://localhost:4000/callback'] };
      expect(await subAt(demoPortal)).not.to.be.oneOf([ministrySub, health]);
    });

    it('never uses the national ID or the account id as sub, and gives another citizen another sub', async () => {
      const bich = await subAt(PERMITS);
      expect(bich).not.to.be.oneOf([BICH.id, await accountIdOf(BICH)]);
      expect(bich).not.to.include(BICH.id);
      const an = await subAt(PERMITS, AN);
      expect(an).not.to.equal(bich);
    });
  });

  describe('the command line', () => {
    function runCli(args: string[], extra: Record<string, string>) {
      const child = spawn(process.execPath, ['src/cli.ts', ...args], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          DATABASE_URL: world.database.url,
          KEY_ENCRYPTION_KEY: world.config.keyEncryptionKey!.toString('base64'),
          PAIRWISE_KEY: world.config.pairwiseKey!.toString('base64'),
          NODE_EXTRA_CA_CERTS: sectorHostCaFile(),
          ...extra,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      });
    }
    const add = (id: string, sector: string) =>
      runCli(
        ['clients', 'add', '--id', id, '--name', id, '--profile', 'portal', '--scopes', 'openid', '--redirect-uri', PERMITS.redirectUris[0]!, '--sector-identifier-uri', sector],
        { CLIENT_SECRET: 'cli-portal-secret-2026' },
      );

    it('clients add --sector-identifier-uri fetches the document and registers the portal in that sector', async () => {
      const result = await add('gov-cli', ministry());
      expect(result.code, result.stderr).to.equal(0);
      expect((await stored('gov-cli'))!.metadata).to.include({ sector_identifier_uri: ministry() });
      const event = await world.server.container.db('audit_events').where({ client_id: 'gov-cli', type: 'admin.action' }).first<{ data: Record<string, unknown> }>();
      expect(event.data).to.include({ action: 'client.added', sectorIdentifierUri: ministry() });
    });

    it('refuses with exit status 2 and a clear message when the document does not list the redirect URI', async () => {
      const result = await add('gov-cli-refused', healthSector());
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include('sector_identifier_uri:');
      expect(result.stderr).to.include('does not list the redirect URI http://localhost:5202/callback');
      expect(await stored('gov-cli-refused')).to.equal(undefined);
    });
  });
});
