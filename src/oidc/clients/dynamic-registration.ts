// Dynamic client registration (RFC 7591) and its management (RFC 7592), only under an initial access
// token an administrator issued with limits: which profiles, scopes and redirect hosts, how many
// clients, until when. oidc-provider runs the protocol; this module is its one registration policy
// (the limits, and our profile rules in place of the library's metadata handling) and the adapter's
// way to store a registered client: through ClientRepository, like any client an administrator adds.
import { randomBytes } from 'node:crypto';
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Logger } from '../../observability/logger.ts';
import { currentRequestReads } from '../../observability/request-context.ts';
import { KNOWN_SCOPES, PROFILE_RULES, type ClientProfile } from './client-profiles.ts';
import { InvalidClientRegistration } from './invalid-client-registration.ts';
import { buildClientMetadata, type ClientRecord, type ClientRegistration, type ClientRepository, type ClientRules } from './clients.ts';
import type { InitialAccessTokenRecord, InitialAccessTokenRepository, RegistrationLimits } from './initial-access-tokens.ts';

/** The one registration policy every initial access token (and the registration access tokens it leads to) names. */
export const LIMITS_POLICY = 'registration-limits';

/**
 * Profiles a client may register itself under. Not `bank`: a bank is held to FAPI 2.0 with
 * certificates or keys, CIBA and level-2 defaults, and is approved for the national ID — an
 * administrator checks each one (four eyes on its scopes), so banks are never self-registered.
 */
export const SELF_REGISTRATION_PROFILES = ['portal', 'spa', 'native', 'service'] as const satisfies readonly ClientProfile[];

/** Scopes whose approval needs a second administrator for each client: never through a token. */
export const FOUR_EYES_SCOPES: readonly string[] = ['ethnicity', 'national_id'];

/** Scopes an initial access token may allow: the citizen scopes, less those needing four eyes (no resource-server or admin scopes). */
export const SELF_REGISTRATION_SCOPES: readonly string[] = KNOWN_SCOPES.filter((scope) => !FOUR_EYES_SCOPES.includes(scope));

export const MAX_CLIENTS_PER_TOKEN = 1000;
export const MAX_TOKEN_LIFETIME_SECONDS = 90 * 24 * 3600;

/** `portal.moh.gov.vn`, `*.moh.gov.vn`, `127.0.0.1:8443`, `[::1]` — lower case, no scheme or path. */
const HOST_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$|^\[::1\](:\d{1,5})?$/;

/** Limits an administrator got wrong; the message says which and why. */
export class InvalidRegistrationLimits extends Error {
  override readonly name = 'InvalidRegistrationLimits';
}

export interface IssuedInitialAccessToken {
  /** The token itself: shown to the administrator once, kept nowhere in clear by us. */
  readonly token: string;
  readonly record: InitialAccessTokenRecord;
}

export interface DynamicRegistrationDependencies {
  readonly tokens: InitialAccessTokenRepository;
  readonly clients: ClientRepository;
  /** The same rules the ClientRepository checks with, so the registration response is what is stored. */
  readonly rules: ClientRules;
  readonly audit: AuditLog;
  readonly logger: Logger;
}

/**
 * A registration the policy accepted, waiting for the adapter to store it in the same request: kept in
 * the request's own context (src/observability/request-context.ts), so it dies with the request and
 * concurrent requests never see each other's.
 */
interface PendingRegistration {
  readonly kind: 'create' | 'update';
  readonly tokenId: string;
  readonly registration: ClientRegistration;
}

const pendingKey = (clientId: string) => `Registration:${clientId}`;

/** The initial access token a client registered itself with; undefined for a client an administrator added. */
export function initialAccessTokenOf(record: Pick<ClientRecord, 'metadata'> | undefined): string | undefined {
  const administration = record?.metadata.administration as { initialAccessToken?: unknown } | undefined;
  return typeof administration?.initialAccessToken === 'string' ? administration.initialAccessToken : undefined;
}

