// Approving a relying party for acting for others (docs/representation.md "Approving a portal"): the
// authorization-details type urn:vn:eid:representation is added by one administrator and approved by a
// second (four eyes, as sensitive scopes); withdrawn at once; and the provider follows on the next request.
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { FIRST_ADMIN, SECOND_ADMIN, adminCall, adminSession, auditEvents, type AdminCredentials } from '../support/admin.ts';

const TYPE = 'urn:vn:eid:representation';
type TypesView = { clientId: string; approved: string[]; pending: string[]; pendingApproval?: { id: string; types: string[] } | null };

describe('admin API: authorization-details types (four eyes)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let first: AdminCredentials;
  let second: AdminCredentials;

  before(async () => {
    world = await startTestServer();
    first = await adminSession(world, FIRST_ADMIN, ['client_admin']);
    second = await adminSession(world, SECOND_ADMIN, ['client_admin']);
  });

  after(async () => {
    await world?.close();
  });

  /** Where demo-spa's authorization request with a representation ends: its error, or the sign-in page. */
  async function spaAsks(): Promise<string> {
    const url = new URL(`${world.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: 'demo-spa',
      response_type: 'code',
      redirect_uri: 'http://localhost:4002/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      authorization_details: JSON.stringify([{ type: TYPE, party_kinds: ['child'] }]),
    }).toString();
    const answer = await fetch(url, { redirect: 'manual' });
    const location = new URL(answer.headers.get('location')!, world.issuer);
    return location.searchParams.get('error') ?? location.pathname;
  }

  it('shows the demo clients as approved', async () => {
    const answer = await adminCall<TypesView>(world, first, 'GET', '/api/clients/demo-portal/authorization-details-types');
    expect(answer.status).to.equal(200);
    expect(answer.body.approved).to.deep.equal([TYPE]);
  });

  it('approves a type only with a second administrator, and withdraws it at once', async () => {
    expect(await spaAsks()).to.equal('invalid_authorization_details');
    const requested = await adminCall<TypesView>(world, first, 'PUT', '/api/clients/demo-spa/authorization-details-types', { types: [TYPE] });
    expect(requested.status).to.equal(200);
    expect(requested.body.approved).to.deep.equal([]);
    expect(requested.body.pending).to.deep.equal([TYPE]);
    const id = requested.body.pendingApproval!.id;
    expect(await spaAsks(), 'still refused while pending').to.equal('invalid_authorization_details');

    const own = await adminCall(world, first, 'POST', `/api/approvals/${id}/approve`);
    expect(own.status).to.equal(403);
    expect(JSON.stringify(own.body)).to.include('four_eyes');

    const approved = await adminCall(world, second, 'POST', `/api/approvals/${id}/approve`);
    expect(approved.status).to.equal(200);
    const now = await adminCall<TypesView>(world, first, 'GET', '/api/clients/demo-spa/authorization-details-types');
    expect(now.body).to.deep.include({ approved: [TYPE], pending: [] });
    expect(await spaAsks(), 'the sign-in starts').to.match(/^\/interaction\//);

    const withdrawn = await adminCall<TypesView>(world, first, 'PUT', '/api/clients/demo-spa/authorization-details-types', { types: [] });
    expect(withdrawn.body.approved).to.deep.equal([]);
    expect(await spaAsks()).to.equal('invalid_authorization_details');
    const events = await auditEvents(world, 'admin.action');
    expect(events.map((event) => event.data.action)).to.include.members(['client.details_types_requested', 'client.details_types_withdrawn']);
  });

  it('refuses unknown types and service clients with a 400, and unknown clients with a 404', async () => {
    const unknown = await adminCall(world, first, 'PUT', '/api/clients/demo-spa/authorization-details-types', { types: ['urn:example:payment'] });
    expect(unknown.status).to.equal(400);
    const service = await adminCall(world, first, 'PUT', '/api/clients/demo-service/authorization-details-types', { types: [TYPE] });
    expect(service.status).to.equal(400);
    const missing = await adminCall(world, first, 'PUT', '/api/clients/no-such-client/authorization-details-types', { types: [TYPE] });
    expect(missing.status).to.equal(404);
  });
});
