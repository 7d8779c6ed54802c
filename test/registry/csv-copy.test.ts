// The CSV fast path of the import (bytes straight to binary COPY rows) against the string path it replaces
// (RegistryRowReader, then RegistryRowValidator, then CopyRows.write): for every kind of row, chunking and
// broken file, both must write the same COPY bytes, accept the same lines and refuse the same rows with
// the same reasons — and the fast path must really be the one that takes ordinary rows.
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { CopyRows } from '../../src/registry/copy-rows.ts';
import { REGISTRY_FILE_COLUMNS, RELATION_COLUMNS, REQUIRED_FILE_COLUMNS, RegistryRowValidator, type RawRegistryRow, type RowVerdict } from '../../src/registry/record-schema.ts';
import { RegistryCsvCopier } from '../../src/registry/registry-csv-copy.ts';
import { encodingError, RegistryRowReader } from '../../src/registry/registry-file.ts';
import { generateRegistry } from '../../src/registry/synthetic-registry.ts';
import { TODAY, citizen, csvOf, type Citizen } from './fixtures.ts';

interface Outcome {
  /** The COPY bytes, in hex. */
  copy: string;
  accepted: number[];
  rejected: { line: number; nationalId: string; reason: string }[];
  error?: string;
}

/** Counts the rows that reach the string rules. */
class CountingValidator extends RegistryRowValidator {
  calls = 0;
  override check(raw: RawRegistryRow): RowVerdict {
    this.calls++;
    return super.check(raw);
  }
}

const describeError = (error: unknown) => `${(error as { code?: string }).code}: ${(error as Error).message}`;

/** Strict mode's shape: once `refuseFrom` is reached, accepted rows are no longer written. */
function outcome(result: Outcome, writeUpTo = Infinity) {
  return {
    accepted(line: number) {
      result.accepted.push(line);
      return line <= writeUpTo;
    },
    rejected(line: number, nationalId: string, reason: string) {
      result.rejected.push({ line, nationalId, reason });
    },
  };
}

/** The string path, as the import ran it before the fast path. */
function reference(chunks: Buffer[], lineNumbers: boolean, writeUpTo = Infinity): Outcome {
  const result: Outcome = { copy: '', accepted: [], rejected: [] };
  const sink = outcome(result, writeUpTo);
  const validator = new RegistryRowValidator(TODAY);
  const rows = new CopyRows();
  const reader = new RegistryRowReader('csv', {
    row(values, line) {
      const verdict = validator.check(values);
      if ('problems' in verdict) sink.rejected(line, values[0] ?? '', verdict.problems.join('; '));
      else if (sink.accepted(line)) rows.write(lineNumbers ? line : undefined, verdict.values);
    },
    malformed: (line, reason) => sink.rejected(line, '', reason),
  });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  const decode = (chunk: Uint8Array, last: boolean) => {
    try {
      return decoder.decode(chunk, { stream: !last });
    } catch {
      throw encodingError(chunk, offset, reader.lines);
    }
  };
  try {
    for (const chunk of chunks) {
      reader.push(decode(chunk, false));
      offset += chunk.length;
    }
    reader.push(decode(new Uint8Array(0), true));
    reader.end();
  } catch (error) {
    result.error = describeError(error);
  }
  result.copy = rows.take()!.toString('hex');
  return result;
}

function fast(chunks: Buffer[], lineNumbers: boolean, writeUpTo = Infinity, validator = new RegistryRowValidator(TODAY)): Outcome {
  const result: Outcome = { copy: '', accepted: [], rejected: [] };
  const copier = new RegistryCsvCopier(validator, TODAY, outcome(result, writeUpTo), { lineNumbers });
  const take = () => (result.copy += copier.output.take()?.toString('hex') ?? '');
  try {
    for (const chunk of chunks) {
      copier.push(chunk);
      take();
    }
    copier.end();
  } catch (error) {
    result.error = describeError(error);
  }
  take();
  return result;
}

