// Builds every long-lived part once, in dependency order: configuration → PostgreSQL and Redis (or
// their quickstart stand-ins) → repositories → provider. No module-level singletons: each call builds
// a new world, which is how tests get their own.
import { RepresentationDirectory } from './representation/representation.ts';
import { OrganisationAccounts } from './representation/organisation-accounts.ts';
import { RepresentationUses } from './representation/uses.ts';
import type { Config } from './config/config.ts';
import { resolveSecrets } from './config/quickstart-secrets.ts';
import { createDatabase, type Database } from './storage/database.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './storage/embedded-postgres.ts';
import { migrateToLatest } from './storage/migrate.ts';
import { evictionPolicyOf, openRedis } from './storage/redis-cluster.ts';
import { guardAdapter, guardFindAccount, reportDependencyFaults } from './oidc/dependency-faults.ts';
import type { EphemeralStore } from './storage/ephemeral-store.ts';
import { RedisEphemeralStore } from './storage/ephemeral-store-redis.ts';
import { MemoryEphemeralStore } from './storage/ephemeral-store-memory.ts';
import { KeyEncryption } from './storage/key-encryption.ts';
import { AuditLog } from './audit/audit-log.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { scrapeSources } from './observability/scrape-sources.ts';
import { instrumentProvider } from './oidc/provider-metrics.ts';
import { measuredRegistryGateway } from './registry/gateway-metrics.ts';
import { KeyRepository } from './oidc/keys/keys.ts';
import { ClientRepository, type ClientMetadata } from './oidc/clients/clients.ts';
import { DynamicRegistration } from './oidc/clients/dynamic-registration.ts';
import { InitialAccessTokenRepository } from './oidc/clients/initial-access-tokens.ts';
import { ClientCache } from './oidc/clients/client-cache.ts';
import { ResourceServerRegistry } from './oidc/clients/resource-servers.ts';
import { EphemeralModelStore } from './oidc/models/ephemeral-model-store.ts';
import { DurableModelStore } from './oidc/models/durable-model-store.ts';
import { createAdapterClass } from './oidc/models/adapter.ts';
import { TokensAtRest } from './oidc/models/tokens-at-rest.ts';
import { schedulePartitions } from './audit/partitions.ts';
import { createProvider, type Provider } from './oidc/provider.ts';
import { KeyRotation } from './oidc/keys/key-rotation.ts';
import { ProviderHolder } from './oidc/provider-holder.ts';
import { watchSigningKeys, type SigningKeyWatch } from './oidc/keys/signing-key-watch.ts';
import type { JWK } from 'jose';
import { dpopNonceSecret } from './oidc/fapi.ts';
import { SessionTerminator } from './oidc/sessions/sessions.ts';
import { BackchannelLogoutQueue, BackchannelLogoutWorker } from './oidc/sessions/backchannel-logout.ts';
import { providerPages } from './interactions/pages.ts';
import { RegistryRepository } from './registry/registry.ts';
import { LocalRegistryGateway, type RegistryGateway } from './registry/gateway.ts';
import { RemoteRegistryGateway } from './registry/gateway-remote.ts';
import type { AccountStore } from './accounts/account-store.ts';
import { PostgresAccountStore } from './accounts/account-store-postgres.ts';
import { PasswordHasher } from './accounts/passwords.ts';
import { PasswordSignIn } from './accounts/sign-in.ts';
import { OutboxNotifier, deliveringCarrier, httpSmsSender, outboxCarrier, smtpSender, type Carrier, type Notifier } from './accounts/notifier.ts';
import { NotificationQueue, NotificationWorker } from './accounts/notification-queue.ts';
import { BruteForceGuard } from './accounts/brute-force.ts';
import { TotpVerifier } from './accounts/totp.ts';
import { AccountFactors, SecondFactorCheck } from './accounts/second-factors.ts';
import { PasskeySignIn, passkeyChallengeSecret } from './accounts/passkey-sign-in.ts';
import { DeviceNotices } from './accounts/devices.ts';
import { hkdfSync } from 'node:crypto';
import {
  CONSOLE_CLIENT_ID,
  ConsoleRelyingParty,
  ConsoleSessionStore,
  consoleClientSecret,
  loopbackAddress,
  loopbackFetch,
  registerConsoleClient,
} from './interactions/account-console.ts';
import { PasskeyChallenges } from './accounts/second-factors.ts';
import { EnrolmentHandover } from './accounts/enrolment-handover.ts';
import { SelfRegistration } from './accounts/registration.ts';
import { DEFAULT_CONFIRMATION_POLICY, type ConfirmationPolicy } from './accounts/contact-confirmation.ts';
import { PasswordReset } from './accounts/password-reset.ts';
import { AttemptLimits } from './accounts/contact-confirmation.ts';
import { AccountSessions } from './oidc/sessions/account-sessions.ts';
import { AccountSelection } from './oidc/sessions/account-selection.ts';
import { adminConsoleSecret } from './admin/auth-sign-in.ts';
import { ADMIN_CONSOLE_CLIENT_ID } from './admin/auth.ts';
import { ADMIN_SCOPES } from './admin/auth-roles.ts';
import { createAdminServices, type AdminServices } from './admin/services.ts';
import { findServiceToken } from './oidc/admin-tokens.ts';
import { createFindAccount } from './oidc/consent/account-claims.ts';
import { LevelEvidenceReader } from './oidc/consent/verified-claims-provider.ts';
import { InteractionService } from './oidc/consent/interactions.ts';
import { ConsentRecords } from './oidc/consent/consent-records.ts';
import { createCibaHooks } from './oidc/ciba/ciba.ts';
import { CibaApprovals } from './oidc/ciba/ciba-approvals.ts';
import { approvalNotice } from './interactions/account/approvals-pages.ts';
import { notifyContacts } from './accounts/self-service.ts';
import { AccessHistory } from './audit/access-history.ts';
import { createChipVerifier, type ChipServices } from './chip/chip-services.ts';
import { ChipVerifications } from './chip/chip-results.ts';
import { chipClientOf, findChipToken } from './oidc/chip-tokens.ts';

