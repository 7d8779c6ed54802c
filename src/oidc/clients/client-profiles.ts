// Client profiles: an administrator picks one per relying party, and the profile fixes how it
// authenticates and what it may do (docs/design.md "Client profiles").
export const CLIENT_PROFILES = ['portal', 'bank', 'spa', 'native', 'service'] as const;
export type ClientProfile = (typeof CLIENT_PROFILES)[number];

/** Every scope the provider knows; an administrator approves a subset per client. */
export const KNOWN_SCOPES = [
  'openid',
  'profile',
  'national_id',
  'identity_document',
  'ethnicity',
  'address',
  'phone',
  'email',
  'offline_access',
] as const;

/**
 * A client-credentials scope of the bank profile: chip verification (src/oidc/chip-tokens.ts). Approved
 * per bank with four eyes; a bank approved for it may use the client_credentials grant for that API only.
 */
export const CHIP_VERIFICATION_SCOPE = 'chip_verification';

export interface ProfileRules {
  readonly grantTypes: readonly string[];
  readonly responseTypes: readonly string[];
  readonly authMethods: readonly string[];
  readonly needsSecret: boolean;
  readonly needsRedirectUris: boolean;
  readonly applicationType: 'web' | 'native';
  /** Rotate refresh tokens on every use (docs/design.md: portal, spa, native yes; bank no). */
  readonly rotateRefreshTokens: boolean;
}

export const PROFILE_RULES: Readonly<Record<ClientProfile, ProfileRules>> = {
  portal: {
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethods: ['client_secret_basic', 'private_key_jwt'],
    needsSecret: true,
    needsRedirectUris: true,
    applicationType: 'web',
    rotateRefreshTokens: true,
  },
  spa: {
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethods: ['none'],
    needsSecret: false,
    needsRedirectUris: true,
    applicationType: 'web',
    rotateRefreshTokens: true,
  },
  native: {
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethods: ['none'],
    needsSecret: false,
    needsRedirectUris: true,
    applicationType: 'native',
    rotateRefreshTokens: true,
  },
  service: {
    grantTypes: ['client_credentials'],
    responseTypes: [],
    authMethods: ['client_secret_basic', 'private_key_jwt'],
    needsSecret: true,
    needsRedirectUris: false,
    applicationType: 'web',
    rotateRefreshTokens: false,
  },
  // FAPI 2.0 Security Profile (src/oidc/fapi.ts): PAR, PKCE, private_key_jwt or mutual TLS, sender-
  // constrained tokens; refresh tokens are not rotated (FAPI 2.0) and stay bound to the client.
  // CIBA (src/oidc/ciba/ciba.ts) only for banks: poll mode by default, when the client can have it.
  bank: {
    grantTypes: ['authorization_code', 'refresh_token', 'urn:openid:params:grant-type:ciba'],
    responseTypes: ['code'],
    authMethods: ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'],
    needsSecret: false,
    needsRedirectUris: true,
    applicationType: 'web',
    rotateRefreshTokens: false,
  },
};
