// The citizen's data-access history, read from the audit trail: releases of claims and consents given or
// withdrawn, newest first, only within the retention (five years by default). Events are back-dated by
// stamping them with an earlier clock, written through the audit log into a real database; older ones
// are not shown, and stay in the trail with its hash chain intact (docs/citizens.md "Audit retention").
import { expect } from 'chai';
import { AccessHistory, DEFAULT_HISTORY_RETENTION_DAYS } from '../../src/audit/access-history.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';

const BICH = '0d6f1f0a-2b7e-4c5d-9a1b-3c4d5e6f7a8b';
const AN = '7e2a9c41-5d3b-4f60-8e1a-9b2c3d4e5f60';
const DAY_MS = 24 * 60 * 60 * 1000;

describe('the data-access history and its retention', function () {
  let database: TestDatabase;
  let db: Database;
  /** Writers whose events carry a given age, in days. */
  const writers: AuditLog[] = [];

  /** Records an event `days` ago (plus a minute either way, clear of the boundary) through its own writer. */
  async function recordAged(days: number, event: Parameters<AuditLog['record']>[0], shift: 'younger' | 'older' = 'younger'): Promise<void> {
    const at = new Date(Date.now() - days * DAY_MS + (shift === 'younger' ? 60_000 : -60_000));
    const writer = new AuditLog(db, `backdated:${days}:${shift}:${writers.length}`, () => at);
    writers.push(writer);
    await writer.record(event);
  }

  before(async function () {
    this.timeout(30_000);
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    await recordAged(0, { type: 'claims.released', accountId: BICH, clientId: 'demo-portal', data: { claims: ['sub', 'name'] } });
    await recordAged(30, { type: 'consent.given', accountId: BICH, clientId: 'demo-portal', data: { scopes: ['openid', 'profile'] } });
    await recordAged(400, { type: 'consent.withdrawn', accountId: BICH, clientId: 'demo-tax', data: { scopes: ['openid', 'national_id'] } });
    // Just inside five years, and just outside.
    await recordAged(DEFAULT_HISTORY_RETENTION_DAYS, { type: 'claims.released', accountId: BICH, clientId: 'demo-tax', data: { claims: ['national_id'] } }, 'younger');
    await recordAged(DEFAULT_HISTORY_RETENTION_DAYS, { type: 'claims.released', accountId: BICH, clientId: 'old-portal', data: { claims: ['address'] } }, 'older');
    await recordAged(3000, { type: 'consent.given', accountId: BICH, clientId: 'old-portal', data: { scopes: ['openid', 'address'] } });
    // Not history: another kind of event, and another citizen's release.
    await recordAged(1, { type: 'signin.succeeded', accountId: BICH, data: { acr: 'urn:vn:eid:loa:1' } });
    await recordAged(1, { type: 'claims.released', accountId: AN, clientId: 'demo-portal', data: { claims: ['sub'] } });
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  const history = (retentionDays = DEFAULT_HISTORY_RETENTION_DAYS) => new AccessHistory(db, { retentionDays });
  const all = async (retentionDays?: number) => (await history(retentionDays).page(BICH, { page: 0, pageSize: 100 })).entries;

  it('shows five years by default, newest first: releases with their claims, consents with their scopes', async function () {
    const entries = await all();
    expect(entries.map((entry) => [entry.kind, entry.clientId, entry.items])).to.deep.equal([
      ['claims.released', 'demo-portal', ['sub', 'name']],
      ['consent.given', 'demo-portal', ['openid', 'profile']],
      ['consent.withdrawn', 'demo-tax', ['openid', 'national_id']],
      ['claims.released', 'demo-tax', ['national_id']],
    ]);
    expect(entries.every((entry, index) => index === 0 || entry.at <= entries[index - 1]!.at)).to.equal(true);
  });

  it('does not show an event a minute older than the retention, nor anything older', async function () {
    const clients = (await all()).map((entry) => entry.clientId);
    expect(clients).not.to.include('old-portal');
  });

  it('shows older events under a longer retention, and stops at it', async function () {
    const tenYears = await all(3650);
    expect(tenYears.map((entry) => entry.clientId)).to.deep.equal(['demo-portal', 'demo-portal', 'demo-tax', 'demo-tax', 'old-portal', 'old-portal']);
    expect((await all(2999)).map((entry) => entry.clientId)).to.deep.equal(['demo-portal', 'demo-portal', 'demo-tax', 'demo-tax', 'old-portal']);
  });

  it('pages within the retention: the last page says there is no more, though older events exist', async function () {
    const first = await history().page(BICH, { page: 0, pageSize: 3 });
    expect(first.entries).to.have.length(3);
    expect(first.hasMore).to.equal(true);
    const second = await history().page(BICH, { page: 1, pageSize: 3 });
    expect(second.entries.map((entry) => entry.clientId)).to.deep.equal(['demo-tax']);
    expect(second.hasMore).to.equal(false);
  });

  it('keeps the events it no longer shows: the trail is append-only and every chain stays intact', async function () {
    const stored = await db('audit_events').where({ account_id: BICH, client_id: 'old-portal' }).count<{ count: string }[]>({ count: '*' });
    expect(Number(stored[0]!.count)).to.equal(2);
    for (const writer of writers) expect((await writer.verifyChain(writer.writerId)).intact, writer.writerId).to.equal(true);
    let refusal: unknown;
    await db('audit_events').where({ client_id: 'old-portal' }).delete().catch((error: unknown) => (refusal = error));
    expect(String(refusal)).to.include('audit_events is append-only');
  });

  describe('configuration', function () {
    const environ = { NODE_ENV: 'test' };

    it('defaults to 1826 days and takes AUDIT_HISTORY_RETENTION_DAYS', function () {
      expect(loadConfig(environ).audit.historyRetentionDays).to.equal(1826);
      expect(loadConfig({ ...environ, AUDIT_HISTORY_RETENTION_DAYS: '3650' }).audit.historyRetentionDays).to.equal(3650);
    });

    it('refuses less than five years, naming the setting', function () {
      expect(() => loadConfig({ ...environ, AUDIT_HISTORY_RETENTION_DAYS: '365' }))
        .to.throw(ConfigError, /^AUDIT_HISTORY_RETENTION_DAYS: expected at least 1826 days/);
      expect(() => loadConfig({ ...environ, AUDIT_HISTORY_RETENTION_DAYS: 'five years' })).to.throw(ConfigError, /AUDIT_HISTORY_RETENTION_DAYS/);
    });
  });
});
