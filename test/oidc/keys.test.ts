// Signing and cookie keys in PostgreSQL: created once per algorithm, private parts sealed, the same
// keys for every instance, and unreadable under another key-encryption key.
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { JWK } from 'jose';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { KeyEncryption } from '../../src/storage/key-encryption.ts';
import { KeyRepository, SIGNING_ALGORITHMS } from '../../src/oidc/keys/keys.ts';
import { buildServer, type Server } from '../../src/server.ts';
import { createTestDatabase, freePort, testConfig, TEST_REDIS_URL, type TestDatabase } from '../support/world.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/** A freshly migrated database of its own, with a pool onto it. */
async function freshDatabase(): Promise<{ database: TestDatabase; db: Database }> {
  const database = await createTestDatabase();
  const db = createDatabase(database.url);
  await migrateToLatest(db);
  return { database, db };
}

/** Each row of a table as PostgreSQL prints it: every column, as text. */
async function rowsAsText(db: Database, table: 'signing_keys' | 'cookie_keys'): Promise<string[]> {
  const result = await db.raw<{ rows: { text: string }[] }>(`SELECT t::text AS text FROM ${table} t`);
  return result.rows.map((row) => row.text);
}

async function rejection(attempt: Promise<unknown>): Promise<Error> {
  try {
    await attempt;
  } catch (error) {
    return error as Error;
  }
  expect.fail('expected the promise to be rejected');
}

