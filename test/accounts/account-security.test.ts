// The building blocks of account security, each against the real stores it uses.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { passwordProblem } from '../../src/accounts/password-policy.ts';
import { TotpVerifier, currentTotp, newTotpSecret, totpUri } from '../../src/accounts/totp.ts';
import { BruteForceGuard } from '../../src/accounts/brute-force.ts';
import { HashingOverloaded, PasswordHasher } from '../../src/accounts/passwords.ts';
import { OutboxNotifier, outboxCarrier } from '../../src/accounts/notifier.ts';
import { NotificationQueue } from '../../src/accounts/notification-queue.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { RedisEphemeralStore } from '../../src/storage/ephemeral-store-redis.ts';
import { MemoryEphemeralStore } from '../../src/storage/ephemeral-store-memory.ts';
import type { EphemeralStore } from '../../src/storage/ephemeral-store.ts';
import { createTestDatabase, flushTestRedis, STORE_TEST_REDIS_URL, type TestDatabase } from '../support/world.ts';

const BICH = { nationalId: '079185000123', birthDate: '1985-07-02' };

describe('password policy', () => {
  it('wants at least 10 characters', () => {
    expect(passwordProblem('Ab#1234xy', BICH)).to.equal('too-short');
    expect(passwordProblem('Ab#1234xyz', BICH)).to.equal(undefined);
  });

  it('counts characters, not bytes, so Vietnamese passphrases are measured fairly', () => {
    expect(passwordProblem('Đường Huế', BICH)).to.equal('too-short');
    expect(passwordProblem('Đường về Huế', BICH)).to.equal(undefined);
  });

  it('refuses common passwords, also with digits or symbols tacked on, in any case', () => {
    expect(passwordProblem('password123', BICH)).to.equal('common');
    expect(passwordProblem('MatKhau123!', BICH)).to.equal('common');
    expect(passwordProblem('anhyeuem2026', BICH)).to.equal('common');
  });

  it('refuses a password containing the ID number or its last six digits', () => {
    expect(passwordProblem('x079185000123x', BICH)).to.equal('contains-id-number');
    expect(passwordProblem('secure-000123-pass', BICH)).to.equal('contains-id-number');
  });

  it('refuses a password containing the birth date, however it is written', () => {
    for (const password of ['bich19850702!!', 'bich02071985!!', 'bich020785xx!', 'bich 02/07/1985', 'b-02.07.1985-b']) {
      expect(passwordProblem(password, BICH), password).to.equal('contains-birth-date');
    }
  });

  it('refuses absurdly long passwords', () => {
    expect(passwordProblem('x'.repeat(257), BICH)).to.equal('too-long');
  });
});

function storeSuites(run: (name: string, store: () => EphemeralStore) => void): void {
  let redis: Redis;
  let redisStore: EphemeralStore;
  const memoryStore = new MemoryEphemeralStore();
  before(async () => {
    await flushTestRedis();
    redis = new Redis(STORE_TEST_REDIS_URL);
    redisStore = new RedisEphemeralStore(redis);
  });
  after(() => redis.quit());
  run('on Redis', () => redisStore);
  run('in memory', () => memoryStore);
}

