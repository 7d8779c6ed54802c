// Builds the oidc-provider instance from our configuration and stores. Everything the provider is
// configured with lives here; other folders reach it only through the hooks they pass in.
import { createHmac } from 'node:crypto';
import Provider, { type AdapterConstructor, type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config } from '../config/config.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../observability/logger.ts';
import { PROFILE_RULES, type ClientProfile } from './client-profiles.ts';
import { SCOPE_CLAIMS } from './claims.ts';
import { createInteractionPolicy } from './interaction-policy.ts';
import { ACR_VALUES } from './assurance.ts';
import type { PendingLogout } from './backchannel-logout.ts';

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
  /** Queues a back-channel logout durably; a worker delivers it (src/oidc/backchannel-logout.ts). */
  readonly enqueueBackchannelLogout: (logout: PendingLogout) => Promise<void>;
}

/** `sub` for a pairwise client: HMAC-SHA256 over the sector and the account's internal id. */
export function pairwiseSubject(pairwiseKey: Buffer, sector: string, accountId: string): string {
  return createHmac('sha256', pairwiseKey).update(`${sector}\n${accountId}`).digest('base64url');
}

type BackchannelLogoutHook = (this: InstanceType<Provider['Client']>, accountId: string, sid: string) => Promise<void>;

/** The profile an administrator gave the client (extra client metadata). */
export function profileOf(client: object | undefined): ClientProfile | undefined {
  const profile = (client as { profile?: unknown } | undefined)?.profile;
  return typeof profile === 'string' ? (profile as ClientProfile) : undefined;
}

export function createProvider(deps: ProviderDependencies): Provider {
  const { config } = deps;

  /** The logout request names the signed-in citizen: its id_token_hint (already verified) has their sub. */
  const hintMatchesSession = (ctx: KoaContextWithOIDC): boolean => {
    const hint = ctx.oidc.entities.IdTokenHint as { payload?: { sub?: unknown } } | undefined;
    const accountId = ctx.oidc.session?.accountId;
    const client = ctx.oidc.client;
    if (!hint?.payload || !accountId || !client) return false;
    const expected =
      client.subjectType === 'pairwise' ? pairwiseSubject(deps.pairwiseKey, String(client.sectorIdentifier), accountId) : accountId;
    return hint.payload.sub === expected;
  };
  const secureCookies = new URL(config.issuer).protocol === 'https:';

  const configuration: Configuration = {
    adapter: deps.adapter,
    jwks: deps.jwks,
    findAccount: deps.findAccount,
    cookies: {
      keys: deps.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure: secureCookies },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure: secureCookies },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A token is described only to the client it was issued to. Resource servers registered for a
      // token's audience come with the admin API; until then they introspect nothing.
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => 'clientId' in token && token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      claimsParameter: { enabled: true },
      // Enabled for the client metadata, `sid` in ID tokens and discovery; delivery is ours (below).
      backchannelLogout: { enabled: true },
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
      policy: createInteractionPolicy(),
    },
    responseTypes: ['code'],
    scopes: Object.keys(SCOPE_CLAIMS).concat('offline_access'),
    // acr, amr and auth_time ride on the openid scope, so every ID token carries them.
    claims: { ...SCOPE_CLAIMS, openid: [...SCOPE_CLAIMS.openid, 'acr', 'amr', 'auth_time'] },
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) => pairwiseSubject(deps.pairwiseKey, String(client.sectorIdentifier), accountId),
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
    clientAuthMethods: ['client_secret_basic', 'private_key_jwt', 'none'],
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'PS256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'PS256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'PS256', 'RS256'],
      clientAuthSigningAlgValues: ['ES256', 'PS256', 'RS256', 'EdDSA'],
    },
    extraClientMetadata: {
      properties: ['profile', 'approved_scopes'],
    },
    ttl: {
      AccessToken: config.ttl.accessToken,
      AuthorizationCode: config.ttl.authorizationCode,
      ClientCredentials: config.ttl.clientCredentials,
      IdToken: config.ttl.idToken,
      Interaction: config.ttl.interaction,
      Session: config.ttl.session,
      Grant: config.ttl.grant,
      RefreshToken: config.ttl.refreshToken,
    },
    // Refresh tokens rotate per profile; set explicitly, since the library's default keeps a
    // confidential client's token until 70% of its life (DESIGN.md).
    rotateRefreshToken: (ctx) => {
      const profile = profileOf(ctx.oidc.client);
      return profile !== undefined && profile !== 'bank' && PROFILE_RULES[profile].rotateRefreshTokens;
    },
    loadExistingGrant: async (ctx) => {
      const clientId = ctx.oidc.client!.clientId;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if (!deps.firstPartyClients?.includes(clientId) || !ctx.oidc.session?.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid');
      await grant.save();
      return grant;
    },
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
    void deps.audit
      .record({
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

  return provider;
}
