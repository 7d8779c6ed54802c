// Applies the business register's change feed to the mirror: a legal representative replaced, an
// organisation suspended, reactivated or dissolved. Each event is applied exactly once — its id is
// recorded with the change, in one transaction — so a feed applied twice changes nothing the second
// time (the population registry's feed, src/registry/change-feed.ts, for organisations). Who may act
// for an organisation is computed from the mirror at every request (src/representation/), so a
// replaced representative or a dissolved organisation stops the very next token.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Knex } from 'knex';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/database.ts';
import { todayInVietnam } from '../registry/record-schema.ts';
import { parseBusinessChangeLine, type BusinessChangeEvent } from './business-change-schema.ts';
import type { OrganisationStatus } from './business-file.ts';

export type { BusinessChangeEvent } from './business-change-schema.ts';

export interface BusinessChangeDependencies {
  readonly db: Database;
  readonly audit: AuditLog;
  /** Who applies the feed, for the audit trail (`cli:<user>`…); `system` when unset. */
  readonly actor?: string;
}

export interface BusinessChangeOptions {
  /** Called for each refused line as it is found (the summary keeps the first MAX_PROBLEMS_KEPT). */
  readonly onProblem?: (problem: BusinessChangeProblem) => void;
  /** Today's date in Việt Nam, YYYY-MM-DD: events dated later are refused. Tests pin it. */
  readonly today?: string;
}

export interface BusinessChangeProblem {
  /** 1-based line of the feed. */
  readonly line: number;
  readonly eventId?: string;
  readonly reason: string;
}

export interface BusinessChangeSummary {
  /** Lines holding something (blank lines are skipped). */
  readonly read: number;
  readonly applied: number;
  /** Events applied before (same id, same content): nothing done. */
  readonly unchanged: number;
  readonly rejected: number;
  readonly problems: readonly BusinessChangeProblem[];
  readonly elapsedMs: number;
}

export type BusinessChangeResult =
  | { readonly outcome: 'applied' }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'rejected'; readonly reason: string };

export const MAX_PROBLEMS_KEPT = 1000;

/** The statuses each status-changing event may start from, and the status it leaves. */
const TRANSITIONS: Readonly<Record<Exclude<BusinessChangeEvent['type'], 'representative_replaced'>, { from: readonly OrganisationStatus[]; to: OrganisationStatus }>> = {
  suspended: { from: ['active'], to: 'suspended' },
  reactivated: { from: ['suspended'], to: 'active' },
  dissolved: { from: ['active', 'suspended', 'dissolving'], to: 'dissolved' },
};
/** An organisation whose existence has ended keeps its last representatives as they were. */
const ENDED: ReadonlySet<OrganisationStatus> = new Set(['dissolved', 'revoked', 'bankrupt']);

class Refused extends Error {}

/** JSON with object keys sorted: the same event hashes the same whatever order its fields came in. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, inner]) => inner !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
}

function contentHash(event: BusinessChangeEvent): string {
  return createHash('sha256').update(canonical(event)).digest('hex');
}

/** The change to the mirror, with the event's id; false when another run recorded the same id first. */
async function recordChange(db: Database, event: BusinessChangeEvent, hash: string): Promise<boolean> {
  return db.transaction(async (trx: Knex.Transaction) => {
    const claimed = await trx('business_change_events')
      .insert({ id: event.id, type: event.type, enterprise_code: event.enterprise_code, occurred_on: event.occurred_on, content_hash: hash })
      .onConflict('id')
      .ignore()
      .returning('id');
    if (claimed.length === 0) return false;

    const { rows: [organisation] } = await trx.raw<{ rows: { status: OrganisationStatus; founded_on: string }[] }>(
      "SELECT status, to_char(founded_on, 'YYYY-MM-DD') AS founded_on FROM business_organisations WHERE enterprise_code = ? FOR UPDATE",
      [event.enterprise_code],
    );
    if (!organisation) throw new Refused('enterprise_code: not in the business register mirror');
    if (event.occurred_on < organisation.founded_on) throw new Refused(`occurred_on: before the organisation was founded (${organisation.founded_on})`);

    if (event.type === 'representative_replaced') {
      if (ENDED.has(organisation.status)) throw new Refused(`status: the organisation is ${organisation.status}`);
      const removed = await trx('business_representatives').where({ enterprise_code: event.enterprise_code, national_id: event.previous_national_id }).del();
      if (removed === 0) throw new Refused(`previous_national_id: not a legal representative of ${event.enterprise_code}`);
      const added = await trx('business_representatives')
        .insert({ enterprise_code: event.enterprise_code, national_id: event.national_id, title: event.title })
        .onConflict(['enterprise_code', 'national_id'])
        .ignore()
        .returning('national_id');
      if (added.length === 0) throw new Refused(`national_id: already a legal representative of ${event.enterprise_code}`);
      await trx('business_organisations').where({ enterprise_code: event.enterprise_code }).update({ updated_at: trx.fn.now() });
    } else {
      const transition = TRANSITIONS[event.type];
      if (!transition.from.includes(organisation.status)) {
        throw new Refused(`status: the organisation is ${organisation.status}; ${event.type} applies to ${transition.from.join(' or ')} organisations`);
      }
      await trx('business_organisations').where({ enterprise_code: event.enterprise_code }).update({ status: transition.to, updated_at: trx.fn.now() });
    }
    return true;
  });
}

