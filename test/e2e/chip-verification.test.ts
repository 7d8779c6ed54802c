// Chip verification for banks (issue 18 item 2, docs/integrating-a-bank.md "Verifying a chip card"): a
// bank's DPoP-bound client_credentials token with the scope chip_verification, a chip read posted as
// JSON, and a signed result that names each check — verified for a genuine test chip, refused with the
// right check failed for a tampered, foreign, expired, outdated or dead person's chip.
import { expect } from 'chai';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { dpopKey, dpopProof } from '../support/bank.ts';
import { chipBank, chipOf, postChip, testAuthority, type ChipBank } from '../support/chip.ts';
import { chipRequestBody, newDocumentSigner, newTestAuthority } from '../../src/chip/test-chip.ts';
import { encodeDg13, parseDg13 } from '../../src/chip/dg13.ts';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';
import { cardExpiry } from '../../src/registry/registry.ts';
import * as client from 'openid-client';
import { CHIP_VERIFICATION_RESOURCE } from '../../src/oidc/chip-tokens.ts';

// Lê Minh Khoa's card (issued 2021-04-01 at 17) is valid until 2028-11-20; Nguyễn Văn An's (issued at
// 22) expired on his 25th birthday, 2024-03-15 (src/registry/registry.ts cardExpiry).
const KHOA = '048203000777';
const AN = '001099012345';
const TUNG = '036080001111'; // deceased in the demo registry

interface Check {
  check: string;
  passed: boolean;
}

