// Relying parties in PostgreSQL: their profile, approved scopes and provider metadata. Secrets are
// sealed with the key-encryption key and opened only to hand them to the provider.
import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../storage/database.ts';
import type { KeyEncryption } from '../storage/key-encryption.ts';
import type { ClientLookup } from './adapter.ts';
import { KNOWN_SCOPES, PROFILE_RULES, CLIENT_PROFILES, type ClientProfile } from './client-profiles.ts';

export interface ClientRegistration {
  readonly clientId: string;
  readonly name: string;
  readonly profile: ClientProfile;
  readonly approvedScopes: readonly string[];
  readonly redirectUris?: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly secret?: string;
  readonly tokenEndpointAuthMethod?: string;
  /** Pairwise unless an administrator makes the client public (DESIGN.md "Subjects"). */
  readonly subjectType?: 'pairwise' | 'public';
  /** Where the provider POSTs logout tokens (OpenID Connect Back-Channel Logout). */
  readonly backchannelLogoutUri?: string;
  /** The logout token, and the client's ID tokens, then carry `sid`. */
  readonly backchannelLogoutSessionRequired?: boolean;
}

export interface ClientRules {
  /** http receivers on loopback (back-channel logout): outside production only. */
  readonly allowLoopbackReceivers?: boolean;
}

export interface ClientRecord {
  readonly clientId: string;
  readonly name: string;
  readonly profile: ClientProfile;
  readonly approvedScopes: readonly string[];
  readonly status: 'active' | 'suspended';
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdAt: Date;
}

/** Input an administrator got wrong; the message says which field and why. */
export class InvalidClientRegistration extends Error {
  override readonly name = 'InvalidClientRegistration';
}

interface ClientRow {
  client_id: string;
  name: string;
  profile: ClientProfile;
  approved_scopes: string[];
  status: 'active' | 'suspended';
  metadata: Record<string, unknown>;
  secret_sealed: string | null;
  created_at: Date;
}

const CLIENT_ID = /^[a-z0-9][a-z0-9._-]{2,63}$/;

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const NEVER_REDIRECT_SCHEMES = ['javascript:', 'vbscript:', 'data:', 'blob:', 'file:', 'about:'];

/**
 * Web clients: https, or http on loopback (development). Native apps (RFC 8252): http on loopback,
 * claimed https, or a private-use scheme in reverse-domain form such as `vn.gov.app:/callback`.
 */
function assertRedirectUri(uri: string, field: string, applicationType: 'web' | 'native'): void {
  if (!URL.canParse(uri)) throw new InvalidClientRegistration(`${field}: "${uri}" is not an absolute URL`);
  const parsed = new URL(uri);
  if (parsed.hash || uri.includes('#')) throw new InvalidClientRegistration(`${field}: "${uri}" must not have a fragment`);
  const loopback = LOOPBACK_HOSTS.includes(parsed.hostname);
  if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback)) {
    if (applicationType === 'native' && parsed.protocol === 'https:' && loopback) {
      throw new InvalidClientRegistration(`${field}: "${uri}" must use http on loopback, or a claimed https host`);
    }
    return;
  }
  const privateUse = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(parsed.protocol) && !NEVER_REDIRECT_SCHEMES.includes(parsed.protocol);
  if (applicationType === 'native' && privateUse) return;
  throw new InvalidClientRegistration(
    applicationType === 'native'
      ? `${field}: "${uri}" must use https, http on loopback, or a reverse-domain scheme such as vn.example.app:/callback`
      : `${field}: "${uri}" must use https (http only on loopback)`,
  );
}

/** Checks a registration against its profile's rules and builds the provider's client metadata. */
export function buildClientMetadata(registration: ClientRegistration, options: ClientRules = {}): Record<string, unknown> {
  const { clientId, profile } = registration;
  if (!CLIENT_ID.test(clientId)) {
    throw new InvalidClientRegistration('client_id: 3 to 64 characters of a-z, 0-9, ".", "_" or "-"');
  }
  if (!registration.name.trim() || registration.name.length > 200) {
    throw new InvalidClientRegistration('name: 1 to 200 characters');
  }
  if (!CLIENT_PROFILES.includes(profile)) {
    throw new InvalidClientRegistration(`profile: one of ${CLIENT_PROFILES.join(', ')}`);
  }
  if (profile === 'bank') throw new InvalidClientRegistration('profile: the bank profile is not available yet');
  const rules = PROFILE_RULES[profile];

  for (const scope of registration.approvedScopes) {
    if (!(KNOWN_SCOPES as readonly string[]).includes(scope)) {
      throw new InvalidClientRegistration(`approved scopes: unknown scope "${scope}"`);
    }
  }
  const authMethod = registration.tokenEndpointAuthMethod ?? rules.authMethods[0]!;
  if (!rules.authMethods.includes(authMethod)) {
    throw new InvalidClientRegistration(`token_endpoint_auth_method: a ${profile} client uses ${rules.authMethods.join(' or ')}`);
  }
  if (authMethod === 'private_key_jwt') {
    // oidc-provider refuses such a client at every request without them; refuse it here instead.
    throw new InvalidClientRegistration("token_endpoint_auth_method: private_key_jwt needs the client's public keys (jwks), which registration does not take yet");
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
    throw new InvalidClientRegistration('redirect_uris: at least one');
  }
  if (!rules.needsRedirectUris && (redirectUris.length > 0 || postLogoutRedirectUris.length > 0)) {
    throw new InvalidClientRegistration(`redirect_uris: a ${profile} client has none`);
  }
  redirectUris.forEach((uri) => assertRedirectUri(uri, 'redirect_uris', rules.applicationType));
  postLogoutRedirectUris.forEach((uri) => assertRedirectUri(uri, 'post_logout_redirect_uris', rules.applicationType));
  const subjectType = profile === 'service' ? 'public' : (registration.subjectType ?? 'pairwise');
  // The sector of a pairwise client is its redirect URIs' one host; with several, oidc-provider
  // demands a sector_identifier_uri (not supported here) and refuses the client at run time.
  if (subjectType === 'pairwise' && new Set(redirectUris.map((uri) => new URL(uri).host)).size > 1) {
    throw new InvalidClientRegistration('redirect_uris: a pairwise client\'s redirect URIs must share one host (its sector)');
  }

  const backchannel = backchannelLogoutMetadata(registration, profile, options.allowLoopbackReceivers === true);

  const offline = registration.approvedScopes.includes('offline_access');
  return {
    client_name: registration.name,
    application_type: rules.applicationType,
    grant_types: rules.grantTypes.filter((grant) => grant !== 'refresh_token' || offline),
    response_types: rules.responseTypes,
    token_endpoint_auth_method: authMethod,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    subject_type: subjectType,
    ...backchannel,
  };
}

