// Relying parties in PostgreSQL: their profile, approved scopes and provider metadata. Secrets are
// sealed with the key-encryption key and opened only to hand them to the provider.
import { timingSafeEqual } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../../storage/database.ts';
import type { KeyEncryption } from '../../storage/key-encryption.ts';
import type { ClientLookup } from '../models/adapter.ts';
import { KNOWN_SCOPES, PROFILE_RULES, CLIENT_PROFILES, CHIP_VERIFICATION_SCOPE, type ClientProfile } from './client-profiles.ts';
import { SectorIdentifierRefused, verifySectorIdentifierUri, type SectorMembers } from './sector-identifier.ts';
import { clientSettingsMetadata, type ClientSettings, type LifetimeCeilings } from './client-settings.ts';
import { isResourceScope } from './resource-servers.ts';
import { clientKeyMetadata, type ClientKeyRegistration } from './client-keys.ts';
import { CIBA_GRANT_TYPE, cibaClientMetadata, type CibaRegistration } from '../ciba/ciba-registration.ts';
import type { ClientCache } from './client-cache.ts';
import { InvalidClientRegistration } from './invalid-client-registration.ts';

// Callers outside this folder take the error from here, beside the registration it refuses.
export { InvalidClientRegistration };

/** Keys, mutual TLS, encryption and the bank profile's FAPI 2.0 metadata: src/oidc/clients/client-keys.ts. */
export interface ClientRegistration extends ClientKeyRegistration {
  readonly clientId: string;
  readonly name: string;
  readonly profile: ClientProfile;
  readonly approvedScopes: readonly string[];
  readonly redirectUris?: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly secret?: string;
  readonly tokenEndpointAuthMethod?: string;
  /** Pairwise unless an administrator makes the client public (docs/design.md "Subjects"). */
  readonly subjectType?: 'pairwise' | 'public';
  /** Where the provider POSTs logout tokens (OpenID Connect Back-Channel Logout). */
  readonly backchannelLogoutUri?: string;
  /** The logout token, and the client's ID tokens, then carry `sid`. */
  readonly backchannelLogoutSessionRequired?: boolean;
  /**
   * A JSON array of URIs listing every redirect URI (OpenID Connect Core 8.1), fetched once at
   * registration; its host becomes the client's sector, shared by the clients that name it.
   */
  readonly sectorIdentifierUri?: string;
  /**
   * Approved for verified claims (src/oidc/consent/verified-claims.ts). Written only when given: the demo
   * data gives it, the admin API never does (its four-eyes approval sets the column, src/admin/api-verified-claims.ts).
   */
  readonly verifiedClaimsApproved?: boolean;
  /** Signing algorithms, lifetimes, resource-server registration (src/oidc/clients/client-settings.ts). */
  readonly settings?: ClientSettings;
  /** CIBA for a bank client (src/oidc/ciba/ciba-registration.ts): poll by default when it can have it; false turns it off. */
  readonly ciba?: CibaRegistration | false;
  /** Who answers for the client and under which agreement (admin API); kept in its metadata, not given to the provider. */
  readonly administration?: ClientAdministration;
}

/** A relying party's contacts and the data-sharing agreement it uses citizens' data under. */
export interface ClientAdministration {
  readonly contacts?: readonly { readonly name: string; readonly email: string }[];
  readonly agreementReference?: string;
  /** Set when the client registered itself (RFC 7591): the initial access token it used (src/oidc/clients/dynamic-registration.ts). */
  readonly initialAccessToken?: string;
}

export interface ClientRules {
  /** http receivers on loopback (back-channel logout, sector identifier documents): outside production only. */
  readonly allowLoopbackReceivers?: boolean;
  /** How long fetching a sector_identifier_uri may take (default 5 s). */
  readonly sectorFetchTimeoutMs?: number;
  /** Certificates trusted besides the system's when fetching sector documents (a private CA, the tests' own). */
  readonly sectorFetchCa?: string;
  /** The provider's lifetimes (config `ttl`): a client's own may be shorter; without them none is accepted. */
  readonly lifetimeCeilings?: LifetimeCeilings;
}

/** What the provider is given for a client (its adapter payload). */
export type ClientMetadata = AdapterPayload;