/** True when `uri` is on one of the allowed hosts (`*.example.vn`: any name under it; a port only when given). */
export function hostAllowed(uri: string, patterns: readonly string[]): boolean {
  if (!URL.canParse(uri)) return false;
  const { host, hostname } = new URL(uri);
  if (!hostname) return false;
  return patterns.some((pattern) => {
    if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
    return /:\d+$/.test(pattern) ? host === pattern : hostname === pattern;
  });
}

/** Checks an administrator's limits against what self-registration may ever allow; throws InvalidRegistrationLimits. */
export function assertRegistrationLimits(limits: RegistrationLimits, expiresInSeconds: number): void {
  if (!limits.description.trim() || limits.description.length > 200) throw new InvalidRegistrationLimits('description: 1 to 200 characters');
  if (limits.profiles.length === 0) throw new InvalidRegistrationLimits('profiles: at least one');
  for (const profile of limits.profiles) {
    if (!(SELF_REGISTRATION_PROFILES as readonly string[]).includes(profile)) {
      throw new InvalidRegistrationLimits(`profiles: "${profile}" cannot register itself; one of ${SELF_REGISTRATION_PROFILES.join(', ')}`);
    }
  }
  if (limits.scopes.length === 0) throw new InvalidRegistrationLimits('scopes: at least one');
  for (const scope of limits.scopes) {
    if (FOUR_EYES_SCOPES.includes(scope)) throw new InvalidRegistrationLimits(`scopes: "${scope}" needs a second administrator for each client, never through self-registration`);
    if (!SELF_REGISTRATION_SCOPES.includes(scope)) throw new InvalidRegistrationLimits(`scopes: "${scope}" cannot be self-registered; one of ${SELF_REGISTRATION_SCOPES.join(', ')}`);
  }
  const redirecting = limits.profiles.some((profile) => PROFILE_RULES[profile as ClientProfile].needsRedirectUris);
  if (redirecting && limits.redirectHosts.length === 0) throw new InvalidRegistrationLimits('redirectHosts: at least one for profiles with redirect URIs');
  for (const pattern of limits.redirectHosts) {
    if (!HOST_PATTERN.test(pattern)) throw new InvalidRegistrationLimits(`redirectHosts: "${pattern}" is not a lower-case host name (optionally *.domain or with a :port)`);
    // "*.vn" would let a ministry register redirects anywhere in the country's domain.
    if (pattern.startsWith('*.') && !pattern.slice(2).includes('.')) throw new InvalidRegistrationLimits(`redirectHosts: "${pattern}" is too broad; name a domain of at least two labels`);
  }
  if (!Number.isSafeInteger(limits.maxClients) || limits.maxClients < 1 || limits.maxClients > MAX_CLIENTS_PER_TOKEN) {
    throw new InvalidRegistrationLimits(`maxClients: 1 to ${MAX_CLIENTS_PER_TOKEN}`);
  }
  if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds < 60 || expiresInSeconds > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new InvalidRegistrationLimits(`expiresInSeconds: 60 to ${MAX_TOKEN_LIFETIME_SECONDS} (90 days)`);
  }
}

const clientMetadataError = (message: string) => new errors.InvalidClientMetadata(message);

function stringsOf(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw clientMetadataError(`${field} must be an array of strings`);
  return value;
}

function textOf(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw clientMetadataError(`${field} must be a string`);
  return value;
}

/** A requested response type the profile can serve: one it allows, or a hybrid one including its `code` (`code id_token`). */
function servedResponseType(requested: string, allowed: readonly string[]): boolean {
  return allowed.includes(requested) || (requested.split(' ').includes('code') && allowed.includes('code'));
}

