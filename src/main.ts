// Process entry of the server. Checks the runtime before loading anything that needs a newer one.
import { unsupportedRuntime } from './runtime.ts';

const refusal = unsupportedRuntime();
if (refusal) {
  console.error(refusal);
  process.exit(1);
}

// argon2 and WebCrypto signing share libuv's thread pool (4 threads by default). libuv sizes it at
// its first use, which has not happened yet: give it room for the bounded password hashes
// (config argon2.concurrent) with threads to spare for signing. An operator's value wins.
process.env.UV_THREADPOOL_SIZE ??= '8';

try {
  const { serve } = await import('./serve.ts');
  await serve();
} catch (error) {
  console.error(`citizen-idp: could not start: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof Error && error.cause instanceof Error) console.error(`  cause: ${error.cause.message}`);
  process.exit(1);
}
