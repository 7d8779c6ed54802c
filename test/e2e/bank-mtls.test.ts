// Mutual TLS (RFC 8705) behind a TLS-terminating proxy: the proxy passes the client's certificate in a
// header, which the provider believes only from a trusted proxy address. Here the test plays the
// proxy: instance "trusting" has TRUSTED_PROXIES=127.0.0.1; instance "wary" (same storage) trusts
// another address, so the same header reaching it from 127.0.0.1 counts for nothing.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import * as client from 'openid-client';
import { exportJWK } from 'jose';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { Browser } from '../support/browserless.ts';
import { levelTwoCitizen, postForm } from '../support/bank.ts';
import { currentTotp } from '../../src/accounts/totp.ts';

const CERTIFICATES = path.resolve(import.meta.dirname, '../support/certificates');
const pem = (name: string) => readFileSync(path.join(CERTIFICATES, name), 'utf8');
/** RFC 9440: the DER certificate in base64 between colons. */
const rfc9440 = (certificatePem: string) => `:${new X509Certificate(certificatePem).raw.toString('base64')}:`;
const BANK_REDIRECT = 'http://127.0.0.1:4003/callback';
const HEADER = 'client-cert';

describe('bank profile with mutual TLS behind a proxy (certificate in a header)', function () {
  this.timeout(60_000);
  let trusting: RunningServer;
  let wary: RunningServer;

  before(async function () {
    const mtls = { certificateHeader: HEADER, caFile: path.join(CERTIFICATES, 'ca.pem') };
    trusting = await startTestServer({ overrides: { trustedProxies: ['127.0.0.1'], mtls } });
    wary = await startTestServer({ sameStorageAs: trusting, overrides: { trustedProxies: ['192.0.2.10'], mtls } });
    const { clients } = trusting.server.container;
    await clients.save({
      clientId: 'pki-bank',
      name: 'PKI bank',
      profile: 'bank',
      tokenEndpointAuthMethod: 'tls_client_auth',
      tlsClientAuthSubject: { kind: 'subject_dn', value: 'CN=bank.example.vn,O=Test Bank,C=VN' },
      approvedScopes: ['openid', 'national_id'],
      redirectUris: [BANK_REDIRECT],
      subjectType: 'public',
    });
    const selfSigned = new X509Certificate(pem('self-signed.pem'));
    await clients.save({
      clientId: 'self-signed-bank',
      name: 'Self-signed bank',
      profile: 'bank',
      tokenEndpointAuthMethod: 'self_signed_tls_client_auth',
      jwks: { keys: [{ ...(await exportJWK(selfSigned.publicKey)), kid: 'self-signed-1', use: 'sig', x5c: [selfSigned.raw.toString('base64')] }] },
      approvedScopes: ['openid'],
      redirectUris: [BANK_REDIRECT],
      subjectType: 'public',
    });
  });
  after(async function () {
    await wary?.close();
    await trusting?.close();
  });

  /** openid-client as a bank behind the proxy: every request carries the certificate header. */
  function bankClient(issuer: string, clientId: string, header: string | undefined): Promise<client.Configuration> {
    const withCertificate: client.CustomFetch = (url, init) =>
      fetch(url, { ...init, headers: { ...init.headers, ...(header !== undefined && { [HEADER]: header }) } });
    return client.discovery(new URL(issuer), clientId, undefined, client.TlsClientAuth(), {
      execute: [client.allowInsecureRequests],
      [client.customFetch]: withCertificate,
    });
  }

  async function pushed(issuer: string, clientId: string, header: string | undefined) {
    return postForm(
      new URL('/request', issuer).href,
      {
        client_id: clientId,
        response_type: 'code',
        redirect_uri: BANK_REDIRECT,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      },
      header === undefined ? {} : { [HEADER]: header },
    );
  }

  it('signs a citizen in with tls_client_auth, and binds the access token to the certificate', async function () {
    const certificate = rfc9440(pem('bank.pem'));
    const bank = await bankClient(trusting.issuer, 'pki-bank', certificate);
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(bank, {
      redirect_uri: BANK_REDIRECT,
      scope: 'openid national_id',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const citizen = await levelTwoCitizen(trusting);
    const callback = await new Browser(trusting.issuer).signIn(url, citizen.id, citizen.password, { otp: () => currentTotp(citizen.secret) });
    const tokens = await client.authorizationCodeGrant(bank, callback, { pkceCodeVerifier: verifier });
    expect(tokens.token_type.toLowerCase()).to.equal('bearer');

    const userinfo = (issuer: string, header?: string) =>
      fetch(new URL('/me', issuer), { headers: { authorization: `Bearer ${tokens.access_token}`, ...(header !== undefined && { [HEADER]: header }) } });
    const withCertificate = await userinfo(trusting.issuer, certificate);
    expect(withCertificate.status).to.equal(200);
    expect(((await withCertificate.json()) as { national_id: string }).national_id).to.equal(citizen.id);
    // nginx's $ssl_client_escaped_cert (URL-encoded PEM) names the same certificate.
    expect((await userinfo(trusting.issuer, encodeURIComponent(pem('bank.pem')))).status).to.equal(200);

    expect((await userinfo(trusting.issuer)).status, 'without the certificate').to.equal(401);
    expect((await userinfo(trusting.issuer, rfc9440(pem('intruder.pem')))).status, 'with another certificate').to.equal(401);
    expect((await userinfo(wary.issuer, certificate)).status, 'the header from an untrusted peer').to.equal(401);
    expect((await userinfo(wary.issuer)).status).to.equal(401);
  });

  it('refuses tls_client_auth with a certificate the configured CA did not issue, even with the registered subject', async function () {
    const intruder = await pushed(trusting.issuer, 'pki-bank', rfc9440(pem('intruder.pem')));
    expect(intruder.status).to.equal(401);
    expect(intruder.json.error).to.equal('invalid_client');
    const none = await pushed(trusting.issuer, 'pki-bank', undefined);
    expect(none.status).to.equal(401);
    const genuine = await pushed(trusting.issuer, 'pki-bank', rfc9440(pem('bank.pem')));
    expect(genuine.status, genuine.text).to.equal(201);
  });

  it('ignores the certificate header from a peer that is not a trusted proxy', async function () {
    const answer = await pushed(wary.issuer, 'pki-bank', rfc9440(pem('bank.pem')));
    expect(answer.status).to.equal(401);
    expect(answer.json.error).to.equal('invalid_client');
  });

  it('authenticates self_signed_tls_client_auth by the registered certificate only', async function () {
    const genuine = await pushed(trusting.issuer, 'self-signed-bank', rfc9440(pem('self-signed.pem')));
    expect(genuine.status, genuine.text).to.equal(201);
    const other = await pushed(trusting.issuer, 'self-signed-bank', rfc9440(pem('bank.pem')));
    expect(other.status).to.equal(401);
    expect(other.json.error).to.equal('invalid_client');
    expect((await pushed(wary.issuer, 'self-signed-bank', rfc9440(pem('self-signed.pem')))).status).to.equal(401);
  });

});
