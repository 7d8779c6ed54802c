// Turns a CSV registry file's bytes straight into binary COPY rows for registry_records. A row that passes
// byte-level checks is copied without ever becoming JavaScript strings; every other row — quoted, refused,
// or unusual in any way — is decoded and goes through RegistryRowValidator, so what is loaded and every
// refusal are exactly what RegistryRowReader and the validator give (test/registry/csv-copy.test.ts
// compares the two on every kind of row).
import { isUtf8 } from 'node:buffer';
import { CURRENT_PROVINCES } from './administrative-units.ts';
import { CopyRows, daysSince2000 } from './copy-rows.ts';
import { foldName } from './names.ts';
import { PROVINCE_PREFIXES } from './national-id.ts';
import {
  checkName, checkText, jsonString, MAX_TEXT, RECORD_COLUMNS, REGISTRY_FILE_COLUMNS, RELATIONS, type RawRegistryRow, type RegistryFileColumn, type RegistryRowValidator, type RelationColumn,
} from './record-schema.ts';
import { encodingError, headerOrder, MAX_RECORD_CHARS, parseQuotedRecord, RegistryFileError, relationColumnsOf } from './registry-file.ts';

/** What became of each row, told to the import (which counts them and keeps the line map). */
export interface CopyRowOutcome {
  /** A row that passed: true to write it (false once strict mode has refused one). */
  accepted(line: number): boolean;
  rejected(line: number, nationalId: string, reason: string): void;
}

const column = (name: RegistryFileColumn): number => REGISTRY_FILE_COLUMNS.indexOf(name);
const ID = column('national_id');
const FAMILY = column('family_name');
const MIDDLE = column('middle_name');
const GIVEN = column('given_name');
const BIRTH = column('birth_date');
const GENDER = column('gender');
const PROVINCE = column('birth_registration_province');
const ORIGIN = column('place_of_origin');
const ETHNICITY = column('ethnicity');
const NATIONALITY = column('nationality');
const ISSUED = column('id_card_issue_date');
const EXPIRES = column('id_card_expiry_date');
const P_STREET = column('permanent_street');
const T_STREET = column('temporary_street');
const HOUSEHOLD = column('household_id');
const RELATION = column('relation_to_head');
const DIED = column('died_on');
const MISSING = column('missing_since');
const PHONE = column('contact_phone');
const EMAIL = column('contact_email');
const FATHER = column('father_national_id');
const MOTHER = column('mother_national_id');
const GUARDIAN = column('guardian_national_id');
const COLUMNS = REGISTRY_FILE_COLUMNS.length;
/** More fields than this on a line are only counted, for the "has N fields" refusal. */
const MAX_FIELDS = 64;

const NEWLINE = 10;
const RETURN = 13;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const BACKSLASH = 92;
const MINUS = 45;

/** A known name: its normal form and folded form as bytes; null when the rules refuse it. */
type NameEntry = { readonly value: Buffer; readonly folded: Buffer } | null;
/** A known text: its normal form, and that as a JSON string; null when refused. */
type TextEntry = { readonly value: Buffer; readonly json: Buffer } | null;

/**
 * A hash table keyed by byte ranges, so a name in the file is looked up without first being made a
 * string. Bounded like the validator's memo: forgets everything when full.
 */
class ByteTable<T> {
  #keys: (Buffer | undefined)[] = [];
  #hashes = new Int32Array(0);
  #values: T[] = [];
  #mask = 0;
  #size = 0;
  readonly #limit: number;

  constructor(limit = 100_000) {
    this.#limit = limit;
    this.#allocate(1024);
  }

  static hash(data: Buffer, start: number, end: number): number {
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ data[i]!, 0x01000193);
    return hash | 0;
  }

  get(data: Buffer, start: number, end: number, hash: number): T | undefined {
    const keys = this.#keys;
    const length = end - start;
    for (let slot = hash & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const key = keys[slot];
      if (key === undefined) return undefined;
      if (this.#hashes[slot] === hash && key.length === length && sameBytes(key, data, start)) return this.#values[slot];
    }
  }

  set(data: Buffer, start: number, end: number, hash: number, value: T): void {
    if (this.#size >= this.#limit) this.#allocate(1024);
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
    this.#insert(Buffer.from(data.subarray(start, end)), hash, value);
  }

  #insert(key: Buffer, hash: number, value: T): void {
    let slot = hash & this.#mask;
    while (this.#keys[slot] !== undefined) slot = (slot + 1) & this.#mask;
    this.#keys[slot] = key;
    this.#hashes[slot] = hash;
    this.#values[slot] = value;
    this.#size++;
  }

  #allocate(capacity: number): void {
    this.#keys = new Array<Buffer | undefined>(capacity).fill(undefined);
    this.#hashes = new Int32Array(capacity);
    this.#values = new Array<T>(capacity);
    this.#mask = capacity - 1;
    this.#size = 0;
  }

  #grow(): void {
    const [keys, hashes, values] = [this.#keys, this.#hashes, this.#values];
    this.#allocate(keys.length * 2);
    for (let i = 0; i < keys.length; i++) if (keys[i] !== undefined) this.#insert(keys[i]!, hashes[i]!, values[i]!);
  }
}

