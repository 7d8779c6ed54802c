// The command line as a real process (`node src/cli.ts …`) with only the environment a test gives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `node src/cli.ts ...args` (with PATH and `environ` only); `child` is there to signal it. */
export function startCli(args: string[], environ: Record<string, string>): { child: ChildProcess; result: Promise<CliResult> } {
  const child = spawn(process.execPath, ['src/cli.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...environ },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, result };
}

/** Runs `node src/cli.ts ...args` to its end. */
export function runCli(args: string[], environ: Record<string, string>): Promise<CliResult> {
  return startCli(args, environ).result;
}

/** What the command line needs against a test database: its URL and fresh keys (`keyEncryptionKey` when the test needs it too). */
export function cliEnvironment(databaseUrl: string, keyEncryptionKey: Buffer = randomBytes(32)): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    KEY_ENCRYPTION_KEY: keyEncryptionKey.toString('base64'),
    PAIRWISE_KEY: randomBytes(32).toString('base64'),
  };
}
