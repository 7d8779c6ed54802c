// The demo bank: a relying party of the bank profile (FAPI 2.0) that shows its whole flow step by step —
// the pushed authorization request, the browser's redirect, the token request with its DPoP proof and
// client assertion, and userinfo with a DPoP-bound token. It is the reference a bank developer copies:
// `openid-client` with private_key_jwt, PAR, PKCE and DPoP, nothing else. Every exchange with the
// provider is recorded (through openid-client's customFetch) and shown, JWTs decoded.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import Koa from 'koa';
import * as oidc from 'openid-client';
import { claimsList, demoPage, escape, failureView, pageLanguage, servedStylesheet, type Lang, type PageLook } from './demo-page.ts';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';

export interface DemoBankOptions {
  /** The provider's issuer URL. */
  readonly issuer: string;
  readonly clientId: string;
  /** The bank's private signing key (a JWK with kid): client assertions are signed with it. */
  readonly privateJwk: JWK;
  /** Where the bank is reached, e.g. http://127.0.0.1:4003 (its redirect URI is <baseUrl>/callback). */
  readonly baseUrl: string;
  readonly scope: string;
  /**
   * Reads a card's chip: in the quickstart, a test chip of a demo citizen (src/chip/test-chip.ts) stands
   * in for the bank's app reading the card over NFC. Without it the chip step is not offered.
   */
  readonly readChip?: (nationalId: string) => Promise<{ sod: Buffer; dg1: Buffer; dg2: Buffer; dg13: Buffer }>;
}

/** The demo citizens whose test chips the chip step offers: a valid card, an expired one, a deceased holder's. */
const CHIP_CARDS = [
  { id: '048203000777', label: { vi: 'Lê Minh Khoa — thẻ còn hạn', en: 'Lê Minh Khoa — a valid card' } },
  { id: '001099012345', label: { vi: 'Nguyễn Văn An — thẻ đã hết hạn (2024)', en: 'Nguyễn Văn An — an expired card (2024)' } },
  { id: '036080001111', label: { vi: 'Đỗ Văn Tùng — người đã mất', en: 'Đỗ Văn Tùng — deceased' } },
] as const;

/** The chip-verification API's resource indicator and scope (docs/integrating-a-bank.md "Verifying a chip card"). */
const CHIP_RESOURCE = 'urn:vn:eid:chip-verification';
const CHIP_SCOPE = 'chip_verification';

/** One request to the provider and its answer, as shown on the page. */
interface Exchange {
  readonly request: { readonly method: string; readonly url: string; readonly headers: Record<string, string>; readonly body?: Record<string, string> };
  readonly response: { readonly status: number; readonly headers: Record<string, string>; readonly body: string };
}

interface Step {
  readonly title: keyof typeof STEP_TITLES;
  readonly exchanges: Exchange[];
  readonly note?: Record<string, unknown>;
}

interface BankSession {
  /** The DPoP handle keeps the key and the provider's latest nonce for the token and userinfo requests. */
  pending?: { state: string; nonce: string; codeVerifier: string; dpop: oidc.DPoPHandle };
  steps: Step[];
  verified?: { idTokenClaims: Record<string, unknown>; userinfo: Record<string, unknown> };
  /** Why the last verification failed: the protocol's error code, if it was one, and the error as shown. */
  error?: { code?: string; text: string };
  /** The chip step: its own steps, the signed result's claims (signature checked), or why it failed. */
  chip?: { card: string; steps: Step[]; result?: Record<string, unknown>; error?: { code?: string; text: string } };
}

