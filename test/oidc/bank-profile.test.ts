// The bank profile's registration rules (src/oidc/clients/client-keys.ts), the certificate header of mutual TLS
// behind a proxy (src/oidc/clients/client-certificate.ts), and the provider's guarded fetch of client-registered
// addresses (src/oidc/provider-fetch.ts).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { buildClientMetadata, InvalidClientRegistration, type ClientRegistration } from '../../src/oidc/clients/clients.ts';
import { certificateAuthorities, certificateFromHeader, certificateMatches } from '../../src/oidc/clients/client-certificate.ts';
import { providerFetch, PROVIDER_FETCH_MAX_BYTES } from '../../src/oidc/provider-fetch.ts';
import { DEMO_BANK_PUBLIC_JWK } from '../../src/demo/demo-bank-key.ts';
import { DEMO_CLIENTS } from '../../src/admin/demo-data.ts';

const CERTIFICATES = path.resolve(import.meta.dirname, '../support/certificates');
const pem = (name: string) => readFileSync(path.join(CERTIFICATES, name), 'utf8');

const bank = (overrides: Partial<ClientRegistration> = {}): ClientRegistration => ({
  clientId: 'test-bank',
  name: 'Test bank',
  profile: 'bank',
  approvedScopes: ['openid', 'national_id', 'offline_access'],
  redirectUris: ['https://bank.example.vn/callback'],
  jwks: { keys: [DEMO_BANK_PUBLIC_JWK] },
  ...overrides,
});

const refused = (registration: ClientRegistration, message: RegExp) =>
  expect(() => buildClientMetadata(registration)).to.throw(InvalidClientRegistration, message);

async function publicKey(alg: 'ES256' | 'RS256' | 'ECDH-ES' | 'RSA-OAEP-256', extra: Partial<JWK> = {}, options: { crv?: string } = {}): Promise<JWK> {
  const { publicKey: key } = await generateKeyPair(alg, { extractable: true, ...options });
  return { ...(await exportJWK(key)), kid: `${alg}-${Math.random().toString(36).slice(2, 8)}`, ...extra };
}

