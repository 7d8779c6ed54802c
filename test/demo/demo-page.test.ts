// The demo apps' pages as a newcomer reads them (src/demo/demo-page.ts): dates as dates, an address as
// an address, each beside the claim name and value the protocol carried, and their own stylesheet.
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { claimsList } from '../../src/demo/demo-page.ts';
import { createDemoPortal } from '../../src/demo/portal.ts';
import { createDemoBank } from '../../src/demo/bank.ts';
import { DEMO_BANK_PRIVATE_JWK } from '../../src/demo/demo-bank-key.ts';

/** The text a person sees, tags dropped. */
const textOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

describe('the demo pages', function () {
  const address = { formatted: '45 Đường Lê Lợi, Phường Sài Gòn', street_address: '45 Đường Lê Lợi', locality: 'Phường Sài Gòn', region: 'Thành phố Hồ Chí Minh', country: 'VN' };

  it('shows a timestamp claim as a date and time in Vietnam, in the page language, with the number it came as', function () {
    // 2026-12-08T01:02:03Z is 08:02:03 in Vietnam.
    expect(textOf(claimsList('en', { auth_time: 1796691723 }))).to.include('8 December 2026, 08:02:03 (Vietnam time) 1796691723');
    expect(textOf(claimsList('vi', { auth_time: 1796691723 }))).to.include('8 tháng 12, 2026, 08:02:03 (giờ Việt Nam) 1796691723');
  });

  it('shows a date of birth as a date, keeping the ISO date', function () {
    expect(textOf(claimsList('en', { birthdate: '1985-07-02' }))).to.include('2 July 1985 1985-07-02');
  });

  it('shows the address as an address, line by line, the claim as JSON only behind a disclosure', function () {
    const html = claimsList('vi', { address });
    expect(html).to.include('<address>45 Đường Lê Lợi<br>Phường Sài Gòn<br>Thành phố Hồ Chí Minh<br>Việt Nam</address>');
    expect(html.slice(0, html.indexOf('<details>'))).not.to.include('{');
  });

  it('names each claim in the page language beside its claim name', function () {
    expect(textOf(claimsList('vi', { national_id: '079185000123' }))).to.equal('Số định danh cá nhân national_id 079185000123');
    expect(textOf(claimsList('en', { acr: 'urn:vn:eid:loa:2' }))).to.equal('Assurance level acr urn:vn:eid:loa:2 (level 2)');
  });

  for (const [name, app] of [
    ['portal', createDemoPortal({ issuer: 'http://127.0.0.1:1', clientId: 'demo-portal', clientSecret: 'x', baseUrl: 'http://localhost:4000', scope: 'openid' })],
    ['bank', createDemoBank({ issuer: 'http://127.0.0.1:1', clientId: 'demo-bank', privateJwk: DEMO_BANK_PRIVATE_JWK, baseUrl: 'http://127.0.0.1:4003', scope: 'openid' })],
  ] as const) {
    it(`serves the ${name} its stylesheet from its own origin, and links it from its pages`, async function () {
      const server = createServer(app.callback() as RequestListener);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        const style = await fetch(`http://127.0.0.1:${port}/demo.css`);
        expect(style.status).to.equal(200);
        expect(style.headers.get('content-type')).to.match(/^text\/css/);
        const home = await (await fetch(`http://127.0.0.1:${port}/?lang=en`)).text();
        expect(home).to.include('<link rel="stylesheet" href="/demo.css">');
        expect(home).not.to.include('<style');
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
});
