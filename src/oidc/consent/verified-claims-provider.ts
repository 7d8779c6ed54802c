// How verified claims (src/oidc/consent/verified-claims.ts) meet oidc-provider: the claims parameter
// check (a malformed verified_claims request is 400 invalid_request), the approval a client needs
// (`verified_claims_approved`, four eyes: src/admin/api-verified-claims.ts), what the consent page
// must ask, and the release itself — computed in the account's claims(), where the request, the
// grant and the registry record meet.
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../../storage/database.ts';
import { SCOPE_CLAIMS } from './claims.ts';
import { claimNamesRequested, isPlainObject, MalformedVerifiedClaimsRequest, parseVerifiedClaimsRequest, verifiedClaimsRequestsOf } from './verified-claims-request.ts';
import { checkedCardOf, CLAIMS_IN_VERIFIED_CLAIMS, releaseVerifiedClaims, type LevelEvidence, type RegistryCard, type VerifiedClaimsRelease } from './verified-claims.ts';

/** The client metadata an administrator's approval sets (clients.verified_claims_approved). */
export const VERIFIED_CLAIMS_METADATA = 'verified_claims_approved';

/** True when an administrator (and a second one) approved the client for verified claims. */
export function approvedForVerifiedClaims(client: object | undefined): boolean {
  return (client as Record<string, unknown> | undefined)?.[VERIFIED_CLAIMS_METADATA] === true;
}

/**
 * The claims parameter's members must be null or objects (OpenID Connect Core 5.5), except
 * verified_claims, which may be an array and must follow Identity Assurance's request syntax.
 */
export function assertClaimsParameter(_ctx: KoaContextWithOIDC, claims: object): void {
  for (const container of ['userinfo', 'id_token'] as const) {
    const member = (claims as Record<string, unknown>)[container];
    if (member === undefined) continue;
    for (const [name, value] of Object.entries(member as Record<string, unknown>)) {
      if (name === 'verified_claims') {
        try {
          parseVerifiedClaimsRequest(value, `claims.${container}.verified_claims`);
        } catch (error) {
          if (error instanceof MalformedVerifiedClaimsRequest) throw new errors.InvalidRequest(error.message);
          throw error;
        }
      } else if (value !== null && !isPlainObject(value)) {
        throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
      }
    }
  }
}

/**
 * What the consent page must ask for a verified_claims request of an approved client: the element
 * itself, and the claims asked for inside it that the client is approved for.
 */
export function verifiedClaimsToConsent(ctx: KoaContextWithOIDC, approved: ReadonlySet<string>): string[] {
  const raw = ctx.oidc.params?.claims;
  if (typeof raw !== 'string' || !approvedForVerifiedClaims(ctx.oidc.client)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  const items = new Set<string>();
  for (const request of Object.values(verifiedClaimsRequestsOf(parsed))) {
    try {
      const names = claimNamesRequested(parseVerifiedClaimsRequest(request));
      items.add('verified_claims');
      for (const name of names) if (approved.has(name) && (CLAIMS_IN_VERIFIED_CLAIMS as readonly string[]).includes(name)) items.add(name);
    } catch {
      // Refused at the authorization endpoint already (assertClaimsParameter).
    }
  }
  return [...items];
}

/**
 * oidc-provider's claims mask takes a claim request to be null or an object; Identity Assurance lets
 * verified_claims be an array. The element is built to the request in claims(), so the mask only
 * needs to let it through.
 */
export function installVerifiedClaims(provider: Provider): void {
  const prototype = provider.Claims.prototype as { mask: (this: unknown, value: Record<string, unknown>) => void };
  const mask = prototype.mask;
  prototype.mask = function (this: unknown, value: Record<string, unknown>) {
    const passed = isPlainObject(value) && Array.isArray(value.verified_claims) ? { ...value, verified_claims: null } : value;
    mask.call(this, passed);
  };
}

/** Reads how an account's level was evidenced: a read of `accounts`, whose one writer is src/accounts/account-store-postgres.ts. */
export class LevelEvidenceReader {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async of(accountId: string): Promise<LevelEvidence | undefined> {
    const row = await this.#db('accounts')
      .where({ id: accountId })
      .first<{ level: number; created_at: Date; level_raised_at: Date | null; level_evidence_method: string | null; level_evidence_document: unknown } | undefined>(
        'level',
        'created_at',
        'level_raised_at',
        'level_evidence_method',
        'level_evidence_document',
      );
    if (!row) return undefined;
    return {
      level: row.level === 2 ? 2 : 1,
      createdAt: row.created_at,
      levelRaisedAt: row.level_raised_at,
      method: row.level_evidence_method === 'chip' ? 'chip' : row.level_evidence_method === 'in_person' ? 'in_person' : null,
      document: checkedCardOf(row.level_evidence_document),
    };
  }
}

/** What claims() knows when a verified_claims element may be released. */
export interface VerifiedClaimsContext {
  readonly ctx: KoaContextWithOIDC;
  readonly accountId: string;
  readonly scope: string;
  readonly requested: Record<string, unknown> | undefined;
  readonly rejected: readonly string[];
  readonly values: Record<string, unknown>;
  readonly card: RegistryCard;
  readonly registryReadAt: Date;
  readonly evidence: LevelEvidenceReader;
  /** The claims of the client's approved scopes (src/oidc/consent/interaction-policy.ts approvedClaimsOf). */
  readonly approvedClaims: ReadonlySet<string>;
}

/** The claim values this client may receive: approved for it, and granted by the citizen (by scope or one by one). */
function allowedClaimsOf(context: VerifiedClaimsContext): Record<string, unknown> {
  const { ctx, scope, rejected, values, approvedClaims: approved } = context;
  const granted = new Set<string>(ctx.oidc.grant?.getOIDCClaims() ?? []);
  for (const item of scope.split(' ')) for (const claim of (SCOPE_CLAIMS as Record<string, readonly string[]>)[item] ?? []) granted.add(claim);
  const allowed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && approved.has(name) && granted.has(name) && !rejected.includes(name)) allowed[name] = value;
  }
  return allowed;
}

/** The verified_claims release for this token or response, or undefined (not asked, not approved, or no entry met). */
export async function verifiedClaimsFor(context: VerifiedClaimsContext): Promise<VerifiedClaimsRelease | undefined> {
  const request = context.requested?.verified_claims;
  if (request === undefined || !approvedForVerifiedClaims(context.ctx.oidc.client)) return undefined;
  let parsed;
  try {
    parsed = parseVerifiedClaimsRequest(request);
  } catch {
    return undefined; // refused at the authorization endpoint already
  }
  const evidence = await context.evidence.of(context.accountId);
  if (!evidence) return undefined;
  return releaseVerifiedClaims(parsed, { evidence, card: context.card, registryReadAt: context.registryReadAt, allowedClaims: allowedClaimsOf(context) });
}