export interface ClientRecord {
  readonly clientId: string;
  readonly name: string;
  readonly profile: ClientProfile;
  readonly approvedScopes: readonly string[];
  /** RFC 9396 authorization-details types the client is approved for (urn:vn:eid:representation). */
  readonly approvedAuthorizationDetailsTypes: readonly string[];
  readonly status: 'active' | 'suspended';
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdAt: Date;
}

interface ClientRow {
  client_id: string;
  name: string;
  profile: ClientProfile;
  approved_scopes: string[];
  /** RFC 9396 types an administrator approved (src/oidc/consent/representation.ts); metadata authorization_details_types. */
  approved_authorization_details_types?: string[];
  status: 'active' | 'suspended';
  metadata: Record<string, unknown>;
  secret_sealed: string | null;
  created_at: Date;
  /** Approved for verified claims with four eyes (migration 024, src/admin/api-verified-claims.ts). */
  verified_claims_approved?: boolean;
}

const CLIENT_ID = /^[a-z0-9][a-z0-9._-]{2,63}$/;

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const NEVER_REDIRECT_SCHEMES = ['javascript:', 'vbscript:', 'data:', 'blob:', 'file:', 'about:'];

/**
 * Web clients: https, or http on loopback (development). Native apps (RFC 8252): http on loopback,
 * claimed https, or a private-use scheme in reverse-domain form such as `vn.gov.app:/callback`.
 */
function assertRedirectUri(uri: string, field: string, applicationType: 'web' | 'native', allowLoopbackWeb = true): void {
  if (!URL.canParse(uri)) throw new InvalidClientRegistration(`${field}: "${uri}" is not an absolute URL`, 'not_absolute_url');
  const parsed = new URL(uri);
  if (parsed.hash || uri.includes('#')) throw new InvalidClientRegistration(`${field}: "${uri}" must not have a fragment`, 'fragment');
  const loopback = LOOPBACK_HOSTS.includes(parsed.hostname);
  // A web client on loopback is a developer's: production wants https (native apps keep RFC 8252's loopback).
  if (applicationType === 'web' && parsed.protocol === 'http:' && loopback && !allowLoopbackWeb) {
    throw new InvalidClientRegistration(`${field}: "${uri}" must use https (http on loopback only outside production)`, 'https_required');
  }
  if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback)) {
    if (applicationType === 'native' && parsed.protocol === 'https:' && loopback) {
      throw new InvalidClientRegistration(`${field}: "${uri}" must use http on loopback, or a claimed https host`, 'native_redirect');
    }
    return;
  }
  const privateUse = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(parsed.protocol) && !NEVER_REDIRECT_SCHEMES.includes(parsed.protocol);
  if (applicationType === 'native' && privateUse) return;
  throw new InvalidClientRegistration(
    applicationType === 'native'
      ? `${field}: "${uri}" must use https, http on loopback, or a reverse-domain scheme such as vn.example.app:/callback`
      : `${field}: "${uri}" must use https (http only on loopback)`,
    applicationType === 'native' ? 'native_redirect' : 'https_required',
  );
}

