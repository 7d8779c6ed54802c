// A synthetic population registry for tests, demos and benchmarks: households of realistic citizens
// (docs/domain.md's name shares, ID-number rules and current provinces), the same file for the same seed.
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { PROVINCE_PREFIXES, centuryGenderDigit, type Gender } from './national-id.ts';
import { CURRENT_PROVINCES, currentProvinceOfPrefix, type CurrentProvince } from './administrative-units.ts';
import { REGISTRY_FILE_COLUMNS } from './record-schema.ts';
import type { RegistryFileFormat } from './registry-file.ts';
import { cardExpiry, type RelationToHead } from './registry.ts';
import { foldName } from './names.ts';
import { SeededRandom, WeightedChoice, hashSeed, mix32 } from './seeded-random.ts';

export interface GenerateOptions {
  readonly count: number;
  readonly seed: string;
  readonly format: RegistryFileFormat;
  /** The day the registry describes (ages, deaths, cards are as of it); fixed by default, for determinism. */
  readonly asOf?: string;
  /** Called every `progressEvery` rows with the rows written so far. */
  readonly onProgress?: (rows: number) => void;
  readonly progressEvery?: number;
}

export interface GenerateSummary {
  readonly rows: number;
  readonly households: number;
}

export const DEFAULT_AS_OF = '2026-01-01';

/** The demo citizens' numbers (src/admin/demo-data.ts): never generated, so a synthetic file and the demo data can share a registry. */
export const RESERVED_NATIONAL_IDS: ReadonlySet<string> = new Set([
  '001099012345',
  '079185000123',
  '048203000777',
  '031190004567',
  '036080001111',
]);

// docs/domain.md's shares; Hoàng/Huỳnh and Vũ/Võ are split by region below. The rest (11.3%) is shared by
// the other common names.
const FAMILY_SHARES: readonly (readonly [string, number])[] = [
  ['Nguyễn', 38], ['Trần', 11], ['Lê', 9.5], ['Phạm', 7.1], ['Hoàng|Huỳnh', 5.1], ['Phan', 4.5], ['Vũ|Võ', 3.9],
  ['Đặng', 2.1], ['Bùi', 2], ['Đỗ', 1.4], ['Hồ', 1.3], ['Ngô', 1.3], ['Dương', 1], ['Lý', 0.5],
  ...['Đinh', 'Đào', 'Đoàn', 'Trương', 'Trịnh', 'Lâm', 'Mai', 'Hà', 'Lương', 'Cao', 'Phùng', 'Lưu', 'Tạ', 'Tô', 'Triệu', 'Chu'].map(
    (name) => [name, 11.3 / 16] as const,
  ),
];

const MALE_MIDDLE = ['Đức', 'Minh', 'Quang', 'Hữu', 'Công', 'Thanh', 'Xuân', 'Quốc', 'Đình', 'Duy', 'Gia', 'Trọng', 'Bảo'];
const FEMALE_MIDDLE = ['Ngọc', 'Thanh', 'Thu', 'Thùy', 'Phương', 'Kim', 'Minh', 'Bảo', 'Khánh', 'Mỹ', 'Hồng', 'Hoài', 'Diệu', 'Quỳnh'];
const MALE_GIVEN = ['Anh', 'Minh', 'Hùng', 'Dũng', 'Tuấn', 'Huy', 'Nam', 'Long', 'Đức', 'Hải', 'Sơn', 'Quân', 'Khoa', 'Phúc', 'Bảo',
  'Đạt', 'Cường', 'Thắng', 'Trung', 'Hiếu', 'Duy', 'Tùng', 'Việt', 'Khang', 'Phong', 'Thành', 'Vinh', 'Lộc', 'Khôi'];
const FEMALE_GIVEN = ['Linh', 'Anh', 'Trang', 'Hương', 'Thảo', 'Lan', 'Hoa', 'Ngọc', 'Mai', 'Hà', 'Phương', 'Nhi', 'Vy', 'Huyền', 'Yến',
  'Thu', 'Thủy', 'Hằng', 'Nga', 'Dung', 'Hạnh', 'Quỳnh', 'My', 'Ngân', 'Uyên', 'Trâm', 'Chi', 'Giang', 'Nhung'];

