// The demo portal's "Sign in for an organisation or a child" (src/demo/portal.ts): it asks for
// urn:vn:eid:representation, and after Nguyễn Văn An chose his company it shows the granted details.
import { expect } from 'chai';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';
import { Browser, decodeEntities } from '../support/browserless.ts';
import { AN, ORGANISATION, REPRESENTATION_TYPE, walk } from '../support/representation.ts';
import { createDemoPortal } from '../../src/demo/portal.ts';

describe('the demo portal: signing in for an organisation or a child', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let http: HttpServer;
  let portalUrl: string;

  before(async function () {
    const portalPort = await freePort();
    world = await startTestServer({ overrides: { demo: { portalPort } } });
    portalUrl = `http://localhost:${portalPort}`;
    const app = createDemoPortal({ issuer: world.issuer, clientId: 'demo-portal', clientSecret: 'demo-portal-secret', baseUrl: portalUrl, scope: 'openid profile' });
    http = createServer(app.callback() as RequestListener);
    await new Promise<void>((resolve) => http.listen(portalPort, '127.0.0.1', resolve));
  });
  after(async function () {
    http?.closeAllConnections();
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    await world?.close();
  });

  const textOf = (body: string) => decodeEntities(body.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ');

  it('offers the button in both languages, asks for the representation type, and shows the party An chose', async function () {
    const browser = new Browser(world.issuer);
    expect(textOf((await browser.fetch(`${portalUrl}/`)).body)).to.include('Đăng nhập thay mặt tổ chức hoặc trẻ em');
    expect(textOf((await browser.fetch(`${portalUrl}/?lang=en`)).body)).to.include('Sign in for an organisation or a child');

    const login = await browser.fetch(`${portalUrl}/login?for=others`);
    const authorization = new URL(login.location!);
    const asked = JSON.parse(authorization.searchParams.get('authorization_details')!) as { type: string }[];
    expect(asked[0]!.type).to.equal(REPRESENTATION_TYPE);
    const { callback } = await walk(browser, authorization, AN, `organisation:${ORGANISATION.code}`);
    const landed = await browser.fetch(new URL(callback.pathname + callback.search, portalUrl));
    expect(landed.status, landed.body).to.equal(302);
    const home = textOf((await browser.fetch(`${portalUrl}/?lang=en`)).body);
    expect(home).to.include('Acting for (authorization_details)');
    expect(home).to.include(ORGANISATION.name).and.include(ORGANISATION.code);
  });
});
