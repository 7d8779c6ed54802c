// The population registry over HTTPS (docs/registry.md "Remote registry"): `GET <base>/records/<ID number>`
// answers the person's record as JSON, or 404. Bounded in every direction — connect and total
// timeouts, a few retries with jittered exponential back-off, a circuit breaker, answers of at most
// 64 KiB — so a slow or failing registry makes sign-in say "try again shortly", never hang.
//
// Cache: living people's records, for at most 60 seconds. A record showing a death or disappearance is
// never cached and evicts any copy; the change feed tells the gateway (forget()) about every change it
// applies. The trade-off: a death the remote registry knows but no feed has brought yet can be
// hidden behind a cached record for up to the cache's lifetime; the account lock that the feed sets
// is what stops a dead person's sign-in and claims on every instance, cache or not.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Logger } from '../observability/logger.ts';
import { fullName, isoDate, registryAddress } from './change-feed-schema.ts';
import { CircuitBreaker, type CircuitState } from './gateway-circuit-breaker.ts';
import { RegistryUnavailable, type RegistryGateway } from './gateway.ts';
import { isNationalIdShape, nationalIdFormatProblem } from './national-id.ts';
import { splitFullName } from './names.ts';
import { isAlive, RELATIONS_TO_HEAD, type RegistryRecord } from './registry.ts';

/** The longest a record may be cached: a minute (the issue's bound). */
export const MAX_CACHE_TTL_MS = 60_000;
const MAX_ANSWER_BYTES = 64 * 1024;

export interface RemoteRegistryOptions {
  /** Base URL; records are at `<url>/records/<ID number>`. */
  readonly url: string;
  /** PEM files for mutual TLS: the client certificate and its key (both or neither), and the CA to trust. */
  readonly clientCertFile?: string | undefined;
  readonly clientKeyFile?: string | undefined;
  readonly caFile?: string | undefined;
  /** Until the TCP connection (and TLS handshake) is up. */
  readonly connectTimeoutMs: number;
  /** Until one attempt's whole answer has arrived. */
  readonly timeoutMs: number;
  /** Further attempts after a failed one (timeouts, connection errors, 5xx, 429). */
  readonly retries: number;
  /** First back-off; it doubles per attempt, half of it jittered. */
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  /** Consecutive failed attempts that open the circuit, and how long it stays open. */
  readonly circuitThreshold: number;
  readonly circuitCooldownMs: number;
  /** How long a living person's record is kept; 0 keeps nothing; at most MAX_CACHE_TTL_MS. */
  readonly cacheTtlMs: number;
  readonly cacheMaxEntries?: number;
  readonly logger?: Logger;
}

/** A parent's or the guardian's number: 12 digits with a known prefix and century/gender digit. */
const relationNumber = z.string().refine((value) => nationalIdFormatProblem(value) === undefined, { message: 'expected a well-formed ID number' });

/** The record as the remote registry writes it (snake_case, like the change feed). */
const remoteRecord = z.object({
  national_id: z.string().refine(isNationalIdShape, { message: 'expected 12 digits' }),
  full_name: fullName,
  birth_date: isoDate,
  gender: z.enum(['male', 'female']),
  birth_registration_province: z.string().regex(/^[0-9]{3}$/),
  place_of_origin: z.string(),
  ethnicity: z.string(),
  nationality: z.string().regex(/^[A-Z]{2}$/),
  id_card_issue_date: isoDate.nullable().default(null),
  id_card_expiry_date: isoDate.nullable().default(null),
  permanent_address: registryAddress,
  temporary_address: registryAddress.nullable().default(null),
  household_id: z.string().min(1).nullable().optional(),
  relation_to_head: z.enum(RELATIONS_TO_HEAD).nullable().optional(),
  died_on: isoDate.nullable().default(null),
  missing_since: isoDate.nullable().default(null),
  contact_phone: z.string().nullable().default(null),
  contact_email: z.string().nullable().default(null),
  // Parents and guardian: null when the registry names none; left out when its answer does not say. A
  // malformed number counts as not said rather than failing the person's own record (and sign-in).
  father_national_id: relationNumber.nullable().optional().catch(undefined),
  mother_national_id: relationNumber.nullable().optional().catch(undefined),
  guardian_national_id: relationNumber.nullable().optional().catch(undefined),
});

