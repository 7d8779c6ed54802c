// A refresh token and its grant in one PostgreSQL statement (src/oidc/models/request-reads.ts): within one
// request the provider's Grant lookup that follows is answered from that read, once; a write or a
// revocation of the grant in the request drops it; outside a request nothing is kept. And a value of
// an access token's length is never looked up as a refresh token (src/oidc/models/token-lengths.ts). Userinfo's
// account, registry record and grant in one statement (src/oidc/models/token-holder.ts).
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { AdapterPayload } from 'oidc-provider';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';
import { PostgresAccountStore } from '../../src/accounts/account-store-postgres.ts';
import { createAdapterClass } from '../../src/oidc/models/adapter.ts';
import { readTokenHolder, tokenHolderFromRow, type TokenHolderRow } from '../../src/oidc/models/token-holder.ts';
import { takeTokenHolderRow } from '../../src/oidc/models/request-reads.ts';
import { TokensAtRest } from '../../src/oidc/models/tokens-at-rest.ts';
import { RegistryRepository } from '../../src/registry/registry.ts';
import { DurableModelStore } from '../../src/oidc/models/durable-model-store.ts';
import { EphemeralModelStore } from '../../src/oidc/models/ephemeral-model-store.ts';
import { runInRequest } from '../../src/observability/request-context.ts';
import { bitsOfOpaqueRandomness, couldBeAccessToken, couldBeRefreshToken } from '../../src/oidc/models/token-lengths.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { MemoryEphemeralStore } from '../../src/storage/ephemeral-store-memory.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';

const newId = () => randomBytes(32).toString('base64url'); // 43 characters, as the provider makes them
const now = () => Math.floor(Date.now() / 1000);