/** https, or http on loopback outside production; clients that sign citizens in only. */
function backchannelLogoutMetadata(registration: ClientRegistration, profile: ClientProfile, allowLoopback: boolean): Record<string, unknown> {
  const uri = registration.backchannelLogoutUri;
  if (uri === undefined) {
    if (registration.backchannelLogoutSessionRequired) {
      throw new InvalidClientRegistration('backchannel_logout_session_required: needs a backchannel_logout_uri');
    }
    return {};
  }
  if (profile === 'service') throw new InvalidClientRegistration('backchannel_logout_uri: a service client has no sessions');
  const field = 'backchannel_logout_uri';
  if (!URL.canParse(uri)) throw new InvalidClientRegistration(`${field}: "${uri}" is not an absolute URL`);
  const parsed = new URL(uri);
  if (uri.includes('#')) throw new InvalidClientRegistration(`${field}: "${uri}" must not have a fragment`);
  const loopback = LOOPBACK_HOSTS.includes(parsed.hostname);
  if (loopback && !allowLoopback) throw new InvalidClientRegistration(`${field}: "${uri}" is on loopback, allowed only outside production`);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new InvalidClientRegistration(`${field}: "${uri}" must use https${allowLoopback ? ' (http only on loopback)' : ''}`);
  }
  return {
    backchannel_logout_uri: uri,
    backchannel_logout_session_required: registration.backchannelLogoutSessionRequired === true,
  };
}

export class ClientRepository implements ClientLookup {
  readonly #db: Database;
  readonly #sealer: KeyEncryption;
  readonly #rules: ClientRules;

  constructor(db: Database, sealer: KeyEncryption, rules: ClientRules = {}) {
    this.#db = db;
    this.#sealer = sealer;
    this.#rules = rules;
  }

  /** Adds or replaces a client (the demo seed uses replace, so it is idempotent). */
  async save(registration: ClientRegistration): Promise<ClientRecord> {
    const [saved] = await this.#db('clients')
      .insert({ ...this.#row(registration), updated_at: this.#db.fn.now() })
      .onConflict('client_id')
      .merge()
      .returning<ClientRow[]>('*');
    return toRecord(saved!);
  }

  /** Adds a client that does not exist yet; undefined when its client_id is taken (nothing is changed). */
  async create(registration: ClientRegistration): Promise<ClientRecord | undefined> {
    const [created] = await this.#db('clients')
      .insert(this.#row(registration))
      .onConflict('client_id')
      .ignore()
      .returning<ClientRow[]>('*');
    return created && toRecord(created);
  }

  /** The stored row of a valid registration; throws InvalidClientRegistration first otherwise. */
  #row(registration: ClientRegistration) {
    const metadata = buildClientMetadata(registration, this.#rules);
    return {
      client_id: registration.clientId,
      name: registration.name.trim(),
      profile: registration.profile,
      approved_scopes: [...new Set(registration.approvedScopes)],
      metadata: JSON.stringify(metadata),
      secret_sealed: registration.secret ? this.#sealer.seal(registration.secret, `client:${registration.clientId}`) : null,
    };
  }

  async find(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.#db<ClientRow>('clients').where({ client_id: clientId }).first();
    return row && toRecord(row);
  }

  async list(): Promise<ClientRecord[]> {
    const rows = await this.#db<ClientRow>('clients').orderBy('client_id');
    return rows.map(toRecord);
  }

  /** True when a client was removed. Its grants and tokens stop working: it can no longer be loaded. */
  async remove(clientId: string): Promise<boolean> {
    return (await this.#db('clients').where({ client_id: clientId }).delete()) > 0;
  }

  async findMetadata(clientId: string): Promise<AdapterPayload | undefined> {
    if (typeof clientId !== 'string' || clientId.length > 64) return undefined;
    const row = await this.#db<ClientRow>('clients').where({ client_id: clientId, status: 'active' }).first();
    if (!row) return undefined;
    return {
      ...row.metadata,
      client_id: row.client_id,
      ...(row.secret_sealed && { client_secret: this.#sealer.open(row.secret_sealed, `client:${row.client_id}`) }),
      profile: row.profile,
      approved_scopes: row.approved_scopes,
    };
  }
}

function toRecord(row: ClientRow): ClientRecord {
  return {
    clientId: row.client_id,
    name: row.name,
    profile: row.profile,
    approvedScopes: row.approved_scopes,
    status: row.status,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}
