// private_key_jwt: the assertion's audience is the issuer alone and it is valid for at most an hour; a
// refusal says why, and is logged and audited (issue 16 item 10).
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { CLIENT_ASSERTION_MAX_LIFETIME_SECONDS } from '../../src/oidc/clients/client-assertions.ts';
import { auditEvents } from '../support/admin.ts';
import { clientAssertion, signingKey } from '../support/bank.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';

const CLIENT_ID = 'assertion-service';

describe('client assertions (private_key_jwt) at the token endpoint', function () {
  this.timeout(60_000);
  let world: RunningServer;
  let key: Awaited<ReturnType<typeof signingKey>>;
  const logLines: string[] = [];

  before(async () => {
    const logs = new PassThrough();
    logs.on('data', (chunk: Buffer) => logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    world = await startTestServer({ seed: false, logDestination: logs });
    key = await signingKey('ES256', 'assertion-1');
    await world.server.container.clients.create({
      clientId: CLIENT_ID,
      name: 'Assertion service',
      profile: 'service',
      approvedScopes: [],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] },
    });
  });

  after(() => world.close());

  async function tokenWith(audience: string, overrides: Record<string, unknown> = {}) {
    const response = await fetch(`${world.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(key, CLIENT_ID, audience, overrides),
      }),
    });
    return { status: response.status, body: (await response.json()) as { error?: string; error_description?: string; access_token?: string } };
  }

  it('takes the issuer as audience, with exp an hour away (authlib signs for an hour)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const answer = await tokenWith(world.issuer, { exp: now + CLIENT_ASSERTION_MAX_LIFETIME_SECONDS });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
  });

  it('refuses the token endpoint as audience, says why, and logs and audits the refusal', async () => {
    const answer = await tokenWith(`${world.issuer}/token`);
    expect(answer.status).to.equal(401);
    expect(answer.body.error).to.equal('invalid_client');
    expect(answer.body.error_description).to.include(`aud must be the issuer identifier ${world.issuer}`);
    const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'refused a client assertion');
    expect(logged).to.include({ clientId: CLIENT_ID, aud: `${world.issuer}/token`, endpoint: 'token' });
    const [event] = await auditEvents(world, 'client.assertion_refused', CLIENT_ID);
    expect(event?.client_id).to.equal(CLIENT_ID);
    expect(event?.data).to.include({ endpoint: 'token', aud: `${world.issuer}/token` });
  });

  it('refuses an assertion whose exp is far in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    const answer = await tokenWith(world.issuer, { exp: now + 24 * 3600 });
    expect(answer.status).to.equal(401);
    expect(answer.body.error_description).to.include(`exp must be at most ${CLIENT_ASSERTION_MAX_LIFETIME_SECONDS} seconds from now`);
  });
});
