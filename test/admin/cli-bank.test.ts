// `clients add --profile bank`, run as a real process against a fresh database: a bank registers with
// its public keys (a JWKS file) or a certificate subject; without them, or with a client secret, it is
// refused with one line and exit status 2, writing nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { DEMO_BANK_PUBLIC_JWK } from '../../src/demo/demo-bank-key.ts';
import { cliEnvironment, runCli } from '../support/cli.ts';


describe('the admin command line: bank clients', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let db: Database;
  let environ: Record<string, string>;
  let folder: string;
  let jwksFile: string;

  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...environ, ...extra });
  const clientCount = async () => Number(((await db('clients').count<{ count: string }[]>({ count: '*' })) as [{ count: string }])[0].count);

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    environ = cliEnvironment(database.url);
    folder = mkdtempSync(path.join(tmpdir(), 'cidp-bank-cli-'));
    jwksFile = path.join(folder, 'bank-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [DEMO_BANK_PUBLIC_JWK] }));
    const migrated = await cli(['migrate']);
    expect(migrated.code, migrated.stderr).to.equal(0);
  });
  after(async function () {
    rmSync(folder, { recursive: true, force: true });
    await db?.destroy();
    await database?.drop();
  });

  const bankArgs = ['--name', 'Ngân hàng A', '--profile', 'bank', '--scopes', 'openid national_id', '--redirect-uri', 'https://bank-a.example.vn/callback'];

  it('adds a bank with its JWKS: private_key_jwt, PAR required, DPoP-bound tokens, level 2 by default', async function () {
    const result = await cli(['clients', 'add', '--id', 'bank-a', ...bankArgs, '--jwks', jwksFile]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('added client bank-a (bank; scopes: openid national_id)');
    expect(result.stdout).not.to.include('client secret');
    const row = await db('clients').where({ client_id: 'bank-a' }).first<{ metadata: Record<string, unknown>; secret_sealed: string | null }>();
    expect(row.secret_sealed).to.equal(null);
    expect(row.metadata).to.include({ token_endpoint_auth_method: 'private_key_jwt', require_pushed_authorization_requests: true, dpop_bound_access_tokens: true });
    expect(row.metadata.default_acr_values).to.deep.equal(['urn:vn:eid:loa:2']);
    expect(row.metadata.jwks).to.deep.equal({ keys: [DEMO_BANK_PUBLIC_JWK] });
  });

  it('adds a bank authenticating with a certificate (tls_client_auth), its tokens bound to it', async function () {
    const result = await cli([
      'clients', 'add', '--id', 'bank-b', ...bankArgs,
      '--auth-method', 'tls_client_auth', '--tls-client-auth-subject', 'subject_dn=CN=bank-b.example.vn,O=Bank B,C=VN',
    ]);
    expect(result.code, result.stderr).to.equal(0);
    const row = await db('clients').where({ client_id: 'bank-b' }).first<{ metadata: Record<string, unknown> }>();
    expect(row.metadata).to.include({
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=bank-b.example.vn,O=Bank B,C=VN',
      tls_client_certificate_bound_access_tokens: true,
    });
  });

  for (const { title, args, message } of [
    { title: 'a bank without keys', args: [], message: /private_key_jwt needs the client's public keys: give jwks or jwks_uri/ },
    { title: 'a bank with client_secret_basic', args: ['--auth-method', 'client_secret_basic', '--jwks', 'JWKS'], message: /a bank client uses private_key_jwt or tls_client_auth or self_signed_tls_client_auth/ },
    { title: 'a JWKS file that does not exist', args: ['--jwks', '/nonexistent/jwks.json'], message: /--jwks: cannot read/ },
    { title: 'an unknown certificate field', args: ['--auth-method', 'tls_client_auth', '--tls-client-auth-subject', 'serial=42'], message: /KIND=VALUE with KIND one of subject_dn/ },
  ]) {
    it(`refuses ${title} with one line and exit status 2, writing nothing`, async function () {
      const before = await clientCount();
      const result = await cli(['clients', 'add', '--id', 'bank-refused', ...bankArgs, ...args.map((arg) => (arg === 'JWKS' ? jwksFile : arg))]);
      expect(result.code, result.stderr).to.equal(2);
      const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^citizen-idp clients add: /).and.to.match(message);
      expect(await clientCount()).to.equal(before);
    });
  }
});
