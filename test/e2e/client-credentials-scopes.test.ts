// client_credentials grants only the scopes the client is approved for; the rest is dropped, not
// refused, and the token response and introspection say what was granted (issue 16 item 4): `scope` is
// in the token response whenever it differs from the request, `""` when nothing was granted (an absent
// scope would mean "as requested", RFC 6749 §5.1).
import { expect } from 'chai';
import { ADMIN_API_RESOURCE } from '../../src/oidc/admin-tokens.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

describe('client_credentials scopes', function () {
  this.timeout(60_000);
  let world: RunningServer;

  before(async () => {
    world = await startTestServer();
    await world.server.container.clients.create({
      clientId: 'audit-robot',
      name: 'Audit robot',
      profile: 'service',
      approvedScopes: ['admin:audit'],
      secret: 'audit-robot-secret-0123456789',
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
  });

  after(() => world.close());

  async function token(clientId: string, secret: string, scope: string | undefined, resource?: string) {
    const authorization = basic(clientId, secret);
    const response = await fetch(`${world.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope !== undefined && { scope }), ...(resource !== undefined && { resource }) }),
    });
    const body = (await response.json()) as { access_token: string; scope?: string };
    expect(response.status, JSON.stringify(body)).to.equal(200);
    const introspection = await fetch(`${world.issuer}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
      body: new URLSearchParams({ token: body.access_token }),
    });
    return { granted: body.scope, introspected: ((await introspection.json()) as { active: boolean; scope?: string }).scope };
  }

  it('drops every scope a client without approvals asks for (demo-service asking for openid national_id ethnicity)', async () => {
    const { granted, introspected } = await token('demo-service', 'demo-service-secret', 'openid national_id ethnicity');
    expect(granted, 'the response says nothing was granted, rather than leaving scope out ("as requested")').to.equal('');
    expect(introspected).to.equal(undefined);
  });

  it('leaves scope out when none was asked for and none granted (the same as the request)', async () => {
    const { granted } = await token('demo-service', 'demo-service-secret', undefined);
    expect(granted).to.equal(undefined);
  });

  it('keeps the approved scopes a resource server offers and drops the others', async () => {
    const { granted, introspected } = await token('audit-robot', 'audit-robot-secret-0123456789', 'admin:audit national_id admin:clients', ADMIN_API_RESOURCE);
    expect(granted).to.equal('admin:audit');
    expect(introspected).to.equal('admin:audit');
  });
});
