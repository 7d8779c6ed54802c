// POST /chip/verifications (docs/integrating-a-bank.md "Verifying a chip card"): a bank's DPoP-bound
// client_credentials token for the chip-verification resource with the scope `chip_verification`
// (src/oidc/chip-tokens.ts), a DPoP proof for this very request (RFC 9449 §7: the token's key, this
// method and URL, this token's hash, never seen before), and a JSON chip read. The answer is 200
// {"verification": JWT} for a verified chip and for a refused one alike; a request that cannot be read
// is a 400 (413 when too large); a token problem 401, a client that may not use the API 403.
import { createHash } from 'node:crypto';
import type Koa from 'koa';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { Router } from '../web/router.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import { RegistryUnavailable } from '../registry/gateway.ts';
import { chipReadOf, MAX_CHIP_BODY_BYTES } from './chip-verification.ts';
import type { ChipVerifications } from './chip-results.ts';
import { ChipFormatError } from './errors.ts';

export const CHIP_VERIFICATIONS_PATH = '/chip/verifications';
export const CHIP_SCOPE = 'chip_verification';
const PROOF_ALGORITHMS = ['ES256', 'PS256', 'EdDSA'];
const PROOF_MAX_AGE_SECONDS = 60;
const CLOCK_TOLERANCE_SECONDS = 5;

export interface ChipRouteToken {
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly jkt: string | undefined;
}

export interface ChipRoutesDependencies {
  readonly issuer: string;
  readonly chipVerifications: ChipVerifications;
  /** The chip API's access token by its value (src/oidc/chip-tokens.ts findChipToken). */
  readonly findChipToken: (value: string) => Promise<ChipRouteToken | undefined>;
  /** The client now: undefined when gone or suspended. */
  readonly chipClientOf: (clientId: string) => Promise<{ profile: string; approvedScopes: ReadonlySet<string> } | undefined>;
  readonly ephemeral: Pick<EphemeralStore, 'putIfAbsent'>;
}

class Refusal extends Error {
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string, description: string) {
    super(description);
    this.status = status;
    this.error = error;
  }
}

class BodyTooLarge extends Error {}

async function readJson(ctx: Koa.Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw new ChipFormatError('expected Content-Type: application/json');
  if (Number(ctx.get('content-length') || 0) > MAX_CHIP_BODY_BYTES) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_CHIP_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ChipFormatError('the body is not JSON');
  }
}

export function chipRoutes(deps: ChipRoutesDependencies): Router {
  const url = new URL(CHIP_VERIFICATIONS_PATH, deps.issuer).href;

  /** The token's client, once the token and its proof hold (RFC 9449 §7.1). */
  async function authenticate(ctx: Koa.Context): Promise<ChipRouteToken> {
    const [scheme, value, ...rest] = (ctx.get('authorization') || '').split(' ');
    if (!value || rest.length > 0 || !/^(DPoP|Bearer)$/i.test(scheme ?? '')) throw new Refusal(401, 'invalid_request', 'no access token (Authorization: DPoP <token>)');
    const token = await deps.findChipToken(value);
    if (!token) throw new Refusal(401, 'invalid_token', 'the access token is not an active chip-verification token');
    if (token.jkt === undefined) throw new Refusal(401, 'invalid_token', 'the access token is not DPoP-bound');
    if (!/^DPoP$/i.test(scheme!)) throw new Refusal(401, 'invalid_token', 'a DPoP-bound access token presented as a bearer token');
    const proofs = ctx.req.headersDistinct.dpop ?? [];
    if (proofs.length !== 1) throw new Refusal(401, 'invalid_dpop_proof', proofs.length === 0 ? 'no DPoP proof' : 'more than one DPoP proof');
    let claims: JWTPayload;
    let jwk: JWK;
    try {
      const verified = await jwtVerify(proofs[0]!, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: PROOF_ALGORITHMS,
        maxTokenAge: PROOF_MAX_AGE_SECONDS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
      });
      claims = verified.payload;
      jwk = verified.protectedHeader.jwk!;
    } catch (error) {
      throw new Refusal(401, 'invalid_dpop_proof', `DPoP proof: ${(error as Error).message}`);
    }
    if (claims.htm !== 'POST') throw new Refusal(401, 'invalid_dpop_proof', 'DPoP proof: htm does not match the request method');
    if (typeof claims.htu !== 'string' || withoutQuery(claims.htu) !== url) throw new Refusal(401, 'invalid_dpop_proof', 'DPoP proof: htu does not match the request URL');
    if (claims.ath !== createHash('sha256').update(value).digest('base64url')) throw new Refusal(401, 'invalid_dpop_proof', 'DPoP proof: ath does not match the access token');
    if ((await calculateJwkThumbprint(jwk)) !== token.jkt) throw new Refusal(401, 'invalid_token', "the DPoP proof's key is not the access token's key (cnf.jkt)");
    if (typeof claims.jti !== 'string' || claims.jti.length > 200) throw new Refusal(401, 'invalid_dpop_proof', 'DPoP proof: bad jti');
    const fresh = await deps.ephemeral.putIfAbsent(`dpop:chip:{${createHash('sha256').update(claims.jti).digest('base64url')}}`, '1', PROOF_MAX_AGE_SECONDS + 2 * CLOCK_TOLERANCE_SECONDS);
    if (!fresh) throw new Refusal(401, 'invalid_dpop_proof', 'DPoP proof: jti already used (a replay)');

    const client = await deps.chipClientOf(token.clientId);
    if (!client) throw new Refusal(401, 'invalid_token', 'the client is suspended or gone');
    if (client.profile !== 'bank') throw new Refusal(403, 'insufficient_scope', 'chip verification is for bank clients');
    if (!token.scopes.has(CHIP_SCOPE) || !client.approvedScopes.has(CHIP_SCOPE)) throw new Refusal(403, 'insufficient_scope', 'the access token lacks the scope chip_verification');
    return token;
  }

  return new Router().post(CHIP_VERIFICATIONS_PATH, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      const token = await authenticate(ctx);
      const read = chipReadOf(await readJson(ctx));
      const { verification } = await deps.chipVerifications.verifyFor(token.clientId, read);
      ctx.status = 200;
      ctx.body = { verification };
    } catch (error) {
      if (error instanceof Refusal) {
        ctx.status = error.status;
        const algs = `algs="${PROOF_ALGORITHMS.join(' ')}"`;
        ctx.set(
          'WWW-Authenticate',
          error.error === 'invalid_request' ? `DPoP ${algs}` : `DPoP error="${error.error}", error_description="${error.message.replaceAll('"', "'")}", ${algs}`,
        );
        ctx.body = { error: error.error, error_description: error.message };
      } else if (error instanceof BodyTooLarge) {
        ctx.status = 413;
        ctx.body = { error: 'invalid_request', error_description: `the body is larger than ${MAX_CHIP_BODY_BYTES} bytes` };
      } else if (error instanceof ChipFormatError) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: error.message };
      } else if (error instanceof RegistryUnavailable) {
        ctx.status = 503;
        ctx.set('Retry-After', '30');
        ctx.body = { error: 'temporarily_unavailable', error_description: 'the population registry cannot be reached; try again' };
      } else {
        throw error;
      }
    }
  });
}

/** RFC 9449 §4.3: htu is compared without query and fragment. */
function withoutQuery(value: string): string | undefined {
  const parsed = URL.parse(value);
  if (!parsed) return undefined;
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}
