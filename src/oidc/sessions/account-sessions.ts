// A citizen's sign-in sessions as the account page shows them: which services each one signed into
// and when, and ending one of them (its grants and tokens revoked with it). Ending all of them is
// SessionTerminator's.
import type { SessionTerminator } from './sessions.ts';
import type { DurableModelStore } from '../models/durable-model-store.ts';
import type { EphemeralModelStore } from '../models/ephemeral-model-store.ts';

export interface SignInSession {
  /** The session's storage id (never its cookie value). */
  readonly id: string;
  readonly signedInAt: Date | undefined;
  readonly expiresAt: Date | undefined;
  readonly acr: string | undefined;
  readonly amr: readonly string[];
  /** Client ids the session signed into, in no particular order. */
  readonly clientIds: readonly string[];
  /** Per client, the session id (`sid`) that client's ID tokens carry. */
  readonly sids: Readonly<Record<string, string>>;
}

const dateOf = (epochSeconds: number | undefined) => (typeof epochSeconds === 'number' ? new Date(epochSeconds * 1000) : undefined);

export class AccountSessions {
  readonly #ephemeral: EphemeralModelStore;
  readonly #durable: DurableModelStore;
  readonly #terminator: SessionTerminator;

  constructor(ephemeral: EphemeralModelStore, durable: DurableModelStore, terminator: SessionTerminator) {
    this.#ephemeral = ephemeral;
    this.#durable = durable;
    this.#terminator = terminator;
  }

  /** The account's live sessions, newest sign-in first. */
  async list(accountId: string): Promise<SignInSession[]> {
    const sessions: SignInSession[] = [];
    for (const id of await this.#ephemeral.sessionIdsOfAccount(accountId)) {
      const payload = await this.#ephemeral.find('Session', id);
      // The index may list sessions that expired or were saved since under another account.
      if (payload?.accountId !== accountId) continue;
      const authorizations = payload.authorizations ?? {};
      sessions.push({
        id,
        signedInAt: dateOf(payload.loginTs),
        expiresAt: dateOf(payload.exp),
        acr: payload.acr,
        amr: Array.isArray(payload.amr) ? payload.amr : [],
        clientIds: Object.keys(authorizations),
        sids: Object.fromEntries(
          Object.entries(authorizations).flatMap(([clientId, authorization]) => (typeof authorization.sid === 'string' ? [[clientId, authorization.sid]] : [])),
        ),
      });
    }
    return sessions.sort((a, b) => (b.signedInAt?.getTime() ?? 0) - (a.signedInAt?.getTime() ?? 0));
  }

  /** The live session in which `clientId` was given `sid`, if any. */
  async findByClientSid(accountId: string, clientId: string, sid: string): Promise<SignInSession | undefined> {
    return (await this.list(accountId)).find((session) => session.sids[clientId] === sid);
  }

  /** Ends one session of the account (with its clients' back-channel logouts). */
  end(accountId: string, sessionId: string): Promise<boolean> {
    return this.#terminator.endSession(accountId, sessionId);
  }

  /**
   * Ends every other session and revokes every grant and refresh token of the account (a changed
   * password), keeping only the session `keepSessionId` signed in.
   */
  async endAllBut(accountId: string, keepSessionId: string | undefined): Promise<number> {
    const grantIds = await this.#durable.revokeByAccountId(accountId);
    for (const grantId of grantIds) await this.#ephemeral.revokeByGrantId(grantId);
    let ended = 0;
    for (const session of await this.list(accountId)) {
      if (session.id === keepSessionId) continue;
      if (await this.end(accountId, session.id)) ended += 1;
    }
    return ended;
  }
}
