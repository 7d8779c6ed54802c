// Client-initiated backchannel authentication (OpenID Connect CIBA Core 1.0), poll and ping, for bank
// clients: a bank at its counter names the citizen (login_hint: the 12-digit ID number, or an
// id_token_hint) with a binding message; the citizen sees the request on the account page
// (/account/approvals) and on their contacts, approves with a second factor or denies; the bank polls
// the token endpoint or is pinged. oidc-provider runs the protocol (features.ciba); this module gives
// it the policy:
//
// - No probing. A number without an active, living account gets an auth_req_id like any other, for a
//   stand-in account (`ciba-stand-in:<uuid>`) whose request is denied after a random, human-like
//   delay — the same access_denied a citizen's refusal gives. findAccount answers a stand-in id only
//   inside the backchannel authentication endpoint, so no token can ever be issued for one.
// - A cap per citizen. At most `pendingPerCitizen` requests wait at once, held in that many slots
//   `ciba:pending:{<accountId>}:<n>` claimed with SET NX (one key per operation, one hash tag per
//   citizen). A request over the cap is answered like a stand-in: a distinct refusal would tell the
//   bank that the number has an account (stand-ins have no cap to hit).
// - slow_down. oidc-provider answers authorization_pending however fast a bank polls; a poll sooner
//   than the interval after the last pending one is told slow_down instead (CIBA Core 11).
// - Pings go through the SSRF-guarded, time- and size-limited outgoing request, off the citizen's
//   request path, with a few retries; a bank whose endpoint is down can still poll.
import { randomInt, randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import { errors, type Account as ProviderAccount, type CIBAEnabledConfiguration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { CibaSettings } from '../../config/config.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Logger } from '../../observability/logger.ts';
import type { EphemeralStore } from '../../storage/ephemeral-store.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import { RegistryUnavailable, type RegistryGateway } from '../../registry/gateway.ts';
import { maskIdNumbers } from '../../observability/redact.ts';
import { isNationalIdShape } from '../../registry/national-id.ts';
import { sendOutgoingRequest } from '../outgoing-request.ts';
import { temporarilyUnavailable } from '../consent/account-claims.ts';
import { CIBA_DELIVERY_MODES, CIBA_GRANT_TYPE } from './ciba-registration.ts';

const STAND_IN_PREFIX = 'ciba-stand-in:';
/** The one refusal, the citizen's or a stand-in's, so that the bank cannot tell them apart. */
export const DENIAL_DESCRIPTION = 'the citizen did not approve the request';
/** Longest binding message, in characters: it is read on two screens and in a text message. */
export const BINDING_MESSAGE_MAX_LENGTH = 20;
// Letters (Vietnamese included, after NFC), digits, spaces and a little punctuation; no controls, no
// bidirectional overrides, no markup, no URL (no ':' or '/').
const BINDING_MESSAGE = /^[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N} .,#+_-]*$/u;
const PING_ATTEMPTS = 3;
const PING_TIMEOUT_MS = 5000;
const PING_MAX_RESPONSE_BYTES = 16 * 1024;
/** In-process timers for stand-in denials; beyond this many, a stand-in is denied at once. */
const MAX_SCHEDULED_DENIALS = 10_000;

export function isStandIn(accountId: string | undefined): boolean {
  return accountId?.startsWith(STAND_IN_PREFIX) === true;
}

/**
 * The binding message, checked: required (a bank at a counter must show the citizen what to compare),
 * 1–20 printable characters. Missing is invalid_request (a required parameter), anything else wrong
 * is invalid_binding_message (CIBA Core 13).
 */
export function checkBindingMessage(value: unknown): string {
  if (value === undefined || value === null || value === '') {
    throw new errors.InvalidRequest('binding_message is required: the message the bank shows its customer, for the citizen to compare');
  }
  const message = typeof value === 'string' ? value.normalize('NFC') : '';
  if ([...message].length > BINDING_MESSAGE_MAX_LENGTH || message !== message.trim() || !BINDING_MESSAGE.test(message)) {
    throw new errors.InvalidBindingMessage(
      `binding_message must be 1 to ${BINDING_MESSAGE_MAX_LENGTH} letters, digits, spaces or . , # + _ - (starting with a letter or digit)`,
    );
  }
  return message;
}

/** The lifetime of a request: requested_expiry when given (already checked positive), at most the maximum. */
export function requestLifetime(settings: CibaSettings, requestedExpiry: unknown): number {
  const requested = typeof requestedExpiry === 'string' || typeof requestedExpiry === 'number' ? Number(requestedExpiry) : Number.NaN;
  return Number.isSafeInteger(requested) && requested > 0 ? Math.min(requested, settings.maxExpirySeconds) : settings.defaultExpirySeconds;
}

// ---------------------------------------------------------------------------------------------------
// Who has what pending (the ephemeral store)

const slotKey = (accountId: string, slot: number) => `ciba:pending:{${accountId}}:${slot}`;
const resolvedKey = (requestId: string) => `ciba:resolved:{${requestId}}`;
const pollKey = (requestId: string) => `ciba:poll:{${requestId}}`;

/** A citizen's waiting requests: a fixed number of slots, each taken with SET NX and freed on an answer. */
export class CibaPendingIndex {
  readonly #store: EphemeralStore;
  readonly #slots: number;

  constructor(store: EphemeralStore, slots: number) {
    this.#store = store;
    this.#slots = slots;
  }

  /** Takes a free slot for the request until it expires; false when every slot is taken (the cap). */
  async claim(accountId: string, requestId: string, ttlSeconds: number): Promise<boolean> {
    for (let slot = 0; slot < this.#slots; slot += 1) {
      if (await this.#store.putIfAbsent(slotKey(accountId, slot), requestId, ttlSeconds)) return true;
    }
    return false;
  }

  async requestIds(accountId: string): Promise<string[]> {
    const ids = await Promise.all(Array.from({ length: this.#slots }, (_, slot) => this.#store.get(slotKey(accountId, slot))));
    return ids.filter((id): id is string => id !== undefined);
  }

  async holds(accountId: string, requestId: string): Promise<boolean> {
    return (await this.requestIds(accountId)).includes(requestId);
  }

  /**
   * Frees the request's slot. (Read, then delete: a slot only changes hands when it is freed here or
   * expires with its request, so the value read is still the one deleted.)
   */
  async release(accountId: string, requestId: string): Promise<void> {
    for (let slot = 0; slot < this.#slots; slot += 1) {
      const key = slotKey(accountId, slot);
      if ((await this.#store.get(key)) === requestId) await this.#store.delete(key);
    }
  }

  /** The one answer a request gets: of an approval, a denial and a stand-in's timer, the first wins. */
  settle(requestId: string, outcome: 'approved' | 'denied', ttlSeconds: number): Promise<boolean> {
    return this.#store.putIfAbsent(resolvedKey(requestId), outcome, Math.max(1, ttlSeconds));
  }

  /** True for the first poll in a window of `seconds`; a later one within it is polling too fast. */
  pollAllowed(requestId: string, seconds: number): Promise<boolean> {
    return this.#store.putIfAbsent(pollKey(requestId), '1', Math.max(1, seconds));
  }
}

// ---------------------------------------------------------------------------------------------------
// The provider's side

/** A notice to the citizen's contacts; the words are the account page's (src/interactions). */
export type ApprovalNotice = (request: { readonly bankName: string; readonly bindingMessage: string; readonly expiresAt: Date }) => {
  readonly subject: string;
  readonly body: string;
};

export interface CibaDependencies {
  readonly settings: CibaSettings;
  readonly accounts: AccountStore;
  readonly registry: RegistryGateway;
  readonly store: EphemeralStore;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** Tells the citizen's verified contacts; never fails the request. */
  readonly notifyCitizen: (accountId: string, notice: ReturnType<ApprovalNotice>) => Promise<void>;
  readonly notice: ApprovalNotice;
  /** Notification endpoints on loopback and other non-public addresses: outside production only. */
  readonly allowLoopback: boolean;
}

/** What the provider is configured with, and what is installed on it once built (src/oidc/provider.ts). */
export interface CibaHooks {
  readonly feature: CIBAEnabledConfiguration;
  /** ttl.BackchannelAuthenticationRequest. */
  readonly requestLifetime: (ctx: KoaContextWithOIDC | undefined) => number;
  /**
   * findAccount with stand-ins inside the backchannel authentication endpoint, and nowhere else. The
   * container wraps the account lookup with it, inside whatever turns storage and registry failures
   * into answers, so that a stand-in fails exactly as a real account does.
   */
  wrapFindAccount(findAccount: FindAccount): FindAccount;
  /** slow_down, `interval`, pings, stand-in denials: needs the built provider. */
  install(provider: Provider): void;
  readonly index: CibaPendingIndex;
  /** Stops pending timers (stand-in denials, ping retries). */
  close(): void;
}

const BACKCHANNEL_ROUTE = 'backchannel_authentication';

function standInAccount(accountId: string): ProviderAccount {
  return { accountId, claims: () => ({ sub: accountId }) };
}

function profileOf(client: unknown): unknown {
  return (client as { profile?: unknown } | undefined)?.profile;
}

export function createCibaHooks(deps: CibaDependencies): CibaHooks {
  const { settings, logger } = deps;
  const index = new CibaPendingIndex(deps.store, settings.pendingPerCitizen);
  const timers = new Set<NodeJS.Timeout>();
  let provider: Provider | undefined;
  /** The ID number behind a stand-in, for the request's own findAccount (a request's context, weakly). */
  const submittedNumbers = new WeakMap<object, string>();

  const later = (delayMs: number, work: () => Promise<void>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      void work();
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };

  /** Denies a request as a citizen would, unless it was answered or expired meanwhile. */
  const denyQuietly = async (requestId: string) => {
    try {
      const request = await provider!.BackchannelAuthenticationRequest.find(requestId, { ignoreExpiration: true });
      if (!request || request.isExpired || request.grantId || request.error) return;
      if (!(await index.settle(requestId, 'denied', request.remainingTTL))) return;
      await provider!.backchannelResult(request, new errors.AccessDenied(DENIAL_DESCRIPTION));
    } catch (error) {
      logger.error({ err: error }, 'could not deny a backchannel authentication request');
    }
  };

  /** A stand-in's denial, after a delay like a person's (but before the request expires). */
  const scheduleDenial = (requestId: string, lifetimeSeconds: number) => {
    if (timers.size >= MAX_SCHEDULED_DENIALS) {
      void denyQuietly(requestId);
      return;
    }
    const lowest = settings.standInDenialMinSeconds * 1000;
    const highest = Math.min(settings.standInDenialMaxSeconds * 1000, Math.max(0, lifetimeSeconds * 1000 - 1000));
    const delay = highest > lowest ? lowest + randomInt(highest - lowest + 1) : Math.min(lowest, highest);
    later(delay, () => denyQuietly(requestId));
  };

  const ping = (endpoint: string, token: string, requestId: string, attempt = 1): void => {
    void sendOutgoingRequest(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ auth_req_id: requestId }),
      allowLoopback: deps.allowLoopback,
      timeoutMs: PING_TIMEOUT_MS,
      maxBytes: PING_MAX_RESPONSE_BYTES,
      what: 'backchannel_client_notification_endpoint',
    })
      .then((response) => {
        if (response.status !== 200 && response.status !== 204) throw new Error(`the notification endpoint answered ${response.status}`);
      })
      .catch((error: unknown) => {
        if (attempt >= PING_ATTEMPTS) {
          logger.warn({ err: error, endpoint: new URL(endpoint).origin }, 'could not ping a bank about a backchannel authentication; it can still poll');
          return;
        }
        later(1000 * 4 ** (attempt - 1), () => Promise.resolve(ping(endpoint, token, requestId, attempt + 1)));
      });
  };

  const feature: CIBAEnabledConfiguration = {
    enabled: true,
    deliveryModes: [...CIBA_DELIVERY_MODES],
    // Runs before the account is looked up, so what it refuses says nothing about any citizen.
    validateRequestContext(ctx, requestContext) {
      const client = ctx.oidc.client;
      if (profileOf(client) !== 'bank') throw new errors.UnauthorizedClient('backchannel authentication is for bank clients only');
      if (requestContext !== undefined) throw new errors.InvalidRequest('request_context is not supported');
      if (ctx.oidc.params?.user_code !== undefined) throw new errors.InvalidRequest('user_code is not supported (backchannel_user_code_parameter is false)');
      // A pairwise sub cannot be turned back into a citizen; such a bank names them by login_hint.
      if (ctx.oidc.params?.id_token_hint !== undefined && client?.subjectType === 'pairwise') {
        throw new errors.InvalidRequest('id_token_hint: a client with pairwise subjects names the citizen by login_hint');
      }
    },
    validateBindingMessage(_ctx, bindingMessage) {
      checkBindingMessage(bindingMessage);
    },
    processLoginHintToken() {
      throw new errors.InvalidRequest('login_hint_token is not supported: send login_hint (the 12-digit ID number) or id_token_hint');
    },
    async processLoginHint(ctx, loginHint) {
      const nationalId = (loginHint ?? '').trim();
      if (!isNationalIdShape(nationalId)) throw new errors.InvalidRequest("login_hint must be the citizen's 12-digit personal identification number");
      const account = await deps.accounts.findByNationalId(nationalId);
      if (account?.status === 'active') return account.id;
      // The stand-in's findAccount asks the registry about this number, as a real account's would.
      submittedNumbers.set(ctx, nationalId);
      return `${STAND_IN_PREFIX}${randomUUID()}`;
    },
    verifyUserCode() {
      // Not supported; a user_code was already refused in validateRequestContext.
    },
    async triggerAuthenticationDevice(ctx, request, account, client) {
      const lifetime = request.remainingTTL;
      const bindingMessage = typeof request.params?.binding_message === 'string' ? request.params.binding_message : '';
      const base = { actor: client.clientId, clientId: client.clientId };
      const details = { scope: request.scope ?? '', expiresIn: lifetime, deliveryMode: client.backchannelTokenDeliveryMode, ip: ctx.ip };
      if (isStandIn(account.accountId)) {
        const hint = ctx.oidc.params?.login_hint;
        await deps.audit.record({
          type: 'ciba.requested',
          ...base,
          data: { ...details, outcome: 'no active account: answered as a denial', ...(typeof hint === 'string' && { submittedId: maskIdNumbers(hint) }) },
        });
        scheduleDenial(request.jti, lifetime);
        return;
      }
      if (!(await index.claim(account.accountId, request.jti, lifetime))) {
        await deps.audit.record({
          type: 'ciba.requested',
          ...base,
          accountId: account.accountId,
          data: { ...details, outcome: `over the cap of ${settings.pendingPerCitizen} pending requests: answered as a denial` },
        });
        scheduleDenial(request.jti, lifetime);
        return;
      }
      await deps.audit.record({ type: 'ciba.requested', ...base, accountId: account.accountId, data: { ...details, bindingMessage, outcome: 'pending' } });
      // Off the bank's request path: a slow SMS gateway must not make a real citizen's answer slower
      // than a stand-in's.
      const notice = deps.notice({ bankName: client.clientName ?? client.clientId, bindingMessage, expiresAt: new Date((request.exp ?? 0) * 1000) });
      void deps.notifyCitizen(account.accountId, notice).catch((error: unknown) => {
        logger.error({ err: error }, 'could not tell a citizen of a backchannel authentication request');
      });
    },
  };

  return {
    feature,
    index,
    requestLifetime: (ctx) => requestLifetime(settings, ctx?.oidc?.params?.requested_expiry),
    wrapFindAccount(findAccount) {
      return async (ctx, sub, token) => {
        const inBackchannelEndpoint = ctx.oidc?.route === BACKCHANNEL_ROUTE;
        if (isStandIn(sub)) {
          if (!inBackchannelEndpoint) return undefined;
          // Loading a real account asks the registry: so does a stand-in — about the same work, and the
          // same 503 while the registry is down, else an outage would tell who has no account.
          const nationalId = submittedNumbers.get(ctx);
          if (nationalId !== undefined) {
            try {
              await deps.registry.findByNationalId(nationalId);
            } catch (error) {
              if (error instanceof RegistryUnavailable) throw temporarilyUnavailable(error);
              throw error;
            }
          }
          return standInAccount(sub);
        }
        const account = await findAccount(ctx, sub, token);
        // Locked, dead, unknown (an id_token_hint of a closed account): the same answer as a number
        // nobody holds. Elsewhere, no account means no token, as always.
        if (account || !inBackchannelEndpoint) return account;
        return standInAccount(`${STAND_IN_PREFIX}${randomUUID()}`);
      };
    },
    install(built) {
      provider = built;
      built.use(async (koa, next) => {
        await next();
        // A provider.use() middleware gets the provider's context, with `oidc` once a route has run.
        const ctx = koa as KoaContextWithOIDC;
        const route = (ctx.oidc as KoaContextWithOIDC['oidc'] | undefined)?.route;
        const body = ctx.body as Record<string, unknown> | undefined;
        if (!body || typeof body !== 'object') return;
        if (route === BACKCHANNEL_ROUTE && ctx.status === 200 && typeof body.auth_req_id === 'string') {
          body.interval = settings.pollIntervalSeconds;
        } else if (route === BACKCHANNEL_ROUTE && body.error === 'invalid_request' && ctx.oidc.client && !ctx.oidc.client.grantTypeAllowed(CIBA_GRANT_TYPE)) {
          // oidc-provider checks the grant type before anything else and calls a client without it
          // invalid_request; CIBA Core 1.0 section 13 says unauthorized_client.
          ctx.body = { error: 'unauthorized_client', error_description: `the client is not registered for the CIBA grant (${CIBA_GRANT_TYPE})` };
        } else if (route === 'token' && body.error === 'authorization_pending' && ctx.oidc?.params?.grant_type === CIBA_GRANT_TYPE) {
          const requestId = ctx.oidc.params.auth_req_id;
          // One second of grace: a poll that left on time may arrive a little early after a slow one.
          if (typeof requestId === 'string' && !(await index.pollAllowed(requestId, Math.max(1, settings.pollIntervalSeconds - 1)))) {
            ctx.body = { error: 'slow_down', error_description: `poll at most every ${settings.pollIntervalSeconds} seconds, and add 5 seconds now` };
          }
        } else if (route === 'discovery') {
          // oidc-provider always advertises user codes; they are not supported here.
          body.backchannel_user_code_parameter_supported = false;
        }
      });
      // oidc-provider pings inline, through its own fetch, and fails backchannelResult when the bank's
      // endpoint does; here a ping is sent in the background through the guarded outgoing request.
      (built.Client.prototype as unknown as { backchannelPing: (request: { jti: string; params?: Record<string, unknown> }) => Promise<void> }).backchannelPing =
        function (this: { backchannelClientNotificationEndpoint?: string; backchannelTokenDeliveryMode?: string }, request) {
          const token = request.params?.client_notification_token;
          const endpoint = this.backchannelClientNotificationEndpoint;
          if (this.backchannelTokenDeliveryMode === 'ping' && endpoint && typeof token === 'string') ping(endpoint, token, request.jti);
          return Promise.resolve();
        };
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