/**
 * What every service stands on: settings, logs and metrics, the two stores, and the key-encryption
 * key's sealer. Opened first, closed last; no business rule lives here (logto's queries, hydra's
 * persisters sit on the same ground).
 */
export interface Infrastructure {
  readonly config: Config;
  readonly logger: Logger;
  /** This container's Prometheus registry and the counters the domain code moves (GET /metrics, admin port). */
  readonly metrics: Metrics;
  readonly db: Database;
  readonly ephemeral: EphemeralStore;
  readonly sealer: KeyEncryption;
}

/** The infrastructure and the services built on it, once, in dependency order. */
export interface Container extends Infrastructure {
  readonly audit: AuditLog;
  readonly keys: KeyRepository;
  readonly clients: ClientRepository;
  /** Dynamic client registration: initial access tokens and the clients registered with them. */
  readonly registrations: DynamicRegistration;
  readonly durableModels: DurableModelStore;
  readonly ephemeralModels: EphemeralModelStore;
  readonly sessions: SessionTerminator;
  /** The provider in service: always the current one (a change of signing keys builds a new one). */
  readonly provider: Provider;
  /** Holds the provider in service; the public app hands requests to `providers.callback`. */
  readonly providers: ProviderHolder;
  /** Signing keys: states, rotation, emergency revocation (src/oidc/keys/key-rotation.ts). */
  readonly signingKeys: KeyRotation;
  /** This instance's poll of the signing keys (tests call refresh() rather than wait). */
  readonly signingKeyWatch: SigningKeyWatch;
  readonly registry: RegistryRepository;
  /** Where sign-in and claims read the registry: the mirror, or the remote registry (REGISTRY_URL). */
  readonly registryGateway: RegistryGateway;
  readonly accounts: AccountStore;
  readonly passwords: PasswordHasher;
  readonly signIn: PasswordSignIn;
  readonly interactions: InteractionService;
  readonly consents: ConsentRecords;
  /** The citizen's data-access history, from the audit trail, within the retention. */
  readonly accessHistory: AccessHistory;
  /** Where messages to citizens go: a durable queue, delivered after the answer (an OutboxNotifier in outbox mode). */
  readonly notifier: Notifier;
  readonly bruteForce: BruteForceGuard;
  readonly totp: TotpVerifier;
  readonly secondFactor: SecondFactorCheck;
  /** An account's second factors as the account page lists, enrols and removes them. */
  readonly factors: AccountFactors;
  readonly passkeySignIn: PasskeySignIn;
  readonly devices: DeviceNotices;
  /** Bank requests waiting for citizens (CIBA), and their answers: the account page's approvals. */
  readonly ciba: CibaApprovals;
  /** The admin side's services: roles, sessions, four eyes, its authenticator, account administration (src/admin/services.ts). */
  readonly admin: AdminServices;
  /** A citizen's sign-in sessions, as the account page lists and ends them. */
  readonly accountSessions: AccountSessions;
  /** prompt=select_account: go on as the signed-in citizen, or end that session. */
  readonly accountSelection: AccountSelection;
  /** WebAuthn challenges of enrolments and approvals, each good once. */
  readonly passkeyChallenges: PasskeyChallenges;
  /** The in-person code an officer hands over after resetting a citizen's second factors. */
  readonly enrolmentHandover: EnrolmentHandover;
  /** The account page's own sign-in through this provider (src/interactions/account-console.ts). */
  readonly consoleSignIn: ConsoleRelyingParty;
  readonly consoleSessions: ConsoleSessionStore;
  /** The admin console's client secret, derived from the key-encryption key as the account page's is. */
  readonly adminConsoleSecret: string;
  /** Self-registration and password reset (/register, /reset), under one confirmation policy. */
  readonly selfRegistration: SelfRegistration;
  readonly passwordReset: PasswordReset;
  readonly confirmationPolicy: ConfirmationPolicy;
  /** Whom a citizen may act for, from the registers (src/representation/representation.ts). */
  readonly representation: RepresentationDirectory;
  /** Organisations' eID accounts: activation, authorisations, uses (src/representation/organisation-accounts.ts). */
  readonly organisationAccounts: OrganisationAccounts;
  /** Chip verification: the verifier, the banks' API and its tokens (src/chip/chip-services.ts). */
  readonly chip: ChipServices;
  /** Closes pools and stops the embedded database, if any. */
  close(): Promise<void>;
}

