// Ends every session of one citizen in one call (death in the registry, lock, password reset, the
// citizen's own request): deletes the sessions, revokes the grants they authorised and queues a
// back-channel logout to each client of each session that asked for one.
import type { EphemeralModelStore } from '../models/ephemeral-model-store.ts';
import type { DurableModelStore } from '../models/durable-model-store.ts';
import type { BackchannelLogoutQueue } from './backchannel-logout.ts';

export class SessionTerminator {
  readonly #ephemeral: EphemeralModelStore;
  readonly #durable: DurableModelStore;
  readonly #logouts: Pick<BackchannelLogoutQueue, 'enqueueSession'> | undefined;

  constructor(ephemeral: EphemeralModelStore, durable: DurableModelStore, logouts?: Pick<BackchannelLogoutQueue, 'enqueueSession'>) {
    this.#ephemeral = ephemeral;
    this.#durable = durable;
    this.#logouts = logouts;
  }

  /** Returns how many sessions were ended. */
  async endAllSessions(accountId: string): Promise<number> {
    const ids = await this.#ephemeral.sessionIdsOfAccount(accountId);
    let ended = 0;
    for (const id of ids) {
      const session = await this.#ephemeral.find('Session', id);
      // The index may still list a session that expired, or one saved since under another account:
      // forget it there, and leave the other account's session alone.
      if (session?.accountId !== accountId) {
        await this.#ephemeral.forgetSessionOfAccount(accountId, id);
        continue;
      }
      if (await this.endSession(accountId, id)) ended += 1;
    }
    return ended;
  }

  /**
   * Ends one session of the account: queues its clients' back-channel logouts, revokes the grants
   * (and so the tokens) it authorised, deletes it. False when it is not a live session of the account.
   */
  async endSession(accountId: string, sessionId: string): Promise<boolean> {
    const session = await this.#ephemeral.find('Session', sessionId);
    if (session?.accountId !== accountId) return false;
    // Queued before the session goes, so that a failure here leaves the session to end again.
    await this.#logouts?.enqueueSession(accountId, session);
    const grantIds = Object.values(session.authorizations ?? {})
      .map((authorization) => authorization.grantId)
      .filter((grantId): grantId is string => typeof grantId === 'string');
    for (const grantId of grantIds) {
      await Promise.all([
        this.#ephemeral.revokeByGrantId(grantId),
        this.#durable.revokeByGrantId(grantId),
        this.#durable.destroy('Grant', grantId),
      ]);
    }
    await this.#ephemeral.destroy('Session', sessionId);
    return true;
  }

  /**
   * Ends everything the account holds (death or disappearance in the registry): its sessions, and every
   * grant and refresh token, even those no session holds any more (offline access), with the codes and
   * access tokens issued under them.
   */
  async endAllAccess(accountId: string): Promise<{ sessions: number; grants: number }> {
    // Every grant is durable, so this finds the sessions' grants too; the sessions go after them.
    const grantIds = await this.#durable.revokeByAccountId(accountId);
    for (const grantId of grantIds) await this.#ephemeral.revokeByGrantId(grantId);
    const sessions = await this.endAllSessions(accountId);
    return { sessions, grants: grantIds.length };
  }
}
