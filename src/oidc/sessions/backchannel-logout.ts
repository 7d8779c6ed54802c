// Back-channel logout, delivered reliably: each (client, session id) to tell is one durable row in
// PostgreSQL; a worker in every instance claims due rows (SKIP LOCKED, so instances share the work),
// mints a fresh logout token per attempt and POSTs it, retrying with back-off for 24 hours (the queue
// and worker are src/storage/durable-queue.ts's).
import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../../storage/database.ts';
import { DurableQueue, DurableQueueWorker, exponentialBackoff } from '../../storage/durable-queue.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { sendOutgoingRequest } from '../outgoing-request.ts';

/** One relying party to tell that one of its sessions ended. */
export interface PendingLogout {
  readonly clientId: string;
  readonly accountId: string;
  readonly sid: string;
}

interface LogoutRow {
  id: string;
  client_id: string;
  account_id: string;
  sid: string;
  attempts: number;
  created_at: Date;
}

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Retries stop this long after the logout was queued. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000;
const DELIVERY_TIMEOUT_MS = 5_000;
const MAX_RESPONSE_BYTES = 32 * 1024;

/** The wait before the next attempt after `attempts` failed ones: 5 s, 10 s, 20 s … at most 10 minutes. */
export const retryDelayMs = exponentialBackoff(5_000, 10 * 60 * 1000);

/** The queue's table. Enqueueing is one insert, cheap enough for the citizen's logout request. */
export class BackchannelLogoutQueue extends DurableQueue<LogoutRow> {
  readonly #receiverOf: (clientId: string) => Promise<string | undefined>;

  /** `receiverOf` gives a client's registered backchannel_logout_uri, if it has one. */
  constructor(db: Database, receiverOf: (clientId: string) => Promise<string | undefined>) {
    super(db, {
      table: 'backchannel_logouts',
      columns: ['id', 'client_id', 'account_id', 'sid', 'attempts', 'created_at'],
      retryDelayMs,
      deadlineOf: (row) => new Date(row.created_at.getTime() + GIVE_UP_AFTER_MS),
    });
    this.#receiverOf = receiverOf;
  }

  /** Queues each logout once: a (client, sid) already queued or delivered is left as it is. */
  async enqueue(logouts: readonly PendingLogout[]): Promise<void> {
    if (logouts.length === 0) return;
    await this.db('backchannel_logouts')
      .insert(logouts.map((logout) => ({ client_id: logout.clientId, account_id: logout.accountId, sid: logout.sid })))
      .onConflict(['client_id', 'sid'])
      .ignore();
    this.enqueued();
  }

  /** Queues a logout for every client of a stored session that registered a back-channel receiver. */
  async enqueueSession(accountId: string, session: AdapterPayload): Promise<void> {
    const logouts: PendingLogout[] = [];
    for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
      const sid = authorization.sid;
      if (typeof sid !== 'string' || !(await this.#receiverOf(clientId))) continue;
      logouts.push({ clientId, accountId, sid });
    }
    await this.enqueue(logouts);
  }
}

/**
 * A fresh logout token for one attempt, minted by the provider itself: its signing keys, the client's
 * id_token_signed_response_alg, its pairwise or public `sub`, `typ: logout+jwt`, two minutes of life.
 */
export async function mintLogoutToken(provider: Provider, logout: PendingLogout): Promise<{ token: string; receiver: string } | undefined> {
  const client = await provider.Client.find(logout.clientId);
  if (!client?.backchannelLogoutUri) return undefined;
  const token = new provider.IdToken({ sub: logout.accountId }, { client });
  // Only `sub` of the account's claims goes in; the mask is how oidc-provider's own logout tokens say it.
  (token as unknown as { mask: Record<string, null> }).mask = { sub: null };
  token.set('events', { [BACKCHANNEL_LOGOUT_EVENT]: {} });
  token.set('jti', randomUUID());
  token.set('sid', logout.sid);
  return { token: await token.issue({ use: 'logout' }), receiver: client.backchannelLogoutUri };
}

/** Posts a logout token; resolves with the HTTP status. SSRF-guarded, time- and size-limited, no redirect followed. */
export async function postLogoutToken(
  receiver: string,
  token: string,
  options: { allowLoopback: boolean; signal?: AbortSignal },
): Promise<number> {
  const response = await sendOutgoingRequest(receiver, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }).toString(),
    allowLoopback: options.allowLoopback,
    timeoutMs: DELIVERY_TIMEOUT_MS,
    maxBytes: MAX_RESPONSE_BYTES,
    what: 'receiver',
    ...(options.signal && { signal: options.signal }),
  });
  return response.status;
}

export interface BackchannelLogoutWorkerOptions {
  readonly queue: BackchannelLogoutQueue;
  readonly provider: Provider;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** http on loopback and non-public addresses: outside production only. */
  readonly allowLoopback: boolean;
  readonly intervalMs?: number;
  readonly batchSize?: number;
  readonly metrics?: Pick<Metrics, 'backchannelDelivery'>;
}

/** Delivers queued logouts every couple of seconds, and at once after a local enqueue. */
export class BackchannelLogoutWorker extends DurableQueueWorker<LogoutRow> {
  readonly #options: BackchannelLogoutWorkerOptions;

  constructor(options: BackchannelLogoutWorkerOptions) {
    super({
      queue: options.queue,
      logger: options.logger,
      what: 'back-channel logout',
      intervalMs: options.intervalMs ?? 2_000,
      batchSize: options.batchSize ?? 20,
    });
    this.#options = options;
  }

  // Stopping cuts a delivery in flight short: it is retried later, here or elsewhere.
  protected async deliver(row: LogoutRow): Promise<void> {
    const { queue, provider, logger } = this.#options;
    const logout = { clientId: row.client_id, accountId: row.account_id, sid: row.sid };
    let failure: string;
    try {
      const minted = await mintLogoutToken(provider, logout);
      if (!minted) {
        await queue.giveUp(row.id, 'the client is gone, suspended or has no backchannel_logout_uri');
        this.#options.metrics?.backchannelDelivery('gave_up');
        await this.#audit(row, 'gave_up', 'client unavailable');
        return;
      }
      const status = await postLogoutToken(minted.receiver, minted.token, {
        allowLoopback: this.#options.allowLoopback,
        signal: this.stopping.signal,
      });
      if (status === 200 || status === 204) {
        await queue.markDelivered(row.id);
        this.#options.metrics?.backchannelDelivery('delivered');
        await this.#audit(row, 'delivered');
        return;
      }
      failure = `HTTP ${status}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    const next = await queue.failed(row, failure);
    if (!next) {
      this.#options.metrics?.backchannelDelivery('gave_up');
      await this.#audit(row, 'gave_up', failure);
      logger.warn({ clientId: row.client_id, attempts: row.attempts, error: failure }, 'back-channel logout given up after 24 hours');
      return;
    }
    this.#options.metrics?.backchannelDelivery('retry');
    logger.info({ clientId: row.client_id, attempts: row.attempts, error: failure, retryAt: next }, 'back-channel logout failed; will retry');
  }

  async #audit(row: LogoutRow, outcome: 'delivered' | 'gave_up', error?: string): Promise<void> {
    await this.#options.audit
      .record({
        type: 'logout',
        actor: 'system',
        accountId: row.account_id,
        clientId: row.client_id,
        data: { channel: 'backchannel', outcome, sid: row.sid, attempts: row.attempts, ...(error && { error }) },
      })
      .catch((failure: unknown) => this.#options.logger.error({ err: failure }, 'could not write the audit event for a back-channel logout'));
  }
}
