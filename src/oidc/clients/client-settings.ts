// Per-client settings an administrator may give at registration: the algorithms the client's ID
// tokens and userinfo responses are signed with, and lifetimes shorter than the provider's own.
// Checked here against what the provider offers; read back by the provider's ttl functions.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ClientProfile } from './client-profiles.ts';
import { SIGNING_ALGORITHMS } from '../keys/keys.ts';
import { InvalidClientRegistration } from './invalid-client-registration.ts';
import { resourceServerMetadata, type ResourceServerSettings } from './resource-servers.ts';

export interface ClientSettings {
  /** ES256 unless the client asks for another of SIGNING_ALGORITHMS. */
  readonly idTokenSignedResponseAlg?: string;
  /** Userinfo answered as a JWT signed with this algorithm (plain JSON when absent). */
  readonly userinfoSignedResponseAlg?: string;
  /** Seconds; at most the provider's own lifetime of the same kind. */
  readonly accessTokenTtl?: number;
  readonly idTokenTtl?: number;
  readonly refreshTokenTtl?: number;
  /** The client is the resource server for these resource indicators (service clients only). */
  readonly resourceServer?: ResourceServerSettings;
}

/** The provider's lifetimes in seconds (config `ttl`): a client's own may be shorter, never longer. */
export interface LifetimeCeilings {
  readonly accessToken: number;
  readonly clientCredentials: number;
  readonly idToken: number;
  readonly refreshToken: number;
}

export interface ClientSettingsContext {
  readonly profile: ClientProfile;
  readonly approvedScopes: readonly string[];
  /** Absent: no lifetime can be checked, so none is accepted. */
  readonly ceilings: LifetimeCeilings | undefined;
  /** http resource indicators on loopback: outside production only. */
  readonly allowLoopback: boolean;
}

/** Extra client metadata the provider keeps on its Client objects (snake_case, as stored). */
export const LIFETIME_METADATA = ['access_token_ttl', 'id_token_ttl', 'refresh_token_ttl'] as const;

function assertAlgorithm(alg: string, field: string, profile: ClientProfile): void {
  if (profile === 'service') throw new InvalidClientRegistration(`${field}: a service client gets no ID tokens nor userinfo`);
  if (!(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new InvalidClientRegistration(`${field}: "${alg}" is not offered; one of ${SIGNING_ALGORITHMS.join(', ')}`);
  }
}

/** A whole number of seconds from 1 to `ceiling`. */
function assertLifetime(seconds: number, field: string, ceiling: number | undefined, ceilingName: string): void {
  if (ceiling === undefined) throw new InvalidClientRegistration(`${field}: cannot be checked without the provider's lifetimes`);
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new InvalidClientRegistration(`${field}: a whole number of seconds, at least 1`);
  if (seconds > ceiling) {
    throw new InvalidClientRegistration(`${field}: ${seconds} seconds is longer than the provider allows (${ceilingName}: at most ${ceiling} seconds)`);
  }
}

/** Checks the settings against the client's profile and the provider; returns the metadata to store. */
export function clientSettingsMetadata(settings: ClientSettings | undefined, context: ClientSettingsContext): Record<string, unknown> {
  if (!settings) return {};
  const { profile, ceilings } = context;
  const metadata: Record<string, unknown> = {};
  if (settings.idTokenSignedResponseAlg !== undefined) {
    assertAlgorithm(settings.idTokenSignedResponseAlg, 'id_token_signed_response_alg', profile);
    metadata.id_token_signed_response_alg = settings.idTokenSignedResponseAlg;
  }
  if (settings.userinfoSignedResponseAlg !== undefined) {
    assertAlgorithm(settings.userinfoSignedResponseAlg, 'userinfo_signed_response_alg', profile);
    metadata.userinfo_signed_response_alg = settings.userinfoSignedResponseAlg;
  }
  if (settings.accessTokenTtl !== undefined) {
    // A service client's access tokens are client-credentials tokens, with their own ceiling.
    const [ceiling, name] = profile === 'service' ? [ceilings?.clientCredentials, 'ttl.clientCredentials'] : [ceilings?.accessToken, 'ttl.accessToken'];
    assertLifetime(settings.accessTokenTtl, 'access_token_ttl', ceiling, name);
    metadata.access_token_ttl = settings.accessTokenTtl;
  }
  if (settings.idTokenTtl !== undefined) {
    if (profile === 'service') throw new InvalidClientRegistration('id_token_ttl: a service client gets no ID tokens');
    assertLifetime(settings.idTokenTtl, 'id_token_ttl', ceilings?.idToken, 'ttl.idToken');
    metadata.id_token_ttl = settings.idTokenTtl;
  }
  if (settings.refreshTokenTtl !== undefined) {
    if (!context.approvedScopes.includes('offline_access')) {
      throw new InvalidClientRegistration('refresh_token_ttl: the client is not approved for offline_access, so it gets no refresh tokens');
    }
    assertLifetime(settings.refreshTokenTtl, 'refresh_token_ttl', ceilings?.refreshToken, 'ttl.refreshToken');
    metadata.refresh_token_ttl = settings.refreshTokenTtl;
  }
  if (settings.resourceServer !== undefined) {
    if (profile !== 'service') throw new InvalidClientRegistration(`resource: only a service client can be a resource server, not a ${profile} client`);
    const ttl = settings.resourceServer.accessTokenTtl;
    if (ttl !== undefined) {
      // Tokens addressed to it come from client credentials or from a citizen's grant: either ceiling.
      const ceiling = ceilings && Math.max(ceilings.accessToken, ceilings.clientCredentials);
      assertLifetime(ttl, 'resource token ttl', ceiling, ceilings && ceilings.accessToken >= ceilings.clientCredentials ? 'ttl.accessToken' : 'ttl.clientCredentials');
    }
    metadata.resource_server = resourceServerMetadata(settings.resourceServer, { allowLoopback: context.allowLoopback });
  }
  return metadata;
}

/** A client's own lifetime of one kind, if it has a valid one. */
function ownLifetime(client: object | undefined, field: (typeof LIFETIME_METADATA)[number]): number {
  const value = (client as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : Number.POSITIVE_INFINITY;
}

type TokenWithResource = { resourceServer?: { accessTokenTTL?: number | undefined } | undefined };

/**
 * The provider's ttl functions: the shortest of the provider's lifetime, the client's own and, for an
 * access token, the resource server's. A stored value above the ceiling can only shorten nothing.
 */
export function clientLifetimes(ceilings: LifetimeCeilings) {
  const forResource = (token: TokenWithResource) => token.resourceServer?.accessTokenTTL ?? Number.POSITIVE_INFINITY;
  return {
    AccessToken: (_ctx: KoaContextWithOIDC, token: TokenWithResource, client: object | undefined) =>
      Math.min(ceilings.accessToken, ownLifetime(client, 'access_token_ttl'), forResource(token)),
    ClientCredentials: (_ctx: KoaContextWithOIDC, token: TokenWithResource, client: object | undefined) =>
      Math.min(ceilings.clientCredentials, ownLifetime(client, 'access_token_ttl'), forResource(token)),
    IdToken: (_ctx: KoaContextWithOIDC, _token: unknown, client: object | undefined) => Math.min(ceilings.idToken, ownLifetime(client, 'id_token_ttl')),
    RefreshToken: (_ctx: KoaContextWithOIDC, _token: unknown, client: object | undefined) =>
      Math.min(ceilings.refreshToken, ownLifetime(client, 'refresh_token_ttl')),
  };
}
