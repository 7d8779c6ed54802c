// The remote registry gateway against a small fake registry: a real HTTP(S) server on 127.0.0.1 that
// this suite starts and makes slow, failing, flapping or absent. Then a whole server reading the
// registry through it: the login page answers 503 while the registry is away, writes nothing, and
// signs people in again by itself once it is back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import * as client from 'openid-client';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';
import { loadConfig } from '../../src/config/config.ts';
import { RegistryUnavailable, LocalRegistryGateway } from '../../src/registry/gateway.ts';
import { RemoteRegistryGateway, type RemoteRegistryOptions } from '../../src/registry/gateway-remote.ts';
import { applyChangeFeed } from '../../src/registry/change-feed.ts';
import type { NewRegistryRecord } from '../../src/registry/registry.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { alertsOf, Browser, formsOf, stepOf, type Page } from '../support/browserless.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const KHOA_ID = '048203000777';
const AN_ID = '001099012345';

/** A demo citizen's record as the remote registry writes it. */
function remoteJson(record: NewRegistryRecord): Record<string, unknown> {
  const address = (value: NewRegistryRecord['permanentAddress'] | null) =>
    value && { street_address: value.streetAddress, locality: value.locality, region: value.region };
  return {
    national_id: record.nationalId,
    full_name: record.fullName,
    birth_date: record.birthDate,
    gender: record.gender,
    birth_registration_province: record.birthRegistrationProvince,
    place_of_origin: record.placeOfOrigin,
    ethnicity: record.ethnicity,
    nationality: record.nationality,
    id_card_issue_date: record.idCardIssueDate,
    id_card_expiry_date: record.idCardExpiryDate,
    permanent_address: address(record.permanentAddress),
    temporary_address: address(record.temporaryAddress),
    died_on: record.diedOn,
    missing_since: record.missingSince,
    contact_phone: record.contactPhone,
    contact_email: record.contactEmail,
  };
}

type Behaviour =
  | { readonly kind: 'answer' }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Fails every other request with 500, starting with the first. */
  | { readonly kind: 'flap' }
  | { readonly kind: 'huge' };

/** The fake registry: GET /registry/records/<id> answers a record or 404, as `behaviour` says. */
class FakeRegistry {
  readonly records = new Map<string, Record<string, unknown>>();
  behaviour: Behaviour = { kind: 'answer' };
  /** Paths requested, in order. */
  readonly requests: string[] = [];
  #server: HttpServer | undefined;
  #port = 0;
  #flapped = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #tls: { key: Buffer; cert: Buffer; ca: Buffer } | undefined;

  constructor(tls?: { key: Buffer; cert: Buffer; ca: Buffer }) {
    this.#tls = tls;
    for (const { record } of DEMO_CITIZENS) this.records.set(record.nationalId, remoteJson(record));
  }

  get url(): string {
    return `${this.#tls ? 'https' : 'http'}://127.0.0.1:${this.#port}/registry`;
  }

  async start(): Promise<void> {
    const handler = (request: IncomingMessage, response: ServerResponse) => this.#handle(request, response);
    // With TLS, only clients holding a certificate from the test CA get through (mutual TLS).
    this.#server = this.#tls
      ? createHttpsServer({ ...this.#tls, requestCert: true, rejectUnauthorized: true }, handler)
      : createHttpServer(handler);
    const server = this.#server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
  }

  /** Gone: the port refuses connections until start() again (on the same port). */
  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  requestsFor(nationalId: string): number {
    return this.requests.filter((request) => request.endsWith(`/${nationalId}`)).length;
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    this.requests.push(request.url ?? '');
    const behaviour = this.behaviour;
    if (behaviour.kind === 'status') {
      response.writeHead(behaviour.status, { 'content-type': 'application/json' }).end('{"error":"unavailable"}');
    } else if (behaviour.kind === 'slow') {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!response.destroyed) this.#answer(request, response);
      }, behaviour.delayMs);
      this.#timers.add(timer);
    } else if (behaviour.kind === 'flap') {
      this.#flapped = !this.#flapped;
      if (this.#flapped) response.writeHead(500).end();
      else this.#answer(request, response);
    } else if (behaviour.kind === 'huge') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ padding: 'x'.repeat(100_000) }));
    } else {
      this.#answer(request, response);
    }
  }

  #answer(request: IncomingMessage, response: ServerResponse): void {
    const match = /^\/registry\/records\/([0-9]{12})$/.exec(request.url ?? '');
    const record = match && this.records.get(match[1]!);
    if (!record) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(record));
  }
}

