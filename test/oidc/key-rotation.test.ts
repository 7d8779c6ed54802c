// The signing-key lifecycle on its own: states from timestamps (the same for every instance at the same
// moment), the schedule with a clock the test moves, how long retired keys stay published, and the
// rotate and revoke rules, on a real database.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { KeyEncryption } from '../../src/storage/key-encryption.ts';
import { KeyRepository, SIGNING_ALGORITHMS } from '../../src/oidc/keys/keys.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { KeyRotation, SigningKeyError, type SigningKeyView } from '../../src/oidc/keys/key-rotation.ts';
import { keyState, nextTransition, publishedInOrder, type KeyTimeline } from '../../src/oidc/keys/key-lifecycle.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';

const at = (iso: string) => new Date(iso);

function timeline(kid: string, dates: { activeFrom: string; retiredAt?: string; revokedAt?: string }, alg = 'ES256'): KeyTimeline {
  return {
    kid,
    alg,
    createdAt: at('2026-01-01T00:00:00Z'),
    activeFrom: at(dates.activeFrom),
    retiredAt: dates.retiredAt ? at(dates.retiredAt) : null,
    revokedAt: dates.revokedAt ? at(dates.revokedAt) : null,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('signing-key lifecycle', function () {
  describe('states from timestamps', function () {
    const old = timeline('old', { activeFrom: '2026-01-01T00:00:00Z', retiredAt: '2026-02-01T00:00:00Z' });
    const successor = timeline('new', { activeFrom: '2026-02-01T00:00:00Z' });
    const retention = 3600;

    it('moves a key through next, active, retired and expired at its dates', function () {
      expect(keyState(successor, at('2026-01-31T23:59:59Z'), retention)).to.equal('next');
      expect(keyState(successor, at('2026-02-01T00:00:00Z'), retention)).to.equal('active');
      expect(keyState(old, at('2026-01-31T23:59:59Z'), retention)).to.equal('active');
      expect(keyState(old, at('2026-02-01T00:00:00Z'), retention)).to.equal('retired');
      expect(keyState(old, at('2026-02-01T00:59:59Z'), retention)).to.equal('retired');
      expect(keyState(old, at('2026-02-01T01:00:00Z'), retention)).to.equal('expired');
    });

    it('takes a revoked key out whatever its other dates say', function () {
      const revoked = { ...successor, revokedAt: at('2026-01-15T00:00:00Z') };
      expect(keyState(revoked, at('2026-01-14T00:00:00Z'), retention)).to.equal('next');
      expect(keyState(revoked, at('2026-01-15T00:00:00Z'), retention)).to.equal('revoked');
      expect(keyState(revoked, at('2026-03-01T00:00:00Z'), retention)).to.equal('revoked');
    });

    it('orders the published keys by algorithm, the signing key first, and leaves out expired and revoked ones', function () {
      const rsa = timeline('rsa', { activeFrom: '2026-01-01T00:00:00Z' }, 'PS256');
      const gone = timeline('gone', { activeFrom: '2025-01-01T00:00:00Z', retiredAt: '2025-02-01T00:00:00Z' });
      const revoked = timeline('revoked', { activeFrom: '2026-01-01T00:00:00Z', revokedAt: '2026-01-02T00:00:00Z' });
      const keys = [rsa, successor, gone, revoked, old];
      const order = (now: string) => publishedInOrder(keys, at(now), retention, SIGNING_ALGORITHMS).map((key) => key.kid);
      expect(order('2026-01-20T00:00:00Z')).to.deep.equal(['old', 'new', 'rsa']);
      expect(order('2026-02-01T00:30:00Z')).to.deep.equal(['new', 'old', 'rsa']);
      expect(order('2026-02-01T01:00:00Z')).to.deep.equal(['new', 'rsa']);
    });

    it('names the next moment a state changes, so an instance wakes then', function () {
      expect(nextTransition([old, successor], at('2026-01-20T00:00:00Z'), retention)).to.deep.equal(at('2026-02-01T00:00:00Z'));
      expect(nextTransition([old, successor], at('2026-02-01T00:00:00Z'), retention)).to.deep.equal(at('2026-02-01T01:00:00Z'));
      expect(nextTransition([old, successor], at('2026-02-01T01:00:00Z'), retention)).to.equal(undefined);
    });
  });

  describe('on a database, with a clock the test moves', function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let db: Database;
    let keys: KeyRepository;
    let now: Date;
    const settings = { rotationDays: 30, publishAheadSeconds: 86_400, pollSeconds: 30 };
    const lifetimes = { idToken: 600, accessToken: 900, clientCredentials: 300 };
    const rotationOf = (overrides: Partial<typeof settings> = {}) =>
      new KeyRotation({ db, keys, audit: new AuditLog(db), settings: { ...settings, ...overrides }, lifetimes, clock: () => now });
    const es256 = (list: SigningKeyView[]) => list.filter((key) => key.alg === 'ES256');

    beforeEach(async function () {
      database = await createTestDatabase();
      db = createDatabase(database.url);
      await migrateToLatest(db);
      keys = new KeyRepository(db, new KeyEncryption(randomBytes(32)));
      await keys.ensureKeys();
      now = new Date();
    });

    afterEach(async function () {
      await db?.destroy();
      await database?.drop();
    });

    it('keeps a retired key for the longest token lifetime plus a poll, a resource server’s own lifetime included', async function () {
      expect(await rotationOf().retentionSeconds()).to.equal(900 + 30);
      await db('clients').insert({
        client_id: 'tax-api',
        profile: 'service',
        name: 'Tax API',
        approved_scopes: [],
        metadata: { resource_server: { resources: ['https://tax.example.vn'], scopes: [], access_token_format: 'jwt', access_token_ttl: 7200 } },
      });
      expect(await rotationOf().retentionSeconds()).to.equal(7200 + 30);
    });

    it('on schedule, makes one successor per algorithm a publish-ahead period before the rotation date, once', async function () {
      const first = es256(await rotationOf().list())[0]!;
      const due = new Date(first.activeFrom.getTime() + 30 * 86_400_000);

      now = new Date(due.getTime() - 86_400_000 - 60_000);
      expect(await rotationOf().maintain(), 'a minute too early').to.deep.equal([]);

      now = new Date(due.getTime() - 86_400_000 + 60_000);
      // Two instances at once: the lock and the re-check under it make one successor each.
      const made = await Promise.all([rotationOf().maintain(), rotationOf().maintain()]);
      expect(made.flat()).to.have.length(SIGNING_ALGORITHMS.length);
      expect(await rotationOf().maintain(), 'nothing more on the next poll').to.deep.equal([]);

      // Seen a minute after the moment, it still gets its full publish-ahead period: it signs a minute late.
      const signsFrom = now.getTime() + 86_400_000;
      expect(signsFrom - due.getTime()).to.equal(60_000);
      const listed = es256(await rotationOf().list());
      const successor = listed.find((key) => key.state === 'next')!;
      expect(successor.activeFrom.getTime()).to.equal(signsFrom);
      const current = listed.find((key) => key.kid === first.kid)!;
      expect(current.state).to.equal('active');
      expect(current.retiredAt!.getTime()).to.equal(signsFrom);

      now = new Date(signsFrom + 1000);
      const after = es256(await rotationOf().list());
      expect(after.find((key) => key.kid === successor.kid)!.state).to.equal('active');
      expect(after.find((key) => key.kid === first.kid)!.state).to.equal('retired');
      const { jwks } = await rotationOf().providerJwks();
      expect(jwks.keys.filter((key) => key.alg === 'ES256').map((key) => key.kid)).to.deep.equal([successor.kid, first.kid]);
    });

    it('makes no successor on schedule when rotation is off', async function () {
      now = new Date(Date.now() + 400 * 86_400_000);
      expect(await rotationOf({ rotationDays: 0 }).maintain()).to.deep.equal([]);
    });

    it('rotates by hand: one waiting successor per algorithm, promoted with --now', async function () {
      const rotation = rotationOf();
      const before = es256(await rotation.list())[0]!;
      const once = es256(await rotation.rotate({ algorithms: ['ES256'], actor: 'test' }));
      const waiting = once.find((key) => key.state === 'next')!;
      expect(waiting.activeFrom.getTime() - now.getTime()).to.equal(86_400_000);
      expect(es256(await rotation.rotate({ algorithms: ['ES256'], actor: 'test' })), 'no second successor').to.have.length(2);

      const promoted = es256(await rotation.rotate({ algorithms: ['ES256'], immediately: true, actor: 'test' }));
      expect(promoted).to.have.length(2);
      expect(promoted.find((key) => key.kid === waiting.kid)!.state).to.equal('active');
      expect(promoted.find((key) => key.kid === before.kid)!.state).to.equal('retired');
      expect(await rejection(rotation.rotate({ algorithms: ['HS256'], actor: 'test' }))).to.be.instanceOf(SigningKeyError);
    });

    it('revoking a waiting successor leaves the signing key signing; revoking the signing key makes a new one at once', async function () {
      const rotation = rotationOf();
      const current = es256(await rotation.list())[0]!;
      const waiting = es256(await rotation.rotate({ algorithms: ['ES256'], actor: 'test' })).find((key) => key.state === 'next')!;

      await rotation.revoke(waiting.kid, 'generated on a compromised host', 'test');
      const afterFirst = es256(await rotation.list());
      expect(afterFirst.find((key) => key.kid === current.kid)).to.include({ state: 'active', retiredAt: null });

      await rotation.revoke(current.kid, 'private key leaked', 'test');
      const afterSecond = es256(await rotation.list());
      const signing = afterSecond.filter((key) => key.state === 'active');
      expect(signing).to.have.length(1);
      expect(signing[0]!.kid).to.not.be.oneOf([current.kid, waiting.kid]);
      expect(signing[0]!.activeFrom.getTime()).to.be.at.most(now.getTime());
      const { jwks } = await rotation.providerJwks();
      expect(jwks.keys.map((key) => key.kid)).to.not.include.members([current.kid]);
      expect(jwks.keys.map((key) => key.kid)).to.not.include(waiting.kid);
    });

    it('refuses an unknown kid and a second revocation, changing nothing', async function () {
      const rotation = rotationOf();
      const unknown = await rejection(rotation.revoke('no-such-kid', 'x', 'test'));
      expect(unknown).to.be.instanceOf(SigningKeyError).and.include({ code: 'unknown_key' });
      const kid = es256(await rotation.list())[0]!.kid;
      await rotation.revoke(kid, 'leaked', 'test');
      const before = await db('signing_keys').orderBy('kid');
      const again = await rejection(rotation.revoke(kid, 'again', 'test'));
      expect(again).to.be.instanceOf(SigningKeyError).and.include({ code: 'invalid_request' });
      expect(await db('signing_keys').orderBy('kid')).to.deep.equal(before);
      expect(await rejection(rotation.revoke(kid, '  ', 'test'))).to.be.instanceOf(SigningKeyError);
    });
  });
});