describe('chip verification for banks (POST /chip/verifications)', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let bank: ChipBank;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  before(async function () {
    world = await startTestServer();
    bank = await chipBank(world, 'vault-bank');
    jwks = createRemoteJWKSet(new URL('/jwks', world.issuer));
  });
  after(async function () {
    await world?.close();
  });

  /** Posts a chip, expects 200, verifies the signed result with the published JWKS and returns its claims. */
  async function verified(body: unknown): Promise<JWTPayload & { result: string; checks: Check[]; national_id?: string; txn: string; document?: Record<string, unknown> }> {
    const answer = await postChip(world, bank, body);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    const jwt = answer.body.verification as string;
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks, { issuer: world.issuer, audience: 'vault-bank', typ: 'chip-verification+jwt' });
    expect(protectedHeader.kid).to.be.a('string');
    return payload as never;
  }
  const failed = (checks: Check[]) => checks.filter((check) => !check.passed).map((check) => check.check);

  it('verifies a genuine test chip: every check passed, signed with the published keys', async function () {
    const chip = await chipOf(world, KHOA);
    const claims = await verified(chipRequestBody(chip));
    expect(claims.result).to.equal('verified');
    expect(failed(claims.checks)).to.deep.equal([]);
    expect(claims.checks.map((check) => check.check)).to.include.members([
      'document_signer_trusted',
      'document_signer_in_validity_period',
      'document_signer_key_usage',
      'sod_signature_valid',
      'dg1_hash_matches',
      'dg2_hash_matches',
      'dg13_hash_matches',
      'mrz_check_digits_valid',
      'registry_record_found',
      'citizen_alive',
      'card_is_current',
      'name_matches_registry',
      'birth_date_matches_registry',
    ]);
    expect(claims.national_id).to.equal(KHOA);
    expect(claims.txn).to.match(/^[0-9a-f-]{36}$/);
    expect(claims.jti).to.be.a('string');
    expect(claims.iat).to.be.a('number');
    expect(claims.document).to.deep.include({ type: 'idcard', document_number: KHOA, date_of_issuance: '2021-04-01', method: 'chip', txn: claims.txn });
  });

  it('verifies without DG2 (the face image stays with the bank; its hash is in the result)', async function () {
    const chip = await chipOf(world, KHOA);
    const claims = await verified(chipRequestBody(chip, { withDg2: false }));
    expect(claims.result).to.equal('verified');
    expect(claims.checks.map((check) => check.check)).not.to.include('dg2_hash_matches');
    expect(claims.data_groups).to.deep.equal([1, 13]);
    expect((claims.dg2_hash as { alg: string }).alg).to.equal('sha256');
  });

  it('refuses a tampered DG1 (dg1_hash_matches), and asks the registry nothing', async function () {
    const chip = await chipOf(world, KHOA);
    const dg1 = Buffer.from(chip.dg1);
    // The MRZ's name line: LE<<MINH<KHOA → another given name of the same length.
    const at = dg1.indexOf('MINH<KHOA');
    expect(at).to.be.greaterThan(0);
    dg1.write('MINH<KHOI', at, 'latin1');
    const claims = await verified({ ...chipRequestBody(chip), dg1: dg1.toString('base64') });
    expect(claims.result).to.equal('refused');
    expect(failed(claims.checks)).to.deep.equal(['dg1_hash_matches']);
    expect(claims.checks.map((check) => check.check)).not.to.include('registry_record_found');
    expect(claims).not.to.have.property('document');
  });

  it('refuses a tampered DG13 (dg13_hash_matches)', async function () {
    const chip = await chipOf(world, KHOA);
    const dg13 = encodeDg13({ ...parseDg13(chip.dg13), birthDate: '2003-11-21' });
    const claims = await verified({ ...chipRequestBody(chip), dg13: dg13.toString('base64') });
    expect(claims.result).to.equal('refused');
    expect(failed(claims.checks)).to.include('dg13_hash_matches');
    expect(failed(claims.checks)).not.to.include('sod_signature_valid');
  });

  it('refuses a SOD signed under an unknown country signing CA (document_signer_trusted)', async function () {
    const foreign = await newTestAuthority('not trusted');
    const chip = await chipOf(world, KHOA, foreign.documentSigner);
    const claims = await verified(chipRequestBody(chip));
    expect(claims.result).to.equal('refused');
    expect(failed(claims.checks)).to.deep.equal(['document_signer_trusted']);
  });

  it('refuses a chip whose document signer certificate has expired (document_signer_in_validity_period)', async function () {
    const { csca } = await testAuthority(world);
    const day = 24 * 3600 * 1000;
    const expired = await newDocumentSigner(csca, { notBefore: new Date(Date.now() - 400 * day), notAfter: new Date(Date.now() - day) });
    const claims = await verified(chipRequestBody(await chipOf(world, KHOA, expired)));
    expect(claims.result).to.equal('refused');
    expect(failed(claims.checks)).to.deep.equal(['document_signer_in_validity_period']);
  });

  it('refuses a card that is no longer the current one (card_is_current)', async function () {
    const { registry, registryGateway } = world.server.container;
    const template = DEMO_CITIZENS[1]!.record;
    const nationalId = '079185009876';
    const mai = { ...template, nationalId, fullName: 'Trần Thị Mai', givenName: 'Mai' };
    await registry.upsert({ ...mai, idCardIssueDate: '2024-01-10', idCardExpiryDate: cardExpiry(mai.birthDate, '2024-01-10') });
    const oldCard = await chipOf(world, nationalId);
    // A new card was issued since (the old one reported lost): the registry's issue date moved on.
    await registry.upsert({ ...mai, idCardIssueDate: '2025-09-01', idCardExpiryDate: cardExpiry(mai.birthDate, '2025-09-01') });
    registryGateway.forget(nationalId);
    const claims = await verified(chipRequestBody(oldCard));
    expect(claims.result).to.equal('refused');
    expect(failed(claims.checks)).to.deep.equal(['card_is_current']);
    // The new card verifies.
    expect((await verified(chipRequestBody(await chipOf(world, nationalId)))).result).to.equal('verified');
  });

  it('refuses an expired card (card_not_expired), and asks the registry nothing', async function () {
    const claims = await verified(chipRequestBody(await chipOf(world, AN)));
    expect(claims.result).to.equal('refused');
    expect(failed(claims.checks)).to.deep.equal(['card_not_expired']);
    expect(claims.checks.map((check) => check.check)).not.to.include('registry_record_found');
  });

  it("refuses a dead citizen's card (citizen_alive)", async function () {
    const claims = await verified(chipRequestBody(await chipOf(world, TUNG)));
    expect(claims.result).to.equal('refused');
    expect(failed(claims.checks)).to.deep.equal(['citizen_alive']);
    expect(claims.national_id).to.equal(TUNG);
  });

  it("shows in the citizen's data-access history that the bank checked their card", async function () {
    const account = await world.server.container.accounts.findByNationalId(KHOA);
    const history = await world.server.container.accessHistory.page(account!.id, { page: 0, pageSize: 50 });
    const chips = history.entries.filter((entry) => entry.kind === 'chip.verified');
    expect(chips.length).to.be.greaterThan(0);
    expect(chips[0]).to.deep.include({ clientId: 'vault-bank' });
    expect(chips.map((entry) => entry.items[0])).to.include('verified');
  });

  describe('malformed input: 400 (413 when too large), nothing verified', function () {
    let body: Record<string, string>;
    before(async function () {
      body = chipRequestBody(await chipOf(world, KHOA));
    });
    const cases: [string, () => unknown, number, RegExp][] = [
      ['bad base64', () => ({ ...body, dg1: 'not base64!' }), 400, /dg1: not base64/],
      ['a SOD that is not DER', () => ({ ...body, sod: Buffer.from('hello world').toString('base64') }), 400, /SOD: not DER/],
      ['a DG13 that is not DER', () => ({ ...body, dg13: Buffer.from([0x30, 0x99]).toString('base64') }), 400, /DG13/],
      ['a missing SOD', () => ({ dg1: body.dg1, dg13: body.dg13 }), 400, /sod: required/],
      ['an unknown field', () => ({ ...body, dg3: body.dg1 }), 400, /unknown field "dg3"/],
      ['not JSON', () => '{"sod": ', 400, /not JSON/],
      ['a NUL byte', () => ({ ...body, dg1: `${body.dg1}\u0000` }), 400, /./],
      ['a huge body', () => ({ ...body, dg2: 'A'.repeat(300 * 1024) }), 413, /larger than/],
    ];
    for (const [name, make, status, message] of cases) {
      it(`refuses ${name} with ${status}`, async function () {
        const answer = await postChip(world, bank, make());
        expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
        expect(String(answer.body.error_description), JSON.stringify(answer.body)).to.match(message);
        expect(answer.body).not.to.have.property('verification');
      });
    }
  });

  describe('who may call it', function () {
    let body: Record<string, string>;
    before(async function () {
      body = chipRequestBody(await chipOf(world, KHOA));
    });
    const url = () => `${world.issuer}/chip/verifications`;

    it('refuses a request without a token (401)', async function () {
      const answer = await postChip(world, bank, body, { 'content-type': 'application/json' });
      expect(answer.status).to.equal(401);
      expect(answer.challenge).to.match(/^DPoP /);
    });

    it('refuses the DPoP-bound token as a bearer token, without a proof, with a replayed proof or another key (401)', async function () {
      const bearer = await postChip(world, bank, body, { 'content-type': 'application/json', authorization: `Bearer ${bank.accessToken}` });
      expect(bearer.body.error_description).to.equal('a DPoP-bound access token presented as a bearer token');
      const unproven = await postChip(world, bank, body, { 'content-type': 'application/json', authorization: `DPoP ${bank.accessToken}` });
      expect(unproven.body.error_description).to.equal('no DPoP proof');
      const proof = await dpopProof(bank.key, 'POST', url(), { accessToken: bank.accessToken });
      const first = await postChip(world, bank, body, { 'content-type': 'application/json', authorization: `DPoP ${bank.accessToken}`, dpop: proof });
      expect(first.status).to.equal(200);
      const replay = await postChip(world, bank, body, { 'content-type': 'application/json', authorization: `DPoP ${bank.accessToken}`, dpop: proof });
      expect(replay.body.error_description).to.equal('DPoP proof: jti already used (a replay)');
      const stolen = await postChip(world, bank, body, {
        'content-type': 'application/json',
        authorization: `DPoP ${bank.accessToken}`,
        dpop: await dpopProof(await dpopKey(), 'POST', url(), { accessToken: bank.accessToken }),
      });
      expect(stolen.body.error_description).to.equal("the DPoP proof's key is not the access token's key (cnf.jkt)");
      for (const refused of [bearer, unproven, replay, stolen]) expect(refused.status).to.equal(401);
    });

    it('gives a bank not approved for chip_verification no token (no client_credentials grant)', async function () {
      let refusal: { error?: string; error_description?: string } | undefined;
      await chipBank(world, 'plain-bank', ['openid']).catch((error: unknown) => (refusal = error as typeof refusal));
      expect(refusal).to.deep.include({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
    });

    it('refuses the token of a bank whose approval was withdrawn since (403 insufficient_scope)', async function () {
      const other = await chipBank(world, 'withdrawn-bank');
      expect((await postChip(world, other, body)).status).to.equal(200);
      const { clients } = world.server.container;
      const record = await clients.find('withdrawn-bank');
      await clients.save({
        clientId: 'withdrawn-bank',
        name: record!.name,
        profile: 'bank',
        approvedScopes: ['openid'],
        redirectUris: ['http://127.0.0.1:4003/callback'],
        subjectType: 'public',
        jwks: record!.metadata.jwks as { keys: Record<string, unknown>[] },
      });
      const answer = await postChip(world, other, body);
      expect(answer.status).to.equal(403);
      expect(answer.body.error).to.equal('insufficient_scope');
    });

    it("refuses a service client's token: not DPoP-bound (401), and not a bank even when bound (403)", async function () {
      await world.server.container.clients.save({ clientId: 'chip-service', name: 'Service', profile: 'service', secret: 'a-service-secret-for-tests', approvedScopes: [] });
      const service = await client.discovery(new URL(world.issuer), 'chip-service', undefined, client.ClientSecretBasic('a-service-secret-for-tests'), {
        execute: [client.allowInsecureRequests],
      });
      const bearer = await client.clientCredentialsGrant(service, { scope: 'chip_verification', resource: CHIP_VERIFICATION_RESOURCE });
      const unbound = await postChip(world, bank, body, { 'content-type': 'application/json', authorization: `Bearer ${bearer.access_token}` });
      expect(unbound.status).to.equal(401);
      expect(unbound.body.error_description).to.equal('the access token is not DPoP-bound');

      const key = await dpopKey();
      const dpop = client.getDPoPHandle(service, {
        privateKey: key.privateKey,
        publicKey: await crypto.subtle.importKey('jwk', key.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']),
      });
      const bound = await client.clientCredentialsGrant(service, { scope: 'chip_verification', resource: CHIP_VERIFICATION_RESOURCE }, { DPoP: dpop });
      const answer = await postChip(world, { ...bank, key, accessToken: bound.access_token }, body);
      expect(answer.status).to.equal(403);
      expect(answer.body.error_description).to.equal('chip verification is for bank clients');
    });

    it('is not reachable with an ID token or any other token of the provider', async function () {
      const answer = await postChip(world, bank, body, { 'content-type': 'application/json', authorization: 'DPoP not-a-token-of-this-provider', dpop: 'x' });
      expect(answer.status).to.equal(401);
      expect(answer.body.error).to.equal('invalid_token');
    });
  });

  it('the result is typed chip-verification+jwt (never an ID token or access token)', async function () {
    const answer = await postChip(world, bank, chipRequestBody(await chipOf(world, KHOA)));
    expect(decodeProtectedHeader(answer.body.verification as string).typ).to.equal('chip-verification+jwt');
  });
});