describe('bank profile: registration', function () {
  it('gives a bank FAPI 2.0 metadata: PAR required, DPoP-bound tokens, private_key_jwt, level 2 by default', function () {
    const metadata = buildClientMetadata(bank());
    expect(metadata).to.include({
      token_endpoint_auth_method: 'private_key_jwt',
      require_pushed_authorization_requests: true,
      dpop_bound_access_tokens: true,
    });
    expect(metadata.default_acr_values).to.deep.equal(['urn:vn:eid:loa:2']);
    expect(metadata.response_types).to.deep.equal(['code']);
    expect(metadata.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
    expect(metadata).not.to.have.property('tls_client_certificate_bound_access_tokens');
  });

  it('registers demo-bank as docs/design.md says: the published public key, DPoP, PAR, public subjects', function () {
    const demo = DEMO_CLIENTS.find((registration) => registration.clientId === 'demo-bank')!;
    const metadata = buildClientMetadata(demo, { allowLoopbackReceivers: true });
    expect(metadata).to.include({ token_endpoint_auth_method: 'private_key_jwt', dpop_bound_access_tokens: true, require_pushed_authorization_requests: true, subject_type: 'public' });
    expect(metadata.redirect_uris).to.deep.equal(['http://127.0.0.1:4003/callback']);
    expect(demo.approvedScopes).to.deep.equal(['openid', 'profile', 'national_id', 'identity_document', 'offline_access', 'chip_verification']);
    expect((metadata.jwks as { keys: JWK[] }).keys).to.deep.equal([
      { kty: 'EC', crv: 'P-256', kid: 'demo-bank-2026', alg: 'ES256', use: 'sig', x: 'XkcBBuFzWz-d13tC433oSjPQqCkIIffRSb6nVo6RVcg', y: 'H1M1C-PM0HczsNTWCj_JERyS1H3CC5CVJh46Aa45qwQ' },
    ]);
  });

  it('refuses client_secret_basic, and private_key_jwt without keys', function () {
    refused(bank({ tokenEndpointAuthMethod: 'client_secret_basic', secret: 'a-long-enough-secret', jwks: undefined }), /a bank client uses private_key_jwt or tls_client_auth or self_signed_tls_client_auth/);
    refused(bank({ jwks: undefined }), /private_key_jwt needs the client's public keys: give jwks or jwks_uri/);
  });

  it('refuses private parts, symmetric keys, short RSA keys, keys without kid, and both jwks and jwks_uri', function () {
    refused(bank({ jwks: { keys: [{ ...DEMO_BANK_PUBLIC_JWK, d: '5tsYP-VcSYC8nRgHQEMw7M0IG3ClwJFc82go9uKVRWQ' }] } }), /private or symmetric key material/);
    refused(bank({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'shared' }] } }), /private or symmetric key material/);
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    refused(bank({ jwks: { keys: [{ ...short, kid: 'short' }] } }), /at least 2048 bits/);
    const anonymous = Object.fromEntries(Object.entries(DEMO_BANK_PUBLIC_JWK).filter(([member]) => member !== 'kid'));
    refused(bank({ jwks: { keys: [anonymous] } }), /needs a kid of its own/);
    refused(bank({ jwks: { keys: [] } }), /1 to 10 public keys/);
    refused(bank({ jwksUri: 'https://bank.example.vn/jwks' }), /not both/);
    refused(bank({ jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'broken', x: 'AAAA', y: 'AAAA' }] } }), /not a valid RSA, EC or OKP public key/);
  });

  it('holds a bank to the FAPI 2.0 algorithms (PS256, ES256, EdDSA), not other profiles', async function () {
    refused(bank({ jwks: { keys: [await publicKey('RS256', { alg: 'RS256' })] } }), /alg "RS256" is not accepted from a bank client/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    refused(bank({ jwks: { keys: [{ ...p384, kid: 'p384' }] } }), /RSA \(PS256\), EC P-256 \(ES256\) or Ed25519/);
    refused(bank({ settings: { idTokenSignedResponseAlg: 'RS256' } }), /id_token_signed_response_alg: "RS256" is not offered to a bank client/);
    refused(bank({ authorizationSignedResponseAlg: 'RS256' }), /authorization_signed_response_alg: "RS256" is not offered to a bank client/);
    expect(buildClientMetadata(bank({ settings: { idTokenSignedResponseAlg: 'PS256' } })).id_token_signed_response_alg).to.equal('PS256');
    const portal = buildClientMetadata({
      clientId: 'rsa-portal',
      name: 'RSA portal',
      profile: 'portal',
      approvedScopes: ['openid'],
      redirectUris: ['https://portal.example.vn/callback'],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [await publicKey('RS256', { alg: 'RS256' })] },
    });
    expect(portal).to.include({ token_endpoint_auth_method: 'private_key_jwt' });
    expect(portal).not.to.have.property('require_pushed_authorization_requests');
  });

  it('takes a jwks_uri: https, or http on loopback outside production only', function () {
    expect(buildClientMetadata(bank({ jwks: undefined, jwksUri: 'https://bank.example.vn/jwks' }))).to.include({ jwks_uri: 'https://bank.example.vn/jwks' });
    refused(bank({ jwks: undefined, jwksUri: 'http://bank.example.vn/jwks' }), /jwks_uri: .* must use https/);
    refused(bank({ jwks: undefined, jwksUri: 'http://127.0.0.1:9/jwks' }), /on loopback, allowed only outside production/);
    expect(buildClientMetadata(bank({ jwks: undefined, jwksUri: 'http://127.0.0.1:9/jwks' }), { allowLoopbackReceivers: true })).to.include({ jwks_uri: 'http://127.0.0.1:9/jwks' });
  });

  it('registers mutual TLS: a certificate subject for tls_client_auth, a certificate for the self-signed kind, bound tokens', function () {
    const pki = buildClientMetadata(bank({ jwks: undefined, tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSubject: { kind: 'subject_dn', value: 'CN=bank.example.vn,O=Test Bank,C=VN' } }));
    expect(pki).to.include({ tls_client_auth_subject_dn: 'CN=bank.example.vn,O=Test Bank,C=VN', tls_client_certificate_bound_access_tokens: true });
    expect(pki).not.to.have.property('dpop_bound_access_tokens');
    refused(bank({ jwks: undefined, tokenEndpointAuthMethod: 'tls_client_auth' }), /tls_client_auth needs the certificate subject/);
    refused(bank({ tokenEndpointAuthMethod: 'self_signed_tls_client_auth' }), /needs the certificate in jwks \(a key with x5c\)/);
    refused(bank({ tlsClientAuthSubject: { kind: 'san_dns', value: 'bank.example.vn' } }), /only for a client authenticating with tls_client_auth/);
    // A bank may authenticate with mTLS and still bind its tokens with DPoP, if it says so.
    const mixed = buildClientMetadata(bank({ jwks: undefined, tokenEndpointAuthMethod: 'tls_client_auth', senderConstraint: 'dpop', tlsClientAuthSubject: { kind: 'san_dns', value: 'bank.example.vn' } }));
    expect(mixed).to.include({ dpop_bound_access_tokens: true, tls_client_auth_san_dns: 'bank.example.vn' });
    refused({ ...bank(), profile: 'portal', senderConstraint: 'dpop', tokenEndpointAuthMethod: 'private_key_jwt' }, /set by the bank profile only/);
  });

  it('registers encryption of ID tokens and userinfo to a key the client holds (RSA-OAEP-256 or ECDH-ES, A256GCM)', async function () {
    const ecdh = await publicKey('ECDH-ES', { use: 'enc' }, { crv: 'P-256' });
    const metadata = buildClientMetadata(bank({ jwks: { keys: [DEMO_BANK_PUBLIC_JWK, ecdh] }, idTokenEncryptedResponseAlg: 'ECDH-ES', userinfoEncryptedResponseAlg: 'ECDH-ES' }));
    expect(metadata).to.include({
      id_token_encrypted_response_alg: 'ECDH-ES',
      id_token_encrypted_response_enc: 'A256GCM',
      userinfo_encrypted_response_alg: 'ECDH-ES',
      userinfo_encrypted_response_enc: 'A256GCM',
      userinfo_signed_response_alg: 'ES256',
    });
    refused(bank({ jwks: { keys: [DEMO_BANK_PUBLIC_JWK, ecdh] }, idTokenEncryptedResponseAlg: 'RSA-OAEP-256' }), /jwks has no RSA key for encryption/);
    refused(bank({ idTokenEncryptedResponseAlg: 'RSA1_5' as never }), /one of RSA-OAEP-256, ECDH-ES/);
  });
});

