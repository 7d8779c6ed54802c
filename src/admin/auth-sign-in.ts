// Administrators sign in to the admin side through this provider itself, as its first-party client
// `admin-console` (src/web/first-party-sign-in.ts, the flow the account page uses too; profile portal,
// public subject, and as a first-party client `sub` is the account UUID (docs/design.md "Subjects"),
// redirect URI <admin URL>/auth/callback). The sign-in
// must come back at level 2 (urn:vn:eid:loa:2) and no older than five minutes, for an account holding
// a role; otherwise it is refused and audited. The session is a random id in the HttpOnly cookie
// `admin_session`, kept in Redis (15 minutes idle, 8 hours at most, src/admin/auth.ts); its roles are
// read again on every call. The callback lands in the web console (/console/).
import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import type { Config } from '../config/config.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import { LOA_2 } from '../oidc/consent/assurance.ts';
import { html } from '../web/html.ts';
import { readForm } from '../web/forms.ts';
import { Router, type RouteHandler } from '../web/router.ts';
import {
  FRESH_SIGN_IN_SECONDS,
  FirstPartyRelyingParty,
  SIGN_IN_PENDING_SECONDS,
  firstPartyClientSecret,
  loopbackAddress,
  loopbackFetch,
  registerFirstPartyClient,
  sameSecret,
  type FirstPartyClient,
  type SignedIn,
} from '../web/first-party-sign-in.ts';
import { ADMIN_CONSOLE_CLIENT_ID, ADMIN_SESSION_COOKIE, CSRF_HEADER, type AdminAuthenticator, type AdminSessions } from './auth.ts';

const BINDING_COOKIE = 'admin_signin';
/** Set by a completed sign-in for a minute: a browser sent to sign in again meanwhile did not keep the session. */
const JUST_SIGNED_IN_COOKIE = 'admin_signed_in';
const JUST_SIGNED_IN_MS = 60_000;