export interface ContainerOptions {
  readonly logger?: Logger;
  /** Skip migrations (the CLI's `migrate` runs them itself). */
  readonly migrate?: boolean;
  /** Registration's code lifetime, tries and hourly limits (tests shorten them). */
  readonly confirmationPolicy?: Partial<ConfirmationPolicy>;
  /** The calendar day in Vietnam that the representation rules are computed on (tests move it). */
  readonly today?: () => string;
}

/** The key of the one-time codes' keyed hashes (registration, reset), derived from the key-encryption key. */
function oneTimeCodeKey(keyEncryptionKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', keyEncryptionKey, Buffer.alloc(0), 'citizen-idp one-time codes v1', 32));
}

/** Connects storage only: enough for migrations and CLI commands. */
export async function openStorage(
  config: Config,
  logger: Logger,
): Promise<{ db: Database; embedded: EmbeddedDatabase | undefined }> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    const pgLog = logger.child({ component: 'embedded-postgres' });
    embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, (line) => pgLog.debug(line));
    url = embedded.url;
    logger.info({ dataDir: config.dataDir, port: config.embeddedPostgresPort }, 'embedded PostgreSQL started');
  }
  const dbLog = logger.child({ component: 'database' });
  return {
    db: createDatabase(url, {
      poolMax: config.database.poolMax,
      timeouts: config.database,
      log: { warn: (message) => dbLog.warn(message), error: (message) => dbLog.error(message) },
    }),
    embedded,
  };
}

