// HTTP middleware shared by both apps: request ids, one redacted log line per request, and the
// client address rule (X-Forwarded-For believed only from TRUSTED_PROXIES).
import { randomUUID } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import type { Middleware } from 'koa';
import type { Logger } from './logger.ts';
import { redactUrl } from './redact.ts';
import type { Metrics } from './metrics.ts';
import { runInRequest } from './request-context.ts';
import { routeTemplateOf } from '../web/router.ts';

/** An incoming request id worth keeping: short, and nothing a log line could be forged with. */
const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface RequestLogOptions {
  /** X-Request-Id is taken from these peers only (a proxy's id ties its logs to ours); else one is made. */
  readonly trustedProxies?: readonly string[];
  /** Counts and times each request under this app's name. */
  readonly metrics?: { readonly app: string; readonly registry: Metrics };
}

/**
 * Gives each request an id (answered in X-Request-Id and carried by every log line written while it
 * is served), writes one redacted line when it is answered, and counts and times it.
 */
export function requestLog(logger: Logger, options: RequestLogOptions = {}): Middleware {
  const isTrustedPeer = trustedPeerCheck(options.trustedProxies ?? []);
  const metrics = options.metrics;
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('X-Request-Id');
    const requestId = incoming !== '' && REQUEST_ID.test(incoming) && isTrustedPeer(ctx.req.socket.remoteAddress) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const done = () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = ctx.res.statusCode;
      if (metrics) {
        const route = metrics.registry.routeOf(ctx.req, routeTemplateOf(ctx));
        metrics.registry.httpRequest({ app: metrics.app, method: ctx.method, route, status }, seconds);
      }
      logger.info({ requestId, method: ctx.method, url: redactUrl(ctx.originalUrl), status, ms: seconds * 1000 }, 'request');
    };
    ctx.res.once('finish', done);
    await runInRequest(requestId, next);
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

/** Tells whether a connection's peer address is one of the trusted proxies (IP addresses or CIDR ranges). */
export function trustedPeerCheck(trustedProxies: readonly string[]): (remoteAddress: string | undefined) => boolean {
  const trusted = blockListOf(trustedProxies);
  return (remoteAddress) => {
    const peer = (remoteAddress ?? '').replace(/^::ffff:/, '');
    return peer !== '' && trustedProxies.length > 0 && trusted.check(peer, isIPv4(peer) ? 'ipv4' : 'ipv6');
  };
}

/**
 * Drops X-Forwarded-* from peers that are not trusted proxies, so that downstream (Koa's ctx.ip,
 * oidc-provider's issuer checks) only ever sees forwarded values a trusted proxy set.
 */
export function forwardedHeaders(trustedProxies: readonly string[]): Middleware {
  const isTrustedPeer = trustedPeerCheck(trustedProxies);
  return async (ctx, next) => {
    const isTrusted = isTrustedPeer(ctx.req.socket.remoteAddress);
    if (!isTrusted) {
      for (const name of Object.keys(ctx.req.headers)) {
        if (name.startsWith('x-forwarded-') || name === 'forwarded') delete ctx.req.headers[name];
      }
    }
    await next();
  };
}
