// Prometheus metrics: one registry per container (tests run several servers in one process), a small
// API the domain code calls, and gauges read at scrape time (pools, keys, backlog, dependencies).
// Every label takes a bounded set of values: the routes the apps define and provider route names, never
// anything taken from a request's path.
import type { IncomingMessage } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type SignInResult = 'success' | 'invalid_credentials' | 'refused' | 'locked' | 'second_factor_invalid' | 'passkey_invalid';
export type RegistryCallOutcome = 'found' | 'not_found' | 'unavailable' | 'error';
export type BackchannelOutcome = 'delivered' | 'retry' | 'gave_up';
export type NotificationOutcome = 'delivered' | 'retry' | 'gave_up' | 'withheld';

/** What the metrics read when Prometheus scrapes; each is wired by the container. */
export interface ScrapeSources {
  /** Each dependency's health (true = up), e.g. { postgres, redis }. */
  dependencies?: () => Promise<Record<string, boolean>>;
  /** The PostgreSQL pool now. */
  databasePool?: () => { used: number; free: number; pendingAcquires: number; pendingCreates: number } | undefined;
  /** Signing keys in service: each algorithm's signing key and when it was activated. */
  signingKeys?: () => Promise<readonly { alg: string; activeFrom: Date }[]>;
  /** Seconds between scheduled rotations (0: none scheduled). */
  signingKeyRotationSeconds?: number;
  /** Certificates this instance uses (name → notAfter). */
  certificates?: () => readonly { name: string; notAfter: Date }[];
  /** Back-channel logouts not yet delivered nor given up, and the age of the oldest (seconds). */
  backchannelBacklog?: () => Promise<{ pending: number; oldestSeconds: number }>;
  /** Messages to citizens not yet delivered nor given up, and the age of the oldest (seconds). */
  notificationBacklog?: () => Promise<{ pending: number; oldestSeconds: number }>;
}

const PREFIX = 'idp_';
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** A dependency probe slower than this counts as down (the scrape must not hang on a dead database). */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * The process's own metrics (CPU, memory, event loop, GC) describe the process, not a server: one
 * registry for them, made at first use, shared by every server in the process (tests start dozens;
 * each would otherwise add its own event-loop monitor and GC observer, never removed).
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: PREFIX });
  }
  return processRegistry;
}

function withTimeout<T>(promise: Promise<T>, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), PROBE_TIMEOUT_MS);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}

/** A queue's backlog as two gauges, `<name>_backlog` and `<name>_oldest_seconds`, from one query per scrape. */
function backlogGauges(
  name: string,
  what: string,
  backlog: () => Promise<{ pending: number; oldestSeconds: number }>,
  registers: Registry[],
): void {
  let last: Promise<{ pending: number; oldestSeconds: number } | undefined> | undefined;
  const once = () => (last ??= withTimeout(backlog(), undefined).finally(() => setImmediate(() => (last = undefined))));
  new Gauge({
    name: `${PREFIX}${name}_backlog`,
    help: `${what} waiting for delivery.`,
    registers,
    async collect() {
      const now = await once();
      if (now) this.set(now.pending);
    },
  });
  new Gauge({
    name: `${PREFIX}${name}_oldest_seconds`,
    help: `Age of the oldest of the ${what.toLowerCase()} waiting for delivery (0 when none waits).`,
    registers,
    async collect() {
      const now = await once();
      if (now) this.set(now.oldestSeconds);
    },
  });
}

/** The part of an ioredis client (standalone or cluster) whose commands are timed. */
interface RedisCommandSender {
  sendCommand(command: { name: string; promise: Promise<unknown> }, ...rest: never[]): unknown;
}

