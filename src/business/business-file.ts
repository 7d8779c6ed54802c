// The business register file (docs/business-register.md "Register files"): one organisation a row, as
// CSV with a header or as NDJSON, read as a stream of raw rows with their line numbers, and the rules
// every row must pass before it reaches business_organisations and business_representatives.
import { isCalendarDate } from '../registry/record-schema.ts';
import { nationalIdFormatProblem } from '../registry/national-id.ts';
import { MAX_RECORD_CHARS, parseQuotedRecord, RegistryFileError } from '../registry/registry-file.ts';

/** The columns of a register file, in the order the generator writes them (an import takes any order). */
export const BUSINESS_FILE_COLUMNS = ['enterprise_code', 'name', 'name_en', 'status', 'founded_on', 'head_office', 'representatives'] as const;
export type BusinessFileColumn = (typeof BUSINESS_FILE_COLUMNS)[number];

/** The register's statuses (migration 018's CHECK on business_organisations.status). */
export const ORGANISATION_STATUSES = ['active', 'suspended', 'dissolving', 'dissolved', 'revoked', 'bankrupt'] as const;
export type OrganisationStatus = (typeof ORGANISATION_STATUSES)[number];

/** 10 digits; a branch or dependent unit adds `-NNN` (001–999) to its enterprise's code. */
export const ENTERPRISE_CODE = /^[0-9]{10}(?:-(?!000)[0-9]{3})?$/;
export const MAX_TEXT = 300;
export const MAX_TITLE = 100;
export const MAX_REPRESENTATIVES = 10;

/**
 * The columns staged and merged, in the order BusinessRowValidator.check() returns them: the
 * organisation's columns, then its representatives in their canonical text form (see
 * representativesText()), which the merge compares and unpacks.
 */
export const STAGED_COLUMNS = ['enterprise_code', 'name', 'name_en', 'status', 'founded_on', 'head_office', 'representatives'] as const;
export const STAGED_COLUMN_TYPES: Readonly<Record<(typeof STAGED_COLUMNS)[number], string>> = {
  enterprise_code: 'text COLLATE "C"',
  name: 'text',
  name_en: 'text',
  status: 'text',
  founded_on: 'date',
  head_office: 'text',
  representatives: 'text COLLATE "C"',
};

/** A representative as a file gives it: a CSV field's `ID:title` item, or an NDJSON array entry. */
export interface RawRepresentative {
  readonly national_id: unknown;
  readonly title: unknown;
}

/** A raw row: the first six columns' values (null or '' where none), and the representatives as given. */
export interface RawOrganisationRow {
  readonly values: readonly (string | null)[];
  /** CSV: the `ID:title;ID:title` text; NDJSON: an array of {national_id, title}. */
  readonly representatives: string | readonly unknown[] | null;
}

export interface Representative {
  readonly nationalId: string;
  readonly title: string;
}

/** Staged values in STAGED_COLUMNS order (null for SQL NULL), or every reason the row is refused. */
export type OrganisationVerdict = { readonly values: (string | null)[] } | { readonly problems: string[] };

// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;
const STATUSES: ReadonlySet<string> = new Set(ORGANISATION_STATUSES);

/** A text as the register mirror keeps it (NFC, whitespace collapsed), or what is wrong with it. */
export function checkRegisterText(value: string, max: number): { value: string; problem?: undefined } | { value?: undefined; problem: string } {
  if (CONTROL.test(value)) return { problem: 'contains a control character' };
  const normalised = value.normalize('NFC').replace(/ {2,}/g, ' ').trim();
  if (normalised === '') return { problem: 'required' };
  if (normalised.length > max) return { problem: `longer than ${max} characters` };
  return { value: normalised };
}

/**
 * The representatives as one text, sorted by ID number: `001099012345:Giám đốc;079185000123:Chủ tịch
 * Hội đồng quản trị`. The CSV column's form, and what the import stages and compares with the mirror.
 */
export function representativesText(representatives: readonly Representative[]): string {
  return [...representatives]
    .sort((a, b) => (a.nationalId < b.nationalId ? -1 : a.nationalId > b.nationalId ? 1 : 0))
    .map((representative) => `${representative.nationalId}:${representative.title}`)
    .join(';');
}

/** Checks rows against the register's rules; `today` (YYYY-MM-DD) bounds the founding date. */
export class BusinessRowValidator {
  readonly #today: string;

  constructor(today: string) {
    this.#today = today;
  }

