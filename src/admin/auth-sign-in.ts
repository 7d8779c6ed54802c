// Administrators sign in to the admin side through this provider itself, as its first-party client
// `admin-console` (profile portal, public subject so `sub` is the account UUID, redirect URI
// <admin URL>/auth/callback). Like the account page (src/interactions/account-console.ts): the client
// secret is derived from the key-encryption key, every instance registers the client idempotently on
// first use, and back-channel calls go to this instance over loopback. The sign-in must come back at
// level 2 (urn:vn:eid:loa:2) and no older than five minutes, for an account holding a role; otherwise
// it is refused and audited. The session is a random id in the HttpOnly, SameSite=Strict cookie
// `admin_session`, kept in Redis (15 minutes idle, 8 hours at most); its roles are read again on every call.
// The callback lands in the web console (/console/).
import { createHmac, randomBytes } from 'node:crypto';
import type Koa from 'koa';
import * as oidc from 'openid-client';
import type { Config } from '../config/config.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import { LOA_2 } from '../oidc/consent/assurance.ts';
import { loopbackAddress, loopbackFetch } from '../interactions/account-console.ts';
import { readForm } from '../web/forms.ts';
import { ADMIN_SESSION_COOKIE, CSRF_HEADER, sameSecret, type AdminAuthenticator, type AdminSessions } from './auth.ts';

