// What the provider learns about a citizen: claims from the registry and the account, and an audit
// event for every release, naming the claims and the client.
import { errors, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { AccountStore } from '../../accounts/account-store.ts';
import type { RegistryRecord } from '../../registry/registry.ts';
import { formatAddress, isAlive } from '../../registry/registry.ts';
import { RegistryUnavailable, type RegistryGateway } from '../../registry/gateway.ts';
import type { Account } from '../../accounts/accounts.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { Database } from '../../storage/database.ts';
import { readTokenHolder, tokenHolderFromRow, type TokenHolder, type TokenHolderRow } from '../models/token-holder.ts';
import { takeTokenHolderRow } from '../models/request-reads.ts';
import { SCOPE_CLAIMS } from './claims.ts';
import { approvedClaimsOf } from './interaction-policy.ts';
import { verifiedClaimsFor, type LevelEvidenceReader } from './verified-claims-provider.ts';
import { actingForOf } from './representation.ts';

/** Every claim value we can give for a citizen; the provider masks it by granted scopes and claims. */
export function claimsOf(account: Account, record: RegistryRecord): Record<string, unknown> {
  const address = record.permanentAddress;
  return {
    sub: account.id,
    name: record.fullName,
    family_name: record.familyName,
    ...(record.middleName && { middle_name: record.middleName }),
    given_name: record.givenName,
    birthdate: record.birthDate,
    gender: record.gender,
    national_id: record.nationalId,
    ...(record.idCardIssueDate && { id_card_issue_date: record.idCardIssueDate }),
    ...(record.idCardExpiryDate && { id_card_expiry_date: record.idCardExpiryDate }),
    nationality: record.nationality,
    place_of_origin: record.placeOfOrigin,
    ethnicity: record.ethnicity,
    address: {
      formatted: formatAddress(address),
      street_address: address.streetAddress,
      locality: address.locality,
      region: address.region,
      country: 'VN',
    },
    ...(account.phoneNumber && { phone_number: account.phoneNumber, phone_number_verified: account.phoneNumberVerified }),
    ...(account.email && { email: account.email, email_verified: account.emailVerified }),
  };
}

/** The claim names a token or userinfo response carries, given its scope and requested claims. */
export function releasedClaimNames(
  values: Record<string, unknown>,
  scope: string,
  requested: Record<string, unknown> | undefined,
  rejected: readonly string[],
): string[] {
  const names = new Set<string>();
  for (const granted of scope.split(' ')) {
    for (const claim of (SCOPE_CLAIMS as Record<string, readonly string[]>)[granted] ?? []) names.add(claim);
  }
  for (const claim of Object.keys(requested ?? {})) names.add(claim);
  return [...names].filter((name) => name !== 'sub' && !rejected.includes(name) && values[name] !== undefined).sort();
}

/** The OAuth answer while the registry cannot be asked: 503 temporarily_unavailable, not a 500. */
export function temporarilyUnavailable(cause: RegistryUnavailable): errors.OIDCProviderError {
  const error = new errors.OIDCProviderError(503, 'temporarily_unavailable', { cause });
  error.expose = true;
  error.error_description = 'the population registry is temporarily unavailable; try again shortly';
  return error;
}

export function createFindAccount(deps: {
  accounts: AccountStore;
  registry: RegistryGateway;
  audit: AuditLog;
  logger: Logger;
  /**
   * Set when the registry is the local mirror: the account, its record and (for userinfo) the access
   * token's grant are then read in one statement (src/oidc/models/token-holder.ts), and the lookup counted
   * as the gateway's would be.
   */
  mirror?: { readonly db: Database; readonly metrics: Metrics };
  /** How accounts' levels were evidenced: verified claims are released only with it (src/oidc/consent/verified-claims.ts). */
  levelEvidence?: LevelEvidenceReader;
}): FindAccount {
  const { mirror } = deps;
  const holder = async (accountId: string, token: { kind?: string; grantId?: string } | undefined): Promise<TokenHolder | undefined> => {
    if (mirror) {
      const started = performance.now();
      // Userinfo looks the access token's grant up right after the account: read it now, with it.
      const grantId = token?.kind === 'AccessToken' && typeof token.grantId === 'string' ? token.grantId : undefined;
      // A refresh read them with its token a moment ago, in this request (src/oidc/models/request-reads.ts).
      const read = takeTokenHolderRow(accountId) as TokenHolderRow | undefined;
      const found = read ? tokenHolderFromRow(read) : await readTokenHolder(mirror.db, accountId, grantId);
      if (found?.account.status === 'active') mirror.metrics.registryCall('mirror', found.record ? 'found' : 'not_found', (performance.now() - started) / 1000);
      return found;
    }
    const account = await deps.accounts.findById(accountId);
    if (!account || account.status !== 'active') return undefined;
    try {
      return { account, record: await deps.registry.findByNationalId(account.nationalId) };
    } catch (error) {
      if (!(error instanceof RegistryUnavailable)) throw error;
      deps.logger.warn({ err: error }, 'registry unavailable: the account cannot be loaded');
      throw temporarilyUnavailable(error);
    }
  };
  return async (ctx: KoaContextWithOIDC, accountId: string, token) => {
    const found = await holder(accountId, token);
    const registryReadAt = new Date();
    if (!found || found.account.status !== 'active') return undefined;
    const { account, record } = found;
    // A dead or missing person's eID ends; the change feed locks it, and until it has, this refuses too.
    if (!record || !isAlive(record)) return undefined;
    return {
      accountId: account.id,
      async claims(use, scope, requested, rejected) {
        const values: Record<string, unknown> = claimsOf(account, record);
        const verified = deps.levelEvidence
          ? await verifiedClaimsFor({
              ctx, accountId: account.id, scope, requested, rejected, values, registryReadAt, evidence: deps.levelEvidence,
              approvedClaims: approvedClaimsOf(ctx.oidc.client),
              card: { nationalId: record.nationalId, issueDate: record.idCardIssueDate, expiryDate: record.idCardExpiryDate },
            })
          : undefined;
        if (verified) Object.assign(values, { verified_claims: verified.element, txn: verified.txn });
        // Code-flow ID tokens carry only the openid scope's claims plus individually requested ones
        // (conformIdTokenClaims); the rest of the scope goes to userinfo. Record what really leaves.
        const releasedScope = use === 'id_token' ? 'openid' : scope;
        const released = releasedClaimNames(values, releasedScope, requested, rejected);
        // What verified_claims carried is released too; txn finds this event from the client's copy.
        if (verified) released.push(...verified.claims.filter((claim) => !released.includes(claim)));
        if (released.length > 0) {
          const clientId = ctx.oidc.client?.clientId;
          // Released while acting for an organisation or a child: the history says so (src/audit/access-history.ts).
          const actingFor = actingForOf((ctx.oidc.entities.AccessToken as { rar?: unknown[] } | undefined)?.rar);
          await deps.audit.record({
            type: 'claims.released',
            actor: clientId ?? 'unknown',
            accountId: account.id,
            ...(clientId && { clientId }),
            data: {
              use,
              claims: released,
              ...(verified && { verifiedClaims: { txn: verified.txn, claims: verified.claims, assuranceLevel: verified.assuranceLevel, evidence: verified.evidence } }),
              ...(actingFor && { actingFor }),
            },
          });
        }
        return values as { sub: string };
      },
    };
  };
}
