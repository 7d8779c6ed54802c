// Verified claims (OpenID Connect for Identity Assurance 1.0) end to end with openid-client: requested
// through the claims parameter, released in the ID token and userinfo to approved clients only, each
// constraint honoured or the element left out (never a weaker claim), malformed requests refused, the
// bank's FAPI 2.0 flow included, and every release in the audit trail and the citizen's history.
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser } from '../support/browserless.ts';
import { discoverBank, importPrivateJwk, levelTwoCitizen, type Citizen } from '../support/bank.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { DEMO_BANK_PRIVATE_JWK } from '../../src/demo/demo-bank-key.ts';

const AN = { id: '001099012345', password: 'An#Demo2026' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const TAX = { id: 'demo-tax', secret: 'demo-tax-secret', redirectUri: 'http://127.0.0.1:4001/callback' };
const BANK_REDIRECT = 'http://127.0.0.1:4003/callback';
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const TEN_YEARS = 10 * 365 * 24 * 3600;

/** A full verification request: every element the provider can give. */
const FULL_VERIFICATION = {
  trust_framework: null,
  assurance_level: null,
  time: null,
  evidence: [
    { type: { value: 'electronic_record' }, check_details: [{ check_method: null, check_id: null, time: null }], record: { type: null, source: { name: null, country_code: null } } },
    { type: { value: 'document' }, check_details: [{ check_method: null, time: null }], document_details: { type: null, document_number: null, date_of_issuance: null, date_of_expiry: null, issuer: { name: null, country_code: null } } },
  ],
};

type Json = Record<string, unknown>;

describe('verified claims (OpenID Connect for Identity Assurance 1.0)', function () {
  this.timeout(90_000);
  let world: RunningServer;

  before(async function () {
    world = await startTestServer();
  });
  after(() => world?.close());

  const portalConfig = (rp: typeof PORTAL) =>
    client.discovery(new URL(world.issuer), rp.id, undefined, client.ClientSecretBasic(rp.secret), { execute: [client.allowInsecureRequests] });

  /** A portal sign-in (password only, level 1 session) with the claims parameter; tokens and userinfo. */
  async function portalSignIn(who: { id: string; password: string }, claims: Json, options: { rp?: typeof PORTAL; scope?: string } = {}) {
    const rp = options.rp ?? PORTAL;
    const config = await portalConfig(rp);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: rp.redirectUri,
      scope: options.scope ?? 'openid profile national_id email',
      prompt: 'consent',
      claims: JSON.stringify(claims),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const browser = new Browser(world.issuer);
    const callback = await browser.signIn(url, who.id, who.password, { consent: true });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    const idToken = tokens.claims()! as Json;
    const userinfo = (await client.fetchUserInfo(config, tokens.access_token, idToken.sub as string)) as Json;
    return { idToken, userinfo, browser };
  }

  /** The raw authorization endpoint's answer to a claims parameter (no sign-in). */
  async function authorizeRaw(claims: string) {
    const config = await portalConfig(PORTAL);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: PORTAL.redirectUri,
      scope: 'openid',
      claims,
      state: 'x',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    return fetch(url, { redirect: 'manual' });
  }

  const registryRow = async (nationalId: string) => world.server.container.db('accounts').where({ national_id: nationalId }).first<{ id: string; created_at: Date; level_raised_at: Date | null }>();

  it('lists what it supports in discovery', async function () {
    const metadata = (await (await fetch(`${world.issuer}/.well-known/openid-configuration`)).json()) as Json;
    expect(metadata.claims_parameter_supported).to.equal(true);
    expect(metadata.verified_claims_supported).to.equal(true);
    expect(metadata.trust_frameworks_supported).to.deep.equal(['vn_eid']);
    expect(metadata.evidence_supported).to.deep.equal(['electronic_record', 'document']);
    expect(metadata.documents_supported).to.deep.equal(['idcard']);
    expect(metadata.documents_check_methods_supported).to.deep.equal(['vpip', 'vcrypt', 'pvp']);
    expect(metadata.electronic_records_supported).to.deep.equal(['population_register']);
    expect(metadata.claims_in_verified_claims_supported).to.include.members(['given_name', 'family_name', 'birthdate', 'national_id', 'address']);
    expect(metadata.claims_in_verified_claims_supported).to.not.include.members(['email', 'phone_number']);
    expect(metadata.claims_supported).to.include.members(['verified_claims', 'txn']);
  });

  it('gives a level-2 citizen exactly the verification asked for, in userinfo and the ID token, and audits it by txn', async function () {
    const row = await registryRow(AN.id);
    const { idToken, userinfo } = await portalSignIn(AN, {
      userinfo: { verified_claims: { verification: FULL_VERIFICATION, claims: { given_name: null, family_name: null, birthdate: null, email: null } } },
      id_token: { verified_claims: { verification: { trust_framework: null }, claims: { given_name: null } } },
    });
    const verified = userinfo.verified_claims as Json;
    expect(Object.keys(verified).sort()).to.deep.equal(['claims', 'verification']);
    // Only registry claims: the account's e-mail is never inside verified_claims.
    expect(verified.claims).to.deep.equal({ given_name: 'An', family_name: 'Nguyễn', birthdate: '1999-03-15' });
    const verification = verified.verification as Json;
    expect(verification.trust_framework).to.equal('vn_eid');
    expect(verification.assurance_level).to.equal('level_2');
    // An was enrolled at level 2 (the demo data): the level was reached when the account was made.
    expect(verification.time).to.match(ISO_TIME);
    expect(Date.parse(verification.time as string)).to.be.closeTo((row.level_raised_at ?? row.created_at).getTime(), 1000);
    const [record, document] = verification.evidence as Json[];
    const recordCheck = (record!.check_details as Json[])[0]!;
    expect(record).to.deep.equal({
      type: 'electronic_record',
      check_details: [{ check_method: 'data', check_id: userinfo.txn, time: recordCheck.time }],
      record: { type: 'population_register', source: { name: 'Cơ sở dữ liệu quốc gia về dân cư', country_code: 'VNM' } },
    });
    // The registry lookup of this very request.
    expect(Math.abs(Date.now() - Date.parse(recordCheck.time as string))).to.be.below(60_000);
    // In person (no method recorded: an older raise), never an officer's name; no card dates for a client not approved for them.
    expect(document).to.deep.equal({
      type: 'document',
      check_details: [
        { check_method: 'vpip', time: verification.time },
        { check_method: 'pvp', time: verification.time },
      ],
      document_details: { type: 'idcard', document_number: '099012345', issuer: { name: 'Cục Cảnh sát quản lý hành chính về trật tự xã hội', country_code: 'VNM' } },
    });
    expect(userinfo.txn).to.match(/^[0-9a-f-]{36}$/);
    expect(userinfo.email, 'not requested at the top level, not in the scope’s claims (no email yet)').to.equal(undefined);

    expect(idToken.verified_claims).to.deep.equal({ verification: { trust_framework: 'vn_eid' }, claims: { given_name: 'An' } });
    expect(idToken.txn).to.match(/^[0-9a-f-]{36}$/);
    expect(idToken.txn).to.not.equal(userinfo.txn);
    expect(idToken.given_name, 'a claim inside verified_claims is not also given outside unless asked').to.equal(undefined);

    const events = await world.server.container.db('audit_events').where({ type: 'claims.released', account_id: row.id, client_id: 'demo-portal' }).select('data');
    const released = events.map((event: { data: Json }) => event.data).find((data: Json) => (data.verifiedClaims as Json | undefined)?.txn === userinfo.txn);
    expect(released, 'the release is found by its txn').to.not.equal(undefined);
    expect(released!.claims).to.include.members(['verified_claims', 'given_name', 'family_name', 'birthdate']);
    expect(released!.verifiedClaims).to.deep.include({ assuranceLevel: 'level_2', claims: ['birthdate', 'family_name', 'given_name'] });
    const history = await world.server.container.accessHistory.page(row.id, { page: 0, pageSize: 50 });
    expect(history.entries.some((entry) => entry.kind === 'claims.released' && entry.items.includes('verified_claims'))).to.equal(true);
  });

  it('honours value, values and max_age when they can be met', async function () {
    const { userinfo } = await portalSignIn(AN, {
      userinfo: {
        verified_claims: {
          verification: {
            trust_framework: { values: ['eidas', 'vn_eid'] },
            assurance_level: { value: 'level_2' },
            time: { max_age: TEN_YEARS },
            evidence: [{ type: { value: 'document' }, check_details: [{ check_method: { value: 'vpip' } }], document_details: { type: { value: 'idcard' } } }],
          },
          claims: { given_name: { value: 'An' }, family_name: { value: 'Trần' } },
        },
      },
    });
    const verified = userinfo.verified_claims as Json;
    // family_name's value is not An's: that claim is left out, the element stays.
    expect(verified.claims).to.deep.equal({ given_name: 'An' });
    const verification = verified.verification as Json;
    expect(verification).to.deep.equal({
      trust_framework: 'vn_eid',
      assurance_level: 'level_2',
      time: verification.time,
      // Only the document matches the filter; only what was asked (and the required type) is shown.
      evidence: [{ type: 'document', check_details: [{ check_method: 'vpip' }], document_details: { type: 'idcard' } }],
    });
  });

  it('leaves the element out when a verification constraint cannot be met, never a false claim', async function () {
    // Bích's account is level 1: a level-2 assurance, a document, a foreign framework, a too-old verification.
    const { userinfo, idToken } = await portalSignIn(BICH, {
      userinfo: { verified_claims: { verification: { assurance_level: { value: 'level_2' } }, claims: { given_name: null } } },
      id_token: { verified_claims: { verification: { evidence: [{ type: { value: 'document' } }] }, claims: { given_name: null } } },
    });
    expect(userinfo).to.not.have.property('verified_claims');
    expect(userinfo).to.not.have.property('txn');
    expect(idToken).to.not.have.property('verified_claims');
    expect(userinfo.given_name, 'the profile scope still releases').to.equal('Bích');

    const other = await portalSignIn(AN, {
      userinfo: { verified_claims: { verification: { trust_framework: { value: 'eidas' } }, claims: { given_name: null } } },
      id_token: { verified_claims: { verification: { time: { max_age: 0 } }, claims: { given_name: null } } },
    });
    expect(other.userinfo).to.not.have.property('verified_claims');
    expect(other.idToken).to.not.have.property('verified_claims');
  });

  it('gives a level-1 citizen level_1, the register as evidence, and the account’s creation as its time', async function () {
    const row = await registryRow(BICH.id);
    const { userinfo } = await portalSignIn(BICH, { userinfo: { verified_claims: { verification: FULL_VERIFICATION, claims: { name: null, national_id: null } } } });
    const verified = userinfo.verified_claims as Json;
    expect(verified.claims).to.deep.equal({ name: 'Trần Thị Bích', national_id: BICH.id });
    const verification = verified.verification as Json;
    expect(verification.assurance_level).to.equal('level_1');
    expect(Date.parse(verification.time as string)).to.be.closeTo(row.created_at.getTime(), 1000);
    expect((verification.evidence as Json[]).map((item) => item.type)).to.deep.equal(['electronic_record']);
  });

  it('answers each entry of an array on its own', async function () {
    const { userinfo } = await portalSignIn(AN, {
      userinfo: {
        verified_claims: [
          { verification: { trust_framework: { value: 'eidas' } }, claims: { family_name: null } },
          { verification: { trust_framework: { value: 'vn_eid' }, assurance_level: null }, claims: { given_name: null } },
          // Nothing asked of the verification: only what a valid answer needs.
          { verification: {}, claims: { birthdate: null } },
        ],
      },
    });
    expect(userinfo.verified_claims).to.deep.equal([
      { verification: { trust_framework: 'vn_eid', assurance_level: 'level_2' }, claims: { given_name: 'An' } },
      { verification: { trust_framework: 'vn_eid' }, claims: { birthdate: '1999-03-15' } },
    ]);
  });

  it('gives a client not approved for verified claims none of them', async function () {
    const { userinfo, idToken } = await portalSignIn(
      AN,
      {
        userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { given_name: null } } },
        id_token: { verified_claims: { verification: { trust_framework: null }, claims: { given_name: null } } },
      },
      { rp: TAX, scope: 'openid profile' },
    );
    expect(userinfo).to.not.have.property('verified_claims');
    expect(userinfo).to.not.have.property('txn');
    expect(idToken).to.not.have.property('verified_claims');
    expect(userinfo.given_name).to.equal('An');
  });

  for (const [why, claims] of [
    ['verified_claims is not an object', { userinfo: { verified_claims: 'yes' } }],
    ['no claims inside', { userinfo: { verified_claims: { verification: { trust_framework: null }, claims: {} } } }],
    ['no verification', { id_token: { verified_claims: { claims: { given_name: null } } } }],
    ['an evidence filter without a type value', { userinfo: { verified_claims: { verification: { evidence: [{ type: { values: ['document'] } }] }, claims: { given_name: null } } } }],
    ['a max_age that is not a number', { userinfo: { verified_claims: { verification: { time: { max_age: 'old' } }, claims: { given_name: null } } } }],
    ['an empty array', { userinfo: { verified_claims: [] } }],
  ] as const) {
    it(`refuses a malformed request with invalid_request: ${why}`, async function () {
      const answer = await authorizeRaw(JSON.stringify(claims));
      expect(answer.status).to.equal(303);
      const location = new URL(answer.headers.get('location')!);
      expect(location.origin + location.pathname).to.equal(PORTAL.redirectUri);
      expect(location.searchParams.get('error')).to.equal('invalid_request');
      expect(location.searchParams.get('error_description')).to.match(/verified_claims/);
    });
  }

  describe('the bank (PAR, private_key_jwt, DPoP)', function () {
    let bank: client.Configuration;
    let citizen: Citizen;

    before(async function () {
      bank = await discoverBank(world.issuer, 'demo-bank', { privateKey: await importPrivateJwk(DEMO_BANK_PRIVATE_JWK), kid: DEMO_BANK_PRIVATE_JWK.kid });
      citizen = await levelTwoCitizen(world);
    });

    async function bankSignIn(claims: Json, who: Citizen = citizen) {
      const dpop = client.getDPoPHandle(bank, await client.randomDPoPKeyPair('ES256'));
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = await client.buildAuthorizationUrlWithPAR(
        bank,
        {
          redirect_uri: BANK_REDIRECT,
          scope: 'openid national_id identity_document',
          prompt: 'consent',
          claims: JSON.stringify(claims),
          state,
          nonce,
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        },
        { DPoP: dpop },
      );
      const browser = new Browser(world.issuer);
      const callback = await browser.signIn(url, who.id, who.password, { otp: () => currentTotp(who.secret), consent: true });
      const tokens = await client.authorizationCodeGrant(bank, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }, undefined, { DPoP: dpop });
      const idToken = tokens.claims()! as Json;
      const userinfo = (await client.fetchUserInfo(bank, tokens.access_token, idToken.sub as string, { DPoP: dpop })) as Json;
      return { idToken, userinfo };
    }

    it('gets the card as evidence, with its number and dates, in the ID token and userinfo', async function () {
      const request = {
        verification: { trust_framework: null, assurance_level: { value: 'level_2' }, evidence: [{ type: { value: 'document' }, check_details: null, document_details: null }] },
        claims: { national_id: null, family_name: null },
      };
      const { idToken, userinfo } = await bankSignIn({ id_token: { verified_claims: request }, userinfo: { verified_claims: request } });
      for (const verified of [idToken.verified_claims, userinfo.verified_claims] as Json[]) {
        // family_name is outside the requested scopes: asked inside verified_claims, it was consented one by one.
        expect(verified.claims).to.deep.equal({ national_id: citizen.id, family_name: 'Hoàng' });
        const [document] = (verified.verification as Json).evidence as Json[];
        const details = document!.document_details as Json;
        expect(details.type).to.equal('idcard');
        expect(details.document_number).to.equal(citizen.id.slice(-9));
        expect(details.date_of_issuance).to.equal('2021-04-01');
        expect(details.date_of_expiry).to.match(/^\d{4}-\d{2}-\d{2}$/);
        expect((document!.check_details as Json[]).map((check) => check.check_method)).to.deep.equal(['vpip', 'pvp']);
      }
    });

    it('says the chip was verified cryptographically when level 2 was raised with it', async function () {
      // A citizen of its own: a TOTP code works once per step and account. (The chip's raise is another
      // part's; here its outcome is written as that part writes it.)
      const chipHolder = await levelTwoCitizen(world);
      const checked = {
        type: 'idcard',
        document_number: chipHolder.id.slice(-9),
        issuer: { name: 'Cục Cảnh sát quản lý hành chính về trật tự xã hội', country_code: 'VNM' },
        date_of_issuance: '2025-11-20',
        date_of_expiry: '2039-03-15',
        method: 'chip',
        txn: 'chip-check-4711',
        time: '2026-01-02T03:01:00.000Z',
      };
      await world.server.container
        .db('accounts')
        .where({ national_id: chipHolder.id })
        .update({ level_evidence_method: 'chip', level_evidence_document: JSON.stringify(checked), level_raised_at: new Date('2026-01-02T03:04:05Z') });
      const { userinfo } = await bankSignIn(
        {
          userinfo: {
            verified_claims: {
              verification: { time: null, evidence: [{ type: { value: 'document' }, check_details: [{ check_method: { value: 'vcrypt' }, check_id: null, time: null }], document_details: { date_of_issuance: null, date_of_expiry: null } }] },
              claims: { national_id: null },
            },
          },
        },
        chipHolder,
      );
      // The card the chip check read (not the registry's), checked when and under the txn the chip check recorded.
      expect(userinfo.verified_claims).to.deep.equal({
        verification: {
          trust_framework: 'vn_eid',
          time: '2026-01-02T03:04:05Z',
          evidence: [
            {
              type: 'document',
              check_details: [{ check_method: 'vcrypt', check_id: 'chip-check-4711', time: '2026-01-02T03:01:00Z' }],
              document_details: { type: 'idcard', date_of_issuance: '2025-11-20', date_of_expiry: '2039-03-15' },
            },
          ],
        },
        claims: { national_id: chipHolder.id },
      });
    });

    it('refuses a malformed verified_claims request at the pushed authorization endpoint with 400 invalid_request', async function () {
      const dpop = client.getDPoPHandle(bank, await client.randomDPoPKeyPair('ES256'));
      const pushed = client.buildAuthorizationUrlWithPAR(
        bank,
        {
          redirect_uri: BANK_REDIRECT,
          scope: 'openid',
          claims: JSON.stringify({ userinfo: { verified_claims: { verification: { trust_framework: { value: ['vn_eid'] } }, claims: { given_name: null } } } }),
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        },
        { DPoP: dpop },
      );
      const error = await pushed.then(
        () => undefined,
        (caught: unknown) => caught as { status?: number; error?: string; error_description?: string },
      );
      expect(error?.status).to.equal(400);
      expect(error?.error).to.equal('invalid_request');
      expect(error?.error_description).to.match(/trust_framework\.value/);
    });
  });
});
