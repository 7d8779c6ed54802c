// A synthetic business register for tests, demos and benchmarks: enterprises with realistic Vietnamese
// names (Công ty TNHH …, Công ty Cổ phần …), some branches (`-NNN`), a small share not active, whose
// legal representatives are living adults of a given synthetic population registry file — the same
// file for the same seed and registry.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { CURRENT_PROVINCES, type CurrentProvince } from '../registry/administrative-units.ts';
import { foldName } from '../registry/names.ts';
import { REGISTRY_FILE_COLUMNS } from '../registry/record-schema.ts';
import { encodingError, RegistryRowReader, type RegistryFileFormat } from '../registry/registry-file.ts';
import { SeededRandom, WeightedChoice, hashSeed } from '../registry/seeded-random.ts';
import { DEFAULT_AS_OF } from '../registry/synthetic-registry.ts';
import { BUSINESS_FILE_COLUMNS, representativesText, type OrganisationStatus, type Representative } from './business-file.ts';

export { DEFAULT_AS_OF } from '../registry/synthetic-registry.ts';

/** The demo organisation (docs/design.md "Demo data"): never generated, so a synthetic file and the demo data can share a mirror. */
export const RESERVED_ENTERPRISE_CODES: ReadonlySet<string> = new Set(['0109999999']);

export interface GenerateBusinessOptions {
  /** Rows to write: enterprises and their branches together. */
  readonly count: number;
  readonly seed: string;
  readonly format: RegistryFileFormat;
  /** The day the register describes: founding dates come before it. Default 2026-01-01, the registry generator's. */
  readonly asOf?: string;
  /** Called every `progressEvery` rows with the rows written so far. */
  readonly onProgress?: (rows: number) => void;
  readonly progressEvery?: number;
}

export interface GenerateBusinessSummary {
  readonly rows: number;
  readonly enterprises: number;
  readonly branches: number;
}

/**
 * The ID numbers of the living adults of a registry file (18 or older on the as-of day, neither dead nor
 * missing), in file order: whom the generator appoints legal representatives. Numbers are kept as
 * doubles (12 digits fit exactly): 8 bytes a person.
 */
export class CitizenPool {
  #ids = new Float64Array(1 << 16);
  size = 0;

