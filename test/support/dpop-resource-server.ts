// A resource server on loopback that holds DPoP-bound access tokens to their key as RFC 9449 §7 asks:
// the token (a JWT checked with jose, or an opaque one introspected) must name a key in `cnf.jkt`,
// arrive under the DPoP scheme, with one valid proof for this very request, signed by that key, never
// seen before. Every refusal is 401 with a WWW-Authenticate challenge and says which check failed.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmbeddedJWK, calculateJwkThumbprint, createRemoteJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import * as client from 'openid-client';

/** What the resource server learnt from a valid access token. */
export interface AccessTokenFacts {
  /** The confirmation key's thumbprint (RFC 9449 §6); absent for a bearer token. */
  readonly jkt?: string;
  readonly sub?: string;
  readonly clientId?: string;
}

/** Validates an access token for this resource server; throws when it is not one. */
export type AccessTokenCheck = (token: string) => Promise<AccessTokenFacts>;

/** A JWT access token (RFC 9068): signature against the provider's JWKS, typ at+jwt, iss and aud. */
export function jwtAccessTokens(issuer: string, audience: () => string): AccessTokenCheck {
  const jwks = createRemoteJWKSet(new URL('/jwks', issuer));
  return async (token) => {
    const { payload } = await jwtVerify(token, jwks, { issuer, audience: audience(), typ: 'at+jwt', algorithms: ['ES256'] });
    return factsOf(payload);
  };
}

/** An opaque access token, introspected (RFC 7662) with the resource server's own credentials. */
export function introspectedAccessTokens(resourceServer: client.Configuration, audience: () => string): AccessTokenCheck {
  return async (token) => {
    const introspection = await client.tokenIntrospection(resourceServer, token);
    if (!introspection.active || introspection.aud !== audience()) throw new Error('the access token is not active for this resource server');
    return factsOf(introspection);
  };
}

function factsOf(claims: JWTPayload): AccessTokenFacts {
  const cnf = claims.cnf as { jkt?: unknown } | undefined;
  return {
    ...(typeof cnf?.jkt === 'string' && { jkt: cnf.jkt }),
    ...(typeof claims.sub === 'string' && { sub: claims.sub }),
    ...(typeof claims.client_id === 'string' && { clientId: claims.client_id }),
  };
}

/** The proof algorithms accepted: FAPI 2.0's asymmetric ones (never `none`, never a MAC). */
export const DPOP_PROOF_ALGORITHMS = ['ES256', 'PS256', 'EdDSA'] as const;
/** How old (by its `iat`) a proof may be, and how far the clocks may disagree. */
const PROOF_MAX_AGE_SECONDS = 60;
const CLOCK_TOLERANCE_SECONDS = 5;

class Refusal extends Error {
  readonly error: 'invalid_token' | 'invalid_dpop_proof' | 'invalid_request';
  constructor(error: Refusal['error'], description: string) {
    super(description);
    this.error = error;
  }
}

export interface DpopResourceServer {
  /** The protected resource's URL; register it as the resource indicator. */
  readonly url: string;
  /** jti values accepted so far (the replay cache's size). */
  readonly seenProofs: () => number;
  close(): Promise<void>;
}

/**
 * Starts the resource server: GET `path` answers { sub, client_id, jkt } to a DPoP-bound token with a
 * valid proof. `check` is set after start, since the URL (the token's audience) is known only then.
 */
