// In the quickstart (never in production) missing secrets are generated once and kept under the data
// folder, so a restart keeps the same keys, pairwise subjects and sealed data.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';

interface SecretsFile {
  keyEncryptionKey: string;
  pairwiseKey: string;
}

export interface Secrets {
  readonly keyEncryptionKey: Buffer;
  readonly pairwiseKey: Buffer;
}

export function resolveSecrets(config: Config): Secrets {
  if (config.keyEncryptionKey && config.pairwiseKey) {
    return { keyEncryptionKey: config.keyEncryptionKey, pairwiseKey: config.pairwiseKey };
  }
  if (config.env === 'production') {
    // loadConfig already refuses this; kept so no path can reach generated keys in production.
    throw new Error('KEY_ENCRYPTION_KEY and PAIRWISE_KEY are required in production');
  }
  const file = path.resolve(config.dataDir, 'secrets.json');
  let stored: SecretsFile;
  if (existsSync(file)) {
    stored = JSON.parse(readFileSync(file, 'utf8')) as SecretsFile;
  } else {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    stored = {
      keyEncryptionKey: randomBytes(32).toString('base64'),
      pairwiseKey: randomBytes(32).toString('base64'),
    };
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  return {
    keyEncryptionKey: config.keyEncryptionKey ?? Buffer.from(stored.keyEncryptionKey, 'base64'),
    pairwiseKey: config.pairwiseKey ?? Buffer.from(stored.pairwiseKey, 'base64'),
  };
}
