// The scope chip_verification through the admin API (docs/integrating-a-bank.md "Verifying a chip
// card"): sensitive, so a bank registered with it waits for a second client administrator; until then
// the bank gets no client_credentials token, and from the approval on it does — at once, the client's
// grants following its approved scopes. Only bank clients may hold it.
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, FIRST_ADMIN, SECOND_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { discoverBank, dpopKey, signingKey } from '../support/bank.ts';
import { CHIP_VERIFICATION_RESOURCE } from '../../src/oidc/chip-tokens.ts';

type Json = Record<string, unknown>;
const CONTACTS = [{ name: 'Phòng CNTT Ngân hàng', email: 'it@bank.example.vn' }];

describe('admin API: approving chip_verification for a bank (four eyes)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let admin: AdminCredentials & { kind: 'session' };
  let second: AdminCredentials & { kind: 'session' };

  before(async function () {
    world = await startTestServer();
    admin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
    second = await adminSession(world, SECOND_ADMIN, ['client_admin']);
  });
  after(() => world?.close());

  const call = <T = Json>(method: string, path: string, body?: unknown, who: AdminCredentials = admin) => adminCall<T>(world, who, method, path, body);

  it('waits for a second administrator; the bank gets a chip token only once approved', async function () {
    const key = await signingKey('ES256', 'agri-bank-1');
    const created = await call<{ client: { approvedScopes: string[]; pendingScopes: string[] }; pendingApproval: { id: string; scopes: string[] } }>('POST', '/api/clients', {
      clientId: 'agri-bank',
      name: 'Agri bank',
      profile: 'bank',
      approvedScopes: ['openid', 'chip_verification'],
      redirectUris: ['https://agri-bank.example.vn/callback'],
      jwks: { keys: [key.publicJwk] },
      contacts: CONTACTS,
      agreementReference: 'HD-2026/NH-07',
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.client.approvedScopes).to.deep.equal(['openid']);
    expect(created.body.pendingApproval.scopes).to.deep.equal(['chip_verification']);

    const bank = await discoverBank(world.issuer, 'agri-bank', key);
    const proofKey = await dpopKey();
    const dpop = client.getDPoPHandle(bank, {
      privateKey: proofKey.privateKey,
      publicKey: await crypto.subtle.importKey('jwk', proofKey.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']),
    });
    const ask = () => client.clientCredentialsGrant(bank, { scope: 'chip_verification', resource: CHIP_VERIFICATION_RESOURCE }, { DPoP: dpop });
    let early: { error?: string } | undefined;
    await ask().catch((error: unknown) => (early = error as { error?: string }));
    expect(early?.error, 'no client_credentials grant before the approval').to.equal('invalid_request');

    expect((await call('POST', `/api/approvals/${created.body.pendingApproval.id}/approve`)).status, 'not by the requester').to.equal(403);
    expect((await call('POST', `/api/approvals/${created.body.pendingApproval.id}/approve`, undefined, second)).status).to.equal(200);
    const tokens = await ask();
    expect(tokens.scope).to.equal('chip_verification');
    expect(tokens.token_type.toLowerCase()).to.equal('dpop');
  });

  it('refuses chip_verification for a portal (400), naming the scope', async function () {
    const answer = await call('POST', '/api/clients', {
      clientId: 'chip-portal',
      name: 'Portal',
      profile: 'portal',
      approvedScopes: ['openid', 'chip_verification'],
      redirectUris: ['https://portal.example.vn/callback'],
      contacts: CONTACTS,
      agreementReference: 'TT-2026/01',
    });
    expect(answer.status).to.equal(400);
    expect(JSON.stringify(answer.body)).to.include('chip_verification').and.to.include('bank clients only');
  });
});