const TEXT = {
  title: { vi: 'Ngân hàng (demo) — FAPI 2.0', en: 'Bank (demo) — FAPI 2.0' },
  start: { vi: 'Xác minh khách hàng bằng định danh điện tử', en: 'Verify the customer with the national eID' },
  again: { vi: 'Bắt đầu lại', en: 'Start again' },
  intro: {
    vi: 'Ngân hàng mẫu này xác minh khách hàng theo hồ sơ bảo mật FAPI 2.0: yêu cầu được đẩy trước (PAR), PKCE, xác thực bằng khóa riêng (private_key_jwt) và token gắn với khóa DPoP.',
    en: 'This sample bank verifies a customer under the FAPI 2.0 Security Profile: pushed authorization requests (PAR), PKCE, private_key_jwt client authentication and DPoP-bound tokens.',
  },
  demoCitizen: {
    vi: 'Mặc định cần mức 2: hãy dùng công dân mẫu <code>001099012345</code>, mật khẩu <code>An#Demo2026</code> và mã TOTP từ khóa <code>JBSWY3DPEHPK3PXP</code>.',
    en: 'Level 2 is required by default: use demo citizen <code>001099012345</code>, password <code>An#Demo2026</code> and a TOTP code from the secret <code>JBSWY3DPEHPK3PXP</code>.',
  },
  verified: { vi: 'Khách hàng đã được xác minh', en: 'Customer verified' },
  verifiedNote: {
    vi: 'Nhà cung cấp định danh đã xác nhận danh tính khách hàng. Bên dưới là những gì ngân hàng nhận được, rồi từng bước đã diễn ra.',
    en: 'The identity provider has confirmed who the customer is. Below: what the bank received, then each step as it happened.',
  },
  idToken: { vi: 'ID token (đã kiểm tra chữ ký)', en: 'ID token (signature checked)' },
  userinfo: { vi: 'Userinfo (gọi bằng token DPoP)', en: 'Userinfo (called with the DPoP token)' },
  steps: { vi: 'Từng bước', en: 'Step by step' },
  request: { vi: 'Yêu cầu', en: 'Request' },
  response: { vi: 'Trả lời', en: 'Response' },
  decoded: { vi: 'Giải mã', en: 'Decoded' },
  failed: { vi: 'Xác minh không thành công', en: 'Verification did not complete' },
  chipTitle: { vi: 'Xác minh chip trên thẻ căn cước', en: 'Verify a chip card' },
  chipIntro: {
    vi: 'Ứng dụng của ngân hàng đọc chip của thẻ qua NFC (ở đây: một chip thử nghiệm của công dân mẫu) và gửi EF.SOD, DG1, DG2, DG13 tới nhà cung cấp, nơi kiểm tra chữ ký của cơ quan cấp thẻ (xác thực thụ động ICAO 9303) và đối chiếu với cơ sở dữ liệu dân cư.',
    en: "The bank's app reads the card's chip over NFC (here: a test chip of a demo citizen) and sends EF.SOD, DG1, DG2 and DG13 to the provider, which checks the issuing authority's signature (ICAO 9303 passive authentication) and compares it with the population registry.",
  },
  chipCard: { vi: 'Thẻ', en: 'Card' },
  chipVerify: { vi: 'Xác minh chip', en: 'Verify the chip' },
  chipVerified: { vi: 'Chip hợp lệ: thẻ thật, còn hiệu lực, đúng người', en: 'Chip verified: a genuine, current card of this person' },
  chipRefused: { vi: 'Chip bị từ chối', en: 'Chip refused' },
  chipChecks: { vi: 'Các bước kiểm tra', en: 'Checks' },
  chipSigned: { vi: 'Kết quả đã ký (chữ ký đã kiểm tra với /jwks)', en: 'The signed result (signature checked against /jwks)' },
  chipFailed: { vi: 'Không xác minh được chip', en: 'The chip could not be verified' },
  passed: { vi: 'đạt', en: 'passed' },
  notPassed: { vi: 'không đạt', en: 'failed' },
  other: { vi: 'English', en: 'Tiếng Việt' },
} as const;

