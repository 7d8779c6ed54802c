// Builds the oidc-provider instance from our configuration and stores. Everything the provider is
// configured with lives here; other folders reach it only through the hooks they pass in.
import Provider, { type AdapterConstructor, type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config } from '../config/config.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../observability/logger.ts';
import { PROFILE_RULES, type ClientProfile } from './clients/client-profiles.ts';
import { SCOPE_CLAIMS } from './consent/claims.ts';
import { createInteractionPolicy } from './consent/interaction-policy.ts';
import { sessionTtlSeconds } from './sessions/session-lifetime.ts';
import { ACR_VALUES } from './consent/assurance.ts';
import { allowFormPostToRedirectUri } from './form-post.ts';
import { rotateRegistrationTokenOnRead } from './clients/registration-token-rotation.ts';
import type { PendingLogout } from './sessions/backchannel-logout.ts';
import { SIGNING_ALGORITHMS } from './keys/keys.ts';
import { clientLifetimes, LIFETIME_METADATA } from './clients/client-settings.ts';
import { introspectionAllowedPolicy, resourceIndicatorsFeature, revocationAllowedPolicy, type ResourceServerRegistry } from './clients/resource-servers.ts';
import { ENCRYPTION_ALGORITHMS, ENCRYPTION_ENCODING, FAPI_SIGNING_ALGORITHMS } from './clients/client-keys.ts';
import { assertRequestObject, authorizationCodeTtl, fapiProfile, requireDpopNonce } from './fapi.ts';
import { certificateAuthorities, clientCertificateHelpers } from './clients/client-certificate.ts';
import { PROVIDER_FETCH_MAX_BYTES, providerFetch } from './provider-fetch.ts';
import { trustedPeerCheck } from '../observability/http.ts';
import type { CibaHooks } from './ciba/ciba.ts';
import { acceptRetiredSecrets, type RetiredSecretCheck } from './clients/secret-rotation.ts';
import { withAdminApiResource } from './admin-tokens.ts';
import { withChipVerificationResource } from './chip-tokens.ts';
import { bitsOfOpaqueRandomness } from './models/token-lengths.ts';
import { grantOnlyApprovedClientScopes } from './consent/client-credentials-scopes.ts';
import { publishIssuerUrls } from './issuer-urls.ts';
import { clientAssertionRule } from './clients/client-assertions.ts';
import { installPublicSubjects, publicSubjectInJwt, Subjects } from './subjects.ts';
import { assertClaimsParameter, installVerifiedClaims, VERIFIED_CLAIMS_METADATA } from './consent/verified-claims-provider.ts';
import { VERIFIED_CLAIMS_DISCOVERY } from './consent/verified-claims.ts';
import { installRepresentationClaims, representationFeature, withRepresentationPrompt, withUserinfoResource, type RepresentationHooks } from './consent/representation.ts';

// The provider's type for the composition root and the admin sign-in: outside src/oidc nothing imports oidc-provider.
export type { Provider };

/** Pages the provider shows itself (errors, logout); rendered by the interactions folder. */
export interface ProviderPages {
  errorPage(ctx: PageRequest, error: { error: string; error_description?: string }): string;
  /**
   * `returnTo` is where the browser goes after signing out, if the client said; `authenticated` when
   * the request carried a valid id_token_hint for the signed-in citizen (then no question is asked).
   */
  logoutConfirmationPage(ctx: PageRequest, form: string, options: { returnTo: string | undefined; authenticated: boolean }): string;
  logoutDonePage(ctx: PageRequest): string;
}

/** What a page needs to know of the request (a subset of Koa's context). */
export interface PageRequest {
  readonly method: string;
  readonly originalUrl: string;
  readonly query: Record<string, unknown>;
  readonly cookies: { get(name: string): string | undefined };
  set(field: string, value: string): void;
}

