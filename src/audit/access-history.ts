// The citizen's data-access history (docs/domain.md "Personal data protection"): each release of claims to a
// service, and each consent given or withdrawn, read from the audit trail — only events younger than
// the retention. Older events stay in the trail (it is append-only and hash-chained); they are no
// longer shown.
import type { Database } from '../storage/database.ts';

/** Five years (docs/domain.md: the usage history of an eID is kept five years), leap days included. */
export const DEFAULT_HISTORY_RETENTION_DAYS = 1826;

// chip.verified: a bank checked the chip of the citizen's card (src/chip/chip-results.ts); its item is the result.
const HISTORY_EVENTS = ['claims.released', 'consent.given', 'consent.withdrawn', 'chip.verified'] as const;

export interface HistoryEntry {
  readonly at: Date;
  readonly kind: (typeof HISTORY_EVENTS)[number];
  readonly clientId: string | undefined;
  /** Claim names (releases), scopes (consents), or the result (`verified`, `refused`) of a chip verification. */
  readonly items: readonly string[];
  /** Whom the citizen acted for, when they acted for an organisation or a child (src/oidc/consent/representation.ts). */
  readonly actingFor?: { readonly kind: string; readonly name: string };
}

export interface HistoryPage {
  readonly entries: readonly HistoryEntry[];
  readonly hasMore: boolean;
}

interface HistoryRow {
  id: string;
  account_id: string;
  occurred_at: Date;
  type: HistoryEntry['kind'];
  client_id: string | null;
  data: Record<string, unknown>;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

/** The `actingFor` an event's data names ({ kind, name }), as an entry's optional field. */
function actingForOf(value: unknown): { actingFor?: { kind: string; name: string } } {
  const acting = value as { kind?: unknown; name?: unknown } | undefined;
  return typeof acting?.kind === 'string' && typeof acting.name === 'string' ? { actingFor: { kind: acting.kind, name: acting.name } } : {};
}

export class AccessHistory {
  readonly #db: Database;
  readonly #retentionDays: number;

  constructor(db: Database, options: { retentionDays: number }) {
    if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1) throw new RangeError('retentionDays: a whole number of days, at least 1');
    this.#db = db;
    this.#retentionDays = options.retentionDays;
  }

  /** One page of the history, newest first, over the retention. */
  async page(accountId: string, options: { page: number; pageSize: number }): Promise<HistoryPage> {
    const page = Math.max(0, Math.floor(options.page));
    const rows = await this.#db<HistoryRow>('audit_events')
      .select('occurred_at', 'type', 'client_id', 'data')
      .where({ account_id: accountId })
      .whereIn('type', [...HISTORY_EVENTS])
      // Served by the index on (account_id, occurred_at).
      .where('occurred_at', '>=', this.#db.raw('now() - make_interval(days => ?)', [this.#retentionDays]))
      .orderBy([
        { column: 'occurred_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.pageSize + 1)
      .offset(page * options.pageSize);
    return {
      entries: rows.slice(0, options.pageSize).map((row) => ({
        at: row.occurred_at,
        kind: row.type,
        clientId: row.client_id ?? undefined,
        items: row.type === 'claims.released' ? strings(row.data.claims) : row.type === 'chip.verified' ? strings([row.data.result]) : strings(row.data.scopes),
        ...actingForOf(row.data.actingFor),
      })),
      hasMore: rows.length > options.pageSize,
    };
  }
}
