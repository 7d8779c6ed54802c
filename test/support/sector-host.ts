// A relying party's web host for tests: an https server on 127.0.0.1 that serves sector identifier
// documents (OpenID Connect Core 8.1). https because oidc-provider loads no client whose
// sector_identifier_uri is anything else; its certificate (127.0.0.1 and localhost, self-signed, made
// afresh by openssl for each test run) is trusted through `SECTOR_HOST_CA` or NODE_EXTRA_CA_CERTS.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { throwawayCertificate } from './throwaway-certificate.ts';

const { key: KEY, cert } = throwawayCertificate();
/** The sector host's self-signed certificate, to trust it. */
export const SECTOR_HOST_CA = cert;

/** The certificate in a file, for a child process's NODE_EXTRA_CA_CERTS. */
export function sectorHostCaFile(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sector-ca-')), 'ca.pem');
  writeFileSync(file, SECTOR_HOST_CA);
  return file;
}

export type SectorRoute = (request: IncomingMessage, response: ServerResponse) => void;

export interface SectorHost {
  /** https://127.0.0.1:<port> */
  readonly origin: string;
  readonly port: number;
  /** Requests received per path, to prove when nothing was fetched. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

/** Serves `routes` by path; anything else is a 404. */
export async function startSectorHost(routes: Record<string, SectorRoute>): Promise<SectorHost> {
  const hits = new Map<string, number>();
  const server: Server = createServer({ key: KEY, cert: SECTOR_HOST_CA }, (request, response) => {
    const pathname = new URL(request.url ?? '/', 'https://sector.invalid').pathname;
    hits.set(pathname, (hits.get(pathname) ?? 0) + 1);
    const route = routes[pathname];
    if (route) return route(request, response);
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    hits,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A route answering JSON with status 200. */
export function json(value: unknown): SectorRoute {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
}