/** The outbox outside production; SMTP and the SMS gateway in production (config refuses the rest). */
async function createCarrier(config: Config, db: Database): Promise<Carrier> {
  const { notifications } = config;
  if (notifications.mode === 'outbox') return outboxCarrier(db);
  return deliveringCarrier({
    ...(notifications.smtpUrl && { mail: await smtpSender(notifications.smtpUrl, notifications.mailFrom) }),
    ...(notifications.smsGatewayUrl &&
      notifications.smsGatewayToken && { sms: httpSmsSender(notifications.smsGatewayUrl, notifications.smsGatewayToken) }),
  });
}

/** The remote registry when REGISTRY_URL is set, else the local mirror. */
function createRegistryGateway(config: Config, mirror: RegistryRepository, logger: Logger): RegistryGateway {
  const settings = config.registry;
  if (settings.url === undefined) return new LocalRegistryGateway(mirror);
  logger.info({ url: settings.url, mutualTls: settings.clientCert !== undefined }, 'registry read from the remote registry');
  return new RemoteRegistryGateway({
    url: settings.url,
    clientCertFile: settings.clientCert,
    clientKeyFile: settings.clientKey,
    caFile: settings.ca,
    connectTimeoutMs: settings.connectTimeoutMs,
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    circuitThreshold: settings.circuitThreshold,
    circuitCooldownMs: settings.circuitCooldownMs,
    cacheTtlMs: settings.cacheSeconds * 1000,
    logger,
  });
}

const PURGE_EVERY_MS = 10 * 60 * 1000;

/** Expired grants and refresh tokens leave PostgreSQL in batches, every few minutes, off the request path. */
function schedulePurge(store: DurableModelStore, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= (async () => {
      let removed = 0;
      for (let batch = await store.purgeExpired(); batch > 0; batch = await store.purgeExpired()) removed += batch;
      if (removed > 0) logger.info({ removed }, 'expired grants and tokens purged');
    })()
      .catch((error: unknown) => logger.warn({ err: error }, 'purging expired grants and tokens failed; will retry'))
      .finally(() => {
        running = undefined;
      });
  }, PURGE_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Opens the infrastructure: PostgreSQL (or the embedded one) with its migrations, Redis (or the
 * in-memory store), the sealer. What it opened is closed by the closers it adds, in reverse order.
 */
async function openInfrastructure(
  config: Config,
  options: ContainerOptions,
  keyEncryptionKey: Buffer,
  closers: (() => Promise<unknown>)[],
): Promise<Infrastructure> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const { db, embedded } = await openStorage(config, logger);
  closers.push(async () => {
    await db.destroy();
    await embedded?.stop();
  });
  if (options.migrate !== false) {
    const applied = await migrateToLatest(db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }

  let ephemeral: EphemeralStore;
  if (config.redisUrl) {
    const redis = await openRedis(config, logger.child({ component: 'redis' }));
    metrics.observeRedis(redis);
    closers.unshift(() => {
      if (redis.status !== 'end') redis.disconnect();
      return Promise.resolve();
    });
    // An evicted session or code is a silent failure (docs/design.md): production refuses such a Redis.
    const policy = await evictionPolicyOf(redis);
    if (policy !== 'noeviction') {
      if (config.env === 'production') {
        throw new Error(`REDIS_URL: the server's maxmemory-policy is ${policy}; set it to noeviction`);
      }
      logger.warn({ policy }, 'Redis may evict keys (maxmemory-policy is not noeviction); readiness reports it');
    }
    ephemeral = new RedisEphemeralStore(redis);
  } else {
    ephemeral = new MemoryEphemeralStore();
    logger.info('no REDIS_URL: sessions and tokens live in this process only (quickstart)');
  }
  closers.unshift(() => ephemeral.close());

  const sealer = new KeyEncryption(keyEncryptionKey, config.keyEncryptionKeyPrevious ? [config.keyEncryptionKeyPrevious] : []);
  return { config, logger, metrics, db, ephemeral, sealer };
}

