// Every setting once: its environment variable, its validation, and what it means. config.ts builds
// the schema and the environment overlay from this list, and configuration-reference.ts writes
// docs/configuration.md from it; a setting added anywhere else is a type error.
import { holdsTestCertificate } from '../chip/trust-list.ts';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { Config } from './config-shape.ts';

/** A rule one setting must meet in production; `expected` is the refusal's text. */
interface ProductionRule<T> {
  readonly accepts: (value: T) => boolean;
  readonly expected: string;
}

export interface SettingDescriptor<T> {
  /** The variable that overrides the settings files; absent: set only in config/*.json. */
  readonly env?: string;
  /** Validates the value from a settings file or, as text, from the environment; may default it. */
  readonly schema: z.ZodType<T>;
  /** What a valid value looks like, for the reference. */
  readonly type: string;
  /** One line: what the setting does. */
  readonly meaning: string;
  /** Given only through the environment, never written in config/. */
  readonly secret?: true;
  /** The variable holds a comma-separated list. */
  readonly list?: true;
  /** What happens when it has no value at all. */
  readonly whenUnset?: string;
  readonly production?: ProductionRule<T>;
}

type Leaf = string | number | boolean | Buffer | readonly string[] | undefined;

/** 'port', 'redis.commandTimeoutMs', …: every leaf of Config. */
type PathsOf<T, Prefix extends string = ''> = {
  [K in keyof T & string]-?: T[K] extends Leaf ? `${Prefix}${K}` : PathsOf<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

type ValueAt<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? ValueAt<T[Head], Rest>
    : never
  : P extends keyof T
    ? T[P]
    : never;

export type SettingPath = PathsOf<Config>;

/** Exactly one descriptor per leaf of Config, typed by that leaf. */
export type Settings = { readonly [P in SettingPath]: SettingDescriptor<ValueAt<Config, P>> };

/** The groups of Config (redis, database, …): objects of settings. */
export type SettingGroup = {
  [K in keyof Config]-?: Config[K] extends Leaf ? never : K;
}[keyof Config];

/** A rule across the settings of one group; each issue names the field it blames. */
export type GroupRule<G> = (settings: G) => readonly { readonly field: keyof G & string; readonly expected: string }[];

// The building blocks of the descriptors below.

const port = z.coerce
  .number({ error: 'expected a port number from 1 to 65535' })
  .int('expected a port number from 1 to 65535')
  .min(1, 'expected a port number from 1 to 65535')
  .max(65535, 'expected a port number from 1 to 65535');

const seconds = z.number().int().positive('expected a positive number of seconds');

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

const KEY_TYPE = '32 random bytes: base64 or 64 hex characters (`openssl rand -base64 32`)';

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

const httpsOnly: ProductionRule<string | undefined> = {
  accepts: (value) => value === undefined || new URL(value).protocol === 'https:',
  expected: 'expected an https:// URL in production',
};

const requiredKey: ProductionRule<Buffer | undefined> = {
  accepts: (value) => value !== undefined,
  expected: 'expected 32 random bytes (base64 or hex) in production',
};

/** The order here is the schema's, so with several bad settings the same one is reported first. */
export const SETTINGS: Settings = {
  env: {
    env: 'NODE_ENV',
    schema: z.enum(['development', 'test', 'production'], { error: 'expected development, test or production' }),
    type: '`development`, `test` or `production`',
    meaning: 'the environment: picks `config/<NODE_ENV>.json`; unset or empty is `development`',
  },
  port: {
    env: 'PORT',
    schema: port,
    type: 'port',
    meaning: 'public port: the OpenID Connect endpoints and the sign-in pages',
  },
  adminPort: {
    env: 'ADMIN_PORT',
    schema: port,
    type: 'port',
    meaning: 'admin API port; must differ from `PORT`; keep it off the internet',
  },
  host: {
    env: 'HOST',
    schema: z.string().refine((value) => isIP(value) !== 0 || value === 'localhost', {
      message: 'expected an IP address to bind to, such as 127.0.0.1 or 0.0.0.0',
    }),
    type: 'IP address or `localhost`',
    meaning: 'address both listeners bind to',
  },
  issuer: {
    env: 'ISSUER',
    schema: url('an absolute URL such as https://id.example.vn').refine(
      (value) => {
        const parsed = new URL(value);
        return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && !parsed.search && !parsed.hash;
      },
      { message: 'expected an http(s) URL without query or fragment' },
    ),
    type: 'http(s) URL without query or fragment',
    meaning: 'the issuer identifier: the public URL',
    production: httpsOnly,
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    schema: url('a PostgreSQL URL such as postgres://user@127.0.0.1:5432/citizen_idp')
      .refine((value) => /^postgres(ql)?:$/.test(new URL(value).protocol), {
        message: 'expected a postgres:// or postgresql:// URL',
      })
      .optional(),
    type: '`postgres://user:password@host:5432/database`',
    meaning: 'the PostgreSQL database; may carry its password',
    secret: true,
    whenUnset: 'the embedded PostgreSQL under `DATA_DIR`',
    production: {
      accepts: (value) => value !== undefined,
      expected: 'expected a PostgreSQL URL in production (the embedded database is for the quickstart only)',
    },
  },
  redisUrl: {
    env: 'REDIS_URL',
    schema: url('a Redis URL such as redis://127.0.0.1:6379/0')
      .refine((value) => /^rediss?:$/.test(new URL(value).protocol), {
        message: 'expected a redis:// or rediss:// URL',
      })
      .optional(),
    type: '`redis://host:6379/0` or `rediss://…`',
    meaning: 'the Redis of the short-lived state; it must run with `maxmemory-policy noeviction`; may carry its password',
    secret: true,
    whenUnset: 'the single-process in-memory store',
    production: {
      accepts: (value) => value !== undefined,
      expected: 'expected a Redis URL in production (the in-memory store is for the quickstart only)',
    },
  },
  redisKeyPrefix: {
    env: 'REDIS_KEY_PREFIX',
    schema: z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9:._-]*$/, 'expected letters, digits and : . _ - only (no braces: they would break hash tags)'),
    type: 'up to 64 letters, digits and `: . _ -`',
    meaning: 'put before every Redis key, so several deployments (or test runs) can share one Redis',
  },
  tokensStoredByValue: {
    env: 'TOKENS_STORED_BY_VALUE',
    schema: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')], { error: 'expected true or false' })
      .default(false),
    type: '`true` or `false`',
    meaning:
      'only while upgrading from a release that stored tokens by their value (before token digests): `true` stores new tokens that way too, so its instances find them; unset once none runs (docs/operations.md "Tokens at rest")',
  },
  'redis.cluster': {
    env: 'REDIS_CLUSTER',
    schema: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')], { error: 'expected true or false' })
      .default(false),
    type: '`true` or `false`',
    meaning: '`true`: `REDIS_URL` names one node of a Redis Cluster (no database number) and the cluster client is used',
  },
  'redis.clusterNodes': {
    env: 'REDIS_CLUSTER_NODES',
    schema: z
      .array(z.string())
      .refine((nodes) => nodes.every((node) => /^[A-Za-z0-9.-]+:\d{1,5}$/.test(node)), { message: 'expected host:port entries separated by commas' })
      .default([]),
    type: '`host:port` entries separated by commas',
    meaning: 'more seed nodes besides `REDIS_URL`, so the start survives one node being down; only with `REDIS_CLUSTER=true`',
    list: true,
  },
  'redis.commandTimeoutMs': {
    env: 'REDIS_COMMAND_TIMEOUT_MS',
    schema: wholeNumber(10, 60_000, 'milliseconds').default(1000),
    type: 'milliseconds, 10–60000',
    meaning: 'how long a Redis command may take before it fails',
  },
  'redis.connectTimeoutMs': {
    env: 'REDIS_CONNECT_TIMEOUT_MS',
    schema: wholeNumber(10, 60_000, 'milliseconds').default(2000),
    type: 'milliseconds, 10–60000',
    meaning: 'how long a new Redis connection (and a cluster\'s slot refresh) may take',
  },
  'database.poolMax': {
    env: 'DATABASE_POOL_MAX',
    schema: wholeNumber(1, 1000, 'connections').default(10),
    type: 'connections, 1–1000',
    meaning: 'PostgreSQL connections per instance',
  },
  'database.statementTimeoutMs': {
    env: 'DATABASE_STATEMENT_TIMEOUT_MS',
    schema: wholeNumber(100, 600_000, 'milliseconds').default(5000),
    type: 'milliseconds, 100–600000',
    meaning: 'PostgreSQL\'s `statement_timeout`: the server cancels a longer statement (migrations run without it)',
  },
  'database.queryTimeoutMs': {
    env: 'DATABASE_QUERY_TIMEOUT_MS',
    schema: wholeNumber(100, 600_000, 'milliseconds').default(6000),
    type: 'milliseconds, 100–600000; more than `DATABASE_STATEMENT_TIMEOUT_MS`',
    meaning: 'the client\'s `query_timeout`: a query unanswered this long fails even when the server cannot be reached',
  },
  'database.acquireTimeoutMs': {
    env: 'DATABASE_ACQUIRE_TIMEOUT_MS',
    schema: wholeNumber(10, 60_000, 'milliseconds').default(2000),
    type: 'milliseconds, 10–60000',
    meaning: 'how long a request waits for a free pooled connection',
  },
  'database.connectTimeoutMs': {
    env: 'DATABASE_CONNECT_TIMEOUT_MS',
    schema: wholeNumber(10, 60_000, 'milliseconds').default(2000),
    type: 'milliseconds, 10–60000',
    meaning: 'how long a new PostgreSQL connection may take',
  },
  'probes.checkTimeoutMs': {
    env: 'READINESS_CHECK_TIMEOUT_MS',
    schema: wholeNumber(10, 60_000, 'milliseconds').default(800),
    type: 'milliseconds, 10–60000',
    meaning: 'each `/readyz` check\'s own deadline; the checks run side by side, so keep it below the load balancer\'s probe timeout',
  },
  'probes.drainSeconds': {
    env: 'SHUTDOWN_DRAIN_SECONDS',
    schema: wholeNumber(0, 300, 'seconds').default(0),
    type: 'seconds, 0–300',
    meaning: 'after SIGTERM, how long `/readyz` answers 503 `"draining"` while requests are still served, before the listeners close',
  },
  keyEncryptionKey: {
    env: 'KEY_ENCRYPTION_KEY',
    schema: key32('KEY_ENCRYPTION_KEY'),
    type: KEY_TYPE,
    meaning: 'seals the private signing keys, cookie keys and client secrets in PostgreSQL',
    secret: true,
    whenUnset: 'generated into `<DATA_DIR>/secrets.json`',
    production: requiredKey,
  },
  pairwiseKey: {
    env: 'PAIRWISE_KEY',
    schema: key32('PAIRWISE_KEY'),
    type: KEY_TYPE,
    meaning: 'HMAC key of the pairwise subjects; never change it, back it up with the database',
    secret: true,
    whenUnset: 'generated into `<DATA_DIR>/secrets.json`',
    production: requiredKey,
  },
  keyEncryptionKeyPrevious: {
    env: 'KEY_ENCRYPTION_KEY_PREVIOUS',
    schema: key32('KEY_ENCRYPTION_KEY_PREVIOUS'),
    type: KEY_TYPE,
    meaning: 'the key-encryption key before a rotation: values still sealed under it open, nothing is sealed under it; only for the window of a rolling rotation',
    secret: true,
    whenUnset: 'none',
  },
  auditHeadsKey: {
    env: 'AUDIT_HEADS_KEY',
    schema: key32('AUDIT_HEADS_KEY'),
    type: KEY_TYPE,
    meaning: 'HMAC key of the exported audit chain heads, never stored in the database; needed by `audit export-heads` and `audit verify --heads`',
    secret: true,
    whenUnset: 'none',
  },
  'keys.rotationDays': {
    env: 'KEYS_ROTATION_DAYS',
    schema: z.coerce
      .number({ error: 'expected a number of days from 0 (off) to 3650' })
      .min(0, 'expected a number of days from 0 (off) to 3650')
      .max(3650, 'expected a number of days from 0 (off) to 3650')
      .default(0),
    type: 'days, 0–3650, fractions allowed',
    meaning: 'a new signing key per algorithm every this many days; 0: only `keys rotate` makes one',
  },
  'keys.publishAheadSeconds': {
    env: 'KEYS_PUBLISH_AHEAD_SECONDS',
    schema: wholeNumber(1, 30 * 86400, 'seconds').default(86400),
    type: 'seconds, 1–2592000; at least `KEYS_POLL_SECONDS`',
    meaning: 'how long a new signing key is in the JWKS before it signs (relying parties cache the JWKS)',
  },
  'keys.pollSeconds': {
    env: 'KEYS_POLL_SECONDS',
    schema: wholeNumber(1, 3600, 'seconds').default(30),
    type: 'seconds, 1–3600',
    meaning: 'how often each instance re-reads the signing keys: a rotation or revocation reaches every instance within this',
  },
  trustedProxies: {
    env: 'TRUSTED_PROXIES',
    schema: z.array(
      z.string().refine(isProxyAddress, {
        error: (issue) => `expected IP addresses or CIDR ranges separated by commas; ${JSON.stringify(issue.input)} is neither`,
      }),
    ),
    type: 'IP addresses or CIDR ranges separated by commas',
    meaning: 'peers whose `X-Forwarded-*` headers are believed (from any other peer they are dropped)',
    list: true,
  },
  logLevel: {
    env: 'LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    }),
    type: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
    meaning: 'the least severe log line written (the CLI logs `warn` and above unless `LOG_LEVEL` is set)',
  },
  dataDir: {
    env: 'DATA_DIR',
    schema: z.string().min(1, 'expected a directory path'),
    type: 'directory path',
    meaning: 'quickstart folder: the embedded PostgreSQL cluster and the generated secrets',
  },
  embeddedPostgresPort: {
    env: 'EMBEDDED_POSTGRES_PORT',
    schema: port,
    type: 'port',
    meaning: 'loopback port of the embedded PostgreSQL',
  },
  'demo.seed': {
    schema: z.boolean(),
    type: 'boolean',
    meaning: 'load the demo citizens and clients at start',
    production: { accepts: (value) => !value, expected: 'expected false in production (demo citizens and clients are never loaded there)' },
  },
  'demo.portalPort': {
    env: 'DEMO_PORTAL_PORT',
    schema: port,
    type: 'port',
    meaning: 'port of the demo portal; demo-portal is registered on `http://localhost:<port>/callback`',
  },
  'demo.bankPort': {
    env: 'DEMO_BANK_PORT',
    schema: port.default(4003),
    type: 'port',
    meaning: 'port of the demo bank (FAPI 2.0); demo-bank is registered on `http://127.0.0.1:<port>/callback`',
  },
  'ttl.interaction': {
    schema: seconds,
    type: 'positive seconds',
    meaning: 'how long a sign-in in progress may take',
  },
  'ttl.authorizationCode': {
    schema: seconds.max(600, 'expected at most 600 seconds'),
    type: 'seconds, at most 600',
    meaning: 'how long an authorization code lives',
  },
  'ttl.accessToken': {
    schema: seconds,
    type: 'positive seconds',
    meaning: 'how long an access token lives; the most a client or resource server may register',
  },
  'ttl.clientCredentials': {
    schema: seconds,
    type: 'positive seconds',
    meaning: 'how long a client credentials token lives; the most a service client may register',
  },
  'ttl.idToken': {
    schema: seconds,
    type: 'positive seconds',
    meaning: 'how long an ID token is valid; the most a client may register',
  },
  'ttl.refreshToken': {
    schema: seconds,
    type: 'positive seconds',
    meaning: 'how long a refresh token lives; the most a client may register',
  },
  'ttl.grant': {
    schema: seconds,
    type: 'positive seconds',
    meaning: 'how long a grant (the citizen\'s approval for a client) lives',
  },
  'ttl.registrationAccessToken': {
    schema: seconds,
    type: 'positive seconds',
    meaning: 'how long a registration access token (RFC 7592) lives; each update of the registration replaces it with a new one',
  },
  // OWASP's minimum for argon2id; never lower.
  'argon2.memoryKiB': {
    schema: z.number().int().min(19456, 'expected at least 19456 KiB (OWASP minimum)'),
    type: 'KiB, at least 19456',
    meaning: 'argon2id memory per password hash',
  },
  'argon2.iterations': {
    schema: z.number().int().min(2, 'expected at least 2 (OWASP minimum)'),
    type: 'whole number, at least 2',
    meaning: 'argon2id passes',
  },
  'argon2.parallelism': {
    schema: z.number().int().min(1).max(16),
    type: 'lanes, 1–16',
    meaning: 'argon2id lanes',
  },
  'argon2.concurrent': {
    schema: z.number().int().min(1, 'expected at least 1').max(64),
    type: 'hashes, 1–64',
    meaning: 'password hashes computed at once per process (keep below `UV_THREADPOOL_SIZE` so signing finds a thread)',
  },
  'argon2.queued': {
    schema: z.number().int().min(0).max(10_000),
    type: 'hashes, 0–10000',
    meaning: 'password hashes allowed to wait; beyond that the login form answers 503',
  },
  'registry.url': {
    env: 'REGISTRY_URL',
    schema: url('an https:// URL such as https://registry.example.vn/api/v1')
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
    type: '`https://` URL (`http://` to a loopback address outside production)',
    meaning: 'base URL of the remote population registry',
    whenUnset: 'the local PostgreSQL mirror',
    production: httpsOnly,
  },
  'registry.clientCert': {
    env: 'REGISTRY_CLIENT_CERT',
    schema: pemFile,
    type: 'PEM file',
    meaning: 'the client certificate for mutual TLS with the registry; needs `REGISTRY_CLIENT_KEY` and `REGISTRY_URL`',
    whenUnset: 'none',
  },
  'registry.clientKey': {
    env: 'REGISTRY_CLIENT_KEY',
    schema: pemFile,
    type: 'PEM file',
    meaning: 'the private key of `REGISTRY_CLIENT_CERT`',
    whenUnset: 'none',
  },
  'registry.ca': {
    env: 'REGISTRY_CA',
    schema: pemFile,
    type: 'PEM file',
    meaning: 'the CA certificates trusted for the registry\'s server certificate',
    whenUnset: 'the system\'s CAs',
  },
  'registry.connectTimeoutMs': {
    env: 'REGISTRY_CONNECT_TIMEOUT_MS',
    schema: wholeNumber(1, 60_000, 'milliseconds').default(1000),
    type: 'milliseconds, 1–60000; at most `REGISTRY_TIMEOUT_MS`',
    meaning: 'how long a new connection to the registry may take, TLS handshake included',
  },
  'registry.timeoutMs': {
    env: 'REGISTRY_TIMEOUT_MS',
    schema: wholeNumber(1, 60_000, 'milliseconds').default(2000),
    type: 'milliseconds, 1–60000',
    meaning: 'how long one attempt\'s whole answer may take',
  },
  // With the total timeout, bounds a sign-in's wait for a failing registry (about 4 s by default).
  'registry.retries': {
    env: 'REGISTRY_RETRIES',
    schema: wholeNumber(0, 5, 'retries').default(1),
    type: 'retries, 0–5',
    meaning: 'further attempts after a timeout, a connection error, a 5xx or a 429, after a jittered exponential back-off from 100 ms',
  },
  'registry.circuitThreshold': {
    env: 'REGISTRY_CIRCUIT_THRESHOLD',
    schema: wholeNumber(1, 1000, 'failures').default(5),
    type: 'failures, 1–1000',
    meaning: 'consecutive failed attempts that open the circuit: lookups then fail at once',
  },
  'registry.circuitCooldownMs': {
    env: 'REGISTRY_CIRCUIT_COOLDOWN_MS',
    schema: wholeNumber(0, 600_000, 'milliseconds').default(30_000),
    type: 'milliseconds, 0–600000',
    meaning: 'how long an open circuit refuses before it lets one trial request through',
  },
  // A cached record is at most a minute old.
  'registry.cacheSeconds': {
    env: 'REGISTRY_CACHE_SECONDS',
    schema: wholeNumber(0, 60, 'seconds').default(30),
    type: 'seconds, 0–60',
    meaning: 'how long a living person\'s record is cached; 0 caches none',
  },
  // RFC 9440's Client-Cert by default; nginx's $ssl_client_escaped_cert (URL-encoded PEM) works too.
  'mtls.certificateHeader': {
    env: 'MTLS_CERTIFICATE_HEADER',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'expected an HTTP header name such as client-cert')
      .refine((name) => !/^(x-forwarded-|forwarded$|host$|authorization$|cookie$|dpop$)/i.test(name), {
        message: 'expected a header of its own, not one clients or the protocol use',
      })
      .default('client-cert'),
    type: 'HTTP header name',
    meaning: 'the header in which the TLS-terminating proxy passes a bank\'s client certificate (RFC 9440 `:base64:`, PEM or URL-encoded PEM); believed only from `TRUSTED_PROXIES`',
  },
  'mtls.caFile': {
    env: 'MTLS_CA_FILE',
    schema: pemFile,
    type: 'PEM file',
    meaning: 'the authorities that issue banks\' certificates for `tls_client_auth` (`self_signed_tls_client_auth` needs none)',
    whenUnset: '`tls_client_auth` is refused',
  },
  // ICAO Doc 9303 passive authentication (src/chip/trust-list.ts): the country signing CAs.
  'chip.trustListFile': {
    env: 'CHIP_TRUST_LIST',
    schema: pemFile,
    type: 'PEM file',
    meaning: 'the country signing CA (CSCA) certificates a card chip\'s document signer must chain to (`POST /chip/verifications`, level 2 with a chip); outside production the quickstart\'s test CSCA (`DATA_DIR/chip-test-authority/`) is trusted too; production refuses a certificate marked `TEST ONLY`',
    whenUnset: 'only the test CSCA outside production; in production every chip is refused (no document signer is trusted)',
  },
  'chip.crlFile': {
    env: 'CHIP_CRL_FILE',
    schema: pemFile,
    type: 'PEM file',
    meaning: 'the CSCAs\' certificate revocation lists (`X509 CRL` blocks): a document signer listed, or a list past its next update, fails the check `document_signer_not_revoked`',
    whenUnset: 'no revocation check',
  },
  'ciba.pollIntervalSeconds': {
    env: 'CIBA_POLL_INTERVAL_SECONDS',
    schema: wholeNumber(1, 60, 'seconds').default(5),
    type: 'seconds, 1–60',
    meaning: 'the `interval` a CIBA bank is told; a poll sooner than that after the last pending one (one second of grace) is answered `slow_down`',
  },
  'ciba.defaultExpirySeconds': {
    env: 'CIBA_DEFAULT_EXPIRY_SECONDS',
    schema: wholeNumber(10, 3600, 'seconds').default(300),
    type: 'seconds, 10–3600; at most `CIBA_MAX_EXPIRY_SECONDS`',
    meaning: 'how long a CIBA request waits when the bank sends no `requested_expiry`',
  },
  'ciba.maxExpirySeconds': {
    env: 'CIBA_MAX_EXPIRY_SECONDS',
    schema: wholeNumber(10, 3600, 'seconds').default(600),
    type: 'seconds, 10–3600',
    meaning: 'the longest `requested_expiry` honoured; a longer one is cut to this',
  },
  'ciba.pendingPerCitizen': {
    env: 'CIBA_PENDING_PER_CITIZEN',
    schema: wholeNumber(1, 20, 'requests').default(3),
    type: 'requests, 1–20',
    meaning: 'CIBA requests one citizen may have waiting; further ones are answered like a denial',
  },
  // A stand-in's denial comes after a delay like a person's (reading the notice, opening the account
  // page, pressing Deny), so an early access_denied does not tell a bank that nobody holds the number.
  'ciba.standInDenialMinSeconds': {
    schema: wholeNumber(0, 600, 'seconds').default(20),
    type: 'seconds, 0–600; at most `ciba.standInDenialMaxSeconds`',
    meaning: 'a CIBA request for a number without an active account (or over the cap) is denied after a random delay of at least this',
  },
  'ciba.standInDenialMaxSeconds': {
    schema: wholeNumber(0, 600, 'seconds').default(90),
    type: 'seconds, 0–600',
    meaning: 'and at most this',
  },
  'admin.url': {
    env: 'ADMIN_URL',
    schema: url('an absolute URL such as https://admin.id.example.vn')
      .refine(
        (value) => {
          const parsed = new URL(value);
          return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.pathname === '/' && !parsed.search && !parsed.hash;
        },
        { message: 'expected an http(s) origin without path, query or fragment' },
      )
      .optional(),
    type: 'http(s) origin',
    meaning: 'the admin side\'s origin as administrators\' browsers reach it; their sign-in comes back to `<ADMIN_URL>/auth/callback`',
    whenUnset: '`http://HOST:ADMIN_PORT` outside production; in production no browser sign-in, tokens only',
    production: httpsOnly,
  },
  // Up to 30 days of overlap: long enough to roll a fleet over, short enough that a leaked old secret dies.
  'admin.secretRotationOverlapSeconds': {
    env: 'ADMIN_SECRET_ROTATION_OVERLAP_SECONDS',
    schema: z.coerce
      .number({ error: 'expected a whole number of seconds from 0 to 2592000' })
      .int('expected a whole number of seconds from 0 to 2592000')
      .min(0, 'expected a whole number of seconds from 0 to 2592000')
      .max(30 * 86400, 'expected at most 2592000 seconds (30 days)')
      .default(86400),
    type: 'seconds, 0–2592000',
    meaning: 'after a client secret is rotated, how long the previous one is still accepted',
  },
  // At least five years: the usage history of an eID is kept five years (Decree 69/2024).
  'audit.historyRetentionDays': {
    env: 'AUDIT_HISTORY_RETENTION_DAYS',
    schema: z.coerce
      .number({ error: 'expected a whole number of days from 1826 (five years) to 36500' })
      .int('expected a whole number of days from 1826 (five years) to 36500')
      .min(1826, 'expected at least 1826 days: the usage history is kept five years')
      .max(36500, 'expected at most 36500 days')
      .default(1826),
    type: 'days, 1826–36500',
    meaning: 'days of audit events the citizen\'s data-access history shows; older events are not shown, and not deleted (`audit archive` may move their months to files; it never touches these days)',
  },
  // Up to 30 days: the longest NIST SP 800-63B allows between authentications at any level (AAL1).
  'sessions.idleSeconds': {
    env: 'SESSION_IDLE_SECONDS',
    schema: wholeNumber(1, 30 * 86400, 'seconds'),
    type: 'seconds, 1–2592000; at most `SESSION_ABSOLUTE_SECONDS`',
    meaning: 'a sign-in session not used (by an authorization request) for this long no longer signs anyone in',
  },
  'sessions.absoluteSeconds': {
    env: 'SESSION_ABSOLUTE_SECONDS',
    schema: wholeNumber(1, 30 * 86400, 'seconds'),
    type: 'seconds, 1–2592000',
    meaning: 'a sign-in session this old (since the citizen signed in) no longer signs anyone in, however busy; Redis drops it by then',
  },
  'signInLimits.failuresBeforeLock': {
    schema: z.number().int().min(3, 'expected at least 3').max(20, 'expected at most 20'),
    type: 'failures, 3–20',
    meaning: 'failed password sign-ins per submitted ID number (account or not) that lock passwords; a success resets the count',
  },
  'signInLimits.firstLockSeconds': {
    schema: z.number().int().min(60, 'expected at least 60 seconds'),
    type: 'seconds, at least 60',
    meaning: 'how long the first lock lasts; each further lock doubles',
  },
  'signInLimits.maxLockSeconds': {
    schema: z.number().int().max(7 * 86400, 'expected at most a week'),
    type: 'seconds, at most 604800',
    meaning: 'the longest a lock lasts',
  },
  'signInLimits.attemptsPerAddressPerMinute': {
    schema: z.number().int().min(10, 'expected at least 10 (carrier NAT puts many citizens behind one address)'),
    type: 'attempts, at least 10',
    meaning: 'sign-in attempts one client address may make per minute; `X-Forwarded-For` counts only from `TRUSTED_PROXIES`',
  },
  'notifications.mode': {
    schema: z.enum(['outbox', 'deliver'], { error: 'expected outbox or deliver' }),
    type: '`outbox` or `deliver`',
    meaning: 'how citizens\' contacts are reached: `outbox` stores the messages (quickstart, tests), `deliver` sends them',
    production: { accepts: (value) => value === 'deliver', expected: 'expected deliver in production (the outbox only stores messages)' },
  },
  'notifications.smtpUrl': {
    env: 'SMTP_URL',
    schema: url('an SMTP URL such as smtps://user:password@smtp.example.vn:465')
      .refine((value) => /^smtps?:$/.test(new URL(value).protocol), { message: 'expected an smtp:// or smtps:// URL' })
      .optional(),
    type: '`smtps://user:password@host:465` or `smtp://…`',
    meaning: 'the mail server that sends citizens\' e-mail; production needs it or `SMS_GATEWAY_URL`',
    secret: true,
    whenUnset: 'no e-mail is sent',
  },
  'notifications.mailFrom': {
    schema: z.string().min(3),
    type: 'mail address, with a display name',
    meaning: 'the sender of citizens\' e-mail',
  },
  'notifications.smsGatewayUrl': {
    env: 'SMS_GATEWAY_URL',
    schema: url('an https URL of the SMS gateway').optional(),
    type: 'URL',
    meaning: 'the SMS gateway that sends citizens\' text messages; needs `SMS_GATEWAY_TOKEN`',
    whenUnset: 'no text message is sent',
  },
  'notifications.smsGatewayToken': {
    env: 'SMS_GATEWAY_TOKEN',
    schema: z.string().min(1).optional(),
    type: 'text',
    meaning: 'the bearer token of the SMS gateway',
    secret: true,
    whenUnset: 'none',
  },
};

