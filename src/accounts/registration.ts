// Level-1 self-registration (issue 5, item 1): the applicant's card details are compared with the
// population registry, and a one-time code goes only to the contact the registry holds for the person
// (docs/domain.md: what is printed on a card proves nothing). Every outcome of the first step looks the
// same from outside, so the form cannot be used to probe the registry or to learn who has an account.
// The code, its limits and the new password are the confirmation flow's (contact-confirmation.ts).
import type { RegistryRecord } from '../registry/registry.ts';
import { isAlive } from '../registry/registry.ts';
import type { QueuedMessage } from './notifier.ts';
import {
  checkConfirmation,
  codeMessage,
  confirmationParts,
  maskContact,
  maskedId,
  notifyAll,
  overAllowance,
  registryContact,
  sameDate,
  verifiedContacts,
  type AttemptLimits,
  type ConfirmationDependencies,
  type ConfirmationFlows,
  type ConfirmationInput,
  type ConfirmationPolicy,
  type ConfirmationResult,
  type Contact,
  type PendingFlow,
  type RequestContext,
  type StartResult,
  type TypedPerson,
} from './contact-confirmation.ts';

export interface Applicant {
  readonly nationalId: string;
  readonly fullName: string;
  /** YYYY-MM-DD */
  readonly birthDate: string;
  /** YYYY-MM-DD */
  readonly idCardIssueDate: string;
}

/** NFC, case and spaces set aside: "PHẠM  thu hà" is Phạm Thu Hà; "Pham Thu Ha" is not. */
export function sameName(typed: string, recorded: string): boolean {
  const canonical = (name: string) => name.normalize('NFC').toLocaleLowerCase('vi').replace(/\s+/gu, '').normalize('NFC');
  return canonical(typed) === canonical(recorded);
}


/** Which registry fields an application got wrong (for the audit trail: names of fields, no values). */
export function mismatchedFields(applicant: Applicant, record: RegistryRecord): string[] {
  const fields: string[] = [];
  if (!sameName(applicant.fullName, record.fullName)) fields.push('fullName');
  if (!sameDate(applicant.birthDate, record.birthDate)) fields.push('birthDate');
  if (!sameDate(applicant.idCardIssueDate, record.idCardIssueDate)) fields.push('idCardIssueDate');
  return fields;
}

/**
 * How the lookup went, for the audit trail only: the applicant always sees the same answer.
 * `code-sent`: a code was queued for the registry's contact (delivery may still withhold it, over the
 * destination's hourly allowance).
 */
export type RegistrationRequestOutcome =
  | 'code-sent'
  | 'unknown-id'
  | 'mismatch'
  | 'deceased-or-missing'
  | 'under-age'
  | 'already-registered'
  | 'no-contact';


interface RegistrationSubject {
  readonly nationalId: string;
  readonly birthDate: string;
}

export type RegistrationResult = ConfirmationResult<
  | { readonly outcome: 'registered'; readonly contact: string | undefined }
  /** The code was right, but an account appeared meanwhile: the person should sign in or reset. */
  | { readonly outcome: 'already-registered' }
  /** The code was right, but the registry now says the person is dead or missing, or has no record. */
  | { readonly outcome: 'refused' }
>;

/** The registry, as registration reads it (a RegistryGateway or the mirror). */

/** Self-registration is for people aged 14 and over (docs/domain.md: younger children only on request, at an office). */
export const MINIMUM_AGE = 14;

export function ageOn(birthDate: string, today: Date): number {
  const [year, month, day] = birthDate.slice(0, 10).split('-').map(Number) as [number, number, number];
  const beforeBirthday = today.getUTCMonth() + 1 < month || (today.getUTCMonth() + 1 === month && today.getUTCDate() < day);
  return today.getUTCFullYear() - year - (beforeBirthday ? 1 : 0);
}

export class SelfRegistration {
  readonly #deps: ConfirmationDependencies;
  readonly #policy: ConfirmationPolicy;
  readonly #flows: ConfirmationFlows<RegistrationSubject>;
  readonly #limits: AttemptLimits;
  readonly #now: () => number;

