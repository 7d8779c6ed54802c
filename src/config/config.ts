// Reads config/<env>.json over config/default.json, overlays the environment, validates once and
// returns one frozen, typed Config. A bad setting throws a ConfigError naming the setting.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import { z } from 'zod';

export type Environment = 'development' | 'test' | 'production';

export interface Ttl {
  readonly interaction: number;
  readonly authorizationCode: number;
  readonly accessToken: number;
  readonly clientCredentials: number;
  readonly idToken: number;
  readonly refreshToken: number;
  readonly grant: number;
}

export interface Config {
  readonly env: Environment;
  readonly port: number;
  readonly adminPort: number;
  /** Address both listeners bind to. */
  readonly host: string;
  readonly issuer: string;
  /** Absent: the embedded quickstart PostgreSQL under dataDir. */
  readonly databaseUrl?: string | undefined;
  /** Absent: the single-process in-memory store. */
  readonly redisUrl?: string | undefined;
  /** Put before every Redis key, so several deployments (or test runs) can share one Redis. */
  readonly redisKeyPrefix: string;
  /** Redis Cluster and Redis timeouts (README "Redis Cluster", "Timeouts"). */
  readonly redis: RedisSettings;
  /** The PostgreSQL pool and its timeouts (README "Timeouts"). */
  readonly database: DatabaseSettings;
  /** Readiness checks and the drain before a shutdown (README "Readiness and draining"). */
  readonly probes: ProbeSettings;
  /** 32 bytes; absent only outside production, where the quickstart generates one under dataDir. */
  readonly keyEncryptionKey: Buffer | undefined;
  /** 32 bytes; absent only outside production, likewise. */
  readonly pairwiseKey: Buffer | undefined;
  /**
   * The key-encryption key before the last rotation (README "Rotating the key-encryption key"): values
   * still sealed under it open, nothing is sealed under it. Only for the window of a rolling rotation.
   */
  readonly keyEncryptionKeyPrevious: Buffer | undefined;
  /** 32 bytes: the HMAC key of the exported audit chain heads (README "Audit trail"); never stored in the database. */
  readonly auditHeadsKey: Buffer | undefined;
  /** Signing-key rotation (README "Signing keys"). */
  readonly keys: SigningKeySettings;
  /** Peers whose X-Forwarded-For is believed: IP addresses or CIDR ranges. */
  readonly trustedProxies: readonly string[];
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly dataDir: string;
  readonly embeddedPostgresPort: number;
  /** The demo relying parties of the quickstart: the portal, and the bank (FAPI 2.0) on bankPort. */
  readonly demo: { readonly seed: boolean; readonly portalPort: number; readonly bankPort: number };
  readonly ttl: Ttl;
  readonly sessions: SessionLifetimes;
  readonly argon2: {
    readonly memoryKiB: number;
    readonly iterations: number;
    readonly parallelism: number;
    /** Hashes computed at once per process (keep below UV_THREADPOOL_SIZE so signing finds a thread). */
    readonly concurrent: number;
    /** Hashes allowed to wait; beyond that the login form answers 503. */
    readonly queued: number;
  };
  /** Brute-force limits on sign-in (DESIGN.md "Security baseline"). */
  readonly signInLimits: {
    readonly failuresBeforeLock: number;
    readonly firstLockSeconds: number;
    readonly maxLockSeconds: number;
    readonly attemptsPerAddressPerMinute: number;
  };
  /** How citizens' contacts are reached: `outbox` (stored, for the quickstart and tests) or `deliver`. */
  readonly notifications: {
    readonly mode: 'outbox' | 'deliver';
    readonly smtpUrl?: string | undefined;
    readonly mailFrom: string;
    readonly smsGatewayUrl?: string | undefined;
    readonly smsGatewayToken?: string | undefined;
  };
  readonly registry: RegistryGatewaySettings;
  /** Mutual TLS (RFC 8705) behind a TLS-terminating proxy (README "Integrating a bank"). */
  readonly mtls: MutualTlsSettings;
  readonly audit: AuditSettings;
  /** Client-initiated backchannel authentication for bank clients (src/oidc/ciba/ciba.ts). */
  readonly ciba: CibaSettings;
  /** The admin API and console (src/admin/): where it is reached, how long a rotated secret overlaps. */
  readonly admin: AdminSettings;
}

