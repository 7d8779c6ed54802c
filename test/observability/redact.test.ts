// What must never reach a log line: passwords, secrets, tokens, codes, key material and full ID
// numbers. Unit tests of the redaction functions and the logger, then a real server's request log.
import { expect } from 'chai';
import { isSecretName, maskIdNumbers, redact, redactUrl } from '../../src/observability/redact.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { captureLogs } from '../support/logs.ts';

const MASK = '[redacted]';

describe('log redaction', function () {
  describe('maskIdNumbers()', function () {
    it('keeps only the first 3 and the last 2 digits of a 12-digit number', function () {
      expect(maskIdNumbers('001099012345')).to.equal('001*******45');
      expect(maskIdNumbers('citizen 079185000123 signed in')).to.equal('citizen 079*******23 signed in');
      expect(maskIdNumbers('a=001099012345&b=048203000777')).to.equal('a=001*******45&b=048*******77');
      expect(maskIdNumbers('x001099012345y')).to.equal('x001*******45y');
    });

    it('leaves longer and shorter digit runs alone', function () {
      expect(maskIdNumbers('0010990123456')).to.equal('0010990123456');
      expect(maskIdNumbers('00109901234')).to.equal('00109901234');
      expect(maskIdNumbers('+84900000001')).to.equal('+84900000001');
      expect(maskIdNumbers('2026-11-26T22:35:00.123Z')).to.equal('2026-11-26T22:35:00.123Z');
    });
  });

  describe('isSecretName()', function () {
    for (const name of [
      'password',
      'Password',
      'passphrase',
      'client_secret',
      'clientSecret',
      'access_token',
      'refresh_token',
      'id_token_hint',
      'login_hint',
      'client_assertion',
      'code_verifier',
      'authorization',
      'Authorization',
      'cookie',
      'set-cookie',
      'code',
      'otp',
      'user_code',
      'device_code',
      'keyEncryptionKey',
      'pairwiseKey',
      'x-api-key',
      'privateJwk',
      'd',
      'p',
      'q',
      'request',
    ]) {
      it(`treats ${name} as secret`, function () {
        expect(isSecretName(name)).to.equal(true);
      });
    }

    for (const name of ['client_id', 'scope', 'state', 'redirect_uri', 'code_challenge', 'method', 'status', 'url', 'kid', 'request_uri']) {
      it(`leaves ${name} readable`, function () {
        expect(isSecretName(name)).to.equal(false);
      });
    }
  });

  describe('redactUrl()', function () {
    it('masks secret query parameters and ID numbers and keeps the rest', function () {
      const url = redactUrl(
        '/auth?client_id=demo-portal&login_hint=001099012345&code=SECRETCODE123&state=001099012345&scope=openid%20profile&password=Hunter2&code_challenge=abc',
      );
      expect(url).to.equal(
        `/auth?client_id=demo-portal&login_hint=${MASK}&code=${MASK}&state=001*******45&scope=openid+profile&password=${MASK}&code_challenge=abc`,
      );
    });

    it('masks every copy of a repeated parameter', function () {
      const url = redactUrl('/token?access_token=one&access_token=two');
      expect(url).to.equal(`/token?access_token=${MASK}`);
    });

    it('masks ID numbers in the path', function () {
      expect(redactUrl('/citizens/001099012345/history')).to.equal('/citizens/001*******45/history');
    });

    it('leaves a URL without secrets as it was', function () {
      expect(redactUrl('/.well-known/openid-configuration')).to.equal('/.well-known/openid-configuration');
      expect(redactUrl('/jwks?x=1')).to.equal('/jwks?x=1');
    });
  });

  describe('redact()', function () {
    it('masks passwords, client secrets, tokens and codes, at any depth', function () {
      const out = redact({
        password: 'Hunter2',
        client_secret: 'demo-portal-secret',
        body: { grant_type: 'authorization_code', code: 'SECRETCODE123', code_verifier: 'v'.repeat(43) },
        tokens: [{ access_token: 'at' }, { refresh_token: 'rt', id_token: 'it' }],
        headers: { authorization: 'Basic ZGVtbzpzZWNyZXQ=', cookie: '_session=abc', 'user-agent': 'curl/8' },
      });
      expect(out).to.deep.equal({
        password: MASK,
        client_secret: MASK,
        body: { grant_type: 'authorization_code', code: MASK, code_verifier: MASK },
        tokens: MASK,
        headers: { authorization: MASK, cookie: MASK, 'user-agent': 'curl/8' },
      });
    });

    it('masks ID numbers in any string, and in a number', function () {
      expect(redact({ username: '001099012345', note: ['for 079185000123'], id: 123456789012 })).to.deep.equal({
        username: '001*******45',
        note: ['for 079*******23'],
        id: '123*******12',
      });
    });

    it('keeps flags, counts and empty values readable', function () {
      expect(redact({ password: undefined, secret: null, token_valid: true, status: 401, ms: 1.25 })).to.deep.equal({
        password: undefined,
        secret: null,
        token_valid: true,
        status: 401,
        ms: 1.25,
      });
    });

    it('never spells out key material: secret-named or raw bytes', function () {
      const key = Buffer.alloc(32, 7);
      expect(redact({ keyEncryptionKey: key, pairwiseKey: key.toString('base64'), sealed: key })).to.deep.equal({
        keyEncryptionKey: MASK,
        pairwiseKey: MASK,
        sealed: '[32 bytes]',
      });
      const jwk = { kty: 'RSA', kid: 'k1', n: 'modulus', e: 'AQAB', d: 'dd', p: 'pp', q: 'qq', dp: 'x', dq: 'y', qi: 'z' };
      expect(redact({ jwk })).to.deep.equal({
        jwk: { kty: 'RSA', kid: 'k1', n: 'modulus', e: 'AQAB', d: MASK, p: MASK, q: MASK, dp: MASK, dq: MASK, qi: MASK },
      });
    });

    it('turns an error into a record with its type, masked message, extras and cause', function () {
      const error = Object.assign(new TypeError('no account 001099012345', { cause: new Error('registry said 001099012345') }), {
        constraint: 'clients_pkey',
        client_secret: 'leaked?',
      });
      const out = redact(error) as Record<string, unknown>;
      expect(out.type).to.equal('TypeError');
      expect(out.message).to.equal('no account 001*******45');
      expect(out.constraint).to.equal('clients_pkey');
      expect(out.client_secret).to.equal(MASK);
      expect((out.cause as Record<string, unknown>).message).to.equal('registry said 001*******45');
      expect(JSON.stringify(out)).not.to.include('001099012345');
    });

    it('stops at a depth limit instead of following a cycle forever', function () {
      const cyclic: Record<string, unknown> = { name: 'loop' };
      cyclic.self = cyclic;
      expect(JSON.stringify(redact(cyclic))).to.include('[too deep]');
    });
  });

  describe('the logger', function () {
    it('writes redacted JSON lines, whatever shape a call takes', function () {
      const log = captureLogs();
      const logger = createLogger('info', log.stream);
      logger.info({ password: 'Hunter2', username: '001099012345' }, 'sign-in by %s', '079185000123');
      logger.error(new Error('lookup failed for 048203000777'));
      logger.warn({ err: new Error('code SECRET for 031190004567') });
      logger.child({ token: 'CHILDTOKEN', citizen: '036080001111' }).child({ component: 'x' }).info('from a child');
      logger.info({ keyEncryptionKey: Buffer.alloc(32, 1) }, 'configuration');

      const text = log.text();
      for (const secret of ['Hunter2', '001099012345', '079185000123', '048203000777', '031190004567', '036080001111', 'CHILDTOKEN']) {
        expect(text, secret).not.to.include(secret);
      }
      const [first, second, third, fourth, fifth] = log.records();
      expect(first).to.include({ password: MASK, username: '001*******45', msg: 'sign-in by 079*******23', level: 'info' });
      expect(second!.msg).to.equal('lookup failed for 048*******77');
      expect(second!.err).to.include({ type: 'Error', message: 'lookup failed for 048*******77' });
      expect(third!.msg).to.equal('code SECRET for 031*******67');
      expect(fourth).to.include({ token: MASK, citizen: '036*******11', component: 'x', msg: 'from a child' });
      expect(fifth).to.include({ keyEncryptionKey: MASK });
    });
  });

  describe('a running server\'s request log', function () {
    let world: RunningServer;
    const log = captureLogs();

    before(async function () {
      this.timeout(30_000);
      world = await startTestServer({ logDestination: log.stream });
    });

    after(async function () {
      await world?.close();
    });

    /** Resolves once the request log has a line for this path (it is written when the response finishes). */
    async function requestLine(pathStart: string): Promise<Record<string, unknown>> {
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const line = log.records().find((entry) => entry.msg === 'request' && String(entry.url).startsWith(pathStart));
        if (line) return line;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect.fail(`no request log line for ${pathStart}:\n${log.text()}`);
    }

    it('logs a request\'s URL with its secrets and ID numbers masked', async function () {
      const query = new URLSearchParams({
        client_id: 'demo-portal',
        response_type: 'code',
        scope: 'openid profile',
        redirect_uri: 'http://localhost:4000/callback',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: '079185000123',
        login_hint: '001099012345',
        code: 'SECRETCODE123',
        password: 'Hunter2Secret',
        id_token_hint: 'IDTOKENHINT456',
      });
      const response = await fetch(`${world.issuer}/auth?${query.toString()}`, { redirect: 'manual' });
      expect(response.status).to.be.below(500);

      const line = await requestLine('/auth?');
      expect(line).to.include({ method: 'GET', level: 'info' });
      const url = String(line.url);
      expect(url).to.include('client_id=demo-portal');
      expect(url).to.include('state=079*******23');
      for (const name of ['login_hint', 'code', 'password', 'id_token_hint']) expect(url).to.include(`${name}=${MASK}`);
    });

    it('logs a token request without the client secret, the code or the verifier', async function () {
      const basic = Buffer.from('demo-portal:demo-portal-secret').toString('base64');
      const response = await fetch(`${world.issuer}/token?client_secret=demo-portal-secret&access_token=ACCESSTOKEN789`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'SECRETBODYCODE',
          redirect_uri: 'http://localhost:4000/callback',
          code_verifier: 'VERIFIER'.repeat(6),
        }),
      });
      expect(response.status).to.be.within(400, 499);
      const line = await requestLine('/token');
      expect(line).to.include({ method: 'POST', status: response.status });
      expect(line.url).to.equal(`/token?client_secret=${MASK}&access_token=${MASK}`);
    });

    it('masks an ID number in a path, on either port', async function () {
      await fetch(`${world.issuer}/citizens/048203000777`);
      await fetch(`${world.adminUrl}/accounts/036080001111?token=ADMINTOKEN`);
      expect((await requestLine('/citizens/')).url).to.equal('/citizens/048*******77');
      const admin = await requestLine('/accounts/');
      expect(admin).to.include({ url: `/accounts/036*******11?token=${MASK}`, port: 'admin' });
    });

    it('keeps every secret value out of the whole log', function () {
      const text = log.text();
      expect(log.records().length).to.be.greaterThan(3);
      for (const secret of [
        '001099012345',
        '079185000123',
        '048203000777',
        '036080001111',
        'SECRETCODE123',
        'SECRETBODYCODE',
        'Hunter2Secret',
        'IDTOKENHINT456',
        'demo-portal-secret',
        Buffer.from('demo-portal:demo-portal-secret').toString('base64'),
        'ACCESSTOKEN789',
        'VERIFIER',
        'ADMINTOKEN',
      ]) {
        expect(text.includes(secret), `${secret} in the log`).to.equal(false);
      }
    });
  });
});
