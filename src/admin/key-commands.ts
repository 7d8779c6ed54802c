// `npm run cli -- keys …`: list the signing keys with their states and dates, rotate them, revoke one
// in an emergency, and rotate the key-encryption key. Each change is audited (as `admin.action`).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { Config } from '../config/config.ts';
import { decodeKey } from '../config/config.ts';
import type { Database } from '../storage/database.ts';
import { SIGNING_ALGORITHMS } from '../oidc/keys/keys.ts';
import type { SigningKeyView } from '../oidc/keys/key-rotation.ts';

export const KEY_COMMANDS_USAGE = `  keys list                        signing keys with their state (next, active, retired, expired,
                                   revoked) and dates
  keys rotate [--alg ALG]... [--now]
                                   a new signing key per algorithm (all, or each --alg of
                                   ${SIGNING_ALGORITHMS.join(', ')}), published now and signing after
                                   keys.publishAheadSeconds; --now: signing at once
  keys revoke KID --reason TEXT    emergency: the key leaves the JWKS and stops signing on every
                                   instance within keys.pollSeconds; its tokens stop verifying
  keys rotate-kek                  seal every stored secret again under NEW_KEY_ENCRYPTION_KEY (the
                                   current one in KEY_ENCRYPTION_KEY), in one transaction; then
                                   restart the instances with the new key (docs/administration.md "Signing keys")`;

/** Input refused, nothing written: exit status 2. */
class Refused extends Error {}

function parse<T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  // A kid is an RFC 7638 thumbprint in base64url and may begin with "-": the commands' first word is
  // their kid, never an option (every option here is long), so it is passed on as a positional.
  const [first, ...rest] = args;
  const positional = first !== undefined && /^-[^-]/.test(first) ? [...rest, '--', first] : args;
  try {
    return parseArgs({ args: positional, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new Refused((error as Error).message);
  }
}

function describe(key: SigningKeyView): string {
  const date = (value: Date | null | undefined) => (value ? value.toISOString() : '-');
  const parts = [
    key.kid.padEnd(43),
    key.alg.padEnd(5),
    key.state.padEnd(7),
    `created ${date(key.createdAt)}`,
    `signs-from ${date(key.activeFrom)}`,
    `signs-until ${date(key.retiredAt)}`,
    `published-until ${key.state === 'revoked' ? date(key.revokedAt) : date(key.publishedUntil)}`,
  ];
  if (key.revokedAt) parts.push(`revoked ${date(key.revokedAt)} (${key.revokedReason ?? ''})`);
  return parts.join('  ');
}

/** What a key command works on: the database and the key-encryption key (opened by src/cli.ts, the CLI's composition root). */
export interface KeyStorage {
  readonly db: Database;
  readonly keyEncryptionKey: Buffer;
}

/** Runs `keys <action>`; resolves to the exit status. `withStorage` opens the storage once the arguments are accepted. */
export async function keyCommand(
  action: string,
  args: string[],
  context: { config: Config; environ: NodeJS.ProcessEnv; actor: string; withStorage: (work: (storage: KeyStorage) => Promise<number>) => Promise<number> },
): Promise<number> {
  const { config, environ, actor } = context;
  try {
    const { KeyEncryption } = await import('../storage/key-encryption.ts');
    const { AuditLog } = await import('../audit/audit-log.ts');
    const { KeyRepository } = await import('../oidc/keys/keys.ts');
    const { KeyRotation, SigningKeyError } = await import('../oidc/keys/key-rotation.ts');
    const { rotateKeyEncryptionKey, KekRotationError } = await import('../storage/kek-rotation.ts');

    let work: (storage: KeyStorage) => Promise<number>;
    if (action === 'list') {
      parse(args, {});
      work = async ({ db, keyEncryptionKey }) => {
        const rotation = new KeyRotation({ db, keys: new KeyRepository(db, new KeyEncryption(keyEncryptionKey)), audit: new AuditLog(db), settings: config.keys, lifetimes: config.ttl });
        for (const key of await rotation.list()) console.log(describe(key));
        return 0;
      };
    } else if (action === 'rotate') {
      const { values, positionals } = parse(args, { alg: { type: 'string', multiple: true }, now: { type: 'boolean' } });
      if (positionals.length > 0) throw new Refused(`unexpected argument "${positionals[0]}"`);
      const algorithms = values.alg;
      const unknown = algorithms?.find((alg) => !(SIGNING_ALGORITHMS as readonly string[]).includes(alg));
      if (unknown !== undefined) throw new Refused(`--alg: unknown algorithm "${unknown}"; one of ${SIGNING_ALGORITHMS.join(', ')}`);
      work = async ({ db, keyEncryptionKey }) => {
        const audit = new AuditLog(db);
        const rotation = new KeyRotation({ db, keys: new KeyRepository(db, new KeyEncryption(keyEncryptionKey)), audit, settings: config.keys, lifetimes: config.ttl });
        const keys = await rotation.rotate({ ...(algorithms && { algorithms }), immediately: values.now === true, actor });
        await audit.flush();
        for (const key of keys.filter((candidate) => candidate.state !== 'expired')) console.log(describe(key));
        return 0;
      };
    } else if (action === 'revoke') {
      const { values, positionals } = parse(args, { reason: { type: 'string' } });
      if (positionals.length !== 1) throw new Refused(positionals.length === 0 ? 'the key id (KID) is required' : 'one key id only');
      const reason = typeof values.reason === 'string' ? values.reason.trim() : '';
      if (reason === '') throw new Refused('--reason is required');
      work = async ({ db, keyEncryptionKey }) => {
        const audit = new AuditLog(db);
        const rotation = new KeyRotation({ db, keys: new KeyRepository(db, new KeyEncryption(keyEncryptionKey)), audit, settings: config.keys, lifetimes: config.ttl });
        const key = await rotation.revoke(positionals[0]!, reason, actor);
        await audit.flush();
        console.log(describe(key));
        console.log(`every instance drops it within ${config.keys.pollSeconds} seconds`);
        return 0;
      };
    } else if (action === 'rotate-kek') {
      parse(args, {});
      const text = environ.NEW_KEY_ENCRYPTION_KEY;
      if (!text) throw new Refused('NEW_KEY_ENCRYPTION_KEY is required (32 random bytes, base64 or hex)');
      const newKey = decodeKey(text);
      if (!newKey) throw new Refused('NEW_KEY_ENCRYPTION_KEY: expected 32 random bytes (base64 or hex)');
      work = async ({ db, keyEncryptionKey }) => {
        const summary = await rotateKeyEncryptionKey(db, keyEncryptionKey, newKey);
        const audit = new AuditLog(db);
        await audit.record({ type: 'admin.action', actor, data: { action: 'key-encryption-key.rotated', columns: summary.columns } });
        await audit.flush();
        for (const [column, counts] of Object.entries(summary.columns)) {
          console.log(`${column}: ${counts.resealed} sealed again${counts.alreadyNew > 0 ? `, ${counts.alreadyNew} already under the new key` : ''}`);
        }
        console.log('done: restart every instance with KEY_ENCRYPTION_KEY set to the new key (docs/administration.md "Signing keys")');
        return 0;
      };
    } else {
      throw new Refused(`unknown command "keys ${action}" (see: npm run cli -- help)`);
    }

    return await context.withStorage(async (storage) => {
      try {
        return await work(storage);
      } catch (error) {
        if (error instanceof SigningKeyError || error instanceof KekRotationError) throw new Refused(error.message);
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof Refused) {
      console.error(`citizen-idp keys ${action}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
