// The synthetic business register: the same file for the same seed and registry, representatives who
// are living adults of that registry, realistic names and codes, branches, a small share not active,
// and a file the import takes whole.
import { Readable, Writable } from 'node:stream';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { generateRegistry } from '../../src/registry/synthetic-registry.ts';
import { ENTERPRISE_CODE } from '../../src/business/business-file.ts';
import { importBusinessRegister } from '../../src/business/business-import.ts';
import { generateBusinessRegister, readCitizenPool, type CitizenPool } from '../../src/business/synthetic-business.ts';
import { citizen, csvOf as registryCsvOf } from '../registry/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/world.ts';

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

async function registryFile(count: number, seed = 'people'): Promise<string> {
  const out = new Collect();
  await generateRegistry({ count, seed, format: 'csv' }, out);
  return out.text;
}

async function generate(pool: CitizenPool, count: number, seed: string, format: 'csv' | 'ndjson' = 'csv'): Promise<string> {
  const out = new Collect();
  await generateBusinessRegister({ count, seed, format }, pool, out);
  return out.text;
}

describe('synthetic business register', function () {
  this.timeout(60_000);

  let registry: string;
  let pool: CitizenPool;

  before(async function () {
    registry = await registryFile(3000);
    pool = await readCitizenPool(Readable.from([Buffer.from(registry)]), 'csv');
  });

  it('is the same file for the same seed and registry, another for another seed, and a prefix for a smaller count', async function () {
    const one = await generate(pool, 2000, 'a');
    expect(await generate(pool, 2000, 'a')).to.equal(one);
    expect(await generate(pool, 2000, 'b')).to.not.equal(one);
    const smaller = await generate(pool, 500, 'a');
    expect(one.startsWith(smaller)).to.equal(true);
    expect(smaller.trimEnd().split('\n')).to.have.length(501);
  });

  it('writes well-formed, unique codes whatever the seed', async function () {
    for (const seed of ['a', 'b', 'p', 'x', 'bench', 'seed 1', 'seed 2', 'seed 3', 'demo', 'cli']) {
      const codes = (await generate(pool, 300, seed)).trimEnd().split('\n').slice(1).map((line) => line.slice(0, line.indexOf(',')));
      for (const code of codes) expect(code, `seed ${seed}`).to.match(ENTERPRISE_CODE);
      expect(new Set(codes).size, `seed ${seed}`).to.equal(300);
    }
  });

  it('appoints only living adults of the registry file', async function () {
    const adults = new Set<string>();
    const dead = new Set<string>();
    for (const line of registry.trimEnd().split('\n').slice(1)) {
      const fields = line.split(',');
      const [id, birth, died, missing] = [fields[0]!, fields[4]!, fields[20]!, fields[21]!];
      if (died !== '' || missing !== '') dead.add(id);
      else if (birth <= '2008-01-01') adults.add(id);
    }
    expect(pool.size).to.equal(adults.size);
    const file = await generate(pool, 3000, 'adults');
    const representatives = file.trimEnd().split('\n').slice(1).flatMap((line) => line.slice(line.lastIndexOf(',') + 1).split(';').map((item) => item.slice(0, 12)));
    expect(representatives.length).to.be.greaterThan(3000);
    for (const id of representatives) expect(adults.has(id), id).to.equal(true);
  });

  it('reads only living adults into the pool, and refuses to generate from a registry without any', async function () {
    const people = registryCsvOf([
      citizen({ national_id: '001099000001' }),
      citizen({ national_id: '001099000002', died_on: '2024-01-01' }),
      citizen({ national_id: '001099000003', missing_since: '2024-01-01' }),
      citizen({ national_id: '001215000004', birth_date: '2015-01-01', id_card_issue_date: '', id_card_expiry_date: '' }),
    ]);
    const small = await readCitizenPool(Readable.from([Buffer.from(people)]), 'csv');
    expect(small.size).to.equal(1);
    const file = await generate(small, 20, 'one');
    expect(new Set(file.trimEnd().split('\n').slice(1).map((line) => line.slice(line.lastIndexOf(',') + 1)))).to.satisfy((titles: Set<string>) =>
      [...titles].every((item) => item.startsWith('001099000001:')),
    );
    const none = await readCitizenPool(Readable.from([Buffer.from(registryCsvOf([citizen({ died_on: '2024-01-01' })]))]), 'csv');
    const error = await generate(none, 5, 'none').then(() => undefined, (caught: unknown) => caught);
    expect((error as Error).message).to.equal('the registry file holds no living adult to appoint as a legal representative');
  });

  it('writes unique codes, Vietnamese company names, branches of enterprises in the file, and some organisations not active', async function () {
    const rows = (await generate(pool, 5000, 'shape', 'ndjson')).trimEnd().split('\n').map((line) => JSON.parse(line) as { enterprise_code: string; name: string; name_en: string | null; status: string; representatives: unknown[] });
    const codes = rows.map((row) => row.enterprise_code);
    expect(new Set(codes).size).to.equal(5000);
    for (const code of codes) expect(code).to.match(ENTERPRISE_CODE);
    const branches = rows.filter((row) => row.enterprise_code.includes('-'));
    expect(branches.length).to.be.within(100, 1000);
    for (const branch of branches) {
      expect(codes).to.include(branch.enterprise_code.slice(0, 10));
      expect(branch.name).to.match(/^Chi nhánh /);
    }
    const enterprises = rows.filter((row) => !row.enterprise_code.includes('-'));
    expect(enterprises.every((row) => /^(Công ty TNHH|Công ty Cổ phần|Doanh nghiệp tư nhân|Công ty Hợp danh) /.test(row.name))).to.equal(true);
    expect(enterprises.filter((row) => row.name.startsWith('Công ty TNHH')).length).to.be.greaterThan(2000);
    expect(enterprises.filter((row) => row.name.startsWith('Công ty Cổ phần')).length).to.be.greaterThan(800);
    expect(rows.filter((row) => row.name_en !== null).length).to.be.within(500, 2500);
    const notActive = rows.filter((row) => row.status !== 'active').length;
    expect(notActive).to.be.within(250, 1250);
    expect(codes).to.not.include('0109999999');
  });

  describe('imported', function () {
    let database: TestDatabase;
    let db: Database;

    before(async function () {
      database = await createTestDatabase();
      db = createDatabase(database.url);
      await migrateToLatest(db);
    });

    after(async function () {
      await db?.destroy();
      await database?.drop();
    });

    for (const format of ['csv', 'ndjson'] as const) {
      it(`loads whole as ${format}, with every representative`, async function () {
        await db('business_representatives').del();
        await db('business_organisations').del();
        const file = await generate(pool, 1500, 'import', format);
        const summary = await importBusinessRegister(db, Readable.from([Buffer.from(file)]), { format, onRejected: (row) => expect.fail(`line ${row.line}: ${row.reason}`) });
        expect(summary).to.include({ read: 1500, inserted: 1500, rejected: 0 });
        const rows = format === 'csv' ? file.trimEnd().split('\n').slice(1) : file.trimEnd().split('\n');
        const expected = rows.reduce((sum, line) => sum + (format === 'csv' ? line.slice(line.lastIndexOf(',') + 1).split(';').length : (JSON.parse(line) as { representatives: unknown[] }).representatives.length), 0);
        expect(await db('business_representatives').count<{ n: string }[]>({ n: '*' })).to.deep.equal([{ n: String(expected) }]);
      });
    }
  });
});
