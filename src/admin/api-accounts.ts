// The admin API's account endpoints (docs/administration.md "Account administration"), over AccountAdministration.
// The ID number never travels in a URL (URLs end up in access logs): an account is found with
// POST /api/accounts/lookup, and every other call names it by its internal id.
import { chipReadOf, ChipFormatError, type ChipRead } from '../chip/chip-verification.ts';
import { z } from 'zod';
import type { AdminPrincipal, AdminRoute } from './route.ts';
import type { AccountAdministration, AccountView } from './account-administration.ts';
import { MAX_EVIDENCE_LENGTH, MAX_REASON_LENGTH } from './account-administration.ts';
import type { Approval } from './approvals.ts';
import { AdminProblem } from './problem.ts';

const reasonBody = z.strictObject({ reason: z.string().trim().min(1).max(MAX_REASON_LENGTH).describe('Why: recorded in the audit trail') });

const accountSchema = z.object({
  accountId: z.string(),
  nationalId: z.string(),
  level: z.union([z.literal(1), z.literal(2)]),
  status: z.enum(['active', 'locked']),
  lockedAt: z.string().nullable(),
  lockReason: z.string().nullable(),
  levelRaisedAt: z.string().nullable(),
  levelRaisedBy: z.string().nullable(),
  levelEvidence: z.string().nullable(),
  factors: z.object({
    totp: z.object({ enrolledAt: z.string().nullable() }).nullable(),
    passkeys: z.array(z.object({ name: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() })),
    recoveryCodesLeft: z.number().int(),
  }),
  handoverCode: z.object({ issuedBy: z.string(), expiresAt: z.string() }).nullable().describe('An in-person code is outstanding (never the code itself)'),
  pendingLevelTwo: z.object({ requestId: z.string(), requestedBy: z.string(), requestedAt: z.string() }).nullable(),
});

const iso = (value: Date | null) => (value ? value.toISOString() : null);

const viewOf = (view: AccountView): z.infer<typeof accountSchema> => ({
  ...view,
  lockedAt: iso(view.lockedAt),
  levelRaisedAt: iso(view.levelRaisedAt),
  factors: {
    totp: view.factors.totp && { enrolledAt: iso(view.factors.totp.enrolledAt) },
    passkeys: view.factors.passkeys.map((passkey) => ({ name: passkey.name, createdAt: passkey.createdAt.toISOString(), lastUsedAt: iso(passkey.lastUsedAt) })),
    recoveryCodesLeft: view.factors.recoveryCodesLeft,
  },
  handoverCode: view.handoverCode && { issuedBy: view.handoverCode.issuedBy, expiresAt: view.handoverCode.expiresAt.toISOString() },
  pendingLevelTwo: view.pendingLevelTwo && { ...view.pendingLevelTwo, requestedAt: view.pendingLevelTwo.requestedAt.toISOString() },
});

const requestSchema = z.object({ requestId: z.string(), accountId: z.string(), status: z.string(), requestedBy: z.string(), decidedBy: z.string().optional() });
const requestOf = (approval: Approval): z.infer<typeof requestSchema> => ({
  requestId: approval.id,
  accountId: approval.subject,
  status: approval.status,
  requestedBy: approval.requestedBy,
  ...(approval.decidedBy !== undefined && { decidedBy: approval.decidedBy }),
});

const officerOf = (principal: AdminPrincipal) => ({ id: principal.actor, via: 'api' });
const endedSchema = z.object({ sessions: z.number().int(), grants: z.number().int() });