describe('signing and cookie keys', function () {
  describe('on a fresh database', function () {
    let database: TestDatabase;
    let db: Database;
    let keyEncryptionKey: Buffer;
    let keys: KeyRepository;

    before(async function () {
      ({ database, db } = await freshDatabase());
      keyEncryptionKey = randomBytes(32);
      keys = new KeyRepository(db, new KeyEncryption(keyEncryptionKey));
      await keys.ensureKeys();
    });

    after(async function () {
      await db?.destroy();
      await database?.drop();
    });

    it('creates one ES256, one PS256, one RS256 and one EdDSA signing key, ES256 first', async function () {
      const { keys: jwks } = await keys.signingJwks();
      expect(jwks.map((jwk) => jwk.alg)).to.deep.equal(['ES256', 'PS256', 'RS256', 'EdDSA']);
      const summaries = await keys.list();
      expect(summaries.map((key) => key.alg).sort()).to.deep.equal([...SIGNING_ALGORITHMS].sort());
      expect(summaries.every((key) => key.status === 'active')).to.equal(true);
    });

    it('gives each JWK a kid, use "sig" and its alg, with the private part for the provider', async function () {
      const { keys: jwks } = await keys.signingJwks();
      for (const jwk of jwks) {
        expect(jwk.kid, 'kid').to.be.a('string').and.not.empty;
        expect(jwk.use, `use of ${jwk.kid}`).to.equal('sig');
        expect(jwk.alg, `alg of ${jwk.kid}`).to.be.oneOf([...SIGNING_ALGORITHMS]);
        expect(jwk.kty).to.equal(jwk.alg === 'ES256' ? 'EC' : jwk.alg === 'EdDSA' ? 'OKP' : 'RSA');
        if (jwk.alg === 'EdDSA') expect(jwk.crv).to.equal('Ed25519');
        expect(jwk.d, `private part of ${jwk.kid}`).to.be.a('string').and.not.empty;
      }
      expect(new Set(jwks.map((jwk) => jwk.kid)).size).to.equal(jwks.length);
    });

    it('stores public JWKs without any private member', async function () {
      const rows = await db<{ kid: string; alg: string; public_jwk: JWK }>('signing_keys').select('kid', 'alg', 'public_jwk');
      expect(rows).to.have.length(SIGNING_ALGORITHMS.length);
      for (const row of rows) {
        expect(row.public_jwk.kid).to.equal(row.kid);
        expect(row.public_jwk.alg).to.equal(row.alg);
        expect(row.public_jwk.use).to.equal('sig');
        for (const member of PRIVATE_MEMBERS) expect(row.public_jwk, `${row.kid} public_jwk`).not.to.have.property(member);
      }
    });

    it('keeps no private key material in the clear in signing_keys', async function () {
      const { keys: jwks } = await keys.signingJwks();
      const rows = (await rowsAsText(db, 'signing_keys')).join('\n');
      for (const jwk of jwks) {
        for (const member of PRIVATE_MEMBERS) {
          const value = jwk[member];
          if (typeof value !== 'string') continue;
          expect(rows.includes(value), `${jwk.kid} ${member} appears in signing_keys`).to.equal(false);
        }
      }
    });

    it('keeps the cookie key sealed in cookie_keys', async function () {
      const cookieKeys = await keys.cookieKeys();
      expect(cookieKeys).to.have.length(1);
      expect(Buffer.from(cookieKeys[0]!, 'base64url')).to.have.length(32);
      const rows = (await rowsAsText(db, 'cookie_keys')).join('\n');
      expect(rows.includes(cookieKeys[0]!)).to.equal(false);
    });

    it('adds nothing when run again', async function () {
      const before = await keys.signingJwks();
      const cookieKeysBefore = await keys.cookieKeys();
      await keys.ensureKeys();
      expect(await keys.signingJwks()).to.deep.equal(before);
      expect(await keys.cookieKeys()).to.deep.equal(cookieKeysBefore);
    });

    it('opens nothing under another key-encryption key, and says which setting to check', async function () {
      const other = new KeyRepository(db, new KeyEncryption(randomBytes(32)));
      const signing = await rejection(other.signingJwks());
      expect(signing.message).to.include('KEY_ENCRYPTION_KEY');
      const cookie = await rejection(other.cookieKeys());
      expect(cookie.message).to.include('KEY_ENCRYPTION_KEY');
      // The stored keys are left as they were: the right key still opens them.
      expect((await keys.signingJwks()).keys).to.have.length(SIGNING_ALGORITHMS.length);
    });

    it('does not open a sealed key moved to another key id', async function () {
      const [first, second] = await db<{ kid: string; private_jwk_sealed: string }>('signing_keys').orderBy('kid').select('kid', 'private_jwk_sealed');
      const sealer = new KeyEncryption(keyEncryptionKey);
      expect(() => sealer.open(first!.private_jwk_sealed, `signing-key:${second!.kid}`)).to.throw();
      expect(() => sealer.open(first!.private_jwk_sealed, `signing-key:${first!.kid}`)).not.to.throw();
    });
  });

  describe('shared by instances', function () {
    let database: TestDatabase;
    const pools: Database[] = [];

    beforeEach(async function () {
      database = await createTestDatabase();
    });

    afterEach(async function () {
      await Promise.all(pools.splice(0).map((db) => db.destroy()));
      await database?.drop();
    });

    it('creates exactly one key per algorithm and one cookie key when two instances start at once', async function () {
      const keyEncryptionKey = randomBytes(32);
      const first = createDatabase(database.url);
      const second = createDatabase(database.url);
      pools.push(first, second);
      await migrateToLatest(first);
      const repositories = [first, second, first, second].map((db) => new KeyRepository(db, new KeyEncryption(keyEncryptionKey)));
      await Promise.all(repositories.map((repository) => repository.ensureKeys()));

      const counts = await first('signing_keys').select('alg').count<{ alg: string; count: string }[]>({ count: '*' }).groupBy('alg');
      expect(Object.fromEntries(counts.map((row) => [row.alg, Number(row.count)]))).to.deep.equal({ ES256: 1, PS256: 1, RS256: 1, EdDSA: 1 });
      const [cookieCount] = await first('cookie_keys').count<{ count: string }[]>({ count: '*' });
      expect(Number(cookieCount!.count)).to.equal(1);
      const jwksSeen = await Promise.all(repositories.map((repository) => repository.signingJwks()));
      for (const jwks of jwksSeen) expect(jwks).to.deep.equal(jwksSeen[0]);
    });

    it('serves the same JWKS and cookie keys from two servers built on one database', async function () {
      this.timeout(30_000);
      const port = await freePort();
      const config = testConfig({ port, adminPort: await freePort(), databaseUrl: database.url, redisUrl: TEST_REDIS_URL });
      const servers: Server[] = [];
      const listeners: HttpServer[] = [];
      try {
        for (let i = 0; i < 2; i += 1) {
          const server = await buildServer(config);
          servers.push(server);
          const handle = server.publicApp.callback();
          const http = createServer((request, response) => void handle(request, response));
          await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
          listeners.push(http);
        }
        const published = await Promise.all(
          listeners.map(async (http) => {
            const response = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/jwks`);
            expect(response.status).to.equal(200);
            return (await response.json()) as { keys: JWK[] };
          }),
        );
        expect(published[0]!.keys).to.have.length(SIGNING_ALGORITHMS.length);
        expect(published[1]).to.deep.equal(published[0]);
        for (const jwk of published[0]!.keys) {
          expect(jwk).to.include.keys('kid', 'use', 'alg');
          for (const member of PRIVATE_MEMBERS) expect(jwk).not.to.have.property(member);
        }
        const [first, second] = servers.map((server) => server.container.keys);
        expect(await second!.cookieKeys()).to.deep.equal(await first!.cookieKeys());
        expect(await second!.signingJwks()).to.deep.equal(await first!.signingJwks());
      } finally {
        for (const http of listeners) {
          http.closeAllConnections();
          await new Promise((resolve) => http.close(resolve));
        }
        for (const server of servers) await server.close();
      }
    });
  });

  describe('KeyEncryption', function () {
    const sealer = new KeyEncryption(randomBytes(32));

    it('opens what it sealed under the same context', function () {
      const sealed = sealer.seal('the private key', 'signing-key:abc');
      expect(sealed).not.to.include('the private key');
      expect(sealer.open(sealed, 'signing-key:abc')).to.equal('the private key');
    });

    it('seals the same text differently each time', function () {
      expect(sealer.seal('same', 'ctx')).not.to.equal(sealer.seal('same', 'ctx'));
    });

    it('does not open a sealed value under a different context', function () {
      const sealed = sealer.seal('the private key', 'signing-key:abc');
      expect(() => sealer.open(sealed, 'signing-key:abd')).to.throw();
      expect(() => sealer.open(sealed, 'cookie-key:abc')).to.throw();
      expect(() => sealer.open(sealed, '')).to.throw();
    });

    it('does not open under another key-encryption key', function () {
      const sealed = sealer.seal('the private key', 'ctx');
      expect(() => new KeyEncryption(randomBytes(32)).open(sealed, 'ctx')).to.throw();
    });

    it('does not open an altered value', function () {
      const sealed = sealer.seal('the private key', 'ctx');
      const [version, iv, body] = sealed.split('.') as [string, string, string];
      const bytes = Buffer.from(body, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      expect(() => sealer.open(`${version}.${iv}.${bytes.toString('base64url')}`, 'ctx')).to.throw();
      expect(() => sealer.open(`${version}.${iv}.${body.slice(0, 8)}`, 'ctx')).to.throw();
      expect(() => sealer.open('not sealed', 'ctx')).to.throw();
    });

    it('refuses a key-encryption key that is not 32 bytes', function () {
      expect(() => new KeyEncryption(randomBytes(16))).to.throw(/32 bytes/);
    });
  });
});
