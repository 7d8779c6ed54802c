// The synthetic registry: the same file for the same seed, every row a valid record, names and deaths
// in the proportions docs/domain.md gives, households that hang together, and never a demo citizen's number.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { DEMO_CITIZENS } from '../../src/admin/demo-data.ts';
import { PROVINCE_PREFIXES } from '../../src/registry/national-id.ts';
import { currentProvinceNamed } from '../../src/registry/administrative-units.ts';
import { REGISTRY_FILE_COLUMNS, RegistryRowValidator, type RegistryFileColumn } from '../../src/registry/record-schema.ts';
import { RegistryRowReader } from '../../src/registry/registry-file.ts';
import { cardExpiry } from '../../src/registry/registry.ts';
import { RESERVED_NATIONAL_IDS, generateRegistry, type GenerateOptions } from '../../src/registry/synthetic-registry.ts';

/** Collects what the generator writes. */
class Collector extends Writable {
  readonly chunks: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString());
    done();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

async function generate(options: Partial<GenerateOptions> & { count: number }): Promise<{ text: string; households: number }> {
  const output = new Collector();
  const summary = await generateRegistry({ seed: 'test', format: 'csv', ...options }, output);
  return { text: output.text, households: summary.households };
}

type Row = Record<RegistryFileColumn, string> & { line: number };