function toRecord(remote: z.output<typeof remoteRecord>): RegistryRecord {
  const name = splitFullName(remote.full_name);
  return {
    nationalId: remote.national_id,
    familyName: name.familyName,
    middleName: name.middleName,
    givenName: name.givenName,
    fullName: name.fullName,
    birthDate: remote.birth_date,
    gender: remote.gender,
    birthRegistrationProvince: remote.birth_registration_province,
    placeOfOrigin: remote.place_of_origin,
    ethnicity: remote.ethnicity,
    nationality: remote.nationality,
    idCardIssueDate: remote.id_card_issue_date,
    idCardExpiryDate: remote.id_card_expiry_date,
    permanentAddress: remote.permanent_address,
    temporaryAddress: remote.temporary_address,
    // Left out when the registry leaves households out of its answer.
    ...(remote.household_id !== undefined && { householdId: remote.household_id }),
    ...(remote.relation_to_head !== undefined && { relationToHead: remote.relation_to_head }),
    diedOn: remote.died_on,
    missingSince: remote.missing_since,
    contactPhone: remote.contact_phone,
    contactEmail: remote.contact_email,
    // Absent (not known) when the answer leaves them out; a number equal to the person's own is dropped.
    ...(remote.father_national_id !== undefined && { fatherNationalId: otherThan(remote.national_id, remote.father_national_id) }),
    ...(remote.mother_national_id !== undefined && { motherNationalId: otherThan(remote.national_id, remote.mother_national_id) }),
    ...(remote.guardian_national_id !== undefined && { guardianNationalId: otherThan(remote.national_id, remote.guardian_national_id) }),
  };
}

/** A relation's number, or null when it is the person's own (no one is their own parent or guardian). */
function otherThan(own: string, relation: string | null): string | null {
  return relation === own ? null : relation;
}

/** One attempt went wrong; `retryable` when another attempt may fare better. */
class AttemptFailed extends Error {
  override readonly name = 'AttemptFailed';
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.retryable = retryable;
  }
}

/** Records of living people, each for a bounded time; the oldest goes first when full. */
class RecordCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { readonly record: RegistryRecord; readonly expiresAt: number }>();

  constructor(ttlMs: number, maxEntries: number) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  get(nationalId: string): RegistryRecord | undefined {
    const entry = this.#entries.get(nationalId);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(nationalId);
      return undefined;
    }
    return entry.record;
  }

  set(nationalId: string, record: RegistryRecord): void {
    if (this.#ttlMs <= 0) return;
    this.#entries.delete(nationalId);
    this.#entries.set(nationalId, { record, expiresAt: Date.now() + this.#ttlMs });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  delete(nationalId: string): void {
    this.#entries.delete(nationalId);
  }
}

interface Flight {
  readonly promise: Promise<RegistryRecord | undefined>;
  /** Set when the record was reported changed while this lookup was on its way: its answer is not kept. */
  forgotten: boolean;
}

export class RemoteRegistryGateway implements RegistryGateway {
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #options: RemoteRegistryOptions;
  readonly #breaker: CircuitBreaker;
  readonly #cache: RecordCache;
  readonly #inFlight = new Map<string, Flight>();