function sameBytes(key: Buffer, data: Buffer, start: number): boolean {
  for (let i = 0; i < key.length; i++) if (key[i] !== data[start + i]) return false;
  return true;
}

function table<T>(entries: Iterable<readonly [string, T]>): ByteTable<T> {
  const result = new ByteTable<T>();
  for (const [key, value] of entries) {
    const bytes = Buffer.from(key);
    result.set(bytes, 0, bytes.length, ByteTable.hash(bytes, 0, bytes.length), value);
  }
  return result;
}

const PREFIXES = new Uint8Array(1000);
for (const prefix of Object.keys(PROVINCE_PREFIXES)) PREFIXES[Number(prefix)] = 1;
// An address's region as the JSON the registry keeps (what JSON.stringify gives for these names).
const REGIONS = table(CURRENT_PROVINCES.map((province) => [province.name, Buffer.from(JSON.stringify(province.name))] as const));
const RELATION_NAMES = table([...RELATIONS].map((relation) => [relation, true] as const));

/**
 * Code points a free text may hold and still be taken as it is: letters and punctuation of the Latin
 * blocks Vietnamese uses, each NFC-stable on its own and no combining mark (so no neighbour can compose
 * with it: a string made only of these is already NFC), and none of them whitespace (so the only space
 * that trimming could remove is the ASCII one). Anything else sends the row to the string path.
 */
const STABLE = new Uint8Array(0x10000);
for (const [from, to] of [[0xa0, 0x24f], [0x1e00, 0x1eff], [0x2010, 0x2027], [0x2030, 0x205e]] as const) {
  for (let code = from; code <= to; code++) {
    const character = String.fromCharCode(code);
    if (!/[\p{M}\s]/u.test(character) && character.normalize('NFC') === character) STABLE[code] = 1;
  }
}

// The fixed parts of an address's JSON.
const STREET_OPEN = Buffer.from('{"streetAddress":"');
const LOCALITY_OPEN = Buffer.from('","locality":');
const REGION_OPEN = Buffer.from(',"region":');
const ADDRESS_CLOSE = Buffer.from(',"country":"VN"}');

