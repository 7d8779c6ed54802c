// Applies the population registry's change feed (births, deaths, disappearances, moves, renames, new
// cards, changed parents or guardian) to the local mirror and to the eID accounts: a death or going missing locks the account and
// ends all its access at once. Each event is applied exactly once (its id is recorded with the change,
// in one transaction), so a feed applied twice changes nothing the second time.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Knex } from 'knex';
import { PostgresAccountStore } from '../accounts/account-store-postgres.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/database.ts';
import { LOCKING_CHANGES, parseChangeLine, type RegistryChangeEvent } from './change-feed-schema.ts';
import { todayInVietnam } from './record-schema.ts';
import { foldName, splitFullName } from './names.ts';
import { cardExpiry } from './registry.ts';

export type { RegistryChangeEvent } from './change-feed-schema.ts';

/** Ends every session, grant and refresh token of an account (SessionTerminator.endAllAccess). */
export interface AccountAccessTerminator {
  endAllAccess(accountId: string): Promise<{ readonly sessions: number; readonly grants: number }>;
}

export interface ChangeFeedDependencies {
  readonly db: Database;
  readonly audit: AuditLog;
  readonly access: AccountAccessTerminator;
  /** A gateway that keeps copies of records (the remote one): told about every change applied. */
  readonly registry?: { forget(nationalId: string): void };
  /** Who applies the feed, for the audit trail (`cli:<user>`…); `system` when unset. */
  readonly actor?: string;
}

export interface ChangeFeedOptions {
  /** Called for each refused line as it is found (the summary keeps the first MAX_PROBLEMS_KEPT). */
  readonly onProblem?: (problem: ChangeFeedProblem) => void;
  /** Today's date in Việt Nam, YYYY-MM-DD: events dated later are refused. Tests pin it. */
  readonly today?: string;
}

export interface ChangeFeedProblem {
  /** 1-based line of the feed. */
  readonly line: number;
  readonly eventId?: string;
  readonly reason: string;
}

export interface ChangeFeedSummary {
  /** Lines holding something (blank lines are skipped). */
  readonly read: number;
  /** Events whose change was made by this run. */
  readonly applied: number;
  /** Events applied before (same id, same content): nothing done. */
  readonly unchanged: number;
  readonly rejected: number;
  readonly accountsLocked: number;
  readonly sessionsEnded: number;
  readonly grantsRevoked: number;
  readonly problems: readonly ChangeFeedProblem[];
  readonly elapsedMs: number;
}

export type ChangeResult =
  | { readonly outcome: 'applied'; readonly accountLocked: boolean; readonly sessionsEnded: number; readonly grantsRevoked: number }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'rejected'; readonly reason: string };

export const MAX_PROBLEMS_KEPT = 1000;

interface EventRow {
  id: string;
  content_hash: string;
  completed_at: Date | null;
  account_id: string | null;
  account_locked: boolean;
}

/** JSON with object keys sorted: the same event hashes the same whatever order its fields came in. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, inner]) => inner !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
}

/** The event as validated (NFC, defaults filled in), hashed to recognise a replay with other content. */
function contentHash(event: RegistryChangeEvent): string {
  return createHash('sha256').update(canonical(event)).digest('hex');
}

class Refused extends Error {}

/** The registry row's change for an event about a person already in the mirror. */
function changedColumns(event: RegistryChangeEvent, birthDate: string): Record<string, unknown> {
  switch (event.type) {
    case 'died':
      return { died_on: event.occurred_on };
    case 'went_missing':
      return { missing_since: event.occurred_on };
    case 'moved':
      return { permanent_address: JSON.stringify(event.permanent_address) };
    case 'renamed': {
      const name = splitFullName(event.full_name);
      return {
        family_name: name.familyName,
        middle_name: name.middleName,
        given_name: name.givenName,
        full_name: name.fullName,
        full_name_folded: foldName(name.fullName),
      };
    }
    case 'card_reissued':
      return { id_card_issue_date: event.occurred_on, id_card_expiry_date: cardExpiry(birthDate, event.occurred_on) };
    case 'relations_changed':
      // Only the relations the event names; null clears one.
      return {
        ...(event.father_national_id !== undefined && { father_national_id: event.father_national_id }),
        ...(event.mother_national_id !== undefined && { mother_national_id: event.mother_national_id }),
        ...(event.guardian_national_id !== undefined && { guardian_national_id: event.guardian_national_id }),
      };
    case 'born':
      throw new Refused('already in the registry');
  }
}