/** Rules across the settings of a group; each blames one field, in the order they are checked. */
export const GROUP_RULES: { readonly [G in SettingGroup]?: GroupRule<Config[G]> } = {
  // The query timeout (client side) outlasts the statement timeout (server side), so a slow statement
  // is cancelled by PostgreSQL — connection kept — and only an unreachable server trips the client's.
  database: (settings) =>
    settings.queryTimeoutMs > settings.statementTimeoutMs
      ? []
      : [{ field: 'queryTimeoutMs', expected: 'expected more than DATABASE_STATEMENT_TIMEOUT_MS (PostgreSQL cancels a slow statement first)' }],
  // A successor must be on every instance (one poll) before it signs: publish-ahead is at least one poll.
  keys: (settings) => [
    ...(settings.publishAheadSeconds < settings.pollSeconds
      ? [{ field: 'publishAheadSeconds', expected: 'expected at least KEYS_POLL_SECONDS (every instance must see a key before it signs)' } as const]
      : []),
    ...(settings.rotationDays > 0 && settings.rotationDays * 86400 <= settings.publishAheadSeconds
      ? [{ field: 'rotationDays', expected: 'expected a rotation period longer than KEYS_PUBLISH_AHEAD_SECONDS' } as const]
      : []),
  ],
  registry: (settings) => [
    ...((settings.clientCert === undefined) !== (settings.clientKey === undefined)
      ? [
          {
            field: settings.clientCert === undefined ? 'clientCert' : 'clientKey',
            expected: 'expected a client certificate and its key together (REGISTRY_CLIENT_CERT and REGISTRY_CLIENT_KEY)',
          } as const,
        ]
      : []),
    ...(['clientCert', 'clientKey', 'ca'] as const)
      .filter((file) => settings.url === undefined && settings[file] !== undefined)
      .map((file) => ({ field: file, expected: 'expected only together with REGISTRY_URL' })),
    ...(settings.connectTimeoutMs > settings.timeoutMs
      ? [{ field: 'connectTimeoutMs', expected: 'expected at most REGISTRY_TIMEOUT_MS (the total timeout)' } as const]
      : []),
  ],
  ciba: (settings) => [
    ...(settings.defaultExpirySeconds > settings.maxExpirySeconds
      ? [{ field: 'defaultExpirySeconds', expected: 'expected at most CIBA_MAX_EXPIRY_SECONDS' } as const]
      : []),
    ...(settings.standInDenialMinSeconds > settings.standInDenialMaxSeconds
      ? [{ field: 'standInDenialMinSeconds', expected: 'expected at most ciba.standInDenialMaxSeconds' } as const]
      : []),
  ],
  sessions: (lifetimes) =>
    lifetimes.idleSeconds <= lifetimes.absoluteSeconds
      ? []
      : [{ field: 'idleSeconds', expected: 'expected at most SESSION_ABSOLUTE_SECONDS (a session cannot stay idle longer than it may live)' }],
};

