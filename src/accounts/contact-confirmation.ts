// The confirmation flow registration and password reset share: a six-digit code sent to a contact
// the registry (or the account) holds, a limited number of guesses, an expiry, hourly allowances per
// ID number and per destination, and the new password checked before the code is spent. Also the
// security notices both send, and how a contact or an ID number may be shown.
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import type { RegistryRecord } from '../registry/registry.ts';
import { maskIdNumbers } from '../observability/redact.ts';
import type { Logger } from '../observability/logger.ts';
import type { AccountStore } from './account-store.ts';
import type { Channel, Notifier, QueuedMessage } from './notifier.ts';
import type { PasswordHasher } from './passwords.ts';
import { passwordProblem, type PasswordProblem } from './password-policy.ts';
import { verifiedContactsOf } from './self-service.ts';

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
  /** Messages per destination per hour, counted at delivery; beyond it a code is withheld, silently (the answer stays neutral). */
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

/** Every verified contact of an account (phone first). */
export const verifiedContacts: (account: Parameters<typeof verifiedContactsOf>[0]) => Contact[] = verifiedContactsOf;

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


/** A typed YYYY-MM-DD date against a registry date. */
export function sameDate(typed: string, recorded: string | null): boolean {
  return recorded !== null && recorded.slice(0, 10) === typed;
}

export type StartResult =
  | { readonly outcome: 'answered'; readonly flowId: string }
  | { readonly outcome: 'rate-limited'; readonly retryAfterSeconds: number };

export interface RequestContext {
  /** The words of the messages, in the applicant's language. */
  readonly notices: NoticeWriter;
}

export interface RegistryLookup {
  findByNationalId(nationalId: string): Promise<RegistryRecord | undefined>;
}

export interface ConfirmationDependencies {
  readonly ephemeral: EphemeralStore;
  readonly registry: RegistryLookup;
  readonly accounts: Pick<AccountStore, 'findByNationalId' | 'findById' | 'createIfAbsent' | 'updatePasswordHash'>;
  readonly passwords: PasswordHasher;
  readonly notifier: Notifier;
  readonly audit: AuditLog;
  /** Key of the codes' keyed hashes; never stored beside them. */
  readonly codeKey: Buffer;
  readonly policy?: ConfirmationPolicy;
  readonly now?: () => number;
  /** Where a security notice that could not be queued is reported. */
  readonly logger?: Logger;
}

/**
 * A code for a contact, queued to count against the destination's hourly allowance (checked at
 * delivery: beyond it the code is withheld, silently) and given up once the code has expired.
 */
export function codeMessage(contact: Contact, purpose: 'register' | 'reset', policy: ConfirmationPolicy, words: { subject: string; body: string }): QueuedMessage {
  return { channel: contact.channel, destination: contact.destination, ...words, allowance: purpose, validForSeconds: policy.codeTtlSeconds };
}

/**
 * Security notices (an account created, a password changed) go to every contact, whatever the hourly
 * allowance: they are how a citizen notices a takeover. The change is made already: a notice that
 * cannot be queued is logged, not fatal.
 */
export async function notifyAll(
  deps: Pick<ConfirmationDependencies, 'notifier' | 'logger'>,
  contacts: readonly Contact[],
  message: { subject: string; body: string },
): Promise<void> {
  try {
    await deps.notifier.enqueue(contacts.map((contact) => ({ channel: contact.channel, destination: contact.destination, ...message })));
  } catch (error) {
    deps.logger?.error({ err: error }, 'security notices could not be queued');
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
  if (verdict.first) await audit.record({ type, data: { submittedId: maskedId(nationalId) } });
  return { outcome: 'rate-limited', retryAfterSeconds: verdict.retryAfterSeconds };
}

