// Level-1 self-registration (issue 5, item 1): the applicant's card details are compared with the
// population registry, and a one-time code goes only to the contact the registry holds for the person
// (DOMAIN.md: what is printed on a card proves nothing). Every outcome of the first step looks the
// same from outside, so the form cannot be used to probe the registry or to learn who has an account.
// Also home to what password reset shares with it: confirmation flows, attempt limits, notices.
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { AuditEvent, AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/database.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import type { RegistryRecord } from '../registry/registry.ts';
import { isAlive } from '../registry/registry.ts';
import { maskIdNumbers } from '../observability/redact.ts';
import type { Logger } from '../observability/logger.ts';
import type { Account, AccountRepository } from './accounts.ts';
import type { Channel, Notifier } from './notifier.ts';
import type { PasswordHasher } from './passwords.ts';
import { passwordProblem, type PasswordProblem } from './password-policy.ts';

// ---------------------------------------------------------------------------------------------
// Settings

export interface ConfirmationPolicy {
  /** How long a code (and the flow waiting for it) lives. */
  readonly codeTtlSeconds: number;
  /** Code guesses per flow; the flow is dropped at the last wrong one. */
  readonly maxTries: number;
  /** How long an opened form may wait before it is sent (its id is the form's CSRF anchor). */
  readonly formTtlSeconds: number;
  /** Requests per ID number per hour, whatever their outcome (so a refusal says nothing about a match). */
  readonly attemptsPerIdPerHour: number;
  /** Messages per destination per hour; beyond it a code is withheld, silently (the answer stays neutral). */
  readonly messagesPerDestinationPerHour: number;
}

export const DEFAULT_CONFIRMATION_POLICY: ConfirmationPolicy = {
  codeTtlSeconds: 10 * 60,
  maxTries: 5,
  formTtlSeconds: 60 * 60,
  attemptsPerIdPerHour: 5,
  messagesPerDestinationPerHour: 5,
};

// ---------------------------------------------------------------------------------------------
// Notices: the domain decides what is said to whom; the pages module chooses the words.

export type Notice =
  | { readonly kind: 'registration-code'; readonly code: string; readonly minutes: number }
  | { readonly kind: 'registration-attempt' }
  | { readonly kind: 'registered' }
  | { readonly kind: 'reset-code'; readonly code: string; readonly minutes: number }
  | { readonly kind: 'password-changed' };

export type NoticeWriter = (notice: Notice) => { readonly subject: string; readonly body: string };

export interface Contact {
  readonly channel: Channel;
  readonly destination: string;
}

/** The registry's contact for a person: the mobile number, else the e-mail address. */
export function registryContact(record: RegistryRecord): Contact | undefined {
  if (record.contactPhone) return { channel: 'sms', destination: record.contactPhone };
  if (record.contactEmail) return { channel: 'email', destination: record.contactEmail };
  return undefined;
}

/** Every verified contact of an account. */
export function verifiedContacts(account: Account): Contact[] {
  const contacts: Contact[] = [];
  if (account.phoneNumber && account.phoneNumberVerified) contacts.push({ channel: 'sms', destination: account.phoneNumber });
  if (account.email && account.emailVerified) contacts.push({ channel: 'email', destination: account.email });
  return contacts;
}

/** A contact as a page may show it: +849*****04, h*****@e*****.vn. */
export function maskContact(contact: Contact): string {
  if (contact.channel === 'sms') return `${contact.destination.slice(0, 4)}*****${contact.destination.slice(-2)}`;
  const at = contact.destination.lastIndexOf('@');
  const local = contact.destination.slice(0, Math.max(at, 0));
  const domain = contact.destination.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const maskedDomain = dot > 0 ? `${domain.slice(0, 1)}*****${domain.slice(dot)}` : '*****';
  return `${local.slice(0, 1)}*****@${maskedDomain}`;
}

// ---------------------------------------------------------------------------------------------
// Audit.

export function recordAudit(audit: AuditLog, event: AuditEvent): Promise<unknown> {
  return audit.record(event);
}

/** An ID number as the audit trail may keep it: province prefix and the last two digits. */
export function maskedId(nationalId: string): string {
  return maskIdNumbers(nationalId.slice(0, 12));
}

// ---------------------------------------------------------------------------------------------
// Attempt limits, in fixed one-hour windows of the ephemeral store (shared by every instance).

const HOUR = 60 * 60;

export type AttemptVerdict =
  | { readonly allowed: true }
  /** `first` is true for the one request that crossed the limit (audit it once, not per request). */
  | { readonly allowed: false; readonly retryAfterSeconds: number; readonly first: boolean };

export class AttemptLimits {
  readonly #store: EphemeralStore;
  readonly #policy: ConfirmationPolicy;
  readonly #purpose: string;
  readonly #now: () => number;

  constructor(store: EphemeralStore, policy: ConfirmationPolicy, purpose: string, now: () => number = Date.now) {
    this.#store = store;
    this.#policy = policy;
    this.#purpose = purpose;
    this.#now = now;
  }

  async #count(name: string, limit: number): Promise<AttemptVerdict> {
    const seconds = Math.floor(this.#now() / 1000);
    const window = Math.floor(seconds / HOUR);
    const count = await this.#store.increment(`${this.#purpose}:limit:{${name}}:${window}`, HOUR);
    if (count <= limit) return { allowed: true };
    return { allowed: false, retryAfterSeconds: (window + 1) * HOUR - seconds, first: count === limit + 1 };
  }

  /** Counts one request for an ID number. */
  attempt(nationalId: string): Promise<AttemptVerdict> {
    return this.#count(`id:${nationalId}`, this.#policy.attemptsPerIdPerHour);
  }

  /** Counts one message to a destination (by digest: phone numbers stay out of key names). */
  message(destination: string): Promise<AttemptVerdict> {
    const digest = createHash('sha256').update(destination).digest('base64url');
    return this.#count(`to:${digest}`, this.#policy.messagesPerDestinationPerHour);
  }
}

// ---------------------------------------------------------------------------------------------
// Confirmation flows: a random id (the browser holds it in an HttpOnly cookie) names what waits in
// the ephemeral store — first an opened form, then a code's keyed hash and what the code unlocks.

const FLOW_ID = /^[A-Za-z0-9_-]{43}$/;
const CODE = /^[0-9]{6}$/;

/** What a password may be checked against before the code is confirmed: only what the applicant typed. */
export interface TypedPerson {
  readonly nationalId: string;
  readonly birthDate?: string;
}

interface FormStage {
  readonly stage: 'form';
}

interface CodeStage<S> {
  readonly stage: 'code';
  /** Keyed hash of the code; null when nothing was sent (the details did not match, or no contact). */
  readonly mac: string | null;
  readonly expiresAt: number;
  readonly verified: boolean;
  readonly typed: TypedPerson;
  /** What a confirmed code unlocks; null for a flow that can never be confirmed. */
  readonly subject: S | null;
}

export type PendingFlow<S> = FormStage | CodeStage<S>;

export type CodeCheck = { readonly result: 'ok' } | { readonly result: 'wrong'; readonly triesLeft: number } | { readonly result: 'exhausted' };

export class ConfirmationFlows<S> {
  readonly #store: EphemeralStore;
  readonly #codeKey: Buffer;
  readonly #policy: ConfirmationPolicy;
  readonly #purpose: string;
  readonly #now: () => number;

  constructor(deps: { store: EphemeralStore; codeKey: Buffer; policy: ConfirmationPolicy; purpose: string; now?: () => number }) {
    this.#store = deps.store;
    this.#codeKey = deps.codeKey;
    this.#policy = deps.policy;
    this.#purpose = deps.purpose;
    this.#now = deps.now ?? Date.now;
  }

  #key(id: string): string {
    return `${this.#purpose}:flow:{${id}}`;
  }

  #triesKey(id: string): string {
    return `${this.#purpose}:tries:{${id}}`;
  }

  #doneKey(id: string): string {
    return `${this.#purpose}:done:{${id}}`;
  }

  #mac(id: string, code: string): Buffer {
    return createHmac('sha256', this.#codeKey).update(`${this.#purpose}\n${id}\n${code}`).digest();
  }

  #secondsLeft(flow: CodeStage<S>): number {
    return Math.max(1, Math.ceil((flow.expiresAt - this.#now()) / 1000));
  }

  /** A new form: its id is what a later POST must bring back in the cookie. */
  async openForm(): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.#store.put(this.#key(id), JSON.stringify({ stage: 'form' } satisfies FormStage), this.#policy.formTtlSeconds);
    return id;
  }

  async find(id: string | undefined): Promise<PendingFlow<S> | undefined> {
    if (id === undefined || !FLOW_ID.test(id)) return undefined;
    const stored = await this.#store.get(this.#key(id));
    if (stored === undefined) return undefined;
    const flow = JSON.parse(stored) as PendingFlow<S>;
    if (flow.stage === 'code' && flow.expiresAt <= this.#now()) return undefined;
    return flow;
  }

  /**
   * Replaces the form (or an earlier flow) with one waiting for a code. With a subject, a code is made
   * and returned for sending; without one, the flow looks the same but no code will ever confirm it.
   */
  async issue(previousId: string | undefined, typed: TypedPerson, subject: S | null): Promise<{ id: string; code: string | undefined }> {
    if (previousId !== undefined && FLOW_ID.test(previousId)) await this.#store.delete(this.#key(previousId), this.#triesKey(previousId));
    const id = randomBytes(32).toString('base64url');
    const code = subject === null ? undefined : String(randomInt(0, 1_000_000)).padStart(6, '0');
    const flow: CodeStage<S> = {
      stage: 'code',
      mac: code === undefined ? null : this.#mac(id, code).toString('base64url'),
      expiresAt: this.#now() + this.#policy.codeTtlSeconds * 1000,
      verified: false,
      typed,
      subject,
    };
    await this.#store.put(this.#key(id), JSON.stringify(flow), this.#policy.codeTtlSeconds);
    return { id, code };
  }

  /**
   * Counts a guess first, then compares (so parallel guesses cannot outrun the limit). The last wrong
   * guess drops the flow. A right code marks the flow confirmed: the password may then be retried
   * without the code.
   */
  async checkCode(id: string, flow: CodeStage<S>, code: string): Promise<CodeCheck> {
    const tries = await this.#store.increment(this.#triesKey(id), this.#secondsLeft(flow));
    if (tries > this.#policy.maxTries) {
      await this.drop(id);
      return { result: 'exhausted' };
    }
    const expected = flow.mac === null ? randomBytes(32) : Buffer.from(flow.mac, 'base64url');
    const given = this.#mac(id, code);
    if (flow.mac !== null && expected.length === given.length && timingSafeEqual(expected, given)) {
      await this.#store.put(this.#key(id), JSON.stringify({ ...flow, verified: true }), this.#secondsLeft(flow));
      return { result: 'ok' };
    }
    if (tries >= this.#policy.maxTries) {
      await this.drop(id);
      return { result: 'exhausted' };
    }
    return { result: 'wrong', triesLeft: this.#policy.maxTries - tries };
  }

  /** Takes a confirmed flow for good: true for exactly one caller, however many race. */
  async claim(id: string, flow: CodeStage<S>): Promise<boolean> {
    const first = await this.#store.putIfAbsent(this.#doneKey(id), '1', this.#secondsLeft(flow));
    if (first) await this.drop(id);
    return first;
  }

  async drop(id: string): Promise<void> {
    await this.#store.delete(this.#key(id), this.#triesKey(id));
  }
}

// ---------------------------------------------------------------------------------------------
// The new password and the code, as the confirmation form gives them.

export type NewPasswordProblem = PasswordProblem | 'missing' | 'control-characters';
export type CodeProblem = 'format' | 'wrong';

export interface ConfirmationInput {
  readonly code: string;
  readonly password: string;
  readonly passwordRepeat: string;
}

export interface ConfirmationErrors {
  readonly code?: CodeProblem;
  readonly password?: NewPasswordProblem;
  readonly passwordRepeat?: 'mismatch';
}

/** Stands in for an unknown birth date; a match against it is ignored. */
const NO_BIRTH_DATE = '0000-00-00';

/** The first problem of a new password, judged only against what the person is known to be. */
export function newPasswordProblem(password: string, person: TypedPerson): NewPasswordProblem | undefined {
  if (password.length === 0) return 'missing';
  if (/\p{Cc}/u.test(password)) return 'control-characters';
  const problem = passwordProblem(password, { nationalId: person.nationalId, birthDate: person.birthDate ?? NO_BIRTH_DATE });
  return problem === 'contains-birth-date' && person.birthDate === undefined ? undefined : problem;
}

export function isCodeShape(code: string): boolean {
  return CODE.test(code);
}

export type ConfirmationResult<Done> =
  /** No such flow: never issued, expired, already used, or dropped. */
  | { readonly outcome: 'expired' }
  | { readonly outcome: 'too-many-tries' }
  | { readonly outcome: 'invalid'; readonly errors: ConfirmationErrors; readonly codeConfirmed: boolean; readonly triesLeft?: number }
  | Done;

/**
 * The shared first half of a confirmation: the code (unless already confirmed) and the new password.
 * `personAfterCode` gives what the password is checked against once the code is right (the
 * registry's values); before that only what was typed counts, so a flow that can never be confirmed
 * answers exactly as a real one would.
 */
export async function checkConfirmation<S>(
  flows: ConfirmationFlows<S>,
  id: string,
  flow: PendingFlow<S> | undefined,
  input: ConfirmationInput,
  personAfterCode: (subject: S) => TypedPerson,
): Promise<ConfirmationResult<{ readonly outcome: 'ready'; readonly subject: S; readonly flow: CodeStage<S> }>> {
  if (flow?.stage !== 'code') return { outcome: 'expired' };
  let codeConfirmed = flow.verified;
  let codeProblem: CodeProblem | undefined;
  let triesLeft: number | undefined;
  if (!codeConfirmed) {
    if (!isCodeShape(input.code)) {
      codeProblem = 'format';
    } else {
      const check = await flows.checkCode(id, flow, input.code);
      if (check.result === 'exhausted') return { outcome: 'too-many-tries' };
      if (check.result === 'wrong') {
        codeProblem = 'wrong';
        triesLeft = check.triesLeft;
      } else {
        codeConfirmed = true;
      }
    }
  }
  const person = codeConfirmed && flow.subject !== null ? personAfterCode(flow.subject) : flow.typed;
  const password = newPasswordProblem(input.password, person);
  const repeatMismatch = password === undefined && input.password !== input.passwordRepeat;
  if (codeProblem !== undefined || password !== undefined || repeatMismatch) {
    return {
      outcome: 'invalid',
      codeConfirmed,
      ...(triesLeft !== undefined && { triesLeft }),
      errors: {
        ...(codeProblem !== undefined && { code: codeProblem }),
        ...(password !== undefined && { password }),
        ...(repeatMismatch && { passwordRepeat: 'mismatch' as const }),
      },
    };
  }
  // Confirmed implies a subject: a flow without one has no code that matches.
  return { outcome: 'ready', subject: flow.subject!, flow };
}

// ---------------------------------------------------------------------------------------------
// Accounts: a registration must never overwrite an account (AccountRepository.enrol is an upsert
// for the demo seed). This belongs in AccountRepository as `create`; it lives here until then.

export async function insertAccountIfAbsent(
  db: Database,
  account: { nationalId: string; passwordHash: string; phoneNumber: string | null; email: string | null },
): Promise<string | undefined> {
  const rows = await db('accounts')
    .insert({
      national_id: account.nationalId,
      level: 1,
      status: 'active',
      password_hash: account.passwordHash,
      totp_secret_sealed: null,
      phone_number: account.phoneNumber,
      phone_number_verified: account.phoneNumber !== null,
      email: account.email,
      email_verified: account.email !== null,
    })
    .onConflict('national_id')
    .ignore()
    .returning<{ id: string }[]>('id');
  return rows[0]?.id;
}

// ---------------------------------------------------------------------------------------------
// Registration

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

/** A typed YYYY-MM-DD date against a registry date. */
export function sameDate(typed: string, recorded: string | null): boolean {
  return recorded !== null && recorded.slice(0, 10) === typed;
}

/** Which registry fields an application got wrong (for the audit trail: names of fields, no values). */
export function mismatchedFields(applicant: Applicant, record: RegistryRecord): string[] {
  const fields: string[] = [];
  if (!sameName(applicant.fullName, record.fullName)) fields.push('fullName');
  if (!sameDate(applicant.birthDate, record.birthDate)) fields.push('birthDate');
  if (!sameDate(applicant.idCardIssueDate, record.idCardIssueDate)) fields.push('idCardIssueDate');
  return fields;
}

/** How the lookup went, for the audit trail only: the applicant always sees the same answer. */
export type RegistrationRequestOutcome =
  | 'code-sent'
  | 'unknown-id'
  | 'mismatch'
  | 'deceased-or-missing'
  | 'under-age'
  | 'already-registered'
  | 'no-contact'
  | 'destination-limited'
  | 'delivery-failed';

export type StartResult =
  | { readonly outcome: 'answered'; readonly flowId: string }
  | { readonly outcome: 'rate-limited'; readonly retryAfterSeconds: number };

export interface RequestContext {
  /** The words of the messages, in the applicant's language. */
  readonly notices: NoticeWriter;
}

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
export interface RegistryLookup {
  findByNationalId(nationalId: string): Promise<RegistryRecord | undefined>;
}

export interface ConfirmationDependencies {
  readonly db: Database;
  readonly ephemeral: EphemeralStore;
  readonly registry: RegistryLookup;
  readonly accounts: AccountRepository;
  readonly passwords: PasswordHasher;
  readonly notifier: Notifier;
  readonly audit: AuditLog;
  /** Key of the codes' keyed hashes; never stored beside them. */
  readonly codeKey: Buffer;
  readonly policy?: ConfirmationPolicy;
  readonly now?: () => number;
  /** Where a failed delivery is reported (the applicant's answer does not change). */
  readonly logger?: Logger;
}

/**
 * Sends one message if the destination is under its hourly allowance; false when it was withheld or
 * could not be delivered (the caller's answer does not change either way).
 */
export async function deliver(
  deps: Pick<ConfirmationDependencies, 'notifier' | 'logger'>,
  limits: AttemptLimits,
  contact: Contact,
  message: { subject: string; body: string },
): Promise<'sent' | 'destination-limited' | 'delivery-failed'> {
  const allowance = await limits.message(contact.destination);
  if (!allowance.allowed) return 'destination-limited';
  try {
    await deps.notifier.send({ channel: contact.channel, destination: contact.destination, ...message });
    return 'sent';
  } catch (error) {
    deps.logger?.warn({ err: error, channel: contact.channel }, 'a message to a citizen could not be delivered');
    return 'delivery-failed';
  }
}

/**
 * Security notices (an account created, a password changed) go to every contact, whatever the hourly
 * allowance: they are how a citizen notices a takeover. A failed delivery is logged, not fatal.
 */
export async function notifyAll(
  deps: Pick<ConfirmationDependencies, 'notifier' | 'logger'>,
  contacts: readonly Contact[],
  message: { subject: string; body: string },
): Promise<void> {
  for (const contact of contacts) {
    try {
      await deps.notifier.send({ channel: contact.channel, destination: contact.destination, ...message });
    } catch (error) {
      deps.logger?.warn({ err: error, channel: contact.channel }, 'a security notice could not be delivered');
    }
  }
}

/** What every confirmation flow (registration, reset) is built from: its policy, flows and limits. */
export function confirmationParts<Subject>(deps: ConfirmationDependencies, purpose: 'register' | 'reset') {
  const policy = deps.policy ?? DEFAULT_CONFIRMATION_POLICY;
  return {
    policy,
    flows: new ConfirmationFlows<Subject>({ store: deps.ephemeral, codeKey: deps.codeKey, policy, purpose, ...(deps.now && { now: deps.now }) }),
    limits: new AttemptLimits(deps.ephemeral, policy, purpose, deps.now),
  };
}

/**
 * Counts a request for an ID number; the rate-limited answer when it is over its allowance (the
 * first refusal of a window is audited), else undefined.
 */
export async function overAllowance(
  limits: AttemptLimits,
  audit: AuditLog,
  nationalId: string,
  type: 'registration.rate_limited' | 'password_reset.rate_limited',
): Promise<StartResult | undefined> {
  const verdict = await limits.attempt(nationalId);
  if (verdict.allowed) return undefined;
  if (verdict.first) await recordAudit(audit, { type, data: { submittedId: maskedId(nationalId) } });
  return { outcome: 'rate-limited', retryAfterSeconds: verdict.retryAfterSeconds };
}

/** Self-registration is for people aged 14 and over (DOMAIN.md: younger children only on request, at an office). */
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
    let channel: Channel | undefined;
    let flowId: string | undefined;
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
      const contact = registryContact(record);
      if (!contact) {
        outcome = 'no-contact';
      } else {
        channel = contact.channel;
        const issued = await this.#flows.issue(formId, typed, { nationalId: record.nationalId, birthDate: record.birthDate });
        const minutes = Math.max(1, Math.ceil(this.#policy.codeTtlSeconds / 60));
        const sent = await deliver(this.#deps, this.#limits, contact, context.notices({ kind: 'registration-code', code: issued.code!, minutes }));
        if (sent === 'sent') {
          outcome = 'code-sent';
          flowId = issued.id;
        } else {
          outcome = sent;
          await this.#flows.drop(issued.id);
        }
      }
    }
    // Whatever happened, the applicant gets a flow that looks the same; only a sent code confirms one.
    flowId ??= (await this.#flows.issue(formId, typed, null)).id;

    if (outcome === 'already-registered' && account) {
      // The holder hears that someone with their card details tried; the applicant hears nothing new.
      const contacts = verifiedContacts(account);
      const fallback = record && registryContact(record);
      for (const contact of contacts.length > 0 ? contacts : fallback ? [fallback] : []) {
        await deliver(this.#deps, this.#limits, contact, context.notices({ kind: 'registration-attempt' }));
      }
    }
    await recordAudit(this.#deps.audit, {
      type: 'registration.requested',
      ...(outcome === 'already-registered' && account && { accountId: account.id }),
      data: {
        submittedId,
        outcome,
        ...(mismatch.length > 0 && { mismatch }),
        ...(channel && { channel }),
      },
    });
    return { outcome: 'answered', flowId };
  }

  /** The second step: the code and a new password; on success a level-1 account exists. */
  async confirm(flowId: string | undefined, input: ConfirmationInput, context: RequestContext): Promise<RegistrationResult> {
    const flow = await this.#flows.find(flowId);
    const checked = await checkConfirmation(this.#flows, flowId ?? '', flow, input, (subject) => subject);
    if (checked.outcome !== 'ready') {
      const reason = checked.outcome === 'too-many-tries' ? 'too-many-tries' : checked.outcome === 'invalid' && checked.errors.code === 'wrong' ? 'wrong-code' : undefined;
      if (reason && flow?.stage === 'code') {
        await recordAudit(this.#deps.audit, {
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
      await recordAudit(this.#deps.audit, {
        type: 'registration.confirmation_failed',
        data: { reason: 'deceased-or-missing', submittedId: maskedId(subject.nationalId) },
      });
      return { outcome: 'refused' };
    }
    const accountId = await insertAccountIfAbsent(this.#deps.db, {
      nationalId: record.nationalId,
      passwordHash,
      phoneNumber: record.contactPhone,
      email: record.contactEmail,
    });
    if (accountId === undefined) {
      await recordAudit(this.#deps.audit, {
        type: 'registration.confirmation_failed',
        data: { reason: 'already-registered', submittedId: maskedId(subject.nationalId) },
      });
      return { outcome: 'already-registered' };
    }
    await recordAudit(this.#deps.audit, {
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
