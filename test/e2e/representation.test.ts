// Acting for others end to end (docs/representation.md): openid-client as the relying party, the
// sign-in pages walked by the browserless browser, the registers changed underneath as the business
// register's change feed, an organisation's representative and the population registry would, and
// the representation rules' day moved by the test's own clock.
import { expect } from 'chai';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { Browser, alertsOf } from '../support/browserless.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { raw } from '../support/rp-flow.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import {
  AN,
  BICH,
  CHAU,
  DEMO_PORTAL,
  DEMO_TAX,
  KHOA,
  ORGANISATION,
  REPRESENTATION_TYPE,
  RepresentingParty,
  partyOptions,
  walk,
} from '../support/representation.ts';

const RAR_PORTAL = { id: 'rar-portal', secret: 'rar-portal-secret', redirectUri: 'http://127.0.0.1:4005/callback' };

describe('acting for an organisation or a child (RFC 9396 authorization_details)', function () {
  this.timeout(180_000);
  let world: RunningServer;
  let day = '2026-12-08';

  before(async () => {
    world = await startTestServer({ today: () => day });
  });

  after(async () => {
    await world?.close();
  });

  beforeEach(() => {
    day = '2026-12-08';
  });

  const browser = () => new Browser(world.issuer);

  it('lists the type in discovery', async () => {
    const discovery = await raw(`${world.issuer}/.well-known/openid-configuration`);
    expect(discovery.body.authorization_details_types_supported).to.deep.equal([REPRESENTATION_TYPE]);
  });

  it('lets An act for his organisation: the ID token, the token response, userinfo and introspection carry the party; sub stays his', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const started = await rp.start({ party_kinds: ['organisation', 'child'], roles: ['tax'] });
    const { callback, chooser } = await walk(browser(), started.url, AN, `organisation:${ORGANISATION.code}`);
    expect(chooser, 'the chooser was shown').to.not.equal(undefined);
    const options = partyOptions(chooser!);
    expect(options.map((option) => option.value)).to.deep.equal([`organisation:${ORGANISATION.code}`, `child:${CHAU.id}`]);
    expect(options[0]!.label).to.include(ORGANISATION.name);
    expect(options[1]!.label).to.include(CHAU.name);
    expect(chooser!.body, 'choosing oneself is not offered').to.not.include('value="self"');

    const tokens = await rp.redeem(started, callback);
    const expected = { type: REPRESENTATION_TYPE, party: { kind: 'organisation', enterprise_code: ORGANISATION.code, name: ORGANISATION.name }, roles: ['tax'] };
    expect(tokens.authorization_details).to.deep.equal([expected]);
    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken.authorization_details).to.deep.equal([expected]);
    const userinfo = await rp.userinfo(tokens.access_token, idToken.sub!);
    expect(userinfo.authorization_details).to.deep.equal([expected]);
    expect(userinfo.sub).to.equal(idToken.sub);
    expect(userinfo.name, "An's own name, not the organisation's").to.equal('Nguyễn Văn An');
    const introspection = await rp.introspect(tokens.access_token);
    expect(introspection.active).to.equal(true);
    expect(introspection.authorization_details).to.deep.equal([expected]);
    const refreshIntrospection = await rp.introspect(tokens.refresh_token!);
    expect(refreshIntrospection.authorization_details, 'the refresh token never shows the register key').to.deep.equal([expected]);

    const refreshed = await rp.refresh(tokens.refresh_token!);
    expect(refreshed.authorization_details).to.deep.equal([expected]);
    expect(decodeJwt(refreshed.id_token!).authorization_details).to.deep.equal([expected]);

    const uses = await world.server.container.db('representation_uses').where({ enterprise_code: ORGANISATION.code, client_id: 'demo-portal' }).orderBy('id');
    expect(uses.map((use: { event: string }) => use.event)).to.deep.equal(['issued', 'refreshed']);
  });

  it("lets An act for his daughter Châu: her name, birth date and a subject of her own at this client, never her ID number as sub", async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_TAX);
    const started = await rp.start({ party_kinds: ['child'] });
    const { callback } = await walk(browser(), started.url, AN, `child:${CHAU.id}`);
    const tokens = await rp.redeem(started, callback);
    const [detail] = tokens.authorization_details as unknown as { type: string; party: Record<string, unknown>; roles?: unknown }[];
    expect(detail!.type).to.equal(REPRESENTATION_TYPE);
    expect(detail!.party).to.include({ kind: 'child', name: CHAU.name, birthdate: CHAU.birthdate });
    expect(detail!.party.sub).to.be.a('string').and.not.equal(CHAU.id);
    expect(detail!.party.national_id, 'demo-tax is approved for national_id').to.equal(CHAU.id);
    expect(detail!.roles).to.equal(undefined);
    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken.sub).to.not.equal(detail!.party.sub);
    const userinfo = await rp.userinfo(tokens.access_token, idToken.sub!);
    expect(userinfo.authorization_details).to.deep.equal(tokens.authorization_details);

    // The same child at another sector gets another subject; a client not approved for national_id does not get her number.
    await world.server.container.clients.save({
      clientId: 'rar-portal',
      name: 'Cổng thử (đại diện)',
      profile: 'portal',
      secret: 'rar-portal-secret',
      redirectUris: [RAR_PORTAL.redirectUri],
      approvedScopes: ['openid', 'profile', 'offline_access'],
    });
    await world.server.container.clients.setAuthorizationDetailsTypes('rar-portal', [REPRESENTATION_TYPE]);
    const portal = new RepresentingParty(world.issuer, RAR_PORTAL);
    const again = await portal.start({ party_kinds: ['child'] });
    const walked = await walk(browser(), again.url, AN, `child:${CHAU.id}`);
    const portalTokens = await portal.redeem(again, walked.callback);
    const [portalDetail] = portalTokens.authorization_details as unknown as { party: Record<string, unknown> }[];
    expect(portalDetail!.party.sub).to.be.a('string').and.not.equal(detail!.party.sub);
    expect(portalDetail!.party.national_id).to.equal(undefined);
    const uses = await world.server.container.db('representation_uses').where({ child_national_id: CHAU.id });
    expect(uses.length).to.be.at.least(2);
  });

  it('lets Khoa act for the organisation for tax, and refuses him for customs with a page, then access_denied', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_TAX);
    const tax = await rp.start({ party_kinds: ['organisation'], roles: ['tax'] });
    const walked = await walk(browser(), tax.url, KHOA, `organisation:${ORGANISATION.code}`);
    const tokens = await rp.redeem(tax, walked.callback);
    expect(tokens.authorization_details).to.deep.equal([
      { type: REPRESENTATION_TYPE, party: { kind: 'organisation', enterprise_code: ORGANISATION.code, name: ORGANISATION.name }, roles: ['tax'] },
    ]);

    const customs = await rp.start({ party_kinds: ['organisation'], roles: ['customs'] });
    const refused = await walk(browser(), customs.url, KHOA);
    expect(alertsOf(refused.chooser!).join(' ')).to.include('bạn không đại diện cho tổ chức hay trẻ em nào');
    expect(refused.callback.searchParams.get('error')).to.equal('access_denied');
    expect(refused.callback.searchParams.get('error_description')).to.include('represents no organisation or child');
    expect(refused.callback.searchParams.get('code')).to.equal(null);
  });

  it('tells Bích (level 1, no grants) plainly that she represents no one, then returns access_denied', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const started = await rp.start({ party_kinds: ['organisation', 'child'], roles: ['tax'] });
    const { callback, chooser } = await walk(browser(), started.url, BICH);
    expect(chooser!.body).to.include('<h1>Bạn không đại diện cho ai</h1>');
    expect(chooser!.body).to.include('Tài khoản của bạn là tài khoản mức 1');
    expect(alertsOf(chooser!)).to.have.length(1);
    expect(callback.searchParams.get('error')).to.equal('access_denied');
    expect(callback.searchParams.get('code')).to.equal(null);
  });

  it('refuses a party that was not offered (or no longer qualifies) when the form is sent, and asks again', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_TAX);
    const started = await rp.start({ party_kinds: ['organisation'], roles: ['tax'] });
    const error = await walk(browser(), started.url, KHOA, `child:${CHAU.id}`).then(
      () => undefined,
      (caught: unknown) => caught as Error & { page?: { status: number; body: string } },
    );
    expect(error, 'the chooser refused').to.not.equal(undefined);
    expect(error!.page!.status).to.equal(403);
    expect(error!.message).to.include('Bạn không còn được đại diện');
  });

  async function actingFor(rp: RepresentingParty, who: { id: string; password: string }, ask: { party_kinds: string[]; roles?: string[] }, party: string) {
    const started = await rp.start(ask);
    const { callback } = await walk(browser(), started.url, who, party);
    return rp.redeem(started, callback);
  }

  async function refreshRefused(rp: RepresentingParty, refreshToken: string): Promise<void> {
    const answer = await raw(`${world.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${rp.rp.id}:${rp.rp.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });
    expect(answer.status).to.equal(400);
    expect(answer.body.error).to.equal('invalid_grant');
    expect(answer.body.access_token).to.equal(undefined);
  }

  it("stops the next refresh once Khoa's authorisation is revoked", async () => {
    const db = world.server.container.db;
    const rp = new RepresentingParty(world.issuer, DEMO_TAX);
    const tokens = await actingFor(rp, KHOA, { party_kinds: ['organisation'], roles: ['tax'] }, `organisation:${ORGANISATION.code}`);
    const first = await rp.refresh(tokens.refresh_token!);
    expect(first.authorization_details).to.have.length(1);
    const an = await db('accounts').where({ national_id: AN.id }).first<{ id: string }>('id');
    await db('organisation_authorisations').where({ enterprise_code: ORGANISATION.code, grantee_national_id: KHOA.id }).update({ revoked_at: db.fn.now(), revoked_by: an.id });
    try {
      await refreshRefused(rp, first.refresh_token ?? tokens.refresh_token!);
    } finally {
      await db('organisation_authorisations').where({ enterprise_code: ORGANISATION.code, grantee_national_id: KHOA.id }).update({ revoked_at: null, revoked_by: null });
    }
  });

  it('stops the next refresh once the business register replaces An as legal representative', async () => {
    const db = world.server.container.db;
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const tokens = await actingFor(rp, AN, { party_kinds: ['organisation'], roles: ['all'] }, `organisation:${ORGANISATION.code}`);
    // As the change feed writes it: the register now names another representative.
    await db.transaction(async (trx) => {
      await trx('business_representatives').where({ enterprise_code: ORGANISATION.code, national_id: AN.id }).delete();
      await trx('business_representatives').insert({ enterprise_code: ORGANISATION.code, national_id: '079185000123', title: 'Giám đốc' });
    });
    try {
      await refreshRefused(rp, tokens.refresh_token!);
    } finally {
      await db.transaction(async (trx) => {
        await trx('business_representatives').where({ enterprise_code: ORGANISATION.code }).delete();
        await trx('business_representatives').insert({ enterprise_code: ORGANISATION.code, national_id: AN.id, title: 'Giám đốc' });
      });
    }
  });

  it("stops the next refresh on Châu's 14th birthday (the test's clock)", async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    day = '2035-05-31';
    const tokens = await actingFor(rp, AN, { party_kinds: ['child'] }, `child:${CHAU.id}`);
    const before = await rp.refresh(tokens.refresh_token!);
    expect(before.authorization_details).to.have.length(1);
    day = '2035-06-01';
    await refreshRefused(rp, before.refresh_token ?? tokens.refresh_token!);
  });

  it('refuses a client not approved for the type with invalid_authorization_details, never a code or a token', async () => {
    const spa = new URL(`${world.issuer}/auth`);
    const verifier = client.randomPKCECodeVerifier();
    spa.search = new URLSearchParams({
      client_id: 'demo-spa',
      response_type: 'code',
      redirect_uri: 'http://localhost:4002/callback',
      scope: 'openid profile',
      state: 'unapproved',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      authorization_details: JSON.stringify([{ type: REPRESENTATION_TYPE, party_kinds: ['organisation'], roles: ['tax'] }]),
    }).toString();
    const answer = await browser().fetch(spa);
    expect(answer.status).to.equal(303);
    const callback = new URL(answer.location!);
    expect(callback.origin + callback.pathname).to.equal('http://localhost:4002/callback');
    expect(callback.searchParams.get('error')).to.equal('invalid_authorization_details');
    expect(callback.searchParams.get('code')).to.equal(null);

    // Through PAR: refused at the pushed request, no request_uri.
    const par = await raw(`${world.issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([...spa.searchParams]).toString(),
    });
    expect(par.status).to.equal(400);
    expect(par.body.error).to.equal('invalid_authorization_details');
    expect(par.body.request_uri).to.equal(undefined);
  });

  it('refuses malformed requests with invalid_authorization_details', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const config = await rp.config();
    for (const bad of [
      { party_kinds: [] },
      { party_kinds: ['company'] },
      { party_kinds: ['organisation'] },
      { party_kinds: ['organisation'], roles: ['pilot'] },
      { party_kinds: ['child'], roles: ['tax'] },
      { party_kinds: ['child'], acting: 'yes' },
    ]) {
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: DEMO_PORTAL.redirectUri,
        scope: 'openid',
        state: 'bad',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        authorization_details: JSON.stringify([{ type: REPRESENTATION_TYPE, ...bad }]),
      });
      const answer = await browser().fetch(url);
      const callback = new URL(answer.location!);
      expect(callback.searchParams.get('error'), JSON.stringify(bad)).to.equal('invalid_authorization_details');
    }
  });

  it("gives a resource server's JWT access token the same authorization_details", async () => {
    const resource = 'https://orders.example.vn/api';
    await world.server.container.clients.save({
      clientId: 'orders-api',
      name: 'orders-api',
      profile: 'service',
      secret: 'orders-api-secret-0123',
      approvedScopes: [],
      settings: { resourceServer: { resources: [resource], accessTokenFormat: 'jwt' } },
    });
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const started = await rp.start({ party_kinds: ['organisation'], roles: ['tax'] }, { resource });
    const { callback } = await walk(browser(), started.url, AN, `organisation:${ORGANISATION.code}`);
    const tokens = await rp.redeem(started, callback);
    const forOrders = await rp.refresh(tokens.refresh_token!, { resource });
    const jwt = decodeJwt(forOrders.access_token);
    expect(jwt.aud).to.equal(resource);
    expect(jwt.authorization_details).to.deep.equal([
      { type: REPRESENTATION_TYPE, party: { kind: 'organisation', enterprise_code: ORGANISATION.code, name: ORGANISATION.name }, roles: ['tax'] },
    ]);
  });

  it('works with the second factor when the portal asks for level 2 (as it should for an organisation)', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_TAX);
    const started = await rp.start({ party_kinds: ['organisation'], roles: ['tax'] }, { acrValues: 'urn:vn:eid:loa:2' });
    const an = { ...AN, otp: () => currentTotp('JBSWY3DPEHPK3PXP') };
    const { callback } = await walk(browser(), started.url, an, `organisation:${ORGANISATION.code}`);
    const tokens = await rp.redeem(started, callback);
    expect(decodeJwt(tokens.id_token!).acr).to.equal('urn:vn:eid:loa:2');
    expect(tokens.authorization_details).to.have.length(1);
  });

  it('answers prompt=none with interaction_required: the choice needs the citizen', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const same = browser();
    const first = await rp.start({ party_kinds: ['organisation'], roles: ['tax'] });
    await walk(same, first.url, AN, `organisation:${ORGANISATION.code}`);
    const silent = await rp.start({ party_kinds: ['organisation'], roles: ['tax'] }, { prompt: 'none', scope: 'openid' });
    const { callback } = await walk(same, silent.url, AN);
    expect(callback.searchParams.get('error')).to.equal('interaction_required');
    expect(callback.searchParams.get('code')).to.equal(null);
  });

  it('keeps the userinfo endpoint an unknown resource for any other request', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const started = await rp.start(undefined, { resource: `${world.issuer}/me` });
    const answer = await browser().fetch(started.url);
    expect(new URL(answer.location!).searchParams.get('error')).to.equal('invalid_target');
  });

  it('takes the request through PAR (a portal client)', async () => {
    const rp = new RepresentingParty(world.issuer, DEMO_PORTAL);
    const started = await rp.start({ party_kinds: ['organisation'], roles: ['tax', 'customs'] }, { par: true });
    expect(started.url.searchParams.get('request_uri')).to.match(/^urn:ietf:params:oauth:request_uri:/);
    expect(started.url.searchParams.get('authorization_details')).to.equal(null);
    const { callback } = await walk(browser(), started.url, AN, `organisation:${ORGANISATION.code}`);
    const tokens = await rp.redeem(started, callback);
    expect(tokens.authorization_details).to.deep.equal([
      { type: REPRESENTATION_TYPE, party: { kind: 'organisation', enterprise_code: ORGANISATION.code, name: ORGANISATION.name }, roles: ['tax', 'customs'] },
    ]);
  });

  it('records the consent and the history as acting for the party', async () => {
    const db = world.server.container.db;
    const an = await db('accounts').where({ national_id: AN.id }).first<{ id: string }>('id');
    const records = await db('consent_records').where({ account_id: an.id }).whereLike('shown_text', `%${ORGANISATION.name}%`).select<{ shown_text: string }[]>('shown_text');
    expect(records.length).to.be.at.least(1);
    expect(records[0]!.shown_text).to.include('thay mặt');
    await world.server.container.audit.flush();
    const events = await db('audit_events').where({ account_id: an.id, type: 'representation.used' }).select('id');
    expect(events.length).to.be.at.least(2);
    // The data-access history (the account page's) says whom each release and consent was for.
    const history = await world.server.container.accessHistory.page(an.id, { page: 0, pageSize: 100 });
    const released = history.entries.filter((entry) => entry.kind === 'claims.released' && entry.actingFor !== undefined);
    expect(released.map((entry) => entry.actingFor!.name)).to.include.members([ORGANISATION.name, CHAU.name]);
    const consents = history.entries.filter((entry) => entry.kind === 'consent.given' && entry.actingFor !== undefined);
    expect(consents.map((entry) => entry.actingFor!.name)).to.include(ORGANISATION.name);

  });
});