/** Fast settings for unit-sized checks; each test changes what it pins down. */
function gatewayFor(registry: FakeRegistry, options: Partial<RemoteRegistryOptions> = {}): RemoteRegistryGateway {
  return new RemoteRegistryGateway({
    url: registry.url,
    connectTimeoutMs: 200,
    timeoutMs: 300,
    retries: 2,
    retryBaseDelayMs: 10,
    circuitThreshold: 100,
    circuitCooldownMs: 300,
    cacheTtlMs: 0,
    ...options,
  });
}

async function failure(lookup: Promise<unknown>): Promise<RegistryUnavailable> {
  try {
    await lookup;
  } catch (error) {
    expect(error).to.be.instanceOf(RegistryUnavailable);
    return error as RegistryUnavailable;
  }
  throw new Error('expected RegistryUnavailable');
}

describe('the registry gateway', function () {
  describe('remote, against a fake registry', function () {
    const registry = new FakeRegistry();
    const opened: RemoteRegistryGateway[] = [];
    const gateway = (options: Partial<RemoteRegistryOptions> = {}) => {
      const created = gatewayFor(registry, options);
      opened.push(created);
      return created;
    };

    before(() => registry.start());
    after(() => registry.stop());
    beforeEach(() => {
      registry.behaviour = { kind: 'answer' };
      registry.requests.length = 0;
    });
    afterEach(async () => {
      for (const created of opened.splice(0)) await created.close();
    });

    describe('lookups', function () {
      it('reads a record under the base URL and splits the name', async function () {
        const record = await gateway().findByNationalId(BICH.id);
        expect(registry.requests).to.deep.equal([`/registry/records/${BICH.id}`]);
        expect(record).to.include({ nationalId: BICH.id, fullName: 'Trần Thị Bích', familyName: 'Trần', middleName: 'Thị', givenName: 'Bích', birthDate: '1985-07-02' });
        expect(record?.permanentAddress).to.deep.equal({ streetAddress: '45 Đường Lê Lợi', locality: 'Phường Sài Gòn', region: 'Thành phố Hồ Chí Minh', country: 'VN' });
      });

      it('maps parents and guardian: a number, null for none, absent (or malformed) for not said', async function () {
        const bich = registry.records.get(BICH.id)!;
        const child = '079321000042';
        const childRecord = { ...bich, national_id: child, full_name: 'Trần Thị Nhi', birth_date: '2021-01-02', id_card_issue_date: null, id_card_expiry_date: null };
        try {
          registry.records.set(child, { ...childRecord, mother_national_id: BICH.id, father_national_id: null });
          expect(await gateway().findByNationalId(child)).to.deep.include({ motherNationalId: BICH.id, fatherNationalId: null });
          const found = await gateway().findByNationalId(child);
          expect(found && 'guardianNationalId' in found, 'a key the answer leaves out stays out').to.equal(false);
          registry.records.set(child, { ...childRecord, mother_national_id: '07918500012X', guardian_national_id: child });
          const odd = await gateway().findByNationalId(child);
          expect(odd && 'motherNationalId' in odd).to.equal(false);
          expect(odd?.guardianNationalId, "the person's own number is no guardian").to.equal(null);
          expect(odd?.fullName).to.equal('Trần Thị Nhi');
        } finally {
          registry.records.delete(child);
        }
      });

      it('answers undefined for a number the registry does not know, without retrying', async function () {
        expect(await gateway().findByNationalId('001099999999')).to.equal(undefined);
        expect(registry.requests).to.have.length(1);
      });

      it('sends nothing for something that is not an ID number', async function () {
        expect(await gateway().findByNationalId('../admin?x=1')).to.equal(undefined);
        expect(registry.requests).to.have.length(0);
      });

      it('refuses an answer larger than 64 KiB, or one about another person', async function () {
        registry.behaviour = { kind: 'huge' };
        expect((await failure(gateway({ retries: 0 }).findByNationalId(BICH.id))).message).to.match(/larger than/);
        registry.behaviour = { kind: 'answer' };
        registry.records.set('001099999998', { ...registry.records.get(BICH.id)! });
        expect((await failure(gateway({ retries: 0 }).findByNationalId('001099999998'))).message).to.match(/another number/);
        registry.records.delete('001099999998');
      });

      it('shares one request among concurrent lookups of one person', async function () {
        registry.behaviour = { kind: 'slow', delayMs: 50 };
        const shared = gateway();
        const records = await Promise.all([1, 2, 3, 4, 5].map(() => shared.findByNationalId(BICH.id)));
        expect(records.every((record) => record?.nationalId === BICH.id)).to.equal(true);
        expect(registry.requests).to.have.length(1);
      });
    });

    describe('timeouts and retries', function () {
      it('gives up on a slow registry after the total timeout of each bounded attempt', async function () {
        registry.behaviour = { kind: 'slow', delayMs: 5_000 };
        const started = performance.now();
        const error = await failure(gateway({ timeoutMs: 150, retries: 1 }).findByNationalId(BICH.id));
        const elapsed = performance.now() - started;
        expect(error.message).to.match(/no complete answer within 150 ms/);
        expect(registry.requests, 'one attempt and one retry').to.have.length(2);
        expect(elapsed).to.be.within(300, 1_500);
      });

      it('gives up on a connection that never completes its TLS handshake after the connect timeout', async function () {
        // Accepts TCP connections and says nothing: the handshake never finishes.
        const silent: TcpServer = createTcpServer(() => undefined);
        const sockets = new Set<Socket>();
        silent.on('connection', (socket) => sockets.add(socket));
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        const port = (silent.address() as AddressInfo).port;
        const remote = new RemoteRegistryGateway({
          url: `https://127.0.0.1:${port}/registry`,
          connectTimeoutMs: 100,
          timeoutMs: 5_000,
          retries: 0,
          circuitThreshold: 5,
          circuitCooldownMs: 1_000,
          cacheTtlMs: 0,
        });
        try {
          const started = performance.now();
          const error = await failure(remote.findByNationalId(BICH.id));
          expect(error.message).to.match(/no connection within 100 ms/);
          expect(performance.now() - started).to.be.below(2_000);
        } finally {
          await remote.close();
          for (const socket of sockets) socket.destroy();
          await new Promise((resolve) => silent.close(resolve));
        }
      });

      it('retries a failing registry a bounded number of times, with growing pauses', async function () {
        registry.behaviour = { kind: 'status', status: 503 };
        const started = performance.now();
        const error = await failure(gateway({ retries: 3, retryBaseDelayMs: 40 }).findByNationalId(BICH.id));
        expect(error.message).to.match(/HTTP 503/);
        expect(registry.requests, 'one attempt and three retries').to.have.length(4);
        // Back-off of at least half of 40, 80 and 160 ms.
        expect(performance.now() - started).to.be.at.least(140);
      });

      it('does not retry an answer that another attempt would not change (400, 401)', async function () {
        for (const status of [400, 401]) {
          registry.requests.length = 0;
          registry.behaviour = { kind: 'status', status };
          expect((await failure(gateway().findByNationalId(BICH.id))).message).to.match(new RegExp(`HTTP ${status}`));
          expect(registry.requests).to.have.length(1);
        }
      });

      it('gets through a flapping registry by retrying, and its circuit stays closed', async function () {
        registry.behaviour = { kind: 'flap' };
        const flapping = gateway({ retries: 1, circuitThreshold: 2 });
        for (let lookup = 0; lookup < 5; lookup += 1) {
          expect((await flapping.findByNationalId(BICH.id))?.nationalId).to.equal(BICH.id);
        }
        expect(registry.requests).to.have.length(10);
        expect(flapping.circuitState).to.equal('closed');
      });
    });

    describe('the circuit breaker', function () {
      it('opens after N consecutive failures: lookups then fail at once, without asking', async function () {
        registry.behaviour = { kind: 'status', status: 500 };
        const breaking = gateway({ retries: 0, circuitThreshold: 3, circuitCooldownMs: 60_000 });
        for (let lookup = 0; lookup < 3; lookup += 1) await failure(breaking.findByNationalId(BICH.id));
        expect(breaking.circuitState).to.equal('open');
        expect(registry.requests).to.have.length(3);

        registry.behaviour = { kind: 'answer' };
        const started = performance.now();
        const error = await failure(breaking.findByNationalId(BICH.id));
        expect(performance.now() - started, 'no timeout waited out').to.be.below(200);
        expect(error.message).to.match(/circuit open/);
        expect(error.retryAfterSeconds).to.be.within(59, 60);
        expect(registry.requests, 'nothing sent while open').to.have.length(3);
      });

      it('half-opens after the cool-down: one trial goes through, and its success closes the circuit', async function () {
        registry.behaviour = { kind: 'status', status: 500 };
        const recovering = gateway({ retries: 0, circuitThreshold: 2, circuitCooldownMs: 200 });
        await failure(recovering.findByNationalId(BICH.id));
        await failure(recovering.findByNationalId(BICH.id));
        expect(recovering.circuitState).to.equal('open');

        registry.behaviour = { kind: 'slow', delayMs: 50 };
        await sleep(250);
        // Two lookups at once: the trial goes to the registry, the other is refused without asking.
        const [trial, other] = await Promise.allSettled([recovering.findByNationalId(BICH.id), recovering.findByNationalId(AN_ID)]);
        expect(trial.status).to.equal('fulfilled');
        expect(other.status).to.equal('rejected');
        expect(registry.requests).to.have.length(3);
        expect(recovering.circuitState).to.equal('closed');
        expect((await recovering.findByNationalId(AN_ID))?.nationalId).to.equal(AN_ID);
      });

      it('opens again for another cool-down when the trial fails', async function () {
        registry.behaviour = { kind: 'status', status: 500 };
        const stubborn = gateway({ retries: 0, circuitThreshold: 1, circuitCooldownMs: 500 });
        await failure(stubborn.findByNationalId(BICH.id));
        await sleep(550);
        await failure(stubborn.findByNationalId(BICH.id));
        expect(registry.requests, 'the trial was sent').to.have.length(2);
        expect(stubborn.circuitState).to.equal('open');
        await failure(stubborn.findByNationalId(BICH.id));
        expect(registry.requests, 'not sent: open again').to.have.length(2);
      });

      it('stops retrying once the circuit opens during a lookup', async function () {
        registry.behaviour = { kind: 'status', status: 503 };
        const error = await failure(gateway({ retries: 5, circuitThreshold: 2, circuitCooldownMs: 60_000 }).findByNationalId(BICH.id));
        expect(registry.requests).to.have.length(2);
        expect(error.message).to.match(/circuit open.*HTTP 503/);
      });
    });

    describe('the cache', function () {
      it('never keeps a record longer than 60 seconds', function () {
        expect(() => gateway({ cacheTtlMs: 60_001 })).to.throw(RangeError, /cacheTtlMs/);
        expect(() => loadConfig({ REGISTRY_CACHE_SECONDS: '61' })).to.throw(/^REGISTRY_CACHE_SECONDS: expected a whole number of seconds from 0 to 60$/);
        expect(loadConfig({}).registry.cacheSeconds).to.be.at.most(60);
      });

      it("keeps a living person's record for its lifetime, then asks again", async function () {
        const caching = gateway({ cacheTtlMs: 200 });
        await caching.findByNationalId(BICH.id);
        await caching.findByNationalId(BICH.id);
        expect(registry.requestsFor(BICH.id)).to.equal(1);
        await sleep(250);
        await caching.findByNationalId(BICH.id);
        expect(registry.requestsFor(BICH.id)).to.equal(2);
      });

      it('serves a cached record while the registry is away (within its lifetime)', async function () {
        const caching = gateway({ cacheTtlMs: 60_000 });
        await caching.findByNationalId(BICH.id);
        registry.behaviour = { kind: 'status', status: 503 };
        expect((await caching.findByNationalId(BICH.id))?.nationalId).to.equal(BICH.id);
      });

      it("never caches a dead or missing person's record", async function () {
        const caching = gateway({ cacheTtlMs: 60_000 });
        const tung = await caching.findByNationalId('036080001111');
        expect(tung?.diedOn).to.equal('2025-12-01');
        await caching.findByNationalId('036080001111');
        expect(registry.requestsFor('036080001111')).to.equal(2);
      });

      it('forgets a record it is told changed, so a death is seen at the next lookup', async function () {
        const caching = gateway({ cacheTtlMs: 60_000 });
        expect((await caching.findByNationalId(AN_ID))?.diedOn).to.equal(null);
        registry.records.set(AN_ID, { ...registry.records.get(AN_ID)!, died_on: '2026-11-25' });
        try {
          caching.forget(AN_ID);
          expect((await caching.findByNationalId(AN_ID))?.diedOn).to.equal('2026-11-25');
          expect((await caching.findByNationalId(AN_ID))?.diedOn, 'and it is not cached').to.equal('2026-11-25');
          expect(registry.requestsFor(AN_ID)).to.equal(3);
        } finally {
          registry.records.set(AN_ID, remoteJson(DEMO_CITIZENS.find(({ record }) => record.nationalId === AN_ID)!.record));
        }
      });

      it('does not keep an answer that was on its way when the record was reported changed', async function () {
        const caching = gateway({ cacheTtlMs: 60_000 });
        registry.behaviour = { kind: 'slow', delayMs: 100 };
        const inFlight = caching.findByNationalId(BICH.id);
        await sleep(20);
        caching.forget(BICH.id);
        await inFlight;
        registry.behaviour = { kind: 'answer' };
        await caching.findByNationalId(BICH.id);
        expect(registry.requestsFor(BICH.id), 'asked again').to.equal(2);
      });
    });
  });

  describe('remote, with mutual TLS', function () {
    let dir: string;
    let registry: FakeRegistry;
    const files = (name: string) => path.join(dir, name);

    before(async function () {
      this.timeout(20_000);
      dir = mkdtempSync(path.join(tmpdir(), 'cidp-mtls-'));
      const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
      openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test registry CA');
      writeFileSync(files('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
      writeFileSync(files('client.ext'), 'extendedKeyUsage=clientAuth\n');
      for (const [name, subject] of [
        ['server', '/CN=127.0.0.1'],
        ['client', '/CN=citizen-idp test'],
      ] as const) {
        openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
        openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
      }
      registry = new FakeRegistry({ key: readFileSync(files('server.key')), cert: readFileSync(files('server.pem')), ca: readFileSync(files('ca.pem')) });
      await registry.start();
    });

    after(async function () {
      await registry?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads a record with the client certificate, trusting the given CA', async function () {
      const remote = gatewayFor(registry, { clientCertFile: files('client.pem'), clientKeyFile: files('client.key'), caFile: files('ca.pem') });
      try {
        expect((await remote.findByNationalId(BICH.id))?.fullName).to.equal('Trần Thị Bích');
      } finally {
        await remote.close();
      }
    });

    it('is refused without the client certificate, and refuses a server its CA did not sign', async function () {
      const anonymous = gatewayFor(registry, { retries: 0, caFile: files('ca.pem') });
      const trusting = gatewayFor(registry, { retries: 0, clientCertFile: files('client.pem'), clientKeyFile: files('client.key') });
      try {
        await failure(anonymous.findByNationalId(BICH.id));
        expect((await failure(trusting.findByNationalId(BICH.id))).message).to.match(/certificate/);
      } finally {
        await anonymous.close();
        await trusting.close();
      }
    });

    it('is configured from REGISTRY_URL, REGISTRY_CLIENT_CERT, REGISTRY_CLIENT_KEY and REGISTRY_CA', function () {
      const config = loadConfig({ REGISTRY_URL: registry.url, REGISTRY_CLIENT_CERT: files('client.pem'), REGISTRY_CLIENT_KEY: files('client.key'), REGISTRY_CA: files('ca.pem') });
      expect(config.registry).to.include({ url: registry.url, clientCert: files('client.pem'), clientKey: files('client.key'), ca: files('ca.pem') });
      expect(() => loadConfig({ REGISTRY_URL: registry.url, REGISTRY_CLIENT_CERT: files('client.pem') })).to.throw(/^REGISTRY_CLIENT_KEY: expected a client certificate and its key together/);
      expect(() => loadConfig({ REGISTRY_URL: registry.url, REGISTRY_CA: files('missing.pem') })).to.throw(/^REGISTRY_CA: expected a readable PEM file/);
      expect(() => loadConfig({ REGISTRY_CA: files('ca.pem') })).to.throw(/^REGISTRY_CA: expected only together with REGISTRY_URL$/);
    });
  });

  describe('configuration', function () {
    it('reads the local mirror by default', function () {
      expect(loadConfig({}).registry.url).to.equal(undefined);
    });

    it('refuses plain http except to a loopback address, and always in production', function () {
      expect(() => loadConfig({ REGISTRY_URL: 'http://registry.example.vn' })).to.throw(/^REGISTRY_URL: expected an https:\/\/ URL/);
      expect(loadConfig({ REGISTRY_URL: 'http://127.0.0.1:8443/api' }).registry.url).to.equal('http://127.0.0.1:8443/api');
      expect(() => loadConfig({ REGISTRY_URL: 'https://user:secret@registry.example.vn' })).to.throw(/^REGISTRY_URL: /);
      expect(() => loadConfig({ NODE_ENV: 'production', ISSUER: 'https://id.example.vn', REGISTRY_URL: 'http://127.0.0.1:8443/api' })).to.throw(
        /^REGISTRY_URL: expected an https:\/\/ URL in production$/,
      );
    });

    it('reads the timeouts, retries and circuit settings from the environment, each checked', function () {
      const config = loadConfig({ REGISTRY_CONNECT_TIMEOUT_MS: '250', REGISTRY_TIMEOUT_MS: '900', REGISTRY_RETRIES: '1', REGISTRY_CIRCUIT_THRESHOLD: '7', REGISTRY_CIRCUIT_COOLDOWN_MS: '5000', REGISTRY_CACHE_SECONDS: '0' });
      expect(config.registry).to.include({ connectTimeoutMs: 250, timeoutMs: 900, retries: 1, circuitThreshold: 7, circuitCooldownMs: 5000, cacheSeconds: 0 });
      expect(() => loadConfig({ REGISTRY_RETRIES: '50' })).to.throw(/^REGISTRY_RETRIES: expected a whole number of retries from 0 to 5$/);
      expect(() => loadConfig({ REGISTRY_CONNECT_TIMEOUT_MS: '5000', REGISTRY_TIMEOUT_MS: '1000' })).to.throw(/^REGISTRY_CONNECT_TIMEOUT_MS: expected at most REGISTRY_TIMEOUT_MS/);
      expect(() => loadConfig({ REGISTRY_TIMEOUT_MS: 'soon' })).to.throw(/^REGISTRY_TIMEOUT_MS: expected a whole number of milliseconds/);
    });
  });

  describe('a whole server reading the remote registry', function () {
    const registry = new FakeRegistry();
    // Long enough that two sign-ins fit in it, even on a busy machine.
    const COOLDOWN_MS = 2_000;
    let world: RunningServer;
    const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
    let portal: client.Configuration;

    async function authorizationUrl(extra: Record<string, string> = {}): Promise<URL> {
      return client.buildAuthorizationUrl(portal, {
        redirect_uri: PORTAL.redirectUri,
        scope: 'openid profile',
        state: client.randomState(),
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        ...extra,
      });
    }

    async function submitLogin(browser: Browser, fields: Record<string, string>, extra: Record<string, string> = {}): Promise<Page> {
      const login = await browser.get(await authorizationUrl(extra));
      expect(stepOf(login)).to.equal('login');
      return browser.submit(formsOf(login).find((form) => form.action.endsWith('/login'))!, fields);
    }

    async function signInsSucceeded(accountId: string): Promise<number> {
      await world.server.container.audit.flush();
      const [row] = await world.server.container.db('audit_events').where({ type: 'signin.succeeded', account_id: accountId }).count<{ count: string }[]>({ count: '*' });
      return Number(row!.count);
    }

    before(async function () {
      this.timeout(60_000);
      await registry.start();
      world = await startTestServer({
        overrides: {
          // No cache, so that every lookup shows what the registry does right now.
          registry: { url: registry.url, connectTimeoutMs: 200, timeoutMs: 400, retries: 1, circuitThreshold: 2, circuitCooldownMs: COOLDOWN_MS, cacheSeconds: 0 },
        },
      });
      portal = await client.discovery(new URL(world.issuer), PORTAL.id, undefined, client.ClientSecretBasic(PORTAL.secret), { execute: [client.allowInsecureRequests] });
    });

    after(async function () {
      await world?.close();
      await registry.stop();
    });

    it('reads the registry through the remote gateway', async function () {
      expect(world.server.container.registryGateway).to.be.instanceOf(RemoteRegistryGateway);
      registry.requests.length = 0;
      const callback = await new Browser(world.issuer).signIn(await authorizationUrl(), BICH.id, BICH.password, { consent: true });
      expect(callback.searchParams.get('code')).to.be.a('string');
      expect(registry.requestsFor(BICH.id)).to.be.at.least(1);
    });

    it('answers the login with 503 and a clear alert while the registry is down, writing nothing', async function () {
      const account = (await world.server.container.accounts.findByNationalId(BICH.id))!;
      const signIns = await signInsSucceeded(account.id);
      const hash = (await world.server.container.accounts.findByNationalId(BICH.id))!.passwordHash;
      const sessions = await world.server.container.ephemeralModels.sessionIdsOfAccount(account.id);
      await registry.stop();
      try {
        const browser = new Browser(world.issuer);
        const page = await submitLogin(browser, { username: BICH.id, password: BICH.password });
        expect(page.status).to.equal(503);
        expect(page.body).to.match(/<html lang="vi"/);
        expect(alertsOf(page)).to.deep.equal([
          'Cơ sở dữ liệu quốc gia về dân cư tạm thời không phản hồi nên chưa thể xác nhận đăng nhập. Vui lòng quay lại và thử lại sau giây lát.',
        ]);
        expect(page.location, 'no redirect, no code').to.equal(undefined);

        const english = await submitLogin(new Browser(world.issuer), { username: BICH.id, password: BICH.password }, { ui_locales: 'en' });
        expect(english.status).to.equal(503);
        expect(english.body).to.match(/<html lang="en"/);
        expect(alertsOf(english)[0]).to.match(/^The population registry is temporarily unavailable.*try again in a moment\.$/);

        expect(await signInsSucceeded(account.id), 'no signin.succeeded').to.equal(signIns);
        expect(await world.server.container.ephemeralModels.sessionIdsOfAccount(account.id), 'no session').to.deep.equal(sessions);
        expect((await world.server.container.accounts.findByNationalId(BICH.id))!.passwordHash, 'no rehash').to.equal(hash);
      } finally {
        await registry.start();
      }
    });

    it('answers 503 at once, with Retry-After, while the circuit is open', async function () {
      registry.behaviour = { kind: 'status', status: 500 };
      try {
        // Two failed attempts (one lookup and its retry) open the circuit.
        expect((await submitLogin(new Browser(world.issuer), { username: BICH.id, password: BICH.password })).status).to.equal(503);
        const requests = registry.requests.length;
        const page = await submitLogin(new Browser(world.issuer), { username: BICH.id, password: BICH.password });
        expect(page.status).to.equal(503);
        expect(Number(page.headers.get('retry-after'))).to.be.within(1, COOLDOWN_MS / 1000);
        expect(registry.requests.length, 'the open circuit asked nobody').to.equal(requests);
      } finally {
        registry.behaviour = { kind: 'answer' };
      }
    });

    it('recovers by itself once the registry is back: the same citizen signs in', async function () {
      await sleep(COOLDOWN_MS + 100);
      const browser = new Browser(world.issuer);
      const callback = await browser.signIn(await authorizationUrl(), BICH.id, BICH.password, { consent: true });
      expect(callback.searchParams.get('code')).to.be.a('string');
      expect((world.server.container.registryGateway as RemoteRegistryGateway).circuitState).to.equal('closed');
    });

    it('answers 503 temporarily_unavailable at userinfo while the registry is down, not a server error', async function () {
      const attempt = { verifier: client.randomPKCECodeVerifier(), state: client.randomState() };
      const url = client.buildAuthorizationUrl(portal, {
        redirect_uri: PORTAL.redirectUri,
        scope: 'openid profile',
        state: attempt.state,
        code_challenge: await client.calculatePKCECodeChallenge(attempt.verifier),
        code_challenge_method: 'S256',
      });
      const callback = await new Browser(world.issuer).signIn(url, BICH.id, BICH.password, { consent: true });
      const tokens = await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
      await registry.stop();
      try {
        const response = await fetch(`${world.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
        expect(response.status).to.equal(503);
        expect(await response.json()).to.include({ error: 'temporarily_unavailable' });
      } finally {
        await registry.start();
      }
      await sleep(COOLDOWN_MS + 100);
      const userinfo = await client.fetchUserInfo(portal, tokens.access_token, tokens.claims()!.sub);
      expect(userinfo.name).to.equal('Trần Thị Bích');
    });

    it("a death from the change feed evicts a caching gateway's copy and locks the account", async function () {
      const caching = gatewayFor(registry, { cacheTtlMs: 60_000 });
      try {
        expect((await caching.findByNationalId(KHOA_ID))?.diedOn).to.equal(null);
        registry.records.set(KHOA_ID, { ...registry.records.get(KHOA_ID)!, died_on: '2026-11-24' });
        // The trade-off: until told, the cached copy (at most 60 s old) still shows him living.
        expect((await caching.findByNationalId(KHOA_ID))?.diedOn).to.equal(null);
        const { container } = world.server;
        const summary = await applyChangeFeed(Readable.from([JSON.stringify({ id: 'gw-death-1', type: 'died', national_id: KHOA_ID, occurred_on: '2026-11-24' })]), {
          db: container.db,
          audit: container.audit,
          access: container.sessions,
          registry: caching,
        });
        expect(summary).to.include({ applied: 1, accountsLocked: 1 });
        expect((await caching.findByNationalId(KHOA_ID))?.diedOn, 'the death is seen').to.equal('2026-11-24');
        expect((await container.accounts.findByNationalId(KHOA_ID))?.status).to.equal('locked');
      } finally {
        await caching.close();
      }
    });
  });

  describe('local mirror', function () {
    it('is what a server without REGISTRY_URL reads', async function () {
      this.timeout(60_000);
      const world = await startTestServer({ seed: false });
      try {
        expect(world.server.container.registryGateway).to.be.instanceOf(LocalRegistryGateway);
      } finally {
        await world.close();
      }
    });
  });
});
