// Password reset (issue 5, item 7): registry knowledge (the ID-card issue date) opens the request, a
// code sent to the account's verified contact confirms it. A new password ends every session, grant
// and refresh token of the account, and every verified contact hears of it. As with registration, the
// first step answers the same whatever it found. The code, its limits and the new password are the
// confirmation flow's (contact-confirmation.ts).
import type { BruteForceGuard } from './brute-force.ts';
import type { Account } from './accounts.ts';
import {
  checkConfirmation,
  confirmationParts,
  overAllowance,
  type AttemptLimits,
  type ConfirmationFlows,
  codeMessage,
  maskContact,
  maskedId,
  notifyAll,
  sameDate,
  verifiedContacts,
  type ConfirmationDependencies,
  type ConfirmationInput,
  type ConfirmationPolicy,
  type ConfirmationResult,
  type PendingFlow,
  type RequestContext,
  type StartResult,
} from './contact-confirmation.ts';
import { isAlive } from '../registry/registry.ts';

export interface ResetRequest {
  readonly nationalId: string;
  /** YYYY-MM-DD */
  readonly idCardIssueDate: string;
}

/** How the lookup went, for the audit trail only. `code-sent`: a code was queued (see RegistrationRequestOutcome). */
export type ResetRequestOutcome =
  | 'code-sent'
  | 'unknown-id'
  | 'no-account'
  | 'mismatch'
  | 'deceased-or-missing'
  | 'account-locked'
  | 'no-contact';

interface ResetSubject {
  readonly accountId: string;
  readonly nationalId: string;
  readonly birthDate: string;
}

export type ResetResult = ConfirmationResult<
  | { readonly outcome: 'changed'; readonly sessionsEnded: number; readonly grantsRevoked: number; readonly contacts: readonly string[] }
  /** The code was right, but the account is locked or gone, or the person is dead or missing now. */
  | { readonly outcome: 'refused' }
>;

/** Ends everything an account holds: sessions, grants, refresh tokens (SessionTerminator). */
export interface AccessTerminator {
  endAllAccess(accountId: string): Promise<{ sessions: number; grants: number }>;
}

/** The account may be reset: active, with a living registry record. */
function resettable(account: Account | undefined, alive: boolean): account is Account {
  return account !== undefined && account.status === 'active' && alive;
}

export class PasswordReset {
  readonly #deps: ConfirmationDependencies & { readonly sessions: AccessTerminator; readonly bruteForce?: BruteForceGuard };
  readonly #policy: ConfirmationPolicy;
  readonly #flows: ConfirmationFlows<ResetSubject>;
  readonly #limits: AttemptLimits;

