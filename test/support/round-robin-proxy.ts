// A round-robin HTTP reverse proxy on loopback, as the load balancer in front of several provider
// instances: each request goes to the next upstream in turn (or to the one it is pinned to), with the
// Host header kept (the issuer's) and X-Forwarded-For / -Proto / -Host set as a TLS-terminating proxy
// sets them — overwritten, never passed on from the client. It records which upstream served what.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Routed {
  /** Index of the upstream that served the request. */
  readonly upstream: number;
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly status: number;
}

export interface RoundRobinProxy {
  /** http://127.0.0.1:PORT — the deployment's issuer. */
  readonly url: string;
  /** Every request answered so far, in order. */
  readonly log: readonly Routed[];
  /** The upstreams' ports on 127.0.0.1; requests before this is called get 502. */
  setUpstreams(ports: readonly number[]): void;
  /** Sends every request to one upstream (by index) until unpinned (undefined). */
  pin(upstream: number | undefined): void;
  close(): Promise<void>;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the forwarding headers this proxy sets itself. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'forwarded']);

export async function startRoundRobinProxy(options: {
  /** The client address reported in X-Forwarded-For (the proxy's peer, as a real proxy reports it, by default). */
  clientAddress?: string;
  /** X-Forwarded-Proto (default http: the proxy's own scheme here). */
  proto?: 'http' | 'https';
} = {}): Promise<RoundRobinProxy> {
  const log: Routed[] = [];
  let upstreams: readonly number[] = [];
  let pinned: number | undefined;
  let turn = 0;

  const server: Server = createServer((incoming, outgoing) => {
    if (upstreams.length === 0) {
      outgoing.writeHead(502).end();
      return;
    }
    const upstream = pinned ?? turn++ % upstreams.length;
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (!DROPPED.has(name) && !name.startsWith('x-forwarded-')) headers[name] = value;
    }
    headers['x-forwarded-for'] = options.clientAddress ?? (incoming.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    headers['x-forwarded-proto'] = options.proto ?? 'http';
    headers['x-forwarded-host'] = incoming.headers.host ?? '';
    const path = new URL(incoming.url ?? '/', 'http://proxy').pathname;
    const forward = httpRequest(
      { host: '127.0.0.1', port: upstreams[upstream], method: incoming.method, path: incoming.url, headers },
      (answer) => {
        log.push({ upstream, method: incoming.method ?? '', path, status: answer.statusCode ?? 0 });
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => {
      log.push({ upstream, method: incoming.method ?? '', path, status: 502 });
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    setUpstreams(ports) {
      upstreams = [...ports];
    },
    pin(upstream) {
      pinned = upstream;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