/** Where the incomplete UTF-8 character at the end of `bytes` starts (bytes.length when there is none). */
function incompleteTail(bytes: Buffer): number {
  const end = bytes.length;
  let lead = end - 1;
  while (lead >= 0 && lead > end - 4 && (bytes[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0) return end;
  const byte = bytes[lead]!;
  const length = byte >= 0xc2 && byte < 0xe0 ? 2 : byte >= 0xe0 && byte < 0xf0 ? 3 : byte >= 0xf0 && byte < 0xf5 ? 4 : 1;
  if (lead + length <= end) return end;
  // Only a tail that can still become a character waits for the next chunk; the WHATWG decoder refuses a
  // wrong second byte at once, and so must we, to name the same byte.
  const second = bytes[lead + 1];
  if (second !== undefined && ((byte === 0xe0 && second < 0xa0) || (byte === 0xed && second > 0x9f) || (byte === 0xf0 && second < 0x90) || (byte === 0xf4 && second > 0x8f))) {
    return end;
  }
  return lead;
}

/**
 * Reads a CSV registry file chunk by chunk, as RegistryRowReader does (same header rules, line numbers,
 * malformed-line reasons and 64 KiB bound), and writes each accepted row into `output` for COPY.
 */
export class RegistryCsvCopier {
  readonly output = new CopyRows(1 << 21);
  readonly #validator: RegistryRowValidator;
  readonly #outcome: CopyRowOutcome;
  readonly #lineNumbers: boolean;
  readonly #today: Buffer;
  /** Bytes read but not yet consumed: the start of a line or record still incomplete. */
  #pending: Buffer = Buffer.alloc(0);
  /** The start of a UTF-8 character split between chunks, kept to check it whole. */
  #carry: Buffer = Buffer.alloc(0);
  #bytes = 0;
  #line = 0;
  #bomChecked = false;
  #skippingLine = false;
  /** For each column (REGISTRY_FILE_COLUMNS order), its field in the file; -1 for a relation column the file leaves out. */
  #fieldOf: Int32Array | undefined;
  #relationColumns: ReadonlySet<RelationColumn> = new Set();
  #fields = 0;
  readonly #fieldStart = new Int32Array(MAX_FIELDS);
  readonly #fieldEnd = new Int32Array(MAX_FIELDS);
  readonly #start = new Int32Array(COLUMNS);
  readonly #end = new Int32Array(COLUMNS);
  readonly #names = new ByteTable<NameEntry>();
  readonly #texts = new ByteTable<TextEntry>();
  /** The regions #address() found for the row at hand, as JSON. */
  #permanentRegion = ADDRESS_CLOSE;
  #temporaryRegion = ADDRESS_CLOSE;

  /** `lineNumbers`: each COPY row starts with the row's line in the file (for a staging table). */
  constructor(validator: RegistryRowValidator, today: string, outcome: CopyRowOutcome, options: { lineNumbers: boolean }) {
    this.#validator = validator;
    this.#outcome = outcome;
    this.#lineNumbers = options.lineNumbers;
    // A today that is no plain date only turns the fast path off (every date is then checked as a string).
    this.#today = Buffer.from(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(today) ? today : '0000-00-00');
  }

  /** Lines read so far. */
  get lines(): number {
    return this.#line;
  }

  /** The relation columns the file's header names (RegistryRowReader.relationColumns). */
  get relationColumns(): ReadonlySet<RelationColumn> {
    return this.#relationColumns;
  }

  /** Reads one chunk of the file; throws RegistryFileError for bytes that are not UTF-8 or a wrong header. */
  push(chunk: Buffer): void {
    this.#checkUtf8(chunk);
    this.#bytes += chunk.length;
    const data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let position = this.#consume(data, 0, false);
    // No record is this long: an unterminated quote, or no line breaks. Report it, skip its first line.
    while (data.length - position > MAX_RECORD_CHARS && utf16Length(data, position, data.length) > MAX_RECORD_CHARS) {
      this.#line++;
      this.#outcome.rejected(this.#line, '', `longer than ${MAX_RECORD_CHARS} characters (an unterminated quote?)`);
      const newline = data.indexOf(NEWLINE, position);
      if (newline < 0) {
        this.#skippingLine = true;
        position = data.length;
        break;
      }
      position = this.#consume(data, newline + 1, false);
    }
    this.#pending = data.subarray(position);
  }

  /** The end of the file: a last line without a line break, a character or header that never came. */
  end(): void {
    if (this.#carry.length > 0) throw encodingError(new Uint8Array(0), this.#bytes, this.#line);
    let data = this.#pending;
    this.#pending = Buffer.alloc(0);
    if (data.length > 0 && data[data.length - 1] !== NEWLINE) data = Buffer.concat([data, Buffer.from([NEWLINE])]);
    if (data.length > 0) this.#consume(data, 0, true);
    if (!this.#fieldOf) throw new RegistryFileError('bad-header', 'the file is empty: a CSV registry file starts with its header line');
  }

  #checkUtf8(chunk: Buffer): void {
    const whole = this.#carry.length === 0 ? chunk : Buffer.concat([this.#carry, chunk]);
    const complete = incompleteTail(whole);
    if (!isUtf8(whole.subarray(0, complete))) throw encodingError(chunk, this.#bytes, this.#line);
    this.#carry = Buffer.from(whole.subarray(complete));
  }

  /** Reads whole records from `position`; returns where the first incomplete one starts. */
  #consume(data: Buffer, position: number, atEnd: boolean): number {
    if (!this.#bomChecked) {
      if (data.length - position < 3 && !atEnd) return position;
      this.#bomChecked = true;
      if (data[position] === 0xef && data[position + 1] === 0xbb && data[position + 2] === 0xbf) position += 3;
    }
    if (this.#skippingLine) {
      // The rest of an overlong line: dropped up to its line break.
      const newline = data.indexOf(NEWLINE, position);
      if (newline < 0) return data.length;
      this.#skippingLine = false;
      position = newline + 1;
    }
    const starts = this.#fieldStart;
    const ends = this.#fieldEnd;
    while (position < data.length) {
      const newline = data.indexOf(NEWLINE, position);
      if (newline < 0) break;
      let end = newline;
      if (end > position && data[end - 1] === RETURN) end--;
      // One pass finds the commas, or a quote that needs the RFC 4180 parser.
      let fields = 0;
      let quoted = false;
      starts[0] = position;
      for (let i = position; i < end; i++) {
        const byte = data[i];
        if (byte === COMMA) {
          if (fields < MAX_FIELDS) ends[fields] = i;
          fields++;
          if (fields < MAX_FIELDS) starts[fields] = i + 1;
        } else if (byte === QUOTE) {
          quoted = true;
          break;
        }
      }
      if (quoted) {
        const next = this.#quotedRecord(data, position, newline, atEnd);
        if (next < 0) break;
        position = next;
        continue;
      }
      if (fields < MAX_FIELDS) ends[fields] = end;
      fields++;
      this.#line++;
      const line = this.#line;
      const lineStart = position;
      position = newline + 1;
      if (end === lineStart) continue;
      const fieldOf = this.#fieldOf;
      if (!fieldOf) {
        this.#header(data.toString('utf8', lineStart, end).split(','));
        continue;
      }
      if (fields !== this.#fields) {
        this.#outcome.rejected(line, '', `has ${fields} fields, the header has ${this.#fields}`);
        continue;
      }
      const start = this.#start;
      const stop = this.#end;
      for (let c = 0; c < COLUMNS; c++) {
        const field = fieldOf[c]!;
        // A column the file leaves out reads as an empty field.
        start[c] = field < 0 ? 0 : starts[field]!;
        stop[c] = field < 0 ? 0 : ends[field]!;
      }
      if (!this.#fastRow(data, line, end - lineStart)) {
        const values = new Array<string>(COLUMNS);
        for (let c = 0; c < COLUMNS; c++) values[c] = start[c] === stop[c] ? '' : data.toString('utf8', start[c], stop[c]);
        this.#slowRow(values, line);
      }
    }
    return position;
  }

  #header(fields: string[]): void {
    const order = headerOrder(fields);
    const fieldOf = new Int32Array(COLUMNS).fill(-1);
    order.forEach((columnIndex, field) => (fieldOf[columnIndex] = field));
    this.#fieldOf = fieldOf;
    this.#relationColumns = new Set(relationColumnsOf(order));
    this.#fields = order.length;
  }

  /**
   * A record holding a quote, parsed as text by RegistryRowReader's parser. Decodes a window that grows
   * until the record fits, so a file of quoted records is not decoded once per record. Returns where the
   * next record starts, or -1 to wait for more of the file.
   */
  #quotedRecord(data: Buffer, start: number, newline: number, atEnd: boolean): number {
    const firstLine = this.#line + 1;
    // Most quoted records end at the first line break: the first window takes just that line.
    let window = newline - start + 1;
    let text: string;
    let parsed: ReturnType<typeof parseQuotedRecord>;
    for (;;) {
      let cut = Math.min(data.length, start + window);
      // Cut between characters, so no half character stands at the window's end.
      while (cut < data.length && cut > start && (data[cut]! & 0xc0) === 0x80) cut--;
      text = data.toString('utf8', start, cut);
      parsed = parseQuotedRecord(text, 0);
      if (parsed !== undefined || cut >= data.length) break;
      window *= 2;
    }
    if (parsed === undefined) {
      if (!atEnd) return -1;
      this.#line++;
      this.#outcome.rejected(firstLine, '', 'unterminated quoted field');
      return data.length;
    }
    if (typeof parsed === 'string') {
      this.#line++;
      this.#outcome.rejected(firstLine, '', parsed);
      return newline + 1;
    }
    this.#line += parsed.lines;
    const next = start + Buffer.byteLength(text.slice(0, parsed.next));
    const { fields } = parsed;
    if (!this.#fieldOf) {
      this.#header(fields);
      return next;
    }
    if (fields.length !== this.#fields) {
      this.#outcome.rejected(firstLine, '', `has ${fields.length} fields, the header has ${this.#fields}`);
      return next;
    }
    const values = new Array<string>(COLUMNS);
    for (let c = 0; c < COLUMNS; c++) values[c] = fields[this.#fieldOf[c]!] ?? '';
    this.#slowRow(values, firstLine);
    return next;
  }

  /** The string path: the validator decides, and its values are written. */
  #slowRow(values: RawRegistryRow, line: number): void {
    const verdict = this.#validator.check(values);
    if ('problems' in verdict) {
      this.#outcome.rejected(line, values[ID] ?? '', verdict.problems.join('; '));
      return;
    }
    if (this.#outcome.accepted(line)) this.output.write(this.#lineNumbers ? line : undefined, verdict.values);
  }

  /**
   * The fast path: checks the row at the byte level and, when every rule plainly holds, writes its COPY
   * row. Returns false — having written nothing and told nothing — whenever anything is off or merely
   * unusual; the string path then gives the verdict.
   */
  #fastRow(d: Buffer, line: number, lineBytes: number): boolean {
    const s = this.#start;
    const e = this.#end;
    const today = this.#today;

    // national_id: 12 digits, a known prefix; the century/gender digit and the year checked below.
    const id = s[ID]!;
    if (e[ID]! - id !== 12) return false;
    for (let i = id; i < id + 12; i++) if (d[i]! < 48 || d[i]! > 57) return false;
    if (PREFIXES[(d[id]! - 48) * 100 + (d[id + 1]! - 48) * 10 + d[id + 2]! - 48] !== 1) return false;

    const genderLength = e[GENDER]! - s[GENDER]!;
    const g = s[GENDER]!;
    let female: number;
    if (genderLength === 4 && d[g] === 0x6d && d[g + 1] === 0x61 && d[g + 2] === 0x6c && d[g + 3] === 0x65) female = 0;
    else if (genderLength === 6 && d[g] === 0x66 && d[g + 1] === 0x65 && d[g + 2] === 0x6d && d[g + 3] === 0x61 && d[g + 4] === 0x6c && d[g + 5] === 0x65) female = 1;
    else return false;

    const birth = s[BIRTH]!;
    if (e[BIRTH]! - birth !== 10 || !isDate(d, birth) || compareDates(d, birth, today, 0) > 0) return false;
    const century = (d[birth]! - 48) * 10 + d[birth + 1]! - 48;
    if (century < 19 || century > 21 || d[id + 3]! - 48 !== (century - 19) * 2 + female) return false;
    if (d[id + 4] !== d[birth + 2] || d[id + 5] !== d[birth + 3]) return false;

    const province = s[PROVINCE]!;
    const provinceLength = e[PROVINCE]! - province;
    if (provinceLength !== 0 && (provinceLength !== 3 || d[province] !== d[id] || d[province + 1] !== d[id + 1] || d[province + 2] !== d[id + 2])) return false;

    const family = this.#name(d, s[FAMILY]!, e[FAMILY]!);
    const given = this.#name(d, s[GIVEN]!, e[GIVEN]!);
    const middle = s[MIDDLE] === e[MIDDLE] ? undefined : this.#name(d, s[MIDDLE]!, e[MIDDLE]!);
    if (!family || !given || middle === null) return false;

    const origin = this.#text(d, s[ORIGIN]!, e[ORIGIN]!);
    const ethnicity = this.#text(d, s[ETHNICITY]!, e[ETHNICITY]!);
    if (!origin || !ethnicity) return false;
    const nationality = s[NATIONALITY]!;
    if (e[NATIONALITY]! - nationality !== 2 || !isUpper(d[nationality]!) || !isUpper(d[nationality + 1]!)) return false;

    const issued = s[ISSUED]!;
    const hasIssued = e[ISSUED] !== issued;
    if (hasIssued && (e[ISSUED]! - issued !== 10 || !isDate(d, issued) || compareDates(d, issued, today, 0) > 0 || compareDates(d, issued, d, birth) < 0)) return false;
    const expires = s[EXPIRES]!;
    if (e[EXPIRES] !== expires && (!hasIssued || e[EXPIRES]! - expires !== 10 || !isDate(d, expires) || compareDates(d, expires, d, issued) <= 0)) return false;

    const permanentLocality = this.#address(d, P_STREET, false);
    if (permanentLocality === null) return false;
    const temporaryLocality = this.#address(d, T_STREET, true);
    if (temporaryLocality === null) return false;

    const household = s[HOUSEHOLD]!;
    const householdLength = e[HOUSEHOLD]! - household;
    const relation = s[RELATION]!;
    const relationLength = e[RELATION]! - relation;
    if ((householdLength === 0) !== (relationLength === 0) || householdLength > 40) return false;
    for (let i = household; i < household + householdLength; i++) {
      const byte = d[i]!;
      if (!(isDigit(byte) || isUpper(byte) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x5f || byte === MINUS)) return false;
    }
    if (relationLength !== 0 && !RELATION_NAMES.get(d, relation, e[RELATION]!, ByteTable.hash(d, relation, e[RELATION]!))) return false;

    if (!pastDateAfter(d, s[DIED]!, e[DIED]!, today, birth) || !pastDateAfter(d, s[MISSING]!, e[MISSING]!, today, birth)) return false;

    const phone = s[PHONE]!;
    const phoneLength = e[PHONE]! - phone;
    if (phoneLength !== 0) {
      if (phoneLength < 9 || phoneLength > 16 || d[phone] !== 0x2b || d[phone + 1]! < 0x31 || d[phone + 1]! > 0x39) return false;
      for (let i = phone + 2; i < phone + phoneLength; i++) if (!isDigit(d[i]!)) return false;
    }
    if (s[EMAIL] !== e[EMAIL] && !isPlainEmail(d, s[EMAIL]!, e[EMAIL]!)) return false;

    // Parents and guardian: absent, or a well-formed number that is not the person's own; the father's
    // and the mother's never the same.
    if (!relationNumber(d, s[FATHER]!, e[FATHER]!, id) || !relationNumber(d, s[MOTHER]!, e[MOTHER]!, id) || !relationNumber(d, s[GUARDIAN]!, e[GUARDIAN]!, id)) return false;
    if (s[FATHER] !== e[FATHER] && s[MOTHER] !== e[MOTHER] && sameBytes(d.subarray(s[FATHER], e[FATHER]), d, s[MOTHER]!)) return false;

    // Every rule holds: the row is the validator's to count, then written.
    if (!this.#outcome.accepted(line)) return true;
    const out = this.output;
    // What the row can take: each value's length, the names three times (parts, full, folded), the street
    // once more (its address), the localities twice over (two addresses), the fixed parts.
    const names = family.value.length + given.value.length + (middle?.value.length ?? 0);
    const folded = family.folded.length + given.folded.length + (middle?.folded.length ?? 0);
    const localities = (permanentLocality?.json.length ?? 0) + (temporaryLocality?.json.length ?? 0);
    out.reserve(2 * lineBytes + 2 * names + folded + origin.value.length + ethnicity.value.length + localities + 1024);
    const o = out.bytes;
    let at = out.length;
    o[at] = 0;
    o[at + 1] = this.#lineNumbers ? RECORD_COLUMNS.length + 1 : RECORD_COLUMNS.length;
    at += 2;
    if (this.#lineNumbers) {
      at = int32(o, at, 8);
      at = int32(o, at, Math.floor(line / 2 ** 32));
      at = int32(o, at, line >>> 0);
    }
    at = field(o, at, d, id, id + 12);
    at = field(o, at, family.value, 0, family.value.length);
    at = middle ? field(o, at, middle.value, 0, middle.value.length) : int32(o, at, 0);
    at = field(o, at, given.value, 0, given.value.length);
    let start = at + 4;
    at = put(o, start, family.value, SPACE);
    if (middle) at = put(o, at, middle.value, SPACE);
    at = put(o, at, given.value, undefined);
    int32(o, start - 4, at - start);
    start = at + 4;
    at = put(o, start, family.folded, SPACE);
    if (middle) at = put(o, at, middle.folded, SPACE);
    at = put(o, at, given.folded, undefined);
    int32(o, start - 4, at - start);
    at = date(o, at, d, birth);
    at = field(o, at, d, g, g + genderLength);
    at = field(o, at, d, id, id + 3);
    at = field(o, at, origin.value, 0, origin.value.length);
    at = field(o, at, ethnicity.value, 0, ethnicity.value.length);
    at = field(o, at, d, nationality, nationality + 2);
    at = hasIssued ? date(o, at, d, issued) : int32(o, at, -1);
    at = e[EXPIRES] !== expires ? date(o, at, d, expires) : int32(o, at, -1);
    at = this.#putAddress(o, at, d, P_STREET, permanentLocality);
    at = this.#putAddress(o, at, d, T_STREET, temporaryLocality);
    at = field(o, at, d, s[HOUSEHOLD]!, e[HOUSEHOLD]!, true);
    at = field(o, at, d, s[RELATION]!, e[RELATION]!, true);
    at = s[DIED] === e[DIED] ? int32(o, at, -1) : date(o, at, d, s[DIED]!);
    at = s[MISSING] === e[MISSING] ? int32(o, at, -1) : date(o, at, d, s[MISSING]!);
    at = field(o, at, d, s[PHONE]!, e[PHONE]!, true);
    at = field(o, at, d, s[EMAIL]!, e[EMAIL]!, true);
    at = field(o, at, d, s[FATHER]!, e[FATHER]!, true);
    at = field(o, at, d, s[MOTHER]!, e[MOTHER]!, true);
    at = field(o, at, d, s[GUARDIAN]!, e[GUARDIAN]!, true);
    out.length = at;
    return true;
  }

  /** A name field, through the memo; null when refused (or missing: names are required or handled before). */
  #name(d: Buffer, start: number, end: number): NameEntry {
    if (start === end) return null;
    const hash = ByteTable.hash(d, start, end);
    let entry = this.#names.get(d, start, end, hash);
    if (entry === undefined) {
      const checked = checkName(d.toString('utf8', start, end));
      entry = checked.problem === undefined ? { value: Buffer.from(checked.value), folded: Buffer.from(foldName(checked.value)) } : null;
      this.#names.set(d, start, end, hash, entry);
    }
    return entry;
  }

  /** A remembered free text (place of origin, ethnicity, locality); null when refused or missing. */
  #text(d: Buffer, start: number, end: number): TextEntry {
    if (start === end) return null;
    const hash = ByteTable.hash(d, start, end);
    let entry = this.#texts.get(d, start, end, hash);
    if (entry === undefined) {
      const checked = checkText(d.toString('utf8', start, end));
      entry = checked.problem === undefined ? { value: Buffer.from(checked.value), json: Buffer.from(jsonString(checked.value)) } : null;
      this.#texts.set(d, start, end, hash, entry);
    }
    return entry;
  }

  /**
   * Checks an address (street, locality, region: three columns from `street`); returns its locality,
   * undefined for a temporary address the file leaves out, null when the fast path cannot take it.
   */
  #address(d: Buffer, street: number, optional: boolean): TextEntry | undefined {
    const s = this.#start;
    const e = this.#end;
    const locality = street + 1;
    const region = street + 2;
    if (optional && s[street] === e[street] && s[locality] === e[locality] && s[region] === e[region]) return undefined;
    if (s[street] !== e[street] && !isPlainText(d, s[street]!, e[street]!)) return null;
    const entry = this.#text(d, s[locality]!, e[locality]!);
    const json = !entry || s[region] === e[region] ? undefined : REGIONS.get(d, s[region]!, e[region]!, ByteTable.hash(d, s[region]!, e[region]!));
    if (!json) return null;
    if (street === P_STREET) this.#permanentRegion = json;
    else this.#temporaryRegion = json;
    return entry;
  }

  /** An address's jsonb: version 1, then the JSON the validator builds; NULL for a temporary one left out. */
  #putAddress(o: Buffer, at: number, d: Buffer, street: number, locality: NonNullable<TextEntry> | undefined): number {
    if (locality === undefined) return int32(o, at, -1);
    const start = at + 4;
    o[start] = 1;
    at = put(o, start + 1, STREET_OPEN, undefined);
    at = copy(o, at, d, this.#start[street]!, this.#end[street]!);
    at = put(o, at, LOCALITY_OPEN, undefined);
    at = put(o, at, locality.json, undefined);
    at = put(o, at, REGION_OPEN, undefined);
    at = put(o, at, street === P_STREET ? this.#permanentRegion : this.#temporaryRegion, undefined);
    at = put(o, at, ADDRESS_CLOSE, undefined);
    int32(o, start - 4, at - start);
    return at;
  }
}