export class Metrics {
  /** This server's metrics; `scrapeRegistry` adds the process's. */
  readonly registry = new Registry();
  readonly #withProcess: boolean;
  readonly #routeNames = new WeakMap<IncomingMessage, string>();
  readonly #requests: Counter<'app' | 'method' | 'route' | 'status'>;
  readonly #requestSeconds: Histogram<'app' | 'method' | 'route'>;
  readonly #signIns: Counter<'result' | 'acr'>;
  readonly #tokens: Counter<'grant_type' | 'client_profile'>;
  readonly #lockouts: Counter<'kind'>;
  readonly #registryCalls: Counter<'gateway' | 'outcome'>;
  readonly #registrySeconds: Histogram<'gateway'>;
  readonly #backchannel: Counter<'outcome'>;
  readonly #notifications: Counter<'outcome'>;
  readonly #redisSeconds: Histogram<'command'>;
  readonly #redisFailures: Counter<'command'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.#withProcess = options.processMetrics !== false;
    this.#requests = new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by app (public/admin), method, route template or provider route name, and status.',
      labelNames: ['app', 'method', 'route', 'status'],
      registers,
    });
    this.#requestSeconds = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'Time to answer an HTTP request, by app, method and route.',
      labelNames: ['app', 'method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#signIns = new Counter({
      name: `${PREFIX}sign_ins_total`,
      help: 'Sign-in attempts by result and, for successes, the assurance level (acr) reached.',
      labelNames: ['result', 'acr'],
      registers,
    });
    this.#tokens = new Counter({
      name: `${PREFIX}tokens_issued_total`,
      help: 'Successful token endpoint grants by grant type and client profile.',
      labelNames: ['grant_type', 'client_profile'],
      registers,
    });
    this.#lockouts = new Counter({
      name: `${PREFIX}lockouts_total`,
      help: 'Temporary locks imposed after repeated failures, by what was locked (password, otp).',
      labelNames: ['kind'],
      registers,
    });
    this.#registryCalls = new Counter({
      name: `${PREFIX}registry_gateway_calls_total`,
      help: 'Registry lookups by gateway (mirror/remote) and outcome (found, not_found, unavailable, error).',
      labelNames: ['gateway', 'outcome'],
      registers,
    });
    this.#registrySeconds = new Histogram({
      name: `${PREFIX}registry_gateway_call_duration_seconds`,
      help: 'Time of a registry lookup.',
      labelNames: ['gateway'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#backchannel = new Counter({
      name: `${PREFIX}backchannel_logout_deliveries_total`,
      help: 'Back-channel logout delivery attempts by outcome (delivered, retry, gave_up).',
      labelNames: ['outcome'],
      registers,
    });
    this.#notifications = new Counter({
      name: `${PREFIX}notification_deliveries_total`,
      help: 'Deliveries of messages to citizens (codes, notices) by outcome (delivered, retry, gave_up, withheld).',
      labelNames: ['outcome'],
      registers,
    });
    this.#redisSeconds = new Histogram({
      name: `${PREFIX}redis_command_duration_seconds`,
      help: 'Redis command round trips, by command.',
      labelNames: ['command'],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.#redisFailures = new Counter({
      name: `${PREFIX}redis_command_failures_total`,
      help: 'Redis commands that failed (error reply, timeout, connection lost), by command.',
      labelNames: ['command'],
      registers,
    });
  }

  // ---- HTTP ----

  /** The provider names the route of a request it handled (its own Koa context is not ours). */
  nameRoute(req: IncomingMessage, name: string): void {
    this.#routeNames.set(req, name);
  }

  /**
   * The label of a request: the provider's route name, else the template of our route that answered it
   * (`/interaction/{uid}/login`), else `unmatched`. Only the apps' own route tables can add a value.
   */
  routeOf(req: IncomingMessage, template: string | undefined): string {
    return this.#routeNames.get(req) ?? template ?? 'unmatched';
  }

  httpRequest(labels: { app: string; method: string; route: string; status: number }, seconds: number): void {
    const method = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/.test(labels.method) ? labels.method : 'OTHER';
    this.#requests.inc({ app: labels.app, method, route: labels.route, status: String(labels.status) });
    this.#requestSeconds.observe({ app: labels.app, method, route: labels.route }, seconds);
  }

  // ---- Domain events ----

  signIn(result: SignInResult, acr?: string): void {
    this.#signIns.inc({ result, acr: acr ?? 'none' });
  }

  tokenIssued(grantType: string, clientProfile: string): void {
    this.#tokens.inc({ grant_type: grantType, client_profile: clientProfile });
  }

  lockout(kind: string): void {
    this.#lockouts.inc({ kind });
  }

  registryCall(gateway: string, outcome: RegistryCallOutcome, seconds: number): void {
    this.#registryCalls.inc({ gateway, outcome });
    this.#registrySeconds.observe({ gateway }, seconds);
  }

  backchannelDelivery(outcome: BackchannelOutcome): void {
    this.#backchannel.inc({ outcome });
  }

  notificationDelivery(outcome: NotificationOutcome): void {
    this.#notifications.inc({ outcome });
  }

  // ---- Dependencies ----

  /** Times every command of an ioredis client (standalone or cluster) from send to reply. */
  observeRedis(redis: RedisCommandSender): void {
    const send = redis.sendCommand.bind(redis) as (...args: unknown[]) => unknown;
    const seconds = this.#redisSeconds;
    const failures = this.#redisFailures;
    redis.sendCommand = (command: { name: string; promise: Promise<unknown> }, ...rest: unknown[]) => {
      const name = /^[a-z]{1,20}$/i.test(command.name) ? command.name.toLowerCase() : 'other';
      const end = seconds.startTimer({ command: name });
      command.promise.then(
        () => end(),
        () => {
          end();
          failures.inc({ command: name });
        },
      );
      return send(command, ...rest);
    };
  }

  /** Registers the gauges read at scrape time. Call once. */
  watch(sources: ScrapeSources): void {
    const registers = [this.registry];
    if (sources.dependencies) {
      const probe = sources.dependencies;
      new Gauge({
        name: `${PREFIX}dependency_up`,
        help: 'Whether a dependency answered a probe at scrape time (1) or not (0).',
        labelNames: ['dependency'],
        registers,
        async collect() {
          const states: Record<string, boolean> = await withTimeout(probe(), {});
          this.reset();
          for (const [dependency, up] of Object.entries(states)) this.set({ dependency }, up ? 1 : 0);
        },
      });
    }
    if (sources.databasePool) {
      const pool = sources.databasePool;
      new Gauge({
        name: `${PREFIX}db_pool_connections`,
        help: 'PostgreSQL pool: connections used and free, acquires and creates pending.',
        labelNames: ['state'],
        registers,
        collect() {
          const now = pool();
          this.set({ state: 'used' }, now?.used ?? 0);
          this.set({ state: 'free' }, now?.free ?? 0);
          this.set({ state: 'pending_acquire' }, now?.pendingAcquires ?? 0);
          this.set({ state: 'pending_create' }, now?.pendingCreates ?? 0);
        },
      });
    }
    if (sources.signingKeys) {
      const keys = sources.signingKeys;
      new Gauge({
        name: `${PREFIX}signing_key_age_seconds`,
        help: 'Age of the key signing now, per algorithm (since it became the signing key).',
        labelNames: ['alg'],
        registers,
        async collect() {
          const signing = await withTimeout(keys(), undefined);
          if (!signing) return; // the database is down: keep the last values rather than report none
          this.reset();
          for (const key of signing) this.set({ alg: key.alg }, Math.max(0, (Date.now() - key.activeFrom.getTime()) / 1000));
        },
      });
      const rotation = sources.signingKeyRotationSeconds ?? 0;
      new Gauge({
        name: `${PREFIX}signing_key_rotation_period_seconds`,
        help: 'Configured time between scheduled signing-key rotations (0: none scheduled).',
        registers,
        collect() {
          this.set(rotation);
        },
      });
    }
    if (sources.certificates) {
      const certificates = sources.certificates;
      new Gauge({
        name: `${PREFIX}certificate_expiry_timestamp_seconds`,
        help: 'When a certificate this instance presents or trusts expires (Unix time).',
        labelNames: ['certificate'],
        registers,
        collect() {
          this.reset();
          for (const certificate of certificates()) this.set({ certificate: certificate.name }, certificate.notAfter.getTime() / 1000);
        },
      });
    }
    if (sources.backchannelBacklog) backlogGauges('backchannel_logout', 'Back-channel logouts', sources.backchannelBacklog, registers);
    if (sources.notificationBacklog) backlogGauges('notification', 'Messages to citizens', sources.notificationBacklog, registers);
  }

  /** The exposition text for GET /metrics. */
  /** Everything a scrape shows: this server's metrics and, unless left out, the process's. */
  get scrapeRegistry(): Registry {
    return this.#withProcess ? Registry.merge([processMetrics(), this.registry]) : this.registry;
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    const registry = this.scrapeRegistry;
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
}
