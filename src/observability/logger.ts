// Structured JSON logs (pino). Every record passes through redact(), so a careless log call cannot
// leak a password, token or ID number.
import { pino, type Logger, type DestinationStream } from 'pino';
import { redact, maskIdNumbers } from './redact.ts';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'citizen-idp' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      hooks: {
        // The message string too: masks ID numbers written into a message.
        logMethod(args, method) {
          const masked = args.map((arg) => (typeof arg === 'string' ? maskIdNumbers(arg) : arg)) as Parameters<typeof method>;
          method.apply(this, masked);
        },
      },
    },
    destination,
  );
}
