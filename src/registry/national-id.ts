// The 12-digit personal identification number (docs/domain.md): PPP G YY RRRRRR, no check digit.

/** Province codes of birth registration (the 63 pre-2025 provinces; issued numbers keep them). */
export const PROVINCE_PREFIXES: Readonly<Record<string, string>> = {
  '001': 'Hà Nội', '002': 'Hà Giang', '004': 'Cao Bằng', '006': 'Bắc Kạn', '008': 'Tuyên Quang',
  '010': 'Lào Cai', '011': 'Điện Biên', '012': 'Lai Châu', '014': 'Sơn La', '015': 'Yên Bái',
  '017': 'Hòa Bình', '019': 'Thái Nguyên', '020': 'Lạng Sơn', '022': 'Quảng Ninh', '024': 'Bắc Giang',
  '025': 'Phú Thọ', '026': 'Vĩnh Phúc', '027': 'Bắc Ninh', '030': 'Hải Dương', '031': 'Hải Phòng',
  '033': 'Hưng Yên', '034': 'Thái Bình', '035': 'Hà Nam', '036': 'Nam Định', '037': 'Ninh Bình',
  '038': 'Thanh Hóa', '040': 'Nghệ An', '042': 'Hà Tĩnh', '044': 'Quảng Bình', '045': 'Quảng Trị',
  '046': 'Thừa Thiên Huế', '048': 'Đà Nẵng', '049': 'Quảng Nam', '051': 'Quảng Ngãi', '052': 'Bình Định',
  '054': 'Phú Yên', '056': 'Khánh Hòa', '058': 'Ninh Thuận', '060': 'Bình Thuận', '062': 'Kon Tum',
  '064': 'Gia Lai', '066': 'Đắk Lắk', '067': 'Đắk Nông', '068': 'Lâm Đồng', '070': 'Bình Phước',
  '072': 'Tây Ninh', '074': 'Bình Dương', '075': 'Đồng Nai', '077': 'Bà Rịa – Vũng Tàu',
  '079': 'TP Hồ Chí Minh', '080': 'Long An', '082': 'Tiền Giang', '083': 'Bến Tre', '084': 'Trà Vinh',
  '086': 'Vĩnh Long', '087': 'Đồng Tháp', '089': 'An Giang', '091': 'Kiên Giang', '092': 'Cần Thơ',
  '093': 'Hậu Giang', '094': 'Sóc Trăng', '095': 'Bạc Liêu', '096': 'Cà Mau',
};

export type Gender = 'male' | 'female';

/** Why a number is refused; `message` is one line fit for an error report. */
export type NationalIdProblemCode = 'length' | 'non-digit' | 'prefix' | 'century-gender' | 'year';

export interface NationalIdProblem {
  readonly code: NationalIdProblemCode;
  readonly message: string;
}

/** Only the shape: 12 ASCII digits. What a login form can check without a registry. */
export function isNationalIdShape(value: string): boolean {
  return /^[0-9]{12}$/.test(value);
}

/** The century-and-gender digit for a birth year and gender (1900–2199). */
export function centuryGenderDigit(birthYear: number, gender: Gender): number | undefined {
  const century = Math.floor(birthYear / 100);
  if (century < 19 || century > 21) return undefined;
  return (century - 19) * 2 + (gender === 'female' ? 1 : 0);
}

/** What the number alone says: province, gender and the birth year (the century digit fixes it). */
export interface NationalIdParts {
  readonly prefix: string;
  readonly province: string;
  readonly gender: Gender;
  readonly birthYear: number;
  readonly serial: string;
}

/**
 * Problems a number has on its own: length, non-digits, an unknown province prefix, a century/gender
 * digit outside 0–5. The order matters for the message: the first problem found is the one reported.
 */
export function nationalIdFormatProblem(nationalId: string): NationalIdProblem | undefined {
  if (nationalId.length !== 12) {
    return { code: 'length', message: `must be 12 digits, has ${nationalId.length} characters` };
  }
  if (!isNationalIdShape(nationalId)) return { code: 'non-digit', message: 'must be 12 digits, has other characters' };
  const prefix = nationalId.slice(0, 3);
  if (!(prefix in PROVINCE_PREFIXES)) return { code: 'prefix', message: `unknown province prefix ${prefix}` };
  if (Number(nationalId[3]) > 5) {
    return { code: 'century-gender', message: `century/gender digit ${nationalId[3]} is not 0–5` };
  }
  return undefined;
}

/** Reads a well-formed number; undefined when nationalIdFormatProblem() has something to say. */
export function parseNationalId(nationalId: string): NationalIdParts | undefined {
  if (nationalIdFormatProblem(nationalId)) return undefined;
  const digit = Number(nationalId[3]);
  const prefix = nationalId.slice(0, 3);
  return {
    prefix,
    province: PROVINCE_PREFIXES[prefix]!,
    gender: digit % 2 === 0 ? 'male' : 'female',
    birthYear: 1900 + Math.floor(digit / 2) * 100 + Number(nationalId.slice(4, 6)),
    serial: nationalId.slice(6),
  };
}

/** Why a number cannot belong to the person described (birth date `YYYY-MM-DD`), or undefined. */
export function checkNationalId(nationalId: string, birthDate: string, gender: Gender): NationalIdProblem | undefined {
  const formatProblem = nationalIdFormatProblem(nationalId);
  if (formatProblem) return formatProblem;
  const year = Number(birthDate.slice(0, 4));
  const digit = centuryGenderDigit(year, gender);
  if (digit === undefined || Number(nationalId[3]) !== digit) {
    return {
      code: 'century-gender',
      message: `century/gender digit ${nationalId[3]} disagrees with a ${gender} born in ${year}` +
        (digit === undefined ? '' : ` (expected ${digit})`),
    };
  }
  if (nationalId.slice(4, 6) !== birthDate.slice(2, 4)) {
    return { code: 'year', message: `year digits ${nationalId.slice(4, 6)} disagree with the birth year ${year}` };
  }
  return undefined;
}

/** Why a number cannot belong to the person described, or undefined when it can. */
export function nationalIdProblem(nationalId: string, birthDate: string, gender: Gender): string | undefined {
  return checkNationalId(nationalId, birthDate, gender)?.message;
}

/** Builds a number from its parts; the serial is 0–999999. Throws on a prefix or year out of range. */
export function composeNationalId(prefix: string, birthYear: number, gender: Gender, serial: number): string {
  const digit = centuryGenderDigit(birthYear, gender);
  if (!(prefix in PROVINCE_PREFIXES) || digit === undefined || serial < 0 || serial > 999_999 || !Number.isInteger(serial)) {
    throw new RangeError(`cannot compose a number from ${prefix}/${birthYear}/${gender}/${serial}`);
  }
  return `${prefix}${digit}${String(birthYear % 100).padStart(2, '0')}${String(serial).padStart(6, '0')}`;
}
