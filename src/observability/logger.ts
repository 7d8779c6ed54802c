// Structured JSON logs (pino). Every record passes through redact(), so a careless log call cannot
// leak a password, token or ID number.
import { pino, type Bindings, type Logger, type DestinationStream } from 'pino';
import { redact, maskIdNumbers } from './redact.ts';
import { currentRequestId } from './request-context.ts';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'citizen-idp' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Every line written while serving a request names it (src/observability/request-context.ts).
      mixin: () => {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { requestId };
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      // redact() has already turned errors into plain records; pino's own serializer would relabel
      // their type as "Object".
      serializers: { err: (value: unknown) => value },
      hooks: {
        // The message string too: masks ID numbers written into a message.
        logMethod(args, method) {
          const masked: unknown[] = args.map((arg) => (typeof arg === 'string' ? maskIdNumbers(arg) : arg));
          // Without a message pino takes the error's own message, unmasked; give it the masked one.
          const error = masked.length === 1 ? errorOf(masked[0]) : undefined;
          if (error) masked.push(maskIdNumbers(error.message));
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
  // A child's bindings are written into every line it logs, yet pass neither through `log` nor
  // (pino resets it for children) the bindings formatter; so they are redacted on the way in.
  // Children inherit this method from the root through their prototype.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with each logger as `this`
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redact(bindings) as Bindings, options);
  } as Logger['child'];
  return logger;
}

/** The error a log call carries, given as the object itself or as its `err` field. */
function errorOf(arg: unknown): Error | undefined {
  if (arg instanceof Error) return arg;
  const inner = arg !== null && typeof arg === 'object' ? (arg as { err?: unknown; msg?: unknown }) : undefined;
  return inner?.err instanceof Error && inner.msg === undefined ? inner.err : undefined;
}