export const ADMIN_CONSOLE_CLIENT_ID = 'admin-console';
const FRESH_SIGN_IN_SECONDS = 300;
const SIGN_IN_PENDING_SECONDS = 600;
const BINDING_COOKIE = 'admin_signin';
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Where the admin side is reached: ADMIN_URL, else (outside production) http://HOST:ADMIN_PORT. */
export function adminUrlOf(config: Pick<Config, 'admin' | 'env' | 'host' | 'adminPort'>): string | undefined {
  if (config.admin.url !== undefined) return new URL(config.admin.url).origin;
  if (config.env === 'production') return undefined;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host}:${config.adminPort}`;
}

export function adminConsoleSecret(keyEncryptionKey: Buffer): string {
  return createHmac('sha256', keyEncryptionKey).update('citizen-idp/admin-console/client-secret/v1').digest('base64url');
}

interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface AdminSignInDependencies {
  readonly config: Config;
  readonly keyEncryptionKey: Buffer;
  readonly clients: ClientRepository;
  readonly store: EphemeralStore;
  readonly sessions: AdminSessions;
  readonly auth: AdminAuthenticator;
  readonly audit: AuditLog;
  readonly rolesOf: (accountId: string) => Promise<ReadonlySet<string>>;
}

/** /auth/sign-in, /auth/callback, /auth/session and /auth/sign-out on the admin app. */
export function adminSignInRoutes(deps: AdminSignInDependencies): Koa.Middleware {
  const { config } = deps;
  const adminUrl = adminUrlOf(config);
  const secure = adminUrl?.startsWith('https:') === true;
  const secret = adminConsoleSecret(deps.keyEncryptionKey);
  const fetch = loopbackFetch(config.issuer, loopbackAddress(config));
  const redirectUri = `${adminUrl}/auth/callback`;
  let configuration: Promise<oidc.Configuration> | undefined;

  const provider = () => {
    configuration ??= (async () => {
      await deps.clients.save({
        clientId: ADMIN_CONSOLE_CLIENT_ID,
        name: 'Quản trị định danh điện tử',
        profile: 'portal',
        secret,
        tokenEndpointAuthMethod: 'client_secret_basic',
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [`${adminUrl}/auth/signed-out`],
        approvedScopes: ['openid'],
        subjectType: 'public',
      });
      const discovered = await oidc.discovery(new URL(config.issuer), ADMIN_CONSOLE_CLIENT_ID, undefined, oidc.ClientSecretBasic(secret), {
        [oidc.customFetch]: fetch,
        execute: new URL(config.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      });
      discovered[oidc.customFetch] = fetch;
      return discovered;
    })().catch((error: unknown) => {
      configuration = undefined;
      throw error;
    });
    return configuration;
  };

  const cookie = (ctx: Koa.Context, name: string, value: string | null, maxAge?: number) => {
    if (secure) ctx.cookies.secure = true;
    ctx.cookies.set(name, value, { path: '/', httpOnly: true, sameSite: name === ADMIN_SESSION_COOKIE ? 'strict' : 'lax', secure, overwrite: true, ...(maxAge !== undefined && { maxAge }) });
  };

  const refuse = async (ctx: Koa.Context, status: number, code: string, detail: string, actor: string, reason: string) => {
    await deps.audit.record({ type: 'admin.denied', actor, data: { operation: 'signIn', method: ctx.method, path: ctx.path, reason, address: ctx.ip } });
    ctx.status = status;
    ctx.type = 'application/problem+json';
    ctx.body = { type: 'about:blank', title: code.replaceAll('_', ' '), status, code, detail };
  };

  return async (ctx, next) => {
    if (!ctx.path.startsWith('/auth/')) {
      await next();
      return;
    }
    if (ctx.path === '/auth/session' && ctx.method === 'GET') {
      const signedIn = await deps.auth.sessionOf(ctx);
      if (!signedIn) {
        ctx.status = 401;
        ctx.body = { error: 'not_signed_in', signIn: '/auth/sign-in' };
        return;
      }
      const { session, roles } = signedIn;
      ctx.body = { accountId: session.accountId, roles: [...roles].sort(), acr: session.acr, authTime: session.authTime, csrfToken: session.csrf };
      return;
    }
    if (ctx.path === '/auth/sign-out' && ctx.method === 'POST') {
      const signedIn = await deps.auth.sessionOf(ctx);
      // The web console signs out with a form (its CSRF token in the field `csrf`) and is sent on to the provider.
      // (A body too large to be our form counts as no token: refused below.)
      const fromForm = ctx.is('application/x-www-form-urlencoded') ? ((await readForm(ctx).catch(() => new URLSearchParams())).get('csrf') ?? '') : undefined;
      if (signedIn && !sameSecret(fromForm ?? ctx.get(CSRF_HEADER), signedIn.session.csrf)) {
        await refuse(ctx, 403, 'csrf', `send the session's CSRF token in the ${CSRF_HEADER} header`, `account:${signedIn.session.accountId}`, 'sign-out without CSRF token');
        return;
      }
      await deps.sessions.destroy(signedIn?.id);
      cookie(ctx, ADMIN_SESSION_COOKIE, null);
      const endSession = signedIn
        ? oidc.buildEndSessionUrl(await provider(), { id_token_hint: signedIn.session.idToken, post_logout_redirect_uri: `${adminUrl}/auth/signed-out` }).href
        : undefined;
      if (fromForm !== undefined) {
        ctx.status = 303;
        ctx.redirect(endSession ?? '/console/signed-out');
        return;
      }
      ctx.body = { signedOut: true, ...(endSession && { endSessionUrl: endSession }) };
      return;
    }
    if (ctx.path === '/auth/signed-out' && ctx.method === 'GET') {
      // A browser back from the provider's logout sees the console's page; a program, JSON.
      if (ctx.accepts('json', 'html') === 'html') ctx.redirect('/console/signed-out');
      else ctx.body = { signedOut: true };
      return;
    }
    if (adminUrl === undefined) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', detail: 'administrators sign in in a browser only when ADMIN_URL is set' };
      return;
    }
    if (ctx.path === '/auth/sign-in' && ctx.method === 'GET') {
      const pending: PendingSignIn = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
      const binding = ID_SHAPE.test(ctx.cookies.get(BINDING_COOKIE) ?? '') ? ctx.cookies.get(BINDING_COOKIE)! : randomBytes(32).toString('base64url');
      await deps.store.put(`admin-console:signin:{${binding}}:${pending.state}`, JSON.stringify(pending), SIGN_IN_PENDING_SECONDS);
      cookie(ctx, BINDING_COOKIE, binding, SIGN_IN_PENDING_SECONDS * 1000);
      const url = oidc.buildAuthorizationUrl(await provider(), {
        redirect_uri: redirectUri,
        scope: 'openid',
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
        code_challenge_method: 'S256',
        acr_values: LOA_2,
        max_age: String(FRESH_SIGN_IN_SECONDS),
      });
      ctx.redirect(url.href);
      return;
    }
    if (ctx.path === '/auth/callback' && ctx.method === 'GET') {
      const binding = ctx.cookies.get(BINDING_COOKIE);
      const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
      const key = `admin-console:signin:{${binding}}:${state}`;
      const stored = binding !== undefined && ID_SHAPE.test(binding) && /^[A-Za-z0-9_-]{1,128}$/.test(state) ? await deps.store.get(key) : undefined;
      // Exactly once: a replayed callback finds nothing.
      if (stored === undefined || !(await deps.store.putIfAbsent(`${key}:used`, '1', SIGN_IN_PENDING_SECONDS))) {
        await refuse(ctx, 400, 'invalid_request', 'this sign-in is unknown, expired or already used; start again at /auth/sign-in', 'anonymous', 'unknown sign-in state');
        return;
      }
      await deps.store.delete(key);
      const pending = JSON.parse(stored) as PendingSignIn;
      let claims: oidc.IDToken;
      let idToken: string;
      try {
        const tokens = await oidc.authorizationCodeGrant(await provider(), new URL(`${adminUrl}${ctx.originalUrl}`), {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
          maxAge: FRESH_SIGN_IN_SECONDS,
        });
        claims = tokens.claims()!;
        idToken = tokens.id_token!;
      } catch (error) {
        await refuse(ctx, 400, 'sign_in_failed', 'the sign-in did not complete', 'anonymous', `sign-in failed: ${(error as Error).message}`);
        return;
      }
      const actor = `account:${claims.sub}`;
      if (claims.acr !== LOA_2) {
        await refuse(ctx, 403, 'level_2_required', 'administrators sign in at level 2 (with a second factor)', actor, `signed in at ${JSON.stringify(claims.acr ?? null)}`);
        return;
      }
      const roles = await deps.rolesOf(claims.sub);
      if (roles.size === 0) {
        await refuse(ctx, 403, 'forbidden', 'this account holds no administrator role', actor, 'no administrator role');
        return;
      }
      const { id } = await deps.sessions.create({
        accountId: claims.sub,
        acr: claims.acr,
        authTime: typeof claims.auth_time === 'number' ? claims.auth_time : claims.iat,
        idToken,
      });
      cookie(ctx, BINDING_COOKIE, null);
      cookie(ctx, ADMIN_SESSION_COOKIE, id);
      await deps.audit.record({ type: 'admin.action', actor, accountId: claims.sub, data: { action: 'admin.signed_in', roles: [...roles].sort() } });
      // Into the web console (src/admin/console/); programs read the session at /auth/session.
      ctx.redirect('/console/');
      return;
    }
    await next();
  };
}
