// A production instance (NODE_ENV=production, https issuer, TRUSTED_PROXIES naming the TLS proxy)
// reached over plain http without the proxy's X-Forwarded-Proto: the endpoints that set the provider's
// Secure cookies (/auth, /session/end) refuse with a clear 400 before the provider is reached — in
// the citizen's language, or as OAuth JSON — instead of failing with a 500; through the proxy they work.
import { request } from 'node:https';
import { expect } from 'chai';
import { startProductionServer, type ProductionServer } from '../support/production-server.ts';

describe('production over plain http, without the TLS proxy', function () {
  this.timeout(60_000);
  let production: ProductionServer;
  let direct: string;
  let issuer: string;

  before(async () => {
    production = await startProductionServer();
    ({ direct, issuer } = production);
  });

  after(() => production?.close());

  const authorization = (base: string) =>
    `${base}/auth?${new URLSearchParams({ client_id: 'demo-portal', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:4000/callback', state: 'abcdefgh', nonce: 'n1', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSIrs7HQ', code_challenge_method: 'S256' }).toString()}`;

  it('refuses the authorization endpoint with 400 and a page saying to use https, in Vietnamese and English', async () => {
    const vietnamese = await fetch(authorization(direct), { redirect: 'manual' });
    expect(vietnamese.status).to.equal(400);
    expect(vietnamese.headers.get('set-cookie')).to.equal(null);
    const page = await vietnamese.text();
    expect(page).to.include('lang="vi"').and.include('role="alert"').and.include('https').and.include(issuer);
    // The relying party's ui_locales, as the sign-in pages honour it.
    const english = await fetch(`${authorization(direct)}&ui_locales=en`, { redirect: 'manual' });
    expect(english.status).to.equal(400);
    expect(await english.text()).to.include('lang="en"').and.include('https');
  });

  it('refuses the end-session endpoint, GET and POST, with 400; a program gets OAuth JSON', async () => {
    expect((await fetch(`${direct}/session/end`, { redirect: 'manual' })).status).to.equal(400);
    const posted = await fetch(`${direct}/session/end`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'xsrf=x' });
    expect(posted.status).to.equal(400);
    const json = await fetch(`${direct}/session/end`, { redirect: 'manual', headers: { accept: 'application/json' } });
    expect(json.status).to.equal(400);
    expect(await json.json()).to.include({ error: 'invalid_request' });
  });

  it('serves the same endpoints through the TLS-terminating proxy', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request(authorization(issuer), { rejectUnauthorized: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).to.equal(303);
  });

  it('does not refuse what sets no cookie over plain http (discovery, probes)', async () => {
    expect((await fetch(`${direct}/.well-known/openid-configuration`)).status).to.equal(200);
    expect((await fetch(`${direct}/healthz`)).status).to.equal(200);
  });
});