const STEP_TITLES = {
  par: { vi: '1. Yêu cầu ủy quyền được đẩy trước (PAR) — kèm bằng chứng DPoP', en: '1. Pushed authorization request (PAR) — with a DPoP proof' },
  redirect: { vi: '2. Chuyển trình duyệt tới nhà cung cấp định danh', en: '2. The browser is sent to the identity provider' },
  callback: { vi: '3. Trình duyệt quay lại với mã ủy quyền', en: '3. The browser comes back with the authorization code' },
  token: { vi: '4. Đổi mã lấy token — private_key_jwt và bằng chứng DPoP', en: '4. Code for tokens — private_key_jwt and a DPoP proof' },
  userinfo: { vi: '5. Userinfo với token gắn DPoP', en: '5. Userinfo with the DPoP-bound token' },
  chipRead: { vi: '1. Đọc chip của thẻ (NFC)', en: "1. The card's chip is read (NFC)" },
  chipToken: {
    vi: '2. Token client_credentials — private_key_jwt, bằng chứng DPoP, resource urn:vn:eid:chip-verification',
    en: '2. A client_credentials token — private_key_jwt, a DPoP proof, resource urn:vn:eid:chip-verification',
  },
  chipPost: { vi: '3. POST /chip/verifications với token gắn DPoP', en: '3. POST /chip/verifications with the DPoP-bound token' },
} as const;

const LOOK: PageLook = { app: 'bank', title: TEXT.title, other: TEXT.other };
const page = (lang: Lang, body: string) => demoPage(LOOK, lang, body);

/** A compact JWT's header and claims, for display. */
function decoded(jwt: string): string {
  try {
    return JSON.stringify({ header: decodeProtectedHeader(jwt), claims: decodeJwt(jwt) }, null, 2);
  } catch {
    return '(not a signed JWT)';
  }
}

const JWT_FIELDS = new Set(['client_assertion', 'request', 'id_token', 'dpop', 'verification']);
const SHORTENED = new Set(['access_token', 'refresh_token', 'code_verifier', 'authorization', 'sod', 'dg1', 'dg2', 'dg13']);

/** A token's first characters only: the page shows the flow, not credentials to copy. */
const shorten = (value: string) => (value.length > 24 ? `${value.slice(0, 16)}…(${value.length})` : value);

function fieldsTable(lang: Lang, fields: Record<string, string>): string {
  const rows = Object.entries(fields).map(([name, value]) => {
    const shown = SHORTENED.has(name) ? shorten(value) : value;
    const jwt = JWT_FIELDS.has(name) ? `<details><summary>${TEXT.decoded[lang]}</summary><pre>${escape(decoded(value))}</pre></details>` : '';
    return `<tr><th>${escape(name)}</th><td><code>${escape(JWT_FIELDS.has(name) ? shorten(value) : shown)}</code>${jwt}</td></tr>`;
  });
  return `<table class="fields">${rows.join('')}</table>`;
}

function responseBody(lang: Lang, body: string): string {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const flat = Object.fromEntries(Object.entries(parsed).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]));
    return fieldsTable(lang, flat);
  } catch {
    return `<pre>${escape(body)}</pre>`;
  }
}

function exchangeView(lang: Lang, exchange: Exchange): string {
  const { request, response } = exchange;
  return `<h4>${TEXT.request[lang]}: <code>${escape(request.method)} ${escape(request.url)}</code></h4>
${fieldsTable(lang, request.headers)}${request.body ? fieldsTable(lang, request.body) : ''}
<h4>${TEXT.response[lang]}: <code>${response.status}</code></h4>
${Object.keys(response.headers).length ? fieldsTable(lang, response.headers) : ''}${responseBody(lang, response.body)}`;
}

function stepsView(lang: Lang, steps: readonly Step[]): string {
  if (steps.length === 0) return '';
  const sections = steps.map(
    (step) =>
      `<section class="step"><h3>${STEP_TITLES[step.title][lang]}</h3>${step.note ? fieldsTable(lang, Object.fromEntries(Object.entries(step.note).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]))) : ''}${step.exchanges.map((exchange) => exchangeView(lang, exchange)).join('')}</section>`,
  );
  return `<h2>${TEXT.steps[lang]}</h2>${sections.join('')}`;
}

/** A JSON request body's fields as text (the chip read's base64 data groups), for display. */
function jsonFields(body: string): Record<string, string> | undefined {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]));
  } catch {
    return undefined;
  }
}

