// The command line, run as a real process against a fresh database: migrations, adding, listing and
// removing relying parties, refusing bad input without writing anything, and the demo seed.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { KeyEncryption } from '../../src/storage/key-encryption.ts';
import { ClientRepository } from '../../src/oidc/clients/clients.ts';
import { cliEnvironment, runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function linesOf(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

describe('the admin command line', function () {
  this.timeout(60_000);

  let database: TestDatabase;
  let db: Database;
  let environ: Record<string, string>;
  let keyEncryptionKey: Buffer;

  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...environ, ...extra });

  /** Everything an add or remove could change: the clients and the audit trail. */
  async function snapshot(): Promise<{ clients: unknown[]; auditEvents: number }> {
    const clients = await db('clients').orderBy('client_id').select('*');
    const [{ count }] = await db('audit_events').count<{ count: string }[]>({ count: '*' }) as [{ count: string }];
    return { clients, auditEvents: Number(count) };
  }

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    keyEncryptionKey = randomBytes(32);
    environ = cliEnvironment(database.url, keyEncryptionKey);
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  describe('migrate', function () {
    it('applies the migrations and prints their names', async function () {
      const result = await cli(['migrate']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('applied 20261126_001_platform');
      expect(result.stderr).to.equal('');
      const tables = await db('information_schema.tables').where({ table_schema: 'public' }).pluck('table_name');
      expect(tables).to.include.members(['clients', 'signing_keys', 'audit_events']);
    });

    it('says so when there is nothing left to apply', async function () {
      const result = await cli(['migrate']);
      expect(result.code).to.equal(0);
      expect(result.stdout.trim()).to.equal('the database is up to date');
    });
  });

  describe('clients', function () {
    it('lists no clients on a fresh database', async function () {
      const result = await cli(['clients', 'list']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout.trim()).to.equal('no clients');
    });

    it('adds a portal with the secret from CLIENT_SECRET, sealed, and never printed', async function () {
      const secret = `portal-${randomBytes(12).toString('hex')}`;
      const result = await cli(
        [
          'clients', 'add',
          '--id', 'tax-portal',
          '--name', 'Tax portal',
          '--profile', 'portal',
          '--scopes', 'openid profile national_id',
          '--redirect-uri', 'https://tax.example.vn/callback',
          '--redirect-uri', 'https://tax.example.vn/callback2',
          '--post-logout-redirect-uri', 'https://tax.example.vn/',
        ],
        { CLIENT_SECRET: secret },
      );
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('added client tax-portal');
      expect(result.stdout + result.stderr).not.to.include(secret);

      const row = await db('clients').where({ client_id: 'tax-portal' }).first<{ approved_scopes: string[]; metadata: Record<string, unknown> }>();
      expect(row.approved_scopes).to.deep.equal(['openid', 'profile', 'national_id']);
      expect(row.metadata).to.deep.include({
        redirect_uris: ['https://tax.example.vn/callback', 'https://tax.example.vn/callback2'],
        post_logout_redirect_uris: ['https://tax.example.vn/'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      const rowText = (await db.raw<{ rows: { text: string }[] }>("SELECT c::text AS text FROM clients c WHERE client_id = 'tax-portal'")).rows[0]!.text;
      expect(rowText).not.to.include(secret);
      const clients = new ClientRepository(db, new KeyEncryption(keyEncryptionKey));
      expect((await clients.findMetadata('tax-portal'))?.client_secret).to.equal(secret);
    });

    it('generates a service\'s secret when none is given, and prints it once', async function () {
      const result = await cli(['clients', 'add', '--id', 'stats-service', '--name', 'Statistics', '--profile', 'service']);
      expect(result.code, result.stderr).to.equal(0);
      const secretLine = linesOf(result.stdout).find((line) => line.includes('secret'));
      const secret = secretLine?.split(': ').pop();
      expect(secret).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(result.stdout.split(secret!)).to.have.length(2);
      expect(result.stderr).not.to.include(secret!);
      const clients = new ClientRepository(db, new KeyEncryption(keyEncryptionKey));
      expect((await clients.findMetadata('stats-service'))?.client_secret).to.equal(secret);
    });

    it('adds a public native app with a reverse-domain redirect URI and no secret', async function () {
      const result = await cli([
        'clients', 'add', '--id', 'vneid-app', '--name', 'Mobile app', '--profile', 'native',
        '--scopes', 'openid,profile', '--redirect-uri', 'vn.gov.vneid:/callback',
      ]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).not.to.include('secret');
      const clients = new ClientRepository(db, new KeyEncryption(keyEncryptionKey));
      const metadata = await clients.findMetadata('vneid-app');
      expect(metadata).to.deep.include({ token_endpoint_auth_method: 'none', application_type: 'native' });
      expect(metadata).not.to.have.property('client_secret');
    });

    it('lists every client with its profile, status and approved scopes', async function () {
      const result = await cli(['clients', 'list']);
      expect(result.code, result.stderr).to.equal(0);
      const [header, ...rows] = linesOf(result.stdout);
      expect(header).to.match(/^CLIENT_ID\s+PROFILE\s+STATUS\s+APPROVED SCOPES$/);
      expect(rows.map((row) => row.split(/\s{2,}/))).to.deep.equal([
        ['stats-service', 'service', 'active'],
        ['tax-portal', 'portal', 'active', 'openid profile national_id'],
        ['vneid-app', 'native', 'active', 'openid profile'],
      ]);
    });

    it('records each addition in the audit trail, without the secret', async function () {
      const events = await db('audit_events').where({ type: 'admin.action' }).orderBy('id').select<{ client_id: string; actor: string; data: Record<string, unknown> }[]>('*');
      expect(events.map((event) => event.client_id)).to.deep.equal(['tax-portal', 'stats-service', 'vneid-app']);
      for (const event of events) {
        expect(event.actor).to.match(/^cli:/);
        expect(event.data).to.include({ action: 'client.added' });
        expect(JSON.stringify(event.data)).not.to.match(/secret/i);
      }
    });

    it('removes a client, and then refuses to remove it again', async function () {
      const removed = await cli(['clients', 'remove', '--id', 'stats-service']);
      expect(removed.code, removed.stderr).to.equal(0);
      expect(removed.stdout.trim()).to.equal('removed client stats-service');
      expect(await db('clients').where({ client_id: 'stats-service' }).first()).to.equal(undefined);
      const listed = await cli(['clients', 'list']);
      expect(listed.stdout).not.to.include('stats-service');
      expect(listed.stdout).to.include('tax-portal');

      const again = await cli(['clients', 'remove', '--id', 'stats-service']);
      expect(again.code).to.equal(2);
      expect(linesOf(again.stderr)).to.deep.equal(['citizen-idp clients remove: no client "stats-service"']);
      const audited = await db('audit_events').where({ client_id: 'stats-service' }).pluck('data');
      expect(audited).to.deep.include({ action: 'client.removed' });
    });

    it('refuses remove without --id', async function () {
      const result = await cli(['clients', 'remove']);
      expect(result.code).to.equal(2);
      expect(linesOf(result.stderr)).to.deep.equal(['citizen-idp clients remove: --id is required']);
    });

    it('registers a back-channel logout URI, with sid when asked', async function () {
      const result = await cli([
        'clients', 'add', '--id', 'logout-portal', '--name', 'Logout portal', '--profile', 'portal', '--scopes', 'openid',
        '--redirect-uri', 'https://logout.example.vn/cb',
        '--backchannel-logout-uri', 'https://logout.example.vn/backchannel-logout', '--backchannel-logout-session-required',
      ], { CLIENT_SECRET: 'a-long-enough-secret' });
      expect(result.code, result.stderr).to.equal(0);
      const clients = new ClientRepository(db, new KeyEncryption(keyEncryptionKey));
      expect(await clients.findMetadata('logout-portal')).to.include({ backchannel_logout_uri: 'https://logout.example.vn/backchannel-logout', backchannel_logout_session_required: true });
      expect((await cli(['clients', 'remove', '--id', 'logout-portal'])).code).to.equal(0);
    });

    describe('refuses bad input with one line and exit status 2, writing nothing', function () {
      const cases: { title: string; args: string[]; extra?: Record<string, string>; message: RegExp }[] = [
        {
          title: 'a redirect URI that is not https',
          args: ['--id', 'bad-portal', '--name', 'Bad', '--profile', 'portal', '--redirect-uri', 'http://evil.example/callback'],
          message: /redirect_uris: "http:\/\/evil\.example\/callback" must use https/,
        },
        {
          title: 'a redirect URI that is not a URL',
          args: ['--id', 'bad-portal', '--name', 'Bad', '--profile', 'portal', '--redirect-uri', 'not a url'],
          message: /redirect_uris: "not a url" is not an absolute URL/,
        },
        {
          title: 'a pairwise client whose redirect URIs span two hosts',
          args: ['--id', 'bad-portal', '--name', 'Bad', '--profile', 'portal', '--redirect-uri', 'https://a.example.vn/cb', '--redirect-uri', 'https://b.example.vn/cb'],
          message: /share one host/,
        },
        { title: 'an unknown profile', args: ['--id', 'bad-portal', '--name', 'Bad', '--profile', 'wizard'], message: /--profile: expected one of portal, spa, native, service/ },
        { title: 'a missing --id', args: ['--name', 'Bad', '--profile', 'service'], message: /--id is required/ },
        { title: 'a missing --name', args: ['--id', 'bad-service', '--profile', 'service'], message: /--name is required/ },
        { title: 'an unknown option', args: ['--id', 'bad-service', '--name', 'Bad', '--profile', 'service', '--colour', 'red'], message: /--colour/ },
        { title: 'an unknown scope', args: ['--id', 'bad-service', '--name', 'Bad', '--profile', 'service', '--scopes', 'openid everything'], message: /unknown scope "everything"/ },
        {
          title: 'an authentication method the profile does not allow',
          args: ['--id', 'bad-spa', '--name', 'Bad', '--profile', 'spa', '--redirect-uri', 'https://spa.example.vn/cb', '--auth-method', 'client_secret_basic'],
          message: /token_endpoint_auth_method: a spa client uses none/,
        },
        {
          title: 'private_key_jwt, whose keys registration cannot take yet',
          args: ['--id', 'bad-portal', '--name', 'Bad', '--profile', 'portal', '--redirect-uri', 'https://p.example.vn/cb', '--auth-method', 'private_key_jwt'],
          message: /private_key_jwt needs the client's public keys/,
        },
        {
          title: 'a back-channel logout URI that is not https',
          args: ['--id', 'bad-portal', '--name', 'Bad', '--profile', 'portal', '--redirect-uri', 'https://p.example.vn/cb', '--backchannel-logout-uri', 'http://p.example.vn/logout'],
          message: /backchannel_logout_uri: "http:\/\/p\.example\.vn\/logout" must use https/,
        },
        {
          title: 'sid required without a back-channel logout URI',
          args: ['--id', 'bad-portal', '--name', 'Bad', '--profile', 'portal', '--redirect-uri', 'https://p.example.vn/cb', '--backchannel-logout-session-required'],
          message: /backchannel_logout_session_required: needs a backchannel_logout_uri/,
        },
        {
          title: 'a CLIENT_SECRET too short',
          args: ['--id', 'bad-service', '--name', 'Bad', '--profile', 'service'],
          extra: { CLIENT_SECRET: 'short' },
          message: /secret: at least 12 characters/,
        },
        {
          title: 'a CLIENT_SECRET for a public client',
          args: ['--id', 'bad-spa', '--name', 'Bad', '--profile', 'spa', '--redirect-uri', 'https://spa.example.vn/cb'],
          extra: { CLIENT_SECRET: 'a-long-enough-secret' },
          message: /has no secret/,
        },
        {
          title: 'a client_id that is taken (it is not replaced)',
          args: ['--id', 'tax-portal', '--name', 'Impostor', '--profile', 'portal', '--redirect-uri', 'https://evil.example.vn/cb'],
          message: /a client "tax-portal" already exists/,
        },
      ];

      for (const { title, args, extra, message } of cases) {
        it(title, async function () {
          const before = await snapshot();
          const result = await cli(['clients', 'add', ...args], extra);
          expect(result.code, result.stderr).to.equal(2);
          const lines = linesOf(result.stderr);
          expect(lines, result.stderr).to.have.length(1);
          expect(lines[0]).to.match(/^citizen-idp clients add: /).and.to.match(message);
          expect(result.stderr).not.to.include('    at ');
          expect(result.stdout).to.equal('');
          expect(await snapshot()).to.deep.equal(before);
        });
      }
    });
  });

  describe('seed:demo', function () {
    it('is an npm script', function () {
      const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
      expect(scripts['seed:demo']).to.equal('node src/cli.ts seed:demo');
      expect(scripts.migrate).to.equal('node src/cli.ts migrate');
    });

    it('loads the demo clients, and can run again', async function () {
      for (let run = 0; run < 2; run += 1) {
        const result = await cli(['seed:demo']);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.include('demo data loaded');
      }
      const ids = await db('clients').pluck('client_id');
      expect(ids).to.include.members(['demo-portal', 'demo-tax', 'demo-spa', 'demo-service']);
    });
  });

  describe('accounts raise-level and confirm-level (after seed:demo): four eyes', function () {
    // raise-level only records the request (docs/administration.md "Account administration"); a second, different
    // officer confirms it with confirm-level, and only then is the account at level 2.
    let requestId: string;

    it('records a level-2 request with the evidence, and leaves the account at level 1', async function () {
      const result = await cli(['accounts', 'raise-level', '079185000123', '--evidence', 'HS-2026-0042', '--officer', 'Đại úy Lê Văn Tâm']);
      expect(result.code, result.stderr).to.equal(0);
      requestId = /level-2 request ([0-9a-f-]{36}) recorded/.exec(result.stdout)![1]!;
      expect(await db('accounts').where({ national_id: '079185000123' }).first('level')).to.deep.equal({ level: 1 });
      const request = await db('admin_approvals').where({ id: requestId }).first<{ status: string; requested_by: string; change: { evidence: string } }>();
      expect(request).to.deep.include({ status: 'pending', requested_by: 'officer:Đại úy Lê Văn Tâm' });
      expect(request.change.evidence).to.equal('HS-2026-0042');
    });

    it('refuses the same officer as the confirming one (status 2), and the account stays at level 1', async function () {
      const result = await cli(['accounts', 'confirm-level', requestId, '--officer', 'Đại úy Lê Văn Tâm']);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include('second administrator');
      expect(await db('accounts').where({ national_id: '079185000123' }).first('level')).to.deep.equal({ level: 1 });
      expect(await db('admin_approvals').where({ id: requestId }).first('status')).to.deep.equal({ status: 'pending' });
    });

    it('raises the account when a second officer confirms, with both officers and the evidence recorded and audited', async function () {
      const result = await cli(['accounts', 'confirm-level', requestId, '--officer', 'Thiếu tá Phạm Thu']);
      expect(result.code, result.stderr).to.equal(0);
      const account = await db('accounts').where({ national_id: '079185000123' }).first<{ level: number; level_raised_by: string; level_evidence: string; level_raised_at: Date; id: string }>();
      expect(account).to.include({ level: 2, level_evidence: 'HS-2026-0042' });
      expect(account.level_raised_by).to.include('Đại úy Lê Văn Tâm').and.to.include('Thiếu tá Phạm Thu');
      expect(account.level_raised_at).to.be.instanceOf(Date);
      const events = await db('audit_events').where({ type: 'admin.action', account_id: account.id }).orderBy('id');
      expect(events.map((event: { data: { action?: string } }) => event.data.action)).to.deep.equal([
        'account.level2.requested',
        'account.level2.refused',
        'account.level2.confirmed',
      ]);
      expect(events.map((event: { actor: string }) => event.actor)).to.deep.equal(['officer:Đại úy Lê Văn Tâm', 'officer:Đại úy Lê Văn Tâm', 'officer:Thiếu tá Phạm Thu']);
    });

    it('refuses a request for an account already at level 2 (status 2), changing nothing', async function () {
      const result = await cli(['accounts', 'raise-level', '079185000123', '--evidence', 'other', '--officer', 'other']);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include('at level 2 already');
      expect(await db('accounts').where({ national_id: '079185000123' }).first('level_evidence')).to.deep.equal({ level_evidence: 'HS-2026-0042' });
    });

    it('refuses a malformed ID number or missing evidence with status 2, and an unknown person with status 1', async function () {
      expect((await cli(['accounts', 'raise-level', '0791', '--evidence', 'x', '--officer', 'y'])).code).to.equal(2);
      expect((await cli(['accounts', 'raise-level', '079185000123', '--officer', 'y'])).code).to.equal(2);
      expect((await cli(['accounts', 'raise-level', '031190004567', '--evidence', 'x', '--officer', 'y'])).code).to.equal(1);
    });
  });

  describe('accounts show, lock, unlock, end-sessions, reset-factors (after seed:demo)', function () {
    it('locks and unlocks with a reason, each audited with the officer; refuses a missing reason with status 2', async function () {
      expect((await cli(['accounts', 'lock', '001099012345', '--officer', 'Trung úy Hà'])).code).to.equal(2);
      const locked = await cli(['accounts', 'lock', '001099012345', '--reason', 'phiếu HT-12: báo mất CCCD', '--officer', 'Trung úy Hà']);
      expect(locked.code, locked.stderr).to.equal(0);
      expect(locked.stdout).to.include('account locked');
      expect(await db('accounts').where({ national_id: '001099012345' }).first('status', 'lock_reason')).to.deep.equal({ status: 'locked', lock_reason: 'phiếu HT-12: báo mất CCCD' });
      const shown = await cli(['accounts', 'show', '001099012345']);
      expect(shown.stdout).to.include('locked').and.include('TOTP: enrolled');
      expect(shown.stdout).to.not.include('JBSWY3DPEHPK3PXP');
      const unlocked = await cli(['accounts', 'unlock', '001099012345', '--reason', 'CCCD tìm thấy', '--officer', 'Trung úy Hà']);
      expect(unlocked.code, unlocked.stderr).to.equal(0);
      expect(await db('accounts').where({ national_id: '001099012345' }).first('status')).to.deep.equal({ status: 'active' });
      const id = (await db('accounts').where({ national_id: '001099012345' }).first<{ id: string }>('id')).id;
      const events = await db('audit_events').where({ type: 'admin.action', account_id: id }).orderBy('id');
      expect(events.map((event: { data: { action: string } }) => event.data.action)).to.deep.equal(['account.lock', 'account.viewed', 'account.unlock']);
      expect(events[0]).to.deep.include({ actor: 'officer:Trung úy Hà' });
      expect((events[0] as { data: { reason: string; via: string } }).data).to.deep.include({ reason: 'phiếu HT-12: báo mất CCCD' });
    });

    it('resets the second factors and prints the handover code once, storing only its hash', async function () {
      const result = await cli(['accounts', 'reset-factors', '001099012345', '--reason', 'mất điện thoại', '--officer', 'Trung úy Hà']);
      expect(result.code, result.stderr).to.equal(0);
      const code = /shown only now\): ([0-9A-Z]{4}-[0-9A-Z]{4})/.exec(result.stdout)![1]!;
      const account = await db('accounts').where({ national_id: '001099012345' }).first<{ id: string; totp_secret_sealed: string | null }>('id', 'totp_secret_sealed');
      expect(account.totp_secret_sealed).to.equal(null);
      const stored = await db('enrolment_handover_codes').where({ account_id: account.id }).first<{ code_hash: string }>('code_hash');
      expect(stored.code_hash).to.match(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(await db('audit_events').where({ account_id: account.id }))).to.not.include(code);
      expect((await cli(['accounts', 'end-sessions', '001099012345', '--reason', 'x', '--officer', 'y'])).code).to.equal(0);
    });
  });

  describe('registry apply-changes (after seed:demo)', function () {
    it('applies a death from a change feed file: the account is locked; a second run changes nothing', async function () {
      const { mkdtempSync, writeFileSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const path = await import('node:path');
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'cidp-feed-')), 'changes.ndjson');
      writeFileSync(file, `${JSON.stringify({ id: 'evt-cli-1', type: 'died', national_id: '048203000777', occurred_on: '2026-11-20' })}\n`);
      const first = await cli(['registry', 'apply-changes', file]);
      expect(first.code, first.stderr).to.equal(0);
      expect(await db('accounts').where({ national_id: '048203000777' }).first('status')).to.deep.equal({ status: 'locked' });
      const eventsAfterFirst = await db('audit_events').where({ type: 'registry.changed' }).count<{ count: string }[]>({ count: '*' });
      const second = await cli(['registry', 'apply-changes', file]);
      expect(second.code, second.stderr).to.equal(0);
      const eventsAfterSecond = await db('audit_events').where({ type: 'registry.changed' }).count<{ count: string }[]>({ count: '*' });
      expect(eventsAfterSecond[0]!.count).to.equal(eventsAfterFirst[0]!.count);
    });
  });

  describe('mistakes', function () {
    it('answers an unknown command with one line and status 2', async function () {
      const result = await cli(['clients', 'rename']);
      expect(result.code).to.equal(2);
      expect(linesOf(result.stderr)).to.have.length(1);
      expect(result.stderr).to.include('unknown command "clients rename"');
    });

    it('prints the usage for help (also --help or -h after a command group), and for no command at all with status 2', async function () {
      const help = await cli(['help']);
      expect(help.code).to.equal(0);
      expect(help.stdout).to.include('clients add --id ID');
      for (const asked of [['--help'], ['clients', '--help'], ['clients', 'help'], ['clients', 'add', '-h']]) {
        const answer = await cli(asked);
        expect(answer.code, asked.join(' ')).to.equal(0);
        expect(answer.stdout, asked.join(' ')).to.include('clients add --id ID');
      }
      const none = await cli([]);
      expect(none.code).to.equal(2);
      expect(none.stderr).to.include('usage:');
    });

    it('refuses a bad setting like the server does', async function () {
      const result = await cli(['clients', 'list'], { DATABASE_URL: 'mysql://x' });
      expect(result.code).to.equal(2);
      expect(linesOf(result.stderr)).to.deep.equal(['citizen-idp: invalid configuration: DATABASE_URL: expected a postgres:// or postgresql:// URL']);
    });

    it('tells the operator to migrate a database that has no tables yet', async function () {
      const empty = await createTestDatabase();
      try {
        const result = await cli(['clients', 'list'], { DATABASE_URL: empty.url });
        expect(result.code).to.equal(1);
        expect(linesOf(result.stderr)).to.deep.equal(['citizen-idp clients list: the database is not migrated yet; run: npm run migrate']);
      } finally {
        await empty.drop();
      }
    });
  });
});
