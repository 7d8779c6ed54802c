// Discovery publishes the configured issuer's URLs whatever Host the request names (issue 16 item 5).
import { request } from 'node:http';
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';

function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { headers: { host, accept: 'application/json' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('discovery and the Host header', function () {
  this.timeout(60_000);
  let world: RunningServer;

  before(async () => {
    world = await startTestServer({ seed: false });
  });

  after(() => world.close());

  it('builds every endpoint from the configured issuer, not from Host: evil.example', async () => {
    const { status, body } = await getWithHost(`${world.issuer}/.well-known/openid-configuration`, 'evil.example');
    expect(status).to.equal(200);
    const metadata = JSON.parse(body) as Record<string, unknown>;
    expect(metadata.token_endpoint).to.equal(`${world.issuer}/token`);
    const urls = Object.values(metadata).filter((value): value is string => typeof value === 'string' && /^https?:/.test(value));
    expect(urls.length).to.be.greaterThan(5);
    for (const url of urls) expect(url.startsWith(`${world.issuer}/`) || url === world.issuer, url).to.equal(true);
    expect(body).not.to.include('evil.example');
  });
});
