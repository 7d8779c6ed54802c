// Importing business register files into the mirror, against a real PostgreSQL: good, bad and mixed
// files, strict mode, re-imports that write only what changed, and imports that never half-happen.
import { Readable } from 'node:stream';
import pg from 'pg';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { RegistryFileError } from '../../src/registry/registry-file.ts';
import { BusinessRegister } from '../../src/business/business-register.ts';
import { importBusinessRegister, type BusinessImportOptions, type RejectedOrganisation } from '../../src/business/business-import.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { TODAY, csvOf, ndjsonOf, organisation, other } from './fixtures.ts';

describe('business register import', function () {
  this.timeout(60_000);

  let database: TestDatabase;
  let db: Database;
  let register: BusinessRegister;

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    register = new BusinessRegister(db);
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  beforeEach(async function () {
    await db('business_representatives').del();
    await db('business_organisations').del();
  });

  async function load(input: string | Buffer[] | AsyncIterable<Buffer>, options: Partial<BusinessImportOptions> = {}) {
    const rejected: RejectedOrganisation[] = [];
    const source = typeof input === 'string' ? Readable.from([Buffer.from(input)]) : Array.isArray(input) ? Readable.from(input) : input;
    const summary = await importBusinessRegister(db, source, { format: 'csv', today: TODAY, onRejected: (row) => rejected.push(row), ...options });
    return { summary, rejected };
  }

  /** Both tables, in key order: what must not change when an import fails. */
  async function snapshot() {
    return {
      organisations: (await db('business_organisations').orderBy('enterprise_code').select('*')) as { enterprise_code: string; updated_at: Date }[],
      representatives: (await db('business_representatives').orderBy(['enterprise_code', 'national_id']).select('*')) as { enterprise_code: string }[],
    };
  }

  describe('a good file', function () {
    it('loads the organisation with its representatives, sorted by ID number, and a branch beside it', async function () {
      const { summary, rejected } = await load(csvOf([
        organisation({ representatives: '079185000123:Chủ tịch Hội đồng thành viên;001099012345:Giám đốc' }),
        organisation({ enterprise_code: '0109999999-001', name: 'Chi nhánh Công ty TNHH Dịch vụ Số An Phát tại Đà Nẵng', name_en: '', status: 'suspended', representatives: '048203000777:Giám đốc chi nhánh' }),
      ]));
      expect(rejected).to.deep.equal([]);
      expect(summary).to.include({ read: 2, inserted: 2, updated: 0, unchanged: 0, rejected: 0, committed: true, mode: 'first' });
      expect(await register.findOrganisation('0109999999')).to.deep.equal({
        enterpriseCode: '0109999999',
        name: 'Công ty TNHH Dịch vụ Số An Phát',
        nameEn: 'An Phat Digital Services Company Limited',
        status: 'active',
        foundedOn: '2019-05-20',
        headOffice: 'Số 12 phố Điện Biên Phủ, Phường Ba Đình, Thành phố Hà Nội',
        representatives: [{ nationalId: '001099012345', title: 'Giám đốc' }, { nationalId: '079185000123', title: 'Chủ tịch Hội đồng thành viên' }],
      });
      expect(await register.findOrganisation('0109999999-001')).to.deep.include({ nameEn: null, status: 'suspended' });
      expect(await register.representativesOf('0109999999-001')).to.deep.equal([{ nationalId: '048203000777', title: 'Giám đốc chi nhánh' }]);
      expect(await register.organisationsRepresentedBy('001099012345')).to.deep.equal([
        { enterpriseCode: '0109999999', name: 'Công ty TNHH Dịch vụ Số An Phát', status: 'active', title: 'Giám đốc' },
      ]);
      expect(await register.findOrganisation('0100000000')).to.equal(undefined);
      expect(await register.representativesOf('0100000000')).to.deep.equal([]);
    });

    it('stores decomposed (NFD) text in NFC with runs of spaces tidied', async function () {
      await load(csvOf([organisation({ name: 'Công ty TNHH  Dịch vụ Số An Phát'.normalize('NFD'), representatives: `001099012345:${' Giám  đốc '.normalize('NFD')}` })]));
      const found = await register.findOrganisation('0109999999');
      expect(found?.name).to.equal('Công ty TNHH Dịch vụ Số An Phát');
      expect(found?.representatives).to.deep.equal([{ nationalId: '001099012345', title: 'Giám đốc' }]);
    });

    it('loads NDJSON (representatives as an array) the same way', async function () {
      const { summary, rejected } = await load(ndjsonOf([organisation(), other(1)]), { format: 'ndjson' });
      expect(rejected).to.deep.equal([]);
      expect(summary).to.include({ read: 2, inserted: 2, rejected: 0 });
      expect(await register.findOrganisation('0100000001')).to.deep.include({ name: 'Công ty Cổ phần Thử nghiệm 1', nameEn: null });
    });

    it('loads a file whose chunks split rows and characters anywhere', async function () {
      const bytes = Buffer.from(csvOf([organisation(), other(2, { name: 'Công ty TNHH Đặng Gia' })]));
      const chunks = Array.from({ length: Math.ceil(bytes.length / 5) }, (_, i) => bytes.subarray(i * 5, i * 5 + 5));
      const { summary } = await load(chunks);
      expect(summary).to.include({ inserted: 2, rejected: 0 });
      expect((await register.findOrganisation('0100000002'))?.name).to.equal('Công ty TNHH Đặng Gia');
    });
  });

  describe('bad rows', function () {
    const cases: [string, Parameters<typeof organisation>[0], string][] = [
      ['a code of 9 digits', { enterprise_code: '010999999' }, 'enterprise_code: 10 digits, a branch adding -001 to -999 ("010999999")'],
      ['a branch suffix -000', { enterprise_code: '0109999999-000' }, 'enterprise_code: 10 digits'],
      ['a branch suffix of two digits', { enterprise_code: '0109999999-01' }, 'enterprise_code: 10 digits'],
      ['no name', { name: '' }, 'name: required'],
      ['a name of spaces only', { name: '   ' }, 'name: required'],
      ['an unknown status', { status: 'closed' }, 'status: one of active, suspended, dissolving, dissolved, revoked, bankrupt ("closed")'],
      ['a founding date that does not exist', { founded_on: '2019-02-30' }, 'founded_on: not a date YYYY-MM-DD from 1900 on ("2019-02-30")'],
      ['a founding date in the future', { founded_on: '2026-11-27' }, 'founded_on: 2026-11-27 is in the future'],
      ['no head office', { head_office: '' }, 'head_office: required'],
      ['a control character in the head office', { head_office: 'Số 12\u0007' }, 'head_office: contains a control character'],
      ['no representative', { representatives: '' }, 'representatives: at least one legal representative is required'],
      ['an ID number of 11 digits', { representatives: '00109901234:Giám đốc' }, 'representatives[0]: national_id must be 12 digits, has 11 characters ("00109901234")'],
      ['an ID number with an unknown province', { representatives: '003099012345:Giám đốc' }, 'representatives[0]: national_id unknown province prefix 003'],
      ['a representative listed twice', { representatives: '001099012345:Giám đốc;001099012345:Chủ tịch' }, 'representatives[1]: 001099012345 is listed twice'],
      ['a representative without a title', { representatives: '001099012345' }, 'representatives[0]: title required'],
      ['eleven representatives', { representatives: Array.from({ length: 11 }, (_, i) => `0010990123${String(i).padStart(2, '0')}:Giám đốc`).join(';') }, 'representatives: at most 10, has 11'],
    ];
    for (const [what, fields, reason] of cases) {
      it(`refuses ${what}`, async function () {
        const { summary, rejected } = await load(csvOf([other(1), organisation(fields)]));
        expect(summary).to.include({ read: 2, inserted: 1, rejected: 1 });
        expect(rejected).to.have.length(1);
        expect(rejected[0]!.line).to.equal(3);
        expect(rejected[0]!.reason).to.include(reason);
      });
    }

    it('names every problem of a row at once', async function () {
      const { rejected } = await load(csvOf([organisation({ status: 'x', founded_on: '', representatives: '1:' })]));
      expect(rejected[0]!.reason.split('; ').map((problem) => problem.split(':')[0])).to.deep.equal(['status', 'founded_on', 'representatives[0]', 'representatives[0]']);
    });

    it('refuses NDJSON representatives that are not an array of objects', async function () {
      const lines = [
        JSON.stringify({ ...organisation(), representatives: '001099012345:Giám đốc' }),
        JSON.stringify({ ...organisation(), representatives: [{ national_id: '001099012345' , title: 'Giám đốc', since: '2020-01-01' }] }),
        JSON.stringify({ ...organisation(), representatives: [] }),
        JSON.stringify({ ...organisation(), representatives: [{ national_id: '001099012345', title: 'Giám đốc; Kế toán trưởng' }] }),
      ].join('\n');
      const { rejected } = await load(`${lines}\n`, { format: 'ndjson' });
      expect(rejected.map((row) => [row.line, row.reason])).to.deep.equal([
        [1, 'representatives: must be an array of {"national_id", "title"}'],
        [2, 'representatives[0]: unexpected field "since"'],
        [3, 'representatives: at least one legal representative is required'],
        [4, 'representatives[0]: title contains ";" (the CSV form\'s separator)'],
      ]);
    });
  });

  describe('a mixed file', function () {
    it('loads the good rows and reports each bad one with its line, after a quoted field over two lines', async function () {
      const file = csvOf([other(1, { head_office: 'Số 1\nPhường Ba Đình, Thành phố Hà Nội' }), other(2, { status: 'open' }), other(3), other(4, { enterprise_code: 'A100000004' })]);
      const { summary, rejected } = await load(file);
      // The header is line 1; other(1) spans lines 2–3 and is refused for the line break (a control character).
      expect(rejected.map((row) => [row.line, row.enterpriseCode, row.reason.split(':')[0]])).to.deep.equal([
        [2, '0100000001', 'head_office'],
        [4, '0100000002', 'status'],
        [6, 'A100000004', 'enterprise_code'],
      ]);
      expect(summary).to.include({ read: 4, inserted: 1, rejected: 3, committed: true });
      expect(await db('business_organisations').pluck('enterprise_code')).to.deep.equal(['0100000003']);
    });

    it('reports a code repeated in the file at its later lines, and loads the first', async function () {
      const { summary, rejected } = await load(csvOf([other(1), other(2), other(1, { name: 'Công ty Lặp lại' })]));
      expect(rejected).to.deep.equal([{ line: 4, enterpriseCode: '0100000001', reason: 'enterprise_code: repeats line 2' }]);
      expect(summary).to.include({ inserted: 2, rejected: 1 });
      expect((await register.findOrganisation('0100000001'))?.name).to.equal('Công ty Cổ phần Thử nghiệm 1');
    });

    it('with strict mode loads nothing, yet reports every bad row', async function () {
      const { summary, rejected } = await load(csvOf([other(1), other(2, { status: '' }), other(3, { founded_on: '1899-12-31' })]), { strict: true });
      expect(summary).to.include({ committed: false, rejected: 2, inserted: 0, mode: 'none' });
      expect(rejected.map((row) => row.line)).to.deep.equal([3, 4]);
      expect(await db('business_organisations').count<{ n: string }[]>({ n: '*' })).to.deep.equal([{ n: '0' }]);
    });

    it('with strict mode refuses a file that repeats a code', async function () {
      const { summary } = await load(csvOf([other(1), other(1)]), { strict: true });
      expect(summary).to.include({ committed: false, rejected: 1 });
      expect(await snapshot()).to.deep.equal({ organisations: [], representatives: [] });
    });
  });

  describe('re-import', function () {
    const file = () => csvOf([organisation({ representatives: '001099012345:Giám đốc;079185000123:Chủ tịch Hội đồng thành viên' }), other(1), other(2)]);

    it('of an unchanged file writes nothing, not even updated_at', async function () {
      await load(file());
      const before = await snapshot();
      const { summary } = await load(file());
      expect(summary).to.include({ read: 3, inserted: 0, updated: 0, unchanged: 3, rejected: 0, mode: 'none' });
      expect(await snapshot()).to.deep.equal(before);
    });

    it('of the same organisations in another order and with representatives listed otherwise is unchanged', async function () {
      await load(file());
      const { summary } = await load(csvOf([other(2), other(1), organisation({ representatives: '079185000123:Chủ tịch Hội đồng thành viên;001099012345:Giám đốc' })]));
      expect(summary).to.include({ unchanged: 3, updated: 0 });
    });

    it('applies what changed, and only that: a status, a replaced representative, a new title', async function () {
      await load(file());
      const before = await snapshot();
      const { summary } = await load(csvOf([
        organisation({ representatives: '001099012345:Giám đốc;031190004567:Chủ tịch Hội đồng thành viên' }),
        other(1, { status: 'dissolved' }),
        other(2, { representatives: '001099012345:Tổng giám đốc' }),
        other(3),
      ]));
      expect(summary).to.include({ read: 4, inserted: 1, updated: 3, unchanged: 0, mode: 'merge' });
      // The replaced representative is gone; the one who stayed is still there.
      expect(await register.representativesOf('0109999999')).to.deep.equal([
        { nationalId: '001099012345', title: 'Giám đốc' },
        { nationalId: '031190004567', title: 'Chủ tịch Hội đồng thành viên' },
      ]);
      expect((await register.findOrganisation('0100000001'))?.status).to.equal('dissolved');
      expect(await register.representativesOf('0100000002')).to.deep.equal([{ nationalId: '001099012345', title: 'Tổng giám đốc' }]);
      const after = await snapshot();
      const updatedAt = (rows: typeof after.organisations, code: string) => rows.find((row) => row.enterprise_code === code)!.updated_at.getTime();
      expect(updatedAt(after.organisations, '0100000001')).to.be.greaterThan(updatedAt(before.organisations, '0100000001'));
    });

    it('leaves organisations the file does not mention alone, and an unchanged one unwritten', async function () {
      await load(file());
      const before = await snapshot();
      const { summary } = await load(csvOf([other(1), other(2, { name: 'Công ty Cổ phần Đổi tên' })]));
      expect(summary).to.include({ updated: 1, unchanged: 1 });
      const after = await snapshot();
      expect(after.organisations.filter((row) => row.enterprise_code !== '0100000002')).to.deep.equal(
        before.organisations.filter((row) => row.enterprise_code !== '0100000002'),
      );
      expect(after.representatives).to.deep.equal(before.representatives);
    });
  });

  describe('a file that cannot be read', function () {
    it('with invalid UTF-8 is refused whole, naming the byte and line, even after good rows', async function () {
      const good = Buffer.from(csvOf([other(1), other(2)]));
      const error = await load([good, Buffer.from([0x30, 0x31, 0xff, 0x0a])]).then(() => undefined, (caught: unknown) => caught);
      expect(error).to.be.instanceOf(RegistryFileError);
      expect((error as RegistryFileError).code).to.equal('bad-encoding');
      expect((error as Error).message).to.match(/byte \d+ \(around line 4\)/);
      expect(await snapshot()).to.deep.equal({ organisations: [], representatives: [] });
    });

    it('with a wrong header is refused before any row', async function () {
      const error = await load('enterprise_code,name,status\n0109999999,X,active\n').then(() => undefined, (caught: unknown) => caught);
      expect(error).to.be.instanceOf(RegistryFileError);
      expect((error as Error).message).to.equal(
        "wrong header: missing name_en, founded_on, head_office, representatives (line 1 must name the register's columns, see docs/business-register.md)",
      );
    });

    it('as NDJSON of another kind of file is refused at its first line', async function () {
      const error = await load('{"national_id":"001099012345"}\n', { format: 'ndjson' }).then(() => undefined, (caught: unknown) => caught);
      expect((error as Error).message).to.match(/^line 1: "national_id" is not a register column/);
    });

    it('skips a byte-order mark', async function () {
      const { summary } = await load(`\uFEFF${csvOf([other(1)])}`);
      expect(summary).to.include({ inserted: 1, rejected: 0 });
    });
  });

  describe('a first load into the empty mirror', function () {
    const indexes = async () =>
      (await db.raw<{ rows: { indexdef: string }[] }>(
        "SELECT indexdef FROM pg_indexes WHERE tablename IN ('business_organisations', 'business_representatives') ORDER BY indexname",
      )).rows.map((row) => row.indexdef);

    it('builds the keys and indexes it dropped again, and they hold', async function () {
      const before = await indexes();
      expect(before.join('\n')).to.include('business_representatives_national_id').and.to.include('business_organisations_pkey');
      const { summary } = await load(csvOf([organisation(), other(1)]));
      expect(summary).to.include({ mode: 'first', inserted: 2 });
      expect(await indexes()).to.deep.equal(before);
      const error = await db('business_organisations').insert({ ...(await db('business_organisations').where({ enterprise_code: '0100000001' }).first()) as object }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect((error as { code?: string }).code).to.equal('23505');
    });

    it('puts back a foreign key another table holds on the mirror', async function () {
      await db.raw('CREATE TABLE business_reference_test (enterprise_code text COLLATE "C" REFERENCES business_organisations)');
      try {
        const { summary } = await load(csvOf([organisation()]));
        expect(summary).to.include({ mode: 'first', inserted: 1 });
        const { rows } = await db.raw<{ rows: { definition: string }[] }>(
          "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = 'business_reference_test'::regclass AND contype = 'f'",
        );
        expect(rows.map((row) => row.definition)).to.deep.equal(['FOREIGN KEY (enterprise_code) REFERENCES business_organisations(enterprise_code)']);
      } finally {
        await db.raw('DROP TABLE business_reference_test');
      }
    });

    it('rolls back whole, keys and indexes included, when aborted while they are rebuilt', async function () {
      const before = await indexes();
      const abort = new AbortController();
      const error = await load(csvOf([organisation(), other(1), other(2)]), {
        signal: abort.signal,
        onProgress: ({ phase }) => {
          if (phase === 'indexing') abort.abort(new Error('stopped while indexing'));
        },
      }).then(() => undefined, (caught: unknown) => caught);
      expect((error as Error).message).to.equal('stopped while indexing');
      expect(await snapshot()).to.deep.equal({ organisations: [], representatives: [] });
      expect(await indexes()).to.deep.equal(before);
    });
  });

  describe('an import that does not finish', function () {
    /** The file in batches of fresh organisations; fails (or aborts) after `stopAfter` batches. */
    async function* failingFile(stopAfter: number, stop: () => void) {
      yield Buffer.from(csvOf([]));
      for (let batch = 0; batch < 40; batch++) {
        const rows = Array.from({ length: 100 }, (_, i) => other(batch * 100 + i + 1, { status: 'suspended' }));
        yield Buffer.from(csvOf(rows).slice(csvOf([]).length));
        if (batch === stopAfter) stop();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }

    it('leaves the empty mirror empty when the file fails mid-way (a first load)', async function () {
      const error = await load(failingFile(10, () => {
        throw new Error('disk gone');
      })).then(() => undefined, (caught: unknown) => caught);
      expect((error as Error).message).to.equal('disk gone');
      expect(await snapshot()).to.deep.equal({ organisations: [], representatives: [] });
    });

    it('leaves a filled mirror exactly as it was when aborted mid-stream, and the next import runs', async function () {
      await load(csvOf([organisation(), other(1), other(2)]));
      const before = await snapshot();
      const abort = new AbortController();
      const error = await load(failingFile(15, () => abort.abort(new Error('stopped by the test'))), { signal: abort.signal }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect((error as Error).message).to.equal('stopped by the test');
      expect(await snapshot()).to.deep.equal(before);
      const { summary } = await load(csvOf([other(3)]));
      expect(summary).to.include({ inserted: 1 });
    });

    it('refuses to run beside another import', async function () {
      const holder = new pg.Client({ connectionString: database.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock($1)', [0x62757369]);
        const error = await load(csvOf([other(1)])).then(() => undefined, (caught: unknown) => caught);
        expect((error as Error).message).to.equal('another business register import is running; try again when it has finished');
      } finally {
        await holder.end();
      }
      expect(await snapshot()).to.deep.equal({ organisations: [], representatives: [] });
    });
  });
});