/**
 * Metadata the profile fixes (grant and response types, application type). RFC 7591 §3.2.1 lets the
 * server register other values than requested and say so in its answer: what the profile does not offer
 * is left out (`implicit`, `id_token`), and the registration is refused only when what remains is of no
 * use — no grant the profile is built on, or no response type a redirecting profile needs. The answer
 * carries the registered values (docs/portals.md "Dynamic client registration").
 */
function assertUsableUnderProfile(properties: Record<string, unknown>, profile: ClientProfile): void {
  const rules = PROFILE_RULES[profile];
  const grants = stringsOf(properties.grant_types, 'grant_types');
  const primaryGrant = rules.grantTypes[0]!;
  if (grants !== undefined && !grants.includes(primaryGrant)) {
    throw clientMetadataError(`grant_types: a ${profile} client needs ${primaryGrant}; it may use ${rules.grantTypes.join(', ')}`);
  }
  const responses = stringsOf(properties.response_types, 'response_types');
  if (responses !== undefined && rules.responseTypes.length > 0 && !responses.some((type) => servedResponseType(type, rules.responseTypes))) {
    throw clientMetadataError(`response_types: a ${profile} client uses ${rules.responseTypes.map((type) => `"${type}"`).join(', ')}, and none of those requested includes it`);
  }
  const applicationType = textOf(properties.application_type, 'application_type');
  if (applicationType !== undefined && applicationType !== rules.applicationType) {
    throw clientMetadataError(`application_type: a ${profile} client is ${rules.applicationType}`);
  }
}

export class DynamicRegistration {
  readonly #deps: DynamicRegistrationDependencies;

  constructor(deps: DynamicRegistrationDependencies) {
    this.#deps = deps;
  }

  /** oidc-provider's features: registration only with an initial access token; RFC 7592 with rotated tokens. */
  get features(): Pick<NonNullable<Configuration['features']>, 'registration' | 'registrationManagement'> {
    return {
      registration: {
        enabled: true,
        // Never open registration: every request carries a token an administrator issued.
        initialAccessToken: true,
        policies: { [LIMITS_POLICY]: (ctx, metadata) => this.#applyLimits(ctx, metadata) },
        // Lower case, as every client id here (src/oidc/clients/clients.ts), and recognisably self-registered.
        idFactory: () => `reg-${randomBytes(12).toString('hex')}`,
        secretFactory: () => randomBytes(32).toString('base64url'),
        issueRegistrationAccessToken: true,
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
    };
  }

  /** Issues a token with limits; the token is in the answer only. */
  async issue(provider: Provider, limits: RegistrationLimits, options: { expiresInSeconds: number; issuedBy: string }): Promise<IssuedInitialAccessToken> {
    assertRegistrationLimits(limits, options.expiresInSeconds);
    const iat = new provider.InitialAccessToken({ expiresIn: options.expiresInSeconds, policies: [LIMITS_POLICY] });
    const token = await iat.save();
    try {
      const record = await this.#deps.tokens.insert({
        id: `iat-${randomBytes(8).toString('hex')}`,
        token,
        limits,
        expiresAt: new Date(Date.now() + options.expiresInSeconds * 1000),
        issuedBy: options.issuedBy,
      });
      return { token, record };
    } catch (error) {
      await iat.destroy();
      throw error;
    }
  }

  /** Every token with its limits and usage, newest first. */
  list(): Promise<InitialAccessTokenRecord[]> {
    return this.#deps.tokens.list();
  }

  /**
   * Revokes a token: it registers no more clients (refused as invalid_token). The clients it
   * registered stay, each managed with its own registration access token; undefined when there is
   * no such token or it was revoked already.
   */
  revoke(id: string, revokedBy: string): Promise<InitialAccessTokenRecord | undefined> {
    return this.#deps.tokens.revoke(id, revokedBy);
  }

  find(id: string): Promise<InitialAccessTokenRecord | undefined> {
    return this.#deps.tokens.find(id);
  }