export interface ProviderDependencies {
  readonly config: Config;
  readonly adapter: AdapterConstructor;
  readonly jwks: { keys: JWK[] };
  readonly cookieKeys: string[];
  readonly pairwiseKey: Buffer;
  readonly findAccount: FindAccount;
  readonly pages: ProviderPages;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /**
   * The provider's own applications (the account page): the citizen is not asked to consent to
   * them, since they release nothing the citizen does not already see. They get `openid` only.
   */
  readonly firstPartyClients?: readonly string[];
  /** Queues a back-channel logout durably; a worker delivers it (src/oidc/sessions/backchannel-logout.ts). */
  readonly enqueueBackchannelLogout: (logout: PendingLogout) => Promise<void>;
  /** The citizen's newest live grant to a client (consent remembered across sessions). */
  readonly standingGrantId?: (accountId: string, clientId: string) => Promise<string | undefined>;
  /** The registered resource servers (RFC 8707): tokens addressed to them, and who may introspect. */
  readonly resourceServers: ResourceServerRegistry;
  /** 32 bytes, the same on every instance (src/oidc/fapi.ts), so DPoP nonces hold across instances. */
  readonly dpopNonceSecret: Buffer;
  /**
   * Client-initiated backchannel authentication for bank clients (src/oidc/ciba/ciba.ts); off without it.
   * `findAccount` must then be wrapped by its wrapFindAccount (stand-ins for numbers without an account).
   */
  readonly ciba?: CibaHooks;
  /** A rotated client secret's predecessor, accepted until its overlap ends (src/oidc/clients/secret-rotation.ts). */
  readonly retiredSecretMatches?: RetiredSecretCheck;
  /** Scopes a service client may hold for the admin API (resource urn:vn:eid:admin-api). */
  readonly adminScopes?: readonly string[];
  /** Dynamic client registration under initial access tokens (src/oidc/clients/dynamic-registration.ts); off without it. */
  readonly registration?: Pick<NonNullable<Configuration['features']>, 'registration' | 'registrationManagement'>;
  /** Acting for organisations and children (src/oidc/consent/representation.ts); off without it. */
  readonly representation?: RepresentationHooks;
}

type BackchannelLogoutHook = (this: InstanceType<Provider['Client']>, accountId: string, sid: string) => Promise<void>;

/** The profile an administrator gave the client (extra client metadata). */
export function profileOf(client: object | undefined): ClientProfile | undefined {
  const profile = (client as { profile?: unknown } | undefined)?.profile;
  return typeof profile === 'string' ? (profile as ClientProfile) : undefined;
}

