// What a token or userinfo request reads of PostgreSQL about the citizen behind it, in one statement
// (issue 9): the account, the holder's record in the local registry mirror and, when asked for, the
// grant of the token at hand — kept for the adapter's lookup of it that follows in the same request
// (src/oidc/models/request-reads.ts). Nothing is cached: all three are read as they are now, so a lock, a
// death or a revoked grant still refuses the very next request. Only with the local mirror; a remote
// registry is asked through its gateway.
import type { AdapterPayload } from 'oidc-provider';
import { ACCOUNT_ID, type Account } from '../../accounts/accounts.ts';
import { accountFromRow, type AccountRow } from '../../accounts/account-store-postgres.ts';
import { registryRecordFromRow, type RegistryRecord, type RegistryRow } from '../../registry/registry.ts';
import type { Database } from '../../storage/database.ts';
import { rememberGrant } from './request-reads.ts';
import { prepared } from '../../storage/prepared.ts';

export interface TokenHolder {
  readonly account: Account;
  /** Undefined when the mirror has no record of the account's ID number. */
  readonly record: RegistryRecord | undefined;
}

// Reads the accounts table outside the account store on purpose: one joined statement on the hot path (docs/design.md).
// The grant as DurableModelStore.find('Grant', …) sees it: present and not expired. A prepared statement
// (src/storage/prepared.ts), so each row comes back as one jsonb value — a column added to accounts or
// registry_records by a later migration changes no result type. (accountFromRow reads no date column;
// to_jsonb gives dates as text.)
const READ = `
SELECT to_jsonb(a) AS account, to_jsonb(r) AS registry_record,
  (SELECT g.payload FROM oidc_models g
    WHERE g.model = 'Grant' AND g.id = ? AND (g.expires_at IS NULL OR g.expires_at > CURRENT_TIMESTAMP)) AS grant_payload
FROM accounts a LEFT JOIN registry_records r ON r.national_id = a.national_id
WHERE a.id = ?`;

/** The account and its holder's registry record as one statement returns them (jsonb rows). */
export type TokenHolderRow = { account: AccountRow; registry_record: RegistryRow | null };
type Row = TokenHolderRow & { grant_payload: AdapterPayload | null };

export function tokenHolderFromRow(row: TokenHolderRow): TokenHolder {
  return { account: accountFromRow(row.account), record: row.registry_record ? registryRecordFromRow(row.registry_record) : undefined };
}

/** The account `accountId` and its holder's record; with `grantId`, that grant is read too and kept for this request. */
export async function readTokenHolder(db: Database, accountId: string, grantId?: string): Promise<TokenHolder | undefined> {
  if (!ACCOUNT_ID.test(accountId)) return undefined;
  // Without a grant to read, the sub-select compares with NULL and reads nothing.
  const { rows } = await db.raw<{ rows: Row[] }>(READ, [grantId ?? null, accountId]).options(prepared('token-holder'));
  const row = rows[0];
  if (!row) return undefined;
  if (grantId !== undefined) rememberGrant(grantId, row.grant_payload ?? undefined);
  return tokenHolderFromRow(row);
}
