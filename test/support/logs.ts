// A log destination for a test's server or logger that keeps every line it is given, to read back as
// text, lines or parsed records.
import { Writable } from 'node:stream';

export interface CapturedLogs {
  /** What to hand to startTestServer({ logDestination }) or createLogger(level, destination). */
  readonly stream: Writable;
  /** Everything written, as written. */
  text(): string;
  /** Each non-empty line. */
  lines(): string[];
  /** Each line, parsed as JSON. */
  records(): Record<string, unknown>[];
  /** The records logged at level error or fatal. */
  errors(): Record<string, unknown>[];
}

export function captureLogs(): CapturedLogs {
  let text = '';
  const lines = () => text.split('\n').filter((line) => line !== '');
  const records = () => lines().map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    stream: new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        text += chunk.toString();
        done();
      },
    }),
    text: () => text,
    lines,
    records,
    errors: () => records().filter((record) => ['error', 'fatal'].includes(String(record.level))),
  };
}
