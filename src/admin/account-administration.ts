// Account administration for support officers (issue 8, README "Account administration"): find an
// account by ID number, see its status, level and second factors (which exist and since when, never a
// secret), lock and unlock it, raise it to level 2 with evidence under four eyes, reset its second
// factors (the first new enrolment then needs a code handed over in person), and end all its access.
// Every action, a look included, is audited with the acting officer and the reason. The ID number is
// never written to the audit trail: events name the account by its internal id.
import type { Knex } from 'knex';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/database.ts';
import type { SessionTerminator } from '../oidc/sessions/sessions.ts';
import { isNationalIdShape } from '../registry/national-id.ts';
import { EnrolmentHandover } from '../accounts/enrolment-handover.ts';
import { AdminProblem, notFound } from './problem.ts';
import type { Approval, FourEyesApprovals } from './approvals.ts';

/** The kind of four-eyes request that raises an account to level 2 (table admin_approvals). */
export const LEVEL_TWO_APPROVAL = 'account.level2';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const MAX_REASON_LENGTH = 500;
export const MAX_EVIDENCE_LENGTH = 200;

export interface AccountView {
  readonly accountId: string;
  readonly nationalId: string;
  readonly level: 1 | 2;
  readonly status: 'active' | 'locked';
  readonly lockedAt: Date | null;
  readonly lockReason: string | null;
  readonly levelRaisedAt: Date | null;
  readonly levelRaisedBy: string | null;
  readonly levelEvidence: string | null;
  readonly factors: {
    readonly totp: { readonly enrolledAt: Date | null } | null;
    readonly passkeys: readonly { readonly name: string; readonly createdAt: Date; readonly lastUsedAt: Date | null }[];
    readonly recoveryCodesLeft: number;
  };
  /** An in-person code was issued and the citizen has not enrolled with it yet. */
  readonly handoverCode: { readonly issuedBy: string; readonly expiresAt: Date } | null;
  readonly pendingLevelTwo: { readonly requestId: string; readonly requestedBy: string; readonly requestedAt: Date } | null;
}

interface AccountRow {
  id: string;
  national_id: string;
  level: 1 | 2;
  status: 'active' | 'locked';
  totp_secret_sealed: string | null;
  totp_enrolled_at: Date | null;
  locked_at: Date | null;
  lock_reason: string | null;
  level_raised_at: Date | null;
  level_raised_by: string | null;
  level_evidence: string | null;
}

/** A reason or evidence: required, trimmed, bounded; a 400 otherwise (nothing is written). */
function text(value: string | undefined, what: string, max: number): string {
  const trimmed = (value ?? '').trim();
  if (trimmed === '') throw new AdminProblem(400, 'invalid_request', `${what} is required`);
  if (trimmed.length > max) throw new AdminProblem(400, 'invalid_request', `${what} is longer than ${max} characters`);
  return trimmed;
}

export interface Officer {
  /** Who acts, as the audit trail names them: `admin:<account id>`, `client:<id>`, `cli:<name>`. */
  readonly id: string;
  /** How: `api`, `cli`. */
  readonly via: string;
}

export class AccountAdministration {
  readonly #db: Database;
  readonly #audit: AuditLog;
  readonly #access: Pick<SessionTerminator, 'endAllAccess'>;
  readonly #approvals: FourEyesApprovals;
  readonly #handover: EnrolmentHandover;

  constructor(deps: { db: Database; audit: AuditLog; access: Pick<SessionTerminator, 'endAllAccess'>; approvals: FourEyesApprovals }) {
    this.#db = deps.db;
    this.#audit = deps.audit;
    this.#access = deps.access;
    this.#approvals = deps.approvals;
    this.#handover = new EnrolmentHandover(deps.db);
    this.#approvals.register(LEVEL_TWO_APPROVAL, (approval, trx) => this.#applyLevelTwo(approval, trx));
  }

