// A client's sector_identifier_uri (OpenID Connect Core 8.1), fetched and checked once, when the client
// is registered: the document must be a JSON array of URIs holding every one of the client's redirect
// URIs. The sector — the URI's host — is what pairwise subjects are computed over; signing in never
// fetches the document again (the provider is configured not to).
import { sendOutgoingRequest } from '../outgoing-request.ts';

/** The whole fetch, connection to last byte. */
export const SECTOR_FETCH_TIMEOUT_MS = 5_000;
/** A sector document lists a handful of URIs; anything bigger is refused. */
export const SECTOR_DOCUMENT_MAX_BYTES = 32 * 1024;

/** The document could not be had or does not vouch for the client; the message says which. */
export class SectorIdentifierRefused extends Error {
  override readonly name = 'SectorIdentifierRefused';
}

export interface SectorFetchRules {
  /** http on loopback, and no address guard: outside production only. */
  readonly allowLoopback: boolean;
  readonly timeoutMs?: number;
  /** Certificates trusted besides the system's. */
  readonly ca?: string;
}

/** The sector a sector_identifier_uri names: its host, port included (as oidc-provider computes it). */
export function sectorOf(sectorIdentifierUri: string): string {
  return new URL(sectorIdentifierUri).host;
}

/** What the document must list: the client's redirect URIs, and its jwks_uri if it signs in without one (CIBA). */
export interface SectorMembers {
  readonly redirectUris: readonly string[];
  readonly jwksUri?: string | undefined;
}

/**
 * Fetches the document (GET, no redirect followed, SSRF-guarded, time- and size-limited) and checks
 * that it lists every member. Resolves with the sector; rejects with SectorIdentifierRefused.
 */
export async function verifySectorIdentifierUri(
  sectorIdentifierUri: string,
  members: SectorMembers,
  rules: SectorFetchRules,
): Promise<string> {
  let response;
  try {
    response = await sendOutgoingRequest(sectorIdentifierUri, {
      method: 'GET',
      headers: { accept: 'application/json' },
      allowLoopback: rules.allowLoopback,
      timeoutMs: rules.timeoutMs ?? SECTOR_FETCH_TIMEOUT_MS,
      maxBytes: SECTOR_DOCUMENT_MAX_BYTES,
      what: 'sector_identifier_uri',
      ...(rules.ca !== undefined && { ca: rules.ca }),
    });
  } catch (error) {
    throw new SectorIdentifierRefused(`could not be fetched: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (response.status !== 200) {
    const redirect = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
    throw new SectorIdentifierRefused(`answered HTTP ${response.status}, expected 200${redirect}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw new SectorIdentifierRefused('is not JSON (expected a JSON array of redirect URIs)');
  }
  if (!Array.isArray(document) || document.some((entry) => typeof entry !== 'string' || !URL.canParse(entry))) {
    throw new SectorIdentifierRefused('is not a JSON array of URIs');
  }
  const listed = new Set(document as string[]);
  const missing = members.redirectUris.filter((uri) => !listed.has(uri));
  if (missing.length > 0) {
    throw new SectorIdentifierRefused(`does not list the redirect URI${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`);
  }
  if (members.jwksUri !== undefined && !listed.has(members.jwksUri)) {
    throw new SectorIdentifierRefused(`does not list the jwks_uri ${members.jwksUri}`);
  }
  return sectorOf(sectorIdentifierUri);
}
