// Dynamic client registration (RFC 7591/7592) under an administrator's initial access token: no
// token, a bad, expired or revoked one, a valid one (then a whole code flow with PKCE through
// openid-client), every limit exceeded with nothing written, the count under concurrent
// registrations, read/update/delete with a rotated registration access token, and a deleted client
// refused at the token endpoint.
import { expect } from 'chai';
import * as client from 'openid-client';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, auditEvents, FIRST_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { Browser } from '../support/browserless.ts';
import { BICH } from '../support/rp-flow.ts';
import { TokensAtRest } from '../../src/oidc/models/tokens-at-rest.ts';

type Json = Record<string, unknown>;

const HOSTS = ['*.moh.example.vn'];
const REDIRECT = 'https://dichvu.moh.example.vn/callback';

function limits(overrides: Json = {}): Json {
  return {
    description: 'Cổng dịch vụ công của Bộ Y tế',
    profiles: ['portal', 'spa'],
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    redirectHosts: HOSTS,
    agreementReference: 'TT-2026/BYT-07',
    maxClients: 20,
    expiresInSeconds: 3600,
    ...overrides,
  };
}

function portalMetadata(overrides: Json = {}): Json {
  return {
    client_name: 'Khám bệnh trực tuyến',
    redirect_uris: [REDIRECT],
    scope: 'openid profile offline_access',
    ...overrides,
  };
}