  check(raw: RawOrganisationRow): OrganisationVerdict {
    const problems: string[] = [];
    const value = (index: number): string | null => present(raw.values[index]);
    const codeValue = value(0);
    const nameValue = value(1);
    const nameEnValue = value(2);
    const statusValue = value(3);
    const foundedValue = value(4);
    const headOfficeValue = value(5);

    const code = codeValue ?? '';
    if (code === '') problems.push('enterprise_code: required');
    else if (!ENTERPRISE_CODE.test(code)) problems.push(`enterprise_code: 10 digits, a branch adding -001 to -999 (${JSON.stringify(code)})`);

    const name = this.#text('name', nameValue, MAX_TEXT, problems);
    const nameEn = nameEnValue === null ? null : this.#text('name_en', nameEnValue, MAX_TEXT, problems);

    const status = statusValue ?? '';
    if (status === '') problems.push('status: required');
    else if (!STATUSES.has(status)) problems.push(`status: one of ${ORGANISATION_STATUSES.join(', ')} (${JSON.stringify(status)})`);

    const founded = foundedValue ?? '';
    if (founded === '') problems.push('founded_on: required');
    else if (!isCalendarDate(founded)) problems.push(`founded_on: not a date YYYY-MM-DD from 1900 on (${JSON.stringify(founded)})`);
    else if (founded > this.#today) problems.push(`founded_on: ${founded} is in the future`);

    const headOffice = this.#text('head_office', headOfficeValue, MAX_TEXT, problems);
    const representatives = checkRepresentatives(raw.representatives, problems);

    if (problems.length > 0) return { problems };
    return { values: [code, name, nameEn, status, founded, headOffice, representativesText(representatives)] };
  }

  #text(column: string, value: string | null, max: number, problems: string[]): string {
    if (value === null) {
      problems.push(`${column}: required`);
      return '';
    }
    const checked = checkRegisterText(value, max);
    if (checked.problem !== undefined) problems.push(`${column}: ${checked.problem}`);
    return checked.value ?? '';
  }
}

/** The representatives of a row, each checked; their problems go to `problems`. */
function checkRepresentatives(raw: RawOrganisationRow['representatives'], problems: string[]): Representative[] {
  let entries: RawRepresentative[];
  if (raw === null || raw === '') {
    problems.push('representatives: at least one legal representative is required');
    return [];
  }
  if (typeof raw === 'string') {
    entries = raw.split(';').map((item) => {
      const colon = item.indexOf(':');
      return colon < 0 ? { national_id: item.trim(), title: '' } : { national_id: item.slice(0, colon).trim(), title: item.slice(colon + 1) };
    });
  } else {
    entries = [];
    for (const [index, entry] of raw.entries()) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        problems.push(`representatives[${index}]: not an object {"national_id", "title"}`);
        return [];
      }
      const unknown = Object.keys(entry).filter((key) => key !== 'national_id' && key !== 'title');
      if (unknown.length > 0) {
        problems.push(`representatives[${index}]: unexpected field ${unknown.map((key) => JSON.stringify(key)).join(', ')}`);
        return [];
      }
      entries.push(entry as RawRepresentative);
    }
    if (entries.length === 0) {
      problems.push('representatives: at least one legal representative is required');
      return [];
    }
  }
  if (entries.length > MAX_REPRESENTATIVES) {
    problems.push(`representatives: at most ${MAX_REPRESENTATIVES}, has ${entries.length}`);
    return [];
  }
  const representatives: Representative[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    const where = `representatives[${index}]`;
    const nationalId = entry.national_id;
    if (typeof nationalId !== 'string' || nationalId === '') {
      problems.push(`${where}: national_id required`);
      continue;
    }
    const idProblem = nationalIdFormatProblem(nationalId);
    if (idProblem) problems.push(`${where}: national_id ${idProblem.message} (${JSON.stringify(nationalId)})`);
    else if (seen.has(nationalId)) problems.push(`${where}: ${nationalId} is listed twice`);
    seen.add(nationalId);
    if (typeof entry.title !== 'string') {
      problems.push(`${where}: title required`);
      continue;
    }
    const title = checkRegisterText(entry.title, MAX_TITLE);
    if (title.problem !== undefined) problems.push(`${where}: title ${title.problem}`);
    else if (title.value.includes(';')) problems.push(`${where}: title contains ";" (the CSV form's separator)`);
    else representatives.push({ nationalId, title: title.value });
  }
  return representatives;
}

function present(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : value;
}

/** What the reader hands on: a raw row, or why the line is unreadable. */
export interface OrganisationRowSink {
  row(row: RawOrganisationRow, line: number): void;
  malformed(line: number, reason: string): void;
}

const COLUMN_POSITION: ReadonlyMap<string, number> = new Map(BUSINESS_FILE_COLUMNS.map((column, index) => [column, index]));
const REPRESENTATIVES = COLUMN_POSITION.get('representatives')!;

