// docs/examples/representation-portal.ts, the guide's runnable example (docs/representation.md), run
// against a test server: what it asks, what it checks, and how it learns that the right has ended.
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser } from '../support/browserless.ts';
import { AN, CHAU, KHOA, ORGANISATION, walk } from '../support/representation.ts';
import { checkRepresentation, discover, finishSignIn, startSignIn, stillActing } from '../../docs/examples/representation-portal.ts';

describe('docs/examples/representation-portal.ts', function () {
  this.timeout(120_000);
  let world: RunningServer;

  before(async () => {
    world = await startTestServer();
  });

  after(async () => {
    await world?.close();
  });

  it('signs An in for his company and for Châu, and checks what came back', async () => {
    const config = await discover(world.issuer, 'demo-portal', 'demo-portal-secret');
    const forCompany = await startSignIn(config, 'http://localhost:4000/callback', { party_kinds: ['organisation', 'child'], roles: ['tax'] });
    const company = await walk(new Browser(world.issuer), forCompany.url, AN, `organisation:${ORGANISATION.code}`);
    const signedIn = await finishSignIn(config, company.callback, forCompany.pending);
    expect(signedIn.actingFor).to.deep.equal({ kind: 'organisation', enterpriseCode: ORGANISATION.code, name: ORGANISATION.name, roles: ['tax'] });

    const forChild = await startSignIn(config, 'http://localhost:4000/callback', { party_kinds: ['child'] });
    const child = await walk(new Browser(world.issuer), forChild.url, AN, `child:${CHAU.id}`);
    const asParent = await finishSignIn(config, child.callback, forChild.pending);
    expect(asParent.actingFor).to.include({ kind: 'child', name: CHAU.name, birthdate: CHAU.birthdate, nationalId: CHAU.id });
    expect(asParent.sub).to.equal(signedIn.sub);
  });

  it('learns at the next refresh that Khoa’s authorisation was revoked', async () => {
    const config = await discover(world.issuer, 'demo-portal', 'demo-portal-secret');
    const started = await startSignIn(config, 'http://localhost:4000/callback', { party_kinds: ['organisation'], roles: ['tax'] });
    const walked = await walk(new Browser(world.issuer), started.url, KHOA, `organisation:${ORGANISATION.code}`);
    const { refreshToken } = await finishSignIn(config, walked.callback, started.pending);
    expect(refreshToken).to.be.a('string');
    const db = world.server.container.db;
    await db('organisation_authorisations').where({ grantee_national_id: KHOA.id }).update({ revoked_at: db.fn.now() });
    expect(await stillActing(config, refreshToken!)).to.equal(false);
  });

  it('refuses what was not asked for or disagrees with the ID token', () => {
    const organisation = [{ type: 'urn:vn:eid:representation', party: { kind: 'organisation', enterprise_code: '0109999999', name: 'X' }, roles: ['tax'] }];
    expect(() => checkRepresentation(organisation, organisation, { party_kinds: ['child'] })).to.throw(/not asked for/);
    expect(() => checkRepresentation(organisation, organisation, { party_kinds: ['organisation'], roles: ['customs'] })).to.throw(/customs/);
    expect(() => checkRepresentation(organisation, [], { party_kinds: ['organisation'], roles: ['tax'] })).to.throw(/disagree/);
    expect(() => checkRepresentation([], [], { party_kinds: ['organisation'] })).to.throw(/one urn:vn:eid:representation/);
  });
});