/** Where the admin side is reached: ADMIN_URL, else (outside production) http://HOST:ADMIN_PORT. */
export function adminUrlOf(config: Pick<Config, 'admin' | 'env' | 'host' | 'adminPort'>): string | undefined {
  if (config.admin.url !== undefined) return new URL(config.admin.url).origin;
  if (config.env === 'production') return undefined;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host}:${config.adminPort}`;
}

export function adminConsoleSecret(keyEncryptionKey: Buffer): string {
  return firstPartyClientSecret(keyEncryptionKey, ADMIN_CONSOLE_CLIENT_ID);
}

function adminConsoleClient(adminUrl: string): FirstPartyClient {
  return {
    clientId: ADMIN_CONSOLE_CLIENT_ID,
    name: 'Quản trị định danh điện tử',
    redirectUri: `${adminUrl}/auth/callback`,
    postLogoutRedirectUri: `${adminUrl}/auth/signed-out`,
    scope: 'openid',
    approvedScopes: ['openid'],
  };
}

/** Shown instead of starting another sign-in when the last one did not stick, so that it cannot loop. */
function sessionNotKeptPage(): string {
  return `<!doctype html>${html`<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Không giữ được phiên đăng nhập</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body>
<main>
<h1>Không giữ được phiên đăng nhập</h1>
<p role="alert">Bạn vừa đăng nhập nhưng trình duyệt không gửi lại cookie phiên quản trị. Hãy cho phép cookie cho trang quản trị, mở trang quản trị ở đúng địa chỉ đã cấu hình (ADMIN_URL) rồi thử lại.</p>
<p lang="en">You have just signed in, but the browser did not send the admin session cookie back. Allow cookies for the admin site, open it at its configured address (ADMIN_URL) and try again.</p>
<p><a href="/auth/sign-in">Đăng nhập lại · Sign in again</a></p>
</main>
</body>
</html>`.value}`;
}

export interface AdminSignInDependencies {
  readonly config: Config;
  /** The `admin-console` client's secret (adminConsoleSecret, derived in src/container.ts). */
  readonly clientSecret: string;
  readonly clients: ClientRepository;
  /** Administrators' sessions and the sign-ins under way. */
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
  const { clientSecret } = deps;
  const relyingParty =
    adminUrl === undefined
      ? undefined
      : new FirstPartyRelyingParty({
          issuer: config.issuer,
          client: adminConsoleClient(adminUrl),
          clientSecret,
          fetch: loopbackFetch(config.issuer, loopbackAddress(config)),
          register: () => registerFirstPartyClient(deps.clients, adminConsoleClient(adminUrl), clientSecret),
        });

  // SameSite=Lax, not Strict, for the session too: the callback comes from the issuer's site, which
  // need not be the admin side's (the quickstart: localhost and 127.0.0.1), and a Strict cookie set
  // there is not sent on the redirect into /console/. Every change needs the session's CSRF token.
  const cookie = (ctx: Koa.Context, name: string, value: string | null, options: { maxAge?: number; path?: string } = {}) => {
    if (secure) ctx.cookies.secure = true;
    ctx.cookies.set(name, value, { path: options.path ?? '/', httpOnly: true, sameSite: 'lax', secure, overwrite: true, ...(options.maxAge !== undefined && { maxAge: options.maxAge }) });
  };

  const refuse = async (ctx: Koa.Context, status: number, code: string, detail: string, actor: string, reason: string) => {
    await deps.audit.record({ type: 'admin.denied', actor, data: { operation: 'signIn', method: ctx.method, path: ctx.path, reason, address: ctx.ip } });
    ctx.status = status;
    ctx.type = 'application/problem+json';
    ctx.body = { type: 'about:blank', title: code.replaceAll('_', ' '), status, code, detail };
  };

  /** The browser sign-in needs ADMIN_URL (its callback's origin); without it, a clear 404. */
  const browserSignIn =
    (handler: (ctx: Koa.Context, flow: { adminUrl: string; relyingParty: FirstPartyRelyingParty }) => Promise<void>): RouteHandler =>
    async (ctx) => {
      if (adminUrl === undefined || relyingParty === undefined) {
        ctx.status = 404;
        ctx.body = { error: 'not_found', detail: 'administrators sign in in a browser only when ADMIN_URL is set' };
        return;
      }
      await handler(ctx, { adminUrl, relyingParty });
    };

  return new Router()
    .get('/auth/session', async (ctx) => {
      const signedIn = await deps.auth.sessionOf(ctx);
      if (!signedIn) {
        ctx.status = 401;
        ctx.body = { error: 'not_signed_in', signIn: '/auth/sign-in' };
        return;
      }
      const { session, roles } = signedIn;
      ctx.body = { accountId: session.accountId, roles: [...roles].sort(), acr: session.acr, authTime: session.authTime, csrfToken: session.csrf };
      return;
    })
    .post('/auth/sign-out', async (ctx) => {
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
      cookie(ctx, JUST_SIGNED_IN_COOKIE, null, { path: '/auth' });
      const endSession = signedIn && relyingParty ? await relyingParty.endSessionUrl(signedIn.session.idToken) : undefined;
      if (fromForm !== undefined) {
        ctx.status = 303;
        ctx.redirect(endSession ?? '/console/signed-out');
        return;
      }
      ctx.body = { signedOut: true, ...(endSession && { endSessionUrl: endSession }) };
      return;
    })
    .get('/auth/signed-out', (ctx) => {
      // A browser back from the provider's logout sees the console's page; a program, JSON.
      if (ctx.accepts('json', 'html') === 'html') ctx.redirect('/console/signed-out');
      else ctx.body = { signedOut: true };
    })
    .get('/auth/sign-in', browserSignIn(async (ctx, { relyingParty }) => {
      if (ctx.cookies.get(JUST_SIGNED_IN_COOKIE) !== undefined) {
        // Sent to sign in again right after signing in: the session did not come back with the browser.
        // Explain once instead of going round again; the link on the page starts afresh.
        cookie(ctx, JUST_SIGNED_IN_COOKIE, null, { path: '/auth' });
        if (!(await deps.auth.sessionOf(ctx))) {
          await deps.audit.record({ type: 'admin.denied', actor: 'anonymous', data: { operation: 'signIn', method: ctx.method, path: ctx.path, reason: 'the session cookie did not come back after signing in', address: ctx.ip } });
          ctx.status = 409;
          ctx.type = 'html';
          ctx.body = sessionNotKeptPage();
          return;
        }
      }
      const { pending, url } = await relyingParty.start({ acrValues: LOA_2, maxAge: FRESH_SIGN_IN_SECONDS });
      const binding = await deps.sessions.rememberSignIn(ctx.cookies.get(BINDING_COOKIE), pending);
      cookie(ctx, BINDING_COOKIE, binding, { maxAge: SIGN_IN_PENDING_SECONDS * 1000 });
      ctx.redirect(url);
      return;
    }))
    .get('/auth/callback', browserSignIn(async (ctx, { adminUrl, relyingParty }) => {
      const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
      // Exactly once: a replayed callback finds nothing.
      const pending = await deps.sessions.takeSignIn(ctx.cookies.get(BINDING_COOKIE), state);
      if (pending === undefined) {
        await refuse(ctx, 400, 'invalid_request', 'this sign-in is unknown, expired or already used; start again at /auth/sign-in', 'anonymous', 'unknown sign-in state');
        return;
      }
      let signedIn: SignedIn;
      try {
        signedIn = await relyingParty.finish(new URL(`${adminUrl}${ctx.originalUrl}`), pending);
      } catch (error) {
        await refuse(ctx, 400, 'sign_in_failed', 'the sign-in did not complete', 'anonymous', `sign-in failed: ${(error as Error).message}`);
        return;
      }
      const actor = `account:${signedIn.accountId}`;
      if (signedIn.acr !== LOA_2) {
        await refuse(ctx, 403, 'level_2_required', 'administrators sign in at level 2 (with a second factor)', actor, `signed in at ${JSON.stringify(signedIn.acr)}`);
        return;
      }
      const roles = await deps.rolesOf(signedIn.accountId);
      if (roles.size === 0) {
        await refuse(ctx, 403, 'forbidden', 'this account holds no administrator role', actor, 'no administrator role');
        return;
      }
      const id = await deps.sessions.create({
        accountId: signedIn.accountId,
        acr: signedIn.acr,
        authTime: signedIn.authTime,
        idToken: signedIn.idToken,
        createdAt: Math.floor(Date.now() / 1000),
        csrf: randomBytes(32).toString('base64url'),
      });
      cookie(ctx, BINDING_COOKIE, null);
      cookie(ctx, ADMIN_SESSION_COOKIE, id);
      cookie(ctx, JUST_SIGNED_IN_COOKIE, '1', { path: '/auth', maxAge: JUST_SIGNED_IN_MS });
      await deps.audit.record({ type: 'admin.action', actor, accountId: signedIn.accountId, data: { action: 'admin.signed_in', roles: [...roles].sort() } });
      // Into the web console (src/admin/console/); programs read the session at /auth/session.
      ctx.redirect('/console/');
      return;
    }))
    .middleware();
}
