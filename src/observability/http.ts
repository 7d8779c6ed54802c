// HTTP middleware shared by both apps: request ids, one redacted log line per request, and the
// client address rule (X-Forwarded-For believed only from TRUSTED_PROXIES).
import { randomUUID } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import type { Middleware } from 'koa';
import type { Logger } from './logger.ts';
import { redactUrl } from './redact.ts';

export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const done = () => {
      logger.info(
        {
          requestId,
          method: ctx.method,
          url: redactUrl(ctx.originalUrl),
          status: ctx.res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    };
    ctx.res.once('finish', done);
    await next();
  };
}

function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

/**
 * Drops X-Forwarded-* from peers that are not trusted proxies, so that downstream (Koa's ctx.ip,
 * oidc-provider's issuer checks) only ever sees forwarded values a trusted proxy set.
 */
export function forwardedHeaders(trustedProxies: readonly string[]): Middleware {
  const trusted = blockListOf(trustedProxies);
  return async (ctx, next) => {
    const peer = (ctx.req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const isTrusted = peer !== '' && trustedProxies.length > 0 && trusted.check(peer, isIPv4(peer) ? 'ipv4' : 'ipv6');
    if (!isTrusted) {
      for (const name of Object.keys(ctx.req.headers)) {
        if (name.startsWith('x-forwarded-') || name === 'forwarded') delete ctx.req.headers[name];
      }
    }
    await next();
  };
}