describe('mutual TLS: the certificate header', function () {
  const der = new X509Certificate(pem('bank.pem')).raw;

  it('reads RFC 9440, PEM, URL-encoded PEM and bare base64, and the same certificate each time', function () {
    const forms = [
      `:${der.toString('base64')}:`,
      pem('bank.pem'),
      pem('bank.pem').replace(/\n/g, ' '),
      encodeURIComponent(pem('bank.pem')),
      der.toString('base64'),
    ];
    for (const form of forms) expect(certificateFromHeader(form)?.raw.equals(der), form.slice(0, 20)).to.equal(true);
  });

  it('reads nothing from garbage, and nothing from a certificate outside its validity', function () {
    for (const garbage of ['', 'not a certificate', ':AAAA:', '%E0%A4%A', 'x'.repeat(20_000)]) expect(certificateFromHeader(garbage)).to.equal(undefined);
    expect(certificateFromHeader(pem('bank.pem'), new Date('2200-01-01'))).to.equal(undefined);
  });

  it('reads the CA bundle of MTLS_CA_FILE, and refuses a file that holds no certificate', function () {
    expect(certificateAuthorities(path.join(CERTIFICATES, 'ca.pem')).map((authority) => authority.subject)).to.deep.equal(['C=VN\nO=Test Banking CA\nCN=Test Banking Root']);
    expect(certificateAuthorities(undefined)).to.deep.equal([]);
    expect(() => certificateAuthorities(path.join(CERTIFICATES, 'README.md'))).to.throw(/MTLS_CA_FILE: .* is not a PEM bundle of CA certificates/);
  });

  it('matches a registered subject DN (RFC 4514 order) or subject alternative name', function () {
    const certificate = new X509Certificate(pem('bank.pem'));
    expect(certificateMatches(certificate, 'tls_client_auth_subject_dn', 'CN=bank.example.vn,O=Test Bank,C=VN')).to.equal(true);
    expect(certificateMatches(certificate, 'tls_client_auth_subject_dn', 'cn=bank.example.vn, o=Test Bank, c=VN')).to.equal(true);
    expect(certificateMatches(certificate, 'tls_client_auth_subject_dn', 'C=VN,O=Test Bank,CN=bank.example.vn')).to.equal(false);
    expect(certificateMatches(certificate, 'tls_client_auth_subject_dn', 'CN=bank.example.vn,O=Test Bank')).to.equal(false);
    expect(certificateMatches(certificate, 'tls_client_auth_san_dns', 'bank.example.vn')).to.equal(true);
    expect(certificateMatches(certificate, 'tls_client_auth_san_dns', 'other.example.vn')).to.equal(false);
    expect(certificateMatches(certificate, 'tls_client_auth_san_uri', 'bank.example.vn')).to.equal(false);
  });
});