  add(nationalId: string): void {
    if (this.size === this.#ids.length) {
      const grown = new Float64Array(this.#ids.length * 2);
      grown.set(this.#ids);
      this.#ids = grown;
    }
    this.#ids[this.size++] = Number(nationalId);
  }

  at(index: number): string {
    return String(this.#ids[index]!).padStart(12, '0');
  }
}

const ID = REGISTRY_FILE_COLUMNS.indexOf('national_id');
const BIRTH = REGISTRY_FILE_COLUMNS.indexOf('birth_date');
const DIED = REGISTRY_FILE_COLUMNS.indexOf('died_on');
const MISSING = REGISTRY_FILE_COLUMNS.indexOf('missing_since');

/** Reads a registry file (CSV or NDJSON, as `registry generate` writes) into the pool of possible representatives. */
export async function readCitizenPool(input: AsyncIterable<Buffer | string>, format: RegistryFileFormat, asOf: string = DEFAULT_AS_OF): Promise<CitizenPool> {
  const pool = new CitizenPool();
  const adultBornBy = `${String(Number(asOf.slice(0, 4)) - 18).padStart(4, '0')}${asOf.slice(4)}`;
  const reader = new RegistryRowReader(format, {
    row(values) {
      const nationalId = values[ID];
      const birthDate = values[BIRTH];
      if (!nationalId || !/^[0-9]{12}$/.test(nationalId) || !birthDate || birthDate > adultBornBy) return;
      if (values[DIED] || values[MISSING]) return;
      pool.add(nationalId);
    },
    malformed: () => undefined,
  });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  const decode = (chunk: Uint8Array, last: boolean): string => {
    try {
      return decoder.decode(chunk, { stream: !last });
    } catch {
      throw encodingError(chunk, bytes, reader.lines);
    }
  };
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    reader.push(decode(buffer, false));
    bytes += buffer.length;
  }
  reader.push(decode(new Uint8Array(0), true));
  reader.end();
  return pool;
}

type Form = 'tnhh' | 'mtv' | 'cp' | 'dntn' | 'hd';

/** Legal forms by share, with the name's opening, the English form and the representatives' titles. */
const FORMS = new WeightedChoice<Form>([['tnhh', 48], ['mtv', 18], ['cp', 26], ['dntn', 7], ['hd', 1]]);
const FORM_NAME: Readonly<Record<Form, string>> = {
  tnhh: 'Công ty TNHH',
  mtv: 'Công ty TNHH Một thành viên',
  cp: 'Công ty Cổ phần',
  dntn: 'Doanh nghiệp tư nhân',
  hd: 'Công ty Hợp danh',
};
const FORM_ENGLISH: Readonly<Record<Form, string | undefined>> = {
  tnhh: 'Company Limited',
  mtv: 'One Member Company Limited',
  cp: 'Joint Stock Company',
  dntn: undefined,
  hd: 'Partnership',
};
const TITLES: Readonly<Record<Form, WeightedChoice<string>>> = {
  tnhh: new WeightedChoice([['Giám đốc', 60], ['Tổng giám đốc', 15], ['Chủ tịch Hội đồng thành viên', 25]]),
  mtv: new WeightedChoice([['Giám đốc', 65], ['Tổng giám đốc', 10], ['Chủ tịch công ty', 25]]),
  cp: new WeightedChoice([['Tổng giám đốc', 45], ['Chủ tịch Hội đồng quản trị', 40], ['Giám đốc', 15]]),
  dntn: new WeightedChoice([['Chủ doanh nghiệp', 1]]),
  hd: new WeightedChoice([['Thành viên hợp danh', 1]]),
};
/** How many legal representatives (the Law on Enterprises 2020 allows several). */
const REPRESENTATIVE_COUNT: Readonly<Record<Form, WeightedChoice<number>>> = {
  tnhh: new WeightedChoice([[1, 88], [2, 11], [3, 1]]),
  mtv: new WeightedChoice([[1, 95], [2, 5]]),
  cp: new WeightedChoice([[1, 78], [2, 19], [3, 3]]),
  dntn: new WeightedChoice([[1, 1]]),
  hd: new WeightedChoice([[1, 40], [2, 45], [3, 15]]),
};

const LINES: readonly (readonly [string, string])[] = [
  ['Thương mại và Dịch vụ', 'Trading and Services'], ['Xây dựng', 'Construction'], ['Đầu tư và Phát triển', 'Investment and Development'],
  ['Công nghệ Thông tin', 'Information Technology'], ['Sản xuất và Thương mại', 'Manufacturing and Trading'], ['Vận tải', 'Transport'],
  ['Xuất nhập khẩu', 'Import Export'], ['Thực phẩm', 'Food'], ['Du lịch', 'Travel'], ['Bất động sản', 'Real Estate'], ['Tư vấn', 'Consulting'],
  ['Nội thất', 'Furniture'], ['Dược phẩm', 'Pharmaceuticals'], ['Giáo dục', 'Education'], ['Cơ khí', 'Mechanical Engineering'],
  ['Điện tử', 'Electronics'], ['Nông nghiệp', 'Agriculture'], ['Thủy sản', 'Seafood'], ['May mặc', 'Garments'], ['Logistics', 'Logistics'],
  ['Dịch vụ Số', 'Digital Services'], ['Môi trường', 'Environment'], ['Năng lượng', 'Energy'], ['Kiến trúc', 'Architecture'],
  ['Quảng cáo', 'Advertising'], ['Vật liệu Xây dựng', 'Building Materials'], ['Kế toán', 'Accounting'], ['Thiết bị Y tế', 'Medical Equipment'],
];
const BRAND_FIRST = ['An', 'Bảo', 'Bình', 'Đại', 'Đông', 'Gia', 'Hải', 'Hòa', 'Hoàng', 'Hồng', 'Hưng', 'Kim', 'Minh', 'Nam', 'Ngọc', 'Phú',
  'Phúc', 'Phương', 'Quang', 'Sao', 'Tân', 'Thái', 'Thành', 'Thiên', 'Thịnh', 'Trường', 'Việt', 'Vĩnh', 'Xuân', 'Đức', 'Tiến', 'Trí'];
const BRAND_SECOND = ['An', 'Anh', 'Bình', 'Châu', 'Cường', 'Dương', 'Đạt', 'Gia', 'Hà', 'Hải', 'Hưng', 'Khang', 'Long', 'Lộc', 'Minh', 'Nam',
  'Ngân', 'Phát', 'Phong', 'Phú', 'Quý', 'Sơn', 'Tài', 'Thành', 'Thịnh', 'Tiến', 'Trung', 'Việt', 'Vượng', 'Mai', 'Sáng', 'Lợi'];
const STREETS = ['Lê Lợi', 'Trần Hưng Đạo', 'Nguyễn Huệ', 'Hai Bà Trưng', 'Lý Thường Kiệt', 'Quang Trung', 'Điện Biên Phủ', 'Hùng Vương',
  'Lê Duẩn', 'Nguyễn Trãi', 'Trần Phú', 'Phan Chu Trinh', 'Nguyễn Du', 'Bà Triệu', 'Lạc Long Quân', 'Võ Thị Sáu', 'Nguyễn Văn Cừ',
  'Tôn Đức Thắng', 'Bạch Đằng', 'Hoàng Diệu', 'Nguyễn Thị Minh Khai', 'Phạm Văn Đồng', 'Võ Nguyên Giáp', 'Cộng Hòa', 'Kim Mã', 'Láng Hạ'];

/**
 * Where enterprises register: a two-digit code prefix for each province (synthetic, in the spirit of
 * the tax offices' prefixes, not their table) weighted by how many enterprises the big centres hold.
 */
const REGIONS: readonly (readonly [string, string, number])[] = [
  ['01', 'Thành phố Hà Nội', 30], ['03', 'Thành phố Hồ Chí Minh', 36], ['02', 'Thành phố Hải Phòng', 4], ['04', 'Thành phố Đà Nẵng', 4],
  ['36', 'Tỉnh Đồng Nai', 3], ['23', 'Tỉnh Bắc Ninh', 3], ['57', 'Tỉnh Quảng Ninh', 2], ['18', 'Thành phố Cần Thơ', 2], ['29', 'Tỉnh Nghệ An', 2],
  ['28', 'Tỉnh Thanh Hóa', 2], ['42', 'Tỉnh Khánh Hòa', 2], ['60', 'Tỉnh Đắk Lắk', 1], ['33', 'Thành phố Huế', 1], ['07', 'Tỉnh Ninh Bình', 1],
  ['10', 'Tỉnh Hưng Yên', 1], ['25', 'Tỉnh Phú Thọ', 1], ['46', 'Tỉnh Gia Lai', 1], ['58', 'Tỉnh Lâm Đồng', 1], ['15', 'Tỉnh An Giang', 1],
];
interface Region {
  readonly prefix: string;
  readonly province: CurrentProvince;
  /** The province's name without "Thành phố"/"Tỉnh", as a branch's name says it. */
  readonly short: string;
}
const REGION_LIST: readonly Region[] = REGIONS.map(([prefix, name]) => {
  const province = CURRENT_PROVINCES.find((candidate) => candidate.name === name);
  if (!province) throw new Error(`no current province ${name}`);
  return { prefix, province, short: name.replace(/^(Thành phố|Tỉnh) /, '') };
});
const REGION_CHOICE = new WeightedChoice(REGION_LIST.map((region, index) => [region, REGIONS[index]![2]] as const));

const STATUSES = new WeightedChoice<OrganisationStatus>([['active', 88], ['suspended', 4], ['dissolving', 1.5], ['dissolved', 5], ['revoked', 1], ['bankrupt', 0.5]]);
/** Founding years: most enterprises are young. */
const FOUNDED = new WeightedChoice<readonly [number, number]>([[[1992, 2005], 10], [[2006, 2015], 35], [[2016, 2025], 55]]);
const BRANCHES = new WeightedChoice([[1, 60], [2, 28], [3, 12]]);
const BRANCH_SHARE = 0.06;
const ENGLISH_SHARE = 0.35;

const DAY_MS = 86_400_000;
const PAD2 = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

function dayOf(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

function dateOfDay(day: number): string {
  const date = new Date(day * DAY_MS);
  return `${date.getUTCFullYear()}-${PAD2[date.getUTCMonth() + 1]}-${PAD2[date.getUTCDate()]}`;
}

/** Title case of an ASCII-folded name: "An Phát" → "An Phat". */
function ascii(name: string): string {
  return foldName(name).replace(/\b[a-z]/g, (letter) => letter.toUpperCase());
}

interface Organisation {
  code: string;
  name: string;
  nameEn: string;
  status: OrganisationStatus;
  foundedOn: string;
  headOffice: string;
  representatives: Representative[];
}

/**
 * Writes `count` organisations to `output` as CSV (with a header) or NDJSON: each enterprise, then its
 * branches. Deterministic for a seed, count, as-of date and citizen pool; a smaller count gives a
 * prefix of a larger one.
 */
export async function generateBusinessRegister(options: GenerateBusinessOptions, citizens: CitizenPool, output: Writable): Promise<GenerateBusinessSummary> {
  if (!Number.isSafeInteger(options.count) || options.count < 0) throw new RangeError('count must be a whole number ≥ 0');
  if (citizens.size === 0) throw new RangeError('the registry file holds no living adult to appoint as a legal representative');
  const random = new SeededRandom(`${options.seed}/business`);
  const asOf = options.asOf ?? DEFAULT_AS_OF;
  const asOfDay = dayOf(asOf);
  const csv = options.format === 'csv';
  const progressEvery = options.progressEvery ?? 100_000;
  // Enterprise codes: for each prefix, serial k is (a·k + b) mod 10⁸ with a prime to 10 — a permutation,
  // so codes never repeat — and b the prefix's own offset.
  const [a0] = hashSeed(`${options.seed}/business/codes`);
  const odd = (a0 | 1) >>> 0;
  const multiplier = BigInt(odd % 5 === 0 ? odd + 2 : odd);
  const serials = new Map<string, { next: number; offset: bigint }>();
  const nextCode = (prefix: string): string => {
    for (;;) {
      let walk = serials.get(prefix);
      if (!walk) serials.set(prefix, (walk = { next: 0, offset: BigInt(hashSeed(`${options.seed}/business/codes/${prefix}`)[0]) }));
      const k = walk.next++;
      const serial = Number((multiplier * BigInt(k) + walk.offset) % 100_000_000n);
      const code = `${prefix}${String(serial).padStart(8, '0')}`;
      if (!RESERVED_ENTERPRISE_CODES.has(code)) return code;
    }
  };
  const people = (n: number): string[] => {
    const chosen: string[] = [];
    while (chosen.length < Math.min(n, citizens.size)) {
      const id = citizens.at(random.below(citizens.size));
      if (!chosen.includes(id)) chosen.push(id);
    }
    return chosen;
  };
  const address = (region: Region): string => {
    const locality = random.pick(region.province.localities);
    const street = locality.startsWith('Phường') ? `Số ${random.between(1, 450)} đường ${random.pick(STREETS)}` : `Thôn ${random.between(1, 15)}`;
    return `${street}, ${locality}, ${region.province.name}`;
  };
  const dayBetween = (from: number, to: number): number => from + random.below(Math.max(1, to - from + 1));

  let chunk = csv ? `${BUSINESS_FILE_COLUMNS.join(',')}\n` : '';
  let rows = 0;
  let enterprises = 0;
  let branches = 0;
  const write = (organisation: Organisation): void => {
    chunk += csv ? csvLine(organisation) : ndjsonLine(organisation);
    rows++;
    if (options.onProgress && rows % progressEvery === 0) options.onProgress(rows);
  };
  const flush = async (): Promise<void> => {
    if (chunk === '') return;
    const written = output.write(chunk);
    chunk = '';
    if (!written) await once(output, 'drain');
  };

  while (rows < options.count) {
    const form = FORMS.pick(random);
    const region = REGION_CHOICE.pick(random);
    const [line, lineEn] = random.pick(LINES);
    const brand = `${random.pick(BRAND_FIRST)} ${random.pick(BRAND_SECOND)}`;
    const english = FORM_ENGLISH[form] !== undefined && random.chance(ENGLISH_SHARE) ? `${ascii(brand)} ${lineEn} ${FORM_ENGLISH[form]}` : '';
    const [fromYear, toYear] = FOUNDED.pick(random);
    const foundedDay = Math.min(asOfDay - 1, dayBetween(dayOf(`${fromYear}-01-01`), dayOf(`${toYear}-12-31`)));
    const titles = TITLES[form];
    // Several representatives of a company hold different offices; partners are all partners.
    const held: string[] = [];
    const representatives = people(REPRESENTATIVE_COUNT[form].pick(random)).map((nationalId) => {
      let title = titles.pick(random);
      while (form !== 'hd' && held.includes(title) && held.length < titles.values.length) title = titles.pick(random);
      held.push(title);
      return { nationalId, title };
    });
    const enterprise: Organisation = {
      code: nextCode(region.prefix),
      name: `${FORM_NAME[form]} ${line} ${brand}`,
      nameEn: english,
      status: STATUSES.pick(random),
      foundedOn: dateOfDay(foundedDay),
      headOffice: address(region),
      representatives,
    };
    write(enterprise);
    enterprises++;

    if (form !== 'dntn' && random.chance(BRANCH_SHARE)) {
      const count = BRANCHES.pick(random);
      for (let n = 1; n <= count && rows < options.count; n++) {
        let branchRegion = REGION_CHOICE.pick(random);
        if (branchRegion === region) branchRegion = REGION_LIST[(REGION_LIST.indexOf(region) + 1) % REGION_LIST.length]!;
        // A branch of an enterprise that is no longer active shares its state; the others are mostly active.
        const status: OrganisationStatus = enterprise.status !== 'active' ? enterprise.status : random.chance(0.95) ? 'active' : 'suspended';
        write({
          code: `${enterprise.code}-${String(n).padStart(3, '0')}`,
          name: `Chi nhánh ${enterprise.name} tại ${branchRegion.short}`,
          nameEn: english === '' ? '' : `${english} - ${ascii(branchRegion.short)} Branch`,
          status,
          foundedOn: dateOfDay(dayBetween(foundedDay, asOfDay - 1)),
          headOffice: address(branchRegion),
          representatives: people(1).map((nationalId) => ({ nationalId, title: 'Giám đốc chi nhánh' })),
        });
        branches++;
      }
    }
    if (chunk.length > 1 << 18) await flush();
  }
  await flush();
  return { rows, enterprises, branches };
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvLine(organisation: Organisation): string {
  return `${organisation.code},${csvField(organisation.name)},${csvField(organisation.nameEn)},${organisation.status},${organisation.foundedOn},${csvField(organisation.headOffice)},${representativesText(organisation.representatives)}\n`;
}

function ndjsonLine(organisation: Organisation): string {
  return `${JSON.stringify({
    enterprise_code: organisation.code,
    name: organisation.name,
    name_en: organisation.nameEn === '' ? null : organisation.nameEn,
    status: organisation.status,
    founded_on: organisation.foundedOn,
    head_office: organisation.headOffice,
    representatives: organisation.representatives.map((representative) => ({ national_id: representative.nationalId, title: representative.title })),
  })}\n`;
}