describe('reads shared within a request', function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let db: Database;
  let durable: DurableModelStore;
  let Adapter: ReturnType<typeof createAdapterClass>;
  let grantReads = 0;
  let interactionReads = 0;
  const memory = new MemoryEphemeralStore();

  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    durable = new DurableModelStore(db);
    Adapter = createAdapterClass({
      ephemeral: new EphemeralModelStore(memory),
      durable,
      clients: { findMetadata: () => Promise.resolve(undefined) },
      tokens: new TokensAtRest(randomBytes(32)),
    });
    db.on('query', (query: { sql: string; bindings?: unknown[] }) => {
      if (query.bindings?.[0] === 'Grant') grantReads += 1;
    });
    const getItem = memory.getItem.bind(memory);
    memory.getItem = (key) => {
      if (key.startsWith('oidc:Interaction:')) interactionReads += 1;
      return getItem(key);
    };
  });
  after(async () => {
    await db?.destroy();
    await database?.drop();
  });

  async function issued(): Promise<{ grantId: string; tokenId: string; grant: AdapterPayload }> {
    const grantId = newId();
    const tokenId = newId();
    const grant = { jti: grantId, kind: 'Grant', iat: now(), exp: now() + 600, accountId: 'a', clientId: 'c' };
    await new Adapter('Grant').upsert(grantId, grant, 600);
    await new Adapter('RefreshToken').upsert(tokenId, { jti: tokenId, kind: 'RefreshToken', grantId, iat: now(), exp: now() + 600 }, 600);
    return { grantId, tokenId, grant };
  }

  it("answers the request's grant lookup from the refresh token's read, once", async () => {
    const { grantId, tokenId, grant } = await issued();
    await runInRequest('test', async () => {
      grantReads = 0;
      expect((await new Adapter('RefreshToken').find(tokenId))?.grantId).to.equal(grantId);
      expect(await new Adapter('Grant').find(grantId)).to.deep.equal(grant);
      expect(grantReads).to.equal(0);
      // A second lookup asks the store again.
      expect(await new Adapter('Grant').find(grantId)).to.deep.equal(grant);
      expect(grantReads).to.equal(1);
    });
  });

  it('does not answer from the read once the grant was revoked in the request', async () => {
    const { grantId, tokenId } = await issued();
    await runInRequest('test', async () => {
      await new Adapter('RefreshToken').find(tokenId);
      await new Adapter('Grant').destroy(grantId);
      expect(await new Adapter('Grant').find(grantId)).to.equal(undefined);
    });
    const other = await issued();
    await runInRequest('test', async () => {
      await new Adapter('RefreshToken').find(other.tokenId);
      await new Adapter('RefreshToken').revokeByGrantId(other.grantId);
      grantReads = 0;
      await new Adapter('Grant').find(other.grantId);
      expect(grantReads).to.equal(1);
    });
  });

  it('tells of a grant that is gone, and keeps nothing outside a request', async () => {
    const { grantId, tokenId } = await issued();
    await durable.destroy('Grant', grantId);
    await runInRequest('test', async () => {
      expect(await new Adapter('RefreshToken').find(tokenId)).to.not.equal(undefined);
      grantReads = 0;
      expect(await new Adapter('Grant').find(grantId)).to.equal(undefined);
      expect(grantReads).to.equal(0);
    });
    const live = await issued();
    await new Adapter('RefreshToken').find(live.tokenId);
    grantReads = 0;
    expect(await new Adapter('Grant').find(live.grantId)).to.not.equal(undefined);
    expect(grantReads).to.equal(1);
  });

  it('never looks up a value of the access tokens’ length as a refresh token', async () => {
    const accessLength = Math.ceil(bitsOfOpaqueRandomness({} as never, { kind: 'AccessToken' }) / 6);
    const refreshLength = Math.ceil(bitsOfOpaqueRandomness({} as never, { kind: 'RefreshToken' }) / 6);
    expect(accessLength).to.not.equal(refreshLength);
    expect(couldBeRefreshToken('x'.repeat(refreshLength))).to.equal(true);
    expect(couldBeRefreshToken('x'.repeat(accessLength))).to.equal(false);
    // Even a row stored under such an id is not found as a refresh token.
    const id = 'y'.repeat(accessLength);
    await durable.upsert('RefreshToken', id, { jti: id, kind: 'RefreshToken' }, 600);
    expect(await new Adapter('RefreshToken').find(id)).to.equal(undefined);
  });

  it('never looks up a value of the client-credentials tokens’ length as an access or refresh token; still looks up the old length', () => {
    const accessLength = Math.ceil(bitsOfOpaqueRandomness({} as never, { kind: 'AccessToken' }) / 6);
    const clientCredentialsLength = Math.ceil(bitsOfOpaqueRandomness({} as never, { kind: 'ClientCredentials' }) / 6);
    expect(clientCredentialsLength).to.not.equal(accessLength);
    expect(couldBeAccessToken('x'.repeat(clientCredentialsLength))).to.equal(false);
    expect(couldBeRefreshToken('x'.repeat(clientCredentialsLength))).to.equal(false);
    // Issued before the rule, client-credentials tokens had the access tokens' length: an access token's lookup still happens.
    expect(couldBeAccessToken('x'.repeat(accessLength))).to.equal(true);
  });

  describe('the account behind a token, with its registry record and grant (token-holder.ts)', () => {
    const citizen = DEMO_CITIZENS[0]!;
    let accountId: string;
    let statements = 0;
    const count = () => statements++;

    before(async () => {
      await new RegistryRepository(db).upsert(citizen.record);
      const account = await new PostgresAccountStore(db).enrol({
        nationalId: citizen.record.nationalId,
        level: 1,
        passwordHash: 'not-a-hash',
        totpSecretSealed: null,
        phoneNumber: null,
        phoneNumberVerified: false,
        email: null,
        emailVerified: false,
      });
      accountId = account.id;
      db.on('query', count);
    });
    after(() => db.off('query', count));

    it('reads the account, its record and the grant in one statement; the grant lookup then asks nothing', async () => {
      const { grantId, grant } = await issued();
      await runInRequest('test', async () => {
        statements = 0;
        const holder = await readTokenHolder(db, accountId, grantId);
        expect(statements).to.equal(1);
        expect(holder?.account).to.include({ id: accountId, nationalId: citizen.record.nationalId, status: 'active' });
        // The record as the registry repository gives it, dates as text and addresses as objects.
        expect(holder?.record).to.deep.equal(await new RegistryRepository(db).findByNationalId(citizen.record.nationalId));
        expect(holder?.record?.birthDate).to.equal(citizen.record.birthDate);
        grantReads = 0;
        expect(await new Adapter('Grant').find(grantId)).to.deep.equal(grant);
        expect(grantReads).to.equal(0);
      });
    });

    it("reads a refresh token's account and record with it, once per request, as they are at that request", async () => {
      const grantId = newId();
      const tokenId = newId();
      await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', iat: now(), exp: now() + 600, accountId, clientId: 'c' }, 600);
      await new Adapter('RefreshToken').upsert(tokenId, { jti: tokenId, kind: 'RefreshToken', grantId, accountId, iat: now(), exp: now() + 600 }, 600);
      await runInRequest('test', async () => {
        statements = 0;
        await new Adapter('RefreshToken').find(tokenId);
        expect(statements).to.equal(1);
        const row = takeTokenHolderRow(accountId) as TokenHolderRow;
        expect(tokenHolderFromRow(row)).to.deep.equal(await readTokenHolder(db, accountId));
        expect(takeTokenHolderRow(accountId), 'taken once').to.equal(undefined);
      });
      // The next request reads it again: a lock made between requests is what it sees.
      await db('accounts').where({ id: accountId }).update({ status: 'locked' });
      try {
        await runInRequest('test', async () => {
          await new Adapter('RefreshToken').find(tokenId);
          expect(tokenHolderFromRow(takeTokenHolderRow(accountId) as TokenHolderRow).account.status).to.equal('locked');
        });
      } finally {
        await db('accounts').where({ id: accountId }).update({ status: 'active' });
      }
      // Outside a request nothing is kept.
      await new Adapter('RefreshToken').find(tokenId);
      expect(takeTokenHolderRow(accountId)).to.equal(undefined);
    });

    it('tells of a grant that is gone or expired, and of a holder the mirror has no record of', async () => {
      const { grantId } = await issued();
      await durable.destroy('Grant', grantId);
      const expired = newId();
      await db('oidc_models').insert({ model: 'Grant', id: expired, payload: JSON.stringify({ jti: expired, kind: 'Grant' }), expires_at: new Date(Date.now() - 1000) });
      await runInRequest('test', async () => {
        await readTokenHolder(db, accountId, grantId);
        await readTokenHolder(db, accountId, expired);
        grantReads = 0;
        expect(await new Adapter('Grant').find(grantId)).to.equal(undefined);
        expect(await new Adapter('Grant').find(expired)).to.equal(undefined);
        expect(grantReads).to.equal(0);
      });
      await db('accounts').where({ id: accountId }).update({ status: 'locked' });
      await db.raw('ALTER TABLE accounts DROP CONSTRAINT accounts_national_id_foreign');
      try {
        await db('registry_records').where({ national_id: citizen.record.nationalId }).delete();
        const holder = await readTokenHolder(db, accountId);
        expect(holder?.account.status).to.equal('locked');
        expect(holder?.record).to.equal(undefined);
      } finally {
        await new RegistryRepository(db).upsert(citizen.record);
        await db.raw('ALTER TABLE accounts ADD CONSTRAINT accounts_national_id_foreign FOREIGN KEY (national_id) REFERENCES registry_records (national_id)');
        await db('accounts').where({ id: accountId }).update({ status: 'active' });
      }
    });

    it('still reads once a migration added a column to accounts and registry_records (a prepared statement of jsonb rows)', async () => {
      // PostgreSQL refuses a prepared SELECT * whose table gained a column (src/storage/prepared.ts).
      for (let read = 0; read < 4; read += 1) expect((await readTokenHolder(db, accountId))?.account.id).to.equal(accountId);
      await db.raw('ALTER TABLE accounts ADD COLUMN rolling_deploy_probe text');
      await db.raw('ALTER TABLE registry_records ADD COLUMN rolling_deploy_probe text');
      try {
        for (let read = 0; read < 4; read += 1) {
          const holder = await readTokenHolder(db, accountId);
          expect(holder?.account.nationalId).to.equal(citizen.record.nationalId);
          expect(holder?.record?.nationalId).to.equal(citizen.record.nationalId);
        }
      } finally {
        await db.raw('ALTER TABLE accounts DROP COLUMN rolling_deploy_probe');
        await db.raw('ALTER TABLE registry_records DROP COLUMN rolling_deploy_probe');
      }
    });

    it('asks nothing for an id that is no account id, and finds nobody for an unknown one', async () => {
      statements = 0;
      expect(await readTokenHolder(db, "x' OR 1=1 --")).to.equal(undefined);
      expect(statements).to.equal(0);
      expect(await readTokenHolder(db, '00000000-0000-4000-8000-000000000000')).to.equal(undefined);
      expect(statements).to.equal(1);
    });
  });

  describe("the request's Interaction, read once", () => {
    const interaction = (id: string, extra: Record<string, unknown> = {}) => ({ jti: id, kind: 'Interaction', iat: now(), exp: now() + 600, params: { client_id: 'c' }, ...extra });

    it('reads it once per request, a fresh copy each time, and what the request wrote is what it reads next', async () => {
      const id = newId();
      await new Adapter('Interaction').upsert(id, interaction(id), 600);
      await runInRequest('test', async () => {
        interactionReads = 0;
        const first = await new Adapter('Interaction').find(id);
        (first!.params as Record<string, unknown>).client_id = 'changed by the caller';
        const second = await new Adapter('Interaction').find(id);
        expect(second).to.deep.equal(interaction(id, { iat: second!.iat, exp: second!.exp }));
        expect(interactionReads).to.equal(1);
        await new Adapter('Interaction').upsert(id, interaction(id, { result: { login: { accountId: 'a' } } }), 600);
        expect((await new Adapter('Interaction').find(id))?.result).to.deep.equal({ login: { accountId: 'a' } });
        expect(interactionReads).to.equal(1);
      });
      // Another request reads the store, and sees the write.
      await runInRequest('other', async () => {
        interactionReads = 0;
        expect((await new Adapter('Interaction').find(id))?.result).to.deep.equal({ login: { accountId: 'a' } });
        expect(interactionReads).to.equal(1);
      });
    });

    it('does not keep it past the request, nor outside one, and destroys it with the indexes the read named', async () => {
      const id = newId();
      const grantId = newId();
      await new Adapter('Interaction').upsert(id, interaction(id, { grantId }), 600);
      interactionReads = 0;
      await new Adapter('Interaction').find(id);
      await new Adapter('Interaction').find(id);
      expect(interactionReads, 'outside a request every find reads').to.equal(2);
      expect(await memory.setMembers(`oidc:grant:{${grantId}}`)).to.deep.equal([`oidc:Interaction:{${id}}`]);
      await runInRequest('test', async () => {
        interactionReads = 0;
        await new Adapter('Interaction').find(id);
        await new Adapter('Interaction').destroy(id);
        expect(interactionReads, 'destroy asks nothing more').to.equal(1);
        expect(await new Adapter('Interaction').find(id)).to.equal(undefined);
      });
      expect(await memory.setMembers(`oidc:grant:{${grantId}}`)).to.deep.equal([]);
      expect(await new Adapter('Interaction').find(id)).to.equal(undefined);
    });
  });
});