export interface AdminSettings {
  /**
   * The admin side's own origin (ADMIN_URL), where administrators' browsers come back after signing
   * in; https in production. Absent: http://HOST:ADMIN_PORT outside production, no browser sign-in in production.
   */
  readonly url?: string | undefined;
  /** How long a client's previous secret is still accepted after a rotation (default 24 hours). */
  readonly secretRotationOverlapSeconds: number;
}

export interface SigningKeySettings {
  /** A new signing key per algorithm every this many days; 0 = only when an administrator rotates. */
  readonly rotationDays: number;
  /** How long a new key is published in the JWKS before it signs (relying parties cache the JWKS). */
  readonly publishAheadSeconds: number;
  /** How often each instance re-reads the keys (and so how late it may see a change). */
  readonly pollSeconds: number;
}

/** CIBA: how often a bank may poll, how long a request lives, how many a citizen may have pending. */
export interface CibaSettings {
  /** The `interval` a bank is told; a poll sooner than this after the last one gets slow_down. */
  readonly pollIntervalSeconds: number;
  /** A request's lifetime when the bank sends no requested_expiry. */
  readonly defaultExpirySeconds: number;
  /** The longest requested_expiry honoured; a longer one is cut to this. */
  readonly maxExpirySeconds: number;
  /** Requests one citizen may have waiting at once; more are answered like a denial. */
  readonly pendingPerCitizen: number;
  /** A request for no active account is denied after a random delay in this range (seconds). */
  readonly standInDenialMinSeconds: number;
  readonly standInDenialMaxSeconds: number;
}

export interface AuditSettings {
  /** How far back the citizen's data-access history reaches; older events are not shown (README "Audit retention"). */
  readonly historyRetentionDays: number;
}

/**
 * How long a sign-in session serves single sign-on. Idle: since it was last used (an authorization
 * request); absolute: since the citizen last signed in, however busy the session.
 */
export interface SessionLifetimes {
  readonly idleSeconds: number;
  readonly absoluteSeconds: number;
}

