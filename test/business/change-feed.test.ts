// The business register's change feed against a real PostgreSQL: a replaced representative is gone and
// the new one there, suspensions, reactivations and dissolutions follow the register's order, every
// event applies once, bad lines are reported by number and the rest applied, a refused event changes
// nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { BusinessRegister } from '../../src/business/business-register.ts';
import { importBusinessRegister } from '../../src/business/business-import.ts';
import {
  applyBusinessChangeFeed,
  describeBusinessChangeProblem,
  describeBusinessChangeSummary,
  type BusinessChangeDependencies,
} from '../../src/business/business-change-feed.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { TODAY, csvOf, organisation, other } from './fixtures.ts';

const lines = (...events: Record<string, unknown>[]) => Readable.from(events.map((event) => JSON.stringify(event)));

describe('the business register change feed', function () {
  this.timeout(60_000);

  let database: TestDatabase;
  let db: Database;
  let audit: AuditLog;
  let deps: BusinessChangeDependencies;
  let register: BusinessRegister;
  let serial = 0;
  const id = () => `br-2026-${String(++serial).padStart(6, '0')}`;

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    audit = new AuditLog(db);
    deps = { db, audit, actor: 'test' };
    register = new BusinessRegister(db);
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  beforeEach(async function () {
    await db('business_change_events').del();
    await db('business_representatives').del();
    await db('business_organisations').del();
    await importBusinessRegister(
      db,
      Readable.from([Buffer.from(csvOf([organisation({ representatives: '001099012345:Giám đốc;079185000123:Chủ tịch Hội đồng thành viên' }), other(1), other(2, { status: 'dissolved' })]))]),
      { format: 'csv', today: TODAY },
    );
  });

  async function apply(input: Readable | string) {
    const problems: string[] = [];
    const summary = await applyBusinessChangeFeed(input, deps, { today: TODAY, onProblem: (problem) => problems.push(describeBusinessChangeProblem(problem)) });
    await audit.flush();
    return { summary, problems };
  }

  const snapshot = async () => ({
    organisations: (await db('business_organisations').orderBy('enterprise_code').select('*')) as { enterprise_code: string; status: string; updated_at: Date }[],
    representatives: (await db('business_representatives').orderBy(['enterprise_code', 'national_id']).select('*')) as { enterprise_code: string }[],
  });

  it('replaces a representative: the old one is gone, the new one holds the title, the other stays', async function () {
    const { summary, problems } = await apply(lines({
      id: id(), type: 'representative_replaced', enterprise_code: '0109999999', occurred_on: '2026-11-20',
      previous_national_id: '001099012345', national_id: '031190004567', title: 'Tổng giám đốc',
    }));
    expect(problems).to.deep.equal([]);
    expect(summary).to.include({ read: 1, applied: 1, unchanged: 0, rejected: 0 });
    expect(await register.representativesOf('0109999999')).to.deep.equal([
      { nationalId: '031190004567', title: 'Tổng giám đốc' },
      { nationalId: '079185000123', title: 'Chủ tịch Hội đồng thành viên' },
    ]);
    expect((await register.organisationsRepresentedBy('001099012345')).map((found) => found.enterpriseCode)).to.not.include('0109999999');
    expect((await register.organisationsRepresentedBy('031190004567')).map((found) => found.enterpriseCode)).to.deep.equal(['0109999999']);
    const [row] = (await db('audit_events').where({ type: 'registry.changed' }).orderBy('seq', 'desc').limit(1).select('data', 'actor')) as unknown[];
    expect(row).to.deep.equal({ actor: 'test', data: { register: 'business', eventId: `br-2026-${String(serial).padStart(6, '0')}`, change: 'representative_replaced', enterpriseCode: '0109999999' } });
  });

  it('suspends, reactivates and dissolves an organisation, in the register\'s order only', async function () {
    const events = [
      { id: id(), type: 'suspended', enterprise_code: '0100000001', occurred_on: '2026-01-10' },
      { id: id(), type: 'suspended', enterprise_code: '0100000001', occurred_on: '2026-01-11' },
      { id: id(), type: 'reactivated', enterprise_code: '0100000001', occurred_on: '2026-03-01' },
      { id: id(), type: 'reactivated', enterprise_code: '0100000001', occurred_on: '2026-03-02' },
      { id: id(), type: 'dissolved', enterprise_code: '0100000001', occurred_on: '2026-06-30' },
      { id: id(), type: 'reactivated', enterprise_code: '0100000001', occurred_on: '2026-07-01' },
      { id: id(), type: 'dissolved', enterprise_code: '0100000002', occurred_on: '2026-07-01' },
    ];
    const { summary, problems } = await apply(lines(...events));
    expect(summary).to.include({ read: 7, applied: 3, rejected: 4 });
    expect(problems).to.deep.equal([
      `line 2 (event ${events[1]!.id}): status: the organisation is suspended; suspended applies to active organisations`,
      `line 4 (event ${events[3]!.id}): status: the organisation is active; reactivated applies to suspended organisations`,
      `line 6 (event ${events[5]!.id}): status: the organisation is dissolved; reactivated applies to suspended organisations`,
      `line 7 (event ${events[6]!.id}): status: the organisation is dissolved; dissolved applies to active or suspended or dissolving organisations`,
    ]);
    expect((await register.findOrganisation('0100000001'))?.status).to.equal('dissolved');
    // Refused events are not recorded: they apply once the state allows.
    expect(await db('business_change_events').orderBy('applied_at').pluck('type')).to.deep.equal(['suspended', 'reactivated', 'dissolved']);
  });

  it('applies a feed twice and changes nothing the second time; the same id with other content is refused', async function () {
    const event = { id: id(), type: 'suspended', enterprise_code: '0109999999', occurred_on: '2026-11-01' };
    expect((await apply(lines(event))).summary).to.include({ applied: 1 });
    const before = await snapshot();
    const again = await apply(lines(event));
    expect(again.summary).to.include({ read: 1, applied: 0, unchanged: 1, rejected: 0 });
    expect(await snapshot()).to.deep.equal(before);
    const other = await apply(lines({ ...event, type: 'dissolved' }));
    expect(other.problems).to.deep.equal([`line 1 (event ${event.id}): id: event ${event.id} was applied before with other content`]);
    expect(await snapshot()).to.deep.equal(before);
  });

  it('reports bad lines by number and reason, applies the rest, and a refused event changes nothing', async function () {
    const before = await snapshot();
    const file = [
      '',
      'not json',
      JSON.stringify({ id: id(), type: 'merged', enterprise_code: '0109999999', occurred_on: '2026-01-01' }),
      JSON.stringify({ id: id(), type: 'suspended', enterprise_code: '010999999', occurred_on: '2026-01-01' }),
      JSON.stringify({ id: id(), type: 'suspended', enterprise_code: '0109999999', occurred_on: '2026-12-01' }),
      JSON.stringify({ id: id(), type: 'suspended', enterprise_code: '0109999999', occurred_on: '2026-01-01', reason: 'x' }),
      JSON.stringify({ id: id(), type: 'suspended', enterprise_code: '0199999999', occurred_on: '2026-01-01' }),
      JSON.stringify({ id: id(), type: 'suspended', enterprise_code: '0109999999', occurred_on: '2010-01-01' }),
      JSON.stringify({ id: id(), type: 'representative_replaced', enterprise_code: '0109999999', occurred_on: '2026-01-01', previous_national_id: '048203000777', national_id: '031190004567', title: 'Giám đốc' }),
      JSON.stringify({ id: id(), type: 'representative_replaced', enterprise_code: '0109999999', occurred_on: '2026-01-01', previous_national_id: '001099012345', national_id: '079185000123', title: 'Giám đốc' }),
      JSON.stringify({ id: id(), type: 'representative_replaced', enterprise_code: '0109999999', occurred_on: '2026-01-01', previous_national_id: '001099012345', national_id: '00109901234', title: 'Giám đốc' }),
      JSON.stringify({ id: id(), type: 'representative_replaced', enterprise_code: '0100000002', occurred_on: '2026-01-01', previous_national_id: '001099012345', national_id: '031190004567', title: 'Giám đốc' }),
      JSON.stringify({ id: id(), type: 'suspended', enterprise_code: '0100000001', occurred_on: '2026-01-01' }),
    ].join('\n');
    const { summary, problems } = await apply(Readable.from(file.split('\n')));
    expect(summary).to.include({ read: 12, applied: 1, rejected: 11 });
    expect(problems.map((problem) => problem.replace(/ \(event [^)]+\)/, ''))).to.deep.equal([
      'line 2: not valid JSON',
      'line 3: type: expected one of representative_replaced, suspended, reactivated, dissolved',
      'line 4: enterprise_code: expected 10 digits, a branch adding -001 to -999',
      'line 5: occurred_on: expected a date not after today (2026-11-26)',
      'line 6: unexpected field "reason"',
      'line 7: enterprise_code: not in the business register mirror',
      'line 8: occurred_on: before the organisation was founded (2019-05-20)',
      'line 9: previous_national_id: not a legal representative of 0109999999',
      'line 10: national_id: already a legal representative of 0109999999',
      'line 11: national_id: expected an ID number: must be 12 digits, has 11 characters',
      'line 12: status: the organisation is dissolved',
    ]);
    const after = await snapshot();
    expect(after.representatives).to.deep.equal(before.representatives);
    expect(after.organisations.filter((row) => row.enterprise_code !== '0100000001')).to.deep.equal(before.organisations.filter((row) => row.enterprise_code !== '0100000001'));
    expect(describeBusinessChangeSummary(summary)).to.match(/^read 12, applied 1, unchanged 0, rejected 11; [\d.]+ s$/);
  });

  it('reads a file, CRLF and a byte-order mark included', async function () {
    const folder = await mkdtemp(path.join(tmpdir(), 'business-feed-'));
    try {
      const file = path.join(folder, 'feed.ndjson');
      await writeFile(file, `\uFEFF${JSON.stringify({ id: id(), type: 'dissolved', enterprise_code: '0100000001', occurred_on: '2026-05-01' })}\r\n\r\n`);
      const { summary } = await apply(file);
      expect(summary).to.include({ read: 1, applied: 1 });
      expect((await register.findOrganisation('0100000001'))?.status).to.equal('dissolved');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