describe('dynamic client registration', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let admin: AdminCredentials & { kind: 'session' };
  let token: string;
  let tokenId: string;

  before(async () => {
    world = await startTestServer();
    admin = await adminSession(world, FIRST_ADMIN, ['client_admin']);
    ({ token, tokenId } = await issue());
  });
  after(() => world?.close());

  async function issue(overrides: Json = {}): Promise<{ token: string; tokenId: string }> {
    const issued = await adminCall<{ token: string; initialAccessToken: { id: string } }>(world, admin, 'POST', '/api/registration-tokens', limits(overrides));
    expect(issued.status, JSON.stringify(issued.body)).to.equal(201);
    return { token: issued.body.token, tokenId: issued.body.initialAccessToken.id };
  }

  async function register(metadata: Json, bearer?: string): Promise<{ status: number; body: Json; headers: Headers }> {
    const response = await fetch(`${world.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer !== undefined && { authorization: `Bearer ${bearer}` }) },
      body: JSON.stringify(metadata),
    });
    return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
  }

  async function manage(method: string, uri: string, rat: string, body?: Json): Promise<{ status: number; body: Json }> {
    const response = await fetch(uri, {
      method,
      headers: { authorization: `Bearer ${rat}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  }

  const selfRegistered = async () => (await world.server.container.db('clients').where('client_id', 'like', 'reg-%').count<{ count: string }[]>('* as count'))[0]!.count;
  const usage = async (id: string) => (await world.server.container.registrations.find(id))!.clientsRegistered;

  describe('the initial access token', () => {
    it('is required: without one, 401 invalid_token and nothing registered', async () => {
      const before = await selfRegistered();
      const answer = await register(portalMetadata());
      expect(answer.status).to.equal(401);
      expect(answer.body.error).to.equal('invalid_token');
      expect(answer.headers.get('www-authenticate')).to.match(/^Bearer /);
      expect(await selfRegistered()).to.equal(before);
    });

    it('refuses an unknown token, one past its expiry and a revoked one (401 invalid_token)', async () => {
      const before = await selfRegistered();
      expect((await register(portalMetadata(), 'not-a-token')).body.error).to.equal('invalid_token');

      // Expired as the provider keeps it, and as our limits record it: either refuses.
      const lapsed = await issue();
      await world.server.container.db('oidc_models').where({ model: 'InitialAccessToken', id: new TokensAtRest(world.config.keyEncryptionKey!).storedId(lapsed.token) }).update({ expires_at: new Date(Date.now() - 1000) });
      const expiredAtProvider = await register(portalMetadata(), lapsed.token);
      expect([expiredAtProvider.status, expiredAtProvider.body.error]).to.deep.equal([401, 'invalid_token']);
      const ended = await issue();
      await world.server.container.db('initial_access_tokens').where({ id: ended.tokenId }).update({ expires_at: new Date(Date.now() - 1000) });
      const expired = await register(portalMetadata(), ended.token);
      expect([expired.status, expired.body.error]).to.deep.equal([401, 'invalid_token']);

      const revoked = await issue();
      expect((await adminCall(world, admin, 'POST', `/api/registration-tokens/${revoked.tokenId}/revoke`)).status).to.equal(200);
      const afterRevocation = await register(portalMetadata(), revoked.token);
      expect([afterRevocation.status, afterRevocation.body.error]).to.deep.equal([401, 'invalid_token']);
      expect(await selfRegistered()).to.equal(before);
    });
  });

  describe('a client registered with a valid token', () => {
    let registered: Json;
    let rat: string;
    let refreshToken: string;

    it('is stored like any client: validated by its profile, secret sealed, pairwise, marked with its token', async () => {
      const answer = await register(portalMetadata({ grant_types: ['authorization_code', 'refresh_token'], approved_scopes: ['openid', 'ethnicity'] }), token);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
      registered = answer.body;
      rat = String(registered.registration_access_token);
      expect(registered.client_id).to.match(/^reg-[0-9a-f]{24}$/);
      expect(registered).to.include({ token_endpoint_auth_method: 'client_secret_basic', subject_type: 'pairwise', profile: 'portal', client_secret_expires_at: 0 });
      // The registrant's own approved_scopes is not believed: scope is checked against the token.
      expect(registered.approved_scopes).to.deep.equal(['openid', 'profile', 'offline_access']);
      expect(registered.scope).to.equal(undefined);
      expect(registered.registration_client_uri).to.equal(`${world.issuer}/reg/${String(registered.client_id)}`);

      const clientId = String(registered.client_id);
      const row = await world.server.container.db('clients').where({ client_id: clientId }).first<{ secret_sealed: string; profile: string }>('secret_sealed', 'profile');
      expect(row.profile).to.equal('portal');
      expect(row.secret_sealed).to.be.a('string').and.not.include(String(registered.client_secret));
      const view = await adminCall<{ initialAccessToken: string; agreementReference: string; hasSecret: boolean }>(world, admin, 'GET', `/api/clients/${clientId}`);
      expect(view.body).to.include({ initialAccessToken: tokenId, agreementReference: 'TT-2026/BYT-07', hasSecret: true });
      expect(await usage(tokenId)).to.equal(1);
      const [event] = await auditEvents(world, 'client.registration');
      expect(event).to.deep.include({ actor: `initial-access-token:${tokenId}`, client_id: clientId });
      expect(event!.data).to.include({ action: 'created', initialAccessToken: tokenId, profile: 'portal' });
    });

    it('completes a code flow with PKCE through openid-client, with a pairwise subject', async () => {
      const server = await client.discovery(new URL(world.issuer), String(registered.client_id), undefined, client.ClientSecretBasic(String(registered.client_secret)), {
        execute: [client.allowInsecureRequests],
      });
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(server, {
        redirect_uri: REDIRECT,
        scope: 'openid profile offline_access',
        prompt: 'consent',
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      const callback = await new Browser(world.issuer).signIn(url, BICH.id, BICH.password, { consent: true });
      expect(callback.origin + callback.pathname).to.equal(REDIRECT);
      const tokens = await client.authorizationCodeGrant(server, callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
      const claims = tokens.claims()!;
      expect(claims.aud).to.equal(registered.client_id);
      expect(claims.sub).to.be.a('string').and.not.equal(BICH.id);
      const account = await world.server.container.db('accounts').first<{ id: string }>('id');
      expect(claims.sub).to.not.equal(account.id);
      const userinfo = await client.fetchUserInfo(server, tokens.access_token, claims.sub);
      expect(userinfo.given_name).to.be.a('string');
      expect(userinfo).to.not.have.property('national_id');
      refreshToken = tokens.refresh_token!;
      expect(refreshToken).to.be.a('string');
    });

    it('reads its registration with the registration access token (RFC 7592), which is replaced on the read (issue 20)', async () => {
      const read = await manage('GET', String(registered.registration_client_uri), rat);
      expect(read.status).to.equal(200);
      expect(read.body).to.include({ client_id: registered.client_id, client_name: 'Khám bệnh trực tuyến' });
      expect(read.body.registration_access_token).to.be.a('string').and.not.equal(rat);
      expect((await manage('GET', String(registered.registration_client_uri), rat)).status, 'the used token').to.equal(401);
      rat = String(read.body.registration_access_token);
      expect((await manage('GET', String(registered.registration_client_uri), 'wrong-token')).status).to.equal(401);
    });

    it('keeps the registration access token for ttl.registrationAccessToken only, stored by its digest (issue 20)', async () => {
      const storedId = new TokensAtRest(world.config.keyEncryptionKey!).storedId(rat);
      const row = await world.server.container.db('oidc_models').where({ model: 'RegistrationAccessToken', id: storedId }).first<{ expires_at: Date | null }>('expires_at');
      expect(row?.expires_at, 'an expiry').to.be.instanceOf(Date);
      const lifetime = (row.expires_at!.getTime() - Date.now()) / 1000;
      expect(lifetime).to.be.within(world.config.ttl.registrationAccessToken - 120, world.config.ttl.registrationAccessToken + 1);
      expect(await world.server.container.db('oidc_models').where({ model: 'RegistrationAccessToken', id: rat }).first()).to.equal(undefined);
    });

    it('updates within the limits, and the registration access token is rotated', async () => {
      const update = {
        client_id: registered.client_id,
        client_name: 'Khám bệnh trực tuyến (mới)',
        redirect_uris: [REDIRECT],
        post_logout_redirect_uris: ['https://dichvu.moh.example.vn/signed-out'],
        approved_scopes: registered.approved_scopes,
      };
      const updated = await manage('PUT', String(registered.registration_client_uri), rat, update);
      expect(updated.status, JSON.stringify(updated.body)).to.equal(200);
      expect(updated.body.client_name).to.equal('Khám bệnh trực tuyến (mới)');
      expect(updated.body.registration_access_token).to.be.a('string').and.not.equal(rat);
      expect((await manage('GET', String(registered.registration_client_uri), rat)).status, 'the old token').to.equal(401);
      rat = String(updated.body.registration_access_token);
      const stored = await world.server.container.clients.find(String(registered.client_id));
      expect(stored?.name).to.equal('Khám bệnh trực tuyến (mới)');
      expect(stored?.metadata.post_logout_redirect_uris).to.deep.equal(['https://dichvu.moh.example.vn/signed-out']);
      // The secret stays, and so does the mark of the token that registered it.
      expect((await world.server.container.clients.findMetadata(String(registered.client_id)))?.client_secret).to.equal(registered.client_secret);
      const [event] = await auditEvents(world, 'client.registration', String(registered.client_id));
      expect(event!.data).to.include({ action: 'updated', initialAccessToken: tokenId });
    });

    it('refuses an update beyond the limits and changes nothing', async () => {
      for (const change of [{ scope: 'openid national_id' }, { redirect_uris: ['https://evil.example.com/callback'] }, { profile: 'spa', token_endpoint_auth_method: 'none' }]) {
        const refused = await manage('PUT', String(registered.registration_client_uri), rat, {
          client_id: registered.client_id,
          client_name: 'Đổi',
          redirect_uris: [REDIRECT],
          ...change,
        });
        expect(refused.status, JSON.stringify(change)).to.equal(400);
        expect(['invalid_client_metadata', 'invalid_redirect_uri']).to.include(refused.body.error);
      }
      expect((await world.server.container.clients.find(String(registered.client_id)))?.name).to.equal('Khám bệnh trực tuyến (mới)');
      // A refused update does not use the token up.
      const read = await manage('GET', String(registered.registration_client_uri), rat);
      expect(read.status, 'the token still works').to.equal(200);
      rat = String(read.body.registration_access_token);
    });

    it('deletes itself; then it can get no tokens and its registration access token is gone', async () => {
      const deleted = await manage('DELETE', String(registered.registration_client_uri), rat);
      expect(deleted.status).to.equal(204);
      expect(await world.server.container.clients.find(String(registered.client_id))).to.equal(undefined);
      const refresh = await fetch(`${world.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${String(registered.client_id)}:${String(registered.client_secret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      expect(refresh.status).to.equal(401);
      expect(((await refresh.json()) as Json).error).to.equal('invalid_client');
      expect((await manage('GET', String(registered.registration_client_uri), rat)).status).to.equal(401);
      const [event] = await auditEvents(world, 'client.registration', String(registered.client_id));
      expect(event!.data).to.include({ action: 'deleted', initialAccessToken: tokenId });
    });
  });

  describe('what the profile does not offer', () => {
    // The body mod_auth_openidc 2.4 posts (oidc_metadata_client_register): every flow it implements as
    // response_types, implicit among its grant_types, its redirect URI as initiate_login_uri, and a
    // GET-style front-channel logout URI; token_endpoint_auth_method is the first method it supports
    // from our discovery document (client_secret_basic). No scope: openid.
    const modAuthOpenidc = {
      client_name: 'Khám bệnh trực tuyến (Apache)',
      redirect_uris: ['https://dichvu.moh.example.vn/protected/redirect_uri'],
      response_types: ['code', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token'],
      grant_types: ['authorization_code', 'implicit', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      initiate_login_uri: 'https://dichvu.moh.example.vn/protected/redirect_uri',
      frontchannel_logout_uri: 'https://dichvu.moh.example.vn/protected/redirect_uri?logout=get',
    };

    it('registers mod_auth_openidc 2.4 by leaving implicit and the hybrid flows out, and answers the registered values', async () => {
      const answer = await register(modAuthOpenidc, token);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
      expect(answer.body.grant_types, 'no refresh_token without offline_access').to.deep.equal(['authorization_code']);
      expect(answer.body.response_types).to.deep.equal(['code']);
      expect(answer.body).to.include({ token_endpoint_auth_method: 'client_secret_basic', profile: 'portal' });
      expect(answer.body.client_secret).to.be.a('string');
      expect(answer.body, 'metadata we do not support is not registered').to.not.have.any.keys('initiate_login_uri', 'frontchannel_logout_uri');
      const stored = await world.server.container.clients.find(String(answer.body.client_id));
      expect(stored?.metadata).to.deep.include({ grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: modAuthOpenidc.redirect_uris });
    });

    it('registers a plain RFC 7591 body (authorization_code, refresh_token, code, client_secret_basic) as asked', async () => {
      const answer = await register(
        {
          client_name: 'Tra cứu hồ sơ',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          scope: 'openid profile offline_access',
        },
        token,
      );
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
      expect(answer.body.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
      expect(answer.body.response_types).to.deep.equal(['code']);
    });

    it('narrows a hybrid response type to code: code id_token → code', async () => {
      const answer = await register(portalMetadata({ response_types: ['code id_token'], grant_types: ['authorization_code', 'implicit'] }), token);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
      expect(answer.body.response_types).to.deep.equal(['code']);
      expect(answer.body.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
    });

    const useless: [string, Json][] = [
      ['only implicit', { grant_types: ['implicit'] }],
      ['only a refresh grant, without the code it refreshes', { grant_types: ['refresh_token'] }],
      ['only response types without code', { response_types: ['id_token', 'id_token token'] }],
      ['a token endpoint authentication its profile has not (the credential is the client\'s, not ours to swap)', { token_endpoint_auth_method: 'client_secret_post' }],
    ];
    for (const [what, change] of useless) {
      it(`refuses ${what}: nothing usable remains (400 invalid_client_metadata), nothing written`, async () => {
        const before = [await selfRegistered(), await usage(tokenId)];
        const answer = await register(portalMetadata(change), token);
        expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
        expect(answer.body.error).to.equal('invalid_client_metadata');
        expect(answer.body.error_description).to.be.a('string').and.not.equal('');
        expect([await selfRegistered(), await usage(tokenId)]).to.deep.equal(before);
      });
    }
  });

  describe('the limits', () => {
    const refusals: [string, Json, string][] = [
      ['a bank profile', { profile: 'bank', token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
      ['a profile the token does not allow', { profile: 'native', token_endpoint_auth_method: 'none' }, 'invalid_client_metadata'],
      ['a sensitive scope', { scope: 'openid national_id' }, 'invalid_client_metadata'],
      ['a scope the token does not allow', { scope: 'openid address' }, 'invalid_client_metadata'],
      ['a redirect URI on another host', { redirect_uris: ['https://portal.other.example.vn/callback'] }, 'invalid_redirect_uri'],
      ['a redirect URI on the bare domain of a wildcard', { redirect_uris: ['https://moh.example.vn/callback'] }, 'invalid_redirect_uri'],
      ['a back-channel logout URI on another host', { backchannel_logout_uri: 'https://evil.example.com/logout' }, 'invalid_client_metadata'],
      ['public subjects the token does not allow', { subject_type: 'public' }, 'invalid_client_metadata'],
      ['a grant the profile does not have', { grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
      ['no client name', { client_name: undefined }, 'invalid_client_metadata'],
      ['a redirect URI its profile refuses', { redirect_uris: ['http://dichvu.moh.example.vn/callback'] }, 'invalid_redirect_uri'],
    ];
    for (const [what, change, error] of refusals) {
      it(`refuses ${what} (400 ${error}) and writes nothing`, async () => {
        const before = [await selfRegistered(), await usage(tokenId)];
        const answer = await register(portalMetadata(change), token);
        expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
        expect(answer.body.error).to.equal(error);
        expect([await selfRegistered(), await usage(tokenId)]).to.deep.equal(before);
      });
    }

    it('lets a token allow public subjects, and a spa register without a secret', async () => {
      const open = await issue({ allowPublicSubjects: true });
      const spa = await register(portalMetadata({ profile: 'spa', token_endpoint_auth_method: 'none', subject_type: 'public' }), open.token);
      expect(spa.status, JSON.stringify(spa.body)).to.equal(201);
      expect(spa.body).to.include({ subject_type: 'public', token_endpoint_auth_method: 'none', profile: 'spa' });
      expect(spa.body.client_secret).to.equal(undefined);
    });

    it('holds the count under concurrent registrations: exactly maxClients succeed', async () => {
      const few = await issue({ maxClients: 3 });
      const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => register(portalMetadata({ client_name: `Cổng ${index}` }), few.token)));
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).to.deep.equal([201, 201, 201, 400, 400, 400, 400, 400]);
      for (const refused of answers.filter((answer) => answer.status === 400)) expect(refused.body.error).to.equal('invalid_client_metadata');
      const marked = await world.server.container.db('clients').whereRaw(`metadata->'administration'->>'initialAccessToken' = ?`, [few.tokenId]).count<{ count: string }[]>('* as count');
      expect(Number(marked[0]!.count)).to.equal(3);
      expect(await usage(few.tokenId)).to.equal(3);
      expect((await register(portalMetadata(), few.token)).status, 'one more, later').to.equal(400);
      const refusals = (await auditEvents(world, 'client.registration', `initial-access-token:${few.tokenId}`)).filter((event) => event.data.action === 'refused');
      expect(refusals).to.have.length(6);
      expect(refusals[0]!.data.reason).to.match(/as many clients as it allows/);
    });
  });
});