/** How Redis is reached; every wait is bounded, so a down or stalled Redis fails requests fast. */
export interface RedisSettings {
  /** REDIS_URL names one node of a Redis Cluster (the cluster client discovers the others). */
  readonly cluster: boolean;
  /** More seed nodes (host:port) besides REDIS_URL's, so startup survives one node being down. */
  readonly clusterNodes: readonly string[];
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** The PostgreSQL pool: its size and the bound on each wait. */
export interface DatabaseSettings {
  readonly poolMax: number;
  /** Server side: PostgreSQL cancels a statement running longer (statement_timeout). */
  readonly statementTimeoutMs: number;
  /** Client side: a query without an answer this long fails, even when the server is unreachable. */
  readonly queryTimeoutMs: number;
  /** Waiting for a free pooled connection. */
  readonly acquireTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** Where registry records come from: the local mirror, or the remote registry when `url` is set. */
export interface RegistryGatewaySettings {
  /** Absent: the local PostgreSQL mirror. */
  readonly url?: string | undefined;
  /** PEM files for mutual TLS with the remote registry. */
  readonly clientCert?: string | undefined;
  readonly clientKey?: string | undefined;
  readonly ca?: string | undefined;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly circuitThreshold: number;
  readonly circuitCooldownMs: number;
  /** Seconds a living person's record is cached (0–60). */
  readonly cacheSeconds: number;
}

/** What /readyz waits for, and how long a stopping instance keeps serving while it reports draining. */
export interface ProbeSettings {
  /** Each readiness check's own deadline: a dependency slower than this counts as not ready. */
  readonly checkTimeoutMs: number;
  /** After SIGTERM, /readyz answers 503 this long before the listeners close (in-flight requests still finish after). */
  readonly drainSeconds: number;
}

/** Where a client's TLS certificate comes from when a proxy terminates TLS. */
export interface MutualTlsSettings {
  /** The header the proxy puts the client certificate in; believed only from TRUSTED_PROXIES. */
  readonly certificateHeader: string;
  /** PEM file of the authorities tls_client_auth certificates are issued by; absent: tls_client_auth is refused. */
  readonly caFile?: string | undefined;
}

/** A setting that cannot be used; `message` is one line that names it and says what is expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly setting: string;
  readonly expected: string;
  constructor(setting: string, expected: string) {
    super(`${setting}: ${expected}`);
    this.setting = setting;
    this.expected = expected;
  }
}

/** Where each setting can be overridden from the environment; also names settings in errors. */
const ENVIRONMENT_NAMES: Record<string, string> = {
  port: 'PORT',
  adminPort: 'ADMIN_PORT',
  host: 'HOST',
  issuer: 'ISSUER',
  databaseUrl: 'DATABASE_URL',
  redisUrl: 'REDIS_URL',
  redisKeyPrefix: 'REDIS_KEY_PREFIX',
  'redis.cluster': 'REDIS_CLUSTER',
  'redis.clusterNodes': 'REDIS_CLUSTER_NODES',
  'redis.commandTimeoutMs': 'REDIS_COMMAND_TIMEOUT_MS',
  'redis.connectTimeoutMs': 'REDIS_CONNECT_TIMEOUT_MS',
  'database.poolMax': 'DATABASE_POOL_MAX',
  'database.statementTimeoutMs': 'DATABASE_STATEMENT_TIMEOUT_MS',
  'database.queryTimeoutMs': 'DATABASE_QUERY_TIMEOUT_MS',
  'database.acquireTimeoutMs': 'DATABASE_ACQUIRE_TIMEOUT_MS',
  'database.connectTimeoutMs': 'DATABASE_CONNECT_TIMEOUT_MS',
  'probes.checkTimeoutMs': 'READINESS_CHECK_TIMEOUT_MS',
  'probes.drainSeconds': 'SHUTDOWN_DRAIN_SECONDS',
  keyEncryptionKey: 'KEY_ENCRYPTION_KEY',
  pairwiseKey: 'PAIRWISE_KEY',
  keyEncryptionKeyPrevious: 'KEY_ENCRYPTION_KEY_PREVIOUS',
  auditHeadsKey: 'AUDIT_HEADS_KEY',
  'keys.rotationDays': 'KEYS_ROTATION_DAYS',
  'keys.publishAheadSeconds': 'KEYS_PUBLISH_AHEAD_SECONDS',
  'keys.pollSeconds': 'KEYS_POLL_SECONDS',
  trustedProxies: 'TRUSTED_PROXIES',
  logLevel: 'LOG_LEVEL',
  dataDir: 'DATA_DIR',
  embeddedPostgresPort: 'EMBEDDED_POSTGRES_PORT',
  'demo.portalPort': 'DEMO_PORTAL_PORT',
  'demo.bankPort': 'DEMO_BANK_PORT',
  'notifications.smtpUrl': 'SMTP_URL',
  'notifications.smsGatewayUrl': 'SMS_GATEWAY_URL',
  'notifications.smsGatewayToken': 'SMS_GATEWAY_TOKEN',
  'registry.url': 'REGISTRY_URL',
  'registry.clientCert': 'REGISTRY_CLIENT_CERT',
  'registry.clientKey': 'REGISTRY_CLIENT_KEY',
  'registry.ca': 'REGISTRY_CA',
  'registry.connectTimeoutMs': 'REGISTRY_CONNECT_TIMEOUT_MS',
  'registry.timeoutMs': 'REGISTRY_TIMEOUT_MS',
  'registry.retries': 'REGISTRY_RETRIES',
  'registry.circuitThreshold': 'REGISTRY_CIRCUIT_THRESHOLD',
  'registry.circuitCooldownMs': 'REGISTRY_CIRCUIT_COOLDOWN_MS',
  'registry.cacheSeconds': 'REGISTRY_CACHE_SECONDS',
  'mtls.certificateHeader': 'MTLS_CERTIFICATE_HEADER',
  'mtls.caFile': 'MTLS_CA_FILE',
  'audit.historyRetentionDays': 'AUDIT_HISTORY_RETENTION_DAYS',
  'sessions.idleSeconds': 'SESSION_IDLE_SECONDS',
  'sessions.absoluteSeconds': 'SESSION_ABSOLUTE_SECONDS',
  'ciba.pollIntervalSeconds': 'CIBA_POLL_INTERVAL_SECONDS',
  'ciba.defaultExpirySeconds': 'CIBA_DEFAULT_EXPIRY_SECONDS',
  'ciba.maxExpirySeconds': 'CIBA_MAX_EXPIRY_SECONDS',
  'ciba.pendingPerCitizen': 'CIBA_PENDING_PER_CITIZEN',
  'admin.url': 'ADMIN_URL',
  'admin.secretRotationOverlapSeconds': 'ADMIN_SECRET_ROTATION_OVERLAP_SECONDS',
};

const port = z.coerce
  .number({ error: 'expected a port number from 1 to 65535' })
  .int('expected a port number from 1 to 65535')
  .min(1, 'expected a port number from 1 to 65535')
  .max(65535, 'expected a port number from 1 to 65535');

const seconds = z.number().int().positive('expected a positive number of seconds');

function key32(name: string) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      const decoded = decodeKey(value);
      if (!decoded) {
        ctx.addIssue({
          code: 'custom',
          message: `expected 32 random bytes as 64 hex characters or base64 (generate one with: openssl rand -base64 32); the ${name} given does not decode to 32 bytes`,
        });
        return z.NEVER;
      }
      return decoded;
    });
}