/** Checks a registration against its profile's rules and builds the provider's client metadata. */
export function buildClientMetadata(registration: ClientRegistration, options: ClientRules = {}): Record<string, unknown> {
  const { clientId, profile } = registration;
  if (!CLIENT_ID.test(clientId)) {
    throw new InvalidClientRegistration('client_id: 3 to 64 characters of a-z, 0-9, ".", "_" or "-"', 'invalid_format');
  }
  if (!registration.name.trim() || registration.name.length > 200) {
    throw new InvalidClientRegistration('name: 1 to 200 characters', registration.name.trim() ? 'too_big' : 'required');
  }
  if (!CLIENT_PROFILES.includes(profile)) {
    throw new InvalidClientRegistration(`profile: one of ${CLIENT_PROFILES.join(', ')}`, 'invalid_value');
  }
  const rules = PROFILE_RULES[profile];

  for (const scope of registration.approvedScopes) {
    if ((KNOWN_SCOPES as readonly string[]).includes(scope)) continue;
    if (scope === CHIP_VERIFICATION_SCOPE) {
      if (profile !== 'bank') throw new InvalidClientRegistration(`approved scopes: "${scope}" is for bank clients only`, 'not_for_profile');
      continue;
    }
    if (!isResourceScope(scope)) throw new InvalidClientRegistration(`approved scopes: unknown scope "${scope}"`, 'unknown_scope');
    // A citizen would have to consent to them, and the consent page does not show them yet.
    if (profile !== 'service') throw new InvalidClientRegistration(`approved scopes: "${scope}" is a resource server's scope, for service clients only`, 'service_only');
  }
  const authMethod = registration.tokenEndpointAuthMethod ?? rules.authMethods[0]!;
  if (!rules.authMethods.includes(authMethod)) {
    throw new InvalidClientRegistration(`token_endpoint_auth_method: a ${profile} client uses ${rules.authMethods.join(' or ')}`, 'not_for_profile');
  }
  const needsSecret = authMethod === 'client_secret_basic';
  if (needsSecret && (!registration.secret || registration.secret.length < 12)) {
    throw new InvalidClientRegistration('secret: at least 12 characters for client_secret_basic');
  }
  if (!needsSecret && registration.secret) {
    throw new InvalidClientRegistration(`secret: a ${profile} client with ${authMethod} has no secret`);
  }
  const redirectUris = registration.redirectUris ?? [];
  const postLogoutRedirectUris = registration.postLogoutRedirectUris ?? [];
  if (rules.needsRedirectUris && redirectUris.length === 0) {
    throw new InvalidClientRegistration('redirect_uris: at least one', 'required');
  }
  if (!rules.needsRedirectUris && (redirectUris.length > 0 || postLogoutRedirectUris.length > 0)) {
    throw new InvalidClientRegistration(`redirect_uris: a ${profile} client has none`, 'not_for_profile');
  }
  const loopbackWeb = options.allowLoopbackReceivers !== false;
  redirectUris.forEach((uri) => assertRedirectUri(uri, 'redirect_uris', rules.applicationType, loopbackWeb));
  postLogoutRedirectUris.forEach((uri) => assertRedirectUri(uri, 'post_logout_redirect_uris', rules.applicationType, loopbackWeb));
  const subjectType = profile === 'service' ? 'public' : (registration.subjectType ?? 'pairwise');
  const sector = sectorIdentifierMetadata(registration, subjectType, options.allowLoopbackReceivers === true);
  // The sector of a pairwise client is its sector_identifier_uri's host, else its redirect URIs' one
  // host; with several hosts and no sector_identifier_uri, oidc-provider refuses the client at run time.
  if (subjectType === 'pairwise' && !sector.sector_identifier_uri && new Set(redirectUris.map((uri) => new URL(uri).host)).size > 1) {
    throw new InvalidClientRegistration(
      "redirect_uris: a pairwise client's redirect URIs must share one host (its sector), or the client needs a sector_identifier_uri listing them",
      'one_sector_host',
    );
  }

  const backchannel = backchannelLogoutMetadata(registration, profile, options.allowLoopbackReceivers === true);

  const ciba = cibaClientMetadata(registration.ciba, {
    allowed: rules.grantTypes.includes(CIBA_GRANT_TYPE),
    subjectType,
    authMethod,
    hasJwksUri: registration.jwksUri !== undefined,
    hasSectorIdentifierUri: sector.sector_identifier_uri !== undefined,
    allowLoopback: options.allowLoopbackReceivers === true,
  });
  if ('refused' in ciba) throw new InvalidClientRegistration(ciba.refused);

  const offline = registration.approvedScopes.includes('offline_access');
  return {
    client_name: registration.name,
    application_type: rules.applicationType,
    grant_types: rules.grantTypes.filter((grant) => (grant !== 'refresh_token' || offline) && (grant !== CIBA_GRANT_TYPE || ciba.enabled)),
    response_types: rules.responseTypes,
    token_endpoint_auth_method: authMethod,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    subject_type: subjectType,
    ...sector,
    ...backchannel,
    ...ciba.metadata,
    ...clientSettingsMetadata(registration.settings, {
      profile,
      approvedScopes: registration.approvedScopes,
      ceilings: options.lifetimeCeilings,
      allowLoopback: options.allowLoopbackReceivers === true,
    }),
    ...clientKeyMetadata(registration, {
      profile,
      authMethod,
      settings: registration.settings,
      allowLoopback: options.allowLoopbackReceivers === true,
    }),
  };
}