/** The line numbers that start the rows of binary COPY bytes (in hex) written for a staging table. */
function lineNumbersIn(hex: string): number[] {
  const bytes = Buffer.from(hex, 'hex');
  const lines: number[] = [];
  for (let at = 19; at < bytes.length;) {
    const fields = bytes.readInt16BE(at);
    at += 2;
    for (let i = 0; i < fields; i++) {
      const length = bytes.readInt32BE(at);
      if (i === 0) lines.push(Number(bytes.readBigInt64BE(at + 4)));
      at += 4 + Math.max(length, 0);
    }
  }
  return lines;
}

/** Both paths, on the file whole and cut into pieces of each given size, with and without line numbers. */
function expectSame(file: Buffer, sizes: number[] = [1 << 20]): Outcome {
  let whole: Outcome | undefined;
  for (const lineNumbers of [false, true]) {
    for (const size of sizes) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < file.length; at += size) chunks.push(file.subarray(at, at + size));
      const expected = reference(chunks, lineNumbers);
      expect(fast(chunks, lineNumbers), `chunks of ${size}, line numbers ${lineNumbers}`).to.deep.equal(expected);
      whole ??= expected;
    }
  }
  return whole!;
}

const HEADER = REGISTRY_FILE_COLUMNS.join(',');
const file = (text: string) => Buffer.from(text);

