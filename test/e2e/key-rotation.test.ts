// Signing-key rotation and revocation across two instances on one database, seen as a relying party
// sees it: the JWKS each instance publishes, and ID tokens (from a real sign-in through openid-client,
// and minted by the second instance's provider) verified with jose against those JWKS.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser } from '../support/browserless.ts';

const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
// Instances re-read the keys every second; a new key is published four seconds before it signs.
const KEYS = { keys: { pollSeconds: 1, publishAheadSeconds: 4, rotationDays: 0 } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('signing-key rotation across instances (end to end)', function () {
  this.timeout(90_000);
  let a: RunningServer;
  let b: RunningServer;
  const portal = {
    clientId: `rotation-portal-${randomBytes(3).toString('hex')}`,
    secret: `secret-${randomBytes(12).toString('hex')}`,
    redirectUri: 'http://127.0.0.1:4190/callback',
  };
  /** ID tokens signed along the way, by kid. */
  const signed: { kid: string; token: string }[] = [];

  before(async function () {
    a = await startTestServer({ overrides: KEYS });
    // The same issuer, as behind one load balancer.
    b = await startTestServer({ sameStorageAs: a, overrides: { ...KEYS, issuer: a.issuer } });
    await a.server.container.clients.save({
      clientId: portal.clientId,
      name: 'Rotation portal',
      profile: 'portal',
      approvedScopes: ['openid'],
      redirectUris: [portal.redirectUri],
      secret: portal.secret,
    });
  });

  after(async function () {
    await b?.close();
    await a?.close();
  });

  /** The JWKS an instance publishes, fetched from its own port. */
  async function jwksOf(instance: RunningServer): Promise<JSONWebKeySet> {
    const response = await fetch(`http://127.0.0.1:${instance.config.port}/jwks`);
    expect(response.status).to.equal(200);
    return (await response.json()) as JSONWebKeySet;
  }

  const kidsOf = async (instance: RunningServer, alg = 'ES256') => (await jwksOf(instance)).keys.filter((key) => key.alg === alg).map((key) => key.kid!);

  /** Signs Bích into the portal through instance A; returns the ID token. */
  async function signIn(): Promise<string> {
    const config = await client.discovery(new URL(a.issuer), portal.clientId, undefined, client.ClientSecretBasic(portal.secret), {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: portal.redirectUri,
      scope: 'openid',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await new Browser(a.issuer).signIn(url, BICH.id, BICH.password, { consent: true });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
    const token = tokens.id_token!;
    signed.push({ kid: decodeProtectedHeader(token).kid!, token });
    return token;
  }

  /** An ID token minted by instance B's provider, as it would sign one now. */
  async function mintOnB(): Promise<string> {
    const provider = b.server.container.provider;
    const found = await provider.Client.find(portal.clientId);
    const idToken = new provider.IdToken({ sub: 'rotation-test' }, { client: found! });
    const token = String(await idToken.issue({ use: 'idtoken' }));
    signed.push({ kid: decodeProtectedHeader(token).kid!, token });
    return token;
  }

  async function verifiesAgainst(instance: RunningServer, token: string): Promise<boolean> {
    try {
      await jwtVerify(token, createLocalJWKSet(await jwksOf(instance)), { issuer: a.issuer, audience: portal.clientId });
      return true;
    } catch {
      return false;
    }
  }

  const signingKid = async (instance: RunningServer) =>
    (await instance.server.container.signingKeys.list()).find((key) => key.alg === 'ES256' && key.state === 'active')!.kid;

  it('starts with the same JWKS on both instances', async function () {
    expect(await jwksOf(b)).to.deep.equal(await jwksOf(a));
    expect(await kidsOf(a)).to.have.length(1);
  });

  it('publishes a new key on both instances before anything is signed with it, then both sign with it', async function () {
    const before = await signIn();
    const oldKid = decodeProtectedHeader(before).kid!;
    const started = Date.now();
    const rotated = await a.server.container.signingKeys.rotate({ algorithms: ['ES256'], actor: 'test' });
    const next = rotated.find((key) => key.alg === 'ES256' && key.state === 'next')!;
    expect(next, 'a next key').to.not.equal(undefined);
    expect(next.activeFrom.getTime() - started).to.be.within(3_000, 5_000);

    // Within a poll, both publish it — the signing key first, the successor after it.
    await waitFor(async () => (await kidsOf(a)).includes(next.kid) && (await kidsOf(b)).includes(next.kid), 'both instances to publish the next key', 3_000);
    expect(await jwksOf(b)).to.deep.equal(await jwksOf(a));
    expect(await kidsOf(a)).to.deep.equal([oldKid, next.kid]);

    // Published, not yet signing: tokens from both instances still carry the old kid.
    expect(Date.now(), 'still within the publish-ahead period').to.be.below(next.activeFrom.getTime());
    expect(decodeProtectedHeader(await mintOnB()).kid).to.equal(oldKid);
    for (const { token } of signed) expect(await verifiesAgainst(b, token), 'verifies at B while the successor waits').to.equal(true);

    // Once active_from has passed (and a poll), both sign with the new key.
    await sleep(Math.max(0, next.activeFrom.getTime() - Date.now()) + 1_500);
    expect(decodeProtectedHeader(await signIn()).kid).to.equal(next.kid);
    expect(decodeProtectedHeader(await mintOnB()).kid).to.equal(next.kid);
    expect(await signingKid(a)).to.equal(next.kid);
    expect(await signingKid(b)).to.equal(next.kid);

    // Every token signed so far verifies against either instance's JWKS: the old key stays published.
    expect(await jwksOf(b)).to.deep.equal(await jwksOf(a));
    expect(await kidsOf(a)).to.deep.equal([next.kid, oldKid]);
    for (const { token } of signed) {
      expect(await verifiesAgainst(a, token), 'verifies at A').to.equal(true);
      expect(await verifiesAgainst(b, token), 'verifies at B').to.equal(true);
    }
  });

  it('keeps the retired key published until its tokens have expired, then drops it on both', async function () {
    const { signingKeys, db } = a.server.container;
    const retired = (await signingKeys.list()).find((key) => key.alg === 'ES256' && key.state === 'retired')!;
    const retention = await signingKeys.retentionSeconds();
    expect(retention, 'at least the ID token lifetime and a poll').to.be.at.least(a.config.ttl.idToken + a.config.keys.pollSeconds);
    expect(retired.publishedUntil!.getTime() - retired.retiredAt!.getTime()).to.equal(retention * 1000);

    // Wind its dates back so that it leaves the JWKS three seconds from now.
    const shiftSeconds = Math.ceil((retired.publishedUntil!.getTime() - Date.now()) / 1000) - 3;
    await db('signing_keys')
      .where({ kid: retired.kid })
      .update({
        created_at: db.raw(`created_at - make_interval(secs => ?)`, [shiftSeconds]),
        active_from: db.raw(`active_from - make_interval(secs => ?)`, [shiftSeconds]),
        retired_at: db.raw(`retired_at - make_interval(secs => ?)`, [shiftSeconds]),
      });
    await Promise.all([a.server.container.signingKeyWatch.refresh(), b.server.container.signingKeyWatch.refresh()]);
    expect(await kidsOf(a)).to.include(retired.kid);
    expect(await kidsOf(b)).to.include(retired.kid);
    const oldToken = signed.find((entry) => entry.kid === retired.kid)!.token;
    expect(await verifiesAgainst(b, oldToken)).to.equal(true);

    // Each instance drops it on its own, at the moment it expires (no refresh from the test).
    await waitFor(async () => !(await kidsOf(a)).includes(retired.kid) && !(await kidsOf(b)).includes(retired.kid), 'the retired key to leave both JWKS', 6_000);
    expect((await signingKeys.list()).find((key) => key.kid === retired.kid)!.state).to.equal('expired');
    expect(await jwksOf(b)).to.deep.equal(await jwksOf(a));
  });

  it('revokes a key in an emergency: it leaves both JWKS within a poll, a new key signs at once, its tokens stop verifying', async function () {
    const compromised = await signingKid(a);
    const token = signed.filter((entry) => entry.kid === compromised).at(-1)!.token;
    expect(await verifiesAgainst(b, token)).to.equal(true);

    const revoked = await a.server.container.signingKeys.revoke(compromised, 'private key found on a lost laptop', 'test-officer');
    expect(revoked.state).to.equal('revoked');
    const revokedAt = Date.now();
    await waitFor(async () => !(await kidsOf(a)).includes(compromised) && !(await kidsOf(b)).includes(compromised), 'the revoked key to leave both JWKS', 3_000);
    expect(Date.now() - revokedAt, 'within a poll interval').to.be.below(2_500);

    expect(await verifiesAgainst(a, token)).to.equal(false);
    expect(await verifiesAgainst(b, token)).to.equal(false);
    const replacement = decodeProtectedHeader(await signIn()).kid!;
    expect(replacement).to.not.equal(compromised);
    expect(decodeProtectedHeader(await mintOnB()).kid).to.equal(replacement);
    expect(await verifiesAgainst(b, signed.at(-1)!.token)).to.equal(true);

    await a.server.container.audit.flush();
    const events = await a.server.container.db('audit_events').where({ type: 'admin.action' }).whereRaw(`data->>'action' = 'signing-key.revoked'`);
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ actor: 'test-officer' });
    expect((events[0] as { data: Record<string, unknown> }).data).to.include({ kid: compromised, reason: 'private key found on a lost laptop', replacement });
  });

  it('keeps serving requests that started before a swap, and swaps the provider only when the keys change', async function () {
    const holder = a.server.container.providers;
    const generation = holder.generation;
    expect(await a.server.container.signingKeyWatch.refresh(), 'nothing changed').to.equal(false);
    expect(holder.generation).to.equal(generation);
    const earlier = holder.current;
    await a.server.container.signingKeys.rotate({ algorithms: ['PS256'], actor: 'test' });
    expect(await a.server.container.signingKeyWatch.refresh()).to.equal(true);
    expect(holder.generation).to.equal(generation + 1);
    expect(holder.current).to.not.equal(earlier);
    // The earlier instance still answers (a request in flight finishes there) with the same clients and storage.
    expect(await earlier.Client.find(portal.clientId)).to.not.equal(undefined);
    // Listeners are on the new provider as on the first (the container's one factory attaches them).
    for (const event of ['grant.success', 'server_error', 'backchannel.error']) {
      expect(earlier.listenerCount(event), event).to.be.above(0);
      expect(holder.current.listenerCount(event), event).to.equal(earlier.listenerCount(event));
    }
  });
});