/**
 * The shape of a sector_identifier_uri, for a pairwise client: https always (OpenID Connect Core 2;
 * oidc-provider refuses to load a client with any other), on a loopback host only outside production.
 * Its document is fetched by the repository before anything is written.
 */
function sectorIdentifierMetadata(registration: ClientRegistration, subjectType: string, allowLoopback: boolean): { sector_identifier_uri?: string } {
  const uri = registration.sectorIdentifierUri;
  if (uri === undefined) return {};
  const field = 'sector_identifier_uri';
  if (subjectType !== 'pairwise') throw new InvalidClientRegistration(`${field}: only a pairwise client has a sector`, 'not_for_profile');
  if (!URL.canParse(uri)) throw new InvalidClientRegistration(`${field}: "${uri}" is not an absolute URL`, 'not_absolute_url');
  const parsed = new URL(uri);
  if (uri.includes('#')) throw new InvalidClientRegistration(`${field}: "${uri}" must not have a fragment`, 'fragment');
  if (parsed.username || parsed.password) throw new InvalidClientRegistration(`${field}: "${uri}" must not carry credentials`, 'credentials_in_url');
  const loopback = LOOPBACK_HOSTS.includes(parsed.hostname);
  if (loopback && !allowLoopback) throw new InvalidClientRegistration(`${field}: "${uri}" is on loopback, allowed only outside production`, 'loopback_production');
  if (parsed.protocol !== 'https:') throw new InvalidClientRegistration(`${field}: "${uri}" must use https`, 'https_required');
  return { sector_identifier_uri: uri };
}

/** https, or http on loopback outside production; clients that sign citizens in only. */
function backchannelLogoutMetadata(registration: ClientRegistration, profile: ClientProfile, allowLoopback: boolean): Record<string, unknown> {
  const uri = registration.backchannelLogoutUri;
  if (uri === undefined) {
    if (registration.backchannelLogoutSessionRequired) {
      throw new InvalidClientRegistration('backchannel_logout_session_required: needs a backchannel_logout_uri', 'needs_backchannel_uri');
    }
    return {};
  }
  if (profile === 'service') throw new InvalidClientRegistration('backchannel_logout_uri: a service client has no sessions', 'not_for_profile');
  const field = 'backchannel_logout_uri';
  if (!URL.canParse(uri)) throw new InvalidClientRegistration(`${field}: "${uri}" is not an absolute URL`, 'not_absolute_url');
  const parsed = new URL(uri);
  if (uri.includes('#')) throw new InvalidClientRegistration(`${field}: "${uri}" must not have a fragment`, 'fragment');
  const loopback = LOOPBACK_HOSTS.includes(parsed.hostname);
  if (loopback && !allowLoopback) throw new InvalidClientRegistration(`${field}: "${uri}" is on loopback, allowed only outside production`, 'loopback_production');
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new InvalidClientRegistration(`${field}: "${uri}" must use https${allowLoopback ? ' (http only on loopback)' : ''}`, 'https_required');
  }
  return {
    backchannel_logout_uri: uri,
    backchannel_logout_session_required: registration.backchannelLogoutSessionRequired === true,
  };
}

/**
 * What a sector document must list, as oidc-provider checks it: every redirect URI, and the jwks_uri
 * of a client that signs citizens in without a redirect (CIBA, device flow).
 */
function sectorMembersOf(metadata: Record<string, unknown>): SectorMembers {
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
  const grants = strings(metadata.grant_types);
  const withoutRedirect = grants.includes('urn:openid:params:grant-type:ciba') || grants.includes('urn:ietf:params:oauth:grant-type:device_code');
  return {
    redirectUris: strings(metadata.redirect_uris),
    ...(withoutRedirect && typeof metadata.jwks_uri === 'string' && { jwksUri: metadata.jwks_uri }),
  };
}

/**
 * Every method that changes a client goes through #change, which moves the clients' generation before
 * and after its write (src/oidc/clients/client-cache.ts): instances serving clients from memory see the change
 * at once. A write to the clients table anywhere else must call clientsChanged() after its commit.
 */
