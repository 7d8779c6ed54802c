// Process entry of the server. Checks the runtime before loading anything that needs a newer one.
import { unsupportedRuntime } from './runtime.ts';

const refusal = unsupportedRuntime();
if (refusal) {
  console.error(refusal);
  process.exit(1);
}

try {
  const { serve } = await import('./serve.ts');
  await serve();
} catch (error) {
  console.error(`citizen-idp: could not start: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof Error && error.cause instanceof Error) console.error(`  cause: ${error.cause.message}`);
  process.exit(1);
}