  /**
   * Adapter side of a registration: stores what the policy accepted for this client id, through the
   * ClientRepository. A new client first takes one of its token's slots (one statement, so the count
   * holds under concurrent registrations) and gives it back when the repository refuses it.
   */
  async store(clientId: string): Promise<void> {
    const reads = currentRequestReads();
    const pending = reads?.get(pendingKey(clientId)) as PendingRegistration | undefined;
    reads?.delete(pendingKey(clientId));
    if (!pending) throw new Error('clients are managed by administrators, not through the adapter');
    const { tokens, clients } = this.#deps;
    if (pending.kind === 'update') {
      const record = await clients.update(pending.registration).catch(asProtocolError);
      if (!record) throw clientMetadataError('the client no longer exists');
      await this.#audit('updated', pending.registration, pending.tokenId, clientId);
      return;
    }
    if (!(await tokens.reserveSlot(pending.tokenId))) {
      await this.#audit('refused', pending.registration, pending.tokenId, `initial-access-token:${pending.tokenId}`, 'the token has registered as many clients as it allows');
      throw clientMetadataError('this initial access token has registered as many clients as it allows');
    }
    let record: ClientRecord | undefined;
    try {
      record = await clients.create(pending.registration);
    } catch (error) {
      await tokens.releaseSlot(pending.tokenId);
      asProtocolError(error);
    }
    if (!record) {
      await tokens.releaseSlot(pending.tokenId);
      throw clientMetadataError('client_id: already taken');
    }
    await this.#audit('created', pending.registration, pending.tokenId, `initial-access-token:${pending.tokenId}`);
  }

  /** Adapter side of RFC 7592 delete: removes the client, only one that registered itself. */
  async remove(clientId: string): Promise<void> {
    const record = await this.#deps.clients.find(clientId);
    const tokenId = initialAccessTokenOf(record);
    if (!record || tokenId === undefined) throw new Error('clients are managed by administrators, not through the adapter');
    await this.#deps.clients.remove(clientId);
    await this.#audit('deleted', { clientId, profile: record.profile, approvedScopes: record.approvedScopes }, tokenId, clientId);
  }

  /**
   * The registration policy. Checks the request against the token's limits and our profile rules,
   * then replaces the request's metadata with exactly what will be stored (buildClientMetadata), so
   * the registration response is the stored client. Registration (initial access token) or update
   * (registration access token: the limits of the token that registered the client).
   */
  async #applyLimits(ctx: KoaContextWithOIDC, properties: Record<string, unknown>): Promise<void> {
    const clientId = String(properties.client_id);
    const updating = ctx.oidc.entities.InitialAccessToken === undefined;
    let token: InitialAccessTokenRecord | undefined;
    let existing: ClientRecord | undefined;
    if (updating) {
      existing = await this.#deps.clients.find(clientId);
      const tokenId = initialAccessTokenOf(existing);
      token = tokenId === undefined ? undefined : await this.#deps.tokens.find(tokenId);
      // Updates stay within the limits of the token that registered the client, even after it ends.
      if (!token || !existing) throw clientMetadataError('this client was not registered through an initial access token');
    } else {
      token = await this.#deps.tokens.findByToken(ctx.oidc.entities.InitialAccessToken!.jti);
      if (!token || token.revokedAt !== undefined || token.expiresAt.getTime() <= Date.now()) {
        throw new errors.InvalidToken('initial access token revoked or expired');
      }
    }
    try {
      const registration = this.#registrationOf(properties, token, clientId, existing);
      let metadata: Record<string, unknown>;
      try {
        metadata = buildClientMetadata(registration, this.#deps.rules);
      } catch (error) {
        asProtocolError(error);
      }
      if (!updating && token.clientsRegistered >= token.maxClients) throw clientMetadataError('this initial access token has registered as many clients as it allows');
      for (const key of Object.keys(properties)) delete properties[key];
      Object.assign(properties, metadata, {
        client_id: clientId,
        profile: registration.profile,
        approved_scopes: registration.approvedScopes,
        ...(registration.secret !== undefined && { client_secret: registration.secret, client_secret_expires_at: 0 }),
      });
      // Handed to the adapter's upsert of this client in the same request (store(), above).
      currentRequestReads()?.set(pendingKey(clientId), { kind: updating ? 'update' : 'create', tokenId: token.id, registration });
    } catch (error) {
      if (error instanceof errors.OIDCProviderError) {
        const actor = updating ? clientId : `initial-access-token:${token.id}`;
        await this.#audit('refused', { clientId, profile: existing?.profile, approvedScopes: [] }, token.id, actor, error.error_description ?? error.message);
      }
      throw error;
    }
  }

