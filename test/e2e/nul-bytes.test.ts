// A NUL byte (U+0000) in any parameter is refused with 400 at the door of both apps (src/web/nul-bytes.ts),
// where it used to reach PostgreSQL and come back as a 500.
import { expect } from 'chai';
import type { OutboxNotifier } from '../../src/accounts/notifier.ts';
import { startAccountServer, type AccountWorld } from '../support/account-world.ts';
import { serviceToken } from '../support/admin.ts';
import { Browser, formsOf, stepOf, type Page } from '../support/browserless.ts';

const PORTAL = { id: 'demo-portal', secret: 'demo-portal-secret' };
const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields), redirect: 'manual' });
}

async function expectOAuthRefusal(response: Response): Promise<void> {
  expect(response.status, await response.clone().text()).to.equal(400);
  const body = (await response.json()) as { error?: string; error_description?: string };
  expect(body.error).to.equal('invalid_request');
  expect(body.error_description).to.include('NUL');
}

describe('NUL bytes in parameters', function () {
  this.timeout(60_000);
  let world: AccountWorld;
  let issuer: string;

  before(async () => {
    world = await startAccountServer();
    issuer = world.issuer;
  });

  after(() => world.close());

  it('refuses client_id with a NUL at /auth, /session/end and /request (PAR) with invalid_request', async () => {
    await expectOAuthRefusal(await fetch(`${issuer}/auth?client_id=demo%00portal&response_type=code&scope=openid`, { redirect: 'manual' }));
    await expectOAuthRefusal(await fetch(`${issuer}/session/end?client_id=demo%00portal`, { redirect: 'manual' }));
    await expectOAuthRefusal(await postForm(`${issuer}/request`, { client_id: 'demo\0portal', response_type: 'code', scope: 'openid' }));
  });

  it('refuses client_id with a NUL at /token, in the body and in Basic credentials', async () => {
    await expectOAuthRefusal(await postForm(`${issuer}/token`, { grant_type: 'client_credentials', client_id: 'demo\0service', client_secret: 'x' }));
    await expectOAuthRefusal(await postForm(`${issuer}/token`, { grant_type: 'client_credentials' }, { authorization: basic('demo\0service', 'x') }));
  });

  it('refuses a token with a NUL at the refresh grant, introspection and revocation', async () => {
    const authorization = basic(PORTAL.id, PORTAL.secret);
    await expectOAuthRefusal(await postForm(`${issuer}/token`, { grant_type: 'refresh_token', refresh_token: 'abc\0def' }, { authorization }));
    await expectOAuthRefusal(await postForm(`${issuer}/token/introspection`, { token: 'abc\0def' }, { authorization }));
    await expectOAuthRefusal(await postForm(`${issuer}/token/revocation`, { token: 'abc\0def' }, { authorization }));
  });

  it('refuses a NUL at dynamic registration, in the path and in a JSON body (also as \\u0000)', async () => {
    await expectOAuthRefusal(await fetch(`${issuer}/reg/demo%00portal`, { headers: { authorization: 'Bearer abc' } }));
    const body = '{"redirect_uris":["https://rp.example/cb"],"client_name":"a\\u0000b"}';
    await expectOAuthRefusal(await fetch(`${issuer}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
  });

  it('still reads the body it checked: a clean token request gets its token', async () => {
    const response = await postForm(`${issuer}/token`, { grant_type: 'client_credentials' }, { authorization: basic('demo-service', 'demo-service-secret') });
    expect(response.status, await response.clone().text()).to.equal(200);
    expect(((await response.json()) as { access_token?: string }).access_token).to.be.a('string');
  });

  it('refuses a NUL in the admin API with a problem+json 400', async () => {
    const credentials = await serviceToken(world, ['admin:clients']);
    const response = await fetch(`${world.adminUrl}/api/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credentials.token}`, 'content-type': 'application/json' },
      body: '{"clientId":"rp\\u0000x","name":"x","profile":"service","approvedScopes":[]}',
    });
    expect(response.status).to.equal(400);
    expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(await response.json()).to.include({ status: 400, code: 'invalid_request' });
    const lookup = await fetch(`${world.adminUrl}/api/clients/rp%00x`, { headers: { authorization: `Bearer ${credentials.token}` } });
    expect(lookup.status).to.equal(400);
  });

  it("answers the account page's e-mail form with the error page, and sends nothing", async () => {
    const browser = new Browser(issuer);
    let page: Page = await browser.get(`${issuer}/account/contacts/email`);
    for (let steps = 0; steps < 4 && stepOf(page); steps += 1) {
      if (stepOf(page) === 'login') page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/login'))!, { username: BICH.id, password: BICH.password });
      else page = await browser.submit(formsOf(page).find((form) => form.action.endsWith('/consent'))!);
    }
    const outbox = world.server.container.notifier as OutboxNotifier;
    const sentBefore = (await outbox.list({ limit: 100 })).length;
    const form = formsOf(page).find((candidate) => new URL(candidate.action).pathname === '/account/contacts/email')!;
    const refused = await browser.submit(form, { value: 'bich\0@example.vn' });
    expect(refused.status).to.equal(400);
    expect(refused.body).to.match(/<html lang=/).and.to.include('NUL');
    expect(await outbox.list({ limit: 100 })).to.have.length(sentBefore);
  });

  it('shows a browser the error page, not JSON, at the provider too', async () => {
    const response = await fetch(`${issuer}/auth?client_id=demo%00portal`, { headers: { accept: BROWSER_ACCEPT }, redirect: 'manual' });
    expect(response.status).to.equal(400);
    expect(response.headers.get('content-type')).to.match(/^text\/html/);
  });
});