/** 32 bytes from base64 or hex; undefined for anything else (also for keys given outside the configuration). */
export function decodeKey(value: string): Buffer | undefined {
  const trimmed = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}

function isProxyAddress(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const prefix = Number(bits);
  return Number.isInteger(prefix) && prefix >= 0 && prefix <= (family === 4 ? 32 : 128) && /^\d+$/.test(bits);
}

const url = (what: string) =>
  z.string().refine((value) => URL.canParse(value), { message: `expected ${what}`, abort: true });

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A whole number from a settings file or, as text, from the environment; within bounds. */
function wholeNumber(min: number, max: number, unit: string) {
  const expected = `expected a whole number of ${unit} from ${min} to ${max}`;
  return z.coerce.number({ error: expected }).int(expected).min(min, expected).max(max, expected);
}

const pemFile = z
  .string()
  .refine((value) => existsSync(value), { error: (issue) => `expected a readable PEM file; ${JSON.stringify(issue.input)} does not exist` })
  .optional();

// RFC 9440's Client-Cert by default; nginx's $ssl_client_escaped_cert (URL-encoded PEM) works too.
const mutualTlsSettings = z
  .object({
    certificateHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'expected an HTTP header name such as client-cert')
      .refine((name) => !/^(x-forwarded-|forwarded$|host$|authorization$|cookie$|dpop$)/i.test(name), {
        message: 'expected a header of its own, not one clients or the protocol use',
      })
      .default('client-cert'),
    caFile: pemFile,
  })
  .prefault({});

const registrySettings = z
  .object({
    url: url('an https:// URL such as https://registry.example.vn/api/v1')
      .refine(
        (value) => {
          const parsed = new URL(value);
          if (parsed.search || parsed.hash || parsed.username || parsed.password) return false;
          // Plain http only to this machine (tests, the quickstart); production refuses it outright.
          return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname));
        },
        { message: 'expected an https:// URL without credentials, query or fragment (http:// only to a loopback address)' },
      )
      .optional(),
    clientCert: pemFile,
    clientKey: pemFile,
    ca: pemFile,
    connectTimeoutMs: wholeNumber(1, 60_000, 'milliseconds').default(1000),
    timeoutMs: wholeNumber(1, 60_000, 'milliseconds').default(2000),
    // With the total timeout, bounds a sign-in's wait for a failing registry (about 4 s by default).
    retries: wholeNumber(0, 5, 'retries').default(1),
    circuitThreshold: wholeNumber(1, 1000, 'failures').default(5),
    circuitCooldownMs: wholeNumber(0, 600_000, 'milliseconds').default(30_000),
    // A cached record is at most a minute old.
    cacheSeconds: wholeNumber(0, 60, 'seconds').default(30),
  })
  .superRefine((settings, ctx) => {
    if ((settings.clientCert === undefined) !== (settings.clientKey === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [settings.clientCert === undefined ? 'clientCert' : 'clientKey'],
        message: 'expected a client certificate and its key together (REGISTRY_CLIENT_CERT and REGISTRY_CLIENT_KEY)',
      });
    }
    for (const file of ['clientCert', 'clientKey', 'ca'] as const) {
      if (settings.url === undefined && settings[file] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [file], message: 'expected only together with REGISTRY_URL' });
      }
    }
    if (settings.connectTimeoutMs > settings.timeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['connectTimeoutMs'], message: 'expected at most REGISTRY_TIMEOUT_MS (the total timeout)' });
    }
  })
  // Nothing in the settings files: every default above.
  .prefault({});

