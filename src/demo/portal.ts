// The demo relying party: a public-service portal that signs citizens in with the national eID.
// It is the reference integration a portal developer copies — everything a real portal needs and
// nothing else: authorization code flow with PKCE, state and nonce, the ID token's claims, userinfo,
// and RP-initiated logout. Built on the `openid-client` library, as a portal would be.
import { randomBytes } from 'node:crypto';
import Koa from 'koa';
import * as oidc from 'openid-client';
import { claimsList, demoPage, escape, failureView, pageLanguage, servedStylesheet, type Lang, type PageLook } from './demo-page.ts';

export interface DemoPortalOptions {
  /** The provider's issuer URL. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Where this portal is reached, e.g. http://localhost:4000 (its redirect URI is <baseUrl>/callback). */
  readonly baseUrl: string;
  readonly scope: string;
}

interface PortalSession {
  pending?: { state: string; nonce: string; codeVerifier: string };
  signedIn?: { idToken: string; idTokenClaims: Record<string, unknown>; userinfo: Record<string, unknown>; actingFor?: Record<string, unknown>[] };
}

const TEXT = {
  title: { vi: 'Cổng dịch vụ công (demo)', en: 'Public service portal (demo)' },
  signIn: { vi: 'Đăng nhập bằng định danh điện tử quốc gia', en: 'Sign in with national eID' },
  signOut: { vi: 'Đăng xuất', en: 'Sign out' },
  welcome: { vi: 'Xin chào', en: 'Welcome' },
  idToken: { vi: 'Thông tin trong ID token', en: 'ID token claims' },
  userinfo: { vi: 'Thông tin từ userinfo', en: 'Userinfo' },
  intro: {
    vi: 'Đây là một dịch vụ công mẫu: nó đăng nhập công dân bằng định danh điện tử quốc gia rồi hiển thị những gì nhận được.',
    en: 'This is a sample public service: it signs citizens in with the national eID and shows what it receives.',
  },
  demoCitizen: {
    vi: 'Hãy đăng nhập bằng một công dân mẫu, ví dụ số định danh <code>079185000123</code>, mật khẩu <code>Bich#Demo2026</code>.',
    en: 'Sign in as a demo citizen, e.g. ID number <code>079185000123</code>, password <code>Bich#Demo2026</code>.',
  },
  howItWorks: { vi: 'Các bước', en: 'What happens' },
  steps: {
    vi: [
      'Cổng chuyển trình duyệt tới nhà cung cấp định danh: luồng mã ủy quyền, kèm PKCE, <code>state</code> và <code>nonce</code>.',
      'Công dân đăng nhập ở nhà cung cấp và đồng ý chia sẻ thông tin.',
      'Nhà cung cấp gửi mã ủy quyền về <code>/callback</code>.',
      'Cổng đổi mã lấy token, kiểm tra ID token, rồi gọi userinfo.',
    ],
    en: [
      'The portal sends the browser to the identity provider: the authorization code flow, with PKCE, <code>state</code> and <code>nonce</code>.',
      'The citizen signs in at the provider and agrees to share.',
      'The provider sends an authorization code back to <code>/callback</code>.',
      'The portal exchanges the code for tokens, checks the ID token, then calls userinfo.',
    ],
  },
  signInForOthers: { vi: 'Đăng nhập thay mặt tổ chức hoặc trẻ em', en: 'Sign in for an organisation or a child' },
  othersHint: {
    vi: 'Ví dụ <code>001099012345</code> (Nguyễn Văn An, mật khẩu <code>An#Demo2026</code>): người đại diện của công ty mẫu 0109999999 và cha của Nguyễn Minh Châu.',
    en: 'E.g. <code>001099012345</code> (Nguyễn Văn An, password <code>An#Demo2026</code>): the demo company 0109999999’s representative and Nguyễn Minh Châu’s father.',
  },
  actingFor: { vi: 'Thay mặt (authorization_details)', en: 'Acting for (authorization_details)' },
  failed: { vi: 'Đăng nhập không thành công', en: 'Sign-in did not complete' },
  back: { vi: 'Quay lại trang chủ', en: 'Back to the start page' },
  other: { vi: 'English', en: 'Tiếng Việt' },
} as const;

const LOOK: PageLook = { app: 'portal', title: TEXT.title, other: TEXT.other };
const page = (lang: Lang, body: string) => demoPage(LOOK, lang, body);