  constructor(deps: ConfirmationDependencies) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    ({ policy: this.#policy, flows: this.#flows, limits: this.#limits } = confirmationParts<RegistrationSubject>(deps, 'register'));
  }

  openForm(): Promise<string> {
    return this.#flows.openForm();
  }

  /** The flow a cookie names, if it is still alive. */
  find(flowId: string | undefined): Promise<PendingFlow<unknown> | undefined> {
    return this.#flows.find(flowId);
  }

  /**
   * The first step. Whatever the registry says, the answer is a new flow id (or a rate limit that
   * counts every request for the ID number alike); only the registry's contact may receive a code.
   */
  async start(formId: string | undefined, applicant: Applicant, context: RequestContext): Promise<StartResult> {
    const limited = await overAllowance(this.#limits, this.#deps.audit, applicant.nationalId, 'registration.rate_limited');
    if (limited) return limited;
    const submittedId = maskedId(applicant.nationalId);
    // Both lookups every time, so that the work done does not depend on what matched.
    const [record, account] = await Promise.all([
      this.#deps.registry.findByNationalId(applicant.nationalId),
      this.#deps.accounts.findByNationalId(applicant.nationalId),
    ]);
    const typed: TypedPerson = { nationalId: applicant.nationalId, birthDate: applicant.birthDate };
    let outcome: RegistrationRequestOutcome;
    let mismatch: string[] = [];
    let contact: Contact | undefined;
    if (!record) {
      outcome = 'unknown-id';
    } else if ((mismatch = mismatchedFields(applicant, record)).length > 0) {
      outcome = 'mismatch';
    } else if (!isAlive(record)) {
      outcome = 'deceased-or-missing';
    } else if (ageOn(record.birthDate, new Date(this.#now())) < MINIMUM_AGE) {
      outcome = 'under-age';
    } else if (account) {
      outcome = 'already-registered';
    } else {
      contact = registryContact(record);
      outcome = contact ? 'code-sent' : 'no-contact';
    }
    // The same work on every path, so that timing tells nothing (test/accounts/sign-in-timing.test.ts):
    // one flow, which only a code sent can confirm, and one INSERT of whatever this request sends
    // (none, one or a few messages), delivered after the answer.
    const subject = contact && record ? { nationalId: record.nationalId, birthDate: record.birthDate } : null;
    const issued = await this.#flows.issue(formId, typed, subject);
    const messages: QueuedMessage[] = [];
    if (contact && issued.code !== undefined) {
      const minutes = Math.max(1, Math.ceil(this.#policy.codeTtlSeconds / 60));
      messages.push(codeMessage(contact, 'register', this.#policy, context.notices({ kind: 'registration-code', code: issued.code, minutes })));
    }
    if (outcome === 'already-registered' && account) {
      // The holder hears that someone with their card details tried; the applicant hears nothing new.
      const contacts = verifiedContacts(account);
      const fallback = record && registryContact(record);
      const words = context.notices({ kind: 'registration-attempt' });
      for (const holder of contacts.length > 0 ? contacts : fallback ? [fallback] : []) {
        messages.push({ channel: holder.channel, destination: holder.destination, ...words, allowance: 'register' });
      }
    }
    await this.#deps.audit.record({
      type: 'registration.requested',
      ...(outcome === 'already-registered' && account && { accountId: account.id }),
      data: {
        submittedId,
        outcome,
        ...(mismatch.length > 0 && { mismatch }),
        ...(contact && { channel: contact.channel }),
      },
    });
    // Last, so that the worker, woken by it, delivers after the answer rather than beside its work.
    await this.#deps.notifier.enqueue(messages);
    return { outcome: 'answered', flowId: issued.id };
  }

  /** The second step: the code and a new password; on success a level-1 account exists. */
  async confirm(flowId: string | undefined, input: ConfirmationInput, context: RequestContext): Promise<RegistrationResult> {
    const flow = await this.#flows.find(flowId);
    const checked = await checkConfirmation(this.#flows, flowId ?? '', flow, input, (subject) => subject);
    if (checked.outcome !== 'ready') {
      const reason = checked.outcome === 'too-many-tries' ? 'too-many-tries' : checked.outcome === 'invalid' && checked.errors.code === 'wrong' ? 'wrong-code' : undefined;
      if (reason && flow?.stage === 'code') {
        await this.#deps.audit.record({
          type: 'registration.confirmation_failed',
          data: { reason, submittedId: maskedId(flow.typed.nationalId) },
        });
      }
      return checked;
    }
    const { subject } = checked;
    // Everything that can fail for a passing reason (a busy hasher, an unreachable registry) comes
    // before the flow is used up, so the citizen can simply send the form again.
    const passwordHash = await this.#deps.passwords.hash(input.password);
    const record = await this.#deps.registry.findByNationalId(subject.nationalId);
    if (!(await this.#flows.claim(flowId!, checked.flow))) return { outcome: 'expired' };
    if (!record || !isAlive(record)) {
      await this.#deps.audit.record({
        type: 'registration.confirmation_failed',
        data: { reason: 'deceased-or-missing', submittedId: maskedId(subject.nationalId) },
      });
      return { outcome: 'refused' };
    }
    const accountId = await this.#deps.accounts.createIfAbsent({
      nationalId: record.nationalId,
      passwordHash,
      phoneNumber: record.contactPhone,
      email: record.contactEmail,
    });
    if (accountId === undefined) {
      await this.#deps.audit.record({
        type: 'registration.confirmation_failed',
        data: { reason: 'already-registered', submittedId: maskedId(subject.nationalId) },
      });
      return { outcome: 'already-registered' };
    }
    await this.#deps.audit.record({
      type: 'registration.completed',
      actor: accountId,
      accountId,
      data: { level: 1, submittedId: maskedId(subject.nationalId) },
    });
    const contact = registryContact(record);
    await notifyAll(this.#deps, contact ? [contact] : [], context.notices({ kind: 'registered' }));
    return { outcome: 'registered', contact: contact && maskContact(contact) };
  }
}
