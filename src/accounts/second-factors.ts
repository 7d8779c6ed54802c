// Second factors beyond the password, checked at sign-in and enrolled on the account page: the TOTP
// secret (sealed), ten single-use recovery codes (kept as SHA-256 hashes), and passkeys (WebAuthn
// credentials, verified with @simplewebauthn/server, user verification always required). The rules
// live here; what is stored, and how, is the account store's (account-store.ts).
import { createHash, randomInt } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import type { KeyEncryption } from '../storage/key-encryption.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Account } from './accounts.ts';
import type { AccountStore, Passkey, SecondFactors } from './account-store.ts';
import type { BruteForceGuard, Lock } from './brute-force.ts';
import type { TotpVerifier } from './totp.ts';

export type { Passkey, SecondFactors } from './account-store.ts';

// ---------------------------------------------------------------------------------------------------
// What an account holds

/** TOTP or a passkey: what a second sign-in step can rest on (recovery codes are only a way back in). */
export function hasStrongSecondFactor(factors: SecondFactors): boolean {
  return factors.totp || factors.passkeys > 0;
}

// ---------------------------------------------------------------------------------------------------
// TOTP

/** The AEAD context TOTP secrets are sealed under (bound to the person). */
export const totpSealContext = (nationalId: string) => `totp:${nationalId}`;

/** Stores a confirmed TOTP secret, sealed, replacing any earlier one. */
export async function enrolTotpSecret(
  store: Pick<AccountStore, 'saveTotpSecret'>,
  sealer: KeyEncryption,
  account: { readonly id: string; readonly nationalId: string },
  secret: string,
): Promise<void> {
  await store.saveTotpSecret(account.id, sealer.seal(secret, totpSealContext(account.nationalId)));
}

// ---------------------------------------------------------------------------------------------------
// Recovery codes

export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32: no I, L, O or U, so a code read aloud or off paper is not misread (recovery and handover codes). */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RECOVERY_CODE_LENGTH = 12; // 60 random bits: SHA-256 without a salt is enough against guessing.

/** Upper case, separators dropped, and the letters Crockford's base32 reads as digits mapped to them. */
export function normalizeCrockford(code: string): string {
  return code
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normalizeCrockford(code)).digest('hex');
}