  constructor(options: RemoteRegistryOptions) {
    if (!(options.cacheTtlMs >= 0 && options.cacheTtlMs <= MAX_CACHE_TTL_MS)) {
      throw new RangeError(`cacheTtlMs: expected 0 to ${MAX_CACHE_TTL_MS} milliseconds`);
    }
    if ((options.clientCertFile === undefined) !== (options.clientKeyFile === undefined)) {
      throw new RangeError('clientCertFile and clientKeyFile: expected both or neither');
    }
    const base = new URL(options.url);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new RangeError('url: expected an https:// URL');
    // A base with a path keeps it: https://registry.example/api/v1 → …/api/v1/records/<id>.
    if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
    this.#base = base;
    this.#options = options;
    this.#agent =
      base.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ...(options.clientCertFile !== undefined && { cert: readFileSync(options.clientCertFile) }),
            ...(options.clientKeyFile !== undefined && { key: readFileSync(options.clientKeyFile) }),
            ...(options.caFile !== undefined && { ca: readFileSync(options.caFile) }),
          })
        : new http.Agent({ keepAlive: true });
    const log = options.logger?.child({ component: 'registry-gateway' });
    this.#breaker = new CircuitBreaker({
      threshold: options.circuitThreshold,
      cooldownMs: options.circuitCooldownMs,
      onStateChange: (state: CircuitState) => {
        if (state === 'open') log?.warn({ cooldownMs: options.circuitCooldownMs }, 'registry circuit opened: lookups fail at once until the cool-down ends');
        else log?.info({ state }, `registry circuit ${state}`);
      },
    });
    this.#cache = new RecordCache(options.cacheTtlMs, options.cacheMaxEntries ?? 10_000);
  }

  /** closed, open or half-open: for health reports and tests. */
  get circuitState(): CircuitState {
    return this.#breaker.state;
  }

  findByNationalId(nationalId: string): Promise<RegistryRecord | undefined> {
    // Only a well-formed number goes into the URL.
    if (!isNationalIdShape(nationalId)) return Promise.resolve(undefined);
    const cached = this.#cache.get(nationalId);
    if (cached) return Promise.resolve(cached);
    // Concurrent lookups of one person share one request.
    const pending = this.#inFlight.get(nationalId);
    if (pending) return pending.promise;
    const flight: Flight = {
      forgotten: false,
      promise: this.#lookUp(nationalId)
        .then((record) => {
          if (record && isAlive(record) && !flight.forgotten) this.#cache.set(nationalId, record);
          else this.#cache.delete(nationalId);
          return record;
        })
        .finally(() => {
          if (this.#inFlight.get(nationalId) === flight) this.#inFlight.delete(nationalId);
        }),
    };
    this.#inFlight.set(nationalId, flight);
    return flight.promise;
  }

  forget(nationalId: string): void {
    this.#cache.delete(nationalId);
    const flight = this.#inFlight.get(nationalId);
    if (flight) {
      flight.forgotten = true;
      this.#inFlight.delete(nationalId);
    }
  }

  close(): Promise<void> {
    this.#agent.destroy();
    return Promise.resolve();
  }

  /** Attempts with back-off between them, while the circuit lets them through. */
  async #lookUp(nationalId: string): Promise<RegistryRecord | undefined> {
    let lastFailure: AttemptFailed | undefined;
    for (let attempt = 0; attempt <= this.#options.retries; attempt += 1) {
      if (attempt > 0) await sleep(this.#backOff(attempt));
      const waitMs = this.#breaker.acquire();
      if (waitMs !== undefined) {
        throw new RegistryUnavailable(`registry circuit open${lastFailure ? ` (last failure: ${lastFailure.message})` : ''}`, {
          cause: lastFailure,
          retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
        });
      }
      try {
        const record = await this.#attempt(nationalId);
        this.#breaker.succeeded();
        return record;
      } catch (error) {
        this.#breaker.failed();
        lastFailure = error instanceof AttemptFailed ? error : new AttemptFailed(String(error), false, error);
        if (!lastFailure.retryable) break;
      }
    }
    throw new RegistryUnavailable(`registry lookup failed: ${lastFailure?.message ?? 'no attempt made'}`, { cause: lastFailure });
  }

  /** Exponential, with the upper half jittered so that instances do not retry in step. */
  #backOff(attempt: number): number {
    const ceiling = Math.min(this.#options.retryMaxDelayMs ?? 2000, (this.#options.retryBaseDelayMs ?? 100) * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  async #attempt(nationalId: string): Promise<RegistryRecord | undefined> {
    const { status, body } = await this.#get(new URL(`records/${nationalId}`, this.#base));
    if (status === 404) return undefined;
    if (status === 429 || status >= 500) throw new AttemptFailed(`registry answered HTTP ${status}`, true);
    if (status !== 200) throw new AttemptFailed(`registry answered HTTP ${status}`, false);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      throw new AttemptFailed('registry answered something that is not JSON', false, error);
    }
    const parsed = remoteRecord.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new AttemptFailed(`registry answered a record that does not fit: ${issue.path.join('.')}: ${issue.message}`, false);
    }
    if (parsed.data.national_id !== nationalId) throw new AttemptFailed('registry answered the record of another number', false);
    return toRecord(parsed.data);
  }

  /** One GET, bounded by the connect and total timeouts and the answer size. */
  #get(url: URL): Promise<{ status: number; body: string }> {
    const { connectTimeoutMs, timeoutMs } = this.#options;
    return new Promise((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      let settled = false;
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method: 'GET',
        agent: this.#agent,
        headers: { accept: 'application/json' },
      });
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        outcome();
      };
      const fail = (failure: AttemptFailed) => {
        finish(() => reject(failure));
        request.destroy();
      };
      timers.push(setTimeout(() => fail(new AttemptFailed(`no complete answer within ${timeoutMs} ms`, true)), timeoutMs));
      request.once('socket', (socket) => {
        // A kept-alive connection is up already; a new one must be up (TLS included) in time.
        if (request.reusedSocket) return;
        const connect = setTimeout(() => fail(new AttemptFailed(`no connection within ${connectTimeoutMs} ms`, true)), connectTimeoutMs);
        timers.push(connect);
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connect));
      });
      request.on('error', (error) => fail(new AttemptFailed(`request failed: ${error.message}`, true, error)));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) fail(new AttemptFailed(`registry answer larger than ${MAX_ANSWER_BYTES} bytes`, false));
          else chunks.push(chunk);
        });
        response.on('error', (error) => fail(new AttemptFailed(`answer cut off: ${error.message}`, true, error)));
        response.on('end', () => finish(() => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
      });
      request.end();
    });
  }
}