function rowsOf(text: string, format: 'csv' | 'ndjson' = 'csv'): Row[] {
  const rows: Row[] = [];
  const reader = new RegistryRowReader(format, {
    row: (values, line) => rows.push({ line, ...Object.fromEntries(REGISTRY_FILE_COLUMNS.map((column, i) => [column, values[i] ?? ''])) } as Row),
    malformed: (line, reason) => expect.fail(`line ${line}: ${reason}`),
  });
  reader.push(text);
  reader.end();
  return rows;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the synthetic registry', function () {
  this.timeout(60_000);

  let sample: Row[];
  let households: number;

  before(async function () {
    const generated = await generate({ count: 20_000, seed: 'sample' });
    sample = rowsOf(generated.text);
    households = generated.households;
  });

  describe('determinism', function () {
    it('writes the same bytes for the same seed, other bytes for another', async function () {
      const [a, b, c] = await Promise.all([generate({ count: 3000 }), generate({ count: 3000 }), generate({ count: 3000, seed: 'other' })]);
      expect(sha256(a.text)).to.equal(sha256(b.text));
      expect(sha256(a.text)).to.not.equal(sha256(c.text));
    });

    it('writes a smaller count as a prefix of a larger one', async function () {
      const [small, large] = await Promise.all([generate({ count: 1000 }), generate({ count: 5000 })]);
      expect(large.text.startsWith(small.text)).to.be.true;
      expect(rowsOf(small.text)).to.have.length(1000);
    });

    it('writes the same records as NDJSON', async function () {
      const [csv, ndjson] = await Promise.all([generate({ count: 500 }), generate({ count: 500, format: 'ndjson' })]);
      const strip = (rows: Row[]) => rows.map(({ line: _line, ...row }) => row);
      expect(strip(rowsOf(ndjson.text, 'ndjson'))).to.deep.equal(strip(rowsOf(csv.text)));
    });
  });

  describe('every row of a 20,000-person sample', function () {
    it('passes the import rules', function () {
      const validator = new RegistryRowValidator('2026-01-01');
      const refused = sample
        .map((row) => ({ row, verdict: validator.check(REGISTRY_FILE_COLUMNS.map((column) => row[column])) }))
        .filter(({ verdict }) => 'problems' in verdict);
      expect(refused.slice(0, 3).map(({ row, verdict }) => [row.line, verdict])).to.deep.equal([]);
      expect(sample).to.have.length(20_000);
    });

    it('has a unique ID number, never a demo citizen\'s', function () {
      const ids = new Set(sample.map((row) => row.national_id));
      expect(ids.size).to.equal(sample.length);
      for (const { record } of DEMO_CITIZENS) expect(RESERVED_NATIONAL_IDS.has(record.nationalId), record.nationalId).to.be.true;
      for (const reserved of RESERVED_NATIONAL_IDS) expect(ids.has(reserved)).to.be.false;
    });

    it('carries card dates from the renewal rule', function () {
      const carded = sample.filter((row) => row.id_card_issue_date !== '');
      expect(carded.length / sample.length).to.be.within(0.6, 0.9);
      for (const row of carded) expect(row.id_card_expiry_date || null, row.national_id).to.equal(cardExpiry(row.birth_date, row.id_card_issue_date));
    });

    it('names only current provinces in addresses', function () {
      for (const row of sample) {
        expect(currentProvinceNamed(row.permanent_region), row.permanent_region).to.not.be.undefined;
        if (row.temporary_region) expect(row.temporary_region).to.not.equal(row.permanent_region);
      }
    });

    it('contains none of the characters a CSV field would have to quote', function () {
      const quoted = sample.flatMap((row) => REGISTRY_FILE_COLUMNS.map((column) => row[column]).filter((value) => /[",\r\n]/.test(value)));
      expect(quoted).to.deep.equal([]);
    });
  });

  describe('proportions', function () {
    const share = (predicate: (row: Row) => boolean, rows: Row[] = sample) => rows.filter(predicate).length / rows.length;

    it('gives family names the shares docs/domain.md cites', function () {
      expect(share((row) => row.family_name === 'Nguyễn')).to.be.closeTo(0.38, 0.02);
      expect(share((row) => row.family_name === 'Trần')).to.be.closeTo(0.11, 0.015);
      expect(share((row) => row.family_name === 'Lê')).to.be.closeTo(0.095, 0.015);
      expect(share((row) => row.family_name === 'Phạm')).to.be.closeTo(0.071, 0.012);
      expect(share((row) => row.family_name === 'Hoàng' || row.family_name === 'Huỳnh')).to.be.closeTo(0.051, 0.01);
      expect(share((row) => row.family_name === 'Vũ' || row.family_name === 'Võ')).to.be.closeTo(0.039, 0.01);
      // Huỳnh and Võ are the southern forms.
      const south = sample.filter((row) => Number(row.national_id.slice(0, 3)) >= 70 && (row.family_name === 'Hoàng' || row.family_name === 'Huỳnh'));
      expect(share((row) => row.family_name === 'Huỳnh', south)).to.be.above(0.6);
    });

    it('gives gendered middle and given names, Văn and Thị less often to those born after 2000', function () {
      const men = sample.filter((row) => row.gender === 'male');
      const women = sample.filter((row) => row.gender === 'female');
      expect(men.length / sample.length).to.be.within(0.45, 0.55);
      expect(share((row) => row.middle_name.startsWith('Thị'), men)).to.equal(0);
      expect(share((row) => row.middle_name === 'Văn', women)).to.equal(0);
      const older = (rows: Row[]) => rows.filter((row) => row.birth_date < '1980');
      const younger = (rows: Row[]) => rows.filter((row) => row.birth_date >= '2000');
      expect(share((row) => row.middle_name === 'Văn', older(men))).to.be.above(0.45);
      expect(share((row) => row.middle_name === 'Văn', younger(men))).to.be.below(0.2);
      expect(share((row) => row.middle_name.startsWith('Thị'), older(women))).to.be.above(0.5);
      expect(share((row) => row.middle_name.startsWith('Thị'), younger(women))).to.be.below(0.2);
    });

    it('spreads birth dates over every age, and registrations over all 63 provinces', function () {
      const years = sample.map((row) => Number(row.birth_date.slice(0, 4)));
      for (const decade of [1930, 1940, 1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020]) {
        expect(years.filter((year) => year >= decade && year < decade + 10).length, `born in the ${decade}s`).to.be.above(50);
      }
      expect(new Set(sample.map((row) => row.national_id.slice(0, 3)))).to.have.property('size', Object.keys(PROVINCE_PREFIXES).length);
    });

    it('records about 0.5% as deceased, and a few as missing', function () {
      expect(share((row) => row.died_on !== '')).to.be.within(0.003, 0.007);
      expect(share((row) => row.missing_since !== '')).to.be.below(0.002);
    });

    it('is mostly Kinh, with minorities where they live', function () {
      expect(share((row) => row.ethnicity === 'Kinh')).to.be.within(0.8, 0.92);
      expect(new Set(sample.map((row) => row.ethnicity)).size).to.be.above(10);
    });

    it('gives most adults a phone number on record, and children none', function () {
      const adults = sample.filter((row) => row.birth_date < '2000-01-01');
      const children = sample.filter((row) => row.birth_date > '2012-01-01');
      expect(share((row) => row.contact_phone !== '', adults)).to.be.within(0.85, 0.95);
      expect(share((row) => row.contact_phone !== '', children)).to.equal(0);
      expect(share((row) => row.contact_email !== '', adults)).to.be.within(0.2, 0.5);
    });
  });

  describe('households', function () {
    let byHousehold: Map<string, Row[]>;

    before(function () {
      byHousehold = new Map();
      for (const row of sample) {
        const members = byHousehold.get(row.household_id) ?? [];
        members.push(row);
        byHousehold.set(row.household_id, members);
      }
    });

    it('each have one head, written first, and about 3–4 members on average', function () {
      expect(byHousehold.size).to.equal(households);
      for (const [id, members] of byHousehold) {
        expect(members.filter((member) => member.relation_to_head === 'head'), id).to.have.length(1);
        expect(members[0]!.relation_to_head, id).to.equal('head');
      }
      expect(sample.length / byHousehold.size).to.be.within(2.8, 4.2);
    });

    it('share the permanent residence', function () {
      for (const members of byHousehold.values()) {
        const addresses = new Set(members.map((member) => `${member.permanent_street}|${member.permanent_locality}|${member.permanent_region}`));
        expect(addresses.size).to.equal(1);
      }
    });

    it('give children the father\'s family name and place of origin', function () {
      let checked = 0;
      for (const members of byHousehold.values()) {
        const head = members[0]!;
        const spouse = members.find((member) => member.relation_to_head === 'spouse');
        const father = head.gender === 'male' ? head : spouse?.gender === 'male' ? spouse : undefined;
        for (const child of members.filter((member) => member.relation_to_head === 'child')) {
          if (!father) continue;
          expect(child.family_name).to.equal(father.family_name);
          expect(child.place_of_origin).to.equal(father.place_of_origin);
          expect(child.birth_date > father.birth_date).to.be.true;
          checked++;
        }
      }
      expect(checked).to.be.above(5000);
    });

    it('pair heads with spouses of the other gender', function () {
      for (const members of byHousehold.values()) {
        const spouse = members.find((member) => member.relation_to_head === 'spouse');
        if (spouse) expect(spouse.gender).to.not.equal(members[0]!.gender);
      }
    });
  });
});