function newRecoveryCode(): string {
  let code = '';
  for (let index = 0; index < RECOVERY_CODE_LENGTH; index += 1) code += CROCKFORD_ALPHABET[randomInt(CROCKFORD_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
}

/**
 * Makes ten new recovery codes and forgets every earlier one (used or not). The codes are returned
 * once, to be shown once; only their hashes are kept.
 */
export async function issueRecoveryCodes(store: Pick<AccountStore, 'replaceRecoveryCodes'>, accountId: string): Promise<string[]> {
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(newRecoveryCode());
  await store.replaceRecoveryCodes(accountId, [...codes].map(hashRecoveryCode));
  return [...codes];
}

/**
 * Spends one recovery code of the account: true exactly once per code, even when two requests race.
 * Any spacing, hyphens or letter case is accepted.
 */
export async function spendRecoveryCode(store: Pick<AccountStore, 'spendRecoveryCode'>, accountId: string, code: string): Promise<boolean> {
  const normalized = normalizeCrockford(code);
  if (normalized.length !== RECOVERY_CODE_LENGTH || ![...normalized].every((char) => CROCKFORD_ALPHABET.includes(char))) return false;
  return store.spendRecoveryCode(accountId, hashRecoveryCode(normalized));
}

// ---------------------------------------------------------------------------------------------------
// Passkeys (WebAuthn)

/** Who the passkeys belong to: the issuer's host name (a domain: WebAuthn refuses IP addresses) and origin. */
export interface RelyingParty {
  readonly id: string;
  readonly origin: string;
  readonly name: string;
}

export function relyingPartyOf(issuer: string): RelyingParty {
  const url = new URL(issuer);
  return { id: url.hostname, origin: url.origin, name: 'Định danh điện tử quốc gia' };
}

export const MAX_PASSKEY_NAME_LENGTH = 60;
// ES256, EdDSA, RS256 (COSE ids), named rather than left to the library's default, whose probe for
// post-quantum support prints experimental-feature warnings on Node 24.
const PASSKEY_ALGORITHMS = [-7, -8, -257];
const WEBAUTHN_TIMEOUT_MS = 120_000;
const AUTHENTICATOR_TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

/** The account's UUID as the WebAuthn user handle: never the ID number. */
function userHandleOf(accountId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(accountId.replace(/-/g, ''), 'hex'));
}

function accountIdOfUserHandle(handle: string): string | undefined {
  const hex = Buffer.from(handle, 'base64url').toString('hex');
  return hex.length === 32 ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` : undefined;
}

/** Options for navigator.credentials.create(); the caller keeps `challenge` for the verification. */
export async function passkeyCreationOptions(
  store: Pick<AccountStore, 'passkeyCredentialsOf'>,
  relyingParty: RelyingParty,
  user: { readonly accountId: string; readonly userName: string; readonly displayName: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await store.passkeyCredentialsOf(user.accountId);
  return generateRegistrationOptions({
    rpName: relyingParty.name,
    rpID: relyingParty.id,
    userID: userHandleOf(user.accountId),
    userName: user.userName,
    userDisplayName: user.displayName,
    timeout: WEBAUTHN_TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports })),
    // A discoverable credential, so it can sign in without the ID number being typed; the device
    // checks who holds it (PIN or biometrics): user verification is required, here and at sign-in.
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
  });
}

/** What the browser sent is not a WebAuthn credential, or it does not verify. */
export class PasskeyRejected extends Error {
  override readonly name = 'PasskeyRejected';
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/).max(16_384);
/** A WebAuthn credential as the browser's JSON carries it, with the ceremony's own `response`. */
const credentialShape = <Response extends z.ZodRawShape>(response: Response) =>
  z.object({
    id: base64url,
    rawId: base64url,
    type: z.literal('public-key'),
    authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
    response: z.object(response),
  });
const registrationShape = credentialShape({ clientDataJSON: base64url, attestationObject: base64url, transports: z.array(z.string()).max(10).optional() });
const assertionShape = credentialShape({ clientDataJSON: base64url, authenticatorData: base64url, signature: base64url, userHandle: base64url.optional() });

/** JSON text or an already parsed value, checked against a shape. */
function parseCredential<T>(shape: z.ZodType<T>, credential: unknown): T {
  let value = credential;
  if (typeof credential === 'string') {
    if (credential.length > 65_536) throw new PasskeyRejected('the credential is too large');
    try {
      value = JSON.parse(credential);
    } catch (error) {
      throw new PasskeyRejected('the credential is not JSON', { cause: error });
    }
  }
  const parsed = shape.safeParse(value);
  if (!parsed.success) throw new PasskeyRejected('the credential does not have the shape of a WebAuthn response', { cause: parsed.error });
  return parsed.data;
}

/**
 * Verifies a new passkey against the challenge that was offered, and stores it. Throws PasskeyRejected
 * when it does not verify (wrong challenge, origin, RP ID, no user verification) or is already known.
 */
export async function registerPasskey(
  store: Pick<AccountStore, 'addPasskey'>,
  relyingParty: RelyingParty,
  input: { readonly accountId: string; readonly credential: unknown; readonly expectedChallenge: string; readonly name: string },
): Promise<Passkey> {
  const response = parseCredential(registrationShape, input.credential) as RegistrationResponseJSON;
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: relyingParty.origin,
      expectedRPID: relyingParty.id,
      requireUserVerification: true,
      supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
    });
  } catch (error) {
    throw new PasskeyRejected('the passkey did not verify', { cause: error });
  }
  if (!verification.verified) throw new PasskeyRejected('the passkey did not verify');
  const { credential } = verification.registrationInfo;
  const name = input.name.trim().slice(0, MAX_PASSKEY_NAME_LENGTH) || 'Passkey';
  const passkey = await store.addPasskey({
    credentialId: credential.id,
    accountId: input.accountId,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    counter: credential.counter,
    transports: (credential.transports ?? []).filter((transport) => AUTHENTICATOR_TRANSPORTS.has(transport)),
    name,
  });
  if (!passkey) throw new PasskeyRejected('this passkey is already registered');
  return passkey;
}

/**
 * Options for navigator.credentials.get(). With an account, only its passkeys are allowed; without
 * one, the browser offers the discoverable passkeys it holds for this site. The caller keeps
 * `challenge` (one per attempt, single use: see PasskeyChallenges) for verifyPasskeyAssertion.
 */
export async function passkeyRequestOptions(
  store: Pick<AccountStore, 'passkeyCredentialsOf'>,
  relyingParty: RelyingParty,
  accountId?: string,
  /** The challenge, when the caller made it (src/accounts/passkey-sign-in.ts); else a random one. */
  challenge?: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const allowed = accountId ? await store.passkeyCredentialsOf(accountId) : [];
  return generateAuthenticationOptions({
    rpID: relyingParty.id,
    ...(challenge !== undefined && { challenge: new Uint8Array(Buffer.from(challenge, 'base64url')) }),
    timeout: WEBAUTHN_TIMEOUT_MS,
    userVerification: 'required',
    ...(accountId && { allowCredentials: allowed.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports })) }),
  });
}

export interface PasskeyAssertion {
  readonly accountId: string;
  readonly credentialId: string;
}

/**
 * Verifies a sign-in with a passkey: the credential must be registered (to `accountId` when given),
 * signed over the expected challenge by this origin and RP ID, with user verification, and its
 * signature counter must not go backwards (a cloned authenticator). Returns whose passkey it was, or
 * undefined when it does not verify. The counter and last use are updated.
 */
export async function checkPasskeyAssertion(
  store: Pick<AccountStore, 'findPasskey' | 'advancePasskeyCounter'>,
  relyingParty: RelyingParty,
  input: { readonly credential: unknown; readonly expectedChallenge: string; readonly accountId?: string },
): Promise<PasskeyAssertion | undefined> {
  let response: AuthenticationResponseJSON;
  try {
    response = parseCredential(assertionShape, input.credential);
  } catch {
    return undefined;
  }
  const passkey = await store.findPasskey(response.id);
  if (!passkey) return undefined;
  if (input.accountId !== undefined && passkey.accountId !== input.accountId) return undefined;
  // A discoverable credential names its user: it must be the passkey's own account.
  if (response.response.userHandle !== undefined && accountIdOfUserHandle(response.response.userHandle) !== passkey.accountId) return undefined;
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: relyingParty.origin,
      expectedRPID: relyingParty.id,
      credential: {
        id: passkey.credentialId,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
        counter: passkey.counter,
        transports: passkey.transports,
      },
      requireUserVerification: true,
    });
  } catch {
    return undefined;
  }
  if (!verification.verified) return undefined;
  if (!(await store.advancePasskeyCounter(passkey.credentialId, passkey.counter, verification.authenticationInfo.newCounter))) return undefined;
  return { accountId: passkey.accountId, credentialId: passkey.credentialId };
}

/**
 * WebAuthn challenges kept in the shared store (so any instance can verify), each usable once: the
 * scope names what it is for (an interaction, an account-page session).
 */
export class PasskeyChallenges {
  readonly #store: EphemeralStore;

  constructor(store: EphemeralStore) {
    this.#store = store;
  }

  async remember(scope: string, challenge: string, ttlSeconds = WEBAUTHN_TIMEOUT_MS / 1000 + 60): Promise<void> {
    await this.#store.put(`passkey-challenge:{${scope}}`, challenge, ttlSeconds);
  }

  /** The scope's challenge, once: a second call (or a racing one) gets undefined. */
  async take(scope: string): Promise<string | undefined> {
    const key = `passkey-challenge:{${scope}}`;
    const challenge = await this.#store.get(key);
    if (challenge === undefined) return undefined;
    // SET NX decides which of two racing takers gets it; the marker outlives the challenge.
    const first = await this.#store.putIfAbsent(`passkey-challenge-used:{${scope}}:${challenge}`, '1', WEBAUTHN_TIMEOUT_MS / 1000 + 120);
    await this.#store.delete(key);
    return first ? challenge : undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// The second factor at sign-in: a TOTP code (burnt once used) or a recovery code, with guesses counted
// per account like password failures, so a stolen password does not open a level-2 session by brute force.

export type SecondFactorOutcome =
  | { readonly outcome: 'valid'; readonly amr: readonly string[] }
  | { readonly outcome: 'invalid' }
  | { readonly outcome: 'locked'; readonly until: Date };

export class SecondFactorCheck {
  readonly #store: Pick<AccountStore, 'sealedTotpSecretOf' | 'spendRecoveryCode'>;
  readonly #sealer: KeyEncryption;
  readonly #totp: TotpVerifier;
  readonly #guard: BruteForceGuard;
  readonly #metrics: Pick<Metrics, 'signIn'> | undefined;

  constructor(deps: {
    store: Pick<AccountStore, 'sealedTotpSecretOf' | 'spendRecoveryCode'>;
    sealer: KeyEncryption;
    totp: TotpVerifier;
    bruteForce: BruteForceGuard;
    metrics?: Pick<Metrics, 'signIn'>;
  }) {
    this.#store = deps.store;
    this.#sealer = deps.sealer;
    this.#totp = deps.totp;
    this.#guard = deps.bruteForce;
    this.#metrics = deps.metrics;
  }

  /** Whether the account can be stepped up to level 2 at all. */
  canReachLevel2(account: Account): boolean {
    return account.level === 2 && account.hasSecondFactor;
  }

  lockOf(account: Account): Promise<Lock> {
    return this.#guard.lockOf({ kind: 'otp', accountId: account.id });
  }

  async verify(account: Account, input: string, context: { ip?: string }): Promise<SecondFactorOutcome> {
    const target = { kind: 'otp' as const, accountId: account.id };
    const lock = await this.#guard.lockOf(target);
    if (lock.locked) {
      this.#metrics?.signIn('locked');
      return { outcome: 'locked', until: lock.until };
    }
    const code = input.replace(/\s+/g, '');
    let amr: string[] | undefined;
    if (/^\d{6}$/.test(code)) {
      const sealed = await this.#store.sealedTotpSecretOf(account.id);
      if (sealed) {
        const secret = this.#sealer.open(sealed, totpSealContext(account.nationalId));
        if ((await this.#totp.verify(account.id, secret, code)) === 'valid') amr = ['otp'];
      }
    } else if (code.length > 0 && code.length <= 64) {
      // Lost phone: one of the ten recovery codes, each good once.
      if (await spendRecoveryCode(this.#store, account.id, code)) amr = ['otp'];
    }
    if (!amr) {
      const locked = await this.#guard.recordFailure(target, { ip: context.ip, accountId: account.id });
      this.#metrics?.signIn('second_factor_invalid');
      return locked.locked ? { outcome: 'locked', until: locked.until } : { outcome: 'invalid' };
    }
    await this.#guard.recordSuccess(target);
    return { outcome: 'valid', amr };
  }
}

// ---------------------------------------------------------------------------------------------------
// The account page's service: the rules above over the account store, the sealer and this issuer's
// relying party, so its routes hold neither a database handle nor a store.

export class AccountFactors {
  readonly #store: AccountStore;
  readonly #sealer: KeyEncryption;
  readonly #relyingParty: RelyingParty;

  constructor(deps: { store: AccountStore; sealer: KeyEncryption; issuer: string }) {
    this.#store = deps.store;
    this.#sealer = deps.sealer;
    this.#relyingParty = relyingPartyOf(deps.issuer);
  }

  factorsOf(accountId: string): Promise<SecondFactors> {
    return this.#store.secondFactorsOf(accountId);
  }

  enrolTotp(account: { readonly id: string; readonly nationalId: string }, secret: string): Promise<void> {
    return enrolTotpSecret(this.#store, this.#sealer, account, secret);
  }

  /** True when a secret was removed. */
  removeTotp(accountId: string): Promise<boolean> {
    return this.#store.removeTotpSecret(accountId);
  }

  issueRecoveryCodes(accountId: string): Promise<string[]> {
    return issueRecoveryCodes(this.#store, accountId);
  }

  listPasskeys(accountId: string): Promise<Passkey[]> {
    return this.#store.listPasskeys(accountId);
  }

  passkeyCreationOptions(user: Parameters<typeof passkeyCreationOptions>[2]): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return passkeyCreationOptions(this.#store, this.#relyingParty, user);
  }

  registerPasskey(input: Parameters<typeof registerPasskey>[2]): Promise<Passkey> {
    return registerPasskey(this.#store, this.#relyingParty, input);
  }

  /** True when the passkey was the account's and is gone. */
  removePasskey(accountId: string, credentialId: string): Promise<boolean> {
    return this.#store.removePasskey(accountId, credentialId);
  }

  passkeyRequestOptions(accountId?: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return passkeyRequestOptions(this.#store, this.#relyingParty, accountId);
  }

  checkPasskeyAssertion(input: Parameters<typeof checkPasskeyAssertion>[2]): Promise<PasskeyAssertion | undefined> {
    return checkPasskeyAssertion(this.#store, this.#relyingParty, input);
  }
}
