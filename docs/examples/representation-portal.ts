// A portal acting for an organisation or a child, with openid-client (docs/representation.md "For
// portals: asking to act for someone"). Runnable against the quickstart:
//
//   node docs/examples/representation-portal.ts            # issuer http://localhost:3000, demo-portal
//
// It prints an authorization URL; open it, sign in as Nguyễn Văn An (001099012345, An#Demo2026), agree,
// choose the company or Châu, and the script prints whom the citizen acts for. A test runs the same
// functions (test/docs/representation-example.test.ts), so this file cannot drift from the provider.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';

export const REPRESENTATION_TYPE = 'urn:vn:eid:representation';

/** What the portal asks for: kinds of party and, for organisations, the roles it needs. */
export interface RepresentationAsk {
  readonly party_kinds: readonly ('organisation' | 'child')[];
  readonly roles?: readonly string[];
}

/** Whom the citizen acts for, as checked below. */
export type ActingFor =
  | { readonly kind: 'organisation'; readonly enterpriseCode: string; readonly name: string; readonly roles: readonly string[] }
  | { readonly kind: 'child'; readonly sub: string; readonly name: string; readonly birthdate: string; readonly nationalId?: string };

export interface Pending {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly ask: RepresentationAsk;
}

export function discover(issuer: string, clientId: string, clientSecret: string): Promise<oidc.Configuration> {
  // http only for a loopback issuer in development; a real portal talks to an https issuer.
  const insecure = new URL(issuer).protocol === 'http:';
  return oidc.discovery(new URL(issuer), clientId, undefined, oidc.ClientSecretBasic(clientSecret), insecure ? { execute: [oidc.allowInsecureRequests] } : undefined);
}

/** 1. The authorization request: the usual code flow with PKCE, plus `authorization_details`. */
export async function startSignIn(config: oidc.Configuration, redirectUri: string, ask: RepresentationAsk): Promise<{ url: URL; pending: Pending }> {
  const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier(), ask };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    // offline_access: a refresh token, with which the portal learns when the right ends (4. below).
    scope: 'openid profile offline_access',
    // OpenID Connect Core 11: offline_access is granted only with prompt=consent.
    prompt: 'consent',
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
    code_challenge_method: 'S256',
    authorization_details: JSON.stringify([{ type: REPRESENTATION_TYPE, ...ask }]),
  });
  return { url, pending };
}

/**
 * 2. The callback: redeem the code, then check what came back before acting on it. An error such as
 * access_denied (the citizen represents no one, or cancelled) throws here: no token, no session.
 */
export async function finishSignIn(config: oidc.Configuration, callback: URL, pending: Pending): Promise<{ sub: string; actingFor: ActingFor; refreshToken: string | undefined }> {
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: pending.codeVerifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims()!;
  return { sub: claims.sub, actingFor: checkRepresentation(tokens.authorization_details, claims.authorization_details, pending.ask), refreshToken: tokens.refresh_token };
}

/** 3. What to check: one entry of our type, a party of a kind asked for, every role asked, the same in the ID token. */
export function checkRepresentation(fromTokenResponse: unknown, fromIdToken: unknown, ask: RepresentationAsk): ActingFor {
  const entries = (Array.isArray(fromTokenResponse) ? fromTokenResponse : []).filter((entry: { type?: unknown }) => entry.type === REPRESENTATION_TYPE);
  if (entries.length !== 1) throw new Error(`expected one ${REPRESENTATION_TYPE} entry, got ${entries.length}`);
  if (JSON.stringify(fromIdToken) !== JSON.stringify(fromTokenResponse)) throw new Error('the ID token and the token response disagree');
  const entry = entries[0] as { party?: Record<string, unknown>; roles?: unknown };
  const party = entry.party ?? {};
  if (party.kind === 'organisation' && ask.party_kinds.includes('organisation')) {
    const roles = Array.isArray(entry.roles) ? entry.roles.filter((role): role is string => typeof role === 'string') : [];
    const missing = (ask.roles ?? []).filter((role) => !roles.includes(role));
    if (missing.length > 0) throw new Error(`roles not granted: ${missing.join(', ')}`);
    return { kind: 'organisation', enterpriseCode: String(party.enterprise_code), name: String(party.name), roles };
  }
  if (party.kind === 'child' && ask.party_kinds.includes('child')) {
    // `sub` is the child's subject at this portal (not the ID number); the ID number comes only to a
    // portal approved for the national_id scope.
    return {
      kind: 'child',
      sub: String(party.sub),
      name: String(party.name),
      birthdate: String(party.birthdate),
      ...(typeof party.national_id === 'string' && { nationalId: party.national_id }),
    };
  }
  throw new Error(`a party of a kind not asked for: ${String(party.kind)}`);
}

/** 4. Later: a refresh is checked against the registers again; invalid_grant means the right has ended. */
export async function stillActing(config: oidc.Configuration, refreshToken: string): Promise<boolean> {
  try {
    await oidc.refreshTokenGrant(config, refreshToken);
    return true;
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') return false;
    throw error;
  }
}

async function main(): Promise<void> {
  const issuer = process.env.ISSUER ?? 'http://localhost:3000';
  const redirectUri = process.env.REDIRECT_URI ?? 'http://localhost:4000/callback';
  const config = await discover(issuer, process.env.CLIENT_ID ?? 'demo-portal', process.env.CLIENT_SECRET ?? 'demo-portal-secret');
  const { url, pending } = await startSignIn(config, redirectUri, { party_kinds: ['organisation', 'child'], roles: ['tax'] });
  const callbackUrl = new URL(redirectUri);
  const server = createServer((request, response) => {
    const callback = new URL(request.url ?? '/', redirectUri);
    if (callback.pathname !== callbackUrl.pathname) {
      response.writeHead(404).end();
      return;
    }
    finishSignIn(config, callback, pending).then(
      ({ sub, actingFor }) => {
        console.log(`signed in: sub ${sub}, acting for`, actingFor);
        response.end('Signed in; see the terminal.');
        server.close();
      },
      (error: unknown) => {
        console.error('sign-in failed:', error instanceof Error ? error.message : error);
        response.writeHead(400).end('Sign-in failed; see the terminal.');
        server.close();
      },
    );
  });
  server.listen(Number(callbackUrl.port), callbackUrl.hostname, () => console.log(`open this in a browser:\n${url.href}`));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