  /** The ClientRegistration a request asks for, within the token's limits; throws the RFC 7591 error otherwise. */
  #registrationOf(properties: Record<string, unknown>, token: InitialAccessTokenRecord, clientId: string, existing: ClientRecord | undefined): ClientRegistration {
    const requestedProfile = textOf(properties.profile, 'profile');
    const profile = (requestedProfile ?? existing?.profile ?? token.profiles[0]) as ClientProfile;
    if (!token.profiles.includes(profile)) throw clientMetadataError(`profile: this initial access token allows ${token.profiles.join(', ')}`);
    if (existing && existing.profile !== profile) throw clientMetadataError(`profile: a registered client keeps its profile (${existing.profile})`);
    assertUsableUnderProfile(properties, profile);

    // `scope` as in RFC 7591; `approved_scopes` as a read answer shows them (scope metadata stays unset, docs/design.md).
    const scope = textOf(properties.scope, 'scope');
    const approvedScopes = scope !== undefined ? scope.split(' ').filter(Boolean) : (stringsOf(properties.approved_scopes, 'approved_scopes') ?? ['openid']);
    const refused = approvedScopes.find((item) => !token.scopes.includes(item));
    if (refused) throw clientMetadataError(`scope: "${refused}" is not allowed by this initial access token (${token.scopes.join(' ')})`);

    const subjectType = textOf(properties.subject_type, 'subject_type');
    if (subjectType !== undefined && subjectType !== 'pairwise' && subjectType !== 'public') throw clientMetadataError('subject_type: pairwise or public');
    // Pairwise unless the administrator allowed public subjects (a service client has no citizens: public).
    if (subjectType === 'public' && profile !== 'service' && !token.allowPublicSubjects) {
      throw clientMetadataError('subject_type: public subjects are not allowed by this initial access token');
    }

    const redirectUris = stringsOf(properties.redirect_uris, 'redirect_uris');
    const offHost = redirectUris?.find((uri) => !hostAllowed(uri, token.redirectHosts));
    // InvalidClientMetadata answers invalid_redirect_uri for a message about redirect_uris.
    if (offHost !== undefined) throw clientMetadataError(`redirect_uris: "${offHost}" is not on a host this initial access token allows`);
    const postLogoutRedirectUris = stringsOf(properties.post_logout_redirect_uris, 'post_logout_redirect_uris');
    const otherUris: [string, string | undefined][] = [
      ['backchannel_logout_uri', textOf(properties.backchannel_logout_uri, 'backchannel_logout_uri')],
      ['sector_identifier_uri', textOf(properties.sector_identifier_uri, 'sector_identifier_uri')],
      ['jwks_uri', textOf(properties.jwks_uri, 'jwks_uri')],
      ...(postLogoutRedirectUris ?? []).map((uri): [string, string] => ['post_logout_redirect_uris', uri]),
    ];
    for (const [field, uri] of otherUris) {
      if (uri !== undefined && !hostAllowed(uri, token.redirectHosts)) throw clientMetadataError(`${field}: "${uri}" is not on a host this initial access token allows`);
    }

