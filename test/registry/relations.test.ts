// Parents and guardian in the population registry, against a real PostgreSQL: the optional file columns
// and their rules (refusals by line), files with and without them, re-imports that change only what
// changed, the synthetic generator's families, and the change feed's relations_changed event — down to
// whom the representation rules let act for a child.
import { Readable, Writable } from 'node:stream';
import { expect } from 'chai';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { applyChangeFeed, type ChangeFeedDependencies } from '../../src/registry/change-feed.ts';
import { composeNationalId, parseNationalId, type Gender } from '../../src/registry/national-id.ts';
import { REGISTRY_FILE_COLUMNS, RELATION_COLUMNS, REQUIRED_FILE_COLUMNS, type RegistryFileColumn } from '../../src/registry/record-schema.ts';
import { RegistryRowReader } from '../../src/registry/registry-file.ts';
import { importRegistry, type ImportOptions, type RejectedRow } from '../../src/registry/registry-import.ts';
import { RegistryRepository } from '../../src/registry/registry.ts';
import { generateRegistry } from '../../src/registry/synthetic-registry.ts';
import { RepresentationDirectory } from '../../src/representation/representation.ts';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { TODAY, citizen, ndjsonOf, type Citizen } from './fixtures.ts';

/** A citizen whose number fits the birth: born `birthDate`, registered in Hà Nội, serial `serial`. */
function born(serial: number, birthDate: string, gender: Gender, fields: Partial<Citizen> = {}): Citizen {
  return citizen({
    national_id: composeNationalId('001', Number(birthDate.slice(0, 4)), gender, serial),
    birth_date: birthDate,
    gender,
    id_card_issue_date: '',
    id_card_expiry_date: '',
    ...fields,
  });
}

const FATHER = born(1, '1988-02-01', 'male', { given_name: 'Bình', relation_to_head: 'head' });
const MOTHER = born(2, '1990-07-09', 'female', { middle_name: 'Thị', given_name: 'Lan', relation_to_head: 'spouse' });
const GRANDFATHER = born(3, '1958-11-11', 'male', { given_name: 'Hòa', household_id: 'HK0000000009', relation_to_head: 'head' });
/** Born 2020: under 14 on TODAY. */
const CHILD = born(4, '2020-05-01', 'female', {
  given_name: 'Mai', relation_to_head: 'child', father_national_id: FATHER.national_id, mother_national_id: MOTHER.national_id,
});
const FAMILY = [FATHER, MOTHER, GRANDFATHER, CHILD];

function csvWith(columns: readonly RegistryFileColumn[], rows: Citizen[]): string {
  return [columns.join(','), ...rows.map((row) => columns.map((column) => row[column]).join(','))].join('\n') + '\n';
}
const csvOf = (rows: Citizen[]) => csvWith(REGISTRY_FILE_COLUMNS, rows);
/** A file written before the relation columns existed. */
const oldCsvOf = (rows: Citizen[]) => csvWith(REQUIRED_FILE_COLUMNS, rows);

