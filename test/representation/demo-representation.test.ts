// The acting-for-others demo data (docs/design.md "Demo data", docs/representation.md "Demo data"):
// exactly as the contract says, and seeding again changes nothing.
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { seedDemoData } from '../../src/admin/demo-data.ts';
import { checkNationalId } from '../../src/registry/national-id.ts';
import { DEMO_CHILD } from '../../src/representation/demo-representation.ts';

describe('the acting-for-others demo data', function () {
  this.timeout(60_000);
  let world: RunningServer;

  before(async () => {
    world = await startTestServer({ today: () => '2026-12-08' });
  });

  after(async () => {
    await world?.close();
  });

  const snapshot = async () => {
    const db = world.server.container.db;
    return {
      organisations: await db('business_organisations').select('enterprise_code', 'name', 'status').orderBy('enterprise_code'),
      representatives: await db('business_representatives').select('enterprise_code', 'national_id', 'title').orderBy('national_id'),
      accounts: await db('organisation_accounts').count<{ count: string }[]>('* as count'),
      authorisations: await db('organisation_authorisations').select('grantee_national_id', 'roles', 'revoked_at', 'declined_at'),
      child: await db('registry_records').where({ national_id: '001321000888' }).first<Record<string, unknown>>('full_name', 'gender', 'birth_date', 'father_national_id', 'place_of_origin'),
      childAccounts: await db('accounts').where({ national_id: '001321000888' }).count<{ count: string }[]>('* as count'),
      clients: await db('clients').whereIn('client_id', ['demo-portal', 'demo-tax', 'demo-spa', 'demo-bank']).select('client_id', 'approved_authorization_details_types').orderBy('client_id'),
    };
  };

  it('is as the contract says, and the directory sees it', async () => {
    const found = await snapshot();
    expect(found.organisations).to.deep.equal([{ enterprise_code: '0109999999', name: 'Công ty TNHH Dịch vụ Số An Phát', status: 'active' }]);
    expect(found.representatives).to.deep.equal([{ enterprise_code: '0109999999', national_id: '001099012345', title: 'Giám đốc' }]);
    expect(found.accounts[0]!.count).to.equal('1');
    expect(found.authorisations).to.deep.equal([{ grantee_national_id: '048203000777', roles: ['tax'], revoked_at: null, declined_at: null }]);
    expect(found.child).to.deep.include({ full_name: 'Nguyễn Minh Châu', gender: 'female', father_national_id: '001099012345', place_of_origin: 'Hà Nội' });
    expect(found.childAccounts[0]!.count).to.equal('0');
    expect(checkNationalId(DEMO_CHILD.nationalId, DEMO_CHILD.birthDate, DEMO_CHILD.gender), 'a valid ID number for a girl born 2021').to.equal(undefined);
    expect(found.clients.map((row: { client_id: string; approved_authorization_details_types: string[] }) => [row.client_id, row.approved_authorization_details_types])).to.deep.equal([
      ['demo-bank', []],
      ['demo-portal', ['urn:vn:eid:representation']],
      ['demo-spa', []],
      ['demo-tax', ['urn:vn:eid:representation']],
    ]);
    const directory = world.server.container.representation;
    const an = await directory.partiesFor({ nationalId: '001099012345', level: 2 }, { partyKinds: ['organisation', 'child'], roles: ['tax'] });
    expect(an.map((party) => party.name)).to.deep.equal(['Công ty TNHH Dịch vụ Số An Phát', 'Nguyễn Minh Châu']);
    const khoa = await directory.partiesFor({ nationalId: '048203000777', level: 2 }, { partyKinds: ['organisation'], roles: ['customs'] });
    expect(khoa).to.deep.equal([]);
  });

  it('seeds again to the same rows', async () => {
    const before = await snapshot();
    await seedDemoData(world.server.container);
    expect(await snapshot()).to.deep.equal(before);
  });
});
