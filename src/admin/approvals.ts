// Four eyes: a change one administrator asks for waits (table admin_approvals) until a second
// administrator — never the one who asked — approves it; only then is it applied, in the same
// transaction that records the decision. Each kind of change registers how it is applied.
import type { Knex } from 'knex';
import type { Database } from '../storage/database.ts';
import { AdminProblem, notFound } from './problem.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'superseded';

export interface Approval {
  readonly id: string;
  /** What kind of change: `client.scopes`, … */
  readonly kind: string;
  /** What it changes: a client id, an account id… */
  readonly subject: string;
  readonly change: Readonly<Record<string, unknown>>;
  readonly status: ApprovalStatus;
  readonly requestedBy: string;
  readonly requestedAt: Date;
  readonly decidedBy?: string;
  readonly decidedAt?: Date;
}

interface ApprovalRow {
  id: string;
  kind: string;
  subject: string;
  change: Record<string, unknown>;
  status: ApprovalStatus;
  requested_by: string;
  requested_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
}

const toApproval = (row: ApprovalRow): Approval => ({
  id: row.id,
  kind: row.kind,
  subject: row.subject,
  change: row.change,
  status: row.status,
  requestedBy: row.requested_by,
  requestedAt: row.requested_at,
  ...(row.decided_by !== null && { decidedBy: row.decided_by }),
  ...(row.decided_at !== null && { decidedAt: row.decided_at }),
});

/** Applies an approved change inside the deciding transaction; throws AdminProblem when it no longer fits. */
export type ApplyApproval = (approval: Approval, trx: Knex.Transaction) => Promise<void>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class FourEyesApprovals {
  readonly #db: Database;
  readonly #appliers = new Map<string, ApplyApproval>();
  readonly #afterCommit = new Map<string, (approval: Approval) => Promise<void>>();

  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * How approved changes of `kind` are applied (each kind registers once); `afterCommit` runs once an
   * approval's transaction has committed, before the decision is answered (e.g. telling other
   * instances that a client changed: src/oidc/clients/client-cache.ts).
   */
  register(kind: string, apply: ApplyApproval, afterCommit?: (approval: Approval) => Promise<void>): void {
    if (this.#appliers.has(kind)) throw new Error(`approvals of kind ${kind} are already registered`);
    this.#appliers.set(kind, apply);
    if (afterCommit) this.#afterCommit.set(kind, afterCommit);
  }

  /** Records a change waiting for a second administrator; an older pending one for the same kind and subject is superseded. */
  async request(input: { kind: string; subject: string; change: Record<string, unknown>; requestedBy: string }): Promise<Approval> {
    if (!this.#appliers.has(input.kind)) throw new Error(`no approvals of kind ${input.kind} are registered`);
    return this.#db.transaction(async (trx) => {
      await trx('admin_approvals')
        .where({ kind: input.kind, subject: input.subject, status: 'pending' })
        .update({ status: 'superseded', decided_at: trx.fn.now() });
      const [row] = await trx('admin_approvals')
        .insert({ kind: input.kind, subject: input.subject, change: JSON.stringify(input.change), requested_by: input.requestedBy })
        .returning<ApprovalRow[]>('*');
      return toApproval(row!);
    });
  }

  /** Withdraws whatever of `kind` is pending for `subject` (it changed, or is gone). */
  async supersede(kind: string, subject: string): Promise<void> {
    await this.#db('admin_approvals').where({ kind, subject, status: 'pending' }).update({ status: 'superseded', decided_at: this.#db.fn.now() });
  }

  async find(id: string): Promise<Approval | undefined> {
    if (!UUID.test(id)) return undefined;
    const row = await this.#db<ApprovalRow>('admin_approvals').where({ id }).first();
    return row && toApproval(row);
  }

  /** Pending changes, oldest first, optionally of one kind or subject; `after` is the previous page's last id. */
  async pending(query: { kind?: string; subject?: string; limit: number; after?: string }): Promise<{ approvals: Approval[]; next?: string }> {
    let rows = this.#db<ApprovalRow>('admin_approvals').where({ status: 'pending' }).orderBy([{ column: 'requested_at' }, { column: 'id' }]).limit(query.limit + 1);
    if (query.kind !== undefined) rows = rows.where({ kind: query.kind });
    if (query.subject !== undefined) rows = rows.where({ subject: query.subject });
    if (query.after !== undefined && UUID.test(query.after)) {
      const after = query.after;
      rows = rows.whereRaw('(requested_at, id) > (SELECT requested_at, id FROM admin_approvals WHERE id = ?)', [after]);
    }
    const found = await rows;
    const approvals = found.slice(0, query.limit).map(toApproval);
    return found.length > query.limit ? { approvals, next: approvals.at(-1)!.id } : { approvals };
  }

  /**
   * The second administrator's decision. The requester cannot decide their own request (403
   * four_eyes); a request already decided is a 409. Approving applies the change in the same transaction.
   */
  async decide(id: string, decidedBy: string, decision: 'approved' | 'rejected'): Promise<Approval> {
    if (!UUID.test(id)) throw notFound('approval');
    const decided = await this.#db.transaction(async (trx) => {
      const row = await trx<ApprovalRow>('admin_approvals').where({ id }).forUpdate().first();
      if (!row) throw notFound('approval');
      if (row.status !== 'pending') throw new AdminProblem(409, 'conflict', `the request is already ${row.status}`);
      if (row.requested_by === decidedBy) {
        throw new AdminProblem(403, 'four_eyes', 'a second administrator must decide: the requester cannot approve or reject their own request');
      }
      const [decided] = await trx('admin_approvals')
        .where({ id })
        .update({ status: decision, decided_by: decidedBy, decided_at: trx.fn.now() })
        .returning<ApprovalRow[]>('*');
      const approval = toApproval(decided!);
      if (decision === 'approved') await this.#appliers.get(approval.kind)!(approval, trx);
      return approval;
    });
    if (decided.status === 'approved') await this.#afterCommit.get(decided.kind)?.(decided);
    return decided;
  }
}