/** A rule across settings of different groups; the refusal names `blames`. */
export interface CrossRule {
  readonly blames: string;
  readonly productionOnly: boolean;
  readonly refuses: (config: Config) => boolean;
  readonly expected: string;
}

/**
 * What loadConfig checks after the schema, in this order, stopping at the first refusal: the rules
 * for every environment, then in production each setting's own `production` rule (named by its path
 * here) mixed with the production rules across settings. The order decides which of several bad
 * settings is named, so it is kept as it was.
 */
export const DEPLOYMENT_CHECKS: readonly (SettingPath | CrossRule)[] = [
  {
    blames: 'ADMIN_PORT',
    productionOnly: false,
    refuses: (config) => config.port === config.adminPort,
    expected: 'expected a port different from PORT (the admin API listens apart)',
  },
  // Seeds without REDIS_CLUSTER would be silently ignored.
  {
    blames: 'REDIS_CLUSTER_NODES',
    productionOnly: false,
    refuses: (config) => config.redis.clusterNodes.length > 0 && !config.redis.cluster,
    expected: 'expected only together with REDIS_CLUSTER=true',
  },
  {
    blames: 'REDIS_CLUSTER',
    productionOnly: false,
    refuses: (config) => config.redis.cluster && !config.redisUrl,
    expected: 'expected REDIS_URL naming one node of the cluster',
  },
  // A cluster has only database 0.
  {
    blames: 'REDIS_URL',
    productionOnly: false,
    refuses: (config) => config.redis.cluster && !!config.redisUrl && !['', '/', '/0'].includes(new URL(config.redisUrl).pathname),
    expected: 'expected no database number (or /0) with REDIS_CLUSTER: a cluster has database 0 only',
  },
  'issuer',
  'registry.url',
  'databaseUrl',
  'redisUrl',
  'keyEncryptionKey',
  'pairwiseKey',
  'notifications.mode',
  {
    blames: 'SMTP_URL',
    productionOnly: true,
    refuses: (config) => !config.notifications.smtpUrl && !config.notifications.smsGatewayUrl,
    expected: 'expected SMTP_URL or SMS_GATEWAY_URL in production, to reach citizens',
  },
  {
    blames: 'SMS_GATEWAY_TOKEN',
    productionOnly: true,
    refuses: (config) => !!config.notifications.smsGatewayUrl && !config.notifications.smsGatewayToken,
    expected: 'expected the SMS gateway token with SMS_GATEWAY_URL',
  },
  'admin.url',
  'demo.seed',
  {
    blames: 'CHIP_TRUST_LIST',
    productionOnly: true,
    refuses: (config) => !!config.chip.trustListFile && holdsTestCertificate(config.chip.trustListFile),
    expected: 'expected no test certificate (CN "TEST ONLY …") in production',
  },
];

/**
 * Variables the code reads that are not settings of Config: what reads them and why. The reference
 * lists them too, and a test checks that every variable read in src/ is here or in SETTINGS.
 */
export const OTHER_VARIABLES: readonly { readonly env: string; readonly readBy: string; readonly meaning: string }[] = [
  {
    env: 'UV_THREADPOOL_SIZE',
    readBy: 'the server (`src/main.ts`)',
    meaning: 'libuv\'s thread pool, shared by argon2 and signing; the server sets `8` unless it is set (keep it above `argon2.concurrent`)',
  },
  {
    env: 'CLIENT_SECRET',
    readBy: '`npm run cli -- clients add`',
    meaning: 'the new client\'s secret instead of a generated one (kept off the command line)',
  },
  {
    env: 'NEW_KEY_ENCRYPTION_KEY',
    readBy: '`npm run cli -- keys rotate-kek`',
    meaning: 'the key-encryption key to reseal everything under (32 random bytes, base64 or hex)',
  },
];
