// registry_records rows in PostgreSQL's binary COPY format: what an import streams to COPY. Binary,
// because PostgreSQL then reads a date as a number instead of parsing its text, and no value needs
// escaping — the text format cost the server a seventh of a load's time.
import { RECORD_COLUMNS, RECORD_COLUMN_TYPES } from './record-schema.ts';

/** The COPY option that goes with these bytes. */
export const COPY_FORMAT = 'FORMAT binary';

// The signature, then no flags and no header extension.
const HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
const TRAILER = Buffer.from([0xff, 0xff]);
/** How a column is sent: dates as days since 2000-01-01, jsonb as version 1 + its text, the rest as text. */
export type CopyColumnKind = 'date' | 'jsonb' | 'text';
/** What each record column is sent as. */
const KINDS: readonly CopyColumnKind[] = RECORD_COLUMNS.map((column) => RECORD_COLUMN_TYPES[column] === 'date' ? 'date' : RECORD_COLUMN_TYPES[column] === 'jsonb' ? 'jsonb' : 'text');

/** Days from 2000-01-01 (PostgreSQL's date epoch) to a proleptic Gregorian date. */
export function daysSince2000(year: number, month: number, day: number): number {
  // Howard Hinnant's days_from_civil, shifted from 1970 to 2000.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468 - 10_957;
}

/**
 * COPY bytes collected between two writes to the COPY stream; the first take() starts with the format's
 * header, finish() adds its trailer. `bytes` and `length` are open so that the CSV fast path can write
 * into them without a call per byte; take() hands the bytes over and starts a new buffer (the stream
 * may hold on to the old one until it is sent).
 */
export class CopyRows {
  bytes: Buffer;
  length = 0;
  readonly #kinds: readonly CopyColumnKind[];

  /** `kinds`: the columns' kinds, for another table than registry_records (the business register's). */
  constructor(capacity = 1 << 16, kinds: readonly CopyColumnKind[] = KINDS) {
    this.#kinds = kinds;
    this.bytes = Buffer.allocUnsafe(Math.max(capacity, HEADER.length));
    this.length = HEADER.copy(this.bytes, 0);
  }

  /** Room for `more` bytes after `length`. */
  reserve(more: number): void {
    if (this.length + more <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + more));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  /**
   * One row: the record's columns (RECORD_COLUMNS order, or the order of the constructor's `kinds`, null for SQL NULL, dates YYYY-MM-DD), after
   * the file's line number for a staging table.
   */
  write(line: number | undefined, values: readonly (string | null)[]): void {
    let size = 6 + 8;
    for (const value of values) size += 5 + (value === null ? 0 : value.length * 3);
    this.reserve(size);
    const o = this.bytes;
    let at = o.writeInt16BE(line === undefined ? values.length : values.length + 1, this.length);
    if (line !== undefined) {
      at = o.writeInt32BE(8, at);
      at = o.writeBigInt64BE(BigInt(line), at);
    }
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === null || value === undefined) {
        at = o.writeInt32BE(-1, at);
      } else if (this.#kinds[i] === 'date') {
        at = o.writeInt32BE(4, at);
        at = o.writeInt32BE(daysSince2000(Number(value.slice(0, 4)), Number(value.slice(5, 7)), Number(value.slice(8, 10))), at);
      } else {
        const jsonb = this.#kinds[i] === 'jsonb';
        const start = at + 4;
        let end = start;
        if (jsonb) o[end++] = 1;
        end += o.write(value, end);
        o.writeInt32BE(end - start, at);
        at = end;
      }
    }
    this.length = at;
  }

  /** The end of the rows. */
  finish(): void {
    this.reserve(TRAILER.length);
    this.length += TRAILER.copy(this.bytes, this.length);
  }

  /** What was written since the last take(), or undefined when nothing was. */
  take(): Buffer | undefined {
    if (this.length === 0) return undefined;
    const taken = this.bytes.subarray(0, this.length);
    this.bytes = Buffer.allocUnsafe(this.bytes.length);
    this.length = 0;
    return taken;
  }
}
