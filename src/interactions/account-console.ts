// The account page as a first-party relying party of this very provider (client `account-console`):
// the shared flow (src/web/first-party-sign-in.ts) with the account page's settings — its callback on
// the issuer, the `openid` scope with `sid` in the ID token, a fresh sign-in only for a change — and
// what its console sessions hold.
import type * as oidc from 'openid-client';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import { LOA_1, LOA_2 } from '../oidc/consent/assurance.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import {
  FRESH_SIGN_IN_SECONDS,
  FirstPartyRelyingParty,
  FirstPartySessions,
  SIGN_IN_PENDING_SECONDS,
  firstPartyClientSecret,
  registerFirstPartyClient,
  type FirstPartyClient,
  type PendingSignIn as FirstPartyPendingSignIn,
  type SignedIn,
} from '../web/first-party-sign-in.ts';

export { FRESH_SIGN_IN_SECONDS, LOA_1, LOA_2 };
export { loopbackAddress, loopbackFetch } from '../web/first-party-sign-in.ts';

export const CONSOLE_CLIENT_ID = 'account-console';
const SESSION_IDLE_SECONDS = 15 * 60;
export const SESSION_COOKIE_MAX_AGE_MS = SESSION_IDLE_SECONDS * 1000;
export const SIGN_IN_COOKIE_MAX_AGE_MS = SIGN_IN_PENDING_SECONDS * 1000;

/** The account page's client: `sub` (the account UUID: a first-party client, docs/design.md "Subjects") and, in the ID token, `sid`. */
function consoleClient(issuer: string): FirstPartyClient {
  return {
    clientId: CONSOLE_CLIENT_ID,
    name: 'Trang tài khoản định danh điện tử',
    redirectUri: `${issuer}/account/callback`,
    postLogoutRedirectUri: `${issuer}/account/signed-out`,
    scope: 'openid',
    approvedScopes: ['openid', 'profile', 'phone', 'email'],
  };
}

export function consoleClientSecret(keyEncryptionKey: Buffer): string {
  return firstPartyClientSecret(keyEncryptionKey, CONSOLE_CLIENT_ID);
}

export function registerConsoleClient(clients: ClientRepository, issuer: string, secret: string): Promise<void> {
  return registerFirstPartyClient(clients, consoleClient(issuer), secret);
}

/** What the console remembers about a sign-in it started, until the provider sends the browser back. */
export interface PendingSignIn extends FirstPartyPendingSignIn {
  /** A path under /account to return to. */
  readonly returnTo: string;
  /** The sign-in was started to make a change: it must come back fresh (and at level 2 if asked). */
  readonly stepUp: boolean;
}

/** Who is signed in to the console, and how. */
export interface ConsoleSession extends SignedIn {
  /** Echoed by every form the console shows. */
  readonly csrf: string;
  /** A notice for the next page shown (post/redirect/get). */
  readonly flash?: string | undefined;
  /** A TOTP secret being enrolled, sealed. */
  readonly pendingTotp?: string | undefined;
  /** A contact being confirmed with a code sent to it. */
  readonly pendingContact?: PendingContact | undefined;
}

export interface PendingContact {
  readonly kind: 'phone' | 'email';
  readonly value: string;
  readonly codeHash: string;
  readonly attempts: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** Console sessions (15 minutes idle) and pending sign-ins in the shared store. */
export class ConsoleSessionStore extends FirstPartySessions<ConsoleSession, PendingSignIn> {
  constructor(store: EphemeralStore) {
    super(store, { clientId: CONSOLE_CLIENT_ID, idleSeconds: SESSION_IDLE_SECONDS });
  }
}

/** The console as a relying party: a step-up asks for a sign-in at most FRESH_SIGN_IN_SECONDS old. */
export class ConsoleRelyingParty {
  readonly #flow: FirstPartyRelyingParty;

  constructor(options: { issuer: string; clientSecret: string; fetch: oidc.CustomFetch; register: () => Promise<void> }) {
    this.#flow = new FirstPartyRelyingParty({ ...options, client: consoleClient(options.issuer) });
  }

  get redirectUri(): string {
    return this.#flow.client.redirectUri;
  }

  async start(options: { returnTo: string; stepUp: boolean; acrValues?: string; locale: string }): Promise<{ pending: PendingSignIn; url: string }> {
    const { pending, url } = await this.#flow.start({
      locale: options.locale,
      // The ID token names the provider session (sid), so the console can tell which one is "here".
      claims: { id_token: { sid: null } },
      maxAge: options.stepUp ? FRESH_SIGN_IN_SECONDS : undefined,
      acrValues: options.acrValues,
    });
    return { pending: { ...pending, returnTo: options.returnTo, stepUp: options.stepUp }, url };
  }

  finish(callbackUrl: URL, pending: PendingSignIn): Promise<SignedIn> {
    return this.#flow.finish(callbackUrl, pending);
  }

  endSessionUrl(idToken: string, locale: string): Promise<string> {
    return this.#flow.endSessionUrl(idToken, locale);
  }
}