export function createDemoPortal(options: DemoPortalOptions): Koa {
  const app = new Koa();
  const sessions = new Map<string, PortalSession>();
  const redirectUri = `${options.baseUrl}/callback`;
  let configuration: Promise<oidc.Configuration> | undefined;

  // Discovery on first use (the provider may start after the portal); http is allowed only because
  // the demo runs on loopback — a real portal talks to an https issuer.
  const provider = () => {
    configuration ??= oidc
      .discovery(new URL(options.issuer), options.clientId, undefined, oidc.ClientSecretBasic(options.clientSecret), {
        execute: new URL(options.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };

  app.use(async (ctx) => {
    if (servedStylesheet(ctx)) return;
    const lang = pageLanguage(ctx, 'demo_lang');
    let sid = ctx.cookies.get('demo_portal_sid');
    if (!sid || !sessions.has(sid)) {
      sid = randomBytes(16).toString('base64url');
      sessions.set(sid, {});
      ctx.cookies.set('demo_portal_sid', sid, { httpOnly: true, sameSite: 'lax' });
    }
    const session = sessions.get(sid)!;
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';

    if (ctx.method === 'GET' && ctx.path === '/') {
      const signedIn = session.signedIn;
      ctx.body = signedIn
        ? page(
            lang,
            `<p>${TEXT.welcome[lang]}, <strong>${escape(signedIn.userinfo.name ?? signedIn.idTokenClaims.sub)}</strong></p>
<div class="actions"><form method="post" action="/logout"><button class="button" type="submit">${TEXT.signOut[lang]}</button></form></div>
${(signedIn.actingFor ?? []).map((detail) => `<h2>${TEXT.actingFor[lang]}</h2>${claimsList(lang, { ...(detail.party as Record<string, unknown>), ...(Array.isArray(detail.roles) && { roles: detail.roles.join(', ') }) })}`).join('')}
<h2>${TEXT.idToken[lang]}</h2>${claimsList(lang, signedIn.idTokenClaims)}
<h2>${TEXT.userinfo[lang]}</h2>${claimsList(lang, signedIn.userinfo)}`,
          )
        : page(
            lang,
            `<p>${TEXT.intro[lang]}</p><p class="hint">${TEXT.demoCitizen[lang]}</p>
<div class="actions"><a class="button" href="/login">${TEXT.signIn[lang]}</a></div>
<div class="actions"><a class="button" id="for-others" href="/login?for=others">${TEXT.signInForOthers[lang]}</a></div><p class="hint">${TEXT.othersHint[lang]}</p>
<h2>${TEXT.howItWorks[lang]}</h2><ol>${TEXT.steps[lang].map((step) => `<li>${step}</li>`).join('')}</ol>`,
          );
      return;
    }

    if (ctx.method === 'GET' && ctx.path === '/login') {
      const config = await provider();
      const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
      session.pending = pending;
      // Acting for others (docs/representation.md): an organisation (for tax matters) or a child under 14.
      const forOthers = ctx.query.for === 'others';
      ctx.redirect(
        oidc.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: options.scope,
          state: pending.state,
          nonce: pending.nonce,
          code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
          code_challenge_method: 'S256',
          ui_locales: lang,
          ...(forOthers && {
            authorization_details: JSON.stringify([{ type: 'urn:vn:eid:representation', party_kinds: ['organisation', 'child'], roles: ['tax'] }]),
          }),
        }).href,
      );
      return;
    }

    if (ctx.method === 'GET' && ctx.path === '/callback') {
      const pending = session.pending;
      session.pending = undefined;
      try {
        if (!pending) throw new Error('no sign-in was started from this browser');
        const config = await provider();
        // Build the URL from our own base, never from the Host header.
        const tokens = await oidc.authorizationCodeGrant(config, new URL(ctx.originalUrl, options.baseUrl), {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const idTokenClaims = tokens.claims()!;
        const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idTokenClaims.sub);
        // Whom the citizen acts for, if the portal asked: the token response's authorization_details, the
        // same as the ID token's. A portal checks the type and the party before acting on it.
        const actingFor = (tokens.authorization_details ?? []).filter((detail) => detail.type === 'urn:vn:eid:representation') as unknown as Record<string, unknown>[];
        session.signedIn = { idToken: tokens.id_token!, idTokenClaims: { ...idTokenClaims }, userinfo: { ...userinfo }, ...(actingFor.length > 0 && { actingFor }) };
        ctx.redirect('/');
      } catch (error) {
        const failure =
          error instanceof oidc.AuthorizationResponseError ? { code: error.error, text: error.error } : { text: error instanceof Error ? error.message : 'error' };
        ctx.status = 400;
        ctx.body = page(lang, `${failureView(lang, TEXT.failed, failure)}<p><a href="/">${TEXT.back[lang]}</a></p>`);
      }
      return;
    }

    if (ctx.method === 'POST' && ctx.path === '/logout') {
      const signedIn = session.signedIn;
      sessions.delete(sid);
      if (!signedIn) {
        ctx.redirect('/');
        return;
      }
      const config = await provider();
      ctx.redirect(
        oidc.buildEndSessionUrl(config, { id_token_hint: signedIn.idToken, post_logout_redirect_uri: `${options.baseUrl}/` }).href,
      );
      return;
    }

    ctx.status = 404;
    ctx.body = page(lang, `<p><a href="/">${TEXT.back[lang]}</a></p>`);
  });
  return app;
}
