// Second factors beyond the password: the TOTP secret (sealed in accounts.totp_secret_sealed), ten
// single-use recovery codes (stored as SHA-256 hashes), and passkeys (WebAuthn credentials, verified
// with @simplewebauthn/server, user verification always required). Enrolment is the account page's;
// the sign-in side uses useRecoveryCode, passkeyAuthenticationOptions and verifyPasskeyAssertion.
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
import type { Database } from '../storage/database.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import type { KeyEncryption } from '../storage/key-encryption.ts';

// ---------------------------------------------------------------------------------------------------
// What an account holds

export interface SecondFactors {
  readonly totp: boolean;
  /** Null for a secret stored without enrolment (the demo seed). */
  readonly totpEnrolledAt: Date | null;
  readonly passkeys: number;
  readonly recoveryCodesLeft: number;
}

/** The factors an account has; a level-2 account needs TOTP or a passkey to reach level 2. */
export async function secondFactorsOf(db: Database, accountId: string): Promise<SecondFactors> {
  const [account, passkeys, codes] = await Promise.all([
    db('accounts').where({ id: accountId }).first<{ totp_secret_sealed: string | null; totp_enrolled_at: Date | null } | undefined>(
      'totp_secret_sealed',
      'totp_enrolled_at',
    ),
    db('passkeys').where({ account_id: accountId }).count<{ count: string }[]>('* as count'),
    db('recovery_codes').where({ account_id: accountId }).whereNull('used_at').count<{ count: string }[]>('* as count'),
  ]);
  const totp = account?.totp_secret_sealed != null;
  return {
    totp,
    totpEnrolledAt: totp ? (account.totp_enrolled_at ?? null) : null,
    passkeys: Number(passkeys[0]?.count ?? 0),
    recoveryCodesLeft: Number(codes[0]?.count ?? 0),
  };
}

/** TOTP or a passkey: what a second sign-in step can rest on (recovery codes are only a way back in). */
export function hasStrongSecondFactor(factors: SecondFactors): boolean {
  return factors.totp || factors.passkeys > 0;
}

// ---------------------------------------------------------------------------------------------------
// TOTP

/** The AEAD context TOTP secrets are sealed under (bound to the person). */
export const totpSealContext = (nationalId: string) => `totp:${nationalId}`;

/** Stores a confirmed TOTP secret, replacing any earlier one. */
export async function saveTotpSecret(
  db: Database,
  sealer: KeyEncryption,
  account: { readonly id: string; readonly nationalId: string },
  secret: string,
): Promise<void> {
  await db('accounts')
    .where({ id: account.id })
    .update({
      totp_secret_sealed: sealer.seal(secret, totpSealContext(account.nationalId)),
      totp_enrolled_at: db.fn.now(),
      updated_at: db.fn.now(),
    });
}

export async function removeTotpSecret(db: Database, accountId: string): Promise<boolean> {
  const updated = await db('accounts')
    .where({ id: accountId })
    .whereNotNull('totp_secret_sealed')
    .update({ totp_secret_sealed: null, totp_enrolled_at: null, updated_at: db.fn.now() });
  return updated > 0;
}

/** The account's TOTP secret in clear, for verification; undefined when none is enrolled. */
export async function openTotpSecret(
  db: Database,
  sealer: KeyEncryption,
  account: { readonly id: string; readonly nationalId: string },
): Promise<string | undefined> {
  const row = await db('accounts').where({ id: account.id }).first<{ totp_secret_sealed: string | null } | undefined>('totp_secret_sealed');
  return row?.totp_secret_sealed ? sealer.open(row.totp_secret_sealed, totpSealContext(account.nationalId)) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Recovery codes

export const RECOVERY_CODE_COUNT = 10;
// Crockford's base32: no I, L, O or U, so a code read aloud or off paper is not misread.
const RECOVERY_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RECOVERY_CODE_LENGTH = 12; // 60 random bits: SHA-256 without a salt is enough against guessing.

/** Upper case, separators dropped, and the letters Crockford's base32 reads as digits mapped to them. */
export function normalizeRecoveryCode(code: string): string {
  return code
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normalizeRecoveryCode(code)).digest('hex');
}

function newRecoveryCode(): string {
  let code = '';
  for (let index = 0; index < RECOVERY_CODE_LENGTH; index += 1) code += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
}

/**
 * Makes ten new recovery codes and forgets every earlier one (used or not). The codes are returned
 * once, to be shown once; only their hashes are kept.
 */
export async function generateRecoveryCodes(db: Database, accountId: string): Promise<string[]> {
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) codes.add(newRecoveryCode());
  await db.transaction(async (trx) => {
    await trx('recovery_codes').where({ account_id: accountId }).delete();
    await trx('recovery_codes').insert([...codes].map((code) => ({ account_id: accountId, code_hash: hashRecoveryCode(code) })));
  });
  return [...codes];
}

/**
 * Spends one recovery code of the account: true exactly once per code, even when two requests race
 * (one conditional UPDATE). Any spacing, hyphens or letter case is accepted.
 */
export async function useRecoveryCode(db: Database, accountId: string, code: string): Promise<boolean> {
  const normalized = normalizeRecoveryCode(code);
  if (normalized.length !== RECOVERY_CODE_LENGTH || ![...normalized].every((char) => RECOVERY_ALPHABET.includes(char))) return false;
  const updated = await db('recovery_codes')
    .where({ account_id: accountId, code_hash: hashRecoveryCode(normalized) })
    .whereNull('used_at')
    .update({ used_at: db.fn.now() });
  return updated === 1;
}