    const name = textOf(properties.client_name, 'client_name');
    if (name === undefined || !name.trim()) throw clientMetadataError('client_name: required; citizens see it on the consent page');
    const authMethod = textOf(properties.token_endpoint_auth_method, 'token_endpoint_auth_method') ?? PROFILE_RULES[profile].authMethods[0]!;
    const secret = authMethod === 'client_secret_basic' ? (textOf(properties.client_secret, 'client_secret') ?? randomBytes(32).toString('base64url')) : undefined;
    const jwks = properties.jwks as ClientRegistration['jwks'] | undefined;
    if (jwks !== undefined && (jwks === null || typeof jwks !== 'object' || !Array.isArray(jwks.keys))) throw clientMetadataError('jwks: a JWK set ({"keys": [...]})');
    const idTokenAlg = textOf(properties.id_token_signed_response_alg, 'id_token_signed_response_alg');
    const userinfoAlg = textOf(properties.userinfo_signed_response_alg, 'userinfo_signed_response_alg');
    const backchannelLogoutUri = otherUris[0]![1];
    const sectorIdentifierUri = otherUris[1]![1];
    const jwksUri = otherUris[2]![1];
    const sessionRequired = properties.backchannel_logout_session_required;
    if (sessionRequired !== undefined && typeof sessionRequired !== 'boolean') throw clientMetadataError('backchannel_logout_session_required must be a boolean');

    return {
      clientId,
      name: name.trim(),
      profile,
      approvedScopes: [...new Set(approvedScopes)],
      tokenEndpointAuthMethod: authMethod,
      ...(redirectUris !== undefined && { redirectUris }),
      ...(postLogoutRedirectUris !== undefined && { postLogoutRedirectUris }),
      ...(subjectType !== undefined && { subjectType }),
      ...(backchannelLogoutUri !== undefined && { backchannelLogoutUri }),
      ...(sessionRequired !== undefined && { backchannelLogoutSessionRequired: sessionRequired }),
      ...(sectorIdentifierUri !== undefined && { sectorIdentifierUri }),
      ...(jwks !== undefined && { jwks }),
      ...(jwksUri !== undefined && { jwksUri }),
      ...((idTokenAlg !== undefined || userinfoAlg !== undefined) && {
        settings: {
          ...(idTokenAlg !== undefined && { idTokenSignedResponseAlg: idTokenAlg }),
          ...(userinfoAlg !== undefined && { userinfoSignedResponseAlg: userinfoAlg }),
        },
      }),
      ...(secret !== undefined && { secret }),
      administration: {
        initialAccessToken: token.id,
        ...(token.agreementReference !== undefined && { agreementReference: token.agreementReference }),
      },
    };
  }

  async #audit(
    action: 'created' | 'updated' | 'deleted' | 'refused',
    registration: Partial<Pick<ClientRegistration, 'clientId' | 'profile' | 'approvedScopes' | 'redirectUris'>>,
    tokenId: string,
    actor: string,
    reason?: string,
  ): Promise<void> {
    await this.#deps.audit
      .record({
        type: 'client.registration',
        actor,
        ...(action !== 'refused' && registration.clientId !== undefined && { clientId: registration.clientId }),
        data: {
          action,
          initialAccessToken: tokenId,
          ...(registration.profile !== undefined && { profile: registration.profile }),
          ...(registration.approvedScopes !== undefined && { approvedScopes: registration.approvedScopes }),
          ...(registration.redirectUris !== undefined && { redirectUris: registration.redirectUris }),
          ...(reason !== undefined && { reason }),
        },
      })
      .catch((error: unknown) => this.#deps.logger.error({ err: error }, 'could not write the audit event for a client registration'));
  }
}

/** A client the repository refuses becomes RFC 7591's error (invalid_redirect_uri for redirect_uris: …). */
function asProtocolError(error: unknown): never {
  if (error instanceof InvalidClientRegistration) throw clientMetadataError(error.message);
  throw error;
}