/**
 * Turns decoded text into raw rows. CSV: the first line is the header (the columns in any order, each
 * exactly once), fields RFC 4180 (quotes, doubled quotes, commas and line breaks inside quotes). NDJSON:
 * one JSON object per line with the column names as keys; a missing key is an empty value. Memory stays
 * bounded whatever a line holds (the population registry's reader, src/registry/registry-file.ts, for
 * this file's columns).
 */
export class BusinessRowReader {
  readonly #format: 'csv' | 'ndjson';
  readonly #sink: OrganisationRowSink;
  #pending = '';
  #line = 0;
  #order: number[] | undefined;
  #headerChecked = false;
  #skippingLine = false;

  constructor(format: 'csv' | 'ndjson', sink: OrganisationRowSink) {
    this.#format = format;
    this.#sink = sink;
  }

  /** Lines read so far. */
  get lines(): number {
    return this.#line;
  }

  push(text: string): void {
    let data = this.#pending === '' ? text : this.#pending + text;
    this.#pending = '';
    if (this.#skippingLine) {
      const newline = data.indexOf('\n');
      if (newline < 0) return;
      this.#skippingLine = false;
      data = data.slice(newline + 1);
    }
    let position = this.#consume(data, 0, false);
    while (data.length - position > MAX_RECORD_CHARS) {
      // No row is this long: an unterminated quote, or no line breaks. Report it, skip its first line.
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
      throw new RegistryFileError('bad-header', 'the file is empty: a CSV register file starts with its header line');
    }
  }

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
      if (firstLine === 1 && fields[0]?.charCodeAt(0) === 0xfeff) fields[0] = fields[0].slice(1);
      this.#order = headerOrder(fields);
      return next;
    }
    if (fields.length !== this.#order.length) {
      this.#sink.malformed(firstLine, `has ${fields.length} fields, the header has ${this.#order.length}`);
      return next;
    }
    const values = new Array<string | null>(BUSINESS_FILE_COLUMNS.length);
    for (let i = 0; i < fields.length; i++) values[this.#order[i]!] = fields[i]!;
    this.#sink.row({ values: values.slice(0, REPRESENTATIVES), representatives: values[REPRESENTATIVES] ?? null }, firstLine);
    return next;
  }

  #ndjsonLine(data: string, start: number, newline: number): number {
    this.#line++;
    let text = data.slice(start, newline).trim();
    if (this.#line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
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
    const values = new Array<string | null>(REPRESENTATIVES).fill(null);
    let representatives: RawOrganisationRow['representatives'] = null;
    const unknown: string[] = [];
    const wrongType: string[] = [];
    for (const [key, value] of Object.entries(parsed)) {
      const index = COLUMN_POSITION.get(key);
      if (index === undefined) unknown.push(key);
      else if (index === REPRESENTATIVES) {
        if (Array.isArray(value)) representatives = value as unknown[];
        else if (value !== null) wrongType.push(`${key}: must be an array of {"national_id", "title"}`);
      } else if (typeof value === 'string') values[index] = value;
      else if (value !== null) wrongType.push(`${key}: must be a string or null`);
    }
    if (!this.#headerChecked) {
      // The first object stands for a header: keys that are no register column mean the wrong kind of file.
      this.#headerChecked = true;
      if (unknown.length > 0) {
        throw new RegistryFileError('bad-header', `line ${this.#line}: ${describeKeys(unknown)} (expected: ${BUSINESS_FILE_COLUMNS.join(', ')})`);
      }
    }
    if (unknown.length > 0) this.#sink.malformed(this.#line, describeKeys(unknown));
    else if (wrongType.length > 0) this.#sink.malformed(this.#line, wrongType.join('; '));
    else this.#sink.row({ values, representatives }, this.#line);
    return newline + 1;
  }
}

function describeKeys(keys: string[]): string {
  return `${keys.map((key) => JSON.stringify(key)).join(', ')} ${keys.length === 1 ? 'is not a register column' : 'are not register columns'}`;
}

/** Checks a CSV header; returns, for each of its fields, the column's position in BUSINESS_FILE_COLUMNS. */
function headerOrder(fields: string[]): number[] {
  const names = fields.map((field) => field.trim());
  const unknown = names.filter((name) => !COLUMN_POSITION.has(name));
  const missing = BUSINESS_FILE_COLUMNS.filter((column) => !names.includes(column));
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  const problems = [
    missing.length > 0 && `missing ${missing.join(', ')}`,
    unknown.length > 0 && `unknown ${unknown.map((name) => JSON.stringify(name)).join(', ')}`,
    repeated.length > 0 && `repeated ${repeated.join(', ')}`,
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new RegistryFileError('bad-header', `wrong header: ${problems.join('; ')} (line 1 must name the register's columns, see docs/business-register.md)`);
  }
  return names.map((name) => COLUMN_POSITION.get(name)!);
}