const STREETS = ['Lê Lợi', 'Trần Hưng Đạo', 'Nguyễn Huệ', 'Hai Bà Trưng', 'Lý Thường Kiệt', 'Quang Trung', 'Điện Biên Phủ', 'Hùng Vương',
  'Lê Duẩn', 'Nguyễn Trãi', 'Lê Lai', 'Trần Phú', 'Phan Chu Trinh', 'Nguyễn Du', 'Bà Triệu', 'Lạc Long Quân', 'Võ Thị Sáu',
  'Nguyễn Văn Cừ', 'Tôn Đức Thắng', 'Bạch Đằng', 'Hoàng Diệu', 'Nguyễn Thị Minh Khai', 'Phạm Văn Đồng', 'Võ Nguyên Giáp'];

// Population (millions, 2019 census) of each pre-2025 province: where births were registered.
const PREFIX_POPULATION: Readonly<Record<string, number>> = {
  '001': 8.05, '002': 0.85, '004': 0.53, '006': 0.31, '008': 0.78, '010': 0.73, '011': 0.6, '012': 0.46, '014': 1.25,
  '015': 0.82, '017': 0.85, '019': 1.29, '020': 0.78, '022': 1.32, '024': 1.8, '025': 1.46, '026': 1.15, '027': 1.37,
  '030': 1.89, '031': 2.03, '033': 1.25, '034': 1.86, '035': 0.85, '036': 1.78, '037': 0.98, '038': 3.64, '040': 3.33,
  '042': 1.29, '044': 0.9, '045': 0.63, '046': 1.13, '048': 1.13, '049': 1.5, '051': 1.23, '052': 1.49, '054': 0.96,
  '056': 1.23, '058': 0.59, '060': 1.23, '062': 0.54, '064': 1.51, '066': 1.87, '067': 0.62, '068': 1.3, '070': 0.99,
  '072': 1.17, '074': 2.43, '075': 3.1, '077': 1.15, '079': 8.99, '080': 1.69, '082': 1.76, '083': 1.29, '084': 1.01,
  '086': 1.02, '087': 1.6, '089': 1.91, '091': 1.72, '092': 1.24, '093': 0.73, '094': 1.2, '095': 0.91, '096': 1.19,
};

const PREFIXES = Object.keys(PROVINCE_PREFIXES);
const PREFIX_INDEX: ReadonlyMap<string, number> = new Map(PREFIXES.map((prefix, index) => [prefix, index]));

// Ethnicity by where the household lives (pre-2025 province); mostly Kinh, as in the 2019 census (85%).
const NORTHERN_UPLANDS = ['002', '004', '006', '008', '010', '011', '012', '014', '015', '017', '020'];
const CENTRAL_HIGHLANDS = ['062', '064', '066', '067', '068'];
const KHMER_DELTA = ['084', '089', '091', '094', '095'];
const ETHNICITY_BY_REGION: readonly [readonly string[], WeightedChoice<string>][] = [
  [NORTHERN_UPLANDS, new WeightedChoice([['Kinh', 45], ['Tày', 12], ['Thái', 10], ['Mường', 8], ['H\'Mông', 10], ['Nùng', 7], ['Dao', 6], ['Giáy', 2]])],
  [['019', '022', '024', '025', '026'], new WeightedChoice([['Kinh', 86], ['Tày', 5], ['Nùng', 4], ['Sán Dìu', 2], ['Dao', 2], ['Mường', 1]])],
  [['038', '040'], new WeightedChoice([['Kinh', 85], ['Mường', 8], ['Thái', 7]])],
  [CENTRAL_HIGHLANDS, new WeightedChoice([['Kinh', 65], ['Gia Rai', 12], ['Ê Đê', 9], ['Ba Na', 6], ['Xơ Đăng', 3], ['Cơ Ho', 3], ['Mnông', 2]])],
  [['058', '060'], new WeightedChoice([['Kinh', 88], ['Chăm', 10], ['Ra Glai', 2]])],
  [KHMER_DELTA, new WeightedChoice([['Kinh', 85], ['Khmer', 13], ['Hoa', 2]])],
  [['079', '074', '077'], new WeightedChoice([['Kinh', 94], ['Hoa', 5], ['Khmer', 1]])],
];
const MOSTLY_KINH = new WeightedChoice([['Kinh', 99], ['Hoa', 0.5], ['Mường', 0.5]]);

// Where people move for work: a temporary residence in one of the big cities or industrial provinces.
const MIGRATION_TARGETS = ['79', '01', '75', '24', '31', '48'];