const redisSettings = z
  .object({
    cluster: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')], { error: 'expected true or false' })
      .default(false),
    clusterNodes: z
      .array(z.string())
      .refine((nodes) => nodes.every((node) => /^[A-Za-z0-9.-]+:\d{1,5}$/.test(node)), { message: 'expected host:port entries separated by commas' })
      .default([]),
    commandTimeoutMs: wholeNumber(10, 60_000, 'milliseconds').default(1000),
    connectTimeoutMs: wholeNumber(10, 60_000, 'milliseconds').default(2000),
  })
  .prefault({});

// The query timeout (client side) outlasts the statement timeout (server side), so a slow statement
// is cancelled by PostgreSQL — connection kept — and only an unreachable server trips the client's.
const databaseSettings = z
  .object({
    poolMax: wholeNumber(1, 1000, 'connections').default(10),
    statementTimeoutMs: wholeNumber(100, 600_000, 'milliseconds').default(5000),
    queryTimeoutMs: wholeNumber(100, 600_000, 'milliseconds').default(6000),
    acquireTimeoutMs: wholeNumber(10, 60_000, 'milliseconds').default(2000),
    connectTimeoutMs: wholeNumber(10, 60_000, 'milliseconds').default(2000),
  })
  .refine((settings) => settings.queryTimeoutMs > settings.statementTimeoutMs, {
    path: ['queryTimeoutMs'],
    message: 'expected more than DATABASE_STATEMENT_TIMEOUT_MS (PostgreSQL cancels a slow statement first)',
  })
  .prefault({});

// The checks run side by side, each bounded: /readyz answers within about checkTimeoutMs, which should
// be below the load balancer's probe timeout (1 s on Kubernetes by default).
const probeSettings = z
  .object({
    checkTimeoutMs: wholeNumber(10, 60_000, 'milliseconds').default(800),
    drainSeconds: wholeNumber(0, 300, 'seconds').default(0),
  })
  .prefault({});

// A successor must be on every instance (one poll) before it signs: publish-ahead is at least one poll.
const signingKeySettings = z
  .object({
    rotationDays: z.coerce
      .number({ error: 'expected a number of days from 0 (off) to 3650' })
      .min(0, 'expected a number of days from 0 (off) to 3650')
      .max(3650, 'expected a number of days from 0 (off) to 3650')
      .default(0),
    publishAheadSeconds: wholeNumber(1, 30 * 86400, 'seconds').default(86400),
    pollSeconds: wholeNumber(1, 3600, 'seconds').default(30),
  })
  .superRefine((settings, ctx) => {
    if (settings.publishAheadSeconds < settings.pollSeconds) {
      ctx.addIssue({ code: 'custom', path: ['publishAheadSeconds'], message: 'expected at least KEYS_POLL_SECONDS (every instance must see a key before it signs)' });
    }
    if (settings.rotationDays > 0 && settings.rotationDays * 86400 <= settings.publishAheadSeconds) {
      ctx.addIssue({ code: 'custom', path: ['rotationDays'], message: 'expected a rotation period longer than KEYS_PUBLISH_AHEAD_SECONDS' });
    }
  })
  .prefault({});

