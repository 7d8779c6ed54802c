// The public app's last line (src/web/errors.ts): a route that throws gets a 500 that says nothing of
// the internals — a bilingual page for browsers, OAuth JSON for programs — and one error log line
// that carries the request id.
import { expect } from 'chai';
import type { PageRoutes } from '../../src/server.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { captureLogs } from '../support/logs.ts';

const SECRET_DETAIL = 'connection to 10.0.0.7 refused by pg_hba for user idp_owner';

/** A route that fails as a bug would. */
const throwingPage: PageRoutes = () => async (ctx, next) => {
  if (ctx.path !== '/test/throws') {
    await next();
    return;
  }
  throw new Error(SECRET_DETAIL);
};

describe('the public app answers an unexpected failure', function () {
  this.timeout(60_000);
  let world: RunningServer;
  const logs = captureLogs();
  before(async () => {
    world = await startTestServer({ seed: false, logDestination: logs.stream, pageRoutes: [throwingPage] });
  });
  after(() => world?.close());

  /** The error lines written for the request with this id. */
  const errorLinesOf = async (response: Response) => {
    const id = response.headers.get('x-request-id');
    expect(id).to.be.a('string');
    await new Promise((resolve) => setTimeout(resolve, 50));
    return logs.errors().filter((record) => record.requestId === id);
  };

  const expectNothingInternal = (body: string) => {
    expect(body).to.not.include(SECRET_DETAIL);
    expect(body).to.not.include('at ');
    expect(body).to.not.include('.ts:');
  };

  it('with a generic page in Vietnamese for a browser, and logs it once at level error with the request id', async () => {
    const response = await fetch(`${world.issuer}/test/throws`, { headers: { Accept: 'text/html' } });
    expect(response.status).to.equal(500);
    expect(response.headers.get('content-type')).to.match(/^text\/html/);
    const body = await response.text();
    expect(body).to.include('<html lang="vi"');
    expect(body).to.include('Hệ thống gặp sự cố ngoài dự kiến');
    expectNothingInternal(body);
    const lines = await errorLinesOf(response);
    expect(lines).to.have.length(1);
    expect(lines[0]!.level).to.equal('error');
    expect(lines[0]!.msg).to.equal('a request failed unexpectedly');
  });

  it('in English with ?lang=en', async () => {
    const response = await fetch(`${world.issuer}/test/throws?lang=en`, { headers: { Accept: 'text/html' } });
    expect(response.status).to.equal(500);
    const body = await response.text();
    expect(body).to.include('<html lang="en"');
    expect(body).to.include('Something unexpected went wrong');
    expectNothingInternal(body);
    expect(await errorLinesOf(response)).to.have.length(1);
  });

  it('with {"error":"server_error"} for a program', async () => {
    const response = await fetch(`${world.issuer}/test/throws`, { headers: { Accept: 'application/json' } });
    expect(response.status).to.equal(500);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    const text = await response.text();
    expectNothingInternal(text);
    expect((JSON.parse(text) as { error: string }).error).to.equal('server_error');
    expect(await errorLinesOf(response)).to.have.length(1);
  });
});