describe("the provider's fetch of client-registered addresses", function () {
  let http: HttpServer;
  let base: string;
  let requests = 0;

  before(async function () {
    http = createServer((request, response) => {
      requests += 1;
      if (request.url === '/jwks') return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [DEMO_BANK_PUBLIC_JWK] }));
      if (request.url === '/moved') return response.writeHead(302, { location: '/jwks' }).end();
      if (request.url === '/huge') return response.writeHead(200, { 'content-type': 'application/json' }).end('x'.repeat(PROVIDER_FETCH_MAX_BYTES + 1));
      if (request.url === '/slow') return setTimeout(() => response.writeHead(200).end('{}'), 3_000).unref();
      return response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async function () {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  const loopbackFetch = providerFetch({ allowLoopback: true });

  it('fetches a JWKS (loopback only outside production) and answers like fetch', async function () {
    const response = await loopbackFetch(`${base}/jwks`, { method: 'GET', headers: new Headers({ accept: 'application/json', 'user-agent': '' }) });
    expect(response.status).to.equal(200);
    expect(((await response.json()) as { keys: unknown[] }).keys).to.have.length(1);
  });

  it('follows no redirect', async function () {
    const response = await loopbackFetch(`${base}/moved`, { method: 'GET' });
    expect(response.status).to.equal(302);
  });

  it('refuses an answer larger than its limit, and one slower than the signal allows', async function () {
    await loopbackFetch(`${base}/huge`, { method: 'GET' }).then(
      () => expect.fail('fetched'),
      (error: Error) => expect(error.message).to.match(/larger than/),
    );
    await loopbackFetch(`${base}/slow`, { method: 'GET', signal: AbortSignal.timeout(200) }).then(
      () => expect.fail('fetched'),
      (error: Error) => expect(error.message).to.match(/stopped|abort/i),
    );
  });

  it('in production, refuses loopback, private addresses and plain http before connecting', async function () {
    const guarded = providerFetch({ allowLoopback: false });
    const before = requests;
    for (const target of [`${base}/jwks`, 'https://127.0.0.1/jwks', 'https://10.1.2.3/jwks', 'https://[::1]/jwks', 'http://bank.example.vn/jwks']) {
      await guarded(target, { method: 'GET' }).then(
        () => expect.fail(`fetched ${target}`),
        (error: Error) => expect(error.message, target).to.match(/^refused /),
      );
    }
    expect(requests, 'nothing reached the server').to.equal(before);
  });
});