// A stand-in's denial comes after a delay like a person's (reading the notice, opening the account
// page, pressing Deny), so an early access_denied does not tell a bank that nobody holds the number.
const cibaSettings = z
  .object({
    pollIntervalSeconds: wholeNumber(1, 60, 'seconds').default(5),
    defaultExpirySeconds: wholeNumber(10, 3600, 'seconds').default(300),
    maxExpirySeconds: wholeNumber(10, 3600, 'seconds').default(600),
    pendingPerCitizen: wholeNumber(1, 20, 'requests').default(3),
    standInDenialMinSeconds: wholeNumber(0, 600, 'seconds').default(20),
    standInDenialMaxSeconds: wholeNumber(0, 600, 'seconds').default(90),
  })
  .superRefine((settings, ctx) => {
    if (settings.defaultExpirySeconds > settings.maxExpirySeconds) {
      ctx.addIssue({ code: 'custom', path: ['defaultExpirySeconds'], message: 'expected at most CIBA_MAX_EXPIRY_SECONDS' });
    }
    if (settings.standInDenialMinSeconds > settings.standInDenialMaxSeconds) {
      ctx.addIssue({ code: 'custom', path: ['standInDenialMinSeconds'], message: 'expected at most ciba.standInDenialMaxSeconds' });
    }
  })
  // Nothing in the settings files: every default above.
  .prefault({});

// Up to 30 days of overlap: long enough to roll a fleet over, short enough that a leaked old secret dies.
const adminSettings = z
  .object({
    url: url('an absolute URL such as https://admin.id.example.vn')
      .refine((value) => {
        const parsed = new URL(value);
        return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.pathname === '/' && !parsed.search && !parsed.hash;
      }, { message: 'expected an http(s) origin without path, query or fragment' })
      .optional(),
    secretRotationOverlapSeconds: z.coerce
      .number({ error: 'expected a whole number of seconds from 0 to 2592000' })
      .int('expected a whole number of seconds from 0 to 2592000')
      .min(0, 'expected a whole number of seconds from 0 to 2592000')
      .max(30 * 86400, 'expected at most 2592000 seconds (30 days)')
      .default(86400),
  })
  .prefault({});

// Up to 30 days: the longest NIST SP 800-63B allows between authentications at any level (AAL1).
const sessionLifetimes = z
  .object({
    idleSeconds: wholeNumber(1, 30 * 86400, 'seconds'),
    absoluteSeconds: wholeNumber(1, 30 * 86400, 'seconds'),
  })
  .refine((lifetimes) => lifetimes.idleSeconds <= lifetimes.absoluteSeconds, {
    path: ['idleSeconds'],
    message: 'expected at most SESSION_ABSOLUTE_SECONDS (a session cannot stay idle longer than it may live)',
  });

// At least five years: the usage history of an eID is kept five years (DOMAIN.md, Decree 69/2024).
const auditSettings = z
  .object({
    historyRetentionDays: z.coerce
      .number({ error: 'expected a whole number of days from 1826 (five years) to 36500' })
      .int('expected a whole number of days from 1826 (five years) to 36500')
      .min(1826, 'expected at least 1826 days: the usage history is kept five years')
      .max(36500, 'expected at most 36500 days')
      .default(1826),
  })
  .prefault({});

