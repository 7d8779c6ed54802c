// Requests the provider itself makes to addresses a client registered (back-channel logout receivers,
// sector identifier documents): https only, SSRF-guarded, time- and size-limited, no redirect followed
// (docs/design.md "Security baseline"). Outside production, http on loopback is allowed and not guarded.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';

export interface OutgoingRequest {
  readonly method: 'GET' | 'POST';
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string;
  /** http on loopback and non-public addresses: outside production only. */
  readonly allowLoopback: boolean;
  /** The whole exchange, from connecting to the last byte of the answer. */
  readonly timeoutMs: number;
  /** The answer's body, at most. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  /** Certificates trusted for https besides the system's (a private CA). */
  readonly ca?: string;
  /** What the target is, for messages: "receiver", "sector_identifier_uri". */
  readonly what: string;
}

export interface OutgoingResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

// Addresses a production instance never sends to: loopback, private, link-local, shared, reserved,
// documentation, multicast; IPv4-mapped and NAT64 forms of IPv4 (they would smuggle the same).
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 127],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && !NON_PUBLIC.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that refuses any answer naming a non-public address (checked after resolution: no rebinding). */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused || addresses.length === 0) {
      return callback(Object.assign(new Error(`${hostname} resolves to a non-public address`), { code: 'EADDRNOTPUBLIC' }), []);
    }
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    return callback(null, first!.address, first!.family);
  });
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** True for the host names taken as loopback in registrations (http allowed there outside production). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.includes(hostname);
}

/** The reason a target is refused before any connection, or undefined when it may be tried. */
export function refusalOf(target: URL, allowLoopback: boolean): string | undefined {
  const loopback = isLoopbackHost(target.hostname);
  if (!(target.protocol === 'https:' || (target.protocol === 'http:' && loopback && allowLoopback))) {
    return 'https only (http on loopback outside production)';
  }
  if (target.username || target.password) return 'no credentials in the URL';
  if (allowLoopback) return undefined;
  if (loopback) return 'loopback in production';
  // Node connects to an IP literal without any lookup, so the lookup's guard would not see it.
  const literal = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(literal) !== 0 && !isPublicAddress(literal)) return 'a non-public address';
  return undefined;
}

/** Sends one request and reads the whole answer; rejects on refusal, timeout, oversize or abort. */
export function sendOutgoingRequest(target: string | URL, request: OutgoingRequest): Promise<OutgoingResponse> {
  const url = new URL(target);
  const refusal = refusalOf(url, request.allowLoopback);
  if (refusal) return Promise.reject(new Error(`refused ${request.what} ${url.origin}: ${refusal}`));
  if (request.signal?.aborted) return Promise.reject(new Error(`the request to ${request.what} ${url.origin} was aborted`));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    // Why this side cut the exchange short; reported instead of the socket error that follows.
    let cause: Error | undefined;
    const cut = (reason: Error) => {
      cause ??= reason;
      outgoing.destroy(reason);
    };
    const fail = (error: Error) => finish(() => reject(cause ?? error));
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const outgoing = send(
      url,
      {
        method: request.method,
        headers: {
          ...request.headers,
          ...(request.body !== undefined && { 'content-length': Buffer.byteLength(request.body) }),
        },
        ...(!request.allowLoopback && { lookup: publicOnlyLookup }),
        ...(request.ca !== undefined && { ca: [...rootCertificates, request.ca] }),
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > request.maxBytes) {
            cut(new Error(`the answer of ${request.what} ${url.origin} is larger than ${request.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          finish(() =>
            resolve({
              status: response.statusCode ?? 0,
              contentType: response.headers['content-type'],
              body: Buffer.concat(chunks),
            }),
          ),
        );
        response.on('error', fail);
        response.on('close', () => fail(new Error('the connection closed before the answer ended')));
      },
    );
    const timer = setTimeout(() => cut(new Error(`no answer from ${request.what} ${url.origin} within ${request.timeoutMs} ms`)), request.timeoutMs);
    const onAbort = () => cut(new Error(`the request to ${request.what} ${url.origin} was aborted`));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', fail);
    outgoing.end(request.body);
  });
}
