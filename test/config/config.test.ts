// Configuration: defaults, environment overrides, one clear line per bad setting, and what
// production refuses; plus the real process refusing a bad setting without a stack trace.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, isQuickstart, loadConfig, type Config } from '../../src/config/config.ts';

type Environ = Record<string, string>;

const KEY_BASE64 = randomBytes(32).toString('base64');
const KEY_HEX = randomBytes(32).toString('hex');

/** A production environment that passes every check; tests remove or spoil one setting at a time. */
function productionEnviron(): Environ {
  return {
    NODE_ENV: 'production',
    ISSUER: 'https://id.example.vn',
    DATABASE_URL: 'postgres://idp@db.internal:5432/citizen_idp',
    REDIS_URL: 'rediss://cache.internal:6380/0',
    KEY_ENCRYPTION_KEY: KEY_BASE64,
    PAIRWISE_KEY: KEY_HEX,
    SMTP_URL: 'smtps://mailer:secret@smtp.example.vn:465',
  };
}

/** The ConfigError loadConfig throws for this environment (fails the test if it throws none). */
function configErrorFor(environ: Environ, overrides?: Partial<Record<keyof Config, unknown>>): ConfigError {
  try {
    loadConfig(environ, overrides ? { overrides } : {});
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail(`expected a ConfigError for ${JSON.stringify(environ)}`);
}

/** Every nested object and array is frozen (Buffers cannot be, and are skipped). */
function expectDeeplyFrozen(value: unknown, where = 'config'): void {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
  expect(Object.isFrozen(value), `${where} is frozen`).to.equal(true);
  for (const [key, inner] of Object.entries(value)) expectDeeplyFrozen(inner, `${where}.${key}`);
}

describe('configuration', () => {
  describe('defaults', () => {
    it('loads the development defaults with an empty environment', () => {
      const config = loadConfig({});
      expect(config.env).to.equal('development');
      expect(config.port).to.equal(3000);
      expect(config.adminPort).to.equal(3001);
      expect(config.host).to.equal('127.0.0.1');
      expect(config.issuer).to.equal('http://localhost:3000');
      expect(config.databaseUrl).to.equal(undefined);
      expect(config.redisUrl).to.equal(undefined);
      expect(config.keyEncryptionKey).to.equal(undefined);
      expect(config.pairwiseKey).to.equal(undefined);
      expect(config.trustedProxies).to.deep.equal([]);
      expect(config.logLevel).to.equal('info');
      expect(config.demo.seed).to.equal(true);
      expect(config.ttl.authorizationCode).to.be.at.most(600);
      expect(config.argon2.memoryKiB).to.be.at.least(19456);
      expect(isQuickstart(config)).to.equal(true);
    });

    it('returns a deeply frozen object', () => {
      const config = loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8', KEY_ENCRYPTION_KEY: KEY_BASE64 });
      expectDeeplyFrozen(config);
      expect(() => {
        (config as { port: number }).port = 1;
      }).to.throw(TypeError);
      expect(() => {
        (config.demo as { seed: boolean }).seed = false;
      }).to.throw(TypeError);
      expect(() => {
        (config.trustedProxies as string[]).push('0.0.0.0/0');
      }).to.throw(TypeError);
      expect(config.port).to.equal(3000);
      expect(config.trustedProxies).to.deep.equal(['10.0.0.0/8']);
    });

    it('treats an empty variable as unset', () => {
      const config = loadConfig({ PORT: '', NODE_ENV: '', LOG_LEVEL: '' });
      expect(config.port).to.equal(3000);
      expect(config.env).to.equal('development');
      expect(config.logLevel).to.equal('info');
    });
  });

  describe('environment overrides', () => {
    it('PORT and ADMIN_PORT', () => {
      const config = loadConfig({ PORT: '8080', ADMIN_PORT: '8081' });
      expect(config.port).to.equal(8080);
      expect(config.adminPort).to.equal(8081);
    });

    it('ISSUER', () => {
      expect(loadConfig({ ISSUER: 'https://id.example.vn' }).issuer).to.equal('https://id.example.vn');
    });

    it('DATABASE_URL, with either scheme', () => {
      expect(loadConfig({ DATABASE_URL: 'postgres://u@127.0.0.1:5432/x' }).databaseUrl).to.equal('postgres://u@127.0.0.1:5432/x');
      expect(loadConfig({ DATABASE_URL: 'postgresql://u@db/x' }).databaseUrl).to.equal('postgresql://u@db/x');
    });

    it('REDIS_URL, with either scheme', () => {
      expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/2' }).redisUrl).to.equal('redis://127.0.0.1:6379/2');
      expect(loadConfig({ REDIS_URL: 'rediss://cache:6380' }).redisUrl).to.equal('rediss://cache:6380');
    });

    it('KEY_ENCRYPTION_KEY as base64, base64url or hex, decoded to 32 bytes', () => {
      const bytes = randomBytes(32);
      for (const text of [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')]) {
        const config = loadConfig({ KEY_ENCRYPTION_KEY: text });
        expect(Buffer.isBuffer(config.keyEncryptionKey)).to.equal(true);
        expect(config.keyEncryptionKey!.equals(bytes), text).to.equal(true);
      }
    });

    it('PAIRWISE_KEY', () => {
      const config = loadConfig({ PAIRWISE_KEY: KEY_HEX });
      expect(config.pairwiseKey!.toString('hex')).to.equal(KEY_HEX);
    });

    it('TRUSTED_PROXIES as a comma-separated list of addresses and ranges', () => {
      const config = loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7 ,::1,fd00::/8' });
      expect(config.trustedProxies).to.deep.equal(['10.0.0.0/8', '192.168.1.7', '::1', 'fd00::/8']);
    });

    it('LOG_LEVEL', () => {
      expect(loadConfig({ LOG_LEVEL: 'debug' }).logLevel).to.equal('debug');
      expect(loadConfig({ LOG_LEVEL: 'silent' }).logLevel).to.equal('silent');
    });

    it('NODE_ENV selects the environment and its settings file', () => {
      const config = loadConfig({ NODE_ENV: 'test' });
      expect(config.env).to.equal('test');
      expect(config.logLevel).to.equal('warn');
      expect(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error' }).logLevel).to.equal('error');
      expect(loadConfig(productionEnviron()).env).to.equal('production');
    });
  });

  describe('a bad setting', () => {
    const cases: { title: string; environ: Environ; setting: string; expected: RegExp }[] = [
      { title: 'PORT that is not a number', environ: { PORT: 'abc' }, setting: 'PORT', expected: /port number from 1 to 65535/ },
      { title: 'PORT out of range', environ: { PORT: '70000' }, setting: 'PORT', expected: /port number from 1 to 65535/ },
      { title: 'ADMIN_PORT out of range', environ: { ADMIN_PORT: '0' }, setting: 'ADMIN_PORT', expected: /port number/ },
      {
        title: 'ADMIN_PORT equal to PORT',
        environ: { PORT: '4100', ADMIN_PORT: '4100' },
        setting: 'ADMIN_PORT',
        expected: /different from PORT/,
      },
      { title: 'ISSUER that is not a URL', environ: { ISSUER: 'nope' }, setting: 'ISSUER', expected: /absolute URL/ },
      {
        title: 'ISSUER with a query',
        environ: { ISSUER: 'https://id.example.vn/?tenant=1' },
        setting: 'ISSUER',
        expected: /without query or fragment/,
      },
      { title: 'ISSUER with a fragment', environ: { ISSUER: 'https://id.example.vn/#x' }, setting: 'ISSUER', expected: /without query or fragment/ },
      { title: 'ISSUER that is not http(s)', environ: { ISSUER: 'ftp://id.example.vn' }, setting: 'ISSUER', expected: /http\(s\) URL/ },
      { title: 'DATABASE_URL of another database', environ: { DATABASE_URL: 'mysql://x' }, setting: 'DATABASE_URL', expected: /postgres:\/\// },
      { title: 'DATABASE_URL that is not a URL', environ: { DATABASE_URL: 'db.internal' }, setting: 'DATABASE_URL', expected: /PostgreSQL URL/ },
      { title: 'REDIS_URL of another scheme', environ: { REDIS_URL: 'http://x' }, setting: 'REDIS_URL', expected: /redis:\/\// },
      {
        title: 'KEY_ENCRYPTION_KEY too short',
        environ: { KEY_ENCRYPTION_KEY: randomBytes(16).toString('base64') },
        setting: 'KEY_ENCRYPTION_KEY',
        expected: /32 random bytes/,
      },
      {
        title: 'PAIRWISE_KEY neither base64 nor hex',
        environ: { PAIRWISE_KEY: '!'.repeat(44) },
        setting: 'PAIRWISE_KEY',
        expected: /32 random bytes as 64 hex characters or base64/,
      },
      {
        title: 'TRUSTED_PROXIES with one bad entry',
        environ: { TRUSTED_PROXIES: '10.0.0.0/8,bad' },
        setting: 'TRUSTED_PROXIES',
        expected: /IP addresses or CIDR ranges.*"bad"/,
      },
      { title: 'TRUSTED_PROXIES with a bad prefix', environ: { TRUSTED_PROXIES: '10.0.0.0/33' }, setting: 'TRUSTED_PROXIES', expected: /CIDR/ },
      { title: 'LOG_LEVEL unknown', environ: { LOG_LEVEL: 'loud' }, setting: 'LOG_LEVEL', expected: /one of fatal, error, warn, info/ },
      { title: 'NODE_ENV unknown', environ: { NODE_ENV: 'staging' }, setting: 'NODE_ENV', expected: /development, test or production/ },
      { title: 'HOST that is not an address', environ: { HOST: 'everywhere' }, setting: 'HOST', expected: /IP address/ },
    ];

    for (const { title, environ, setting, expected } of cases) {
      it(`refuses ${title} with one line naming ${setting}`, () => {
        const error = configErrorFor(environ);
        expect(error.setting).to.equal(setting);
        expect(error.message.startsWith(`${setting}: expected `), error.message).to.equal(true);
        expect(error.message).to.match(expected);
        expect(error.message).not.to.include('\n');
      });
    }

    it('keeps the message on one line even when the value has a line break', () => {
      const error = configErrorFor({ NODE_ENV: 'prod\nuction' });
      expect(error.message).not.to.include('\n');
      expect(error.message.startsWith('NODE_ENV: ')).to.equal(true);
    });

    it('never repeats a key in the message', () => {
      const secret = `${randomBytes(20).toString('hex')}`;
      const error = configErrorFor({ KEY_ENCRYPTION_KEY: secret });
      expect(error.message).not.to.include(secret);
    });

    it('names a nested setting from a settings file by its path', () => {
      const error = configErrorFor({}, { ttl: { authorizationCode: 3600 } });
      expect(error.message).to.match(/^ttl\.authorizationCode: expected at most 600 seconds$/);
    });
  });

  describe('production', () => {
    it('accepts a complete production environment, with no demo data', () => {
      const config = loadConfig(productionEnviron());
      expect(config.env).to.equal('production');
      expect(config.demo.seed).to.equal(false);
      expect(isQuickstart(config)).to.equal(false);
    });

    it('refuses an http issuer', () => {
      const error = configErrorFor({ ...productionEnviron(), ISSUER: 'http://id.example.vn' });
      expect(error.message).to.match(/^ISSUER: expected an https:\/\/ URL in production$/);
    });

    for (const setting of ['DATABASE_URL', 'REDIS_URL', 'KEY_ENCRYPTION_KEY', 'PAIRWISE_KEY']) {
      it(`refuses a missing ${setting}`, () => {
        const environ = productionEnviron();
        delete environ[setting];
        const error = configErrorFor(environ);
        expect(error.setting).to.equal(setting);
        expect(error.message.startsWith(`${setting}: expected `)).to.equal(true);
        expect(error.message).to.include('production');
        expect(error.message).not.to.include('\n');
      });
    }

    it('refuses demo seeding turned back on', () => {
      const error = configErrorFor(productionEnviron(), { demo: { seed: true } });
      expect(error.setting).to.equal('demo.seed');
      expect(error.message).to.match(/^demo\.seed: expected false in production/);
    });
  });

  describe('the server process', () => {
    it('exits non-zero with one line naming PORT and no stack trace', async function () {
      this.timeout(30_000);
      const root = path.resolve(import.meta.dirname, '../..');
      const child = spawn(process.execPath, ['src/main.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: 'abc' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));

      expect(code).to.be.a('number').and.not.equal(0);
      const lines = stderr.split('\n').filter((line) => line.trim() !== '');
      expect(lines, stderr).to.have.length(1);
      expect(lines[0]).to.include('PORT').and.to.include('expected');
      expect(stderr).not.to.include('    at ');
      expect(stdout).to.equal('');
    });
  });

  describe('notifications', () => {
    it('stores messages in the outbox outside production', () => {
      expect(loadConfig({}).notifications.mode).to.equal('outbox');
    });

    it('reads SMTP and SMS gateway settings from the environment', () => {
      const config = loadConfig({ ...productionEnviron(), SMS_GATEWAY_URL: 'https://sms.example.vn/send', SMS_GATEWAY_TOKEN: 't0ken' });
      expect(config.notifications).to.include({
        mode: 'deliver',
        smtpUrl: 'smtps://mailer:secret@smtp.example.vn:465',
        smsGatewayUrl: 'https://sms.example.vn/send',
      });
    });

    it('refuses production with no way to reach citizens, naming SMTP_URL', () => {
      const environ = productionEnviron();
      delete environ.SMTP_URL;
      expect(configErrorFor(environ).setting).to.equal('SMTP_URL');
    });

    it('refuses an SMS gateway without its token, naming SMS_GATEWAY_TOKEN', () => {
      expect(configErrorFor({ ...productionEnviron(), SMS_GATEWAY_URL: 'https://sms.example.vn/send' }).setting).to.equal('SMS_GATEWAY_TOKEN');
    });

    it('refuses an SMTP_URL of another scheme, naming SMTP_URL', () => {
      expect(configErrorFor({ SMTP_URL: 'http://mail.example.vn' }).message).to.match(/^SMTP_URL: expected an smtp/);
    });

    it('refuses the outbox in production', () => {
      expect(configErrorFor(productionEnviron(), { notifications: { mode: 'outbox', mailFrom: 'x <x@y>' } }).setting).to.equal('notifications.mode');
    });
  });
});
