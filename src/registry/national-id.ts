// The 12-digit personal identification number (DOMAIN.md): PPP G YY RRRRRR, no check digit.

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

/** Why a number cannot belong to the person described, or undefined when it can. */
export function nationalIdProblem(nationalId: string, birthDate: string, gender: Gender): string | undefined {
  if (!isNationalIdShape(nationalId)) return 'must be 12 digits';
  if (!(nationalId.slice(0, 3) in PROVINCE_PREFIXES)) return `unknown province prefix ${nationalId.slice(0, 3)}`;
  const year = Number(birthDate.slice(0, 4));
  const digit = centuryGenderDigit(year, gender);
  if (digit === undefined || Number(nationalId[3]) !== digit) return 'century/gender digit disagrees with birth date and gender';
  if (nationalId.slice(4, 6) !== birthDate.slice(2, 4)) return 'year digits disagree with the birth date';
  return undefined;
}
