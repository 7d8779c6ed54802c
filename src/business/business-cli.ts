// `npm run cli -- business …` (docs/business-register.md): import a register file, generate a synthetic
// one from a synthetic population registry, apply the register's change feed. src/cli.ts routes here;
// the modules that do the work are loaded only when a command runs.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/database.ts';

export const BUSINESS_CLI_USAGE = `  business import FILE [--format csv|ndjson] [--strict] [--errors REPORT]
                                   load a business register file (docs/business-register.md) into the
                                   mirror in one transaction; refused rows are listed (all of them in
                                   REPORT, as CSV), the rest load; --strict loads nothing if any is refused
  business generate --registry FILE --count N --out FILE [--seed S] [--format csv|ndjson]
                    [--registry-format csv|ndjson] [--as-of YYYY-MM-DD]
                                   write a synthetic business register whose legal representatives are
                                   living adults of the registry FILE (the same file for the same seed);
                                   --out - writes to standard output
  business apply-changes FILE      apply the business register's change feed (NDJSON): representative
                                   replaced, suspended, reactivated, dissolved (also: business changes)`;

/** Input refused before anything is written: src/cli.ts exits 2. */
export class BusinessCommandRefused extends Error {
  override readonly name = 'BusinessCommandRefused';
}

export interface BusinessCommandDependencies {
  /** Opens the configured database for the command and closes it after. */
  readonly withStorage: <T>(work: (storage: { readonly db: Database }) => Promise<T>) => Promise<T>;
  /** Who runs the command, for the audit trail. */
  readonly actor: string;
}

function parse<T extends ParseArgsOptionsConfig>(args: string[], options: T, positionals: number) {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals > 0 });
    if (parsed.positionals.length !== positionals) {
      throw new BusinessCommandRefused(parsed.positionals.length < positionals ? 'FILE is required' : `one FILE only, got ${parsed.positionals.length}`);
    }
    return parsed;
  } catch (error) {
    throw error instanceof BusinessCommandRefused ? error : new BusinessCommandRefused((error as Error).message);
  }
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value.trim() === '') throw new BusinessCommandRefused(`${option} is required`);
  return value;
}

