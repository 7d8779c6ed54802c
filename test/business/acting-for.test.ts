// What the mirror's changes mean for acting for an organisation: the RepresentationDirectory
// (src/representation/) reads the mirror at every request, so a representative replaced by the change
// feed or dropped by an import, and a suspended or dissolved organisation, are refused at the next check.
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { RegistryRepository } from '../../src/registry/registry.ts';
import { PostgresAccountStore } from '../../src/accounts/account-store-postgres.ts';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';
import { RepresentationDirectory } from '../../src/representation/representation.ts';
import { applyBusinessChangeFeed } from '../../src/business/business-change-feed.ts';
import { importBusinessRegister } from '../../src/business/business-import.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { TODAY, csvOf, organisation } from './fixtures.ts';

const AN = '001099012345';
const BICH = '079185000123';
const CODE = '0109999999';

describe('the business register mirror and acting for an organisation', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let db: Database;
  let directory: RepresentationDirectory;
  let serial = 0;

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    const registry = new RegistryRepository(db);
    for (const { record } of DEMO_CITIZENS) await registry.upsert(record);
    const anAccount = (await new PostgresAccountStore(db).enrol({ nationalId: AN, level: 2, passwordHash: 'x', totpSecretSealed: null, phoneNumber: null, phoneNumberVerified: false, email: null, emailVerified: false })).id;
    await importBusinessRegister(db, Readable.from([Buffer.from(csvOf([organisation()]))]), { format: 'csv', today: TODAY });
    await db('organisation_accounts').insert({ enterprise_code: CODE, activated_by: anAccount });
    directory = new RepresentationDirectory(db, { today: () => TODAY });
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  const feed = async (type: string, fields: Record<string, string> = {}) => {
    const summary = await applyBusinessChangeFeed(
      Readable.from([JSON.stringify({ id: `acting-${++serial}`, type, enterprise_code: CODE, occurred_on: '2026-11-01', ...fields })]),
      { db, audit: new AuditLog(db) },
      { today: TODAY },
    );
    expect(summary.applied, JSON.stringify(summary.problems)).to.equal(1);
  };
  const actsFor = async (nationalId: string) => (await directory.recheck({ nationalId, level: 2 }, { kind: 'organisation', enterpriseCode: CODE }, ['tax'])) !== undefined;

  it('follows the feed: a replaced representative, a suspension, a reactivation, a dissolution', async function () {
    expect(await actsFor(AN)).to.equal(true);
    await feed('representative_replaced', { previous_national_id: AN, national_id: BICH, title: 'Giám đốc' });
    expect(await actsFor(AN)).to.equal(false);
    expect(await actsFor(BICH)).to.equal(true);
    await feed('suspended');
    expect(await actsFor(BICH)).to.equal(false);
    await feed('reactivated');
    expect(await actsFor(BICH)).to.equal(true);
    await feed('dissolved');
    expect(await actsFor(BICH)).to.equal(false);
  });

  it('follows an import that names other representatives', async function () {
    await importBusinessRegister(db, Readable.from([Buffer.from(csvOf([organisation({ representatives: `${AN}:Giám đốc` })]))]), { format: 'csv', today: TODAY });
    expect(await actsFor(AN)).to.equal(true);
    expect(await actsFor(BICH)).to.equal(false);
  });
});
