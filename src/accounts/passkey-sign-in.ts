// Sign-in with a passkey (WebAuthn, user verification required): no password, so a password lock
// does not stop it. The account and the registry are checked as for a password; a level-2 account
// signing in with a verified passkey reaches level 2 (possession plus PIN or biometrics).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RegistryGateway } from '../registry/gateway.ts';
import { isAlive } from '../registry/registry.ts';
import type { Account } from './accounts.ts';
import type { AccountStore } from './account-store.ts';
import { PasskeyChallenges, checkPasskeyAssertion, passkeyRequestOptions, relyingPartyOf } from './second-factors.ts';

export type PasskeySignInResult =
  | { readonly outcome: 'signed-in'; readonly account: Account }
  | { readonly outcome: 'not-verified' }
  | { readonly outcome: 'refused' };

/** Longest credential JSON accepted from the form (a real assertion is about 1 kB). */
export const MAX_CREDENTIAL_LENGTH = 16 * 1024;

/** How long a login page's passkey challenge is good for: WebAuthn's two minutes plus one to send the form. */
const LOGIN_CHALLENGE_SECONDS = 180;

/**
 * The key of the login challenges, the same on every instance without storing anything: an HMAC of
 * the key-encryption key (as src/oidc/fapi.ts dpopNonceSecret), so a challenge one instance put on a
 * login page, another accepts.
 */
export function passkeyChallengeSecret(keyEncryptionKey: Buffer): Buffer {
  return createHmac('sha256', keyEncryptionKey).update('citizen-idp passkey login challenge v1').digest();
}

/**
 * Login challenges issued without a write (issue 19: the login page wrote one to Redis on every render,
 * used or not): 16 random bytes, an expiry and an HMAC binding both to the interaction. Taken once:
 * the same SET NX marker as a stored challenge's (PasskeyChallenges.take), written only when a passkey
 * is actually presented — so a challenge is good for one interaction, for three minutes, once.
 */
class SealedLoginChallenges {
  readonly #secret: Buffer;
  readonly #store: EphemeralStore;

  constructor(secret: Buffer, store: EphemeralStore) {
    this.#secret = secret;
    this.#store = store;
  }

  #mac(interactionUid: string, body: Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(`login:${interactionUid}:`).update(body).digest().subarray(0, 16);
  }

  issue(interactionUid: string): string {
    const body = Buffer.alloc(20);
    randomBytes(16).copy(body);
    body.writeUInt32BE(Math.floor(Date.now() / 1000) + LOGIN_CHALLENGE_SECONDS, 16);
    return Buffer.concat([body, this.#mac(interactionUid, body)]).toString('base64url');
  }

  /** The challenge the credential was signed over, if this interaction's, unexpired and not taken before. */
  async take(interactionUid: string, credential: string): Promise<string | undefined> {
    const challenge = signedChallengeOf(credential);
    if (!challenge) return undefined;
    const bytes = Buffer.from(challenge, 'base64url');
    if (bytes.length !== 36 || bytes.toString('base64url') !== challenge) return undefined;
    const body = bytes.subarray(0, 20);
    if (!timingSafeEqual(bytes.subarray(20), this.#mac(interactionUid, body))) return undefined;
    if (body.readUInt32BE(16) < Date.now() / 1000) return undefined;
    const first = await this.#store.putIfAbsent(`passkey-challenge-used:{login:${interactionUid}}:${challenge}`, '1', LOGIN_CHALLENGE_SECONDS + 60);
    return first ? challenge : undefined;
  }
}

/** The challenge in an assertion's client data (checked again, with everything else, by the WebAuthn verification). */
function signedChallengeOf(credential: string): string | undefined {
  try {
    const parsed = JSON.parse(credential) as { response?: { clientDataJSON?: unknown } };
    const clientData = parsed.response?.clientDataJSON;
    if (typeof clientData !== 'string') return undefined;
    const { challenge } = JSON.parse(Buffer.from(clientData, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof challenge === 'string' ? challenge : undefined;
  } catch {
    return undefined;
  }
}

export class PasskeySignIn {
  readonly #challenges: PasskeyChallenges;
  readonly #sealedChallenges: SealedLoginChallenges | undefined;
  readonly #accounts: AccountStore;
  readonly #registry: RegistryGateway;
  readonly #audit: AuditLog;
  readonly #issuer: string;
  readonly #metrics: Pick<Metrics, 'signIn'> | undefined;

  constructor(deps: {
    store: EphemeralStore;
    accounts: AccountStore;
    registry: RegistryGateway;
    audit: AuditLog;
    issuer: string;
    metrics?: Pick<Metrics, 'signIn'>;
    /** With it, login challenges are sealed rather than stored (passkeyChallengeSecret). */
    challengeSecret?: Buffer;
  }) {
    this.#challenges = new PasskeyChallenges(deps.store);
    this.#sealedChallenges = deps.challengeSecret && new SealedLoginChallenges(deps.challengeSecret, deps.store);
    this.#accounts = deps.accounts;
    this.#registry = deps.registry;
    this.#audit = deps.audit;
    this.#issuer = deps.issuer;
    this.#metrics = deps.metrics;
  }

  /** The options the login page hands to navigator.credentials.get(), for this interaction. */
  async optionsFor(interactionUid: string): Promise<string> {
    if (this.#sealedChallenges) {
      const challenge = this.#sealedChallenges.issue(interactionUid);
      return JSON.stringify(await passkeyRequestOptions(this.#accounts, relyingPartyOf(this.#issuer), undefined, challenge));
    }
    const options = await passkeyRequestOptions(this.#accounts, relyingPartyOf(this.#issuer));
    await this.#challenges.remember(`login:${interactionUid}`, options.challenge);
    return JSON.stringify(options);
  }

  async signIn(interactionUid: string, credential: string, context: { clientId?: string; ip?: string }): Promise<PasskeySignInResult> {
    const tooLong = credential.length === 0 || credential.length > MAX_CREDENTIAL_LENGTH;
    const challenge = this.#sealedChallenges
      ? tooLong
        ? undefined
        : await this.#sealedChallenges.take(interactionUid, credential)
      : await this.#challenges.take(`login:${interactionUid}`);
    if (!challenge || tooLong) {
      this.#metrics?.signIn('passkey_invalid');
      return { outcome: 'not-verified' };
    }
    const assertion = await checkPasskeyAssertion(this.#accounts, relyingPartyOf(this.#issuer), { credential, expectedChallenge: challenge });
    if (!assertion) {
      this.#metrics?.signIn('passkey_invalid');
      return { outcome: 'not-verified' };
    }
    const account = await this.#accounts.findById(assertion.accountId);
    const record = account && (await this.#registry.findByNationalId(account.nationalId));
    if (!account || account.status !== 'active' || !record || !isAlive(record)) {
      await this.#audit.record({
        type: 'signin.refused',
        ...(account && { accountId: account.id }),
        ...(context.clientId && { clientId: context.clientId }),
        data: { method: 'hwk', ip: context.ip ?? null },
      });
      this.#metrics?.signIn('refused');
      return { outcome: 'refused' };
    }
    await this.#audit.record({
      type: 'signin.succeeded',
      accountId: account.id,
      ...(context.clientId && { clientId: context.clientId }),
      data: { method: 'hwk', ip: context.ip ?? null },
    });
    return { outcome: 'signed-in', account };
  }
}