export async function startDpopResourceServer(path: string, check: () => AccessTokenCheck): Promise<DpopResourceServer> {
  // jti → the moment it may be forgotten (a proof older than that is refused by its iat anyway).
  // One process, so checking and recording in one synchronous step is atomic; several instances
  // would share it in Redis with one `SET jti … NX PX …`.
  const seen = new Map<string, number>();
  let origin = '';

  async function answer(request: IncomingMessage): Promise<{ status: number; body: unknown; challenge?: string }> {
    const requested = new URL(request.url ?? '/', origin);
    if (requested.pathname !== path) return { status: 404, body: { error: 'not_found' } };
    const [scheme, token, ...rest] = (request.headers.authorization ?? '').split(' ');
    if (!token || rest.length > 0 || !/^(DPoP|Bearer)$/i.test(scheme ?? '')) throw new Refusal('invalid_request', 'no access token');

    let facts: AccessTokenFacts;
    try {
      facts = await check()(token);
    } catch (error) {
      throw new Refusal('invalid_token', `access token: ${(error as Error).message}`);
    }
    if (facts.jkt === undefined) throw new Refusal('invalid_token', 'the access token is not DPoP-bound');
    // §7.2: a DPoP-bound token under the Bearer scheme is refused, proof or not.
    if (!/^DPoP$/i.test(scheme!)) throw new Refusal('invalid_token', 'a DPoP-bound access token presented as a bearer token');

    const proofs = request.headersDistinct.dpop ?? [];
    if (proofs.length !== 1) throw new Refusal('invalid_dpop_proof', proofs.length === 0 ? 'no DPoP proof' : 'more than one DPoP proof');
    const proof = proofs[0]!;

    let claims: JWTPayload;
    let jwk: JWK;
    try {
      // Signature with the embedded public key (EmbeddedJWK refuses a private one), typ, alg, iat age.
      const verified = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: [...DPOP_PROOF_ALGORITHMS],
        maxTokenAge: PROOF_MAX_AGE_SECONDS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
      });
      claims = verified.payload;
      jwk = verified.protectedHeader.jwk!;
    } catch (error) {
      throw new Refusal('invalid_dpop_proof', `DPoP proof: ${(error as Error).message}`);
    }
    if (claims.htm !== request.method) throw new Refusal('invalid_dpop_proof', 'DPoP proof: htm does not match the request method');
    if (withoutQuery(claims.htu) !== withoutQuery(requested.href)) throw new Refusal('invalid_dpop_proof', 'DPoP proof: htu does not match the request URL');
    if (claims.ath !== createHash('sha256').update(token).digest('base64url')) throw new Refusal('invalid_dpop_proof', 'DPoP proof: ath does not match the access token');
    if (typeof claims.jti !== 'string' || claims.jti.length > 200) throw new Refusal('invalid_dpop_proof', 'DPoP proof: bad jti');

    const now = Date.now();
    for (const [jti, forgetAt] of seen) if (forgetAt <= now) seen.delete(jti);
    if (seen.has(claims.jti)) throw new Refusal('invalid_dpop_proof', 'DPoP proof: jti already used (a replay)');
    seen.set(claims.jti, now + (PROOF_MAX_AGE_SECONDS + 2 * CLOCK_TOLERANCE_SECONDS) * 1000);

    if ((await calculateJwkThumbprint(jwk)) !== facts.jkt) throw new Refusal('invalid_token', "the DPoP proof's key is not the access token's key (cnf.jkt)");
    return { status: 200, body: { sub: facts.sub ?? null, client_id: facts.clientId ?? null, jkt: facts.jkt } };
  }

  const server: HttpServer = createServer((request, response) => {
    void answer(request)
      .catch((error: unknown) => {
        if (!(error instanceof Refusal)) return { status: 500, body: { error: 'server_error' } };
        const algs = `algs="${DPOP_PROOF_ALGORITHMS.join(' ')}"`;
        const challenge = error.error === 'invalid_request' ? `DPoP ${algs}` : `DPoP error="${error.error}", error_description="${error.message.replaceAll('"', "'")}", ${algs}`;
        return { status: 401, body: { error: error.error, error_description: error.message }, challenge };
      })
      .then(({ status, body, challenge }) => {
        response.writeHead(status, { 'content-type': 'application/json', ...(challenge && { 'www-authenticate': challenge }) }).end(JSON.stringify(body));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // The public origin is configuration, never the request's Host header (which the caller chooses).
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: new URL(path, origin).href,
    seenProofs: () => seen.size,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** §4.3: htu is compared without query and fragment. */
function withoutQuery(url: unknown): string | undefined {
  if (typeof url !== 'string' || !URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}
