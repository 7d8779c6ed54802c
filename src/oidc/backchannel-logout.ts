// Back-channel logout, delivered reliably: each (client, session id) to tell is one durable row in
// PostgreSQL; a worker in every instance claims due rows (SKIP LOCKED, so instances share the work),
// mints a fresh logout token per attempt and POSTs it, retrying with back-off for 24 hours.
import { randomUUID } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type Provider from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../storage/database.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../observability/logger.ts';

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

const TABLE = 'backchannel_logouts';
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Retries stop this long after the logout was queued. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000;
const FIRST_RETRY_MS = 5_000;
const LONGEST_RETRY_MS = 10 * 60 * 1000;
/** A claimed row is left alone this long; if its worker died meanwhile, another one takes it. */
const CLAIM_LEASE_SECONDS = 60;
const DELIVERY_TIMEOUT_MS = 5_000;
const MAX_RESPONSE_BYTES = 32 * 1024;

/** The wait before the next attempt after `attempts` failed ones: 5 s, 10 s, 20 s … at most 10 minutes. */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), LONGEST_RETRY_MS);
}

/** The queue's table. Enqueueing is one insert, cheap enough for the citizen's logout request. */
export class BackchannelLogoutQueue {
  readonly #db: Database;
  readonly #receiverOf: (clientId: string) => Promise<string | undefined>;
  readonly #listeners: (() => void)[] = [];

  /** `receiverOf` gives a client's registered backchannel_logout_uri, if it has one. */
  constructor(db: Database, receiverOf: (clientId: string) => Promise<string | undefined>) {
    this.#db = db;
    this.#receiverOf = receiverOf;
  }

  /** Called after each enqueue (the local worker delivers at once instead of at its next tick). */
  onEnqueued(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Queues each logout once: a (client, sid) already queued or delivered is left as it is. */
  async enqueue(logouts: readonly PendingLogout[]): Promise<void> {
    if (logouts.length === 0) return;
    await this.#db(TABLE)
      .insert(logouts.map((logout) => ({ client_id: logout.clientId, account_id: logout.accountId, sid: logout.sid })))
      .onConflict(['client_id', 'sid'])
      .ignore();
    for (const listener of this.#listeners) listener();
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

  /** Claims up to `limit` due rows for this worker: each counts an attempt and is leased for a minute. */
  async claimDue(limit: number): Promise<LogoutRow[]> {
    const result = await this.#db.raw<{ rows: LogoutRow[] }>(
      `UPDATE ${TABLE} SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
        WHERE id IN (
          SELECT id FROM ${TABLE}
           WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= now()
           ORDER BY next_attempt_at
           LIMIT ?
           FOR UPDATE SKIP LOCKED)
        RETURNING id, client_id, account_id, sid, attempts, created_at`,
      [CLAIM_LEASE_SECONDS, limit],
    );
    return result.rows;
  }

  async markDelivered(id: string): Promise<void> {
    await this.#db(TABLE).where({ id }).update({ delivered_at: this.#db.fn.now(), last_error: null });
  }

  async retryAt(id: string, at: Date, error: string): Promise<void> {
    await this.#db(TABLE).where({ id }).update({ next_attempt_at: at, last_error: error });
  }

  async giveUp(id: string, error: string): Promise<void> {
    await this.#db(TABLE).where({ id }).update({ gave_up_at: this.#db.fn.now(), last_error: error });
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

// Addresses a production instance never posts to: loopback, private, link-local, shared, multicast.
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 127],
  ['::ffff:0:0', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && !NON_PUBLIC.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that refuses any answer naming a non-public address (checked after resolution: no rebinding). */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused || addresses.length === 0) {
      return callback(Object.assign(new Error(`${hostname} resolves to a non-public address`), { code: 'EADDRNOTPUBLIC' }), []);
    }
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    return callback(null, first!.address, first!.family);
  });
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** Posts a logout token; resolves with the HTTP status. Time- and size-limited, no redirect followed. */
export function postLogoutToken(
  receiver: string,
  token: string,
  options: { allowLoopback: boolean; signal?: AbortSignal },
): Promise<number> {
  const url = new URL(receiver);
  const loopback = LOOPBACK_HOSTS.includes(url.hostname);
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback && options.allowLoopback))) {
    return Promise.reject(new Error(`refused receiver ${url.origin}: https only (http on loopback outside production)`));
  }
  if (loopback && !options.allowLoopback) return Promise.reject(new Error(`refused receiver ${url.origin}: loopback in production`));
  const body = new URLSearchParams({ logout_token: token }).toString();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const request = send(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        ...(!options.allowLoopback && { lookup: publicOnlyLookup }),
      },
      (response: IncomingMessage) => {
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) request.destroy(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
        });
        response.on('end', () => finish(() => resolve(response.statusCode ?? 0)));
        response.on('error', (error) => finish(() => reject(error)));
        response.on('close', () => finish(() => reject(new Error('the connection closed before the answer ended'))));
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS} ms`)), DELIVERY_TIMEOUT_MS);
    const onAbort = () => request.destroy(new Error('delivery stopped: the worker is shutting down'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => finish(() => reject(error)));
    request.end(body);
  });
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
}

/** Delivers queued logouts every couple of seconds, and at once after a local enqueue. */
export class BackchannelLogoutWorker {
  readonly #options: BackchannelLogoutWorkerOptions;
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(options: BackchannelLogoutWorkerOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.wake(), this.#options.intervalMs ?? 2_000);
    this.#timer.unref();
    this.#options.queue.onEnqueued(() => this.wake());
  }

  /** Runs a round now, or right after the one in progress. */
  wake(): void {
    if (this.#stopping.signal.aborted) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#deliverDue()
      .catch((error: unknown) => this.#options.logger.warn({ err: error }, 'back-channel logout round failed; will retry'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Stops the timer and cuts deliveries in flight short (they are retried later, here or elsewhere). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopping.abort();
    await this.#running;
  }

  async #deliverDue(): Promise<void> {
    const batchSize = this.#options.batchSize ?? 20;
    for (;;) {
      const rows = await this.#options.queue.claimDue(batchSize);
      await Promise.all(rows.map((row) => this.#deliver(row)));
      if (rows.length < batchSize || this.#stopping.signal.aborted) return;
    }
  }

  async #deliver(row: LogoutRow): Promise<void> {
    const { queue, provider, logger } = this.#options;
    const logout = { clientId: row.client_id, accountId: row.account_id, sid: row.sid };
    let failure: string;
    try {
      const minted = await mintLogoutToken(provider, logout);
      if (!minted) {
        await queue.giveUp(row.id, 'the client is gone, suspended or has no backchannel_logout_uri');
        await this.#audit(row, 'gave_up', 'client unavailable');
        return;
      }
      const status = await postLogoutToken(minted.receiver, minted.token, {
        allowLoopback: this.#options.allowLoopback,
        signal: this.#stopping.signal,
      });
      if (status === 200 || status === 204) {
        await queue.markDelivered(row.id);
        await this.#audit(row, 'delivered');
        return;
      }
      failure = `HTTP ${status}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    const next = new Date(Date.now() + retryDelayMs(row.attempts));
    if (next.getTime() > row.created_at.getTime() + GIVE_UP_AFTER_MS) {
      await queue.giveUp(row.id, failure);
      await this.#audit(row, 'gave_up', failure);
      logger.warn({ clientId: row.client_id, attempts: row.attempts, error: failure }, 'back-channel logout given up after 24 hours');
      return;
    }
    await queue.retryAt(row.id, next, failure);
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