  /** `account`: an ID number (12 digits) or the account's internal id (a UUID, what the API's paths carry). */
  async #row(account: string, db: Database = this.#db, lock = false): Promise<AccountRow> {
    const where = isNationalIdShape(account) ? { national_id: account } : UUID.test(account) ? { id: account } : undefined;
    if (!where) throw new AdminProblem(400, 'invalid_request', 'expected an ID number (12 digits) or an account id');
    let query = db<AccountRow>('accounts').where(where);
    if (lock) query = query.forUpdate();
    const row = await query.first();
    if (!row) throw notFound('account');
    return row;
  }

  async #record(officer: Officer, accountId: string, action: string, data: Record<string, unknown> = {}): Promise<void> {
    await this.#audit.record({ type: 'admin.action', actor: officer.id, accountId, data: { action, via: officer.via, ...data } });
  }

  /** The account of an ID number as an officer sees it (the look is audited). */
  async view(officer: Officer, account: string): Promise<AccountView> {
    const row = await this.#row(account);
    const view = await this.#viewOf(row);
    await this.#record(officer, row.id, 'account.viewed');
    return view;
  }

  async #viewOf(row: AccountRow): Promise<AccountView> {
    const [passkeys, codes, handover, pending] = await Promise.all([
      this.#db('passkeys').where({ account_id: row.id }).orderBy('created_at', 'asc').select<{ name: string; created_at: Date; last_used_at: Date | null }[]>('name', 'created_at', 'last_used_at'),
      this.#db('recovery_codes').where({ account_id: row.id }).whereNull('used_at').count<{ count: string }[]>('* as count'),
      this.#db('enrolment_handover_codes').where({ account_id: row.id }).first<{ issued_by: string; expires_at: Date } | undefined>('issued_by', 'expires_at'),
      this.#approvals.pending({ kind: LEVEL_TWO_APPROVAL, subject: row.id, limit: 1 }),
    ]);
    const request = pending.approvals[0];
    return {
      accountId: row.id,
      nationalId: row.national_id,
      level: row.level,
      status: row.status,
      lockedAt: row.locked_at,
      lockReason: row.lock_reason,
      levelRaisedAt: row.level_raised_at,
      levelRaisedBy: row.level_raised_by,
      levelEvidence: row.level_evidence,
      factors: {
        totp: row.totp_secret_sealed === null ? null : { enrolledAt: row.totp_enrolled_at },
        passkeys: passkeys.map((passkey) => ({ name: passkey.name, createdAt: passkey.created_at, lastUsedAt: passkey.last_used_at })),
        recoveryCodesLeft: Number(codes[0]?.count ?? 0),
      },
      handoverCode: handover ? { issuedBy: handover.issued_by, expiresAt: handover.expires_at } : null,
      pendingLevelTwo: request ? { requestId: request.id, requestedBy: request.requestedBy, requestedAt: request.requestedAt } : null,
    };
  }

  /** Locks the account and ends all its access (sessions, grants, refresh tokens; back-channel logouts queued). */
  async lock(officer: Officer, account: string, reasonInput: string | undefined): Promise<{ lockedNow: boolean; sessions: number; grants: number }> {
    const reason = text(reasonInput, 'a reason', MAX_REASON_LENGTH);
    const { id, lockedNow } = await this.#db.transaction(async (trx) => {
      const row = await this.#row(account, trx, true);
      if (row.status === 'locked') return { id: row.id, lockedNow: false };
      await trx('accounts').where({ id: row.id }).update({ status: 'locked', locked_at: trx.fn.now(), lock_reason: reason, updated_at: trx.fn.now() });
      return { id: row.id, lockedNow: true };
    });
    // Ended even when it was locked already: a lock must leave nothing open.
    const ended = await this.#access.endAllAccess(id);
    await this.#record(officer, id, 'account.lock', { reason, lockedNow, ...ended });
    return { lockedNow, ...ended };
  }

  /** Unlocks the account (sign-in still refuses a person the registry shows dead or missing). */
  async unlock(officer: Officer, account: string, reasonInput: string | undefined): Promise<{ unlockedNow: boolean }> {
    const reason = text(reasonInput, 'a reason', MAX_REASON_LENGTH);
    const row = await this.#row(account);
    const updated = await this.#db('accounts')
      .where({ id: row.id, status: 'locked' })
      .update({ status: 'active', locked_at: null, lock_reason: null, updated_at: this.#db.fn.now() });
    await this.#record(officer, row.id, 'account.unlock', { reason, unlockedNow: updated > 0 });
    return { unlockedNow: updated > 0 };
  }

  /** Ends every session, grant and refresh token of the account; it stays usable for a new sign-in. */
  async endAllSessions(officer: Officer, account: string, reasonInput: string | undefined): Promise<{ sessions: number; grants: number }> {
    const reason = text(reasonInput, 'a reason', MAX_REASON_LENGTH);
    const row = await this.#row(account);
    const ended = await this.#access.endAllAccess(row.id);
    await this.#record(officer, row.id, 'account.sessions.ended', { reason, ...ended });
    return ended;
  }

  /**
   * Removes the TOTP secret, every passkey and the recovery codes, ends all access, and issues the
   * one-time code the citizen's first new enrolment needs: returned once, for the officer to hand over
   * in person; only its hash is kept.
   */
  async resetSecondFactors(
    officer: Officer,
    account: string,
    reasonInput: string | undefined,
  ): Promise<{ handoverCode: string; expiresAt: Date; removed: { totp: boolean; passkeys: number; recoveryCodes: number }; sessions: number; grants: number }> {
    const reason = text(reasonInput, 'a reason', MAX_REASON_LENGTH);
    const { id, removed, issued } = await this.#db.transaction(async (trx) => {
      const row = await this.#row(account, trx, true);
      const totp = row.totp_secret_sealed !== null;
      await trx('accounts').where({ id: row.id }).update({ totp_secret_sealed: null, totp_enrolled_at: null, updated_at: trx.fn.now() });
      const passkeys = await trx('passkeys').where({ account_id: row.id }).delete();
      const recoveryCodes = await trx('recovery_codes').where({ account_id: row.id }).delete();
      const issued = await this.#handover.issue(row.id, officer.id, trx);
      return { id: row.id, removed: { totp, passkeys, recoveryCodes }, issued };
    });
    const ended = await this.#access.endAllAccess(id);
    await this.#record(officer, id, 'account.factors.reset', { reason, removed, handoverExpiresAt: issued.expiresAt.toISOString(), ...ended });
    return { handoverCode: issued.code, expiresAt: issued.expiresAt, removed, ...ended };
  }

  /**
   * The first officer's half of raising an account to level 2: the in-person check's evidence, waiting
   * for a second, different officer (confirmLevelTwo). 409 when the account is at level 2 already.
   */
  async requestLevelTwo(officer: Officer, account: string, evidenceInput: string | undefined): Promise<Approval> {
    const evidence = text(evidenceInput, 'the evidence', MAX_EVIDENCE_LENGTH);
    const row = await this.#row(account);
    if (row.level === 2) throw new AdminProblem(409, 'conflict', 'the account is at level 2 already');
    const approval = await this.#approvals.request({ kind: LEVEL_TWO_APPROVAL, subject: row.id, change: { level: 2, evidence }, requestedBy: officer.id });
    await this.#record(officer, row.id, 'account.level2.requested', { requestId: approval.id, evidence });
    return approval;
  }

  /** The second officer's decision; the requester cannot decide (403 four_eyes). Approving raises the account. */
  async decideLevelTwo(officer: Officer, requestId: string, decision: 'approved' | 'rejected'): Promise<Approval> {
    const existing = await this.#approvals.find(requestId);
    if (existing?.kind !== LEVEL_TWO_APPROVAL) throw notFound('level-2 request');
    let approval: Approval;
    try {
      approval = await this.#approvals.decide(requestId, officer.id, decision);
    } catch (error) {
      if (error instanceof AdminProblem && error.code === 'four_eyes') {
        await this.#record(officer, existing.subject, 'account.level2.refused', { requestId, reason: 'four_eyes' });
      }
      throw error;
    }
    await this.#record(officer, approval.subject, decision === 'approved' ? 'account.level2.confirmed' : 'account.level2.rejected', {
      requestId,
      requestedBy: approval.requestedBy,
      evidence: approval.change.evidence,
    });
    return approval;
  }

  /** Applies an approved level-2 request inside the deciding transaction. */
  async #applyLevelTwo(approval: Approval, trx: Knex.Transaction): Promise<void> {
    // The generic four-eyes endpoints (client administrators) reach here too: an administrator who
    // confirms a level raise must be a support officer. (CLI officers, `officer:<name>`, have no account.)
    const decider = /^account:(.+)$/.exec(approval.decidedBy ?? '')?.[1];
    if (decider !== undefined && !(await trx('admin_roles').where({ account_id: decider, role: 'support_officer' }).first('role'))) {
      throw new AdminProblem(403, 'forbidden', 'a level-2 request is confirmed by a support officer');
    }
    const evidence = typeof approval.change.evidence === 'string' ? approval.change.evidence : '';
    const raised = await trx('accounts')
      .where({ id: approval.subject, level: 1 })
      .update({
        level: 2,
        level_raised_at: trx.fn.now(),
        level_raised_by: `${approval.requestedBy}, confirmed by ${approval.decidedBy ?? '?'}`,
        level_evidence: evidence,
        updated_at: trx.fn.now(),
      });
    if (raised !== 1) throw new AdminProblem(409, 'conflict', 'the account is at level 2 already, or gone');
  }
}