const schema = z.object({
  env: z.enum(['development', 'test', 'production'], { error: 'expected development, test or production' }),
  port,
  adminPort: port,
  host: z.string().refine((value) => isIP(value) !== 0 || value === 'localhost', {
    message: 'expected an IP address to bind to, such as 127.0.0.1 or 0.0.0.0',
  }),
  issuer: url('an absolute URL such as https://id.example.vn').refine(
    (value) => {
      const parsed = new URL(value);
      return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && !parsed.search && !parsed.hash;
    },
    { message: 'expected an http(s) URL without query or fragment' },
  ),
  databaseUrl: url('a PostgreSQL URL such as postgres://user@127.0.0.1:5432/citizen_idp')
    .refine((value) => /^postgres(ql)?:$/.test(new URL(value).protocol), {
      message: 'expected a postgres:// or postgresql:// URL',
    })
    .optional(),
  redisUrl: url('a Redis URL such as redis://127.0.0.1:6379/0')
    .refine((value) => /^rediss?:$/.test(new URL(value).protocol), {
      message: 'expected a redis:// or rediss:// URL',
    })
    .optional(),
  redisKeyPrefix: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9:._-]*$/, 'expected letters, digits and : . _ - only (no braces: they would break hash tags)'),
  redis: redisSettings,
  database: databaseSettings,
  probes: probeSettings,
  keyEncryptionKey: key32('KEY_ENCRYPTION_KEY'),
  pairwiseKey: key32('PAIRWISE_KEY'),
  keyEncryptionKeyPrevious: key32('KEY_ENCRYPTION_KEY_PREVIOUS'),
  auditHeadsKey: key32('AUDIT_HEADS_KEY'),
  keys: signingKeySettings,
  trustedProxies: z.array(
    z.string().refine(isProxyAddress, {
      error: (issue) => `expected IP addresses or CIDR ranges separated by commas; ${JSON.stringify(issue.input)} is neither`,
    }),
  ),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'expected one of fatal, error, warn, info, debug, trace, silent',
  }),
  dataDir: z.string().min(1, 'expected a directory path'),
  embeddedPostgresPort: port,
  demo: z.object({ seed: z.boolean(), portalPort: port, bankPort: port.default(4003) }),
  ttl: z.object({
    interaction: seconds,
    authorizationCode: seconds.max(600, 'expected at most 600 seconds'),
    accessToken: seconds,
    clientCredentials: seconds,
    idToken: seconds,
    refreshToken: seconds,
    grant: seconds,
  }),
  argon2: z.object({
    // OWASP's minimum for argon2id; never lower.
    memoryKiB: z.number().int().min(19456, 'expected at least 19456 KiB (OWASP minimum)'),
    iterations: z.number().int().min(2, 'expected at least 2 (OWASP minimum)'),
    parallelism: z.number().int().min(1).max(16),
    concurrent: z.number().int().min(1, 'expected at least 1').max(64),
    queued: z.number().int().min(0).max(10_000),
  }),
  registry: registrySettings,
  mtls: mutualTlsSettings,
  ciba: cibaSettings,
  admin: adminSettings,
  audit: auditSettings,
  sessions: sessionLifetimes,
  signInLimits: z.object({
    failuresBeforeLock: z.number().int().min(3, 'expected at least 3').max(20, 'expected at most 20'),
    firstLockSeconds: z.number().int().min(60, 'expected at least 60 seconds'),
    maxLockSeconds: z.number().int().max(7 * 86400, 'expected at most a week'),
    attemptsPerAddressPerMinute: z.number().int().min(10, 'expected at least 10 (carrier NAT puts many citizens behind one address)'),
  }),
  notifications: z.object({
    mode: z.enum(['outbox', 'deliver'], { error: 'expected outbox or deliver' }),
    smtpUrl: url('an SMTP URL such as smtps://user:password@smtp.example.vn:465')
      .refine((value) => /^smtps?:$/.test(new URL(value).protocol), { message: 'expected an smtp:// or smtps:// URL' })
      .optional(),
    mailFrom: z.string().min(3),
    smsGatewayUrl: url('an https URL of the SMS gateway').optional(),
    smsGatewayToken: z.string().min(1).optional(),
  }),
});

type Environ = Readonly<Record<string, string | undefined>>;

/** Settings files merged over each other; later ones win, objects merge key by key. */
function readSettingsFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(path.basename(file), `expected a JSON object (${(cause as Error).message})`);
  }
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object'
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export interface LoadOptions {
  /** Folder holding default.json and <env>.json. */
  readonly configDir?: string;
  /** Settings laid over files and environment (tests use it). */
  readonly overrides?: Partial<Record<keyof Config, unknown>>;
}