/** A file that can be read, or the refusal naming why not. */
async function readableFile(file: string): Promise<number> {
  const { stat } = await import('node:fs/promises');
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new BusinessCommandRefused(`${file} is not a file`);
    return info.size;
  } catch (error) {
    if (error instanceof BusinessCommandRefused) throw error;
    throw new BusinessCommandRefused(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** `business generate`: needs neither configuration nor database. */
export async function generateBusinessFile(args: string[]): Promise<void> {
  const { values: options } = parse(
    args,
    {
      registry: { type: 'string' },
      'registry-format': { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      'as-of': { type: 'string' },
    },
    0,
  );
  const { createReadStream, createWriteStream } = await import('node:fs');
  const { finished } = await import('node:stream/promises');
  const { registryFileFormat } = await import('../registry/registry-file.ts');
  const { isCalendarDate } = await import('../registry/record-schema.ts');
  const { progressReport, formatCount, formatDuration } = await import('../registry/progress-report.ts');
  const { DEFAULT_AS_OF, generateBusinessRegister, readCitizenPool } = await import('./synthetic-business.ts');

  const registry = required(options.registry, '--registry');
  const registryFormat = registryFileFormat(registry, options['registry-format']);
  const countText = required(options.count, '--count').replaceAll('_', '');
  const count = Number(countText);
  if (!/^[0-9]+$/.test(countText) || count < 1 || count > 50_000_000) throw new BusinessCommandRefused(`--count: a whole number from 1 to 50000000, got ${options.count}`);
  const out = required(options.out, '--out');
  const format = out === '-' ? registryFileFormat('-', options.format ?? 'csv') : registryFileFormat(out, options.format);
  const seed = options.seed ?? '1';
  const asOf = options['as-of'] ?? DEFAULT_AS_OF;
  if (!isCalendarDate(asOf)) throw new BusinessCommandRefused(`--as-of: a date YYYY-MM-DD, got ${asOf}`);
  await readableFile(registry);

  const started = Date.now();
  const citizens = await readCitizenPool(createReadStream(registry, { highWaterMark: 1 << 20 }), registryFormat, asOf);
  if (citizens.size === 0) throw new BusinessCommandRefused(`${registry} holds no living adult to appoint as a legal representative`);
  const output = out === '-' ? process.stdout : createWriteStream(out, { highWaterMark: 1 << 20 });
  if (output === process.stdout) process.stdout.on('error', () => undefined);
  else {
    await new Promise<void>((resolve, reject) => output.once('ready', () => resolve()).once('error', reject)).catch((error: Error) => {
      throw new BusinessCommandRefused(`cannot write ${out}: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
    });
  }
  const progress = progressReport(process.stderr, 'business generate');
  let summary: Awaited<ReturnType<typeof generateBusinessRegister>>;
  try {
    summary = await generateBusinessRegister({ count, seed, format, asOf, onProgress: (rows) => progress.update(rows, 0) }, citizens, output);
  } catch (error) {
    progress.finish();
    if (out === '-' && (error as NodeJS.ErrnoException).code === 'EPIPE') return;
    throw error;
  }
  progress.finish();
  if (output !== process.stdout) {
    output.end();
    await finished(output);
  }
  const line =
    `wrote ${formatCount(summary.rows)} organisations (${formatCount(summary.enterprises)} enterprises, ${formatCount(summary.branches)} branches; ` +
    `representatives from ${formatCount(citizens.size)} adults of ${registry}; ${format}, seed ${JSON.stringify(seed)}, as of ${asOf}) in ${formatDuration(Date.now() - started)}`;
  if (out === '-') console.error(line);
  else console.log(`${line} to ${out}`);
}

/** `business import FILE`. */
export async function importBusinessFile(args: string[], deps: BusinessCommandDependencies): Promise<number> {
  const { values: options, positionals: [file] } = parse(args, { format: { type: 'string' }, strict: { type: 'boolean' }, errors: { type: 'string' } }, 1);
  const { createReadStream, createWriteStream } = await import('node:fs');
  const { finished } = await import('node:stream/promises');
  const paths = await import('node:path');
  const { registryFileFormat, RegistryFileError } = await import('../registry/registry-file.ts');
  const { progressReport, formatCount, formatDuration } = await import('../registry/progress-report.ts');
  const { importBusinessRegister } = await import('./business-import.ts');
  const { AuditLog } = await import('../audit/audit-log.ts');

  const format = registryFileFormat(file!, options.format);
  const size = await readableFile(file!);
  const report = options.errors === undefined ? undefined : createWriteStream(options.errors);
  if (report) {
    report.write('line,enterprise_code,reason\n');
    await new Promise<void>((resolve, reject) => report.once('ready', () => resolve()).once('error', reject)).catch((error: Error) => {
      throw new BusinessCommandRefused(`cannot write ${options.errors}: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
    });
  }
  const SHOWN = 20;
  let shown = 0;
  const progress = progressReport(process.stderr, 'business import', { totalBytes: size });
  const abort = new AbortController();
  const stop = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const summary = await deps.withStorage(async ({ db }) => {
      const result = await importBusinessRegister(db, createReadStream(file!, { highWaterMark: 1 << 20 }), {
        format,
        strict: options.strict === true,
        signal: abort.signal,
        onProgress: ({ phase, rows, bytes }) => {
          if (phase === 'merging') progress.phase(`merging ${formatCount(rows)} organisations into the mirror…`);
          else if (phase === 'indexing') progress.phase('rebuilding the indexes after the bulk load…');
          else progress.update(rows, bytes);
        },
        onRejected: ({ line, enterpriseCode, reason }) => {
          if (report) report.write(`${line},${/^[0-9-]*$/.test(enterpriseCode) ? enterpriseCode : ''},"${reason.replaceAll('"', '""')}"\n`);
          else if (shown++ < SHOWN) {
            progress.finish();
            console.error(`line ${line}${enterpriseCode ? ` (${enterpriseCode})` : ''}: ${reason}`);
          }
        },
      });
      if (result.committed) {
        const audit: AuditLog = new AuditLog(db);
        await audit.record({
          type: 'registry.changed',
          actor: deps.actor,
          data: {
            action: 'business.imported', register: 'business', file: paths.basename(file!), format,
            read: result.read, inserted: result.inserted, updated: result.updated, unchanged: result.unchanged, rejected: result.rejected,
          },
        });
        await audit.flush();
      }
      return result;
    });
    progress.finish();
    if (!report && summary.rejected > SHOWN) console.error(`… and ${formatCount(summary.rejected - SHOWN)} more refused rows (--errors REPORT lists them all)`);
    console.log(
      `read ${summary.read}, inserted ${summary.inserted}, updated ${summary.updated}, unchanged ${summary.unchanged}, rejected ${summary.rejected} ` +
        `in ${formatDuration(summary.elapsedMs)} (${formatCount(summary.read / Math.max(summary.elapsedMs / 1000, 0.001))} organisations/s)`,
    );
    if (!summary.committed) {
      console.error(`citizen-idp business import: nothing imported: ${summary.rejected} row${summary.rejected === 1 ? '' : 's'} refused and --strict given`);
      return 2;
    }
    return 0;
  } catch (error) {
    progress.finish();
    if (error instanceof RegistryFileError && error.code !== 'unknown-format') throw new RegistryFileError(error.code, `${file}: ${error.message}`);
    if (abort.signal.aborted) {
      console.error('citizen-idp business import: interrupted; the mirror is unchanged');
      return 130;
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    if (report) {
      report.end();
      await finished(report).catch(() => undefined);
    }
  }
}

/** `business apply-changes FILE`: exits 1 when any line was refused. */
export async function applyBusinessChangesFile(args: string[], deps: BusinessCommandDependencies): Promise<number> {
  const { positionals: [file] } = parse(args, {}, 1);
  await readableFile(file!);
  const { applyBusinessChangeFeed, describeBusinessChangeSummary, describeBusinessChangeProblem } = await import('./business-change-feed.ts');
  const { AuditLog } = await import('../audit/audit-log.ts');
  return deps.withStorage(async ({ db }) => {
    const audit = new AuditLog(db);
    const summary = await applyBusinessChangeFeed(file!, { db, audit, actor: deps.actor }, { onProblem: (problem) => console.error(describeBusinessChangeProblem(problem)) });
    await audit.flush();
    console.log(describeBusinessChangeSummary(summary));
    return summary.rejected > 0 ? 1 : 0;
  });
}
