// The demo portal (src/demo/portal.ts) when the provider refuses a sign-in: a plain sentence a person
// can act on, beside the protocol error the demo shows as it came.
import { expect } from 'chai';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';
import { Browser, alertsOf, decodeEntities } from '../support/browserless.ts';
import { createDemoPortal } from '../../src/demo/portal.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026' };

describe('the demo portal: a refused sign-in', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let http: HttpServer;
  let portalUrl: string;

  before(async function () {
    // Any free port: the demo data registers demo-portal's redirect URI on the configured demo.portalPort.
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

  it('says in both languages that the service needs a level-2 account, and keeps the error code visible', async function () {
    for (const lang of ['vi', 'en'] as const) {
      const browser = new Browser(world.issuer);
      const login = await browser.fetch(`${portalUrl}/login?lang=${lang}`);
      // The portal asks for no level; a level-2 request (as a service may make) is refused to Bích.
      const authorization = new URL(login.location!);
      authorization.searchParams.set('acr_values', 'urn:vn:eid:loa:2');
      const callback = await browser.signIn(authorization, BICH.id, BICH.password);
      expect(browser.lastSteps).to.deep.equal(['login', 'unmet']);
      const refused = await browser.fetch(new URL(callback.pathname + callback.search, portalUrl));
      expect(refused.status).to.equal(400);
      expect(refused.body).to.include(`<html lang="${lang}"`);
      const [alert] = alertsOf(refused);
      expect(alert).to.include(lang === 'vi' ? 'Dịch vụ này cần tài khoản định danh điện tử mức 2' : 'This service needs a level-2 eID account');
      expect(textOf(refused.body)).to.include(`${lang === 'vi' ? 'Lỗi giao thức' : 'Protocol error'}: unmet_authentication_requirements`);
    }
  });

  it('shows any other error as it came', async function () {
    const browser = new Browser(world.issuer);
    const login = await browser.fetch(`${portalUrl}/login`);
    const state = new URL(login.location!).searchParams.get('state')!;
    const refused = await browser.fetch(`${portalUrl}/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(world.issuer)}`);
    expect(refused.status).to.equal(400);
    expect(alertsOf(refused)).to.deep.equal(['Đăng nhập không thành công: access_denied']);
  });
});