export function loadConfig(environ: Environ = process.env, options: LoadOptions = {}): Config {
  const configDir = options.configDir ?? path.resolve(import.meta.dirname, '../../config');
  // Empty counts as unset, as for every other setting.
  const envName = environ.NODE_ENV || 'development';
  if (!['development', 'test', 'production'].includes(envName)) {
    // JSON quoting keeps the message on one line whatever the variable holds.
    throw new ConfigError('NODE_ENV', `expected development, test or production, got ${JSON.stringify(envName)}`);
  }
  let raw = merge(readSettingsFile(path.join(configDir, 'default.json')), readSettingsFile(path.join(configDir, `${envName}.json`)));
  raw.env = envName;
  for (const [setting, name] of Object.entries(ENVIRONMENT_NAMES)) {
    const value = environ[name];
    if (value === undefined || value === '') continue;
    const parsedValue = setting === 'trustedProxies' || setting === 'redis.clusterNodes' ? value.split(',').map((entry) => entry.trim()).filter(Boolean) : value;
    // A dotted setting ('notifications.smtpUrl') lands in its nested object.
    raw = merge(raw, setting.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), parsedValue) as Record<string, unknown>);
  }
  if (options.overrides) raw = merge(raw, options.overrides);

  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [first, ...restPath] = issue.path.map(String);
    const dotted = [first, ...restPath].join('.');
    const setting = first ? (ENVIRONMENT_NAMES[dotted] ?? ENVIRONMENT_NAMES[first] ?? dotted) : 'configuration';
    throw new ConfigError(setting, issue.message);
  }
  const config = parsed.data satisfies Config;
  assertDeployable(config);
  return deepFreeze(config);
}

/** Production refuses everything that only makes sense on a laptop. */
function assertDeployable(config: Config): void {
  if (config.port === config.adminPort) {
    throw new ConfigError('ADMIN_PORT', 'expected a port different from PORT (the admin API listens apart)');
  }
  if (config.redis.cluster || config.redis.clusterNodes.length > 0) {
    // A cluster has only database 0; seeds without REDIS_CLUSTER would be silently ignored.
    if (!config.redis.cluster) throw new ConfigError('REDIS_CLUSTER_NODES', 'expected only together with REDIS_CLUSTER=true');
    if (!config.redisUrl) throw new ConfigError('REDIS_CLUSTER', 'expected REDIS_URL naming one node of the cluster');
    if (!['', '/', '/0'].includes(new URL(config.redisUrl).pathname)) {
      throw new ConfigError('REDIS_URL', 'expected no database number (or /0) with REDIS_CLUSTER: a cluster has database 0 only');
    }
  }
  if (config.env !== 'production') return;
  if (new URL(config.issuer).protocol !== 'https:') {
    throw new ConfigError('ISSUER', 'expected an https:// URL in production');
  }
  if (config.registry.url !== undefined && new URL(config.registry.url).protocol !== 'https:') {
    throw new ConfigError('REGISTRY_URL', 'expected an https:// URL in production');
  }
  if (!config.databaseUrl) {
    throw new ConfigError('DATABASE_URL', 'expected a PostgreSQL URL in production (the embedded database is for the quickstart only)');
  }
  if (!config.redisUrl) {
    throw new ConfigError('REDIS_URL', 'expected a Redis URL in production (the in-memory store is for the quickstart only)');
  }
  if (!config.keyEncryptionKey) {
    throw new ConfigError('KEY_ENCRYPTION_KEY', 'expected 32 random bytes (base64 or hex) in production');
  }
  if (!config.pairwiseKey) {
    throw new ConfigError('PAIRWISE_KEY', 'expected 32 random bytes (base64 or hex) in production');
  }
  if (config.notifications.mode === 'outbox') {
    throw new ConfigError('notifications.mode', 'expected deliver in production (the outbox only stores messages)');
  }
  if (!config.notifications.smtpUrl && !config.notifications.smsGatewayUrl) {
    throw new ConfigError('SMTP_URL', 'expected SMTP_URL or SMS_GATEWAY_URL in production, to reach citizens');
  }
  if (config.notifications.smsGatewayUrl && !config.notifications.smsGatewayToken) {
    throw new ConfigError('SMS_GATEWAY_TOKEN', 'expected the SMS gateway token with SMS_GATEWAY_URL');
  }
  if (config.admin.url !== undefined && new URL(config.admin.url).protocol !== 'https:') {
    throw new ConfigError('ADMIN_URL', 'expected an https:// URL in production');
  }
  if (config.demo.seed) {
    throw new ConfigError('demo.seed', 'expected false in production (demo citizens and clients are never loaded there)');
  }
}

/** True when any part runs embedded: the quickstart. */
export function isQuickstart(config: Config): boolean {
  return config.databaseUrl === undefined || config.redisUrl === undefined;
}