/** The audit event, outside the change's transaction; redone on the next run if a crash came between. */
async function completeChange(event: BusinessChangeEvent, deps: BusinessChangeDependencies): Promise<void> {
  // The enterprise code and the kind of change; ID numbers stay in the mirror.
  await deps.audit.record({
    type: 'registry.changed',
    actor: deps.actor ?? 'system',
    data: { register: 'business', eventId: event.id, change: event.type, enterpriseCode: event.enterprise_code },
  });
  await deps.db('business_change_events').where({ id: event.id }).update({ completed_at: deps.db.fn.now() });
}

/** Applies one validated event. Refused when it does not fit the mirror's state; unchanged when applied before. */
export async function applyBusinessChange(event: BusinessChangeEvent, deps: BusinessChangeDependencies): Promise<BusinessChangeResult> {
  const hash = contentHash(event);
  for (;;) {
    const { rows: [earlier] } = await deps.db.raw<{ rows: { content_hash: string; completed_at: Date | null }[] }>(
      'SELECT content_hash, completed_at FROM business_change_events WHERE id = ?',
      [event.id],
    );
    if (earlier) {
      if (earlier.content_hash !== hash) return { outcome: 'rejected', reason: `id: event ${event.id} was applied before with other content` };
      if (earlier.completed_at !== null) return { outcome: 'unchanged' };
      await completeChange(event, deps);
      return { outcome: 'applied' };
    }
    let recorded: boolean;
    try {
      recorded = await recordChange(deps.db, event, hash);
    } catch (error) {
      if (error instanceof Refused) return { outcome: 'rejected', reason: error.message };
      throw error;
    }
    // Another run recorded this id between our look and our insert: judge it as an earlier event.
    if (recorded) {
      await completeChange(event, deps);
      return { outcome: 'applied' };
    }
  }
}

/** The lines of a UTF-8 file, streamed; a line with bytes that are not UTF-8 carries U+FFFD. */
async function* linesOf(file: string): AsyncIterable<string> {
  const handle = await open(file, 'r');
  try {
    yield* createInterface({ input: handle.createReadStream({ encoding: 'utf8', autoClose: false }), crlfDelay: Infinity });
  } finally {
    await handle.close();
  }
}

/**
 * Applies a feed: a file path, or its lines. A bad line is reported with its number and the rest still
 * apply; an event the mirror's state refuses (an unknown organisation, a representative who is not
 * one) likewise, and is not recorded — it applies once the state allows. A database failure stops the
 * run: what was applied stays applied, and running the feed again carries on where it stopped.
 */
export async function applyBusinessChangeFeed(
  input: AsyncIterable<string> | string,
  deps: BusinessChangeDependencies,
  options: BusinessChangeOptions = {},
): Promise<BusinessChangeSummary> {
  const started = performance.now();
  const today = options.today ?? todayInVietnam();
  const problems: BusinessChangeProblem[] = [];
  const totals = { read: 0, applied: 0, unchanged: 0, rejected: 0 };
  const refuse = (problem: BusinessChangeProblem) => {
    totals.rejected += 1;
    if (problems.length < MAX_PROBLEMS_KEPT) problems.push(problem);
    options.onProblem?.(problem);
  };

  let lineNumber = 0;
  for await (const raw of typeof input === 'string' ? linesOf(input) : input) {
    lineNumber += 1;
    const line = (lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
    if (line === '') continue;
    totals.read += 1;
    if (line.includes('\uFFFD')) {
      refuse({ line: lineNumber, reason: 'not valid UTF-8' });
      continue;
    }
    const parsed = parseBusinessChangeLine(line, today);
    if ('problem' in parsed) {
      refuse({ line: lineNumber, reason: parsed.problem });
      continue;
    }
    const result = await applyBusinessChange(parsed.event, deps);
    if (result.outcome === 'rejected') refuse({ line: lineNumber, eventId: parsed.event.id, reason: result.reason });
    else totals[result.outcome] += 1;
  }
  return { ...totals, problems, elapsedMs: Math.round(performance.now() - started) };
}

/** One line for a terminal or a log: what the run did. */
export function describeBusinessChangeSummary(summary: BusinessChangeSummary): string {
  return `read ${summary.read}, applied ${summary.applied}, unchanged ${summary.unchanged}, rejected ${summary.rejected}; ${(summary.elapsedMs / 1000).toFixed(1)} s`;
}

/** One line per refused event: `line 12 (event br-77): enterprise_code: not in the business register mirror`. */
export function describeBusinessChangeProblem(problem: BusinessChangeProblem): string {
  return `line ${problem.line}${problem.eventId ? ` (event ${problem.eventId})` : ''}: ${problem.reason}`;
}