async function insertNewborn(trx: Knex.Transaction, event: Extract<RegistryChangeEvent, { type: 'born' }>): Promise<void> {
  const name = splitFullName(event.full_name);
  const inserted = await trx('registry_records')
    .insert({
      national_id: event.national_id,
      family_name: name.familyName,
      middle_name: name.middleName,
      given_name: name.givenName,
      full_name: name.fullName,
      full_name_folded: foldName(name.fullName),
      birth_date: event.occurred_on,
      gender: event.gender,
      birth_registration_province: event.national_id.slice(0, 3),
      place_of_origin: event.place_of_origin,
      ethnicity: event.ethnicity,
      nationality: event.nationality,
      permanent_address: JSON.stringify(event.permanent_address),
      household_id: event.household_id ?? null,
      relation_to_head: event.relation_to_head ?? null,
      father_national_id: event.father_national_id ?? null,
      mother_national_id: event.mother_national_id ?? null,
      guardian_national_id: event.guardian_national_id ?? null,
    })
    .onConflict('national_id')
    .ignore()
    .returning('national_id');
  if (inserted.length === 0) throw new Refused('already in the registry');
}

/**
 * The change to the mirror and the account, with the event's id, in one transaction; returns the
 * event's row as stored, or undefined when another run recorded the same id first.
 */
async function recordChange(db: Database, event: RegistryChangeEvent, hash: string): Promise<EventRow | undefined> {
  return db.transaction(async (trx) => {
    const claimed = await trx('registry_change_events')
      .insert({ id: event.id, type: event.type, national_id: event.national_id, occurred_on: event.occurred_on, content_hash: hash })
      .onConflict('id')
      .ignore()
      .returning('id');
    if (claimed.length === 0) return undefined;

    if (event.type === 'born') {
      await insertNewborn(trx, event);
    } else {
      const record = await trx<{ national_id: string; birth_date: string }>('registry_records')
        .where({ national_id: event.national_id })
        .forUpdate()
        .first('birth_date');
      if (!record) throw new Refused('national_id: not in the registry mirror');
      if (event.occurred_on < record.birth_date) throw new Refused('occurred_on: before the person was born');
      await trx('registry_records')
        .where({ national_id: event.national_id })
        .update({ ...changedColumns(event, record.birth_date), updated_at: trx.fn.now() });
    }

    // The lock commits with the registry change: a death in the mirror never leaves a usable account.
    const accounts = new PostgresAccountStore(trx);
    const account = LOCKING_CHANGES.has(event.type)
      ? await accounts.lock({ nationalId: event.national_id }, null)
      : await accounts.findByNationalId(event.national_id);
    const accountLocked = account !== undefined && 'lockedNow' in account && account.lockedNow;
    await trx('registry_change_events')
      .where({ id: event.id })
      .update({ account_id: account?.id ?? null, account_locked: accountLocked });
    return { id: event.id, content_hash: hash, completed_at: null, account_id: account?.id ?? null, account_locked: accountLocked };
  });
}

/**
 * What follows a recorded change, outside its transaction: caches forget the record, a locking event
 * ends the account's sessions, grants and refresh tokens, the audit trail gets the events. Run again
 * for an event a crash left incomplete, so it happens at least once.
 */
async function completeChange(event: RegistryChangeEvent, row: EventRow, deps: ChangeFeedDependencies): Promise<ChangeResult> {
  deps.registry?.forget(event.national_id);
  let ended = { sessions: 0, grants: 0 };
  if (row.account_id !== null && LOCKING_CHANGES.has(event.type)) ended = await deps.access.endAllAccess(row.account_id);
  const actor = deps.actor ?? 'system';
  // Only what the trail needs: the event's id and kind; the values stay in the registry.
  await deps.audit.record({
    type: 'registry.changed',
    actor,
    ...(row.account_id !== null && { accountId: row.account_id }),
    data: { eventId: event.id, change: event.type, accountLocked: row.account_locked, sessionsEnded: ended.sessions, grantsRevoked: ended.grants },
  });
  if (row.account_locked && row.account_id !== null) {
    await deps.audit.record({
      type: 'account.locked',
      actor,
      accountId: row.account_id,
      data: { reason: `registry.${event.type}`, eventId: event.id },
    });
  }
  await deps.db('registry_change_events').where({ id: event.id }).update({ completed_at: deps.db.fn.now() });
  return { outcome: 'applied', accountLocked: row.account_locked, sessionsEnded: ended.sessions, grantsRevoked: ended.grants };
}

