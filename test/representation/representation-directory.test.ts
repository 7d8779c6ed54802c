// Whom a citizen may act for, computed from the registers on a real PostgreSQL: legal representatives
// and authorisations (roles, periods, declined, revoked, the organisation's status) and children under
// 14 by the registry's parent and guardian columns, on a day the test chooses.
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { RegistryRepository } from '../../src/registry/registry.ts';
import { PostgresAccountStore } from '../../src/accounts/account-store-postgres.ts';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';
import { birthday, holdsRoles, RepresentationDirectory } from '../../src/representation/representation.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';

const AN = '001099012345';
const KHOA = '048203000777';
const CHAU = '001321000888';
const CODE = '0109999999';

describe('representation directory', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let db: Database;
  let today = '2026-12-08';
  let directory: RepresentationDirectory;
  let anAccount: string;

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    const registry = new RegistryRepository(db);
    const accounts = new PostgresAccountStore(db);
    for (const { record } of DEMO_CITIZENS) await registry.upsert(record);
    const an = DEMO_CITIZENS[0]!.record;
    await registry.upsert({ ...an, nationalId: CHAU, fullName: 'Nguyễn Minh Châu', gender: 'female', birthDate: '2021-06-01', contactPhone: null });
    await db('registry_records').where({ national_id: CHAU }).update({ father_national_id: AN });
    anAccount = (await accounts.enrol({ nationalId: AN, level: 2, passwordHash: 'x', totpSecretSealed: null, phoneNumber: null, phoneNumberVerified: false, email: null, emailVerified: false })).id;
    await db('business_organisations').insert({ enterprise_code: CODE, name: 'Công ty TNHH Dịch vụ Số An Phát', status: 'active', founded_on: '2020-01-02', head_office: 'Hà Nội' });
    await db('business_representatives').insert({ enterprise_code: CODE, national_id: AN, title: 'Giám đốc' });
    directory = new RepresentationDirectory(db, { today: () => today });
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  beforeEach(async function () {
    today = '2026-12-08';
    await db('organisation_authorisations').del();
    await db('organisation_accounts').del();
    await db('business_organisations').where({ enterprise_code: CODE }).update({ status: 'active' });
  });

  const both = { partyKinds: ['organisation', 'child'] as const, roles: [] };

  it('offers a legal representative nothing until the organisation’s account is activated, then every role', async function () {
    expect((await directory.partiesFor({ nationalId: AN, level: 2 }, both)).map((p) => p.kind)).to.deep.equal(['child']);
    await db('organisation_accounts').insert({ enterprise_code: CODE, activated_by: anAccount });
    const parties = await directory.partiesFor({ nationalId: AN, level: 2 }, { partyKinds: ['organisation'], roles: ['customs'] });
    expect(parties).to.deep.equal([
      { kind: 'organisation', enterpriseCode: CODE, name: 'Công ty TNHH Dịch vụ Số An Phát', nameEn: null, roles: ['all'], basis: { kind: 'legal_representative', title: 'Giám đốc' } },
    ]);
  });

  it('offers a grantee the organisation for the roles granted, within the period, until declined or revoked', async function () {
    await db('organisation_accounts').insert({ enterprise_code: CODE, activated_by: anAccount });
    const [grant] = await db('organisation_authorisations')
      .insert({ enterprise_code: CODE, grantee_national_id: KHOA, roles: ['tax'], valid_from: '2026-12-01', valid_until: '2026-12-31', granted_by: anAccount })
      .returning<{ id: string }[]>('id');
    const khoa = { nationalId: KHOA, level: 2 as const };
    expect(await directory.partiesFor(khoa, { partyKinds: ['organisation'], roles: ['tax'] })).to.have.length(1);
    expect(await directory.partiesFor(khoa, { partyKinds: ['organisation'], roles: ['customs'] })).to.deep.equal([]);
    expect(await directory.recheck(khoa, { kind: 'organisation', enterpriseCode: CODE }, ['tax'])).to.include({ enterpriseCode: CODE });
    today = '2027-01-01';
    expect(await directory.recheck(khoa, { kind: 'organisation', enterpriseCode: CODE }, ['tax'])).to.equal(undefined);
    today = '2026-12-08';
    await db('organisation_authorisations').where({ id: grant!.id }).update({ revoked_at: db.fn.now(), revoked_by: anAccount });
    expect(await directory.recheck(khoa, { kind: 'organisation', enterpriseCode: CODE }, ['tax'])).to.equal(undefined);
    expect(await directory.partiesFor({ nationalId: KHOA, level: 1 }, both)).to.deep.equal([]);
  });

  it('offers no one an organisation the register no longer shows active', async function () {
    await db('organisation_accounts').insert({ enterprise_code: CODE, activated_by: anAccount });
    await db('business_organisations').where({ enterprise_code: CODE }).update({ status: 'dissolved' });
    expect(await directory.recheck({ nationalId: AN, level: 2 }, { kind: 'organisation', enterpriseCode: CODE }, [])).to.equal(undefined);
  });

  it('offers a parent their child until the day before the 14th birthday', async function () {
    const an = { nationalId: AN, level: 2 as const };
    today = '2035-05-31';
    expect(await directory.recheck(an, { kind: 'child', nationalId: CHAU }, [])).to.deep.include({ name: 'Nguyễn Minh Châu', relation: 'father', birthDate: '2021-06-01' });
    today = '2035-06-01';
    expect(await directory.recheck(an, { kind: 'child', nationalId: CHAU }, [])).to.equal(undefined);
    expect(await directory.partiesFor({ nationalId: KHOA, level: 2 }, both)).to.deep.equal([]);
  });

  it('counts roles and birthdays as the rules say', function () {
    expect(holdsRoles(['all'], ['tax', 'customs'])).to.equal(true);
    expect(holdsRoles(['tax'], ['tax', 'customs'])).to.equal(false);
    expect(birthday('2012-02-29', 14)).to.equal('2026-02-28');
    expect(birthday('2012-02-29', 16)).to.equal('2028-02-29');
  });
});
