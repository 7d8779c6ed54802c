// DG1 of a Vietnamese citizen identity card: the three-line TD1 machine-readable zone (ICAO Doc 9303
// part 5), 30 characters a line, inside the DG1 template (tag 61, the MRZ under tag 5F1F). The layout of
// the card's lines as this provider reads and writes them is in docs/chip-verification.md "DG1".
import * as asn1js from 'asn1js';
import { ChipFormatError, readable } from './errors.ts';

export const TD1_LINE = 30;

export interface Mrz {
  readonly documentCode: string;
  readonly issuingState: string;
  /** The card's document number (the last 9 digits of the personal ID number). */
  readonly documentNumber: string;
  /** The 12-digit personal identification number (the optional data of line 1). */
  readonly nationalId: string;
  /** YYMMDD. */
  readonly birthDate: string;
  readonly sex: 'M' | 'F' | '<';
  /** YYMMDD, or '' when the card has no expiry. */
  readonly expiryDate: string;
  readonly nationality: string;
  /** Surname and given names as printed in the MRZ (A–Z, spaces). */
  readonly primaryIdentifier: string;
  readonly secondaryIdentifier: string;
  /** Whether all four check digits (document number, birth date, expiry, composite) are right. */
  readonly checkDigitsValid: boolean;
  readonly lines: readonly [string, string, string];
}

const VALUES = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** ICAO 9303 part 3, 4.9: weights 7, 3, 1; digits as they are, A–Z 10–35, the filler `<` 0. */
export function checkDigit(field: string): string {
  let sum = 0;
  for (let index = 0; index < field.length; index += 1) {
    const character = field[index]!;
    const value = character === '<' ? 0 : VALUES.indexOf(character);
    if (value < 0) throw new ChipFormatError(`MRZ: "${character}" is not an MRZ character`);
    sum += value * [7, 3, 1][index % 3]!;
  }
  return String(sum % 10);
}

/** A name in MRZ characters: diacritics dropped (Nguyễn → NGUYEN, Đỗ → DO), anything else a filler. */
export function mrzName(name: string): string {
  return name
    .replace(/[đĐ]/g, 'D')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^A-Z]+/g, ' ')
    .trim();
}

const pad = (value: string, length: number) => (value + '<'.repeat(length)).slice(0, length);

export interface MrzInput {
  readonly nationalId: string;
  /** YYYY-MM-DD. */
  readonly birthDate: string;
  readonly sex: 'M' | 'F';
  /** YYYY-MM-DD, or null for a card without expiry. */
  readonly expiryDate: string | null;
  readonly familyName: string;
  /** Middle and given names. */
  readonly givenNames: string;
}

const yymmdd = (date: string) => `${date.slice(2, 4)}${date.slice(5, 7)}${date.slice(8, 10)}`;

/** The three lines of a card's MRZ (what a test chip carries). */
export function mrzLines(input: MrzInput): [string, string, string] {
  const documentNumber = input.nationalId.slice(3);
  const line1 = pad(`IDVNM${documentNumber}${checkDigit(documentNumber)}${input.nationalId}`, TD1_LINE);
  const birth = yymmdd(input.birthDate);
  const expiry = input.expiryDate ? yymmdd(input.expiryDate) : '<<<<<<';
  const line2Start = `${birth}${checkDigit(birth)}${input.sex}${expiry}${checkDigit(expiry)}VNM`;
  const line2Body = pad(line2Start, 29);
  const composite = checkDigit(`${line1.slice(5)}${line2Body.slice(0, 7)}${line2Body.slice(8, 15)}${line2Body.slice(18, 29)}`);
  const line2 = `${line2Body}${composite}`;
  const surname = mrzName(input.familyName).replace(/ /g, '<');
  const given = mrzName(input.givenNames).replace(/ /g, '<');
  const line3 = pad(`${surname}<<${given}`, TD1_LINE);
  return [line1, line2, line3];
}

/** DG1's bytes: 61 { 5F1F <the 90 MRZ characters> }. */
export function encodeDg1(lines: readonly [string, string, string]): Buffer {
  const mrz = new asn1js.Primitive({
    idBlock: { tagClass: 2, tagNumber: 0x1f },
    valueHex: new TextEncoder().encode(lines.join('')),
  });
  const template = new asn1js.Constructed({ idBlock: { tagClass: 2, tagNumber: 1 }, value: [mrz] });
  return Buffer.from(template.toBER());
}

/** Parses DG1 (the TD1 MRZ); ChipFormatError when it is not one. */
export function parseDg1(bytes: Uint8Array): Mrz {
  return readable('DG1', () => unsafeParseDg1(bytes));
}

function unsafeParseDg1(bytes: Uint8Array): Mrz {
  const decoded = asn1js.fromBER(bytes);
  const template = decoded.result;
  if (decoded.offset === -1 || decoded.offset !== bytes.length || template.idBlock.tagClass !== 2 || template.idBlock.tagNumber !== 1) {
    throw new ChipFormatError('DG1: not a DG1 template (tag 61)');
  }
  const inner = (template.valueBlock as { value?: asn1js.AsnType[] }).value ?? [];
  const mrzElement = inner.find((element) => element.idBlock.tagClass === 2 && element.idBlock.tagNumber === 0x1f);
  if (!mrzElement) throw new ChipFormatError('DG1: no MRZ (tag 5F1F)');
  const text = Buffer.from((mrzElement.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView).toString('latin1');
  if (text.length !== 3 * TD1_LINE || !/^[A-Z0-9<]+$/.test(text)) throw new ChipFormatError('DG1: the MRZ is not three lines of 30 MRZ characters (TD1)');
  const lines: [string, string, string] = [text.slice(0, 30), text.slice(30, 60), text.slice(60, 90)];
  const [line1, line2, line3] = lines;
  const documentNumber = line1.slice(5, 14);
  const birthDate = line2.slice(0, 6);
  const expiry = line2.slice(8, 14);
  const checkDigitsValid =
    checkDigit(documentNumber) === line1[14] &&
    checkDigit(birthDate) === line2[6] &&
    checkDigit(expiry) === line2[14] &&
    checkDigit(`${line1.slice(5)}${line2.slice(0, 7)}${line2.slice(8, 15)}${line2.slice(18, 29)}`) === line2[29];
  const sex = line2[7]!;
  const [surname = '', given = ''] = line3.split('<<');
  return {
    documentCode: line1.slice(0, 2).replace(/<+$/, ''),
    issuingState: line1.slice(2, 5),
    documentNumber: documentNumber.replace(/<+$/, ''),
    nationalId: line1.slice(15, 30).replace(/<+$/, ''),
    birthDate,
    sex: sex === 'M' || sex === 'F' ? sex : '<',
    expiryDate: expiry === '<<<<<<' ? '' : expiry,
    nationality: line2.slice(15, 18),
    primaryIdentifier: surname.replace(/<+/g, ' ').trim(),
    secondaryIdentifier: given.replace(/<+/g, ' ').trim(),
    checkDigitsValid,
    lines,
  };
}
