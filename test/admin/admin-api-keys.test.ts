// The admin API's signing-key endpoints: listing (client administrators and auditors), rotating and
// the emergency revoke (client administrators only), validation, 404/409 refusals that change
// nothing, the audit events, and the change reaching the public JWKS.
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, auditEvents, serviceToken, FIRST_ADMIN, SECOND_ADMIN, type AdminCredentials } from '../support/admin.ts';

interface KeyBody {
  kid: string;
  alg: string;
  state: string;
  activeFrom: string;
  retiredAt: string | null;
  revokedReason: string | null;
  publicJwk: Record<string, unknown>;
}

describe('admin API: signing keys', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let keyAdmin: AdminCredentials & { kind: 'session' };
  let auditor: AdminCredentials & { kind: 'session' };

  before(async function () {
    world = await startTestServer({ overrides: { keys: { pollSeconds: 1, publishAheadSeconds: 600 } } });
    keyAdmin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
    auditor = await adminSession(world, SECOND_ADMIN, ['auditor']);
  });

  after(async function () {
    await world?.close();
  });

  const jwksKids = async () => ((await (await fetch(`${world.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
  const snapshot = () => world.server.container.db('signing_keys').orderBy('kid').select('*');

  it('lists the keys with states and dates, public parts only, to a client administrator and an auditor', async function () {
    for (const caller of [keyAdmin, auditor]) {
      const answer = await adminCall<{ keys: KeyBody[] }>(world, caller, 'GET', '/api/keys');
      expect(answer.status).to.equal(200);
      expect(answer.body.keys.map((key) => key.alg).sort()).to.deep.equal(['ES256', 'EdDSA', 'PS256', 'RS256']);
      for (const key of answer.body.keys) {
        expect(key.state).to.equal('active');
        expect(key.publicJwk).to.not.have.property('d');
        expect(key.retiredAt).to.equal(null);
      }
    }
  });

  it('refuses an auditor and an automation token a rotation, audits the refusals, changes nothing', async function () {
    const before = await snapshot();
    const denied = await adminCall(world, auditor, 'POST', '/api/keys/rotate', {});
    expect(denied.status).to.equal(403);
    const robot = await serviceToken(world, ['admin:clients']);
    expect((await adminCall(world, robot, 'POST', '/api/keys/rotate', {})).status).to.equal(403);
    expect((await adminCall(world, robot, 'GET', '/api/keys')).status).to.equal(403);
    expect(await snapshot()).to.deep.equal(before);
    const refusals = await auditEvents(world, 'admin.denied', `account:${auditor.accountId}`);
    expect(refusals.some((event) => event.data.operation === 'rotateSigningKeys')).to.equal(true);
  });

  it('refuses a bad algorithm and an unknown field with 400', async function () {
    expect((await adminCall(world, keyAdmin, 'POST', '/api/keys/rotate', { algorithms: ['HS256'] })).status).to.equal(400);
    expect((await adminCall(world, keyAdmin, 'POST', '/api/keys/rotate', { when: 'now' })).status).to.equal(400);
    expect((await adminCall(world, keyAdmin, 'POST', '/api/keys/x/revoke', {})).status).to.equal(400);
  });

  it('rotates: the successor is published at once, signs after the publish-ahead period, and the rotation is audited', async function () {
    const answer = await adminCall<{ keys: KeyBody[] }>(world, keyAdmin, 'POST', '/api/keys/rotate', { algorithms: ['ES256'] });
    expect(answer.status).to.equal(200);
    const es256 = answer.body.keys.filter((key) => key.alg === 'ES256');
    const next = es256.find((key) => key.state === 'next')!;
    const current = es256.find((key) => key.state === 'active')!;
    expect(Date.parse(next.activeFrom) - Date.now()).to.be.within(590_000, 600_000);
    expect(current.retiredAt).to.equal(next.activeFrom);
    await world.server.container.signingKeyWatch.refresh();
    expect(await jwksKids()).to.include.members([current.kid, next.kid]);
    const events = await auditEvents(world, 'admin.action', `account:${keyAdmin.accountId}`);
    expect(events.find((event) => event.data.action === 'signing-key.rotated')?.data).to.include({ kid: next.kid, replaces: current.kid });
  });

  it('revokes in an emergency: 404 for an unknown kid, then the key leaves the JWKS, 409 when revoked again', async function () {
    const before = await snapshot();
    const unknown = await adminCall(world, keyAdmin, 'POST', '/api/keys/no-such-kid/revoke', { reason: 'test' });
    expect(unknown.status).to.equal(404);
    expect(await snapshot()).to.deep.equal(before);

    const listed = await adminCall<{ keys: KeyBody[] }>(world, keyAdmin, 'GET', '/api/keys');
    const signing = listed.body.keys.find((key) => key.alg === 'ES256' && key.state === 'active')!;
    const revoked = await adminCall<{ key: KeyBody }>(world, keyAdmin, 'POST', `/api/keys/${signing.kid}/revoke`, { reason: 'HSM export detected' });
    expect(revoked.status).to.equal(200);
    expect(revoked.body.key).to.include({ kid: signing.kid, state: 'revoked', revokedReason: 'HSM export detected' });
    await world.server.container.signingKeyWatch.refresh();
    expect(await jwksKids()).to.not.include(signing.kid);

    const again = await adminCall(world, keyAdmin, 'POST', `/api/keys/${signing.kid}/revoke`, { reason: 'again' });
    expect(again.status).to.equal(409);
    const events = await auditEvents(world, 'admin.action', `account:${keyAdmin.accountId}`);
    expect(events.filter((event) => event.data.action === 'signing-key.revoked')).to.have.length(1);
  });
});
