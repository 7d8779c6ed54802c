// Two provider instances behind one load balancer, sharing PostgreSQL and Redis, as a deployment runs
// them: a bank's DPoP nonce from one instance is good at the other (the nonce secret is derived alike
// on both), and a proof or client assertion used at one is refused as a replay at the other (replay
// detection lives in the shared Redis).
import { expect } from 'chai';
import { createServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import * as client from 'openid-client';
import type { CryptoKey } from 'jose';
import { freePort, startTestServer, type RunningServer } from '../support/world.ts';
import { Browser } from '../support/browserless.ts';
import { clientAssertion, discoverBank, dpopKey, dpopProof, importPrivateJwk, levelTwoCitizen, postForm } from '../support/bank.ts';
import { currentTotp } from '../../src/accounts/totp.ts';
import { DEMO_BANK_PRIVATE_JWK } from '../../src/demo/demo-bank-key.ts';

const BANK_REDIRECT = 'http://127.0.0.1:4003/callback';
/** Test-only: names the instance a request goes to; without it the balancer alternates. */
const ROUTE_HEADER = 'x-test-instance';

interface Routed {
  readonly instance: 'a' | 'b';
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** A round-robin HTTP load balancer that keeps the Host header (the issuer's) and logs each request. */
async function startBalancer(port: number, upstreams: { a: number; b: number }) {
  const log: Routed[] = [];
  let turn = 0;
  const server: HttpServer = createServer((incoming, outgoing) => {
    const asked = incoming.headers[ROUTE_HEADER];
    const instance = asked === 'a' || asked === 'b' ? asked : turn++ % 2 === 0 ? 'a' : 'b';
    const upstream = httpRequest(
      { host: '127.0.0.1', port: upstreams[instance], method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        log.push({ instance, method: incoming.method ?? '', path: new URL(incoming.url ?? '/', 'http://x').pathname, status: answer.statusCode ?? 0 });
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    log,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('bank profile on two instances behind a load balancer (shared PostgreSQL and Redis)', function () {
  this.timeout(60_000);
  let a: RunningServer;
  let b: RunningServer;
  let balancer: Awaited<ReturnType<typeof startBalancer>>;
  let issuer: string;
  const demoKey: { privateKey: CryptoKey; kid: string } = { privateKey: undefined as unknown as CryptoKey, kid: DEMO_BANK_PRIVATE_JWK.kid };

  before(async function () {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    // Both instances answer as the balancer's address: the one issuer of the deployment.
    a = await startTestServer({ overrides: { issuer } });
    b = await startTestServer({ sameStorageAs: a, overrides: { issuer } });
    // The instances listen on ports of their own; their config names the balancer as issuer.
    balancer = await startBalancer(port, { a: a.config.port, b: b.config.port });
    demoKey.privateKey = await importPrivateJwk(DEMO_BANK_PRIVATE_JWK);
  });
  after(async function () {
    await balancer?.close();
    await b?.close();
    await a?.close();
  });

  const endpoint = (path: string) => new URL(path, issuer).href;

  it('runs the whole flow with requests alternating between the instances, each DPoP nonce good at the other', async function () {
    const bank = await discoverBank(issuer, 'demo-bank', demoKey);
    const dpop = client.getDPoPHandle(bank, await client.randomDPoPKeyPair());
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const from = balancer.log.length;
    const url = await client.buildAuthorizationUrlWithPAR(
      bank,
      { redirect_uri: BANK_REDIRECT, scope: 'openid national_id', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' },
      { DPoP: dpop },
    );
    const pushes = balancer.log.slice(from).filter((entry) => entry.path === '/request');
    // The first push had no nonce: use_dpop_nonce from one instance; the retry with its nonce, at the other.
    expect(pushes.map((entry) => entry.status)).to.deep.equal([400, 201]);
    expect(pushes[0]!.instance).not.to.equal(pushes[1]!.instance);

    const citizen = await levelTwoCitizen(a);
    const callback = await new Browser(issuer).signIn(url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
    const beforeToken = balancer.log.length;
    const tokens = await client.authorizationCodeGrant(bank, callback, { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: dpop });
    const tokenRequests = balancer.log.slice(beforeToken).filter((entry) => entry.path === '/token');
    expect(tokenRequests.map((entry) => entry.status), 'the nonce held: no use_dpop_nonce retry').to.deep.equal([200]);
    const userinfo = await client.fetchUserInfo(bank, tokens.access_token, tokens.claims()!.sub, { DPoP: dpop });
    expect(userinfo.national_id).to.equal(citizen.id);
    expect(new Set(balancer.log.map((entry) => entry.instance))).to.deep.equal(new Set(['a', 'b']));
  });

  describe('made by hand, instance by instance', function () {
    const parFields = async () => ({
      client_id: 'demo-bank',
      response_type: 'code',
      redirect_uri: BANK_REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(demoKey, 'demo-bank', issuer),
    });

    it("accepts at instance B a nonce issued by instance A, and refuses at A the proof B accepted", async function () {
      const key = await dpopKey();
      const par = endpoint('/request');
      const first = await postForm(par, await parFields(), { [ROUTE_HEADER]: 'a', dpop: await dpopProof(key, 'POST', par) });
      expect(first.status).to.equal(400);
      expect(first.json.error).to.equal('use_dpop_nonce');
      const nonce = first.headers.get('dpop-nonce')!;
      expect(nonce).to.be.a('string');

      const proof = await dpopProof(key, 'POST', par, { nonce });
      const atB = await postForm(par, await parFields(), { [ROUTE_HEADER]: 'b', dpop: proof });
      expect(atB.status, atB.text).to.equal(201);

      const replayAtA = await postForm(par, await parFields(), { [ROUTE_HEADER]: 'a', dpop: proof });
      expect(replayAtA.status).to.equal(400);
      expect(replayAtA.json.error).to.equal('invalid_request');
      expect(replayAtA.json.error_description).to.match(/replay/i);
    });

    it('refuses at instance B a client assertion instance A accepted', async function () {
      const fields = await parFields();
      const atA = await postForm(endpoint('/request'), fields, { [ROUTE_HEADER]: 'a' });
      expect(atA.status, atA.text).to.equal(201);
      const atB = await postForm(endpoint('/request'), fields, { [ROUTE_HEADER]: 'b' });
      expect(atB.status).to.equal(401);
      expect(atB.json.error).to.equal('invalid_client');
    });
  });
});
