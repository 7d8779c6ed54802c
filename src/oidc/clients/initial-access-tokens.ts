// The initial access tokens administrators issue for dynamic client registration, in PostgreSQL: the
// limits each carries and how many clients it has registered. Knex queries only; the rules are in
// src/oidc/clients/dynamic-registration.ts.
import { createHash } from 'node:crypto';
import type { Database } from '../../storage/database.ts';

/** What a token allows a self-registering client; set by an administrator at issue. */
export interface RegistrationLimits {
  /** What the token is for ("portals of the Ministry of Health"); shown to administrators. */
  readonly description: string;
  readonly profiles: readonly string[];
  readonly scopes: readonly string[];
  /** Host names (`portal.moh.gov.vn`, `*.moh.gov.vn`, `127.0.0.1:8080`) every registered URI must be on. */
  readonly redirectHosts: readonly string[];
  /** Whether a client may ask for `public` subjects instead of pairwise ones. */
  readonly allowPublicSubjects: boolean;
  /** The data-sharing agreement the clients use citizens' data under, kept on each client. */
  readonly agreementReference?: string;
  readonly maxClients: number;
}

export interface InitialAccessTokenRecord extends RegistrationLimits {
  readonly id: string;
  readonly clientsRegistered: number;
  readonly expiresAt: Date;
  readonly revokedAt?: Date;
  readonly revokedBy?: string;
  readonly issuedBy: string;
  readonly issuedAt: Date;
}

interface TokenRow {
  id: string;
  token_hash: string;
  description: string;
  profiles: string[];
  scopes: string[];
  redirect_hosts: string[];
  allow_public_subjects: boolean;
  agreement_reference: string | null;
  max_clients: number;
  clients_registered: number;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
  issued_by: string;
  issued_at: Date;
}

/** How a token value is found without keeping it: its SHA-256. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class InitialAccessTokenRepository {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async insert(entry: { id: string; token: string; limits: RegistrationLimits; expiresAt: Date; issuedBy: string }): Promise<InitialAccessTokenRecord> {
    const { limits } = entry;
    const [row] = await this.#db('initial_access_tokens')
      .insert({
        id: entry.id,
        token_hash: tokenHash(entry.token),
        description: limits.description,
        profiles: [...new Set(limits.profiles)],
        scopes: [...new Set(limits.scopes)],
        redirect_hosts: [...new Set(limits.redirectHosts)],
        allow_public_subjects: limits.allowPublicSubjects,
        agreement_reference: limits.agreementReference ?? null,
        max_clients: limits.maxClients,
        expires_at: entry.expiresAt,
        issued_by: entry.issuedBy,
      })
      .returning<TokenRow[]>('*');
    return toRecord(row!);
  }

  async findByToken(token: string): Promise<InitialAccessTokenRecord | undefined> {
    const row = await this.#db<TokenRow>('initial_access_tokens').where({ token_hash: tokenHash(token) }).first();
    return row && toRecord(row);
  }

  async find(id: string): Promise<InitialAccessTokenRecord | undefined> {
    const row = await this.#db<TokenRow>('initial_access_tokens').where({ id }).first();
    return row && toRecord(row);
  }

  /** Newest first. */
  async list(limit = 200): Promise<InitialAccessTokenRecord[]> {
    const rows = await this.#db<TokenRow>('initial_access_tokens').orderBy('issued_at', 'desc').orderBy('id').limit(limit);
    return rows.map(toRecord);
  }

  /** Marks a token revoked; undefined when there is no such token or it was revoked already. */
  async revoke(id: string, revokedBy: string): Promise<InitialAccessTokenRecord | undefined> {
    const [row] = await this.#db('initial_access_tokens')
      .where({ id })
      .whereNull('revoked_at')
      .update({ revoked_at: this.#db.fn.now(), revoked_by: revokedBy })
      .returning<TokenRow[]>('*');
    return row && toRecord(row);
  }

  /**
   * Takes one of the token's client slots, in one statement: concurrent registrations queue on the
   * row lock and only as many as the token has slots left see a row. False when none is left, or the
   * token is revoked or expired.
   */
  async reserveSlot(id: string): Promise<boolean> {
    const reserved = await this.#db('initial_access_tokens')
      .where({ id })
      .whereNull('revoked_at')
      .where('expires_at', '>', this.#db.fn.now())
      .whereRaw('clients_registered < max_clients')
      .increment('clients_registered', 1);
    return reserved === 1;
  }

  /** Gives back a slot taken for a registration that was then refused. */
  async releaseSlot(id: string): Promise<void> {
    await this.#db('initial_access_tokens').where({ id }).where('clients_registered', '>', 0).decrement('clients_registered', 1);
  }
}

function toRecord(row: TokenRow): InitialAccessTokenRecord {
  return {
    id: row.id,
    description: row.description,
    profiles: row.profiles,
    scopes: row.scopes,
    redirectHosts: row.redirect_hosts,
    allowPublicSubjects: row.allow_public_subjects,
    ...(row.agreement_reference !== null && { agreementReference: row.agreement_reference }),
    maxClients: row.max_clients,
    clientsRegistered: row.clients_registered,
    expiresAt: row.expires_at,
    ...(row.revoked_at !== null && { revokedAt: row.revoked_at }),
    ...(row.revoked_by !== null && { revokedBy: row.revoked_by }),
    issuedBy: row.issued_by,
    issuedAt: row.issued_at,
  };
}