export function createProvider(deps: ProviderDependencies): Provider {
  const { config } = deps;
  const subjects = new Subjects(deps.pairwiseKey, deps.firstPartyClients ?? []);

  /** The logout request names the signed-in citizen: its id_token_hint (already verified) has their sub. */
  const hintMatchesSession = (ctx: KoaContextWithOIDC): boolean => {
    const hint = ctx.oidc.entities.IdTokenHint as { payload?: { sub?: unknown } } | undefined;
    const accountId = ctx.oidc.session?.accountId;
    const client = ctx.oidc.client;
    if (!hint?.payload || !accountId || !client) return false;
    return hint.payload.sub === subjects.of(client, accountId);
  };
  const secureCookies = new URL(config.issuer).protocol === 'https:';
  const lifetimes = clientLifetimes(config.ttl);

  const configuration: Configuration = {
    adapter: deps.adapter,
    jwks: deps.jwks,
    findAccount: subjects.wrapFindAccount(deps.findAccount),
    cookies: {
      keys: deps.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure: secureCookies },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure: secureCookies },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A token is described to its own client and to the resource server it is addressed to; a token
      // of a suspended or removed client is inactive (src/oidc/clients/resource-servers.ts).
      introspection: {
        enabled: true,
        allowedPolicy: introspectionAllowedPolicy(deps.resourceServers),
      },
      revocation: { enabled: true, allowedPolicy: revocationAllowedPolicy },
      // RFC 8707 over the registered resource servers; their access tokens are JWTs (RFC 9068).
      // The admin API is one more (src/oidc/admin-tokens.ts): automation's client_credentials tokens.
      // Chip verification for banks is another (src/oidc/chip-tokens.ts).
      // The userinfo endpoint, for a representation request only (src/oidc/consent/representation.ts).
      resourceIndicators: withUserinfoResource(
        withChipVerificationResource(withAdminApiResource(resourceIndicatorsFeature(deps.resourceServers), deps.adminScopes ?? [])),
      ),
      // Rich Authorization Requests with one type, urn:vn:eid:representation (src/oidc/consent/representation.ts).
      ...(deps.representation && {
        richAuthorizationRequests: representationFeature({ hooks: deps.representation, subjects, audit: deps.audit, logger: deps.logger }),
      }),
      // Userinfo as a signed JWT for clients registered with userinfo_signed_response_alg.
      jwtUserinfo: { enabled: true },
      // verified_claims requests are checked too (src/oidc/consent/verified-claims-provider.ts).
      claimsParameter: { enabled: true, assertClaimsParameter },
      // The bank profile (src/oidc/fapi.ts): FAPI 2.0 for bank clients. PAR, signed request objects,
      // JARM, DPoP, mutual TLS and encryption serve any client registered for them; a bank's metadata
      // requires PAR and sender-constrained tokens (src/oidc/clients/client-keys.ts).
      fapi: { enabled: true, profile: fapiProfile },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      requestObjects: { enabled: true, requireSignedRequestObject: false, assertJwtClaimsAndHeader: assertRequestObject },
      jwtResponseModes: { enabled: true },
      encryption: { enabled: true },
      // Nonces come from a secret every instance derives alike: one instance's nonce is good at another.
      dPoP: { enabled: true, nonceSecret: deps.dpopNonceSecret, requireNonce: requireDpopNonce },
      // The certificate comes from the TLS-terminating proxy's header, believed only from TRUSTED_PROXIES.
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        ...clientCertificateHelpers({
          header: config.mtls.certificateHeader,
          isTrustedPeer: trustedPeerCheck(config.trustedProxies),
          authorities: certificateAuthorities(config.mtls.caFile),
        }),
      },
      // Enabled for the client metadata, `sid` in ID tokens and discovery; delivery is ours (below).
      backchannelLogout: { enabled: true },
      // Client-initiated backchannel authentication, poll and ping, for bank clients (src/oidc/ciba/ciba.ts).
      ...(deps.ciba && { ciba: deps.ciba.feature }),
      // RFC 7591/7592, never open: an administrator's initial access token, with limits (src/oidc/clients/dynamic-registration.ts).
      ...deps.registration,
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          const returnTo = ctx.oidc.params?.post_logout_redirect_uri;
          ctx.body = deps.pages.logoutConfirmationPage(ctx, form, {
            returnTo: typeof returnTo === 'string' ? returnTo : undefined,
            authenticated: hintMatchesSession(ctx),
          });
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = deps.pages.logoutDonePage(ctx);
        },
      },
    },
    // PKCE (S256, the only method oidc-provider 9 knows) for every authorization request.
    pkce: { required: () => true },
    acrValues: [...ACR_VALUES],
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: withRepresentationPrompt(createInteractionPolicy(config.sessions, subjects), deps.representation !== undefined),
    },
    responseTypes: ['code'],
    // OpenID Connect Core 3.1.2.1: redirect_uri is required, even for a client with only one.
    allowOmittingSingleRegisteredRedirectUri: false,
    // A sector_identifier_uri is fetched and checked once, at registration (src/oidc/clients/sector-identifier.ts);
    // oidc-provider would fetch it again each time it loads the client, putting the network in a sign-in.
    sectorIdentifierUriValidate: () => false,
    scopes: Object.keys(SCOPE_CLAIMS).concat('offline_access'),
    // acr, amr and auth_time ride on the openid scope, so every ID token carries them.
    // txn rides on it too, given only with a verified_claims release, which is asked for by name.
    claims: { ...SCOPE_CLAIMS, openid: [...SCOPE_CLAIMS.openid, 'acr', 'amr', 'auth_time', 'txn'], verified_claims: null },
    // OpenID Connect for Identity Assurance's metadata (src/oidc/consent/verified-claims.ts).
    discovery: { ...VERIFIED_CLAIMS_DISCOVERY },
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) => subjects.of(client, accountId),
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      // JARM (response_mode=jwt) responses, unless the client registered another algorithm.
      authorization_signed_response_alg: 'ES256',
    },
    // The mutual TLS methods are the bank profile's only (src/oidc/clients/client-profiles.ts).
    clientAuthMethods: ['client_secret_basic', 'private_key_jwt', 'none', 'tls_client_auth', 'self_signed_tls_client_auth'],
    // aud = the issuer for every profile, exp within the hour; a bank signs with a FAPI 2.0 algorithm.
    assertJwtClientAuthClaimsAndHeader: clientAssertionRule(deps),
    // Fetches of client-registered addresses (jwks_uri, CIBA pings): SSRF-guarded, time- and size-limited.
    fetch: providerFetch({ allowLoopback: config.env !== 'production' }),
    fetchResponseBodyLimits: { jwks_uri: PROVIDER_FETCH_MAX_BYTES, sector_identifier_uri: PROVIDER_FETCH_MAX_BYTES },
    enabledJWA: {
      // Every algorithm the provider holds a key for; a client picks one at registration (ES256 by default).
      idTokenSigningAlgValues: [...SIGNING_ALGORITHMS],
      userinfoSigningAlgValues: [...SIGNING_ALGORITHMS],
      introspectionSigningAlgValues: ['ES256', 'PS256', 'RS256'],
      clientAuthSigningAlgValues: ['ES256', 'PS256', 'RS256', 'EdDSA'],
      // No HS256 (keyed by a client secret) and no `none`; a bank is held to FAPI 2.0's three (src/oidc/fapi.ts).
      requestObjectSigningAlgValues: ['ES256', 'PS256', 'RS256', 'EdDSA'],
      authorizationSigningAlgValues: [...SIGNING_ALGORITHMS],
      dPoPSigningAlgValues: [...FAPI_SIGNING_ALGORITHMS],
      // Encrypted to the client's own key only (no client-secret algorithms), content A256GCM.
      idTokenEncryptionAlgValues: [...ENCRYPTION_ALGORITHMS],
      idTokenEncryptionEncValues: [ENCRYPTION_ENCODING],
      userinfoEncryptionAlgValues: [...ENCRYPTION_ALGORITHMS],
      userinfoEncryptionEncValues: [ENCRYPTION_ENCODING],
      authorizationEncryptionAlgValues: [...ENCRYPTION_ALGORITHMS],
      authorizationEncryptionEncValues: [ENCRYPTION_ENCODING],
      // The provider holds no decryption keys: encrypted request objects are not accepted.
      requestObjectEncryptionAlgValues: [],
      requestObjectEncryptionEncValues: [],
    },
    extraClientMetadata: {
      properties: ['profile', 'approved_scopes', ...LIFETIME_METADATA, VERIFIED_CLAIMS_METADATA],
    },
    ttl: {
      // Per client (and resource server) when registered shorter: src/oidc/clients/client-settings.ts.
      AccessToken: lifetimes.AccessToken,
      // At most 60 seconds for a bank (FAPI 2.0).
      AuthorizationCode: authorizationCodeTtl(config.ttl.authorizationCode),
      ClientCredentials: lifetimes.ClientCredentials,
      IdToken: lifetimes.IdToken,
      Interaction: config.ttl.interaction,
      // Asked on every save: what remains of the idle and absolute lifetimes (src/oidc/sessions/session-lifetime.ts).
      Session: (_ctx, session) => sessionTtlSeconds(config.sessions, session.loginTs),
      Grant: config.ttl.grant,
      RefreshToken: lifetimes.RefreshToken,
      // Expires, and is replaced on each use (src/oidc/clients/registration-token-rotation.ts): issue 20.
      RegistrationAccessToken: config.ttl.registrationAccessToken,
      // requested_expiry, at most ciba.maxExpirySeconds (src/oidc/ciba/ciba.ts).
      ...(deps.ciba && { BackchannelAuthenticationRequest: deps.ciba.requestLifetime }),
    },
    // Refresh tokens rotate per profile; set explicitly, since the library's default keeps a
    // confidential client's token until 70% of its life (docs/design.md).
    rotateRefreshToken: (ctx) => {
      const profile = profileOf(ctx.oidc.client);
      return profile !== undefined && profile !== 'bank' && PROFILE_RULES[profile].rotateRefreshTokens;
    },
    loadExistingGrant: async (ctx) => {
      const clientId = ctx.oidc.client!.clientId;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId) return undefined;
      if (!deps.firstPartyClients?.includes(clientId)) {
        // A new session: the consent the citizen gave this client before still stands (docs/design.md).
        const standing = await deps.standingGrantId?.(accountId, clientId);
        return standing ? ctx.oidc.provider.Grant.find(standing) : undefined;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId });
      grant.addOIDCScope('openid');
      await grant.save();
      return grant;
    },
    // Access tokens one character longer than refresh tokens: introspection skips PostgreSQL for them (src/oidc/models/token-lengths.ts).
    formats: { bitsOfOpaqueRandomness, customizers: { jwt: publicSubjectInJwt(subjects) } },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = deps.pages.errorPage(ctx, out);
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // Forwarded headers are stripped from untrusted peers before requests reach the provider.
  provider.proxy = config.trustedProxies.length > 0;

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const body = ctx.body as { scope?: string } | undefined;
    // Nothing waits for it: it goes with the next batch of the audit trail.
    void deps.audit
      .recordLater({
        type: 'token.issued',
        actor: ctx.oidc.client?.clientId,
        clientId: ctx.oidc.client?.clientId,
        accountId: ctx.oidc.account?.accountId,
        data: { grantType: ctx.oidc.params?.grant_type, scope: body?.scope ?? null },
      })
      .catch((error: unknown) => deps.logger.error({ err: error }, 'could not write the audit event for a token'));
  });
  // oidc-provider delivers logout tokens inline at end_session, once, making the citizen wait. Its
  // per-provider Client class is given a delivery that only queues (one insert); a worker sends them.
  (provider.Client.prototype as unknown as { backchannelLogout: BackchannelLogoutHook }).backchannelLogout = async function (
    this: InstanceType<Provider['Client']>,
    accountId: string,
    sid: string,
  ) {
    await deps.enqueueBackchannelLogout({ clientId: this.clientId, accountId, sid });
  };
  provider.on('backchannel.error', (_ctx: unknown, error: Error, client: { clientId: string }) => {
    deps.logger.error({ err: error, clientId: client.clientId }, 'could not queue a back-channel logout');
  });
  provider.on('server_error', (_ctx: unknown, error: Error) => {
    deps.logger.error({ err: error }, 'the provider failed on a request');
  });

  installPublicSubjects(provider, subjects);
  if (deps.representation) installRepresentationClaims(provider);
  allowFormPostToRedirectUri(provider);
  if (deps.registration) rotateRegistrationTokenOnRead(provider);
  grantOnlyApprovedClientScopes(provider);
  publishIssuerUrls(provider);
  installVerifiedClaims(provider);
  deps.ciba?.install(provider);
  if (deps.retiredSecretMatches) acceptRetiredSecrets(provider, deps.retiredSecretMatches);
  return provider;
}