export async function removeRecoveryCodes(db: Database, accountId: string): Promise<number> {
  return db('recovery_codes').where({ account_id: accountId }).delete();
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

export interface Passkey {
  readonly credentialId: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

interface PasskeyRow {
  credential_id: string;
  account_id: string;
  public_key: string;
  counter: string;
  transports: string[];
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

export const MAX_PASSKEY_NAME_LENGTH = 60;
// ES256, EdDSA, RS256 (COSE ids), named rather than left to the library's default, whose probe for
// post-quantum support prints experimental-feature warnings on Node 24.
const PASSKEY_ALGORITHMS = [-7, -8, -257];
const WEBAUTHN_TIMEOUT_MS = 120_000;
const AUTHENTICATOR_TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

export async function listPasskeys(db: Database, accountId: string): Promise<Passkey[]> {
  const rows = await db<PasskeyRow>('passkeys').where({ account_id: accountId }).orderBy('created_at', 'asc');
  return rows.map((row) => ({ credentialId: row.credential_id, name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at }));
}

export async function removePasskey(db: Database, accountId: string, credentialId: string): Promise<boolean> {
  return (await db('passkeys').where({ account_id: accountId, credential_id: credentialId }).delete()) > 0;
}

/** The account's UUID as the WebAuthn user handle: never the ID number. */
function userHandleOf(accountId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(accountId.replace(/-/g, ''), 'hex'));
}

function accountIdOfUserHandle(handle: string): string | undefined {
  const hex = Buffer.from(handle, 'base64url').toString('hex');
  return hex.length === 32 ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` : undefined;
}

/** Options for navigator.credentials.create(); the caller keeps `challenge` for the verification. */
export async function passkeyRegistrationOptions(
  db: Database,
  relyingParty: RelyingParty,
  user: { readonly accountId: string; readonly userName: string; readonly displayName: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await db<PasskeyRow>('passkeys').where({ account_id: user.accountId }).select('credential_id', 'transports');
  return generateRegistrationOptions({
    rpName: relyingParty.name,
    rpID: relyingParty.id,
    userID: userHandleOf(user.accountId),
    userName: user.userName,
    userDisplayName: user.displayName,
    timeout: WEBAUTHN_TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((row) => ({ id: row.credential_id, transports: row.transports })),
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
const registrationShape = z.object({
  id: base64url,
  rawId: base64url,
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  response: z.object({
    clientDataJSON: base64url,
    attestationObject: base64url,
    transports: z.array(z.string()).max(10).optional(),
  }),
});
const assertionShape = z.object({
  id: base64url,
  rawId: base64url,
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.optional(),
  }),
});

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
export async function verifyPasskeyRegistration(
  db: Database,
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
  const [row] = await db('passkeys')
    .insert({
      credential_id: credential.id,
      account_id: input.accountId,
      public_key: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: (credential.transports ?? []).filter((transport) => AUTHENTICATOR_TRANSPORTS.has(transport)),
      name,
    })
    .onConflict('credential_id')
    .ignore()
    .returning<PasskeyRow[]>('*');
  if (!row) throw new PasskeyRejected('this passkey is already registered');
  return { credentialId: row.credential_id, name: row.name, createdAt: row.created_at, lastUsedAt: null };
}

/**
 * Options for navigator.credentials.get(). With an account, only its passkeys are allowed; without
 * one, the browser offers the discoverable passkeys it holds for this site. The caller keeps
 * `challenge` (one per attempt, single use: see PasskeyChallenges) for verifyPasskeyAssertion.
 */
export async function passkeyAuthenticationOptions(
  db: Database,
  relyingParty: RelyingParty,
  accountId?: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const allowed = accountId
    ? await db<PasskeyRow>('passkeys').where({ account_id: accountId }).select('credential_id', 'transports')
    : [];
  return generateAuthenticationOptions({
    rpID: relyingParty.id,
    timeout: WEBAUTHN_TIMEOUT_MS,
    userVerification: 'required',
    ...(accountId && { allowCredentials: allowed.map((row) => ({ id: row.credential_id, transports: row.transports })) }),
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
export async function verifyPasskeyAssertion(
  db: Database,
  relyingParty: RelyingParty,
  input: { readonly credential: unknown; readonly expectedChallenge: string; readonly accountId?: string },
): Promise<PasskeyAssertion | undefined> {
  let response: AuthenticationResponseJSON;
  try {
    response = parseCredential(assertionShape, input.credential);
  } catch {
    return undefined;
  }
  const row = await db<PasskeyRow>('passkeys').where({ credential_id: response.id }).first();
  if (!row) return undefined;
  if (input.accountId !== undefined && row.account_id !== input.accountId) return undefined;
  // A discoverable credential names its user: it must be the passkey's own account.
  if (response.response.userHandle !== undefined && accountIdOfUserHandle(response.response.userHandle) !== row.account_id) return undefined;
  const storedCounter = Number(row.counter);
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: relyingParty.origin,
      expectedRPID: relyingParty.id,
      credential: {
        id: row.credential_id,
        publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
        counter: storedCounter,
        transports: row.transports,
      },
      requireUserVerification: true,
    });
  } catch {
    return undefined;
  }
  if (!verification.verified) return undefined;
  // Compare-and-set on the counter: of two racing assertions with the same counter, one wins.
  const updated = await db('passkeys')
    .where({ credential_id: row.credential_id, counter: storedCounter })
    .update({ counter: verification.authenticationInfo.newCounter, last_used_at: db.fn.now() });
  if (updated !== 1) return undefined;
  return { accountId: row.account_id, credentialId: row.credential_id };
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
