// A TCP proxy in front of a real server (PostgreSQL, Redis), for fault tests: it can be cut (every
// connection dropped, new ones refused), restored, or made to stall (connections accepted, bytes
// neither forwarded nor answered) — a dependency down, back, or hanging.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyMode = 'forward' | 'cut' | 'stall';

export interface TcpProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  /** Drops every open connection and refuses new ones (closes the listening socket). */
  cut(): Promise<void>;
  /** Accepts and forwards again, on the same port. */
  restore(): Promise<void>;
  /** Keeps accepting, but nothing passes either way until restore(): the peer waits. */
  stall(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const pairs = new Set<[Socket, Socket]>();

  const onConnection = (client: Socket) => {
    track(client);
    const upstream = connect(target.port, target.host);
    track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => {
      upstream.destroy();
      pairs.delete(pair);
    });
    upstream.on('close', () => client.destroy());
    // A stall holds the bytes (TCP backpressure), as a hung network or server does; it drops none.
    if (mode === 'stall') for (const socket of pair) socket.pause();
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer(onConnection);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const closeServer = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });

  await listen();
  return {
    get port() {
      return port;
    },
    get mode() {
      return mode;
    },
    async cut() {
      mode = 'cut';
      await closeServer();
    },
    async restore() {
      if (mode === 'cut') await listen();
      mode = 'forward';
      for (const pair of pairs) for (const socket of pair) socket.resume();
    },
    stall() {
      mode = 'stall';
      for (const pair of pairs) for (const socket of pair) socket.pause();
    },
    close: closeServer,
  };
}