const HEAD_AGE = new WeightedChoice<readonly [number, number]>([
  [[22, 29], 12], [[30, 39], 22], [[40, 49], 22], [[50, 59], 20], [[60, 69], 14], [[70, 79], 7], [[80, 92], 3],
]);
const CHILDREN = new WeightedChoice([[0, 18], [1, 25], [2, 35], [3, 15], [4, 7]]);
/** Minors whose record names a guardian instead of parents. */
const GUARDIAN_SHARE = 0.03;

const DAY_MS = 86_400_000;
const YEAR_DAYS = 365.2425;
const CHIP_CARDS_FROM = dayOf('2021-01-01');
const CHIP_CARDS_UNTIL = dayOf('2024-06-30');
const PAD2 = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

function dayOf(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

/** YYYY-MM-DD of a day number (days since 1970-01-01), without a Date object (civil_from_days). */
function dateOfDay(day: number): string {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${y}-${PAD2[m]}-${PAD2[d]}`;
}

/** The day a person born on `birthDay` turns `age`. */
function birthdayAt(birthDay: number, age: number): number {
  const birth = dateOfDay(birthDay);
  return Date.UTC(Number(birth.slice(0, 4)) + age, Number(birth.slice(5, 7)) - 1, Number(birth.slice(8, 10))) / DAY_MS;
}

/** One person while being written; reused for every row. */
interface Person {
  nationalId: string;
  familyName: string;
  familyFolded: string;
  middleName: string;
  givenName: string;
  givenFolded: string;
  birthDay: number;
  gender: Gender;
  prefix: string;
  placeOfOrigin: string;
  relation: RelationToHead;
  /** ID numbers of the parents and guardian the record names ('' for none). */
  father: string;
  mother: string;
  guardian: string;
}

interface Household {
  id: string;
  homePrefix: string;
  province: CurrentProvince;
  locality: string;
  street: string;
  ethnicity: string;
}

/**
 * Writes `count` synthetic citizens to `output` as CSV (with a header) or NDJSON, household by household
 * (a head, then the members). Deterministic for a seed, count and as-of date; rows are a prefix of what a
 * larger count would give.
 */
export async function generateRegistry(options: GenerateOptions, output: Writable): Promise<GenerateSummary> {
  if (!Number.isSafeInteger(options.count) || options.count < 0) throw new RangeError('count must be a whole number ≥ 0');
  const generator = new PopulationGenerator(options.seed, options.asOf ?? DEFAULT_AS_OF);
  const csv = options.format === 'csv';
  const progressEvery = options.progressEvery ?? 100_000;
  let chunk = csv ? `${REGISTRY_FILE_COLUMNS.join(',')}\n` : '';
  let rows = 0;
  const flush = async (): Promise<void> => {
    if (chunk === '') return;
    const written = output.write(chunk);
    chunk = '';
    if (!written) await once(output, 'drain');
  };
  while (rows < options.count) {
    generator.nextHousehold(options.count - rows);
    for (const fields of generator.rows) {
      chunk += csv ? csvLine(fields) : ndjsonLine(fields);
      rows++;
      if (options.onProgress && rows % progressEvery === 0) options.onProgress(rows);
    }
    if (chunk.length > 1 << 18) await flush();
  }
  await flush();
  return { rows, households: generator.households };
}

function csvLine(fields: readonly string[]): string {
  // Every value comes from the lists above or from digits: none holds a comma, quote or line break.
  return `${fields.join(',')}\n`;
}

const NDJSON_KEYS = REGISTRY_FILE_COLUMNS.map((column, index) => `${index === 0 ? '{' : ','}"${column}":`);

function ndjsonLine(fields: readonly string[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) {
    const value = fields[i]!;
    line += NDJSON_KEYS[i]! + (value === '' ? 'null' : JSON.stringify(value));
  }
  return `${line}}\n`;
}

class PopulationGenerator {
  readonly #random: SeededRandom;
  /**
   * Draws for the family relations only, so that adding them left every other value of a seed's file
   * as it was before (the relations came later than the rest).
   */
  readonly #relationsRandom: SeededRandom;
  readonly #asOfDay: number;
  readonly #seedWord: number;
  /** Next counter per (prefix, century/gender digit, two-digit year) bucket of ID numbers. */
  readonly #serialCounters = new Int32Array(PREFIXES.length * 6 * 100);
  readonly #prefixes: WeightedChoice<string>;
  readonly #familyNames: WeightedChoice<string>;
  readonly #folded = new Map<string, string>();
  households = 0;
  /** The rows of the household just generated, in REGISTRY_FILE_COLUMNS order ('' for none). */
  readonly rows: string[][] = [];

  constructor(seed: string, asOf: string) {
    this.#random = new SeededRandom(seed);
    this.#relationsRandom = new SeededRandom(`${seed}/relations`);
    this.#asOfDay = dayOf(asOf);
    this.#seedWord = hashSeed(`${seed}/serials`)[0];
    this.#prefixes = new WeightedChoice(PREFIXES.map((prefix) => [prefix, PREFIX_POPULATION[prefix]!] as const));
    this.#familyNames = new WeightedChoice(FAMILY_SHARES);
  }

  /** Fills `rows` with the next household, cut to at most `limit` members. */
  nextHousehold(limit: number): void {
    const random = this.#random;
    this.rows.length = 0;
    this.households++;
    const household = this.#household();
    const members: Person[] = [];

    const single = random.chance(0.12);
    const singleParent = !single && random.chance(0.09);
    const headGender: Gender = single ? (random.chance(0.5) ? 'male' : 'female') : singleParent ? (random.chance(0.75) ? 'female' : 'male') : random.chance(0.82) ? 'male' : 'female';
    const [minAge, maxAge] = HEAD_AGE.pick(random);
    const headAge = random.between(minAge, maxAge);
    const headPrefix = random.chance(0.8) ? household.homePrefix : this.#prefixes.pick(random);
    const headFamily = this.#familyName(headPrefix);
    const head = this.#person(headFamily, this.#birthDay(headAge), headGender, headPrefix, PROVINCE_PREFIXES[headPrefix]!, 'head');
    members.push(head);

    let mother: Person | undefined = headGender === 'female' ? head : undefined;
    let father: Person | undefined = headGender === 'male' ? head : undefined;
    if (!single && !singleParent) {
      const spouseGender: Gender = headGender === 'male' ? 'female' : 'male';
      const spouseAge = Math.max(18, headAge + (spouseGender === 'female' ? -2 : 2) + random.between(-4, 4));
      const spousePrefix = random.chance(0.7) ? household.homePrefix : this.#prefixes.pick(random);
      const spouse = this.#person(this.#familyName(spousePrefix), this.#birthDay(spouseAge), spouseGender, spousePrefix, PROVINCE_PREFIXES[spousePrefix]!, 'spouse');
      members.push(spouse);
      if (spouseGender === 'female') mother = spouse;
      else father = spouse;
    }

    // Children carry the father's family name and, like him, his place of origin.
    const parent = mother ?? head;
    const lineage = father ?? head;
    const parentAge = (this.#asOfDay - parent.birthDay) / YEAR_DAYS;
    const children = single ? 0 : CHILDREN.pick(random);
    for (let i = 0; i < children; i++) {
      const age = Math.floor(parentAge) - random.between(20, 38);
      if (age < 0) continue;
      const gender: Gender = random.chance(0.51) ? 'male' : 'female';
      const child = this.#person(lineage.familyName, this.#birthDay(age), gender, household.homePrefix, lineage.placeOfOrigin, 'child');
      this.#relate(child, father, mother, head);
      members.push(child);
      // Now and then a grown son's child lives in the same household.
      if (gender === 'male' && age >= 22 && random.chance(0.15)) {
        const grandchildAge = age - random.between(20, 30);
        if (grandchildAge >= 0) {
          const grandchild = this.#person(child.familyName, this.#birthDay(grandchildAge), random.chance(0.51) ? 'male' : 'female', household.homePrefix, child.placeOfOrigin, 'grandchild');
          // Its mother lives elsewhere: the record names the father (or the grandparent as guardian).
          this.#relate(grandchild, child, undefined, head);
          members.push(grandchild);
        }
      }
    }

    // An elderly parent of the head lives with some younger households.
    if (headAge < 60 && random.chance(0.1)) {
      const age = Math.min(100, headAge + random.between(22, 35));
      const gender: Gender = random.chance(0.6) ? 'female' : 'male';
      const family = gender === 'male' ? head.familyName : this.#familyName(headPrefix);
      members.push(this.#person(family, this.#birthDay(age), gender, headPrefix, gender === 'male' ? head.placeOfOrigin : PROVINCE_PREFIXES[headPrefix]!, 'parent'));
    }

    for (const member of members.slice(0, limit)) this.rows.push(this.#row(member, household));
  }

  /**
   * The parents a child's record names: the household's father and mother, if 18 or older at the birth. A minor now and then has a guardian instead, the household's head
   * (a grandparent, or an adult who took the child in); only people written before the child are named,
   * so that a file cut short names no one it leaves out.
   */
  #relate(child: Person, father: Person | undefined, mother: Person | undefined, guardian: Person): void {
    const minor = this.#asOfDay - child.birthDay < 18 * YEAR_DAYS;
    if (minor && guardian !== child && this.#relationsRandom.chance(GUARDIAN_SHARE)) {
      child.guardian = guardian.nationalId;
      return;
    }
    // The household's ages make nearly every parent 18 or more at the birth; the rare one who was not
    // (a birth day drawn late in the year) is left unnamed rather than written implausible.
    const adultAtBirth = (parent: Person | undefined) => parent !== undefined && child.birthDay - parent.birthDay >= 18 * YEAR_DAYS;
    child.father = adultAtBirth(father) ? father!.nationalId : '';
    child.mother = adultAtBirth(mother) ? mother!.nationalId : '';
  }

  #household(): Household {
    const random = this.#random;
    const homePrefix = this.#prefixes.pick(random);
    const province = currentProvinceOfPrefix(homePrefix)!;
    const locality = random.pick(province.localities);
    const south = Number(homePrefix) >= 70;
    const street = locality.startsWith('Phường')
      ? `${random.between(1, 350)} Đường ${random.pick(STREETS)}`
      : `${south ? 'Ấp' : 'Thôn'} ${random.between(1, 15)}`;
    let ethnicity: string | undefined;
    for (const [prefixes, choice] of ETHNICITY_BY_REGION) {
      if (prefixes.includes(homePrefix)) ethnicity = choice.pick(random);
    }
    return {
      id: `HK${String(this.households).padStart(10, '0')}`,
      homePrefix,
      province,
      locality,
      street,
      ethnicity: ethnicity ?? MOSTLY_KINH.pick(random),
    };
  }

  /** A family name as common where the prefix's province lies: Huỳnh and Võ in the south. */
  #familyName(prefix: string): string {
    const name = this.#familyNames.pick(this.#random);
    const split = name.indexOf('|');
    if (split < 0) return name;
    const code = Number(prefix);
    const southernShare = code >= 48 ? 0.85 : code >= 40 ? (name.startsWith('Vũ') ? 0.5 : 0.3) : 0.05;
    return this.#random.chance(southernShare) ? name.slice(split + 1) : name.slice(0, split);
  }

  #birthDay(age: number): number {
    return this.#asOfDay - Math.floor((age + this.#random.next()) * YEAR_DAYS);
  }

  #person(familyName: string, birthDay: number, gender: Gender, prefix: string, placeOfOrigin: string, relation: RelationToHead): Person {
    const random = this.#random;
    const birthYear = Number(dateOfDay(birthDay).slice(0, 4));
    // Văn and Thị are less common for people born after 2000.
    const traditional = birthYear < 1980 ? 0.6 : birthYear < 2000 ? 0.4 : 0.12;
    let middleName: string;
    if (gender === 'male') middleName = random.chance(traditional) ? 'Văn' : random.pick(MALE_MIDDLE);
    else middleName = random.chance(traditional) ? (random.chance(0.2) ? `Thị ${random.pick(FEMALE_MIDDLE)}` : 'Thị') : random.pick(FEMALE_MIDDLE);
    const givenName = random.pick(gender === 'male' ? MALE_GIVEN : FEMALE_GIVEN);
    return {
      nationalId: this.#nationalId(prefix, birthYear, gender),
      familyName,
      familyFolded: this.#fold(familyName),
      middleName,
      givenName,
      givenFolded: this.#fold(givenName),
      birthDay,
      gender,
      prefix,
      placeOfOrigin,
      relation,
      father: '',
      mother: '',
      guardian: '',
    };
  }

  #fold(name: string): string {
    let folded = this.#folded.get(name);
    if (folded === undefined) {
      folded = foldName(name);
      this.#folded.set(name, folded);
    }
    return folded;
  }

  /**
   * A unique number: each (prefix, digit, year) bucket counts its people and maps the count through an
   * affine permutation of 0–999999 (a multiplier coprime with 10⁶), so serials look random and never repeat.
   */
  #nationalId(prefix: string, birthYear: number, gender: Gender): string {
    const digit = centuryGenderDigit(birthYear, gender)!;
    const yy = birthYear % 100;
    const bucket = (PREFIX_INDEX.get(prefix)! * 6 + digit) * 100 + yy;
    const hash = mix32(this.#seedWord ^ Math.imul(bucket + 1, 0x9e3779b1));
    let multiplier = (hash % 1_000_000) | 1;
    if (multiplier % 5 === 0) multiplier += 2;
    const offset = mix32(hash) % 1_000_000;
    for (;;) {
      const k = this.#serialCounters[bucket]!;
      if (k >= 1_000_000) throw new RangeError(`no serials left for prefix ${prefix}, year ${birthYear}, ${gender}`);
      this.#serialCounters[bucket] = k + 1;
      const serial = (multiplier * k + offset) % 1_000_000;
      const id = `${prefix}${digit}${PAD2[yy]}${String(serial).padStart(6, '0')}`;
      if (!RESERVED_NATIONAL_IDS.has(id)) return id;
    }
  }

  #row(person: Person, household: Household): string[] {
    const random = this.#random;
    const asOf = this.#asOfDay;
    const birthDate = dateOfDay(person.birthDay);
    const age = (asOf - person.birthDay) / YEAR_DAYS;

    let diedDay = -1;
    let missingDay = -1;
    const fate = random.next();
    if (fate < 0.005) diedDay = asOf - random.below(Math.min(5 * 365, asOf - person.birthDay) + 1);
    else if (fate < 0.0052) missingDay = asOf - random.below(Math.min(3 * 365, asOf - person.birthDay) + 1);
    const lastDay = diedDay >= 0 ? diedDay : asOf;

    // Cards from 14; renewed at 25, 40 and 60; most adults got a chip card in the 2021–2024 campaign.
    let issued = '';
    let expires = '';
    const at14 = birthdayAt(person.birthDay, 14);
    if (at14 <= lastDay && random.chance(0.97)) {
      let milestone = at14;
      for (const threshold of [25, 40, 60]) {
        const day = birthdayAt(person.birthDay, threshold);
        if (day <= lastDay) milestone = day;
      }
      let issueDay: number;
      if (milestone >= CHIP_CARDS_FROM) issueDay = Math.min(lastDay, milestone + random.below(120));
      else if (lastDay >= CHIP_CARDS_FROM) issueDay = CHIP_CARDS_FROM + random.below(Math.min(lastDay, CHIP_CARDS_UNTIL) - CHIP_CARDS_FROM + 1);
      else issueDay = Math.min(lastDay, milestone + random.below(365));
      issued = dateOfDay(issueDay);
      expires = cardExpiry(birthDate, issued) ?? '';
    }

    let temporaryStreet = '';
    let temporaryLocality = '';
    let temporaryRegion = '';
    if (age >= 18 && age < 45 && diedDay < 0 && random.chance(0.06)) {
      let target = random.pick(MIGRATION_TARGETS);
      if (target === household.province.code) target = target === '79' ? '01' : '79';
      const province = CURRENT_PROVINCES.find((candidate) => candidate.code === target)!;
      temporaryLocality = random.pick(province.localities.filter((locality) => locality.startsWith('Phường')));
      temporaryStreet = `${random.between(1, 500)} Đường ${random.pick(STREETS)}`;
      temporaryRegion = province.name;
    }

    let phone = '';
    let email = '';
    if (age >= 15) {
      if (random.chance(0.9)) phone = `+84${random.pick(['3', '5', '7', '8', '9'])}${String(random.below(100_000_000)).padStart(8, '0')}`;
      if (age < 60 && random.chance(0.4)) email = `${person.givenFolded}.${person.familyFolded}${random.below(10_000)}@example.com`;
    }

    return [
      person.nationalId,
      person.familyName,
      person.middleName,
      person.givenName,
      birthDate,
      person.gender,
      person.prefix,
      person.placeOfOrigin,
      household.ethnicity,
      'VN',
      issued,
      expires,
      household.street,
      household.locality,
      household.province.name,
      temporaryStreet,
      temporaryLocality,
      temporaryRegion,
      household.id,
      person.relation,
      diedDay >= 0 ? dateOfDay(diedDay) : '',
      missingDay >= 0 ? dateOfDay(missingDay) : '',
      phone,
      email,
      person.father,
      person.mother,
      person.guardian,
    ];
  }
}
