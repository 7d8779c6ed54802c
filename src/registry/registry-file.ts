// Reading a registry file (CSV with a header, or NDJSON) as a stream of raw rows with their line
// numbers: strict UTF-8, a checked header, bounded memory whatever the file or a malformed line.
import { REGISTRY_FILE_COLUMNS, RELATION_COLUMNS, REQUIRED_FILE_COLUMNS, type RawRegistryRow, type RelationColumn } from './record-schema.ts';

export type RegistryFileFormat = 'csv' | 'ndjson';
export const REGISTRY_FILE_FORMATS: readonly RegistryFileFormat[] = ['csv', 'ndjson'];

/** The file as a whole cannot be read (format, encoding, header): nothing is imported. */
export class RegistryFileError extends Error {
  override readonly name = 'RegistryFileError';
  readonly code: 'unknown-format' | 'bad-encoding' | 'bad-header';

  constructor(code: RegistryFileError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** The format a flag names, or the one the file name's extension gives (.csv, .ndjson, .jsonl). */
export function registryFileFormat(fileName: string, flag?: string): RegistryFileFormat {
  if (flag !== undefined) {
    if ((REGISTRY_FILE_FORMATS as readonly string[]).includes(flag)) return flag as RegistryFileFormat;
    throw new RegistryFileError('unknown-format', `unknown format "${flag}" (expected csv or ndjson)`);
  }
  const extension = /\.([^./]+)$/.exec(fileName)?.[1]?.toLowerCase();
  if (extension === 'csv') return 'csv';
  if (extension === 'ndjson' || extension === 'jsonl') return 'ndjson';
  throw new RegistryFileError(
    'unknown-format',
    `cannot tell the format of ${fileName} from its extension; name it .csv or .ndjson, or pass --format csv|ndjson`,
  );
}

/** What the reader hands on: a row's values in REGISTRY_FILE_COLUMNS order, or why the line is unreadable. */
export interface RowSink {
  row(values: RawRegistryRow, line: number): void;
  malformed(line: number, reason: string): void;
}

/** A quoted CSV record longer than this is taken for an unterminated quote, not buffered further. */
export const MAX_RECORD_CHARS = 1 << 16;

/**
 * Turns decoded text into rows. CSV: the first line is the header (columns in any order, each at most
 * once, all but the optional relation columns required); fields are RFC 4180 (quotes, doubled quotes,
 * commas and line breaks inside quotes). NDJSON: one JSON object per line with the column names as keys;
 * a missing key is an empty value.
 */
export class RegistryRowReader {
  readonly #format: RegistryFileFormat;
  readonly #sink: RowSink;
  #pending = '';
  /** Lines consumed so far (the next line's number is this + 1). */
  #line = 0;
  /** Position in the file order of each column: file field i holds column #order[i] (CSV only). */
  #order: number[] | undefined;
  /** The header lists the columns in REGISTRY_FILE_COLUMNS order: rows need no reordering. */
  #inOrder = false;
  #headerChecked = false;
  readonly #relationColumns = new Set<RelationColumn>();

  constructor(format: RegistryFileFormat, sink: RowSink) {
    this.#format = format;
    this.#sink = sink;
  }

  /** Lines read so far. */
  get lines(): number {
    return this.#line;
  }

  /**
   * The relation columns the file carries: named in the CSV header, or (NDJSON) a key of some line read
   * so far, null or not. An import leaves the others as the registry holds them.
   */
  get relationColumns(): ReadonlySet<RelationColumn> {
    return this.#relationColumns;
  }

  push(text: string): void {
    let data = this.#pending === '' ? text : this.#pending + text;
    this.#pending = '';
    if (this.#skippingLine) {
      // The rest of an overlong line: dropped up to its line break.
      const newline = data.indexOf('\n');
      if (newline < 0) return;
      this.#skippingLine = false;
      data = data.slice(newline + 1);
    }
    let position = this.#consume(data, 0, false);
    while (data.length - position > MAX_RECORD_CHARS) {
      // No record is this long: an unterminated quote, or no line breaks. Report it, skip its first line.
      this.#line++;
      this.#sink.malformed(this.#line, `longer than ${MAX_RECORD_CHARS} characters (an unterminated quote?)`);
      const newline = data.indexOf('\n', position);
      if (newline < 0) {
        this.#skippingLine = true;
        position = data.length;
        break;
      }
      position = this.#consume(data, newline + 1, false);
    }
    this.#pending = data.slice(position);
  }

  /** The end of the file: a last line without a line break, a header that never came. */
  end(): void {
    const data = this.#pending;
    this.#pending = '';
    if (!this.#skippingLine && data !== '') this.#consume(data.endsWith('\n') ? data : `${data}\n`, 0, true);
    if (this.#format === 'csv' && !this.#order) {
      throw new RegistryFileError('bad-header', 'the file is empty: a CSV registry file starts with its header line');
    }
  }

  #skippingLine = false;

  /** Reads whole records from `position`; returns where the first incomplete one starts. */
  #consume(data: string, position: number, atEnd: boolean): number {
    while (position < data.length) {
      const newline = data.indexOf('\n', position);
      if (newline < 0) break;
      const next = this.#format === 'csv' ? this.#csvRecord(data, position, newline, atEnd) : this.#ndjsonLine(data, position, newline);
      if (next < 0) break;
      position = next;
    }
    return position;
  }

  /** Reads the CSV record starting at `start`; returns where the next begins, or -1 to wait for more text. */
  #csvRecord(data: string, start: number, newline: number, atEnd: boolean): number {
    let end = newline;
    if (end > start && data.charCodeAt(end - 1) === 13) end--;
    let fields: string[];
    let next = newline + 1;
    const firstLine = this.#line + 1;
    const lineText = data.slice(start, end);
    if (!lineText.includes('"')) {
      this.#line++;
      if (lineText === '') return next;
      fields = lineText.split(',');
    } else {
      const parsed = parseQuotedRecord(data, start);
      if (parsed === undefined) {
        if (!atEnd) return -1;
        this.#line++;
        this.#sink.malformed(firstLine, 'unterminated quoted field');
        return data.length;
      }
      if (typeof parsed === 'string') {
        this.#line++;
        this.#sink.malformed(firstLine, parsed);
        return next;
      }
      fields = parsed.fields;
      next = parsed.next;
      this.#line += parsed.lines;
    }
    if (!this.#order) {
      this.#order = headerOrder(fields);
      this.#inOrder = this.#order.every((column, index) => column === index);
      for (const column of relationColumnsOf(this.#order)) this.#relationColumns.add(column);
      return next;
    }
    if (fields.length !== this.#order.length) {
      this.#sink.malformed(firstLine, `has ${fields.length} fields, the header has ${this.#order.length}`);
      return next;
    }
    if (this.#inOrder) {
      this.#sink.row(fields, firstLine);
      return next;
    }
    const values = new Array<string | null>(REGISTRY_FILE_COLUMNS.length);
    const order = this.#order;
    for (let i = 0; i < fields.length; i++) values[order[i]!] = fields[i]!;
    this.#sink.row(values, firstLine);
    return next;
  }

  #ndjsonLine(data: string, start: number, newline: number): number {
    this.#line++;
    const text = data.slice(start, newline).trim();
    if (text === '') return newline + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      this.#sink.malformed(this.#line, `not JSON: ${(error as Error).message}`);
      return newline + 1;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.#sink.malformed(this.#line, 'not a JSON object');
      return newline + 1;
    }
    const values = new Array<string | null>(REGISTRY_FILE_COLUMNS.length).fill(null);
    const unknown: string[] = [];
    const notText: string[] = [];
    for (const [key, value] of Object.entries(parsed)) {
      const index = COLUMN_POSITION.get(key);
      if (index === undefined) {
        unknown.push(key);
        continue;
      }
      // A relation key, even null, says the file speaks of that relation.
      if (index >= FIRST_RELATION) this.#relationColumns.add(key as RelationColumn);
      if (typeof value === 'string') values[index] = value;
      else if (value !== null) notText.push(key);
    }
    if (!this.#headerChecked) {
      // The first object stands for a header: keys that are no registry column mean the wrong kind of file.
      this.#headerChecked = true;
      if (unknown.length > 0) {
        throw new RegistryFileError('bad-header', `line ${this.#line}: ${describeKeys(unknown)} (expected: ${REGISTRY_FILE_COLUMNS.join(', ')})`);
      }
    }
    if (unknown.length > 0) this.#sink.malformed(this.#line, describeKeys(unknown));
    else if (notText.length > 0) this.#sink.malformed(this.#line, `${notText.join(', ')}: must be a string or null`);
    else this.#sink.row(values, this.#line);
    return newline + 1;
  }
}

export const COLUMN_POSITION: ReadonlyMap<string, number> = new Map(REGISTRY_FILE_COLUMNS.map((column, index) => [column, index]));
/** The relation columns come last in REGISTRY_FILE_COLUMNS. */
const FIRST_RELATION = COLUMN_POSITION.get(RELATION_COLUMNS[0])!;

/** The relation columns among a header's columns (positions in REGISTRY_FILE_COLUMNS, as headerOrder() gives). */
export function relationColumnsOf(order: readonly number[]): RelationColumn[] {
  return RELATION_COLUMNS.filter((column) => order.includes(COLUMN_POSITION.get(column)!));
}

function describeKeys(keys: string[]): string {
  return `${keys.map((key) => JSON.stringify(key)).join(', ')} ${keys.length === 1 ? 'is not a registry column' : 'are not registry columns'}`;
}

/** Checks a CSV header and returns, for each of its fields, the column's position in REGISTRY_FILE_COLUMNS. */
export function headerOrder(fields: string[]): number[] {
  const names = fields.map((field) => field.trim());
  const unknown = names.filter((name) => !COLUMN_POSITION.has(name));
  const missing = REQUIRED_FILE_COLUMNS.filter((column) => !names.includes(column));
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  const problems = [
    missing.length > 0 && `missing ${missing.join(', ')}`,
    unknown.length > 0 && `unknown ${unknown.map((name) => JSON.stringify(name)).join(', ')}`,
    repeated.length > 0 && `repeated ${repeated.join(', ')}`,
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new RegistryFileError('bad-header', `wrong header: ${problems.join('; ')} (line 1 must name the registry columns, see docs/registry.md)`);
  }
  return names.map((name) => COLUMN_POSITION.get(name)!);
}

/**
 * Parses one RFC 4180 record that holds a quote, from `start`. Returns its fields, where the next record
 * starts and how many lines it spanned; a reason when it is malformed; undefined when it needs more text.
 */
export function parseQuotedRecord(data: string, start: number): { fields: string[]; next: number; lines: number } | string | undefined {
  const fields: string[] = [];
  let field = '';
  let position = start;
  let lines = 1;
  for (;;) {
    if (data.charCodeAt(position) === 34) {
      // A quoted field: runs to the next lone quote; "" is a quote inside it.
      position++;
      for (;;) {
        const quote = data.indexOf('"', position);
        if (quote < 0) return undefined;
        const chunk = data.slice(position, quote);
        for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
        field += chunk;
        if (data.charCodeAt(quote + 1) === 34) {
          field += '"';
          position = quote + 2;
          continue;
        }
        position = quote + 1;
        break;
      }
      if (position >= data.length) return undefined;
      const after = data.charCodeAt(position);
      if (after !== 44 && after !== 10 && after !== 13) return 'text after a closing quote';
    } else {
      let end = position;
      for (;;) {
        if (end >= data.length) return undefined;
        const code = data.charCodeAt(end);
        if (code === 44 || code === 10 || code === 13) break;
        if (code === 34) return 'a quote inside an unquoted field';
        end++;
      }
      field = data.slice(position, end);
      position = end;
    }
    fields.push(field);
    field = '';
    const separator = data.charCodeAt(position);
    if (separator === 44) {
      position++;
      continue;
    }
    if (separator === 13) position++;
    if (position >= data.length) return undefined;
    if (data.charCodeAt(position) !== 10) return 'a carriage return inside an unquoted field';
    return { fields, next: position + 1, lines };
  }
}

/** The error for a chunk that is not UTF-8, naming the first bad byte of the file and about which line holds it. */
export function encodingError(chunk: Uint8Array, offset: number, linesBefore: number): RegistryFileError {
  const at = firstInvalidUtf8(chunk);
  let line = linesBefore + 1;
  for (let i = 0; i < at; i++) if (chunk[i] === 10) line++;
  return new RegistryFileError('bad-encoding', `not valid UTF-8: byte ${offset + at} (around line ${line}) is not part of a UTF-8 character`);
}

/** Where the first malformed UTF-8 sequence starts (the chunk may begin inside a character). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  // Skip continuation bytes of a character begun in the previous chunk.
  while (i < 3 && i < bytes.length && (bytes[i]! & 0xc0) === 0x80) i++;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    const length = byte < 0x80 ? 1 : byte >= 0xc2 && byte < 0xe0 ? 2 : byte >= 0xe0 && byte < 0xf0 ? 3 : byte >= 0xf0 && byte < 0xf5 ? 4 : 0;
    if (length === 0) return i;
    // The second byte's narrower ranges: no overlong forms, no surrogates, nothing past U+10FFFF.
    const second = bytes[i + 1];
    if (second !== undefined && ((byte === 0xe0 && second < 0xa0) || (byte === 0xed && second > 0x9f) || (byte === 0xf0 && second < 0x90) || (byte === 0xf4 && second > 0x8f))) {
      return i;
    }
    for (let k = 1; k < length; k++) {
      if (i + k >= bytes.length) return i;
      if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return Math.max(0, bytes.length - 1);
}