export class ClientRepository implements ClientLookup {
  readonly #db: Database;
  readonly #sealer: KeyEncryption;
  readonly #rules: ClientRules;
  readonly #cache: ClientCache<ClientMetadata> | undefined;

  /** Without a cache, every lookup reads PostgreSQL (the quickstart, tools); changes still move the generation of a given cache. */
  constructor(db: Database, sealer: KeyEncryption, rules: ClientRules = {}, cache?: ClientCache<ClientMetadata>) {
    this.#db = db;
    this.#sealer = sealer;
    this.#rules = rules;
    this.#cache = cache;
  }

  /**
   * Runs one change of the clients table between two moves of the generation: the first refuses the
   * change when Redis cannot be written, the second follows the commit (both: src/oidc/clients/client-cache.ts).
   */
  async #change<T>(write: () => Promise<T>): Promise<T> {
    await this.#cache?.changing();
    try {
      return await write();
    } finally {
      await this.#cache?.changed();
    }
  }

  /** After a committed change of the clients table made outside this repository (an approval, a migration script). */
  async clientsChanged(): Promise<void> {
    await this.#cache?.changed();
  }

  /**
   * Sets the RFC 9396 types the client is approved for (the demo seed; the admin API's approvals write
   * in their own transaction and call clientsChanged). Undefined when there is no such client.
   */
  async setAuthorizationDetailsTypes(clientId: string, types: readonly string[]): Promise<ClientRecord | undefined> {
    const [updated] = await this.#change(() =>
      this.#db('clients')
        .where({ client_id: clientId })
        .update({ approved_authorization_details_types: [...new Set(types)], updated_at: this.#db.fn.now() })
        .returning<ClientRow[]>('*'),
    );
    return updated && toRecord(updated);
  }

  /** Adds or replaces a client (the demo seed uses replace, so it is idempotent). */
  async save(registration: ClientRegistration): Promise<ClientRecord> {
    const row = await this.#verifiedRow(registration);
    const [saved] = await this.#change(() =>
      this.#db('clients')
        .insert({ ...row, updated_at: this.#db.fn.now() })
        .onConflict('client_id')
        .merge()
        .returning<ClientRow[]>('*'),
    );
    return toRecord(saved!);
  }

  /** Adds a client that does not exist yet; undefined when its client_id is taken (nothing is changed). */
  async create(registration: ClientRegistration): Promise<ClientRecord | undefined> {
    const row = await this.#verifiedRow(registration);
    const [created] = await this.#change(() =>
      this.#db('clients')
        .insert(row)
        .onConflict('client_id')
        .ignore()
        .returning<ClientRow[]>('*'),
    );
    return created && toRecord(created);
  }

  /**
   * The row of a valid registration whose sector document, if any, was fetched and lists every
   * redirect URI; throws InvalidClientRegistration otherwise, before anything is written.
   */
  async #verifiedRow(registration: ClientRegistration) {
    const row = this.#row(registration);
    const uri = registration.sectorIdentifierUri;
    if (uri !== undefined) {
      try {
        await verifySectorIdentifierUri(uri, sectorMembersOf(JSON.parse(row.metadata) as Record<string, unknown>), {
          allowLoopback: this.#rules.allowLoopbackReceivers === true,
          ...(this.#rules.sectorFetchTimeoutMs !== undefined && { timeoutMs: this.#rules.sectorFetchTimeoutMs }),
          ...(this.#rules.sectorFetchCa !== undefined && { ca: this.#rules.sectorFetchCa }),
        });
      } catch (error) {
        if (error instanceof SectorIdentifierRefused) throw new InvalidClientRegistration(`sector_identifier_uri: "${uri}" ${error.message}`);
        throw error;
      }
    }
    return row;
  }

  /** The stored row of a valid registration; throws InvalidClientRegistration first otherwise. */
  #row(registration: ClientRegistration) {
    const metadata = buildClientMetadata(registration, this.#rules);
    return {
      client_id: registration.clientId,
      name: registration.name.trim(),
      profile: registration.profile,
      approved_scopes: [...new Set(registration.approvedScopes)],
      metadata: JSON.stringify(registration.administration ? { ...metadata, administration: registration.administration } : metadata),
      secret_sealed: registration.secret ? this.#sealer.seal(registration.secret, `client:${registration.clientId}`) : null,
      ...(registration.verifiedClaimsApproved !== undefined && { verified_claims_approved: registration.verifiedClaimsApproved }),
    };
  }

  /** Checks a registration against its profile's rules as this repository would store it; throws InvalidClientRegistration. */
  check(registration: ClientRegistration): void {
    buildClientMetadata(registration, this.#rules);
  }

  async find(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.#db<ClientRow>('clients').where({ client_id: clientId }).first();
    return row && toRecord(row);
  }

  /**
   * Replaces an existing client's registration (its status and creation time stay); undefined when
   * there is no such client. The secret is the registration's: without one the client has none, and
   * a previous secret still in its overlap goes too.
   */
  async update(registration: ClientRegistration): Promise<ClientRecord | undefined> {
    const row = await this.#verifiedRow(registration);
    const [updated] = await this.#change(() =>
      this.#db('clients')
        .where({ client_id: registration.clientId })
        .update({
          ...row,
          ...(row.secret_sealed === null && { retired_secret_sealed: null, retired_secret_expires_at: null }),
          updated_at: this.#db.fn.now(),
        })
        .returning<ClientRow[]>('*'),
    );
    return updated && toRecord(updated);
  }

  /** The client's current secret, opened (to keep it across an update); undefined when it has none. */
  async openSecret(clientId: string): Promise<string | undefined> {
    const row = await this.#db<ClientRow>('clients').where({ client_id: clientId }).first('client_id', 'secret_sealed');
    return row?.secret_sealed ? this.#sealer.open(row.secret_sealed, `client:${row.client_id}`) : undefined;
  }

  /** Suspends or resumes a client; undefined when there is no such client. */
  async setStatus(clientId: string, status: ClientRecord['status']): Promise<ClientRecord | undefined> {
    const [updated] = await this.#change(() =>
      this.#db('clients').where({ client_id: clientId }).update({ status, updated_at: this.#db.fn.now() }).returning<ClientRow[]>('*'),
    );
    return updated && toRecord(updated);
  }

  /**
   * Gives a client that has a secret a new one; the old one stays valid `overlapSeconds` more (a
   * previous rotation's old secret goes at once). Undefined when the client has no secret.
   */
  async rotateSecret(clientId: string, secret: string, overlapSeconds: number): Promise<ClientRecord | undefined> {
    const [updated] = await this.#change(() =>
      this.#db('clients')
        .where({ client_id: clientId })
        .whereNotNull('secret_sealed')
        .update({
          retired_secret_sealed: this.#db.ref('secret_sealed'),
          retired_secret_expires_at: this.#db.raw("now() + make_interval(secs => ?)", [overlapSeconds]),
          secret_sealed: this.#sealer.seal(secret, `client:${clientId}`),
          updated_at: this.#db.fn.now(),
        })
        .returning<ClientRow[]>('*'),
    );
    return updated && toRecord(updated);
  }

  /** True when `candidate` is the client's previous secret and its overlap has not ended. */
  async retiredSecretMatches(clientId: string, candidate: string): Promise<boolean> {
    if (typeof clientId !== 'string' || clientId.length > 64) return false;
    const row = await this.#db('clients')
      .where({ client_id: clientId, status: 'active' })
      .whereNotNull('retired_secret_sealed')
      .where('retired_secret_expires_at', '>', this.#db.fn.now())
      .first<{ retired_secret_sealed: string } | undefined>('retired_secret_sealed');
    if (!row) return false;
    const retired = Buffer.from(this.#sealer.open(row.retired_secret_sealed, `client:${clientId}`));
    const offered = Buffer.from(candidate);
    return retired.length === offered.length && timingSafeEqual(retired, offered);
  }

  /** When the client's previous secret stops being accepted, if it has one still accepted. */
  async retiredSecretExpiry(clientId: string): Promise<Date | undefined> {
    const row = await this.#db('clients')
      .where({ client_id: clientId })
      .where('retired_secret_expires_at', '>', this.#db.fn.now())
      .first<{ retired_secret_expires_at: Date } | undefined>('retired_secret_expires_at');
    return row?.retired_secret_expires_at;
  }

  /**
   * One page of clients in client_id order, after `after`, whose id or name contains `search`
   * (case-insensitive); `next` is the cursor of the following page, if there is one.
   */
  async page(query: { search?: string; after?: string; limit: number; status?: ClientRecord['status'] }): Promise<{ clients: ClientRecord[]; next?: string }> {
    let rows = this.#db<ClientRow>('clients').orderBy('client_id').limit(query.limit + 1);
    if (query.after !== undefined) rows = rows.where('client_id', '>', query.after);
    if (query.status !== undefined) rows = rows.where({ status: query.status });
    if (query.search) {
      const pattern = `%${query.search.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
      rows = rows.where((where) => {
        void where.whereILike('client_id', pattern).orWhereILike('name', pattern);
      });
    }
    const found = await rows;
    const clients = found.slice(0, query.limit).map(toRecord);
    return found.length > query.limit ? { clients, next: clients.at(-1)!.clientId } : { clients };
  }

  async list(): Promise<ClientRecord[]> {
    const rows = await this.#db<ClientRow>('clients').orderBy('client_id');
    return rows.map(toRecord);
  }

  /** True when a client was removed. Its grants and tokens stop working: it can no longer be loaded. */
  async remove(clientId: string): Promise<boolean> {
    return (await this.#change(() => this.#db('clients').where({ client_id: clientId }).delete())) > 0;
  }

  /**
   * The provider's metadata of an active client: from this instance's memory while no client changed
   * anywhere, else from PostgreSQL (src/oidc/clients/client-cache.ts). Deeply frozen: every caller
   * shares it and none can change what the next one gets — a copy per lookup (structuredClone) cost
   * 2.5 µs of every token, introspection and userinfo request (issue 19, docs/benchmarks.md). The one
   * exception is the client's own keys: oidc-provider decorates each JWK it loads (`x5t#S256` of a
   * certificate), so a client with `jwks` gets a copy of them.
   */
  async findMetadata(clientId: string): Promise<AdapterPayload | undefined> {
    if (typeof clientId !== 'string' || clientId.length > 64) return undefined;
    const metadata = this.#cache ? await this.#cache.find(clientId, () => this.#loadMetadata(clientId)) : await this.#loadMetadata(clientId);
    return metadata?.jwks ? { ...metadata, jwks: structuredClone(metadata.jwks) } : metadata;
  }

  async #loadMetadata(clientId: string): Promise<AdapterPayload | undefined> {
    const row = await this.#db<ClientRow>('clients').where({ client_id: clientId, status: 'active' }).first();
    if (!row) return undefined;
    return deepFreeze({
      ...row.metadata,
      ...withChipVerificationGrant(row),
      client_id: row.client_id,
      ...(row.secret_sealed && { client_secret: this.#sealer.open(row.secret_sealed, `client:${row.client_id}`) }),
      profile: row.profile,
      approved_scopes: row.approved_scopes,
      verified_claims_approved: row.verified_claims_approved === true,
      // Only the approved types may be asked for; none approved, the provider's default (none) stands.
      ...(row.approved_authorization_details_types?.length && { authorization_details_types: row.approved_authorization_details_types }),
    });
  }
}

/** Freezes a JSON value and everything in it (client metadata: plain objects and arrays). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * A bank approved for chip verification may use the client_credentials grant (for that API only:
 * src/oidc/chip-tokens.ts). Added when the client is loaded, so a four-eyes approval, which changes
 * only the approved scopes, takes effect at once.
 */
function withChipVerificationGrant(row: ClientRow): { grant_types?: string[] } {
  const grants = (row.metadata as { grant_types?: unknown }).grant_types;
  if (row.profile !== 'bank' || !row.approved_scopes.includes(CHIP_VERIFICATION_SCOPE) || !Array.isArray(grants)) return {};
  return grants.includes('client_credentials') ? {} : { grant_types: [...(grants as string[]), 'client_credentials'] };
}

function toRecord(row: ClientRow): ClientRecord {
  return {
    clientId: row.client_id,
    name: row.name,
    profile: row.profile,
    approvedScopes: row.approved_scopes,
    approvedAuthorizationDetailsTypes: row.approved_authorization_details_types ?? [],
    status: row.status,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}