// Rows the fast path must refuse to vouch for, or take exactly as the rules would: each is valid or
// refused for one reason, and several are valid only after the string rules tidy them.
const VARIANTS: Partial<Citizen>[] = [
  {},
  { middle_name: '' },
  { family_name: 'Nguye\u0302\u0303n', given_name: '  An ' },
  { given_name: 'An  Bình' },
  { given_name: "H'Hen", family_name: 'Niê' },
  { given_name: 'An2' },
  { family_name: '' },
  { given_name: '' },
  { national_id: '00109901234' },
  { national_id: '00109901234x' },
  { national_id: '003099012345', birth_registration_province: '' },
  { national_id: '001199012345' },
  { national_id: '001299012345' },
  { national_id: '001098012345' },
  { national_id: '' },
  { birth_registration_province: '' },
  { birth_registration_province: '002' },
  { birth_registration_province: '01' },
  { birth_date: '1999-02-29' },
  { birth_date: '2000-02-29', national_id: '001200012345' },
  { birth_date: '1899-12-31' },
  { birth_date: '1999/03/15' },
  { birth_date: '2026-11-27', national_id: '001226012345' },
  { birth_date: '2026-11-26', national_id: '001226012345', id_card_issue_date: '', id_card_expiry_date: '' },
  { gender: 'Male' },
  { gender: '' },
  { gender: 'female' },
  { gender: 'female', national_id: '001199012345' },
  { place_of_origin: '' },
  { place_of_origin: ' Hà Nội' },
  { place_of_origin: 'Hà\tNội' },
  { place_of_origin: 'Hà \\ Nội' },
  { ethnicity: '' },
  { ethnicity: 'Ê Đê' },
  { nationality: 'vn' },
  { nationality: 'VNM' },
  { nationality: '' },
  { id_card_issue_date: '1999-03-14' },
  { id_card_issue_date: '1999-03-15' },
  { id_card_issue_date: '2026-11-27' },
  { id_card_issue_date: '', id_card_expiry_date: '' },
  { id_card_issue_date: '', id_card_expiry_date: '2030-01-01' },
  { id_card_expiry_date: '2021-04-01' },
  { id_card_expiry_date: '2099-12-31' },
  { id_card_expiry_date: '2021-02-30' },
  { permanent_street: '' },
  { permanent_street: ' 12 Phố Huế' },
  { permanent_street: '12 Phố Huế ' },
  { permanent_street: '12 Phố\u00a0Huế' },
  { permanent_street: '12 Pho\u0302 Huế' },
  { permanent_street: '12 Phố Huế 🏠' },
  { permanent_street: 'Ngõ 5 \\ 7' },
  { permanent_street: 'Ngõ "Hòa Bình"' },
  { permanent_street: '12, Ngõ 5' },
  { permanent_street: 'Tầng 2\nNgõ 5' },
  { permanent_street: 'Khu A – Lô 3’' },
  { permanent_street: 'x'.repeat(200) },
  { permanent_street: 'x'.repeat(201) },
  { permanent_street: 'ồ'.repeat(200) },
  { permanent_street: 'ồ'.repeat(201) },
  { permanent_street: 'Số 5\u007f' },
  { permanent_locality: '' },
  { permanent_locality: 'Phường "Ba" Đình' },
  { permanent_locality: 'Phường Ba\\Đình' },
  { permanent_region: '' },
  { permanent_region: 'Hà Nội' },
  { permanent_region: 'Thành phố Hà Nội ' },
  { temporary_street: '5 Lê Lợi', temporary_locality: 'Phường Sài Gòn', temporary_region: 'Thành phố Hồ Chí Minh' },
  { temporary_street: '', temporary_locality: 'Phường Sài Gòn', temporary_region: 'Thành phố Hồ Chí Minh' },
  { temporary_street: '5 Lê Lợi', temporary_locality: '', temporary_region: '' },
  { temporary_street: '', temporary_locality: '', temporary_region: 'Thành phố Hồ Chí Minh' },
  { household_id: '', relation_to_head: '' },
  { household_id: '' },
  { relation_to_head: '' },
  { relation_to_head: 'cousin' },
  { relation_to_head: 'other' },
  { household_id: 'HK-1_a' },
  { household_id: 'H'.repeat(40) },
  { household_id: 'H'.repeat(41) },
  { household_id: 'HK 1' },
  { died_on: '2020-01-01' },
  { died_on: '1999-03-15' },
  { died_on: '1999-03-14' },
  { died_on: '2026-11-27' },
  { missing_since: '2025-05-05' },
  { missing_since: '1990-01-01' },
  { contact_phone: '' },
  { contact_phone: '0900000001' },
  { contact_phone: '+0900000001' },
  { contact_phone: '+8412345678' },
  { contact_phone: '+841234567' },
  { contact_phone: '+841234567890123' },
  { contact_phone: '+8412345678901234' },
  { contact_email: '' },
  { contact_email: 'AN@EXAMPLE.COM' },
  { contact_email: 'an.binh+x@mail.example.vn' },
  { contact_email: 'an@example' },
  { contact_email: 'an@example.c' },
  { contact_email: 'an@example.c0m' },
  { contact_email: '@example.com' },
  { contact_email: 'a@.com' },
  { contact_email: 'a@@example.com' },
  { contact_email: 'a b@example.com' },
  { contact_email: 'a;b@example.com' },
  { contact_email: 'an@ví-dụ.com' },
  { contact_email: 'an.example.com' },
  { contact_email: `${'a'.repeat(245)}@example.com` },
  { contact_email: `${'a'.repeat(243)}@example.com` },
  { father_national_id: '001070000001' },
  { mother_national_id: '001171000002', father_national_id: '001070000001', guardian_national_id: '079185000123' },
  { guardian_national_id: '001099012345' },
  { father_national_id: '001099012345' },
  { father_national_id: '00107000001' },
  { mother_national_id: '0011710000021' },
  { mother_national_id: '00117100000x' },
  { guardian_national_id: '003070000001' },
  { guardian_national_id: '001670000001' },
  { father_national_id: '001070000001', mother_national_id: '001070000001' },
  { father_national_id: ' 001070000001' },
  { father_national_id: '２０１０７０００００１' },
];

function variantsFile(lineEnd = '\n'): Buffer {
  return file(csvOf(VARIANTS.map((fields, index) => citizen({ household_id: `HK${index}`, ...fields }))).replaceAll('\n', lineEnd));
}

