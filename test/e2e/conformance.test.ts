// The OpenID Foundation's Basic OP, Config OP and Form Post OP test plans, as far as openid-client can
// exercise them here: one test per module the other suites do not already cover (docs/portals.md
// "Conformance" maps every module of the three plans to its test, or says why it cannot be run).
// Every request carries PKCE S256, which this provider requires (docs/design.md); the plans' own requests
// do not — see docs/portals.md "Conformance".
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import * as client from 'openid-client';
import { Browser, formsOf, stepOf, type Page } from '../support/browserless.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };

interface Attempt {
  readonly url: URL;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string | undefined;
}

describe('OpenID Foundation OP test plans: Basic, Config, Form Post (openid-client)', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let config: client.Configuration;

  before(async () => {
    world = await startTestServer();
    config = await client.discovery(new URL(world.issuer), PORTAL.id, undefined, client.ClientSecretBasic(PORTAL.secret), {
      execute: [client.allowInsecureRequests],
    });
  });
  after(() => world?.close());

  async function authorize(extra: Record<string, string> = {}, options: { nonce?: boolean } = {}): Promise<Attempt> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = options.nonce === false ? undefined : client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: PORTAL.redirectUri,
      scope: 'openid profile',
      state,
      ...(nonce && { nonce }),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    });
    return { url, verifier, state, nonce };
  }

  /** Walks the sign-in pages from `page` (password, consent) and returns the page that ends them. */
  async function signInFrom(browser: Browser, first: Page, citizen = BICH): Promise<Page> {
    let page = first;
    for (let steps = 0; steps < 4; steps += 1) {
      const step = stepOf(page);
      if (step === undefined) return page;
      const forms = formsOf(page);
      page =
        step === 'login'
          ? await browser.submit(forms.find((form) => form.action.endsWith('/login'))!, { username: citizen.id, password: citizen.password })
          : await browser.submit(forms.find((form) => form.action.endsWith('/consent'))!);
    }
    throw new Error(`the sign-in did not end (HTTP ${page.status} at ${page.url})`);
  }

  const finish = (attempt: Attempt, callback: URL | Request, checks: { maxAge?: number } = {}) =>
    client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      ...(attempt.nonce ? { expectedNonce: attempt.nonce } : {}),
      ...(checks.maxAge !== undefined && { maxAge: checks.maxAge }),
    });

  /** A full sign-in in a fresh browser (or `browser`) for `attempt`, and its tokens. */
  async function signIn(attempt: Attempt, browser = new Browser(world.issuer)) {
    const callback = await browser.signIn(attempt.url, BICH.id, BICH.password);
    return { browser, tokens: await finish(attempt, callback) };
  }

  describe('Basic OP', () => {
    it('oidcc-response-type-missing: a request without response_type is refused, and no code is issued', async () => {
      const attempt = await authorize();
      attempt.url.searchParams.delete('response_type');
      const page = await new Browser(world.issuer).get(attempt.url);
      // Either an error page or invalid_request / unsupported_response_type at the redirect URI.
      if (page.location) {
        const answer = new URL(page.location);
        expect(answer.origin + answer.pathname).to.equal(PORTAL.redirectUri);
        expect(answer.searchParams.get('error')).to.be.oneOf(['invalid_request', 'unsupported_response_type']);
        expect(answer.searchParams.get('code')).to.equal(null);
      } else {
        expect(page.status).to.equal(400);
        expect(page.body).to.include('response_type');
      }
    });

    it('oidcc-ensure-redirect-uri-in-authorization-request: no redirect_uri, even for a client with one, gets an error page', async () => {
      const attempt = await authorize();
      attempt.url.searchParams.delete('redirect_uri');
      const page = await new Browser(world.issuer).get(attempt.url);
      expect(page.status).to.equal(400);
      expect(page.location).to.equal(undefined);
      expect(page.body).to.include('redirect_uri');
    });

    it('oidcc-ensure-request-without-nonce-succeeds-for-code-flow: no nonce, an ID token without one', async () => {
      const { tokens } = await signIn(await authorize({}, { nonce: false }));
      expect(tokens.claims()!.nonce).to.equal(undefined);
      expect(tokens.claims()!.sub).to.be.a('string');
    });

    it('oidcc-userinfo-post-header: userinfo answers a POST with the access token in the Authorization header', async () => {
      const { tokens } = await signIn(await authorize());
      const response = await fetch(config.serverMetadata().userinfo_endpoint!, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(response.status).to.equal(200);
      const userinfo = (await response.json()) as Record<string, unknown>;
      expect(userinfo).to.include({ sub: tokens.claims()!.sub, name: 'Trần Thị Bích' });
    });

    it('oidcc-userinfo-post-body: userinfo answers a POST with the access token in a form body', async () => {
      const { tokens } = await signIn(await authorize());
      const response = await fetch(config.serverMetadata().userinfo_endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: tokens.access_token }).toString(),
      });
      expect(response.status).to.equal(200);
      expect(((await response.json()) as Record<string, unknown>).sub).to.equal(tokens.claims()!.sub);
    });

    it('oidcc-scope-all: profile, address and phone in one request, all in userinfo with the ID token\'s sub', async () => {
      const { tokens } = await signIn(await authorize({ scope: 'openid profile email address phone' }));
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      expect(userinfo).to.include({ family_name: 'Trần', given_name: 'Bích', birthdate: '1985-07-02', phone_number: '+84900000002' });
      expect(userinfo.address).to.include({ country: 'VN' });
      // The demo citizen has no e-mail address on her account: the consent page did not show email, so
      // it is not granted (the token response says so) and releases nothing.
      expect(userinfo.email).to.equal(undefined);
      expect(tokens.scope?.split(' ')).to.include.members(['openid', 'profile', 'address', 'phone']);
      expect(tokens.scope?.split(' ')).to.not.include('email');
    });

    it('oidcc-claims-essential: name asked for as an essential userinfo claim with scope openid alone is released', async () => {
      const { tokens } = await signIn(await authorize({ scope: 'openid', claims: JSON.stringify({ userinfo: { name: { essential: true } } }) }));
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      expect(userinfo.name).to.equal('Trần Thị Bích');
      expect(userinfo.birthdate).to.equal(undefined);
    });

    const accepted: [string, Record<string, string>][] = [
      ['oidcc-ensure-other-scope-order-succeeds: scopes in another order', { scope: 'profile openid' }],
      ['oidcc-display-page: display=page', { display: 'page' }],
      ['oidcc-display-popup: display=popup', { display: 'popup' }],
      ['oidcc-claims-locales: claims_locales=se', { claims_locales: 'se' }],
      ['oidcc-ensure-request-with-unknown-parameter-succeeds: an unknown parameter', { vn_unknown_parameter: 'ignored' }],
    ];
    for (const [title, extra] of accepted) {
      it(`${title} signs in as usual`, async () => {
        const { tokens } = await signIn(await authorize(extra));
        expect(tokens.claims()!.sub).to.be.a('string');
        expect(tokens.id_token).to.be.a('string');
      });
    }

    it('oidcc-max-age-1: a session older than max_age=1 asks for the password again, and auth_time moves on', async () => {
      const { browser, tokens } = await signIn(await authorize());
      const firstAuthTime = tokens.claims()!.auth_time!;
      // auth_time is in whole seconds: more than one second must have passed for certain.
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const attempt = await authorize({ max_age: '1' });
      const login = await browser.get(attempt.url);
      expect(stepOf(login)).to.equal('login');
      const end = await signInFrom(browser, login);
      const again = await finish(attempt, new URL(end.location!), { maxAge: 1 });
      expect(again.claims()!.auth_time).to.be.above(firstAuthTime);
      expect(again.claims()!.sub).to.equal(tokens.claims()!.sub);
    });

    it('oidcc-ensure-post-request-succeeds: not offered — a POST to the authorization endpoint gets no code (docs/portals.md)', async () => {
      // oidc-provider takes POST there only with SameSite=None session cookies; ours stay Lax.
      const attempt = await authorize();
      const page = await new Browser(world.issuer).postForm(`${attempt.url.origin}${attempt.url.pathname}`, attempt.url.searchParams);
      expect(page.status).to.equal(404);
      expect(page.location).to.equal(undefined);
      const cookie = (await new Browser(world.issuer).fetch(attempt.url)).headers.getSetCookie().join('\n');
      expect(cookie).to.match(/samesite=lax/i);
    });

    it('oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: an unsigned request object is refused, never ignored', async () => {
      const metadata = config.serverMetadata();
      expect(metadata.request_object_signing_alg_values_supported ?? []).not.to.include('none');
      const attempt = await authorize();
      const payload = Object.fromEntries(attempt.url.searchParams);
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(
        JSON.stringify({ ...payload, iss: PORTAL.id, aud: world.issuer }),
      ).toString('base64url')}.`;
      const url = new URL(attempt.url);
      url.searchParams.set('request', unsigned);
      const page = await new Browser(world.issuer).get(url);
      const answer = new URL(page.location!);
      expect(answer.searchParams.get('error')).to.be.oneOf(['request_not_supported', 'invalid_request_object']);
      expect(answer.searchParams.get('code')).to.equal(null);
    });

    it('oidcc-server-client-secret-post: client_secret_post is refused (portals use client_secret_basic)', async () => {
      const attempt = await authorize();
      const callback = await new Browser(world.issuer).signIn(attempt.url, BICH.id, BICH.password);
      const postConfig = new client.Configuration(config.serverMetadata(), PORTAL.id, undefined, client.ClientSecretPost(PORTAL.secret));
      client.allowInsecureRequests(postConfig);
      let error: unknown;
      await client.authorizationCodeGrant(postConfig, callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce! }).catch((failure: unknown) => (error = failure));
      expect(error).to.be.instanceOf(client.ResponseBodyError);
      expect((error as client.ResponseBodyError).error).to.equal('invalid_client');
    });
  });

  describe('Config OP', () => {
    it('oidcc-discovery-endpoint-verification: the discovery document holds what OpenID Connect Discovery requires', async () => {
      const response = await fetch(`${world.issuer}/.well-known/openid-configuration`);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^application\/json/);
      const metadata = (await response.json()) as Record<string, unknown>;
      expect(metadata.issuer).to.equal(world.issuer);
      expect(metadata.response_types_supported).to.deep.equal(['code']);
      expect(metadata.subject_types_supported).to.include.members(['public', 'pairwise']);
      // RS256 must be listed (Discovery 3), though ES256 is the default.
      expect(metadata.id_token_signing_alg_values_supported).to.include.members(['RS256', 'ES256']);
      expect(metadata.id_token_signing_alg_values_supported).not.to.include('none');
      expect(metadata.scopes_supported).to.include('openid');
      expect((metadata.scopes_supported as string[]).every((scope) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))).to.equal(true);
      expect(metadata.claims_parameter_supported).to.equal(true);
      expect(metadata.claims_supported).to.include.members(['sub', 'name', 'national_id', 'acr']);
      expect(metadata.grant_types_supported).to.include('authorization_code');
      expect(metadata.code_challenge_methods_supported).to.deep.equal(['S256']);
      for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
        expect(String(metadata[endpoint]), endpoint).to.satisfy((value: string) => value.startsWith(`${world.issuer}/`));
      }
      const jwks = (await (await fetch(String(metadata.jwks_uri))).json()) as { keys: Record<string, unknown>[] };
      expect(jwks.keys.length).to.be.above(0);
      for (const key of jwks.keys) {
        expect(key).to.include.keys('kid', 'use', 'alg');
        expect(key).not.to.have.any.keys('d', 'p', 'q', 'dp', 'dq', 'qi', 'k');
      }
    });
  });

  describe('Form Post OP (response_mode=form_post)', () => {
    /** The inputs of the page's self-submitting form, as the browser would POST them to the client. */
    function formPostRequest(page: Page): Request {
      const [form] = formsOf(page);
      expect(form, 'a form-post page').not.to.equal(undefined);
      expect(form!.method).to.equal('post');
      return new Request(form!.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form!.fields).toString(),
      });
    }

    /** The page's Content-Security-Policy lets its inline script run and its form post to the client only. */
    function expectPolicyAllowsThePost(page: Page): void {
      const policy = page.headers.get('content-security-policy') ?? '';
      const directives = new Map(policy.split(';').map((directive) => {
        const [name = '', ...values] = directive.trim().split(/\s+/);
        return [name, values] as const;
      }));
      const script = /<script>([\s\S]*?)<\/script>/.exec(page.body)![1]!;
      expect(directives.get('script-src')).to.include(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
      expect(directives.get('script-src')).not.to.include("'unsafe-inline'");
      expect(directives.get('form-action')).to.deep.equal(["'self'", new URL(PORTAL.redirectUri).origin]);
      expect(directives.get('frame-ancestors')).to.deep.equal(["'none'"]);
    }

    it('oidcc-server (form_post): after the sign-in pages, the code is posted to the redirect URI and redeemed', async () => {
      const attempt = await authorize({ response_mode: 'form_post' });
      const browser = new Browser(world.issuer);
      const page = await signInFrom(browser, await browser.get(attempt.url));
      expect(page.status).to.equal(200);
      expect(page.location).to.equal(undefined);
      expectPolicyAllowsThePost(page);
      const request = formPostRequest(page);
      expect(request.url).to.equal(PORTAL.redirectUri);
      const tokens = await finish(attempt, request);
      expect(tokens.claims()!.nonce).to.equal(attempt.nonce);
      expect(tokens.claims()!.acr).to.equal('urn:vn:eid:loa:1');
    });

    it('oidcc-prompt-none-logged-in (form_post): single sign-on answers with the form-post page at once', async () => {
      const { browser } = await signIn(await authorize());
      const attempt = await authorize({ response_mode: 'form_post', prompt: 'none' });
      const page = await browser.get(attempt.url);
      expect(page.status).to.equal(200);
      expectPolicyAllowsThePost(page);
      const tokens = await finish(attempt, formPostRequest(page));
      expect(tokens.access_token).to.be.a('string');
    });

    it('oidcc-prompt-none-not-logged-in (form_post): login_required is posted to the redirect URI', async () => {
      const attempt = await authorize({ response_mode: 'form_post', prompt: 'none' });
      const page = await new Browser(world.issuer).get(attempt.url);
      expectPolicyAllowsThePost(page);
      let error: unknown;
      await finish(attempt, formPostRequest(page)).catch((failure: unknown) => (error = failure));
      expect(error).to.be.instanceOf(client.AuthorizationResponseError);
      expect((error as client.AuthorizationResponseError).error).to.equal('login_required');
    });

    it('form_post.jwt (JARM): the signed response is posted the same way, under the same policy', async () => {
      const { browser } = await signIn(await authorize());
      const attempt = await authorize({ response_mode: 'form_post.jwt', prompt: 'none' });
      const page = await browser.get(attempt.url);
      expect(page.status).to.equal(200);
      expectPolicyAllowsThePost(page);
      expect(Object.keys(formsOf(page)[0]!.fields)).to.deep.equal(['response']);
      const jarm = await client.discovery(new URL(world.issuer), PORTAL.id, undefined, client.ClientSecretBasic(PORTAL.secret), {
        execute: [client.allowInsecureRequests, client.useJwtResponseMode],
      });
      const tokens = await client.authorizationCodeGrant(jarm, formPostRequest(page), {
        pkceCodeVerifier: attempt.verifier,
        expectedState: attempt.state,
        expectedNonce: attempt.nonce!,
      });
      expect(tokens.access_token).to.be.a('string');
    });

    it('keeps the strict policy on every other page: no redirect origin in form-action without form_post', async () => {
      const attempt = await authorize({ response_mode: 'form_post' });
      const login = await new Browser(world.issuer).get(attempt.url);
      expect(stepOf(login)).to.equal('login');
      const loginPolicy = login.headers.get('content-security-policy') ?? '';
      expect(loginPolicy).not.to.include("'sha256-");
      // A form-post request naming an unregistered redirect URI gets the error page, posting nowhere.
      const stranger = new URL(attempt.url);
      stranger.searchParams.set('redirect_uri', 'https://attacker.example/callback');
      const refused = await new Browser(world.issuer).get(stranger);
      expect(refused.status).to.equal(400);
      expect(refused.headers.get('content-security-policy')).not.to.include('attacker.example');
    });
  });
});
