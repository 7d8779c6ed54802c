// Sign-in with a passkey (WebAuthn, user verification required): no password, so a password lock
// does not stop it. The account and the registry are checked as for a password; a level-2 account
// signing in with a verified passkey reaches level 2 (possession plus PIN or biometrics).
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

export class PasskeySignIn {
  readonly #challenges: PasskeyChallenges;
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
  }) {
    this.#challenges = new PasskeyChallenges(deps.store);
    this.#accounts = deps.accounts;
    this.#registry = deps.registry;
    this.#audit = deps.audit;
    this.#issuer = deps.issuer;
    this.#metrics = deps.metrics;
  }

  /** The options the login page hands to navigator.credentials.get(), for this interaction. */
  async optionsFor(interactionUid: string): Promise<string> {
    const options = await passkeyRequestOptions(this.#accounts, relyingPartyOf(this.#issuer));
    await this.#challenges.remember(`login:${interactionUid}`, options.challenge);
    return JSON.stringify(options);
  }

  async signIn(interactionUid: string, credential: string, context: { clientId?: string; ip?: string }): Promise<PasskeySignInResult> {
    const challenge = await this.#challenges.take(`login:${interactionUid}`);
    if (!challenge || credential.length === 0 || credential.length > MAX_CREDENTIAL_LENGTH) {
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