function int32(o: Buffer, at: number, value: number): number {
  o[at] = value >>> 24;
  o[at + 1] = value >>> 16;
  o[at + 2] = value >>> 8;
  o[at + 3] = value;
  return at + 4;
}

/** Copies d[start, end) to o at `at`; returns the position after. */
function copy(o: Buffer, at: number, d: Buffer, start: number, end: number): number {
  if (end - start > 32) return at + d.copy(o, at, start, end);
  for (let i = start; i < end; i++) o[at++] = d[i]!;
  return at;
}

/** `bytes`, then `after` if given. */
function put(o: Buffer, at: number, bytes: Buffer, after: number | undefined): number {
  at = copy(o, at, bytes, 0, bytes.length);
  if (after !== undefined) o[at++] = after;
  return at;
}

/** A field: its length, then d[start, end); NULL when empty and `nullIfEmpty`. */
function field(o: Buffer, at: number, d: Buffer, start: number, end: number, nullIfEmpty = false): number {
  if (nullIfEmpty && start === end) return int32(o, at, -1);
  return copy(o, int32(o, at, end - start), d, start, end);
}

/** A date field: days since 2000-01-01, from the YYYY-MM-DD at `at` (checked before). */
function date(o: Buffer, at: number, d: Buffer, start: number): number {
  const digit = (i: number) => d[start + i]! - 48;
  const days = daysSince2000(digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3), digit(5) * 10 + digit(6), digit(8) * 10 + digit(9));
  return int32(o, int32(o, at, 4), days);
}