async function generated(count: number, seed: string, format: 'csv' | 'ndjson' = 'csv'): Promise<string> {
  const chunks: Buffer[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await generateRegistry({ count, seed, format, asOf: '2026-01-01' }, output);
  return Buffer.concat(chunks).toString('utf8');
}

describe('parents and guardian in the registry', function () {
  this.timeout(120_000);

  let database: TestDatabase;
  let db: Database;
  let registry: RegistryRepository;
  let audit: AuditLog;

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    registry = new RegistryRepository(db);
    audit = new AuditLog(db);
  });

  after(async function () {
    await audit?.flush();
    await db?.destroy();
    await database?.drop();
  });

  beforeEach(async function () {
    await db('registry_records').del();
  });

  async function load(text: string, options: Partial<ImportOptions> = {}) {
    const rejected: RejectedRow[] = [];
    const summary = await importRegistry(db, Readable.from([Buffer.from(text)]), { format: 'csv', today: TODAY, onRejected: (row) => rejected.push(row), ...options });
    return { summary, rejected };
  }

  const relationsOf = async (nationalId: string) => {
    const record = await registry.findByNationalId(nationalId);
    return record && { father: record.fatherNationalId, mother: record.motherNationalId, guardian: record.guardianNationalId };
  };
  const rows = () => db('registry_records').orderBy('national_id').select<Record<string, unknown>[]>('*');

  describe('the file columns', function () {
    for (const format of ['csv', 'ndjson'] as const) {
      it(`load into the record, and refuse a bad number, the person's own, one parent twice — naming the line (${format})`, async function () {
        const file = [
          FATHER,
          born(11, '2019-01-01', 'male', { father_national_id: '00108800000' }),
          born(12, '2019-01-02', 'male', { mother_national_id: '00119000000X' }),
          born(13, '2019-01-03', 'male', { guardian_national_id: '003058000001' }),
          born(14, '2019-01-04', 'male', { father_national_id: '001688000001' }),
          born(15, '2019-01-05', 'male', { guardian_national_id: composeNationalId('001', 2019, 'male', 15) }),
          born(16, '2019-01-06', 'male', { father_national_id: FATHER.national_id, mother_national_id: FATHER.national_id }),
          CHILD,
          born(17, '2010-01-01', 'male', { guardian_national_id: GRANDFATHER.national_id }),
        ];
        const { summary, rejected } = await load(format === 'csv' ? csvOf(file) : ndjsonOf(file), { format });
        // CSV line 1 is the header; NDJSON starts with the first record.
        const line = (index: number) => index + (format === 'csv' ? 2 : 1);
        expect(rejected).to.deep.equal([
          { line: line(1), nationalId: file[1]!.national_id, reason: 'father_national_id: must be 12 digits, has 11 characters' },
          { line: line(2), nationalId: file[2]!.national_id, reason: 'mother_national_id: must be 12 digits, has other characters' },
          { line: line(3), nationalId: file[3]!.national_id, reason: 'guardian_national_id: unknown province prefix 003' },
          { line: line(4), nationalId: file[4]!.national_id, reason: 'father_national_id: century/gender digit 6 is not 0–5' },
          { line: line(5), nationalId: file[5]!.national_id, reason: "guardian_national_id: the person's own number" },
          { line: line(6), nationalId: file[6]!.national_id, reason: 'mother_national_id: the same number as father_national_id' },
        ]);
        expect(summary).to.include({ read: 9, inserted: 3, rejected: 6 });
        expect(await relationsOf(CHILD.national_id)).to.deep.equal({ father: FATHER.national_id, mother: MOTHER.national_id, guardian: null });
        expect(await relationsOf(file[8]!.national_id)).to.deep.equal({ father: null, mother: null, guardian: GRANDFATHER.national_id });
        expect(await relationsOf(FATHER.national_id)).to.deep.equal({ father: null, mother: null, guardian: null });
      });
    }

    it('in strict mode: one bad relation loads nothing', async function () {
      const { summary } = await load(csvOf([FATHER, born(11, '2019-01-01', 'male', { father_national_id: '001' })]), { strict: true });
      expect(summary).to.include({ committed: false, rejected: 1 });
      expect(await rows()).to.deep.equal([]);
    });
  });

  describe('a file without the relation columns', function () {
    it('still imports, first load and merge alike, naming no one', async function () {
      expect((await load(oldCsvOf([FATHER, MOTHER]))).summary).to.include({ inserted: 2, rejected: 0, mode: 'first' });
      expect((await load(oldCsvOf([CHILD]))).summary).to.include({ inserted: 1, rejected: 0, mode: 'incremental' });
      expect(await relationsOf(CHILD.national_id)).to.deep.equal({ father: null, mother: null, guardian: null });
    });

    it('leaves the relations the registry holds as they are: unchanged rows stay unwritten, changed ones keep them', async function () {
      await load(csvOf(FAMILY));
      const before = await rows();
      const again = await load(oldCsvOf(FAMILY));
      expect(again.summary).to.include({ read: 4, inserted: 0, updated: 0, unchanged: 4 });
      expect(await rows()).to.deep.equal(before);

      const renamed = await load(oldCsvOf([{ ...CHILD, given_name: 'Hoa' }]));
      expect(renamed.summary).to.include({ updated: 1 });
      expect(await registry.findByNationalId(CHILD.national_id)).to.deep.include({
        fullName: 'Nguyễn Văn Hoa', fatherNationalId: FATHER.national_id, motherNationalId: MOTHER.national_id, guardianNationalId: null,
      });
    });

    it('with only some of the columns: those it has are written, the others kept', async function () {
      await load(csvOf(FAMILY));
      const columns = [...REQUIRED_FILE_COLUMNS, 'guardian_national_id'] as const;
      const { summary } = await load(csvWith(columns, [{ ...CHILD, guardian_national_id: GRANDFATHER.national_id }]));
      expect(summary).to.include({ updated: 1 });
      expect(await relationsOf(CHILD.national_id)).to.deep.equal({ father: FATHER.national_id, mother: MOTHER.national_id, guardian: GRANDFATHER.national_id });
    });

    it('in NDJSON, keys left out on every line keep the relations; a key given (null) clears it', async function () {
      await load(csvOf(FAMILY));
      const strip = (row: Citizen) => Object.fromEntries(Object.entries(row).filter(([key]) => !(RELATION_COLUMNS as readonly string[]).includes(key)));
      const { summary } = await load(`${JSON.stringify(strip({ ...CHILD, given_name: 'Hoa' }))}\n`, { format: 'ndjson' });
      expect(summary).to.include({ updated: 1 });
      expect(await relationsOf(CHILD.national_id)).to.deep.equal({ father: FATHER.national_id, mother: MOTHER.national_id, guardian: null });
      const cleared = await load(`${JSON.stringify({ ...strip(CHILD), father_national_id: null })}\n`, { format: 'ndjson' });
      expect(cleared.summary).to.include({ updated: 1 });
      expect(await relationsOf(CHILD.national_id)).to.deep.equal({ father: null, mother: MOTHER.national_id, guardian: null });
    });

    it('keeps them through a bulk merge too', async function () {
      const text = await generated(60_000, 'relations-bulk');
      const lines = text.split('\n');
      // The few records there before the bulk load: a child and its parents, from the same file.
      const relationAt = (name: string) => REGISTRY_FILE_COLUMNS.indexOf(name as RegistryFileColumn);
      const childLine = lines.findIndex((line, index) => index > 0 && line.split(',')[relationAt('father_national_id')] !== '' && line.split(',')[relationAt('mother_national_id')] !== '');
      await load(`${lines[0]}\n${lines[childLine]}\n`, { today: '2026-01-01' });
      const child = lines[childLine]!.split(',');
      const old = lines.map((line) => line.split(',').slice(0, REQUIRED_FILE_COLUMNS.length).join(',')).join('\n');
      const { summary } = await load(old, { today: '2026-01-01' });
      expect(summary).to.include({ read: 60_000, inserted: 59_999, updated: 0, unchanged: 1, mode: 'bulk' });
      expect(await relationsOf(child[0]!)).to.deep.equal({ father: child[relationAt('father_national_id')], mother: child[relationAt('mother_national_id')], guardian: null });
      const [{ n }] = (await db('registry_records').whereNotNull('father_national_id').count<{ n: string }[]>({ n: '*' })) as [{ n: string }];
      expect(Number(n)).to.equal(1);
    });
  });

  describe('re-import with the columns', function () {
    it('of an unchanged file changes nothing, not even updated_at', async function () {
      await load(csvOf(FAMILY));
      const before = await rows();
      expect((await load(csvOf(FAMILY))).summary).to.include({ inserted: 0, updated: 0, unchanged: 4 });
      expect(await rows()).to.deep.equal(before);
    });

    it('writes a changed relation, and only that record', async function () {
      await load(csvOf(FAMILY));
      const before = await rows();
      const changed = { ...CHILD, father_national_id: '', guardian_national_id: GRANDFATHER.national_id };
      expect((await load(csvOf([FATHER, MOTHER, GRANDFATHER, changed]))).summary).to.include({ updated: 1, unchanged: 3 });
      const after = await rows();
      expect(after.filter((row, index) => JSON.stringify(row) !== JSON.stringify(before[index])).map((row) => row.national_id)).to.deep.equal([CHILD.national_id]);
      expect(await relationsOf(CHILD.national_id)).to.deep.equal({ father: null, mother: MOTHER.national_id, guardian: GRANDFATHER.national_id });
    });

    it('of a generated registry finds every record unchanged', async function () {
      const text = await generated(3000, 'relations-reimport');
      expect((await load(text, { today: '2026-01-01' })).summary).to.include({ inserted: 3000, rejected: 0 });
      const before = await rows();
      expect((await load(text, { today: '2026-01-01' })).summary).to.include({ unchanged: 3000 });
      expect(await rows()).to.deep.equal(before);
    });
  });

  describe('the synthetic registry', function () {
    type Row = Record<RegistryFileColumn, string> & { line: number };
    const read = (text: string, format: 'csv' | 'ndjson' = 'csv'): Row[] => {
      const found: Row[] = [];
      const reader = new RegistryRowReader(format, {
        row: (values, line) => found.push({ line, ...Object.fromEntries(REGISTRY_FILE_COLUMNS.map((column, i) => [column, values[i] ?? ''])) } as Row),
        malformed: (line, reason) => expect.fail(`line ${line}: ${reason}`),
      });
      reader.push(text);
      reader.end();
      return found;
    };
    const years = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / (365.2425 * 86_400_000);
    let sample: Row[];

    before(async function () {
      sample = read(await generated(30_000, 'families'));
    });

    it('writes the same relations for the same seed, and other ones for another', async function () {
      const relations = (rows: Row[]) => rows.map((row) => `${row.father_national_id},${row.mother_national_id},${row.guardian_national_id}`).join('\n');
      const [a, b, c] = await Promise.all([generated(5000, 'same'), generated(5000, 'same'), generated(5000, 'another')]);
      expect(relations(read(a))).to.equal(relations(read(b)));
      expect(relations(read(a))).to.not.equal(relations(read(c)));
      expect(read(await generated(5000, 'same', 'ndjson'), 'ndjson').map(({ line: _line, ...row }) => row)).to.deep.equal(read(a).map(({ line: _line, ...row }) => row));
    });

    it('names parents from the household, written before the child, of the right gender and 18 or more years older', function () {
      const byId = new Map(sample.map((row) => [row.national_id, row]));
      let named = 0;
      for (const row of sample) {
        for (const [column, gender] of [['father_national_id', 'male'], ['mother_national_id', 'female'], ['guardian_national_id', undefined]] as const) {
          const id = row[column];
          if (id === '') continue;
          named++;
          const parent = byId.get(id);
          expect(parent, `${column} of line ${row.line}`).to.not.equal(undefined);
          expect(parent!.household_id).to.equal(row.household_id);
          expect(parent!.line).to.be.lessThan(row.line);
          if (gender) expect(parent!.gender).to.equal(gender);
          expect(parseNationalId(id)!.gender).to.equal(parent!.gender);
          expect(years(parent!.birth_date, row.birth_date), `${column} of line ${row.line}`).to.be.at.least(18);
        }
        if (row.guardian_national_id !== '') {
          expect([row.father_national_id, row.mother_national_id]).to.deep.equal(['', '']);
          expect(years(row.birth_date, '2026-01-01')).to.be.below(18);
        }
      }
      expect(named).to.be.greaterThan(sample.length / 3);
    });

    it('gives most children both parents, single parents' + "' children one, and a few minors a guardian instead", function () {
      const children = sample.filter((row) => row.relation_to_head === 'child');
      const both = children.filter((row) => row.father_national_id !== '' && row.mother_national_id !== '');
      const one = children.filter((row) => (row.father_national_id === '') !== (row.mother_national_id === ''));
      const minors = sample.filter((row) => ['child', 'grandchild'].includes(row.relation_to_head) && years(row.birth_date, '2026-01-01') < 18);
      const guarded = minors.filter((row) => row.guardian_national_id !== '');
      expect(both.length / children.length).to.be.within(0.75, 0.95);
      expect(one.length).to.be.greaterThan(0);
      expect(guarded.length / minors.length).to.be.within(0.01, 0.06);
      // Heads, spouses and the household's elderly parents name no one.
      expect(sample.filter((row) => ['head', 'spouse', 'parent'].includes(row.relation_to_head) && row.father_national_id + row.mother_national_id + row.guardian_national_id !== '')).to.deep.equal([]);
    });
  });

  describe('the change feed', function () {
    let deps: ChangeFeedDependencies;
    let eventSerial = 0;
    const nextId = () => `relations-${++eventSerial}`;
    const feed = (...events: Record<string, unknown>[]) => Readable.from(events.map((event) => JSON.stringify(event)));
    let children: (nationalId: string) => Promise<string[]>;

    before(function () {
      // Nothing to end for these people (they have no accounts); the death path is change-feed.test.ts's.
      deps = { db, audit, access: { endAllAccess: () => Promise.resolve({ sessions: 0, grants: 0 }) } };
      const representation = new RepresentationDirectory(db, { today: () => TODAY });
      children = async (nationalId) =>
        (await representation.partiesFor({ nationalId, level: 2 }, { partyKinds: ['child'], roles: [] })).map((party) => (party.kind === 'child' ? `${party.nationalId}:${party.relation}` : party.kind));
    });

    it('relations_changed sets and clears relations, and with them who may act for the child', async function () {
      await load(csvOf(FAMILY));
      expect(await children(FATHER.national_id)).to.deep.equal([`${CHILD.national_id}:father`]);
      expect(await children(GRANDFATHER.national_id)).to.deep.equal([]);

      const change = { id: nextId(), type: 'relations_changed', national_id: CHILD.national_id, occurred_on: '2026-06-01', father_national_id: null, guardian_national_id: GRANDFATHER.national_id };
      const summary = await applyChangeFeed(feed(change), deps, { today: TODAY });
      expect(summary).to.include({ read: 1, applied: 1, rejected: 0 });
      // The mother, left out of the event, stays.
      expect(await relationsOf(CHILD.national_id)).to.deep.equal({ father: null, mother: MOTHER.national_id, guardian: GRANDFATHER.national_id });
      expect(await children(FATHER.national_id)).to.deep.equal([]);
      expect(await children(MOTHER.national_id)).to.deep.equal([`${CHILD.national_id}:mother`]);
      expect(await children(GRANDFATHER.national_id)).to.deep.equal([`${CHILD.national_id}:guardian`]);
    });

    it('is applied once: the same event again changes nothing, the same id with other content is refused', async function () {
      await load(csvOf(FAMILY));
      const change = { id: nextId(), type: 'relations_changed', national_id: CHILD.national_id, occurred_on: '2026-06-02', mother_national_id: null };
      expect(await applyChangeFeed(feed(change), deps, { today: TODAY })).to.include({ applied: 1 });
      const after = await rows();
      const again = await applyChangeFeed(feed(change, { ...change, mother_national_id: FATHER.national_id }), deps, { today: TODAY });
      expect(again).to.include({ read: 2, applied: 0, unchanged: 1, rejected: 1 });
      expect(again.problems[0]).to.deep.include({ line: 2, reason: `id: event ${change.id} was applied before with other content` });
      expect(await rows()).to.deep.equal(after);
    });

    it('refuses bad events by line, changing nothing for them', async function () {
      await load(csvOf(FAMILY));
      const before = await rows();
      const base = { type: 'relations_changed', national_id: CHILD.national_id, occurred_on: '2026-06-03' };
      const summary = await applyChangeFeed(
        feed(
          { id: nextId(), ...base },
          { id: nextId(), ...base, father_national_id: '00108800000' },
          { id: nextId(), ...base, guardian_national_id: CHILD.national_id },
          { id: nextId(), ...base, father_national_id: GRANDFATHER.national_id, mother_national_id: GRANDFATHER.national_id },
          { id: nextId(), ...base, national_id: composeNationalId('001', 2021, 'male', 99), guardian_national_id: GRANDFATHER.national_id },
          { id: nextId(), ...base, occurred_on: '2019-01-01', guardian_national_id: GRANDFATHER.national_id },
          { id: nextId(), ...base, sibling_national_id: FATHER.national_id },
        ),
        deps,
        { today: TODAY },
      );
      expect(summary).to.include({ read: 7, applied: 0, rejected: 7 });
      expect(summary.problems.map((problem) => [problem.line, problem.reason])).to.deep.equal([
        [1, 'expected at least one of father_national_id, mother_national_id, guardian_national_id (null to clear it)'],
        [2, 'father_national_id: expected an ID number: must be 12 digits, has 11 characters'],
        [3, "guardian_national_id: expected another person's number than the person's own"],
        [4, 'mother_national_id: expected another number than father_national_id'],
        [5, 'national_id: not in the registry mirror'],
        [6, 'occurred_on: before the person was born'],
        [7, 'unexpected field "sibling_national_id"'],
      ]);
      expect(await rows()).to.deep.equal(before);
    });

    it('a birth names the parents it was registered with', async function () {
      await load(csvOf([FATHER, MOTHER]));
      const baby = composeNationalId('001', 2026, 'male', 77);
      const summary = await applyChangeFeed(
        feed({
          id: nextId(), type: 'born', national_id: baby, occurred_on: '2026-03-03', full_name: 'Nguyễn Minh Khôi', gender: 'male', place_of_origin: 'Hà Nội', ethnicity: 'Kinh',
          permanent_address: { street_address: '12 Phố Điện Biên Phủ', locality: 'Phường Ba Đình', region: 'Thành phố Hà Nội' },
          father_national_id: FATHER.national_id, mother_national_id: MOTHER.national_id,
        }),
        deps,
        { today: TODAY },
      );
      expect(summary).to.include({ applied: 1, rejected: 0 });
      expect(await relationsOf(baby)).to.deep.equal({ father: FATHER.national_id, mother: MOTHER.national_id, guardian: null });
      expect(await children(MOTHER.national_id)).to.deep.equal([`${baby}:mother`]);
    });
  });
});
