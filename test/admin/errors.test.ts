// The admin port's last line: whatever a route did not expect — on the app, in the admin API, on a
// console page — is logged once with the request's id and answered without a word of the internals:
// problem details with code server_error for programs, the console's error page for a browser.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { buildAdminApp } from '../../src/server.ts';
import { Router } from '../../src/web/router.ts';
import type { AuditTrail } from '../../src/audit/audit-trail.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminSession, FIRST_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { captureLogs } from '../support/logs.ts';

const INTERNALS = 'connection to 10.0.0.7:5432 refused by pg_hba.conf';

describe('admin port: unexpected errors', function () {
  this.timeout(60_000);
  const logs = captureLogs();
  let world: RunningServer;
  let http: HttpServer;
  let adminUrl: string;
  let auditor: AdminCredentials & { kind: 'session' };

  before(async () => {
    world = await startTestServer({ logDestination: logs.stream });
    const { container } = world.server;
    // The same services, but the audit trail's reader fails as a broken database would.
    const failingTrail = { query: () => Promise.reject(new Error(INTERNALS)) } as unknown as AuditTrail;
    const app = buildAdminApp(
      { ...container, admin: { ...container.admin, trail: failingTrail } },
      {
        extraRoutes: new Router().get('/test/failing', () => {
          throw new Error(INTERNALS);
        }),
      },
    );
    const handle = app.callback();
    http = createServer((request, response) => void handle(request, response));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    adminUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    auditor = await adminSession(world, FIRST_ADMIN, ['auditor']);
  });
  after(async () => {
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await world?.close();
  });

  /** The error lines written while serving the request `id`. */
  const errorLinesOf = async (id: string) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return logs.errors().filter((record) => record.requestId === id);
  };

  const expectServerError = async (response: Response) => {
    expect(response.status).to.equal(500);
    expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    const text = await response.text();
    expect(JSON.parse(text)).to.deep.equal({
      type: 'about:blank',
      title: 'server error',
      status: 500,
      code: 'server_error',
      detail: 'the request failed; it is logged',
    });
    expect(text).to.not.include(INTERNALS);
    expect(text).to.not.match(/\bat .*\.ts:\d+/);
  };

  it('answers a route that throws with a problem body saying nothing of it, and logs it once with the request id', async () => {
    const response = await fetch(`${adminUrl}/test/failing`, { headers: { accept: 'application/json' } });
    await expectServerError(response);
    const lines = await errorLinesOf(response.headers.get('x-request-id')!);
    expect(lines).to.have.length(1);
    expect(JSON.stringify(lines[0])).to.include(INTERNALS);
  });

  it('does the same for an admin API call whose service fails: one log line, the same problem body', async () => {
    const response = await fetch(`${adminUrl}/api/audit/events`, { headers: { cookie: auditor.cookie } });
    await expectServerError(response);
    const lines = await errorLinesOf(response.headers.get('x-request-id')!);
    expect(lines).to.have.length(1);
    expect(JSON.stringify(lines[0])).to.include(INTERNALS);
  });

  it('answers a browser on a console page with the console’s error page, in its language, logged once', async () => {
    const response = await fetch(`${adminUrl}/console/audit?lang=en`, { headers: { cookie: auditor.cookie, accept: 'text/html' } });
    expect(response.status).to.equal(500);
    expect(response.headers.get('content-type')).to.match(/^text\/html/);
    expect(response.headers.get('content-security-policy')).to.include("default-src 'none'");
    const page = await response.text();
    expect(page).to.include('<html lang="en"');
    expect(page).to.match(/role="alert"/);
    expect(page).to.not.include(INTERNALS);
    const lines = await errorLinesOf(response.headers.get('x-request-id')!);
    expect(lines).to.have.length(1);
  });
});
