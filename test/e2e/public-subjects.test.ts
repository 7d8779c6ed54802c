// Public subjects (docs/design.md "Subjects"): a client with public subjects — demo-bank, a portal an
// administrator made public — gets one `sub` per citizen, the same at every public client, which is
// neither the account's internal id nor the ID number; pairwise clients are unchanged; the consent page
// says which kind of identifier the service gets, in both languages.
import { expect } from 'chai';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser, decodeEntities } from '../support/browserless.ts';
import { discoverBank, importPrivateJwk, levelTwoCitizen, type Citizen } from '../support/bank.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { ClientRepository } from '../../src/oidc/clients/clients.ts';
import { pairwiseSubject } from '../../src/oidc/subjects.ts';
import { DEMO_BANK_PRIVATE_JWK } from '../../src/demo/demo-bank-key.ts';

const BANK_REDIRECT = 'http://127.0.0.1:4003/callback';
/** A portal an administrator registered with public subjects. */
const LIBRARY = { id: 'gov-library', secret: 'gov-library-secret-2026', redirectUri: 'http://127.0.0.1:5311/callback' };
const DEMO_PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };

const SENTENCES = {
  pairwise: {
    vi: 'Một mã định danh của bạn chỉ dùng cho dịch vụ này',
    en: 'An identifier for you used only for this service',
  },
  public: {
    vi: 'mọi dịch vụ dùng mã định danh chung đều nhận cùng mã này',
    en: 'every service that uses shared identifiers receives this same one',
  },
};

describe('public subjects', function () {
  this.timeout(90_000);
  let world: RunningServer;
  let bank: client.Configuration;
  let citizen: Citizen;

  before(async () => {
    world = await startTestServer();
    bank = await discoverBank(world.issuer, 'demo-bank', { privateKey: await importPrivateJwk(DEMO_BANK_PRIVATE_JWK), kid: DEMO_BANK_PRIVATE_JWK.kid });
    citizen = await levelTwoCitizen(world);
    const { db, sealer } = world.server.container;
    await new ClientRepository(db, sealer, { allowLoopbackReceivers: true }).create({
      clientId: LIBRARY.id,
      name: 'Thư viện Quốc gia',
      profile: 'portal',
      approvedScopes: ['openid', 'profile'],
      redirectUris: [LIBRARY.redirectUri],
      secret: LIBRARY.secret,
      subjectType: 'public',
    });
  });
  after(() => world?.close());

  const accountId = async () => (await world.server.container.accounts.findByNationalId(citizen.id))!.id;

  /**
   * demo-bank's FAPI 2.0 flow: the ID token's sub and the DPoP-bound tokens. In a browser already signed
   * in no code is asked again (a TOTP code works once per 30-second step).
   */
  async function bankSignIn(browser = new Browser(world.issuer)) {
    const dpop = client.getDPoPHandle(bank, await client.randomDPoPKeyPair('ES256'));
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = await client.buildAuthorizationUrlWithPAR(
      bank,
      { redirect_uri: BANK_REDIRECT, scope: 'openid profile', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' },
      { DPoP: dpop },
    );
    const callback = await browser.signIn(url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
    const tokens = await client.authorizationCodeGrant(bank, callback, { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: dpop });
    return { tokens, dpop, sub: tokens.claims()!.sub };
  }

  /** A portal's code flow in a fresh browser; `consentPage` is the consent page's text, if one was shown. */
  async function portalSignIn(portal: typeof LIBRARY, options: { ui_locales?: string } = {}) {
    const config = await client.discovery(new URL(world.issuer), portal.id, undefined, client.ClientSecretBasic(portal.secret), {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: portal.redirectUri,
      scope: 'openid profile',
      prompt: 'consent',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...options,
    });
    const browser = new Browser(world.issuer);
    const callback = await browser.signIn(url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    const consent = browser.lastPages.find((page) => page.body.includes('/consent"'));
    return { config, tokens, sub: tokens.claims()!.sub, consentPage: consent && decodeEntities(consent.body.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ') };
  }

  it('gives demo-bank a sub that is neither the account id nor the ID number, the same at every sign-in and at every public client', async () => {
    const browser = new Browser(world.issuer);
    const first = await bankSignIn(browser);
    expect(first.sub).to.be.a('string').and.not.be.oneOf([await accountId(), citizen.id]);
    expect(first.sub).not.to.include(citizen.id);
    expect(first.sub).not.to.include((await accountId()).replaceAll('-', ''));
    const second = await bankSignIn(browser);
    expect(second.sub).to.equal(first.sub);
    // userinfo, the access token as the bank's resource server reads it: the same sub.
    expect((await client.fetchUserInfo(bank, second.tokens.access_token, second.sub, { DPoP: second.dpop })).sub).to.equal(first.sub);
    // Another session, at another public client.
    const library = await portalSignIn(LIBRARY);
    expect(library.sub).to.equal(first.sub);
    // Introspection by the token's own client says it too.
    expect((await client.tokenIntrospection(library.config, library.tokens.access_token)).sub).to.equal(first.sub);
  });

  it('leaves pairwise clients as they were: HMAC over the sector and the account id', async () => {
    const portal = await portalSignIn(DEMO_PORTAL);
    expect(portal.sub).to.equal(pairwiseSubject(world.config.pairwiseKey!, 'localhost:4000', await accountId()));
    expect((await client.tokenIntrospection(portal.config, portal.tokens.access_token)).sub).to.equal(portal.sub);
  });

  it('accepts an ID token of a public client as id_token_hint for the same citizen, without asking again', async () => {
    const library = await portalSignIn(LIBRARY);
    const idToken = library.tokens.id_token!;
    expect(decodeJwt(idToken).sub).to.equal(library.sub);
    // The provider's own check compares the hint with the session's citizen as this client knows them.
    const browser = new Browser(world.issuer);
    const verifier = client.randomPKCECodeVerifier();
    const signIn = client.buildAuthorizationUrl(library.config, {
      redirect_uri: LIBRARY.redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    await browser.signIn(signIn, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
    const silent = client.buildAuthorizationUrl(library.config, {
      redirect_uri: LIBRARY.redirectUri,
      scope: 'openid',
      prompt: 'none',
      id_token_hint: idToken,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const answer = await browser.get(silent);
    expect(new URL(answer.location!).searchParams.get('code'), answer.location).to.be.a('string');
  });

  for (const locale of ['vi', 'en'] as const) {
    it(`says on the consent page which identifier the service gets (${locale})`, async () => {
      const options = locale === 'en' ? { ui_locales: 'en' } : {};
      const pairwise = (await portalSignIn(DEMO_PORTAL, options)).consentPage!;
      expect(pairwise).to.include(SENTENCES.pairwise[locale]).and.not.include(SENTENCES.public[locale]);
      const shared = (await portalSignIn(LIBRARY, options)).consentPage!;
      expect(shared).to.include(SENTENCES.public[locale]).and.not.include(SENTENCES.pairwise[locale]);
    });
  }
});
