// PostgreSQL refuses U+0000 in text, so a NUL in any parameter that reaches a query would end in a
// 500: both apps refuse such a request at the door with 400, before any route or the provider sees it.
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';

/** The largest body a route reads (the admin API's JSON); a larger one is refused downstream anyway. */
const MAX_CHECKED_BYTES = 256 * 1024;

const PERCENT_ENCODED_NUL = /%00/;
// `\u0000` in a JSON string, unless its backslash is itself escaped (`\\u0000` is six characters).
const JSON_ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/** A request carrying U+0000 in its path, query, credentials or body: 400 `invalid_request`. */
export class NulByteRefused extends Error {
  override readonly name = 'NulByteRefused';
  readonly status = 400;
  readonly expose = true;
  readonly code = 'invalid_request';

  constructor() {
    super('the request contains a NUL character (U+0000), which no parameter may hold');
  }
}

function hasNul(text: string): boolean {
  return text.includes('\0') || PERCENT_ENCODED_NUL.test(text);
}

/** HTTP Basic credentials are url-encoded client_id:client_secret (RFC 6749 §2.3.1). */
function basicCredentialsHaveNul(authorization: string | undefined): boolean {
  const match = /^basic\s+(\S+)/i.exec(authorization ?? '');
  return match !== null && hasNul(Buffer.from(match[1]!, 'base64').toString('latin1'));
}

/**
 * Reads the body up to MAX_CHECKED_BYTES and puts it back: whoever reads the request next (the
 * provider, src/web/forms.ts, the admin API) iterates the same bytes, then the unread rest. Every
 * reader iterates (`for await`, or `req.iterator()` in oidc-provider, after it checks `readable`), so
 * the bytes are handed on by a plain generator: a Readable.from() stream around it cost twice as
 * much per request (issue 19: about 11 µs against 5 µs for a token request's body).
 */
async function readAndHandOn(req: IncomingMessage): Promise<Buffer> {
  const source = req.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  const read: Buffer[] = [];
  let size = 0;
  let rest: AsyncIterator<Buffer> | undefined;
  for (let step = await source.next(); !step.done; step = await source.next()) {
    read.push(step.value);
    size += step.value.length;
    if (size > MAX_CHECKED_BYTES) {
      rest = source;
      break;
    }
  }
  let handedOn = false;
  async function* replayed(): AsyncGenerator<Buffer> {
    handedOn = true;
    yield* read;
    if (rest) for (let step = await rest.next(); !step.done; step = await rest.next()) yield step.value;
  }
  // Readable until someone reads it; each reader gets the bytes from the start (there is only ever one).
  Object.defineProperty(req, 'readable', { configurable: true, get: () => !handedOn });
  req.iterator = replayed as IncomingMessage['iterator'];
  req[Symbol.asyncIterator] = replayed;
  return Buffer.concat(read);
}

async function bodyHasNul(ctx: Koa.Context): Promise<boolean> {
  const type = ctx.is('urlencoded', 'json');
  if (!type || (ctx.request.length ?? 0) > MAX_CHECKED_BYTES) return false;
  const body = await readAndHandOn(ctx.req);
  if (body.includes(0)) return true;
  const text = body.toString('latin1');
  return type === 'json' ? JSON_ESCAPED_NUL.test(text) : PERCENT_ENCODED_NUL.test(text);
}

/**
 * Refuses a request with U+0000 (raw, `%00`, or `\u0000` in JSON) anywhere a parameter comes from.
 * Installed after the catch-all, which renders the refusal: a page, or JSON for a client that prefers
 * it; problem+json on the admin port. At the provider's endpoints (`oauthErrorsAt`) the refusal is
 * answered as the provider answers its own errors: the OAuth error body, unless HTML is preferred.
 */
export function refuseNulBytes(options: { oauthErrorsAt?: (path: string) => boolean } = {}): Koa.Middleware {
  return async (ctx, next) => {
    if (hasNul(ctx.url) || basicCredentialsHaveNul(ctx.get('authorization')) || (await bodyHasNul(ctx))) {
      const refusal = new NulByteRefused();
      if (!options.oauthErrorsAt?.(ctx.path) || ctx.accepts('json', 'html') === 'html') throw refusal;
      ctx.status = refusal.status;
      ctx.body = { error: refusal.code, error_description: refusal.message };
      return;
    }
    await next();
  };
}