function isDigit(byte: number): boolean {
  return byte >= 48 && byte <= 57;
}

function isUpper(byte: number): boolean {
  return byte >= 0x41 && byte <= 0x5a;
}

const DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9];

/** A real calendar date YYYY-MM-DD from 1900 on, at `at` (isCalendarDate() on bytes). */
function isDate(d: Buffer, at: number): boolean {
  if (d[at + 4] !== MINUS || d[at + 7] !== MINUS) return false;
  for (const i of DATE_DIGITS) if (!isDigit(d[at + i]!)) return false;
  const year = (d[at]! - 48) * 1000 + (d[at + 1]! - 48) * 100 + (d[at + 2]! - 48) * 10 + d[at + 3]! - 48;
  const month = (d[at + 5]! - 48) * 10 + d[at + 6]! - 48;
  const day = (d[at + 8]! - 48) * 10 + d[at + 9]! - 48;
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

/** An optional date at [start, end): absent, or a date neither after today nor before the birth date. */
function pastDateAfter(d: Buffer, start: number, end: number, today: Buffer, birth: number): boolean {
  return start === end || (end - start === 10 && isDate(d, start) && compareDates(d, start, today, 0) <= 0 && compareDates(d, start, d, birth) >= 0);
}

/** Compares two 10-byte dates as strings compare. */
function compareDates(a: Buffer, at: number, b: Buffer, bt: number): number {
  for (let i = 0; i < 10; i++) {
    const difference = a[at + i]! - b[bt + i]!;
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * A free text that checkText() would keep exactly as it is, with nothing to escape in COPY or JSON:
 * printable ASCII but for a backslash, or STABLE characters; no space at either end; short enough.
 */
function isPlainText(d: Buffer, start: number, end: number): boolean {
  if (d[start] === SPACE || d[end - 1] === SPACE) return false;
  let units = 0;
  for (let i = start; i < end; units++) {
    const byte = d[i]!;
    if (byte < 0x80) {
      if (byte < SPACE || byte === 0x7f || byte === BACKSLASH || byte === QUOTE) return false;
      i++;
    } else if (byte < 0xe0) {
      if (STABLE[((byte & 0x1f) << 6) | (d[i + 1]! & 0x3f)] !== 1) return false;
      i += 2;
    } else if (byte < 0xf0) {
      if (STABLE[((byte & 0x0f) << 12) | ((d[i + 1]! & 0x3f) << 6) | (d[i + 2]! & 0x3f)] !== 1) return false;
      i += 3;
    } else {
      return false;
    }
  }
  return units <= MAX_TEXT;
}

/**
 * An optional relation's ID number at [start, end): absent, or 12 digits with a known province prefix and
 * a century/gender digit 0–5 (nationalIdFormatProblem() on bytes), other than the person's own at `own`.
 */
function relationNumber(d: Buffer, start: number, end: number, own: number): boolean {
  if (start === end) return true;
  if (end - start !== 12) return false;
  let same = true;
  for (let i = 0; i < 12; i++) {
    const byte = d[start + i]!;
    if (!isDigit(byte)) return false;
    if (byte !== d[own + i]) same = false;
  }
  return !same && PREFIXES[(d[start]! - 48) * 100 + (d[start + 1]! - 48) * 10 + d[start + 2]! - 48] === 1 && d[start + 3]! <= 0x35;
}

/** An ASCII address the validator's EMAIL pattern takes, no longer than 254. */
function isPlainEmail(d: Buffer, start: number, end: number): boolean {
  if (end - start > 254) return false;
  let at = -1;
  let dot = -1;
  for (let i = start; i < end; i++) {
    const byte = d[i]!;
    if (byte <= SPACE || byte >= 0x7f || byte === QUOTE || byte === 0x3c || byte === 0x3e || byte === COMMA || byte === 0x3b || byte === 0x28 || byte === 0x29 || byte === BACKSLASH) return false;
    if (byte === 0x40) {
      if (at >= 0) return false;
      at = i;
    } else if (byte === 0x2e) {
      dot = i;
    }
  }
  if (at <= start || dot <= at + 1 || end - dot - 1 < 2) return false;
  for (let i = dot + 1; i < end; i++) {
    const byte = d[i]! | 0x20;
    if (byte < 0x61 || byte > 0x7a) return false;
  }
  return true;
}

/** The length in UTF-16 code units of valid UTF-8 bytes (what String.length would give once decoded). */
function utf16Length(d: Buffer, start: number, end: number): number {
  let units = 0;
  for (let i = start; i < end; i++) {
    const byte = d[i]!;
    if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
  }
  return units;
}
