// Consent records: proof of what each citizen agreed to share with which service — the words shown,
// in the language shown, and when — plus withdrawal, which ends the service's grant and every token
// issued under it (docs/domain.md "Personal data protection"). The data-access history is read from the
// audit trail by src/audit/access-history.ts.
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Database } from '../../storage/database.ts';
import type { DurableModelStore } from '../models/durable-model-store.ts';
import type { EphemeralModelStore } from '../models/ephemeral-model-store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ShownConsent {
  /** The consent page's words, line by line, exactly as shown. */
  readonly text: string;
  readonly locale: 'vi' | 'en';
  /**
   * Requested items the page left off (a phone or e-mail the citizen has not given): not granted, so
   * that a contact added later is not released without a consent that showed it.
   */
  readonly withheld?: { readonly scopes: readonly string[]; readonly claims: readonly string[] };
}

export interface ConsentRecord {
  readonly id: string;
  readonly accountId: string;
  readonly clientId: string;
  readonly grantId: string;
  readonly scopes: readonly string[];
  readonly claims: readonly string[];
  readonly shownText: string;
  readonly locale: 'vi' | 'en';
  readonly givenAt: Date;
  readonly withdrawnAt: Date | undefined;
}

/** A service holding consent: everything its live records cover. */
export interface ServiceWithAccess {
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly claims: readonly string[];
  /** The first consent still in force. */
  readonly since: Date;
  /** The newest record still in force: the one the citizen prints or withdraws from the list. */
  readonly latestRecordId: string;
}

interface ConsentRow {
  id: string;
  account_id: string;
  client_id: string;
  grant_id: string;
  scopes: string[];
  claims: string[];
  shown_text: string;
  locale: 'vi' | 'en';
  given_at: Date;
  withdrawn_at: Date | null;
}

const fromRow = (row: ConsentRow): ConsentRecord => ({
  id: row.id,
  accountId: row.account_id,
  clientId: row.client_id,
  grantId: row.grant_id,
  scopes: row.scopes,
  claims: row.claims,
  shownText: row.shown_text,
  locale: row.locale,
  givenAt: row.given_at,
  withdrawnAt: row.withdrawn_at ?? undefined,
});

export class ConsentRecords {
  readonly #db: Database;
  readonly #ephemeral: EphemeralModelStore;
  readonly #durable: DurableModelStore;
  readonly #audit: AuditLog;

  constructor(deps: { db: Database; ephemeral: EphemeralModelStore; durable: DurableModelStore; audit: AuditLog }) {
    this.#db = deps.db;
    this.#ephemeral = deps.ephemeral;
    this.#durable = deps.durable;
    this.#audit = deps.audit;
  }

  async record(input: {
    accountId: string;
    clientId: string;
    grantId: string;
    scopes: readonly string[];
    claims: readonly string[];
    shown: ShownConsent;
  }): Promise<ConsentRecord> {
    const [row] = await this.#db<ConsentRow>('consent_records')
      .insert({
        id: randomUUID(),
        account_id: input.accountId,
        client_id: input.clientId,
        grant_id: input.grantId,
        scopes: [...input.scopes],
        claims: [...input.claims],
        shown_text: input.shown.text,
        locale: input.shown.locale,
      })
      .returning('*');
    return fromRow(row!);
  }

  /** One of the citizen's own records; another citizen's, or an id that is not one, is undefined. */
  async find(accountId: string, id: string): Promise<ConsentRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const row = await this.#db<ConsentRow>('consent_records').where({ id, account_id: accountId }).first();
    return row && fromRow(row);
  }

  /** Every service that holds consent now, the one consented to most recently first. */
  async servicesWithAccess(accountId: string): Promise<ServiceWithAccess[]> {
    const rows = await this.#db<ConsentRow>('consent_records')
      .where({ account_id: accountId })
      .whereNull('withdrawn_at')
      .orderBy([
        { column: 'given_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ]);
    const byClient = new Map<string, { scopes: Set<string>; claims: Set<string>; since: Date; latestRecordId: string }>();
    for (const row of rows) {
      const entry = byClient.get(row.client_id) ?? { scopes: new Set(), claims: new Set(), since: row.given_at, latestRecordId: row.id };
      row.scopes.forEach((scope) => entry.scopes.add(scope));
      row.claims.forEach((claim) => entry.claims.add(claim));
      if (row.given_at < entry.since) entry.since = row.given_at;
      byClient.set(row.client_id, entry);
    }
    return [...byClient].map(([clientId, entry]) => ({
      clientId,
      scopes: [...entry.scopes],
      claims: [...entry.claims],
      since: entry.since,
      latestRecordId: entry.latestRecordId,
    }));
  }

  /**
   * Withdraws the consent a record belongs to: every live record of that service for this citizen is
   * marked withdrawn, and their grants go with every token issued under them (refresh tokens in
   * PostgreSQL, access tokens and codes in Redis), so the service loses access at once. Returns the
   * record, or undefined when it is not the citizen's.
   */
  async withdraw(accountId: string, id: string, context: { ip?: string } = {}): Promise<ConsentRecord | undefined> {
    const record = await this.find(accountId, id);
    if (!record) return undefined;
    const withdrawn = await this.#db<ConsentRow>('consent_records')
      .where({ account_id: accountId, client_id: record.clientId })
      .whereNull('withdrawn_at')
      .update({ withdrawn_at: this.#db.fn.now() as unknown as Date })
      .returning(['id', 'grant_id', 'scopes', 'claims']);
    if (withdrawn.length === 0) return record; // already withdrawn (a second click, another tab)
    const grantIds = [...new Set(withdrawn.map((row) => row.grant_id))];
    for (const grantId of grantIds) {
      await Promise.all([this.#ephemeral.revokeByGrantId(grantId), this.#durable.revokeByGrantId(grantId), this.#durable.destroy('Grant', grantId)]);
    }
    await this.#audit.record({
      type: 'consent.withdrawn',
      actor: accountId,
      accountId,
      clientId: record.clientId,
      data: {
        via: 'account page',
        ...(context.ip && { ip: context.ip }),
        consentRecords: withdrawn.map((row) => row.id),
        grantIds,
        scopes: [...new Set(withdrawn.flatMap((row) => row.scopes))],
        claims: [...new Set(withdrawn.flatMap((row) => row.claims))],
      },
    });
    return (await this.find(accountId, id)) ?? record;
  }
}
