// `npm run cli -- keys …` run as a real process against a fresh database: listing with states and
// dates, rotating, an emergency revocation, rotating the key-encryption key, and clear refusals
// (exit status 2, nothing written) for an unknown kid, a missing reason, a bad algorithm or key.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { KeyEncryption } from '../../src/storage/key-encryption.ts';
import { KeyRepository } from '../../src/oidc/keys/keys.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { cliEnvironment, runCli } from '../support/cli.ts';


const linesOf = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

describe('the keys commands', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let db: Database;
  let keyEncryptionKey: Buffer;
  let environ: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(['keys', ...args], { ...environ, ...extra });
  const snapshot = async () => ({
    keys: await db('signing_keys').orderBy('kid').select('*'),
    audit: Number((await db('audit_events').count<{ n: string }[]>({ n: '*' }))[0]!.n),
  });

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    keyEncryptionKey = randomBytes(32);
    environ = {
      ...cliEnvironment(database.url, keyEncryptionKey),
      KEYS_PUBLISH_AHEAD_SECONDS: '3600',
    };
    expect((await runCli(['migrate'], environ)).code).to.equal(0);
    await new KeyRepository(db, new KeyEncryption(keyEncryptionKey)).ensureKeys();
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  it('lists every signing key with its state and dates', async function () {
    const result = await cli(['list']);
    expect(result.code, result.stderr).to.equal(0);
    const lines = linesOf(result.stdout);
    expect(lines).to.have.length(4);
    for (const alg of ['ES256', 'PS256', 'RS256', 'EdDSA']) {
      expect(lines.some((line) => line.includes(` ${alg} `) && / active /.test(line)), alg).to.equal(true);
    }
    expect(lines[0]).to.match(/created \d{4}-\d\d-\d\dT.*signs-from \d{4}-.*signs-until -/);
  });

  it('rotates one algorithm: a successor published now that signs after the publish-ahead period, audited', async function () {
    const result = await cli(['rotate', '--alg', 'ES256']);
    expect(result.code, result.stderr).to.equal(0);
    const es256 = linesOf(result.stdout).filter((line) => line.includes(' ES256 '));
    expect(es256).to.have.length(2);
    const next = es256.find((line) => / next /.test(line))!;
    const signsFrom = new Date(/signs-from (\S+)/.exec(next)![1]!);
    expect(signsFrom.getTime() - Date.now()).to.be.within(3_500_000, 3_600_000);
    const current = es256.find((line) => / active /.test(line))!;
    expect(/signs-until (\S+)/.exec(current)![1]).to.equal(signsFrom.toISOString());
    const events = await db('audit_events').where({ type: 'admin.action' }).whereRaw(`data->>'action' = 'signing-key.rotated'`);
    expect(events).to.have.length(1);
    expect((events[0] as { actor: string }).actor).to.match(/^cli:/);
  });

  it('refuses an unknown kid, a missing reason and an unknown algorithm with status 2, writing nothing', async function () {
    const before = await snapshot();
    const unknown = await cli(['revoke', 'no-such-kid', '--reason', 'test']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include('no signing key "no-such-kid"');
    // A thumbprint may begin with "-" (base64url): it is still read as the kid, not as an option.
    const dashed = await cli(['revoke', '-rno-such-kid', '--reason', 'test']);
    expect(dashed.code).to.equal(2);
    expect(dashed.stderr).to.include('no signing key "-rno-such-kid"');
    const [kid] = linesOf((await cli(['list'])).stdout)[0]!.split(/\s+/);
    const noReason = await cli(['revoke', kid!]);
    expect(noReason.code).to.equal(2);
    expect(noReason.stderr).to.include('--reason is required');
    const badAlg = await cli(['rotate', '--alg', 'HS256']);
    expect(badAlg.code).to.equal(2);
    expect(badAlg.stderr).to.include('unknown algorithm "HS256"');
    const noKid = await cli(['revoke', '--reason', 'x']);
    expect(noKid.code).to.equal(2);
    const unknownCommand = await cli(['burn']);
    expect(unknownCommand.code).to.equal(2);
    expect(await snapshot()).to.deep.equal(before);
  });

  it('revokes a key: listed as revoked with the reason, a new key signs at once, audited', async function () {
    const active = linesOf((await cli(['list'])).stdout).find((line) => line.includes(' ES256 ') && / active /.test(line))!;
    const kid = active.split(/\s+/)[0]!;
    const result = await cli(['revoke', kid, '--reason', 'key material leaked']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('revoked').and.include('key material leaked');
    const listed = linesOf((await cli(['list'])).stdout).filter((line) => line.includes(' ES256 '));
    expect(listed.find((line) => line.startsWith(kid))).to.match(/ revoked /);
    expect(listed.filter((line) => / active /.test(line))).to.have.length(1);
    const again = await cli(['revoke', kid, '--reason', 'again']);
    expect(again.code).to.equal(2);
    expect(again.stderr).to.include('already revoked');
    const events = await db('audit_events').whereRaw(`data->>'action' = 'signing-key.revoked'`);
    expect(events).to.have.length(1);
  });

  it('rotates the key-encryption key: refuses a missing or malformed new key, then re-seals everything under it', async function () {
    const before = await snapshot();
    const missing = await cli(['rotate-kek']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include('NEW_KEY_ENCRYPTION_KEY is required');
    const malformed = await cli(['rotate-kek'], { NEW_KEY_ENCRYPTION_KEY: 'short' });
    expect(malformed.code).to.equal(2);
    const same = await cli(['rotate-kek'], { NEW_KEY_ENCRYPTION_KEY: keyEncryptionKey.toString('base64') });
    expect(same.code).to.equal(2);
    expect(await snapshot()).to.deep.equal(before);

    const newKey = randomBytes(32);
    const result = await cli(['rotate-kek'], { NEW_KEY_ENCRYPTION_KEY: newKey.toString('hex') });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('signing_keys.private_jwk_sealed:').and.include('restart every instance');
    const keys = await new KeyRepository(db, new KeyEncryption(newKey)).signingJwks();
    expect(keys.keys.length).to.be.at.least(4);
    const stale = await new KeyRepository(db, new KeyEncryption(keyEncryptionKey)).signingJwks().then(
      () => 'opened',
      () => 'refused',
    );
    expect(stale).to.equal('refused');
    const listed = await cli(['list'], { KEY_ENCRYPTION_KEY: newKey.toString('base64') });
    expect(listed.code, listed.stderr).to.equal(0);
  });
});