export function accountRoutes(deps: { administration: AccountAdministration }): AdminRoute<never, never>[] {
  const { administration } = deps;
  const tag = 'Accounts';
  const officers = { roles: ['support_officer'] as const };

  const lookup: AdminRoute<{ nationalId: string }, never> = {
    method: 'POST',
    path: '/api/accounts/lookup',
    operationId: 'lookUpAccount',
    summary: 'Find an account by ID number',
    description: 'Status, level, and which second factors exist and since when (never a secret). A POST, so the ID number stays out of URLs and logs. The look is audited.',
    tag,
    access: { ...officers, scope: 'admin:accounts' },
    body: z.strictObject({ nationalId: z.string().regex(/^\d{12}$/, 'expected 12 digits') }),
    responses: { 200: { description: 'The account', schema: accountSchema } },
    async handle({ principal, body }) {
      return { status: 200, body: viewOf(await administration.view(officerOf(principal), body.nationalId)) };
    },
  };

  const show: AdminRoute<never, never> = {
    method: 'GET',
    path: '/api/accounts/{accountId}',
    operationId: 'getAccount',
    summary: 'An account by its id',
    tag,
    access: { ...officers, scope: 'admin:accounts' },
    responses: { 200: { description: 'The account', schema: accountSchema } },
    async handle({ principal, params }) {
      return { status: 200, body: viewOf(await administration.view(officerOf(principal), params.accountId!)) };
    },
  };

  const lock: AdminRoute<z.infer<typeof reasonBody>, never> = {
    method: 'POST',
    path: '/api/accounts/{accountId}/lock',
    operationId: 'lockAccount',
    summary: 'Lock an account, ending all its access',
    description: 'Sessions, grants and refresh tokens end at once; back-channel logouts are queued. Idempotent.',
    tag,
    access: { ...officers, scope: 'admin:accounts' },
    body: reasonBody,
    responses: { 200: { description: 'Locked', schema: endedSchema.extend({ lockedNow: z.boolean() }) } },
    async handle({ principal, params, body }) {
      return { status: 200, body: await administration.lock(officerOf(principal), params.accountId!, body.reason) };
    },
  };

  const unlock: AdminRoute<z.infer<typeof reasonBody>, never> = {
    method: 'POST',
    path: '/api/accounts/{accountId}/unlock',
    operationId: 'unlockAccount',
    summary: 'Unlock an account',
    description: 'Sign-in still refuses a person the registry shows dead or missing.',
    tag,
    access: { ...officers, scope: 'admin:accounts' },
    body: reasonBody,
    responses: { 200: { description: 'Unlocked', schema: z.object({ unlockedNow: z.boolean() }) } },
    async handle({ principal, params, body }) {
      return { status: 200, body: await administration.unlock(officerOf(principal), params.accountId!, body.reason) };
    },
  };

  const endSessions: AdminRoute<z.infer<typeof reasonBody>, never> = {
    method: 'POST',
    path: '/api/accounts/{accountId}/end-sessions',
    operationId: 'endAccountSessions',
    summary: 'End every session, grant and refresh token of an account',
    tag,
    access: { ...officers, scope: 'admin:accounts' },
    body: reasonBody,
    responses: { 200: { description: 'Ended', schema: endedSchema } },
    async handle({ principal, params, body }) {
      return { status: 200, body: await administration.endAllSessions(officerOf(principal), params.accountId!, body.reason) };
    },
  };

  const resetFactors: AdminRoute<z.infer<typeof reasonBody>, never> = {
    method: 'POST',
    path: '/api/accounts/{accountId}/reset-second-factors',
    operationId: 'resetSecondFactors',
    summary: 'Remove TOTP, passkeys and recovery codes; issue the in-person handover code',
    description:
      'Ends all access too. The answer carries `handoverCode` this once: the officer hands it to the citizen in person, and the first new enrolment (TOTP or passkey) needs it. It expires after 24 hours or five wrong tries. Not for automation.',
    tag,
    access: officers,
    body: reasonBody,
    responses: {
      200: {
        description: 'Reset',
        schema: endedSchema.extend({
          handoverCode: z.string(),
          expiresAt: z.string(),
          removed: z.object({ totp: z.boolean(), passkeys: z.number().int(), recoveryCodes: z.number().int() }),
        }),
      },
    },
    async handle({ principal, params, body }) {
      const result = await administration.resetSecondFactors(officerOf(principal), params.accountId!, body.reason);
      return { status: 200, body: { ...result, expiresAt: result.expiresAt.toISOString() } };
    },
  };

  const requestLevelTwo: AdminRoute<{ evidence?: string | undefined; chip?: Record<string, string> | undefined }, never> = {
    method: 'POST',
    path: '/api/accounts/{accountId}/level-requests',
    operationId: 'requestLevelTwo',
    summary: 'Ask for level 2 after an in-person check or with the card’s chip (four eyes)',
    description:
      'Waits for a second, different officer: `POST /api/accounts/level-requests/{requestId}/approve`. With `chip` (the card read over NFC), the chip is verified first (passive authentication and the registry, as `POST /chip/verifications`): a refused chip, or another person’s card, is a 422 `chip_refused` naming the failed checks, and nothing is requested. Not for automation.',
    tag,
    access: officers,
    body: z
      .strictObject({
        evidence: z.string().trim().min(1).max(MAX_EVIDENCE_LENGTH).optional().describe('The in-person check: document and file reference (optional with `chip`)'),
        chip: z
          .strictObject({
            sod: z.string().max(140_000),
            dg1: z.string().max(140_000),
            dg13: z.string().max(140_000),
            dg2: z.string().max(140_000).optional(),
          })
          .optional()
          .describe('The card’s chip read: EF.SOD, DG1, DG13 and optionally DG2, base64'),
      })
      .refine((body) => body.evidence !== undefined || body.chip !== undefined, { message: 'evidence or chip is required', path: ['evidence'] }),
    responses: { 202: { description: 'Waiting for a second officer', schema: requestSchema } },
    async handle({ principal, params, body }) {
      let chipRead: ChipRead | undefined;
      try {
        chipRead = body.chip === undefined ? undefined : chipReadOf(body.chip);
        return { status: 202, body: requestOf(await administration.requestLevelTwo(officerOf(principal), params.accountId!, body.evidence, chipRead)) };
      } catch (error) {
        if (error instanceof ChipFormatError) throw new AdminProblem(400, 'invalid_request', `chip: ${error.message}`);
        throw error;
      }
    },
  };

  const decide = (decision: 'approved' | 'rejected'): AdminRoute<never, never> => ({
    method: 'POST',
    path: `/api/accounts/level-requests/{requestId}/${decision === 'approved' ? 'approve' : 'reject'}`,
    operationId: decision === 'approved' ? 'approveLevelTwo' : 'rejectLevelTwo',
    summary: decision === 'approved' ? 'Confirm a level-2 request: the account is raised' : 'Reject a level-2 request',
    description: 'By a second officer: the one who asked gets 403 `four_eyes`. Not for automation.',
    tag,
    access: officers,
    responses: { 200: { description: 'Decided', schema: requestSchema } },
    async handle({ principal, params }) {
      return { status: 200, body: requestOf(await administration.decideLevelTwo(officerOf(principal), params.requestId!, decision)) };
    },
  });

  return [lookup, show, lock, unlock, endSessions, resetFactors, requestLevelTwo, decide('approved'), decide('rejected')] as unknown as AdminRoute<never, never>[];
}
