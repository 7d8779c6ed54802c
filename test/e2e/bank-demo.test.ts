// The demo bank (src/demo/bank.ts) as a person meets it: its start page, the FAPI 2.0 flow with demo
// citizen Nguyễn Văn An (level 2, TOTP), and the page that shows every step — the pushed request and
// its answer, the redirect, the callback, the token request with its DPoP proof, userinfo.
import { expect } from 'chai';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';
import { Browser, alertsOf, decodeEntities } from '../support/browserless.ts';
import { createDemoBank } from '../../src/demo/bank.ts';
import { DEMO_BANK_PRIVATE_JWK } from '../../src/demo/demo-bank-key.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';

describe('the demo bank: the FAPI 2.0 flow step by step', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let http: HttpServer;
  let bankUrl: string;

  before(async function () {
    // Any free port: the demo data registers demo-bank's redirect URI on the configured demo.bankPort.
    const bankPort = await freePort();
    world = await startTestServer({ overrides: { demo: { bankPort } } });
    bankUrl = `http://127.0.0.1:${bankPort}`;
    const app = createDemoBank({
      issuer: world.issuer,
      clientId: 'demo-bank',
      privateJwk: DEMO_BANK_PRIVATE_JWK,
      baseUrl: bankUrl,
      scope: 'openid profile national_id identity_document',
    });
    http = createServer(app.callback() as RequestListener);
    await new Promise<void>((resolve) => http.listen(bankPort, '127.0.0.1', resolve));
  });
  after(async function () {
    http?.closeAllConnections();
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    await world?.close();
  });

  /** The page's text, tags dropped, entities decoded. */
  const textOf = (body: string) => decodeEntities(body.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ');

  it('verifies demo citizen An at level 2 and shows each request and answer of the flow', async function () {
    const browser = new Browser(world.issuer);
    const start = await browser.fetch(`${bankUrl}/`);
    expect(start.status).to.equal(200);
    expect(start.body).to.match(/<html lang="vi"/);
    expect(start.body).to.include('href="/login"');

    const login = await browser.fetch(`${bankUrl}/login`);
    expect(login.status).to.equal(302);
    const authorization = new URL(login.location!);
    expect(authorization.origin).to.equal(world.issuer);
    expect([...authorization.searchParams.keys()].sort(), 'only the pushed request is in the browser').to.deep.equal(['client_id', 'request_uri']);

    const an = DEMO_CITIZENS[0]!;
    const callback = await browser.signIn(authorization, an.record.nationalId, an.account!.password, { otp: () => currentTotp(an.account!.totpSecret!) });
    expect(callback.origin).to.equal(bankUrl);
    expect(callback.searchParams.get('iss')).to.equal(world.issuer);
    const back = await browser.fetch(new URL(callback.pathname + callback.search, bankUrl));
    expect(back.status, back.body).to.equal(302);

    const result = await browser.fetch(`${bankUrl}/`);
    expect(alertsOf(result)).to.deep.equal([]);
    const text = textOf(result.body);
    expect(text).to.include('Khách hàng đã được xác minh');
    expect(text).to.include(an.record.nationalId);
    expect(text).to.include('urn:vn:eid:loa:2');
    // Step 1: the pushed request, with its client assertion and DPoP proof, and the request_uri it got.
    expect(text).to.include(`POST ${world.issuer}/request`);
    expect(text).to.include('client_assertion');
    expect(text).to.match(/"typ": "dpop\+jwt"/);
    expect(text).to.include('urn:ietf:params:oauth:request_uri:');
    // The first push meets the bank's DPoP nonce requirement: use_dpop_nonce, then a retry with it.
    expect(text).to.include('use_dpop_nonce');
    // Steps 3–5: the code came back with iss; tokens for the code, DPoP-bound; userinfo with the proof.
    expect(text).to.include(`POST ${world.issuer}/token`);
    expect(text).to.match(/token_type DPoP/);
    expect(text).to.include(`GET ${world.issuer}/me`);
    expect(text).to.match(/authorization DPoP /);
    // Tokens are shown shortened, never whole.
    expect(text).not.to.match(/access_token [A-Za-z0-9_-]{30,}/);
  });

  it('tells in plain words that the bank needs a level-2 account, beside the protocol error, when Bích (level 1) is refused', async function () {
    const browser = new Browser(world.issuer);
    const login = await browser.fetch(`${bankUrl}/login`);
    const bich = DEMO_CITIZENS[1]!;
    const callback = await browser.signIn(new URL(login.location!), bich.record.nationalId, bich.account!.password);
    expect(browser.lastSteps).to.deep.equal(['login', 'unmet']);
    expect(callback.searchParams.get('error')).to.equal('unmet_authentication_requirements');
    const refused = await browser.fetch(new URL(callback.pathname + callback.search, bankUrl));
    expect(refused.status).to.equal(400);
    expect(alertsOf(refused).join(' ')).to.include('Xác minh không thành công').and.to.include('cần tài khoản định danh điện tử mức 2');
    // A demo shows every protocol step: the error as it came stays on the page.
    expect(textOf(refused.body)).to.include('Lỗi giao thức: unmet_authentication_requirements');
    const start = await browser.fetch(`${bankUrl}/?lang=en`);
    expect(alertsOf(start).join(' ')).to.include('This service needs a level-2 eID account');
    expect(textOf(start.body)).to.include('Protocol error: unmet_authentication_requirements');
  });

  it('speaks English when asked, and says so in <html lang>', async function () {
    const page = await new Browser(world.issuer).fetch(`${bankUrl}/?lang=en`);
    expect(page.body).to.match(/<html lang="en"/);
    expect(textOf(page.body)).to.include('Verify the customer with the national eID');
  });

  it('shows a clear error, not a stack, when the callback does not belong to a verification it started', async function () {
    const page = await new Browser(world.issuer).fetch(`${bankUrl}/callback?code=forged&state=x&iss=${encodeURIComponent(world.issuer)}`);
    expect(page.status).to.equal(400);
    expect(alertsOf(page).join(' ')).to.include('no verification was started from this browser');
    expect(page.body).not.to.include('    at ');
  });
});
