// Importing registry files into the local mirror, against a real PostgreSQL: good, bad and mixed
// files, strict mode, re-imports that change only what changed, and imports that never half-happen.
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { RegistryRepository } from '../../src/registry/registry.ts';
import { REGISTRY_FILE_COLUMNS } from '../../src/registry/record-schema.ts';
import { RegistryFileError } from '../../src/registry/registry-file.ts';
import { importRegistry, type ImportOptions, type RejectedRow } from '../../src/registry/registry-import.ts';
import { generateRegistry } from '../../src/registry/synthetic-registry.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';
import { TODAY, citizen, csvOf, ndjsonOf, type Citizen } from './fixtures.ts';

/** A second, third… person: distinct valid numbers for a man born in 1999 in Hà Nội. */
function person(serial: number, fields: Partial<Citizen> = {}): Citizen {
  return citizen({ national_id: `001099${String(serial).padStart(6, '0')}`, ...fields });
}

describe('registry import', function () {
  this.timeout(60_000);

  let database: TestDatabase;
  let db: Database;
  let registry: RegistryRepository;

  before(async function () {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await migrateToLatest(db);
    registry = new RegistryRepository(db);
  });

  after(async function () {
    await db?.destroy();
    await database?.drop();
  });

  beforeEach(async function () {
    await db('registry_records').del();
  });

  async function load(text: string | Buffer | Buffer[], options: Partial<ImportOptions> = {}) {
    const rejected: RejectedRow[] = [];
    const chunks = Array.isArray(text) ? text : [Buffer.from(text)];
    const summary = await importRegistry(db, Readable.from(chunks), {
      format: 'csv',
      today: TODAY,
      onRejected: (row) => rejected.push(row),
      ...options,
    });
    return { summary, rejected };
  }

  async function count(): Promise<number> {
    const [{ n }] = (await db('registry_records').count<{ n: string }[]>({ n: '*' })) as [{ n: string }];
    return Number(n);
  }

  describe('a good file', function () {
    it('loads every field of the record, names NFC with the parts joined and folded', async function () {
      const spouse = person(1, {
        family_name: 'Trần', middle_name: 'Thị Thu', given_name: 'Hà', gender: 'female', national_id: '001199000001',
        relation_to_head: 'spouse', temporary_street: '5 Đường Lê Lợi', temporary_locality: 'Phường Sài Gòn',
        temporary_region: 'Thành phố Hồ Chí Minh', contact_email: '', id_card_expiry_date: '',
      });
      const { summary, rejected } = await load(csvOf([citizen(), spouse]));
      expect(rejected).to.deep.equal([]);
      expect(summary).to.include({ read: 2, inserted: 2, updated: 0, unchanged: 0, rejected: 0, committed: true });

      const an = await registry.findByNationalId('001099012345');
      expect(an).to.deep.include({
        familyName: 'Nguyễn', middleName: 'Văn', givenName: 'An', fullName: 'Nguyễn Văn An', birthDate: '1999-03-15', gender: 'male',
        birthRegistrationProvince: '001', placeOfOrigin: 'Hà Nội', ethnicity: 'Kinh', nationality: 'VN',
        idCardIssueDate: '2021-04-01', idCardExpiryDate: '2024-03-15', temporaryAddress: null, householdId: 'HK0000000001',
        relationToHead: 'head', diedOn: null, missingSince: null, contactPhone: '+84900000001', contactEmail: 'an@example.com',
      });
      expect(an?.permanentAddress).to.deep.equal({ streetAddress: '12 Phố Điện Biên Phủ', locality: 'Phường Ba Đình', region: 'Thành phố Hà Nội', country: 'VN' });

      const ha = await registry.findByNationalId('001199000001');
      expect(ha).to.deep.include({ fullName: 'Trần Thị Thu Hà', middleName: 'Thị Thu', relationToHead: 'spouse', contactEmail: null, idCardExpiryDate: null });
      expect(ha?.temporaryAddress).to.deep.equal({ streetAddress: '5 Đường Lê Lợi', locality: 'Phường Sài Gòn', region: 'Thành phố Hồ Chí Minh', country: 'VN' });
      const [folded] = await db('registry_records').where({ national_id: '001199000001' }).pluck<string[]>('full_name_folded');
      expect(folded).to.equal('tran thi thu ha');
    });

    it('links household members, the head first', async function () {
      await load(csvOf([
        person(2, { relation_to_head: 'child', birth_date: '1999-05-01' }),
        person(1, { relation_to_head: 'head', birth_date: '1999-06-01' }),
        person(3, { household_id: 'HK0000000002' }),
      ]));
      const members = await registry.findHouseholdMembers('HK0000000001');
      expect(members.map((member) => [member.nationalId, member.relationToHead])).to.deep.equal([['001099000001', 'head'], ['001099000002', 'child']]);
      expect(await registry.findHouseholdMembers('HK9999999999')).to.deep.equal([]);
    });

    it('stores decomposed (NFD) names in NFC, with their whitespace tidied', async function () {
      await load(csvOf([citizen({ family_name: 'Nguyễn'.normalize('NFD'), middle_name: ' Văn  ', given_name: 'Đức'.normalize('NFD') })]));
      const record = await registry.findByNationalId('001099012345');
      expect(record?.fullName).to.equal('Nguyễn Văn Đức'.normalize('NFC'));
      expect(record?.fullName.normalize('NFC')).to.equal(record?.fullName);
    });

    it('loads NDJSON the same way', async function () {
      const { summary } = await load(ndjsonOf([citizen(), person(2)]), { format: 'ndjson' });
      expect(summary).to.include({ read: 2, inserted: 2, rejected: 0 });
      expect((await registry.findByNationalId('001099000002'))?.fullName).to.equal('Nguyễn Văn An');
    });

    it('loads a file whose chunks split rows and characters anywhere', async function () {
      const bytes = Buffer.from(csvOf([citizen(), person(3, { family_name: 'Đặng' })]));
      const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
      const { summary } = await load(chunks);
      expect(summary).to.include({ inserted: 2, rejected: 0 });
      expect((await registry.findByNationalId('001099000003'))?.familyName).to.equal('Đặng');
    });
  });

  describe('bad rows', function () {
    const cases: [string, Partial<Citizen>, string][] = [
      ['an ID number of the wrong length', { national_id: '00109901234' }, 'national_id: must be 12 digits, has 11 characters'],
      ['an ID number with letters', { national_id: '00109901234X' }, 'national_id: must be 12 digits, has other characters'],
      ['an unknown province prefix', { national_id: '003099012345', birth_registration_province: '' }, 'national_id: unknown province prefix 003'],
      ['a gender digit against the gender', { gender: 'female' }, 'national_id: century/gender digit 0 disagrees with a female born in 1999 (expected 1)'],
      ['a century digit against the birth date', { national_id: '001009012345', birth_date: '2009-03-15' }, 'national_id: century/gender digit 0 disagrees with a male born in 2009 (expected 2)'],
      ['year digits against the birth date', { birth_date: '1998-03-15' }, 'national_id: year digits 99 disagree with the birth year 1998'],
      ['a missing ID number', { national_id: '' }, 'national_id: required'],
      ['a missing family name', { family_name: '' }, 'family_name: required'],
      ['a missing given name', { given_name: '' }, 'given_name: required'],
      ['digits in a name', { given_name: 'An2' }, 'given_name: not a name ("An2")'],
      ['an impossible date', { birth_date: '1999-02-29' }, 'birth_date: not a date YYYY-MM-DD from 1900 on ("1999-02-29")'],
      ['a date in another format', { birth_date: '15/03/1999' }, 'birth_date: not a date YYYY-MM-DD from 1900 on ("15/03/1999")'],
      ['a birth date in the future', { national_id: '001327012345', birth_date: '2027-01-01', gender: 'female', id_card_issue_date: '', id_card_expiry_date: '' }, 'birth_date: 2027-01-01 is in the future'],
      ['a gender the registry does not have', { gender: 'M' }, 'gender: must be male or female ("M")'],
      ['a missing gender', { gender: '' }, 'gender: required'],
      ['a birth province against the prefix', { birth_registration_province: '079' }, "birth_registration_province: 079 disagrees with the ID number's prefix 001"],
      ['a missing place of origin', { place_of_origin: '' }, 'place_of_origin: required'],
      ['a missing ethnicity', { ethnicity: '' }, 'ethnicity: required'],
      ['a nationality that is no country code', { nationality: 'Vietnam' }, 'nationality: not a two-letter country code ("Vietnam")'],
      ['a card issued before birth', { id_card_issue_date: '1990-01-01', id_card_expiry_date: '' }, 'id_card_issue_date: before the birth date'],
      ['a card expiring before its issue', { id_card_expiry_date: '2020-01-01' }, 'id_card_expiry_date: not after the issue date'],
      ['an expiry without an issue date', { id_card_issue_date: '' }, 'id_card_expiry_date: given without an issue date'],
      ['a pre-2025 province in an address', { permanent_region: 'Tỉnh Nam Định' }, 'permanent_region: not a current province (since 1 July 2025) ("Tỉnh Nam Định")'],
      ['no permanent residence', { permanent_street: '', permanent_locality: '', permanent_region: '' }, 'permanent_locality: required; permanent_region: required'],
      ['half a temporary residence', { temporary_street: '5 Đường Lê Lợi' }, 'temporary_locality: required; temporary_region: required'],
      ['a relation that is not one', { relation_to_head: 'cousin' }, 'relation_to_head: one of head, spouse, child, parent, grandchild, sibling, other ("cousin")'],
      ['a household without a relation', { relation_to_head: '' }, 'relation_to_head: required with a household_id'],
      ['a relation without a household', { household_id: '' }, 'relation_to_head: given without a household_id'],
      ['a death before birth', { died_on: '1990-01-01' }, 'died_on: before the birth date'],
      ['a phone number without a country code', { contact_phone: '0900000001' }, 'contact_phone: not an international number +84… ("0900000001")'],
      ['an email that is not one', { contact_email: 'an at example.com' }, 'contact_email: not an email address ("an at example.com")'],
      ['a control character in a text', { place_of_origin: 'Hà\u0007Nội' }, 'place_of_origin: contains a control character'],
    ];
    for (const [what, fields, reason] of cases) {
      it(`refuses ${what}`, async function () {
        const { summary, rejected } = await load(csvOf([citizen(fields)]));
        expect(rejected).to.deep.equal([{ line: 2, nationalId: fields.national_id ?? '001099012345', reason }]);
        expect(summary).to.include({ read: 1, inserted: 0, rejected: 1, committed: true });
        expect(await count()).to.equal(0);
      });
    }

    it('names every problem of a row at once', async function () {
      const { rejected } = await load(csvOf([citizen({ gender: 'x', nationality: '', contact_phone: 'none' })]));
      expect(rejected[0]?.reason).to.equal('gender: must be male or female ("x"); nationality: required; contact_phone: not an international number +84… ("none")');
    });
  });

  describe('a mixed file', function () {
    it('loads the good rows and reports each bad one with its line and reason', async function () {
      const rows = [person(1), person(2, { birth_date: '1999-13-01' }), person(3), person(4, { gender: 'female' }), person(5)];
      const text = csvOf(rows).replace(/\n$/, '\nnot,a,row\n');
      const { summary, rejected } = await load(text);
      expect(summary).to.include({ read: 6, inserted: 3, updated: 0, unchanged: 0, rejected: 3, committed: true });
      expect(rejected.map((row) => [row.line, row.nationalId])).to.deep.equal([[3, '001099000002'], [5, '001099000004'], [7, '']]);
      expect(rejected[2]?.reason).to.equal('has 3 fields, the header has 27');
      expect(await db('registry_records').orderBy('national_id').pluck('national_id')).to.deep.equal(['001099000001', '001099000003', '001099000005']);
    });

    it('reports a number repeated in the file at its later lines, and loads the first', async function () {
      const { summary, rejected } = await load(csvOf([person(1), person(2), person(1, { given_name: 'Bình' }), person(1)]));
      expect(rejected).to.deep.equal([
        { line: 4, nationalId: '001099000001', reason: 'national_id: repeats line 2' },
        { line: 5, nationalId: '001099000001', reason: 'national_id: repeats line 2' },
      ]);
      expect(summary).to.include({ read: 4, inserted: 2, rejected: 2 });
      expect((await registry.findByNationalId('001099000001'))?.givenName).to.equal('An');
    });

    it('with strict mode loads nothing, yet reports every bad row', async function () {
      await load(csvOf([person(9)]));
      const { summary, rejected } = await load(csvOf([person(1), person(2, { gender: '' }), person(3), person(9, { given_name: 'Changed' }), person(4, { gender: '' })]), { strict: true });
      expect(summary).to.include({ read: 5, inserted: 0, updated: 0, rejected: 2, committed: false });
      expect(rejected.map((row) => row.line)).to.deep.equal([3, 6]);
      expect(await db('registry_records').pluck('national_id')).to.deep.equal(['001099000009']);
      expect((await registry.findByNationalId('001099000009'))?.givenName).to.equal('An');
    });

    it('with strict mode refuses a file that repeats a number', async function () {
      const { summary } = await load(csvOf([person(1), person(1)]), { strict: true });
      expect(summary).to.include({ committed: false, rejected: 1 });
      expect(await count()).to.equal(0);
    });
  });

  describe('re-import', function () {
    it('of an unchanged file changes nothing, not even updated_at', async function () {
      const text = csvOf([person(1), person(2), person(3)]);
      await load(text);
      const before = await db('registry_records').orderBy('national_id').select('*');
      const { summary } = await load(text);
      expect(summary).to.include({ read: 3, inserted: 0, updated: 0, unchanged: 3, rejected: 0 });
      expect(await db('registry_records').orderBy('national_id').select('*')).to.deep.equal(before);
    });

    it('applies what changed, and only that', async function () {
      await load(csvOf([person(1), person(2), person(3)]));
      const [untouched] = await db('registry_records').where({ national_id: '001099000003' }).pluck<Date[]>('updated_at');
      const { summary } = await load(csvOf([
        person(1, { given_name: 'Bình', permanent_street: '99 Đường Trần Phú', permanent_locality: 'Phường Hải Châu', permanent_region: 'Thành phố Đà Nẵng' }),
        person(2, { died_on: '2026-10-01', household_id: '', relation_to_head: '' }),
        person(3),
        person(4),
      ]));
      expect(summary).to.include({ read: 4, inserted: 1, updated: 2, unchanged: 1 });
      const renamed = await registry.findByNationalId('001099000001');
      expect(renamed?.fullName).to.equal('Nguyễn Văn Bình');
      expect(renamed?.permanentAddress.region).to.equal('Thành phố Đà Nẵng');
      const [folded] = await db('registry_records').where({ national_id: '001099000001' }).pluck<string[]>('full_name_folded');
      expect(folded).to.equal('nguyen van binh');
      expect(await registry.findByNationalId('001099000002')).to.deep.include({ diedOn: '2026-10-01', householdId: null, relationToHead: null });
      expect(await db('registry_records').where({ national_id: '001099000003' }).pluck('updated_at')).to.deep.equal([untouched]);
    });

    it('leaves records the file does not mention alone', async function () {
      await load(csvOf([person(1), person(2)]));
      const { summary } = await load(csvOf([person(2, { given_name: 'Cường' })]));
      expect(summary).to.include({ updated: 1 });
      expect(await count()).to.equal(2);
    });
  });

  describe('a file that cannot be read', function () {
    it('with invalid UTF-8 is refused whole, naming the byte and line, even after good rows', async function () {
      const good = csvOf([person(1), person(2)]);
      const bad = Buffer.concat([Buffer.from(good), Buffer.from('001099000003,Nguy'), Buffer.from([0xe1, 0x28]), Buffer.from('n,Văn,An\n')]);
      const error = await load([bad]).then(() => undefined, (caught: unknown) => caught);
      expect(error).to.be.instanceOf(RegistryFileError);
      expect((error as RegistryFileError).code).to.equal('bad-encoding');
      expect((error as Error).message).to.equal(`not valid UTF-8: byte ${Buffer.byteLength(good) + 17} (around line 4) is not part of a UTF-8 character`);
      expect(await count()).to.equal(0);
    });

    it('with Latin-1 text is refused', async function () {
      const latin1 = Buffer.from(csvOf([citizen({ place_of_origin: 'Hà Nội' })]), 'latin1');
      const error = await load([latin1]).then(() => undefined, (caught: unknown) => caught);
      expect((error as RegistryFileError).code).to.equal('bad-encoding');
    });

    it('with a wrong header is refused before any row', async function () {
      const text = csvOf([citizen()]).replace('national_id', 'cccd');
      const error = await load(text).then(() => undefined, (caught: unknown) => caught);
      expect(error).to.be.instanceOf(RegistryFileError);
      expect((error as Error).message).to.equal('wrong header: missing national_id; unknown "cccd" (line 1 must name the registry columns, see docs/registry.md)');
      expect(await count()).to.equal(0);
    });

    it('skips a byte-order mark', async function () {
      const { summary } = await load(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csvOf([citizen()]))]));
      expect(summary).to.include({ inserted: 1 });
    });
  });

  describe('a first load into the empty registry', function () {
    /** The registry's key, the foreign keys pointing at it and its indexes, as PostgreSQL describes them. */
    async function schema() {
      const constraints = await db.raw<{ rows: { name: string; definition: string }[] }>(
        `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
         WHERE conrelid = 'registry_records'::regclass OR confrelid = 'registry_records'::regclass ORDER BY conname`,
      );
      const indexes = await db('pg_indexes').where({ tablename: 'registry_records' }).orderBy('indexname').select('indexname', 'indexdef');
      return { constraints: constraints.rows, indexes };
    }

    it('writes the rows straight into the registry and builds its keys and indexes again', async function () {
      const before = await schema();
      expect(before.constraints.map((constraint) => constraint.name)).to.include.members(['registry_records_pkey', 'accounts_national_id_foreign']);
      const { summary } = await load(csvOf([person(2), person(1), person(3)]));
      expect(summary).to.include({ read: 3, inserted: 3, updated: 0, rejected: 0, committed: true, mode: 'first' });
      expect(await schema()).to.deep.equal(before);
      expect(await db('registry_records').orderBy('national_id').pluck('national_id')).to.deep.equal(['001099000001', '001099000002', '001099000003']);
      // The key holds again: the next import of the same number updates rather than duplicates.
      const again = await load(csvOf([person(1, { given_name: 'Bình' })]));
      expect(again.summary).to.include({ inserted: 0, updated: 1, mode: 'incremental' });
    });

    it('names the right lines of repeated numbers after refused and multi-line rows', async function () {
      const header = REGISTRY_FILE_COLUMNS.join(',');
      const body = csvOf([person(1), person(2, { gender: '' }), person(3), person(1), person(4), person(3)]).slice(header.length + 1);
      // A quoted place of origin spanning two lines (refused: a control character) shifts every later line.
      const broken = csvOf([person(5, { place_of_origin: 'Hà\nNội' })]).slice(header.length + 1);
      const { summary, rejected } = await load(`${header}\n${broken}${body}`);
      expect(rejected.map((row) => [row.line, row.reason.split(':')[0]])).to.deep.equal([
        [2, 'place_of_origin'],
        [5, 'gender'],
        [7, 'national_id'],
        [9, 'national_id'],
      ]);
      expect(rejected.slice(2).map((row) => row.reason)).to.deep.equal(['national_id: repeats line 4', 'national_id: repeats line 6']);
      expect(summary).to.include({ read: 7, inserted: 3, rejected: 4, mode: 'first' });
      expect((await registry.findByNationalId('001099000001'))?.givenName).to.equal('An');
    });

    it('rolls back whole, keys and indexes included, when aborted', async function () {
      const before = await schema();
      const abort = new AbortController();
      const header = REGISTRY_FILE_COLUMNS.join(',');
      async function* file() {
        yield Buffer.from(`${header}\n`);
        yield Buffer.from(csvOf([person(1), person(2)]).slice(header.length + 1));
        abort.abort(new Error('stopped by the test'));
        await new Promise((resolve) => setImmediate(resolve));
        yield Buffer.from(csvOf([person(3)]).slice(header.length + 1));
      }
      const error = await importRegistry(db, file(), { format: 'csv', today: TODAY, signal: abort.signal }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect((error as Error).message).to.equal('stopped by the test');
      expect(await count()).to.equal(0);
      expect(await schema()).to.deep.equal(before);
    });
  });

  describe('a large load into a small registry', function () {
    let file: Buffer;

    before(async function () {
      const chunks: Buffer[] = [];
      const output = new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      });
      await generateRegistry({ count: 60_000, seed: 'bulk', format: 'csv', asOf: '2026-01-01' }, output);
      file = Buffer.concat(chunks);
    });

    const indexes = async () => (await db('pg_indexes').where({ tablename: 'registry_records' }).orderBy('indexname').pluck<string[]>('indexname'));

    it('loads in bulk, rebuilding the secondary indexes, and updates the few records already there', async function () {
      const before = await indexes();
      // The file's first person is there already, with another email; someone else is too.
      const [header, firstRow] = file.toString('utf8', 0, 4096).split('\n');
      const changed = firstRow!.split(',');
      changed[REGISTRY_FILE_COLUMNS.indexOf('contact_email')] = 'changed@example.com';
      await load(`${header}\n${changed.join(',')}\n`, { today: '2026-01-01' });
      await load(csvOf([person(1)]));
      const { summary } = await load(file, { today: '2026-01-01' });
      expect(summary).to.include({ read: 60_000, inserted: 59_999, updated: 1, unchanged: 0, rejected: 0, mode: 'bulk' });
      expect(await indexes()).to.deep.equal(before);
      expect(await count()).to.equal(60_001);
      const [{ n }] = (await db('registry_records').where('full_name_folded', 'like', 'nguyen %').count<{ n: string }[]>({ n: '*' })) as [{ n: string }];
      expect(Number(n) / 60_000).to.be.closeTo(0.38, 0.02);
    });

    it('then re-imports row by row, finding everything unchanged', async function () {
      await load(file, { today: '2026-01-01' });
      const { summary } = await load(file, { today: '2026-01-01' });
      expect(summary).to.include({ read: 60_000, inserted: 0, updated: 0, unchanged: 60_000, mode: 'incremental' });
    });

    it('rolls a bulk load back whole, indexes included, when aborted while merging', async function () {
      await load(csvOf([person(1)]));
      const before = await indexes();
      const abort = new AbortController();
      const error = await importRegistry(db, Readable.from([file]), {
        format: 'csv',
        today: '2026-01-01',
        signal: abort.signal,
        onProgress: ({ phase }) => {
          if (phase === 'merging') setTimeout(() => abort.abort(new Error('stopped while merging')), 50);
        },
      }).then(() => undefined, (caught: unknown) => caught);
      expect((error as Error).message).to.equal('stopped while merging');
      expect(await db('registry_records').pluck('national_id')).to.deep.equal(['001099000001']);
      expect(await indexes()).to.deep.equal(before);
    });
  });

  describe('account holders the file shows dead or missing', function () {
    it('are named for the change feed to lock, while their account is active', async function () {
      await load(csvOf([person(1), person(2), person(3), person(4)]));
      await db('accounts').insert([
        { national_id: '001099000001', level: 1, password_hash: 'x' },
        { national_id: '001099000002', level: 1, password_hash: 'x' },
        { national_id: '001099000003', level: 1, password_hash: 'x', status: 'locked' },
      ]);
      try {
        const { summary } = await load(csvOf([
          person(1, { died_on: '2026-10-01' }),
          person(2, { missing_since: '2026-09-15' }),
          person(3, { died_on: '2026-10-02' }),
          person(4, { died_on: '2026-10-03' }),
        ]));
        expect(summary.unavailable).to.deep.equal([
          { nationalId: '001099000001', change: 'died', occurredOn: '2026-10-01' },
          { nationalId: '001099000002', change: 'went_missing', occurredOn: '2026-09-15' },
        ]);
      } finally {
        await db('accounts').del();
      }
    });
  });

  describe('an interrupted import', function () {
    it('leaves the registry exactly as it was when aborted mid-stream', async function () {
      await load(csvOf([person(1), person(2)]));
      const before = await db('registry_records').orderBy('national_id').select('*');
      const abort = new AbortController();
      const header = REGISTRY_FILE_COLUMNS.join(',');
      async function* slowFile() {
        yield Buffer.from(`${header}\n`);
        for (let batch = 0; batch < 50; batch++) {
          // Changes to the existing rows and new ones, so a half-merge would show either way.
          const rows = Array.from({ length: 200 }, (_, i) => person(batch * 200 + i + 1, { given_name: 'Changed' }));
          yield Buffer.from(csvOf(rows).slice(header.length + 1));
          if (batch === 20) abort.abort(new Error('stopped by the test'));
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      const error = await importRegistry(db, slowFile(), { format: 'csv', today: TODAY, signal: abort.signal }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect((error as Error).message).to.equal('stopped by the test');
      expect(await db('registry_records').orderBy('national_id').select('*')).to.deep.equal(before);
      // Nothing is left behind: no lock, no staging table; the next import runs.
      const { summary } = await load(csvOf([person(3)]));
      expect(summary).to.include({ inserted: 1 });
    });

    it('refuses to run beside another import', async function () {
      // Another import holds the lock for its transaction.
      const holder = new pg.Client({ connectionString: database.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock($1)', [0x72656769]);
        const error = await load(csvOf([person(1)])).then(() => undefined, (caught: unknown) => caught);
        expect((error as Error).message).to.equal('another registry import is running; try again when it has finished');
      } finally {
        await holder.end();
      }
      expect(await count()).to.equal(0);
    });
  });
});