  constructor(deps: ConfirmationDependencies & { readonly sessions: AccessTerminator; readonly bruteForce?: BruteForceGuard }) {
    this.#deps = deps;
    ({ policy: this.#policy, flows: this.#flows, limits: this.#limits } = confirmationParts<ResetSubject>(deps, 'reset'));
  }

  openForm(): Promise<string> {
    return this.#flows.openForm();
  }

  find(flowId: string | undefined): Promise<PendingFlow<unknown> | undefined> {
    return this.#flows.find(flowId);
  }

  async start(formId: string | undefined, request: ResetRequest, context: RequestContext): Promise<StartResult> {
    const limited = await overAllowance(this.#limits, this.#deps.audit, request.nationalId, 'password_reset.rate_limited');
    if (limited) return limited;
    const submittedId = maskedId(request.nationalId);
    const [record, account] = await Promise.all([
      this.#deps.registry.findByNationalId(request.nationalId),
      this.#deps.accounts.findByNationalId(request.nationalId),
    ]);
    let outcome: ResetRequestOutcome;
    // The account's own verified contact (phone first): the registry's proved it at registration.
    const contact = account && verifiedContacts(account)[0];
    if (!record) outcome = 'unknown-id';
    else if (!account) outcome = 'no-account';
    else if (!sameDate(request.idCardIssueDate, record.idCardIssueDate)) outcome = 'mismatch';
    else if (!isAlive(record)) outcome = 'deceased-or-missing';
    else if (account.status !== 'active') outcome = 'account-locked';
    else outcome = contact ? 'code-sent' : 'no-contact';
    // The same work on every path (as in registration): one flow, one INSERT of what is sent.
    const subject = outcome === 'code-sent' && account && record ? { accountId: account.id, nationalId: account.nationalId, birthDate: record.birthDate } : null;
    const issued = await this.#flows.issue(formId, { nationalId: request.nationalId }, subject);
    await this.#deps.audit.record({
      type: 'password_reset.requested',
      ...(account && { accountId: account.id }),
      data: { submittedId, outcome, ...(subject && contact && { channel: contact.channel }) },
    });
    // Last, so that the worker, woken by it, delivers after the answer rather than beside its work.
    const minutes = Math.max(1, Math.ceil(this.#policy.codeTtlSeconds / 60));
    await this.#deps.notifier.enqueue(
      contact && issued.code !== undefined ? [codeMessage(contact, 'reset', this.#policy, context.notices({ kind: 'reset-code', code: issued.code, minutes }))] : [],
    );
    return { outcome: 'answered', flowId: issued.id };
  }

  async confirm(flowId: string | undefined, input: ConfirmationInput, context: RequestContext): Promise<ResetResult> {
    const flow = await this.#flows.find(flowId);
    const checked = await checkConfirmation(this.#flows, flowId ?? '', flow, input, (subject) => ({
      nationalId: subject.nationalId,
      birthDate: subject.birthDate,
    }));
    if (checked.outcome !== 'ready') {
      const reason = checked.outcome === 'too-many-tries' ? 'too-many-tries' : checked.outcome === 'invalid' && checked.errors.code === 'wrong' ? 'wrong-code' : undefined;
      if (reason && flow?.stage === 'code') {
        await this.#deps.audit.record({
          type: 'password_reset.confirmation_failed',
          ...(flow.subject !== null && { accountId: flow.subject.accountId }),
          data: { reason, submittedId: maskedId(flow.typed.nationalId) },
        });
      }
      return checked;
    }
    const { subject } = checked;
    // What can fail for a passing reason comes before the flow is used up.
    const passwordHash = await this.#deps.passwords.hash(input.password);
    const [account, record] = await Promise.all([
      this.#deps.accounts.findById(subject.accountId),
      this.#deps.registry.findByNationalId(subject.nationalId),
    ]);
    if (!(await this.#flows.claim(flowId!, checked.flow))) return { outcome: 'expired' };
    if (!resettable(account, record !== undefined && isAlive(record))) {
      await this.#deps.audit.record({
        type: 'password_reset.confirmation_failed',
        accountId: subject.accountId,
        data: { reason: 'refused', submittedId: maskedId(subject.nationalId) },
      });
      return { outcome: 'refused' };
    }
    await this.#deps.accounts.updatePasswordHash(account.id, passwordHash);
    const ended = await this.#deps.sessions.endAllAccess(account.id);
    // The citizen proved control of a verified contact and chose a new password: a lock earned by
    // guesses at the old one no longer protects anything.
    await this.#deps.bruteForce?.clear({ kind: 'password', nationalId: subject.nationalId });
    await this.#deps.audit.record({
      type: 'password_reset.completed',
      actor: account.id,
      accountId: account.id,
      data: { sessionsEnded: ended.sessions, grantsRevoked: ended.grants, submittedId: maskedId(subject.nationalId) },
    });
    const contacts = verifiedContacts(account);
    await notifyAll(this.#deps, contacts, context.notices({ kind: 'password-changed' }));
    return { outcome: 'changed', sessionsEnded: ended.sessions, grantsRevoked: ended.grants, contacts: contacts.map(maskContact) };
  }
}
