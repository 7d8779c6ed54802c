// Scopes and the claims they release (docs/design.md "Protocol contract").
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'family_name', 'middle_name', 'given_name', 'birthdate', 'gender'],
  national_id: ['national_id'],
  identity_document: ['id_card_issue_date', 'id_card_expiry_date', 'nationality', 'place_of_origin'],
  // Sensitive (docs/domain.md): its own scope, its own line on the consent page.
  ethnicity: ['ethnicity'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
  email: ['email', 'email_verified'],
} as const satisfies Record<string, readonly string[]>;

export type ScopeWithClaims = keyof typeof SCOPE_CLAIMS;

/** Scopes whose data needs separate, explicit consent. */
export const SENSITIVE_SCOPES: ReadonlySet<string> = new Set(['ethnicity']);

/**
 * The order in which claims and scopes are listed to the citizen, defined once: the claims as
 * SCOPE_CLAIMS lists them (name, family_name, …, national_id, the identity card, ethnicity, address,
 * phone, email), the scopes as it declares them; anything else after, alphabetically.
 */
function inOrder(order: readonly string[]): (items: Iterable<string>) => string[] {
  const rank = new Map(order.map((item, index) => [item, index]));
  const rankOf = (item: string) => rank.get(item) ?? order.length;
  return (items) => [...items].sort((a, b) => rankOf(a) - rankOf(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Claim names in the order they are listed to the citizen. */
export const inClaimOrder = inOrder(Object.values(SCOPE_CLAIMS).flat());

/** Scopes in the order they are listed to the citizen. */
export const inScopeOrder = inOrder(Object.keys(SCOPE_CLAIMS));