describe('second factors and brute force', () => {
  let database: TestDatabase;
  let db: Database;
  let audit: AuditLog;

  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    audit = new AuditLog(db);
  });
  after(async () => {
    await db.destroy();
    await database.drop();
  });

  storeSuites((where, store) => {
    describe(`TOTP ${where}`, () => {
      it('accepts the current code once and refuses its replay', async () => {
        const verifier = new TotpVerifier(store());
        const secret = newTotpSecret();
        const code = await currentTotp(secret);
        expect(await verifier.verify(`account-${where}-1`, secret, code)).to.equal('valid');
        expect(await verifier.verify(`account-${where}-1`, secret, code)).to.equal('replayed');
      });

      it('refuses a wrong code and anything that is not six digits', async () => {
        const verifier = new TotpVerifier(store());
        const secret = newTotpSecret();
        const code = await currentTotp(secret);
        const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
        expect(await verifier.verify(`account-${where}-2`, secret, wrong)).to.equal('invalid');
        for (const junk of ['', '12345', '1234567', 'abcdef', `${code} `]) {
          expect(await verifier.verify(`account-${where}-2`, secret, junk), JSON.stringify(junk)).to.equal('invalid');
        }
      });

      it('verifies the published 10-byte demo secret', async () => {
        const verifier = new TotpVerifier(store());
        expect(await verifier.verify(`account-${where}-3`, 'JBSWY3DPEHPK3PXP', await currentTotp('JBSWY3DPEHPK3PXP'))).to.equal('valid');
      });

      it('lets exactly one of 20 concurrent submissions of one code through', async () => {
        const verifier = new TotpVerifier(store());
        const secret = newTotpSecret();
        const code = await currentTotp(secret);
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(`account-${where}-4`, secret, code)));
        expect(outcomes.filter((outcome) => outcome === 'valid')).to.have.length(1);
        expect(outcomes.filter((outcome) => outcome === 'replayed')).to.have.length(19);
      });
    });

    describe(`brute-force guard ${where}`, () => {
      const target = (id: string) => ({ kind: 'password' as const, nationalId: id });

      it('locks a submitted ID number after five failures, for 15 minutes, and audits the lock', async () => {
        const guard = new BruteForceGuard(store(), audit);
        const id = where === 'on Redis' ? '001099000001' : '001099000002';
        for (let attempt = 1; attempt <= 4; attempt += 1) {
          expect((await guard.recordFailure(target(id), {})).locked).to.equal(false);
          expect((await guard.lockOf(target(id))).locked).to.equal(false);
        }
        const lock = await guard.recordFailure(target(id), { ip: '127.0.0.1' });
        expect(lock.locked).to.equal(true);
        const minutes = lock.locked ? (lock.until.getTime() - Date.now()) / 60_000 : 0;
        expect(minutes).to.be.within(14.9, 15.01);
        expect((await guard.lockOf(target(id))).locked).to.equal(true);
        const events = await db('audit_events').where({ type: 'account.locked' }).whereRaw(`data->>'submittedId' = ?`, [`${id.slice(0, 3)}*******${id.slice(-2)}`]);
        expect(events).to.have.length(1);
      });

      it('doubles each further lock and caps it at 24 hours', async () => {
        const guard = new BruteForceGuard(store(), audit, {
          failuresBeforeLock: 2,
          firstLockSeconds: 3600,
          maxLockSeconds: 86400,
          attemptsPerAddressPerMinute: 10,
        });
        const id = where === 'on Redis' ? '001099000003' : '001099000004';
        const lockMinutes: number[] = [];
        for (let round = 0; round < 7; round += 1) {
          await guard.recordFailure(target(id), {});
          const lock = await guard.recordFailure(target(id), {});
          lockMinutes.push(lock.locked ? Math.round((lock.until.getTime() - Date.now()) / 60_000) : 0);
        }
        expect(lockMinutes).to.deep.equal([60, 120, 240, 480, 960, 1440, 1440]);
      });

      it('forgets failures and past locks after a success', async () => {
        const guard = new BruteForceGuard(store(), audit);
        const id = where === 'on Redis' ? '001099000005' : '001099000006';
        for (let attempt = 1; attempt <= 4; attempt += 1) await guard.recordFailure(target(id), {});
        await guard.recordSuccess(target(id));
        for (let attempt = 1; attempt <= 4; attempt += 1) {
          expect((await guard.recordFailure(target(id), {})).locked).to.equal(false);
        }
      });

      it('locks exactly once when the fifth and sixth failures arrive together', async () => {
        const guard = new BruteForceGuard(store(), audit);
        const id = where === 'on Redis' ? '001099000007' : '001099000008';
        for (let attempt = 1; attempt <= 3; attempt += 1) await guard.recordFailure(target(id), {});
        const locks = await Promise.all([1, 2, 3].map(() => guard.recordFailure(target(id), {})));
        expect(locks.filter((lock) => lock.locked)).to.have.length(1);
      });

      it('allows an address its per-minute allowance and refuses the next attempt', async () => {
        const guard = new BruteForceGuard(store(), audit, {
          failuresBeforeLock: 5,
          firstLockSeconds: 900,
          maxLockSeconds: 86400,
          attemptsPerAddressPerMinute: 3,
        });
        const ip = where === 'on Redis' ? '203.0.113.7' : '203.0.113.8';
        expect(await Promise.all([1, 2, 3, 4].map(() => guard.allowAddress(ip)))).to.have.members([true, true, true, false]);
      });
    });
  });

  describe('the outbox', () => {
    it('keeps each message once per key, newest first, and filters by destination', async () => {
      const carry = outboxCarrier(db);
      const key = randomUUID();
      await carry({ channel: 'sms', destination: '+84900000002', subject: 'Mã xác nhận', body: '123456' }, key);
      await carry({ channel: 'sms', destination: '+84900000002', subject: 'Mã xác nhận', body: '123456' }, key);
      await carry({ channel: 'email', destination: 'an@example.vn', subject: 'Thông báo', body: 'x' }, randomUUID());
      const outbox = new OutboxNotifier(new NotificationQueue(db), db, () => Promise.resolve());
      const mine = await outbox.list({ destination: '+84900000002' });
      expect(mine, 'a repeated delivery is stored once').to.have.length(1);
      expect(mine[0]).to.include({ channel: 'sms', subject: 'Mã xác nhận', body: '123456' });
      expect((await outbox.list())[0]!.destination).to.equal('an@example.vn');
    });
  });
});

describe('password hashing under load', () => {
  const parameters = { memoryKiB: 19456, iterations: 2, parallelism: 1 };

  it('hashes with argon2id at the configured parameters', async () => {
    const hash = await new PasswordHasher(parameters).hash('correct horse battery');
    expect(hash).to.match(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  });

  it('refuses work beyond its queue with HashingOverloaded instead of piling it up', async () => {
    const hasher = new PasswordHasher(parameters, { concurrent: 1, queued: 2 });
    const hash = await hasher.hash('a password to check');
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => hasher.verify(hash, 'a password to check')));
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).to.have.length(3);
    for (const result of refused) expect((result).reason).to.be.instanceOf(HashingOverloaded);
    expect(results.filter((result) => result.status === 'fulfilled' && result.value === true)).to.have.length(3);
  });

  it('asks for a rehash when the parameters went up', async () => {
    const old = await new PasswordHasher(parameters).hash('some password here');
    expect(new PasswordHasher({ ...parameters, iterations: 3 }).needsRehash(old)).to.equal(true);
    expect(new PasswordHasher(parameters).needsRehash(old)).to.equal(false);
  });

  it('writes an otpauth URI an authenticator app can scan', () => {
    expect(totpUri('JBSWY3DPEHPK3PXP', '0791*******23')).to.match(/^otpauth:\/\/totp\/citizen-idp:0791.*secret=JBSWY3DPEHPK3PXP/);
  });
});