/** The chip step's form and, once run, its result and steps. */
function chipView(lang: Lang, chip: BankSession['chip']): string {
  const options = CHIP_CARDS.map((card) => `<option value="${card.id}"${chip?.card === card.id ? ' selected' : ''}>${escape(card.id)} — ${escape(card.label[lang])}</option>`).join('');
  const form = `<form method="post" action="/chip"><label for="chip-card">${TEXT.chipCard[lang]}</label> <select id="chip-card" name="card">${options}</select> <button type="submit">${TEXT.chipVerify[lang]}</button></form>`;
  let outcome = '';
  if (chip?.error) outcome = failureView(lang, TEXT.chipFailed, chip.error);
  else if (chip?.result) {
    const claims = chip.result;
    const checks = Array.isArray(claims.checks) ? (claims.checks as { check: string; passed: boolean }[]) : [];
    const verified = claims.result === 'verified';
    outcome = `<h3 data-chip-result="${verified ? 'verified' : 'refused'}">${verified ? TEXT.chipVerified[lang] : TEXT.chipRefused[lang]}</h3>
${verified ? `<p role="status">${escape(String(claims.national_id))}</p>` : `<p role="alert">${TEXT.chipRefused[lang]}: ${escape(checks.filter((check) => !check.passed).map((check) => check.check).join(', '))}</p>`}
<h4>${TEXT.chipChecks[lang]}</h4><ul class="checks">${checks.map((check) => `<li data-check="${escape(check.check)}" data-passed="${check.passed}"><code>${escape(check.check)}</code> — ${check.passed ? TEXT.passed[lang] : TEXT.notPassed[lang]}</li>`).join('')}</ul>
<h4>${TEXT.chipSigned[lang]}</h4>${claimsList(lang, claims)}`;
  }
  return `<section class="chip" aria-labelledby="chip-title"><h2 id="chip-title">${TEXT.chipTitle[lang]}</h2><p>${TEXT.chipIntro[lang]}</p>${form}${outcome}${chip ? stepsView(lang, chip.steps) : ''}</section>`;
}

/** A posted form's fields (url-encoded, at most 4 kB: the chip step's one field). */
async function formOf(ctx: Koa.Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) return new URLSearchParams();
  let text = '';
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 4096) return new URLSearchParams();
  }
  return new URLSearchParams(text);
}

/** Headers worth showing: the DPoP proof, the nonce, the authorization scheme, the content type. */
function shownHeaders(headers: Headers | Record<string, string>): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return Object.fromEntries(entries.filter(([name]) => ['dpop', 'dpop-nonce', 'authorization', 'www-authenticate', 'content-type'].includes(name.toLowerCase())).map(([name, value]) => [name.toLowerCase(), value]));
}