/**
 * Applies one validated event (the change feed's path, and the one a re-import takes for the changes
 * it finds, with ids of its own). Refused when it does not fit the registry; unchanged when applied before.
 */
export async function applyRegistryChange(event: RegistryChangeEvent, deps: ChangeFeedDependencies): Promise<ChangeResult> {
  const hash = contentHash(event);
  for (;;) {
    const earlier = (await deps.db('registry_change_events').where({ id: event.id }).first()) as EventRow | undefined;
    if (earlier) {
      if (earlier.content_hash !== hash) return { outcome: 'rejected', reason: `id: event ${event.id} was applied before with other content` };
      if (earlier.completed_at !== null) return { outcome: 'unchanged' };
      return completeChange(event, earlier, deps);
    }
    let row: EventRow | undefined;
    try {
      row = await recordChange(deps.db, event, hash);
    } catch (error) {
      if (error instanceof Refused) return { outcome: 'rejected', reason: error.message };
      throw error;
    }
    // Another run recorded this id between our look and our insert: judge it as an earlier event.
    if (row) return completeChange(event, row, deps);
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
 * Applies a feed: a file path, or its lines (one string per line, as readline gives them). A bad line
 * is reported with its number and the rest still apply; an event refused by the registry's state (an
 * unknown person, a death before the birth) likewise. A database failure stops the run: what was
 * applied stays applied, and running the feed again carries on where it stopped.
 */
export async function applyChangeFeed(
  input: AsyncIterable<string> | string,
  deps: ChangeFeedDependencies,
  options: ChangeFeedOptions = {},
): Promise<ChangeFeedSummary> {
  const started = performance.now();
  const today = options.today ?? todayInVietnam();
  const problems: ChangeFeedProblem[] = [];
  const totals = { read: 0, applied: 0, unchanged: 0, rejected: 0, accountsLocked: 0, sessionsEnded: 0, grantsRevoked: 0 };
  const refuse = (problem: ChangeFeedProblem) => {
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
    const parsed = parseChangeLine(line, today);
    if ('problem' in parsed) {
      refuse({ line: lineNumber, reason: parsed.problem });
      continue;
    }
    const result = await applyRegistryChange(parsed.event, deps);
    if (result.outcome === 'rejected') {
      refuse({ line: lineNumber, eventId: parsed.event.id, reason: result.reason });
    } else if (result.outcome === 'unchanged') {
      totals.unchanged += 1;
    } else {
      totals.applied += 1;
      if (result.accountLocked) totals.accountsLocked += 1;
      totals.sessionsEnded += result.sessionsEnded;
      totals.grantsRevoked += result.grantsRevoked;
    }
  }
  return { ...totals, problems, elapsedMs: Math.round(performance.now() - started) };
}

/** One line for a terminal or a log: what the run did. */
export function describeChangeFeedSummary(summary: ChangeFeedSummary): string {
  return (
    `read ${summary.read}, applied ${summary.applied}, unchanged ${summary.unchanged}, rejected ${summary.rejected}; ` +
    `accounts locked ${summary.accountsLocked}, sessions ended ${summary.sessionsEnded}, grants revoked ${summary.grantsRevoked}; ` +
    `${(summary.elapsedMs / 1000).toFixed(1)} s`
  );
}

/** One line per refused event: `line 12 (event e-77): national_id: expected 12 digits`. */
export function describeChangeFeedProblem(problem: ChangeFeedProblem): string {
  return `line ${problem.line}${problem.eventId ? ` (event ${problem.eventId})` : ''}: ${problem.reason}`;
}
