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
