// Account administration for support officers (issue 8, docs/administration.md "Account administration"): find an
// account by ID number, see its status, level and second factors (which exist and since when, never a
// secret), lock and unlock it, raise it to level 2 with evidence under four eyes, reset its second
// factors (the first new enrolment then needs a code handed over in person), and end all its access.
// Every action, a look included, is audited with the acting officer and the reason. The ID number is
// never written to the audit trail: events name the account by its internal id.
import type { Knex } from 'knex';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AccountKey, AccountRecord, AccountStore } from '../accounts/account-store.ts';
import type { SessionTerminator } from '../oidc/sessions/sessions.ts';
import { isNationalIdShape } from '../registry/national-id.ts';
import { ACCOUNT_ID } from '../accounts/accounts.ts';
import { EnrolmentHandover } from '../accounts/enrolment-handover.ts';
import { AdminProblem, notFound } from './problem.ts';
import type { Approval, FourEyesApprovals } from './approvals.ts';
import { failedChecks } from '../chip/chip-results.ts';
import type { ChipRead, ChipVerifier } from '../chip/chip-verification.ts';

/** The kind of four-eyes request that raises an account to level 2 (table admin_approvals). */
export const LEVEL_TWO_APPROVAL = 'account.level2';

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
  readonly #accounts: AccountStore;
  readonly #audit: AuditLog;
  readonly #access: Pick<SessionTerminator, 'endAllAccess'>;
  readonly #approvals: FourEyesApprovals;
  readonly #handover: EnrolmentHandover;
  readonly #chip: ChipVerifier | undefined;

  constructor(deps: { accounts: AccountStore; audit: AuditLog; access: Pick<SessionTerminator, 'endAllAccess'>; approvals: FourEyesApprovals; chip?: ChipVerifier }) {
    this.#chip = deps.chip;
    this.#accounts = deps.accounts;
    this.#audit = deps.audit;
    this.#access = deps.access;
    this.#approvals = deps.approvals;
    this.#handover = new EnrolmentHandover(this.#accounts);
    this.#approvals.register(LEVEL_TWO_APPROVAL, (approval, trx) => this.#applyLevelTwo(approval, trx));
  }

  /** `account`: an ID number (12 digits) or the account's internal id (a UUID, what the API's paths carry). */
  #keyOf(account: string): AccountKey {
    if (isNationalIdShape(account)) return { nationalId: account };
    if (ACCOUNT_ID.test(account)) return { id: account };
    throw new AdminProblem(400, 'invalid_request', 'expected an ID number (12 digits) or an account id');
  }

  async #find(account: string, accounts: AccountStore = this.#accounts, forUpdate = false): Promise<AccountRecord> {
    const found = await accounts.findRecord(this.#keyOf(account), { forUpdate });
    if (!found) throw notFound('account');
    return found;
  }

  async #record(officer: Officer, accountId: string, action: string, data: Record<string, unknown> = {}): Promise<void> {
    await this.#audit.record({ type: 'admin.action', actor: officer.id, accountId, data: { action, via: officer.via, ...data } });
  }

  /** The account of an ID number as an officer sees it (the look is audited). */
  async view(officer: Officer, account: string): Promise<AccountView> {
    const row = await this.#find(account);
    const view = await this.#viewOf(row);
    await this.#record(officer, row.id, 'account.viewed');
    return view;
  }

  async #viewOf(row: AccountRecord): Promise<AccountView> {
    const [passkeys, factors, handover, pending] = await Promise.all([
      this.#accounts.listPasskeys(row.id),
      this.#accounts.secondFactorsOf(row.id),
      this.#accounts.handoverCodeOf(row.id),
      this.#approvals.pending({ kind: LEVEL_TWO_APPROVAL, subject: row.id, limit: 1 }),
    ]);
    const request = pending.approvals[0];
    return {
      accountId: row.id,
      nationalId: row.nationalId,
      level: row.level,
      status: row.status,
      lockedAt: row.lockedAt,
      lockReason: row.lockReason,
      levelRaisedAt: row.levelRaisedAt,
      levelRaisedBy: row.levelRaisedBy,
      levelEvidence: row.levelEvidence,
      factors: {
        totp: row.hasSecondFactor ? { enrolledAt: row.totpEnrolledAt } : null,
        passkeys: passkeys.map((passkey) => ({ name: passkey.name, createdAt: passkey.createdAt, lastUsedAt: passkey.lastUsedAt })),
        recoveryCodesLeft: factors.recoveryCodesLeft,
      },
      handoverCode: handover ? { issuedBy: handover.issuedBy, expiresAt: handover.expiresAt } : null,
      pendingLevelTwo: request ? { requestId: request.id, requestedBy: request.requestedBy, requestedAt: request.requestedAt } : null,
    };
  }

  /** Locks the account and ends all its access (sessions, grants, refresh tokens; back-channel logouts queued). */
  async lock(officer: Officer, account: string, reasonInput: string | undefined): Promise<{ lockedNow: boolean; sessions: number; grants: number }> {
    const reason = text(reasonInput, 'a reason', MAX_REASON_LENGTH);
    const locked = await this.#accounts.lock(this.#keyOf(account), reason);
    if (!locked) throw notFound('account');
    const { id, lockedNow } = locked;
    // Ended even when it was locked already: a lock must leave nothing open.
    const ended = await this.#access.endAllAccess(id);
    await this.#record(officer, id, 'account.lock', { reason, lockedNow, ...ended });
    return { lockedNow, ...ended };
  }

  /** Unlocks the account (sign-in still refuses a person the registry shows dead or missing). */
  async unlock(officer: Officer, account: string, reasonInput: string | undefined): Promise<{ unlockedNow: boolean }> {
    const reason = text(reasonInput, 'a reason', MAX_REASON_LENGTH);
    const row = await this.#find(account);
    const unlockedNow = await this.#accounts.unlock(row.id);
    await this.#record(officer, row.id, 'account.unlock', { reason, unlockedNow });
    return { unlockedNow };
  }

  /** Ends every session, grant and refresh token of the account; it stays usable for a new sign-in. */
  async endAllSessions(officer: Officer, account: string, reasonInput: string | undefined): Promise<{ sessions: number; grants: number }> {
    const reason = text(reasonInput, 'a reason', MAX_REASON_LENGTH);
    const row = await this.#find(account);
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
    const { id, removed, issued } = await this.#accounts.transaction(async (accounts) => {
      const row = await this.#find(account, accounts, true);
      const totp = await accounts.removeTotpSecret(row.id);
      const passkeys = await accounts.removePasskeys(row.id);
      const recoveryCodes = await accounts.removeRecoveryCodes(row.id);
      const issued = await this.#handover.issue(row.id, officer.id, accounts);
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
  async requestLevelTwo(officer: Officer, account: string, evidenceInput: string | undefined, chipRead?: ChipRead): Promise<Approval> {
    if (chipRead) return this.#requestLevelTwoWithChip(officer, account, evidenceInput, chipRead);
    const evidence = text(evidenceInput, 'the evidence', MAX_EVIDENCE_LENGTH);
    const row = await this.#find(account);
    if (row.level === 2) throw new AdminProblem(409, 'conflict', 'the account is at level 2 already');
    const approval = await this.#approvals.request({ kind: LEVEL_TWO_APPROVAL, subject: row.id, change: { level: 2, evidence, method: 'in_person' }, requestedBy: officer.id });
    await this.#record(officer, row.id, 'account.level2.requested', { requestId: approval.id, evidence });
    return approval;
  }

  /**
   * Level 2 at the counter with the card's chip (docs/administration.md "Level 2 with the chip"): the
   * chip is verified as for a bank (src/chip/chip-verification.ts) before any request is made; a chip
   * refused, or another person's card, is a 422 and nothing is requested. The request carries the
   * document as checked, which the account keeps once a second officer confirms.
   */
  async #requestLevelTwoWithChip(officer: Officer, account: string, evidenceInput: string | undefined, chipRead: ChipRead): Promise<Approval> {
    if (!this.#chip) throw new AdminProblem(503, 'unavailable', 'chip verification is not available here');
    const note = (evidenceInput ?? '').trim() === '' ? undefined : text(evidenceInput, 'the evidence', MAX_EVIDENCE_LENGTH);
    const row = await this.#find(account);
    if (row.level === 2) throw new AdminProblem(409, 'conflict', 'the account is at level 2 already');
    const check = await this.#chip.check(chipRead);
    const failed = failedChecks(check);
    if (check.nationalId !== row.nationalId) {
      await this.#record(officer, row.id, 'account.level2.chip_refused', { txn: check.txn, failed: ['card_of_this_account'] });
      throw new AdminProblem(422, 'chip_refused', "the card is not this account's citizen's", [{ path: 'chip', message: 'card_of_this_account', code: 'card_of_this_account' }]);
    }
    if (check.result !== 'verified' || !check.document) {
      await this.#record(officer, row.id, 'account.level2.chip_refused', { txn: check.txn, failed });
      throw new AdminProblem(422, 'chip_refused', `the chip was refused: ${failed.join(', ')}`, failed.map((name) => ({ path: 'chip', message: name, code: name })));
    }
    const evidence = note ?? `card chip verified (txn ${check.txn})`;
    const approval = await this.#approvals.request({
      kind: LEVEL_TWO_APPROVAL,
      subject: row.id,
      change: { level: 2, evidence, method: 'chip', document: check.document },
      requestedBy: officer.id,
    });
    await this.#record(officer, row.id, 'account.level2.requested', { requestId: approval.id, evidence, method: 'chip', txn: check.txn });
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
    const document = approval.change.document;
    const chip = approval.change.method === 'chip' && typeof document === 'object' && document !== null;
    const raised = await this.#accounts.joining(trx).raiseToLevelTwo(approval.subject, {
      raisedBy: `${approval.requestedBy}, confirmed by ${approval.decidedBy ?? '?'}`,
      evidence,
      method: chip ? 'chip' : 'in_person',
      ...(chip && { document: document as Record<string, unknown> }),
    });
    if (!raised) throw new AdminProblem(409, 'conflict', 'the account is at level 2 already, or gone');
  }
}