export function createDemoBank(options: DemoBankOptions): Koa {
  const app = new Koa();
  const sessions = new Map<string, BankSession>();
  const redirectUri = `${options.baseUrl}/callback`;
  /** The exchanges of the step in progress (one request handler at a time per step). */
  const recording = new AsyncLocalStorage<Exchange[]>();
  let configuration: Promise<oidc.Configuration> | undefined;
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  // Records each exchange of the step in progress, then hands the answer back untouched.
  const recordingFetch: oidc.CustomFetch = async (url, init) => {
    const response = await fetch(url, init);
    const log = recording.getStore();
    if (log) {
      const body = init.body instanceof URLSearchParams ? Object.fromEntries(init.body.entries()) : typeof init.body === 'string' ? jsonFields(init.body) : undefined;
      log.push({
        request: { method: init.method, url, headers: shownHeaders(init.headers), ...(body && { body }) },
        response: { status: response.status, headers: shownHeaders(response.headers), body: await response.clone().text() },
      });
    }
    return response;
  };

  // Discovery on first use (the provider may start after the bank); http only because the demo runs
  // on loopback — a real bank talks to an https issuer.
  const provider = () => {
    configuration ??= (async () => {
      const key = (await importJWK(options.privateJwk, options.privateJwk.alg)) as CryptoKey;
      const config = await oidc.discovery(
        new URL(options.issuer),
        options.clientId,
        undefined,
        oidc.PrivateKeyJwt({ key, kid: String(options.privateJwk.kid) }),
        { execute: new URL(options.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [] },
      );
      config[oidc.customFetch] = recordingFetch;
      return config;
    })().catch((error: unknown) => {
      configuration = undefined;
      throw error;
    });
    return configuration;
  };

  /** Runs one step, recording what it sends and receives into the session. */
  async function step<T>(session: { steps: Step[] }, title: Step['title'], work: () => Promise<T>, note?: Record<string, unknown>): Promise<T> {
    const exchanges: Exchange[] = [];
    session.steps.push({ title, exchanges, ...(note && { note }) });
    return recording.run(exchanges, work);
  }

  app.use(async (ctx) => {
    if (servedStylesheet(ctx)) return;
    const lang = pageLanguage(ctx, 'demo_bank_lang');
    let sid = ctx.cookies.get('demo_bank_sid');
    if (!sid || !sessions.has(sid)) {
      sid = randomBytes(16).toString('base64url');
      sessions.set(sid, { steps: [] });
      ctx.cookies.set('demo_bank_sid', sid, { httpOnly: true, sameSite: 'lax' });
    }
    const session = sessions.get(sid)!;
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';

    if (ctx.method === 'GET' && ctx.path === '/') {
      const outcome = session.verified
        ? `<h2>${TEXT.verified[lang]}</h2><p role="status">${TEXT.verifiedNote[lang]}</p><h3>${TEXT.idToken[lang]}</h3>${claimsList(lang, session.verified.idTokenClaims)}<h3>${TEXT.userinfo[lang]}</h3>${claimsList(lang, session.verified.userinfo)}`
        : session.error
          ? failureView(lang, TEXT.failed, session.error)
          : '';
      ctx.body = page(
        lang,
        `<p>${TEXT.intro[lang]}</p><p class="hint">${TEXT.demoCitizen[lang]}</p><div class="actions"><a class="button" href="/login">${session.steps.length ? TEXT.again[lang] : TEXT.start[lang]}</a></div>${outcome}${stepsView(lang, session.steps)}${options.readChip ? chipView(lang, session.chip) : ''}`,
      );
      return;
    }

    // The chip step (docs/integrating-a-bank.md "Verifying a chip card"): read the card, get a
    // DPoP-bound client_credentials token for the chip API, post the chip read, check the signed result.
    if (ctx.method === 'POST' && ctx.path === '/chip' && options.readChip) {
      const card = (await formOf(ctx)).get('card') ?? '';
      const chip: NonNullable<BankSession['chip']> = { card, steps: [] };
      session.chip = chip;
      try {
        if (!CHIP_CARDS.some((known) => known.id === card)) throw new Error('choose one of the demo cards');
        const read = await options.readChip(card);
        const body = { sod: read.sod.toString('base64'), dg1: read.dg1.toString('base64'), dg2: read.dg2.toString('base64'), dg13: read.dg13.toString('base64') };
        chip.steps.push({ title: 'chipRead', exchanges: [], note: { card, 'EF.SOD': `${read.sod.length} bytes`, DG1: `${read.dg1.length} bytes`, DG2: `${read.dg2.length} bytes`, DG13: `${read.dg13.length} bytes` } });
        const config = await provider();
        // A DPoP key for this token: the chip API accepts it only with proofs of this key.
        const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
        const tokens = await step(chip, 'chipToken', () => oidc.clientCredentialsGrant(config, { scope: CHIP_SCOPE, resource: CHIP_RESOURCE }, { DPoP: dpop }));
        const url = new URL('/chip/verifications', options.issuer);
        const answer = await step(chip, 'chipPost', () =>
          oidc.fetchProtectedResource(config, tokens.access_token, url, 'POST', JSON.stringify(body), new Headers({ 'content-type': 'application/json' }), { DPoP: dpop }),
        );
        const answered = (await answer.json()) as { verification?: unknown; error_description?: unknown };
        if (answer.status !== 200 || typeof answered.verification !== 'string') throw new Error(`HTTP ${answer.status}: ${typeof answered.error_description === 'string' ? answered.error_description : ''}`);
        // The bank keeps the JWT as evidence, having checked it with the provider's published keys.
        jwks ??= createRemoteJWKSet(new URL('/jwks', options.issuer));
        const { payload } = await jwtVerify(answered.verification, jwks, { issuer: options.issuer, audience: options.clientId, typ: 'chip-verification+jwt' });
        chip.result = { ...payload };
      } catch (error) {
        chip.error =
          error instanceof oidc.ResponseBodyError
            ? { code: error.error, text: `${error.error}: ${error.error_description ?? ''}` }
            : { text: error instanceof Error ? error.message : 'error' };
      }
      ctx.redirect('/#chip-title');
      return;
    }

    if (ctx.method === 'GET' && ctx.path === '/login') {
      session.steps = [];
      session.verified = undefined;
      session.error = undefined;
      try {
        const config = await provider();
        // A fresh DPoP key for this sign-in: the tokens will be bound to it (RFC 9449).
        const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
        const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier(), dpop };
        session.pending = pending;
        const codeChallenge = await oidc.calculatePKCECodeChallenge(pending.codeVerifier);
        const url = await step(session, 'par', () =>
          oidc.buildAuthorizationUrlWithPAR(
            config,
            {
              redirect_uri: redirectUri,
              scope: options.scope,
              state: pending.state,
              nonce: pending.nonce,
              code_challenge: codeChallenge,
              code_challenge_method: 'S256',
              ui_locales: lang,
            },
            { DPoP: dpop },
          ),
        );
        session.steps.push({ title: 'redirect', exchanges: [], note: { location: url.href } });
        ctx.redirect(url.href);
      } catch (error) {
        session.error =
          error instanceof oidc.ResponseBodyError
            ? { code: error.error, text: `${error.error}: ${error.error_description ?? ''}` }
            : { text: error instanceof Error ? error.message : 'error' };
        ctx.redirect('/');
      }
      return;
    }

    if (ctx.method === 'GET' && ctx.path === '/callback') {
      const pending = session.pending;
      session.pending = undefined;
      try {
        if (!pending) throw new Error('no verification was started from this browser');
        const config = await provider();
        // Built from our own base, never from the Host header.
        const callback = new URL(ctx.originalUrl, options.baseUrl);
        session.steps.push({ title: 'callback', exchanges: [], note: Object.fromEntries(callback.searchParams.entries()) });
        const { dpop } = pending;
        const tokens = await step(session, 'token', () =>
          oidc.authorizationCodeGrant(
            config,
            callback,
            { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
            undefined,
            { DPoP: dpop },
          ),
        );
        const idTokenClaims = tokens.claims()!;
        const userinfo = await step(session, 'userinfo', () => oidc.fetchUserInfo(config, tokens.access_token, idTokenClaims.sub, { DPoP: dpop }));
        session.verified = { idTokenClaims: { ...idTokenClaims }, userinfo: { ...userinfo } };
      } catch (error) {
        session.error =
          error instanceof oidc.AuthorizationResponseError || error instanceof oidc.ResponseBodyError
            ? { code: error.error, text: `${error.error}${error.error_description ? `: ${error.error_description}` : ''}` }
            : { text: error instanceof Error ? error.message : 'error' };
        ctx.status = 400;
        ctx.body = page(lang, `${failureView(lang, TEXT.failed, session.error)}<p><a href="/">${TEXT.again[lang]}</a></p>${stepsView(lang, session.steps)}`);
        return;
      }
      ctx.redirect('/');
      return;
    }

    ctx.status = 404;
    ctx.body = page(lang, `<p><a href="/">${TEXT.again[lang]}</a></p>`);
  });
  return app;
}
