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
});
