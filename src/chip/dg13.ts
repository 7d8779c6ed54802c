// DG13 of a Vietnamese citizen identity card: the personal data the card's face shows, with diacritics.
// Its tag layout is not published by the issuer; the layout this provider assumes (and writes on test
// chips) is in docs/chip-verification.md "DG13": 6D { SEQUENCE OF SEQUENCE { INTEGER field, UTF8String
// value } }, dates as DD/MM/YYYY. Unknown fields are skipped; a field given twice is refused.
import * as asn1js from 'asn1js';
import { ChipFormatError, readable } from './errors.ts';

/** The field numbers read (docs/chip-verification.md "DG13"). */
export const DG13_FIELDS = {
  nationalId: 1,
  fullName: 2,
  birthDate: 3,
  sex: 4,
  nationality: 5,
  placeOfOrigin: 8,
  issueDate: 11,
  expiryDate: 12,
} as const;

export interface Dg13 {
  readonly nationalId: string;
  readonly fullName: string;
  /** YYYY-MM-DD. */
  readonly birthDate: string;
  /** As on the card: `Nam` or `Nữ`. */
  readonly sex: string;
  readonly nationality: string;
  readonly placeOfOrigin: string;
  /** YYYY-MM-DD. */
  readonly issueDate: string;
  /** YYYY-MM-DD, or null (`Không thời hạn`: no expiry). */
  readonly expiryDate: string | null;
}

const MAX_FIELD_LENGTH = 500;

/** DD/MM/YYYY → YYYY-MM-DD (a real calendar day), else undefined. */
function isoDate(value: string): string | undefined {
  const match = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value);
  if (!match) return undefined;
  const iso = `${match[3]}-${match[2]}-${match[1]}`;
  const parsed = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== iso ? undefined : iso;
}

const ddmmyyyy = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

/** DG13's bytes for a card (what a test chip carries). */
export function encodeDg13(data: Dg13): Buffer {
  const fields: [number, string][] = [
    [DG13_FIELDS.nationalId, data.nationalId],
    [DG13_FIELDS.fullName, data.fullName],
    [DG13_FIELDS.birthDate, ddmmyyyy(data.birthDate)],
    [DG13_FIELDS.sex, data.sex],
    [DG13_FIELDS.nationality, data.nationality],
    [DG13_FIELDS.placeOfOrigin, data.placeOfOrigin],
    [DG13_FIELDS.issueDate, ddmmyyyy(data.issueDate)],
    [DG13_FIELDS.expiryDate, data.expiryDate ? ddmmyyyy(data.expiryDate) : 'Không thời hạn'],
  ];
  const sequence = new asn1js.Sequence({
    value: fields.map(([field, value]) => new asn1js.Sequence({ value: [new asn1js.Integer({ value: field }), new asn1js.Utf8String({ value })] })),
  });
  return Buffer.from(new asn1js.Constructed({ idBlock: { tagClass: 2, tagNumber: 13 }, value: [sequence] }).toBER());
}

/** Parses DG13; ChipFormatError when it is not in the layout above or misses a field read. */
export function parseDg13(bytes: Uint8Array): Dg13 {
  return readable('DG13', () => unsafeParseDg13(bytes));
}

function unsafeParseDg13(bytes: Uint8Array): Dg13 {
  const decoded = asn1js.fromBER(bytes);
  const template = decoded.result;
  if (decoded.offset === -1 || decoded.offset !== bytes.length || template.idBlock.tagClass !== 2 || template.idBlock.tagNumber !== 13) {
    throw new ChipFormatError('DG13: not a DG13 template (tag 6D)');
  }
  const [sequence] = (template.valueBlock as { value?: asn1js.AsnType[] }).value ?? [];
  if (!(sequence instanceof asn1js.Sequence)) throw new ChipFormatError('DG13: expected a SEQUENCE of fields');
  const values = new Map<number, string>();
  for (const item of sequence.valueBlock.value) {
    const [number, value] = item instanceof asn1js.Sequence ? item.valueBlock.value : [];
    if (!(number instanceof asn1js.Integer) || !(value instanceof asn1js.Utf8String)) {
      throw new ChipFormatError('DG13: each field is a SEQUENCE { INTEGER, UTF8String }');
    }
    const field = number.valueBlock.valueDec;
    const text = value.getValue();
    if (text.length > MAX_FIELD_LENGTH) throw new ChipFormatError(`DG13: field ${field} is longer than ${MAX_FIELD_LENGTH} characters`);
    if (values.has(field)) throw new ChipFormatError(`DG13: field ${field} appears twice`);
    values.set(field, text.normalize('NFC'));
  }
  const required = (name: keyof typeof DG13_FIELDS): string => {
    const value = values.get(DG13_FIELDS[name]);
    if (value === undefined || value.trim() === '') throw new ChipFormatError(`DG13: field ${DG13_FIELDS[name]} (${name}) is missing`);
    return value.trim();
  };
  const date = (name: 'birthDate' | 'issueDate'): string => {
    const iso = isoDate(required(name));
    if (!iso) throw new ChipFormatError(`DG13: field ${DG13_FIELDS[name]} (${name}) is not a DD/MM/YYYY date`);
    return iso;
  };
  const nationalId = required('nationalId');
  if (!/^\d{12}$/.test(nationalId)) throw new ChipFormatError('DG13: the personal identification number is not 12 digits');
  const expiryText = values.get(DG13_FIELDS.expiryDate)?.trim() ?? '';
  const expiryDate = isoDate(expiryText) ?? null;
  if (expiryDate === null && expiryText !== 'Không thời hạn' && expiryText !== '') {
    throw new ChipFormatError(`DG13: field ${DG13_FIELDS.expiryDate} (expiryDate) is not a DD/MM/YYYY date`);
  }
  return {
    nationalId,
    fullName: required('fullName'),
    birthDate: date('birthDate'),
    sex: required('sex'),
    nationality: values.get(DG13_FIELDS.nationality)?.trim() ?? '',
    placeOfOrigin: values.get(DG13_FIELDS.placeOfOrigin)?.trim() ?? '',
    issueDate: date('issueDate'),
    expiryDate,
  };
}
