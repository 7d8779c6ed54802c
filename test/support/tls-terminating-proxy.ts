// A TLS-terminating reverse proxy for tests, as production puts in front of each app: https on
// 127.0.0.1 (a throwaway self-signed certificate for localhost and 127.0.0.1), plain http to the app
// with X-Forwarded-Proto https and X-Forwarded-For, connecting from 127.0.0.2 so that TRUSTED_PROXIES
// can name the proxy without naming the loopback address the app calls itself from.
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { throwawayCertificate } from './throwaway-certificate.ts';

/** The address the proxy connects to the app from: the one TRUSTED_PROXIES names. */
export const PROXY_SOURCE_ADDRESS = '127.0.0.2';

export interface TlsTerminatingProxy {
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `port` (0: any free one) and passes every request on to http://127.0.0.1:<targetPort>. */
export async function startTlsTerminatingProxy(targetPort: number, port = 0): Promise<TlsTerminatingProxy> {
  const server: Server = createServer(throwawayCertificate(), (incoming, outgoing) => {
    const headers = { ...incoming.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': incoming.socket.remoteAddress ?? '' };
    const upstream = httpRequest(
      { host: '127.0.0.1', port: targetPort, localAddress: PROXY_SOURCE_ADDRESS, method: incoming.method, path: incoming.url, headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
