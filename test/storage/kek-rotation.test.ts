// Rotation of the key-encryption key on a seeded server's database: every sealed value (signing and
// cookie keys, client secrets current and retired, TOTP secrets) opens under the new key only
// afterwards; one value that opens under neither key, or a sealed column the rotation does not know,
// leaves everything as it was; an instance started with the new key serves.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { KeyEncryption } from '../../src/storage/key-encryption.ts';
import { KekRotationError, rotateKeyEncryptionKey, SEALED_COLUMNS } from '../../src/storage/kek-rotation.ts';
import { buildServer } from '../../src/server.ts';
import { freePort, startTestServer, testConfig, TEST_REDIS_URL, type RunningServer } from '../support/world.ts';

interface SealedValue {
  readonly name: string;
  readonly context: string;
  readonly sealed: string;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('rotating the key-encryption key', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let oldKey: Buffer;

  /** Every sealed value in the database, with the context it was sealed under. */
  async function sealedValues(): Promise<SealedValue[]> {
    const { db } = world.server.container;
    const values: SealedValue[] = [];
    for (const column of SEALED_COLUMNS) {
      const rows: Record<string, string | null>[] = await db(column.table)
        .whereNotNull(column.column)
        .orderBy(column.id)
        .select(column.id, column.column, ...(column.with ?? []));
      for (const row of rows) {
        values.push({ name: `${column.table}.${column.column}:${row[column.id]}`, context: column.context(row), sealed: row[column.column]! });
      }
    }
    return values;
  }

  const opens = (key: Buffer, value: SealedValue): boolean => {
    try {
      new KeyEncryption(key).open(value.sealed, value.context);
      return true;
    } catch {
      return false;
    }
  };

  beforeEach(async function () {
    world = await startTestServer();
    oldKey = world.config.keyEncryptionKey!;
    // A client secret in its overlap after a rotation: sealed like the current one.
    await world.server.container.db('clients')
      .where({ client_id: 'demo-portal' })
      .update({ retired_secret_sealed: world.server.container.sealer.seal('the-old-portal-secret', 'client:demo-portal') });
  });

  afterEach(async function () {
    await world?.close();
  });

  it('seals every stored secret again under the new key, and none opens under the old one any more', async function () {
    const before = await sealedValues();
    for (const column of SEALED_COLUMNS) {
      expect(before.some((value) => value.name.startsWith(`${column.table}.${column.column}:`)), `the seed has a value in ${column.table}.${column.column}`).to.equal(true);
    }
    const plaintexts = new Map(before.map((value) => [value.name, new KeyEncryption(oldKey).open(value.sealed, value.context)]));

    const newKey = randomBytes(32);
    const summary = await rotateKeyEncryptionKey(world.server.container.db, oldKey, newKey);
    const resealed = Object.values(summary.columns).reduce((total, counts) => total + counts.resealed, 0);
    expect(resealed).to.equal(before.length);

    const after = await sealedValues();
    expect(after.map((value) => value.name)).to.deep.equal(before.map((value) => value.name));
    for (const value of after) {
      expect(opens(oldKey, value), `${value.name} under the old key`).to.equal(false);
      expect(new KeyEncryption(newKey).open(value.sealed, value.context), value.name).to.equal(plaintexts.get(value.name));
    }

    // An instance started with the new key loads its keys and clients from this database and serves.
    const port = await freePort();
    const config = testConfig({
      port,
      adminPort: await freePort(),
      databaseUrl: world.database.url,
      redisUrl: TEST_REDIS_URL,
      overrides: { keyEncryptionKey: newKey.toString('base64'), pairwiseKey: world.config.pairwiseKey!.toString('base64') },
    });
    const restarted = await buildServer(config);
    try {
      const portal = await restarted.container.provider.Client.find('demo-portal');
      expect(portal?.clientSecret).to.equal('demo-portal-secret');
      expect((await restarted.container.signingKeys.providerJwks()).jwks.keys.length).to.be.at.least(4);
    } finally {
      await restarted.close();
    }
  });

  it('changes nothing when one value opens under neither key', async function () {
    const { db } = world.server.container;
    const stranger = new KeyEncryption(randomBytes(32));
    const account = await db('accounts').whereNotNull('totp_secret_sealed').first<{ id: string; national_id: string }>('id', 'national_id');
    await db('accounts').where({ id: account.id }).update({ totp_secret_sealed: stranger.seal('JBSWY3DPEHPK3PXP', `totp:${account.national_id}`) });
    const before = await sealedValues();

    const error = await rejection(rotateKeyEncryptionKey(db, oldKey, randomBytes(32)));
    expect(error).to.be.instanceOf(KekRotationError);
    expect(error.message).to.include('accounts.totp_secret_sealed').and.include(account.id).and.include('nothing was changed');
    // The values before it in the order (signing keys, cookie keys, clients) were not left re-sealed either.
    expect(await sealedValues()).to.deep.equal(before);
  });

  it('refuses while a sealed column exists that it does not know, changing nothing', async function () {
    const { db } = world.server.container;
    await db.raw('ALTER TABLE clients ADD COLUMN recovery_sealed text');
    const before = await sealedValues();
    const error = await rejection(rotateKeyEncryptionKey(db, oldKey, randomBytes(32)));
    expect(error).to.be.instanceOf(KekRotationError);
    expect(error.message).to.include('clients.recovery_sealed');
    expect(await sealedValues()).to.deep.equal(before);
    await db.raw('ALTER TABLE clients DROP COLUMN recovery_sealed');
  });

  it('run again during a rolling restart, re-seals what is still under the old key and keeps what is under the new one', async function () {
    const { db } = world.server.container;
    const newKey = randomBytes(32);
    // An instance already on the new key (with the old one as previous) seals a new TOTP secret.
    const rolled = new KeyEncryption(newKey, [oldKey]);
    const account = await db('accounts').whereNotNull('totp_secret_sealed').first<{ id: string; national_id: string }>('id', 'national_id');
    const context = `totp:${account.national_id}`;
    await db('accounts').where({ id: account.id }).update({ totp_secret_sealed: rolled.seal('NEWSECRETNEWSECR', context) });
    // It opens the old key's values as well as its own.
    const old = (await sealedValues()).find((value) => value.name.startsWith('cookie_keys.'))!;
    expect(rolled.open(old.sealed, old.context)).to.be.a('string');

    const summary = await rotateKeyEncryptionKey(db, oldKey, newKey);
    expect(summary.columns['accounts.totp_secret_sealed']!.alreadyNew).to.equal(1);
    for (const value of await sealedValues()) {
      expect(new KeyEncryption(newKey).open(value.sealed, value.context), value.name).to.be.a('string');
    }
    const row = await db('accounts').where({ id: account.id }).first<{ totp_secret_sealed: string }>('totp_secret_sealed');
    expect(new KeyEncryption(newKey).open(row.totp_secret_sealed, context)).to.equal('NEWSECRETNEWSECR');
  });

  it('refuses a new key equal to the current one', async function () {
    const error = await rejection(rotateKeyEncryptionKey(world.server.container.db, oldKey, Buffer.from(oldKey)));
    expect(error).to.be.instanceOf(KekRotationError);
  });
});
