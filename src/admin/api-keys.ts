// The admin API's signing-key endpoints (docs/administration.md "Signing keys"): list with states and dates, rotate,
// and the emergency revoke. Client administrators change keys; auditors may look. Automation tokens
// are refused (no scope): a key change is a person's decision, and it is audited under their name.
// A revocation needs no second administrator: in an emergency, waiting for one is the greater risk.
import { z } from 'zod';
import { AdminProblem } from './problem.ts';
import type { AdminRoute } from './route.ts';
import { SIGNING_ALGORITHMS } from '../oidc/keys/keys.ts';
import { SigningKeyError, type KeyRotation, type SigningKeyView } from '../oidc/keys/key-rotation.ts';

const keySchema = z.object({
  kid: z.string(),
  alg: z.enum(SIGNING_ALGORITHMS),
  state: z.enum(['next', 'active', 'retired', 'expired', 'revoked']),
  createdAt: z.string().describe('published in the JWKS from here'),
  activeFrom: z.string().describe('signs from here'),
  retiredAt: z.string().nullable().describe('signs no more from here (set ahead when a successor is scheduled)'),
  publishedUntil: z.string().nullable().describe('a retired key leaves the JWKS here, once all it signed has expired'),
  revokedAt: z.string().nullable(),
  revokedReason: z.string().nullable(),
  publicJwk: z.record(z.string(), z.unknown()),
});

const rotateBody = z.strictObject({
  algorithms: z.array(z.enum(SIGNING_ALGORITHMS)).min(1).optional().describe('default: every algorithm'),
  now: z.boolean().optional().describe('the successor signs at once instead of after keys.publishAheadSeconds'),
});

const revokeBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });

function viewOf(key: SigningKeyView): z.infer<typeof keySchema> {
  const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);
  return {
    kid: key.kid,
    alg: key.alg as (typeof SIGNING_ALGORITHMS)[number],
    state: key.state,
    createdAt: key.createdAt.toISOString(),
    activeFrom: key.activeFrom.toISOString(),
    retiredAt: iso(key.retiredAt),
    publishedUntil: iso(key.publishedUntil),
    revokedAt: iso(key.revokedAt),
    revokedReason: key.revokedReason,
    publicJwk: key.publicJwk,
  };
}

function asProblem(error: unknown): never {
  if (error instanceof SigningKeyError) {
    throw error.code === 'unknown_key' ? new AdminProblem(404, 'not_found', error.message) : new AdminProblem(409, 'conflict', error.message);
  }
  throw error;
}

export function keyRoutes(deps: { signingKeys: KeyRotation }): AdminRoute<never, never>[] {
  const { signingKeys } = deps;
  const listed = z.object({ keys: z.array(keySchema) });

  const list: AdminRoute<never, never> = {
    method: 'GET',
    path: '/api/keys',
    operationId: 'listSigningKeys',
    summary: 'List the signing keys with their states and dates',
    description:
      'Newest first. `next`: published, not yet signing; `active`: signing; `retired`: published until `publishedUntil`; `expired`: no longer published; `revoked`: out at once.',
    tag: 'Signing keys',
    access: { roles: ['client_admin', 'auditor'] },
    responses: { 200: { description: 'Every signing key', schema: listed } },
    async handle() {
      return { status: 200, body: { keys: (await signingKeys.list()).map(viewOf) } };
    },
  };

  const rotate: AdminRoute<z.infer<typeof rotateBody>, never> = {
    method: 'POST',
    path: '/api/keys/rotate',
    operationId: 'rotateSigningKeys',
    summary: 'Publish a successor signing key',
    description:
      'For each algorithm (or those named): a new key, published now, signing after `keys.publishAheadSeconds` (or at once with `now`). A successor already waiting is kept (and promoted with `now`). Every instance follows within `keys.pollSeconds`.',
    tag: 'Signing keys',
    access: { roles: ['client_admin'] },
    body: rotateBody,
    responses: { 200: { description: 'The keys after the rotation', schema: listed } },
    async handle({ principal, body }) {
      const keys = await signingKeys
        .rotate({ ...(body.algorithms && { algorithms: body.algorithms }), immediately: body.now === true, actor: principal.actor })
        .catch(asProblem);
      return { status: 200, body: { keys: keys.map(viewOf) } };
    },
  };

  const revoke: AdminRoute<z.infer<typeof revokeBody>, never> = {
    method: 'POST',
    path: '/api/keys/{kid}/revoke',
    operationId: 'revokeSigningKey',
    summary: 'Revoke a signing key (emergency)',
    description:
      'The key leaves the JWKS and stops signing on every instance within `keys.pollSeconds`; tokens it signed stop verifying at relying parties. If it was signing, a new key signs at once. 404 for an unknown kid, 409 for a key already revoked.',
    tag: 'Signing keys',
    access: { roles: ['client_admin'] },
    body: revokeBody,
    responses: { 200: { description: 'The revoked key', schema: z.object({ key: keySchema }) } },
    async handle({ principal, params, body }) {
      const key = await signingKeys.revoke(params.kid!, body.reason, principal.actor).catch(asProblem);
      return { status: 200, body: { key: viewOf(key) } };
    },
  };

  return [list, rotate, revoke] as unknown as AdminRoute<never, never>[];
}
