// Reading registry files: the CSV header, RFC 4180 quoting across chunk boundaries, NDJSON objects,
// and line numbers that point at the right line whatever the file holds.
import { expect } from 'chai';
import { REGISTRY_FILE_COLUMNS, RELATION_COLUMNS, REQUIRED_FILE_COLUMNS, type RawRegistryRow } from '../../src/registry/record-schema.ts';
import { RegistryFileError, RegistryRowReader, registryFileFormat, type RegistryFileFormat } from '../../src/registry/registry-file.ts';

interface Read {
  rows: { line: number; values: RawRegistryRow }[];
  malformed: { line: number; reason: string }[];
}

/** Feeds `chunks` to a reader as they are, so records split anywhere are exercised. */
function read(format: RegistryFileFormat, chunks: string[]): Read {
  const result: Read = { rows: [], malformed: [] };
  const reader = new RegistryRowReader(format, {
    row: (values, line) => result.rows.push({ line, values: [...values] }),
    malformed: (line, reason) => result.malformed.push({ line, reason }),
  });
  for (const chunk of chunks) reader.push(chunk);
  reader.end();
  return result;
}

/** Every split of `text` into two chunks gives the same result as the whole. */
function readSplitEverywhere(format: RegistryFileFormat, text: string): Read {
  const whole = read(format, [text]);
  for (let at = 1; at < text.length; at++) {
    expect(read(format, [text.slice(0, at), text.slice(at)]), `split at ${at}`).to.deep.equal(whole);
  }
  return whole;
}

const HEADER = REGISTRY_FILE_COLUMNS.join(',');
const column = (values: RawRegistryRow, name: (typeof REGISTRY_FILE_COLUMNS)[number]) => values[REGISTRY_FILE_COLUMNS.indexOf(name)];
const row = (id: string, street = '1 Đường Lê Lợi') =>
  REGISTRY_FILE_COLUMNS.map((name) => (name === 'national_id' ? id : name === 'permanent_street' ? street : '')).join(',');