export async function createContainer(config: Config, options: ContainerOptions = {}): Promise<Container> {
  const secrets = resolveSecrets(config);
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const infrastructure = await openInfrastructure(config, options, secrets.keyEncryptionKey, closers);
    const { logger, metrics, db, ephemeral, sealer } = infrastructure;
    const keys = new KeyRepository(db, sealer);
    await keys.ensureKeys();
    // Clients served from memory, exact across instances by a generation in Redis (src/oidc/clients/client-cache.ts);
    // not without Redis: the command line, another process, could not move the generation.
    const clientCache = config.redisUrl
      ? new ClientCache<ClientMetadata>(ephemeral, {
          onBumpFailure: (error) => logger.error({ err: error }, 'could not move the clients generation after a change; other instances may serve the old client for up to 30 s'),
        })
      : undefined;
    const clientRules = { allowLoopbackReceivers: config.env !== 'production', lifetimeCeilings: config.ttl };
    const clients = new ClientRepository(db, sealer, clientRules, clientCache);
    const audit = new AuditLog(db);
    closers.unshift(() => audit.flush());
    // Clients registering themselves under an administrator's initial access token (RFC 7591/7592).
    const registrations = new DynamicRegistration({ tokens: new InitialAccessTokenRepository(db), clients, rules: clientRules, audit, logger });
    const registry = new RegistryRepository(db);
    const registryGateway = measuredRegistryGateway(createRegistryGateway(config, registry, logger), metrics, config.registry.url === undefined ? 'mirror' : 'remote');
    closers.unshift(() => registryGateway.close());
    const accounts = new PostgresAccountStore(db);
    const representation = new RepresentationDirectory(db, { ...(options.today && { today: options.today }) });
    const chipVerifier = await createChipVerifier(config, registryGateway);
    const representationUses = new RepresentationUses(db);
    const confirmationPolicy: ConfirmationPolicy = { ...DEFAULT_CONFIRMATION_POLICY, ...options.confirmationPolicy };
    const passwords = new PasswordHasher(config.argon2, { concurrent: config.argon2.concurrent, queued: config.argon2.queued });
    // Messages to citizens are queued by the request and delivered after its answer (src/accounts/notification-queue.ts).
    const notifications = new NotificationQueue(db);
    const notificationWorker = new NotificationWorker({
      queue: notifications,
      carrier: await createCarrier(config, db),
      allowance: async (purpose, destination) => (await new AttemptLimits(ephemeral, confirmationPolicy, purpose).message(destination)).allowed,
      logger,
      metrics,
    });
    notificationWorker.start();
    closers.unshift(() => notificationWorker.stop());
    const notifier: Notifier =
      config.notifications.mode === 'outbox' ? new OutboxNotifier(notifications, db, () => notificationWorker.settled()) : notifications;
    const bruteForce = new BruteForceGuard(ephemeral, audit, config.signInLimits, metrics);
    const totp = new TotpVerifier(ephemeral);
    const signIn = new PasswordSignIn({ accounts, registry: registryGateway, hasher: passwords, audit, bruteForce, metrics });
    const secondFactor = new SecondFactorCheck({ store: accounts, sealer, totp, bruteForce, metrics });
    const ephemeralModels = new EphemeralModelStore(ephemeral);
    const durableModels = new DurableModelStore(db);
    const purge = schedulePurge(durableModels, logger);
    closers.unshift(() => purge.stop());
    // The audit trail's months ahead (src/audit/partitions.ts), now and daily.
    const auditPartitions = schedulePartitions(db, (error) => logger.error({ err: error }, 'could not create the audit trail\'s partitions ahead'));
    closers.unshift(() => Promise.resolve(auditPartitions.stop()));
    await auditPartitions.ready;
    // Storage failures become 503 temporarily_unavailable (src/storage/dependency-faults.ts).
    const adapter = guardAdapter(createAdapterClass({
      ephemeral: ephemeralModels,
      durable: durableModels,
      clients,
      selfRegistration: registrations,
      tokens: new TokensAtRest(secrets.keyEncryptionKey, config.keyEncryptionKeyPrevious ? [config.keyEncryptionKeyPrevious] : []),
      tokensStoredByValue: config.tokensStoredByValue,
    }), () =>
      ephemeral.get('probe:{reachable}'),
    );
    const ciba = createCibaHooks({
      settings: config.ciba,
      accounts,
      registry: registryGateway,
      store: ephemeral,
      audit,
      logger,
      notice: (request) => approvalNotice(config.issuer, request),
      notifyCitizen: async (accountId, notice) => {
        const account = await accounts.findById(accountId);
        if (account) await notifyContacts(notifier, account, notice);
      },
      allowLoopback: config.env !== 'production',
    });
    closers.unshift(() => Promise.resolve(ciba.close()));

    const backchannelLogouts = new BackchannelLogoutQueue(db, async (clientId) => {
      const receiver = (await clients.findMetadata(clientId))?.backchannel_logout_uri;
      return typeof receiver === 'string' ? receiver : undefined;
    });
    const signingKeys = new KeyRotation({ db, keys, audit, settings: config.keys, lifetimes: config.ttl });
    await signingKeys.maintain();
    const initialKeys = (await signingKeys.providerJwks()).jwks;
    const cookieKeys = await keys.cookieKeys();
    // Called again whenever the signing keys change (src/oidc/keys/signing-key-watch.ts): all of the
    // provider's configuration, listeners and hooks come from here.
    const buildProvider = (jwks: { keys: JWK[] }) =>
      instrumentProvider(reportDependencyFaults(createProvider({
      enqueueBackchannelLogout: (logout) => backchannelLogouts.enqueue([logout]),
      standingGrantId: (accountId, clientId) => durableModels.standingGrantId(accountId, clientId),
      resourceServers: new ResourceServerRegistry(db),
      config,
      adapter,
      jwks,
      cookieKeys,
      pairwiseKey: secrets.pairwiseKey,
      dpopNonceSecret: dpopNonceSecret(secrets.keyEncryptionKey),
      ciba,
      firstPartyClients: [CONSOLE_CLIENT_ID, ADMIN_CONSOLE_CLIENT_ID],
      retiredSecretMatches: (clientId, candidate) => clients.retiredSecretMatches(clientId, candidate),
      adminScopes: ADMIN_SCOPES,
      registration: registrations.features,
      // CIBA's stand-ins inside the guard, so that they fail as real accounts do (src/oidc/ciba/ciba.ts).
      findAccount: guardFindAccount(ciba.wrapFindAccount(createFindAccount({ accounts, registry: registryGateway, audit, logger, levelEvidence: new LevelEvidenceReader(db), ...(config.registry.url === undefined && { mirror: { db, metrics } }) }))),
      pages: providerPages,
      audit,
      logger,
      // Acting for organisations and children, checked against the registers at every token (src/oidc/consent/representation.ts).
      representation: {
        directory: representation,
        actorOf: async (accountId) => {
          const account = await accounts.findById(accountId);
          return account?.status === 'active' ? { nationalId: account.nationalId, level: account.level } : undefined;
        },
        recordUse: (use) => representationUses.record(use),
      },
    })), metrics);
    const providers = new ProviderHolder(buildProvider(initialKeys));
    const provider = providers.view;
    const signingKeyWatch = watchSigningKeys({ rotation: signingKeys, holder: providers, build: buildProvider, initial: initialKeys, logger });
    closers.unshift(() => signingKeyWatch.stop());
    const sessions = new SessionTerminator(ephemeralModels, durableModels, backchannelLogouts);
    const backchannelWorker = new BackchannelLogoutWorker({
      queue: backchannelLogouts,
      provider,
      audit,
      logger,
      allowLoopback: config.env !== 'production',
      metrics,
    });
    backchannelWorker.start();
    metrics.watch(
      scrapeSources({
        config,
        db,
        ephemeral,
        signingKeys: () => signingKeys.list(),
        backchannelBacklog: () => backchannelLogouts.backlog(),
        notificationBacklog: () => notifications.backlog(),
      }),
    );
    closers.unshift(() => backchannelWorker.stop());
    const consents = new ConsentRecords({ db, ephemeral: ephemeralModels, durable: durableModels, audit });
    const interactions = new InteractionService(provider, audit, consents, metrics);
    const consoleSecret = consoleClientSecret(secrets.keyEncryptionKey);
    const confirmation = {
      db,
      ephemeral,
      registry: registryGateway,
      accounts,
      passwords,
      notifier,
      audit,
      codeKey: oneTimeCodeKey(secrets.keyEncryptionKey),
      policy: confirmationPolicy,
      logger: logger.child({ component: 'registration' }),
    };

    return {
      ...infrastructure,
      audit,
      keys,
      clients,
      registrations,
      durableModels,
      ephemeralModels,
      sessions,
      provider,
      providers,
      signingKeys,
      signingKeyWatch,
      registry,
      registryGateway,
      accounts,
      passwords,
      signIn,
      interactions,
      consents,
      ciba: new CibaApprovals({ provider, index: ciba.index, consents, audit }),
      admin: createAdminServices({ db, store: ephemeral, accounts, audit, clients, access: sessions, findServiceToken: (value) => findServiceToken(provider, value), chipVerifier }),
      accessHistory: new AccessHistory(db, { retentionDays: config.audit.historyRetentionDays }),
      notifier,
      bruteForce,
      totp,
      secondFactor,
      factors: new AccountFactors({ store: accounts, sealer, issuer: config.issuer }),
      devices: new DeviceNotices({ store: accounts, notifier, logger }),
      passkeySignIn: new PasskeySignIn({ store: ephemeral, accounts, registry: registryGateway, audit, issuer: config.issuer, metrics, challengeSecret: passkeyChallengeSecret(secrets.keyEncryptionKey) }),
      accountSessions: new AccountSessions(ephemeralModels, durableModels, sessions),
      accountSelection: new AccountSelection(provider, sessions, audit),
      passkeyChallenges: new PasskeyChallenges(ephemeral),
      enrolmentHandover: new EnrolmentHandover(accounts),
      consoleSignIn: new ConsoleRelyingParty({
        issuer: config.issuer,
        clientSecret: consoleSecret,
        fetch: loopbackFetch(config.issuer, loopbackAddress(config)),
        register: () => registerConsoleClient(clients, config.issuer, consoleSecret),
      }),
      consoleSessions: new ConsoleSessionStore(ephemeral),
      adminConsoleSecret: adminConsoleSecret(secrets.keyEncryptionKey),
      selfRegistration: new SelfRegistration(confirmation),
      passwordReset: new PasswordReset({ ...confirmation, sessions, bruteForce }),
      confirmationPolicy,
      representation,
      organisationAccounts: new OrganisationAccounts({
        db,
        audit,
        notifier,
        accounts,
        registry: registryGateway,
        today: () => representation.today(),
        issuer: config.issuer,
        logger: logger.child({ component: 'organisation-accounts' }),
      }),
      chip: {
        verifier: chipVerifier,
        verifications: new ChipVerifications({
          verifier: chipVerifier,
          issuer: config.issuer,
          // The key the provider signs ES256 with now (the first of its algorithm: src/oidc/keys/keys.ts).
          signingKey: async () => (await signingKeys.providerJwks()).jwks.keys.find((key) => key.alg === 'ES256')!,
          audit,
          accountIdOf: async (nationalId) => (await accounts.findByNationalId(nationalId))?.id,
        }),
        findToken: (value) => findChipToken(provider, value),
        clientOf: (clientId) => chipClientOf(provider, clientId),
      },
      async close() {
        for (const close of closers) await close();
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}