describe('the CSV fast path of the registry import', function () {
  this.timeout(60_000);

  it('writes exactly what the string path writes for a generated registry, without the string rules', async function () {
    const stream = new PassThrough();
    const parts: Buffer[] = [];
    stream.on('data', (part: Buffer) => parts.push(part));
    await generateRegistry({ count: 5000, seed: 'csv-copy', format: 'csv', asOf: '2026-01-01' }, stream);
    stream.end();
    const generated = Buffer.concat(parts);
    const validator = new CountingValidator(TODAY);
    const result = fast([generated], false, Infinity, validator);
    expect(result).to.deep.equal(reference([generated], false));
    expect(result.accepted).to.have.length(5000);
    expect(validator.calls, 'rows that left the fast path').to.equal(0);
    expectSame(generated, [997, 65_536]);
  });

  it('agrees on every rule, valid and refused rows alike, in any chunking', function () {
    const result = expectSame(variantsFile(), [1, 2, 3, 7, 64, 1000, 1 << 20]);
    expect(result.accepted.length).to.be.greaterThan(40);
    expect(result.rejected.length).to.be.greaterThan(40);
  });

  it('agrees with CRLF line ends, blank lines, a last line without a line end and a byte-order mark', function () {
    expectSame(variantsFile('\r\n'), [5, 4096]);
    const text = `${HEADER}\n\n${csvOf([citizen()]).split('\n')[1]}\r\n\r\n${csvOf([citizen({ national_id: '001099000001' })]).split('\n')[1]}`;
    expect(expectSame(file(text), [1, 3, 100]).accepted).to.deep.equal([3, 5]);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), file(csvOf([citizen()]))]);
    expect(expectSame(bom, [1, 2, 3, 4, 4096]).accepted).to.deep.equal([2]);
  });

  it('agrees on columns in another order, quoted headers and fields, and malformed lines', function () {
    const reversed = [...REGISTRY_FILE_COLUMNS].reverse();
    const row = (fields: Partial<Citizen> = {}) => {
      const values = citizen(fields);
      return reversed.map((name) => (/[",\n]/.test(values[name]) ? `"${values[name].replaceAll('"', '""')}"` : values[name])).join(',');
    };
    const text = [
      reversed.map((name) => (name === 'gender' ? '"gender"' : name)).join(','),
      row(),
      row({ national_id: '001099000001', permanent_street: 'Ngõ "5", Tầng 2' }),
      row({ national_id: '001099000007', permanent_street: 'Tầng 2\nNgõ "5"' }),
      row({ national_id: '001099000002', permanent_street: 'a "b" c' }).replace('"a ""b"" c"', 'a "b" c'),
      `${row({ national_id: '001099000003' })},extra`,
      row({ national_id: '001099000004', given_name: 'An3' }),
      `"${row({ national_id: '001099000005' })}`.replace('"', '"x"y'),
      row({ national_id: '001099000006', contact_email: '' }),
      '',
    ].join('\n');
    const result = expectSame(file(text), [1, 2, 5, 64, 4096]);
    expect(result.rejected.map((refused) => refused.reason)).to.include.members(['a quote inside an unquoted field', 'has 28 fields, the header has 27', 'text after a closing quote']);
    expect(result.rejected[0]).to.deep.equal({ line: 4, nationalId: '001099000007', reason: 'permanent_street: contains a control character' });
    expect(result.accepted).to.deep.equal([2, 3, 10]);
  });

  it('agrees on files without the relation columns, or with only some, in any column order', function () {
    const rows = VARIANTS.map((fields, index) => citizen({ household_id: `HK${index}`, ...fields }));
    const quote = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
    const withColumns = (columns: readonly string[]) =>
      file([columns.join(','), ...rows.map((row) => columns.map((name) => quote(row[name as keyof Citizen])).join(','))].join('\n') + '\n');
    for (const columns of [REQUIRED_FILE_COLUMNS, [...REQUIRED_FILE_COLUMNS].reverse(), [RELATION_COLUMNS[2], ...REQUIRED_FILE_COLUMNS]]) {
      const copier = new RegistryCsvCopier(new RegistryRowValidator(TODAY), TODAY, outcome({ copy: '', accepted: [], rejected: [] }), { lineNumbers: false });
      copier.push(withColumns(columns));
      copier.end();
      expect([...copier.relationColumns]).to.deep.equal(RELATION_COLUMNS.filter((column) => columns.includes(column)));
      const result = expectSame(withColumns(columns), [1, 7, 4096]);
      // Without the columns, no row is refused for a relation: the file says nothing of them.
      const relationRefusals = result.rejected.filter((refused) => refused.reason.includes('_national_id:'));
      expect(relationRefusals.every((refused) => refused.reason.startsWith('guardian_national_id') || refused.reason.includes('; guardian_national_id'))).to.equal(true);
      if (!columns.includes(RELATION_COLUMNS[2])) expect(relationRefusals).to.deep.equal([]);
      else expect(relationRefusals.length).to.be.greaterThan(0);
    }
  });

  it('agrees on an unterminated quote at the end, and on one that runs past 64 KiB', function () {
    expectSame(file(`${HEADER}\n${csvOf([citizen({ permanent_street: '"never closed' })]).split('\n')[1]!.replace('"""', '"')}\n`), [1, 7, 4096]);
    const rows = Array.from({ length: 400 }, (_, i) => csvOf([citizen({ national_id: `001099${String(i).padStart(6, '0')}` })]).split('\n')[1]);
    const runaway = `${HEADER}\n"open,${rows.join('\n')}\n`;
    const result = expectSame(file(runaway), [4096, 65_536, 1 << 20]);
    expect(result.rejected[0]).to.deep.equal({ line: 2, nationalId: '', reason: 'longer than 65536 characters (an unterminated quote?)' });
    const endless = `${HEADER}\n${'x'.repeat(70_000)}\n${rows[1]}\n`;
    expect(expectSame(file(endless), [1000, 65_536]).accepted).to.deep.equal([3]);
  });

  it('stops on bytes that are not UTF-8, naming the same byte and line, wherever the chunks split', function () {
    const good = csvOf([citizen(), citizen({ national_id: '001099000002' })]);
    const broken = [
      Buffer.concat([file(good), file('001099000003,Nguy'), Buffer.from([0xe1, 0x28]), file('n,Văn,An\n')]),
      Buffer.concat([file(good), Buffer.from([0xff]), file('\n')]),
      Buffer.concat([file(good), Buffer.from([0xed, 0xa0, 0x80]), file('\n')]),
      Buffer.concat([file(good), Buffer.from([0xc3])]),
      Buffer.concat([file(good), Buffer.from([0xe1, 0xba])]),
      Buffer.from(good, 'latin1'),
    ];
    for (const bytes of broken) {
      for (const size of [1, 2, 3, 5, 100, 1 << 20]) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
        const result = fast(chunks, false);
        expect(result.error, `chunks of ${size}`).to.match(/^bad-encoding: not valid UTF-8: byte \d+ \(around line \d+\)/);
        expect(result, `chunks of ${size}`).to.deep.equal(reference(chunks, false));
      }
    }
  });

  it('agrees on an empty file, a wrong header and a header alone', function () {
    expect(expectSame(file(''), [1]).error).to.equal('bad-header: the file is empty: a CSV registry file starts with its header line');
    expect(expectSame(file(HEADER.replace('gender', 'sex')), [1, 10]).error).to.match(/^bad-header: wrong header: missing gender; unknown "sex"/);
    expect(expectSame(file(`${HEADER}\r\n`), [1, 10])).to.deep.equal({ copy: new CopyRows().take()!.toString('hex'), accepted: [], rejected: [] });
  });

  it('writes nothing for accepted rows the import no longer stages (strict mode after a refusal)', function () {
    const chunks = [variantsFile()];
    const result = fast(chunks, true, 5);
    expect(result).to.deep.equal(reference(chunks, true, 5));
    expect(lineNumbersIn(result.copy)).to.deep.equal(result.accepted.filter((line) => line <= 5));
  });
});
