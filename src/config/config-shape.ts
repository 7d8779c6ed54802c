// The shape of the validated configuration: what every other module receives. Its own module so that
// the setting descriptors (settings.ts) and the loader (config.ts) both refer to it without a cycle.
export type Environment = 'development' | 'test' | 'production';

export interface Ttl {
  readonly interaction: number;
  readonly authorizationCode: number;
  readonly accessToken: number;
  readonly clientCredentials: number;
  readonly idToken: number;
  readonly refreshToken: number;
  readonly grant: number;
  readonly registrationAccessToken: number;
}

export interface Config {
  readonly env: Environment;
  readonly port: number;
  readonly adminPort: number;
  readonly host: string;
  readonly issuer: string;
  readonly databaseUrl?: string | undefined;
  readonly redisUrl?: string | undefined;
  readonly redisKeyPrefix: string;
  readonly redis: RedisSettings;
  readonly database: DatabaseSettings;
  readonly probes: ProbeSettings;
  readonly keyEncryptionKey: Buffer | undefined;
  readonly pairwiseKey: Buffer | undefined;
  readonly keyEncryptionKeyPrevious: Buffer | undefined;
  readonly auditHeadsKey: Buffer | undefined;
  readonly keys: SigningKeySettings;
  readonly trustedProxies: readonly string[];
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly dataDir: string;
  readonly embeddedPostgresPort: number;
  readonly demo: { readonly seed: boolean; readonly portalPort: number; readonly bankPort: number };
  readonly ttl: Ttl;
  /** Only during an upgrade from a release before token digests (src/oidc/models/tokens-at-rest.ts). */
  readonly tokensStoredByValue: boolean;
  readonly sessions: SessionLifetimes;
  readonly argon2: {
    readonly memoryKiB: number;
    readonly iterations: number;
    readonly parallelism: number;
    readonly concurrent: number;
    readonly queued: number;
  };
  readonly signInLimits: {
    readonly failuresBeforeLock: number;
    readonly firstLockSeconds: number;
    readonly maxLockSeconds: number;
    readonly attemptsPerAddressPerMinute: number;
  };
  readonly notifications: {
    readonly mode: 'outbox' | 'deliver';
    readonly smtpUrl?: string | undefined;
    readonly mailFrom: string;
    readonly smsGatewayUrl?: string | undefined;
    readonly smsGatewayToken?: string | undefined;
  };
  readonly registry: RegistryGatewaySettings;
  readonly mtls: MutualTlsSettings;
  readonly chip: ChipSettings;
  readonly audit: AuditSettings;
  readonly ciba: CibaSettings;
  readonly admin: AdminSettings;
}

export interface AdminSettings {
  readonly url?: string | undefined;
  readonly secretRotationOverlapSeconds: number;
}

export interface SigningKeySettings {
  readonly rotationDays: number;
  readonly publishAheadSeconds: number;
  readonly pollSeconds: number;
}

/** CIBA: how often a bank may poll, how long a request lives, how many a citizen may have pending. */
export interface CibaSettings {
  readonly pollIntervalSeconds: number;
  readonly defaultExpirySeconds: number;
  readonly maxExpirySeconds: number;
  readonly pendingPerCitizen: number;
  readonly standInDenialMinSeconds: number;
  readonly standInDenialMaxSeconds: number;
}

export interface AuditSettings {
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
  readonly cluster: boolean;
  readonly clusterNodes: readonly string[];
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** The PostgreSQL pool: its size and the bound on each wait. */
export interface DatabaseSettings {
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  readonly queryTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** Where registry records come from: the local mirror, or the remote registry when `url` is set. */
export interface RegistryGatewaySettings {
  readonly url?: string | undefined;
  readonly clientCert?: string | undefined;
  readonly clientKey?: string | undefined;
  readonly ca?: string | undefined;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly circuitThreshold: number;
  readonly circuitCooldownMs: number;
  readonly cacheSeconds: number;
}

/** What /readyz waits for, and how long a stopping instance keeps serving while it reports draining. */
export interface ProbeSettings {
  readonly checkTimeoutMs: number;
  readonly drainSeconds: number;
}

/** Where a client's TLS certificate comes from when a proxy terminates TLS. */
export interface MutualTlsSettings {
  readonly certificateHeader: string;
  readonly caFile?: string | undefined;
}

/** Chip verification (src/chip/): the trusted country signing CAs and their revocation lists. */
export interface ChipSettings {
  readonly trustListFile?: string | undefined;
  readonly crlFile?: string | undefined;
}

/** A setting that cannot be used; `message` is one line that names it and says what is expected. */