describe('registry files', function () {
  describe('format', function () {
    it('comes from a flag, or from the extension', function () {
      expect(registryFileFormat('people.csv')).to.equal('csv');
      expect(registryFileFormat('/tmp/PEOPLE.CSV')).to.equal('csv');
      expect(registryFileFormat('people.ndjson')).to.equal('ndjson');
      expect(registryFileFormat('people.jsonl')).to.equal('ndjson');
      expect(registryFileFormat('people.txt', 'csv')).to.equal('csv');
    });

    it('is refused when unknown or not to be told', function () {
      expect(() => registryFileFormat('people.csv', 'xml')).to.throw(RegistryFileError, 'unknown format "xml" (expected csv or ndjson)');
      expect(() => registryFileFormat('people.txt')).to.throw(RegistryFileError, 'pass --format csv|ndjson');
      expect(() => registryFileFormat('people')).to.throw(RegistryFileError);
    });
  });

  describe('CSV', function () {
    it('reads rows after the header, numbering lines from the header (line 1)', function () {
      const result = read('csv', [`${HEADER}\n${row('001099012345')}\n${row('079185000123')}\n`]);
      expect(result.malformed).to.deep.equal([]);
      expect(result.rows.map((entry) => entry.line)).to.deep.equal([2, 3]);
      expect(column(result.rows[1]!.values, 'national_id')).to.equal('079185000123');
      expect(column(result.rows[1]!.values, 'permanent_street')).to.equal('1 Đường Lê Lợi');
    });

    it('takes the columns in any order', function () {
      const reversed = [...REGISTRY_FILE_COLUMNS].reverse();
      const line = reversed.map((name) => (name === 'national_id' ? '001099012345' : name === 'gender' ? 'male' : '')).join(',');
      const [only] = read('csv', [`${reversed.join(',')}\n${line}\n`]).rows;
      expect(column(only!.values, 'national_id')).to.equal('001099012345');
      expect(column(only!.values, 'gender')).to.equal('male');
    });

    it('handles CRLF line ends, a last line without one, and blank lines', function () {
      const result = read('csv', [`${HEADER}\r\n${row('001099012345')}\r\n\r\n${row('079185000123')}`]);
      expect(result.rows.map((entry) => entry.line)).to.deep.equal([2, 4]);
      expect(column(result.rows[1]!.values, 'contact_email')).to.equal('');
    });

    it('reads quoted fields: commas, doubled quotes and line breaks inside, split across chunks anywhere', function () {
      const text = `${HEADER}\n${row('001099012345', '"12, Ngõ ""Hòa Bình""\nTầng 2"')}\n${row('079185000123')}\n`;
      const result = readSplitEverywhere('csv', text);
      expect(result.malformed).to.deep.equal([]);
      expect(column(result.rows[0]!.values, 'permanent_street')).to.equal('12, Ngõ "Hòa Bình"\nTầng 2');
      // The quoted line break makes the next record start on line 4.
      expect(result.rows.map((entry) => entry.line)).to.deep.equal([2, 4]);
    });

    it('reports a malformed line and goes on with the next', function () {
      const text = `${HEADER}\n${row('001099012345', 'a "quoted" word')}\n${row('079185000123')},extra\n${row('048203000777')}\n`;
      const result = readSplitEverywhere('csv', text);
      expect(result.malformed).to.deep.equal([
        { line: 2, reason: 'a quote inside an unquoted field' },
        { line: 3, reason: 'has 28 fields, the header has 27' },
      ]);
      expect(result.rows.map((entry) => entry.line)).to.deep.equal([4]);
    });

    it('reports an unterminated quote at the end of the file', function () {
      const result = read('csv', [`${HEADER}\n${row('001099012345', '"never closed')}\n`]);
      expect(result.malformed).to.deep.equal([{ line: 2, reason: 'unterminated quoted field' }]);
    });

    it('gives up on an unterminated quote after 64 KiB instead of buffering the rest of the file', function () {
      const result: Read = { rows: [], malformed: [] };
      const reader = new RegistryRowReader('csv', {
        row: (values, line) => result.rows.push({ line, values }),
        malformed: (line, reason) => result.malformed.push({ line, reason }),
      });
      reader.push(`${HEADER}\n${row('001099012345', '"open')}\n`);
      for (let i = 0; i < 3000; i++) reader.push(`${row('079185000123')}\n`);
      reader.push(`${row('048203000777')}\n`);
      reader.end();
      expect(result.malformed[0]).to.deep.equal({ line: 2, reason: 'longer than 65536 characters (an unterminated quote?)' });
      // Once past the runaway line, ordinary rows are read again, on the right lines.
      expect(result.rows.at(-1)?.line).to.equal(3003);
      expect(result.rows).to.have.length(3001);
    });

    it('refuses a wrong header, naming what is missing, unknown or repeated', function () {
      const wrong = HEADER.replace('given_name', 'first_name').replace('gender,', 'gender,gender,');
      expect(() => read('csv', [`${wrong}\n`])).to.throw(
        RegistryFileError,
        'wrong header: missing given_name; unknown "first_name"; repeated gender',
      );
      expect(() => read('csv', [''])).to.throw(RegistryFileError, 'the file is empty');
    });

    it('takes a header without the relation columns, or with some of them, and says which it has', function () {
      for (const columns of [REQUIRED_FILE_COLUMNS, [...REQUIRED_FILE_COLUMNS].reverse(), ['mother_national_id', ...REQUIRED_FILE_COLUMNS]]) {
        const rows: RawRegistryRow[] = [];
        const reader = new RegistryRowReader('csv', { row: (values) => rows.push([...values]), malformed: () => expect.fail('malformed') });
        const line = columns.map((name) => (name === 'national_id' ? '001099012345' : name === 'mother_national_id' ? '001170000001' : '')).join(',');
        reader.push(`${columns.join(',')}\n${line}\n`);
        reader.end();
        expect([...reader.relationColumns]).to.deep.equal(RELATION_COLUMNS.filter((name) => columns.includes(name)));
        expect(rows).to.have.length(1);
        expect(column(rows[0]!, 'national_id')).to.equal('001099012345');
        expect(column(rows[0]!, 'mother_national_id') ?? null).to.equal(columns.includes('mother_national_id') ? '001170000001' : null);
        expect(column(rows[0]!, 'father_national_id') ?? null).to.equal(null);
      }
      expect(() => read('csv', [`${REQUIRED_FILE_COLUMNS.filter((name) => name !== 'contact_email').join(',')}\n`])).to.throw(RegistryFileError, 'wrong header: missing contact_email (');
    });
  });

  describe('NDJSON', function () {
    it('carries a relation column once any line names its key, null or not', function () {
      const reader = new RegistryRowReader('ndjson', { row: () => undefined, malformed: () => undefined });
      reader.push('{"national_id":"001099012345"}\n');
      expect([...reader.relationColumns]).to.deep.equal([]);
      reader.push('{"national_id":"001099000001","guardian_national_id":null}\n{"national_id":"001099000002","father_national_id":"001070000001"}\n');
      reader.end();
      expect([...reader.relationColumns].sort()).to.deep.equal(['father_national_id', 'guardian_national_id']);
    });

    it('reads one object per line; a missing key is no value', function () {
      const text = `{"national_id":"001099012345","gender":"male"}\n\n{"national_id":"079185000123","contact_email":null}\n`;
      const result = readSplitEverywhere('ndjson', text);
      expect(result.rows.map((entry) => entry.line)).to.deep.equal([1, 3]);
      expect(column(result.rows[0]!.values, 'gender')).to.equal('male');
      expect(column(result.rows[0]!.values, 'family_name')).to.equal(null);
    });

    it('reports lines that are no object, unknown keys and values that are not strings', function () {
      const text = [
        '{"national_id":"001099012345"}',
        '{"national_id":"079185000123",',
        '[1,2]',
        '{"national_id":"048203000777","nickname":"Khoa"}',
        '{"national_id":48203000777}',
      ].join('\n');
      const result = read('ndjson', [text]);
      expect(result.malformed.map((entry) => entry.line)).to.deep.equal([2, 3, 4, 5]);
      expect(result.malformed[0]!.reason).to.match(/^not JSON: /);
      expect(result.malformed[1]!.reason).to.equal('not a JSON object');
      expect(result.malformed[2]!.reason).to.equal('"nickname" is not a registry column');
      expect(result.malformed[3]!.reason).to.equal('national_id: must be a string or null');
    });

    it('takes a first object with unknown keys for the wrong kind of file', function () {
      expect(() => read('ndjson', ['{"type":"died","national_id":"001099012345"}\n'])).to.throw(RegistryFileError, 'line 1: "type" is not a registry column');
    });
  });
});
