// When the provider must ask the citizen something, and what.
// Login: besides oidc-provider's own reasons (no session, max_age, id_token_hint…), a session below
// the assurance level the request needs is sent back to sign in — for a password-only session, just
// the second factor (step-up). oidc-provider's exact-match essential-acr checks give way to this rule.
// Consent asks only for what the client is approved for. oidc-provider's own checks ask for every
// requested scope and claim; with unapproved ones dropped at consent, they would ask forever. These
// replacements ignore what the administrator did not approve (docs/design.md "Protocol contract").
// A session past its absolute lifetime is sent back to sign in (src/oidc/sessions/session-lifetime.ts).
// select_account: oidc-provider accepts a prompt value only when a requestable prompt of that name
// is registered; ours asks a signed-in browser whether to go on as its citizen or as someone else.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { SCOPE_CLAIMS } from './claims.ts';
import { acrOf, levelOf, requiredLevel } from './assurance.ts';
import { pastAbsoluteLifetime, type SessionLifetimes } from '../sessions/session-lifetime.ts';
import type { Subjects } from '../subjects.ts';
import { verifiedClaimsToConsent } from './verified-claims-provider.ts';

const { Check, Prompt, base } = interactionPolicy;
const ALWAYS_RELEASED = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

/** The scopes an administrator approved (extra client metadata, kept under its snake_case name). */
export function approvedScopesOf(client: object | undefined): Set<string> {
  const approved = (client as { approved_scopes?: unknown } | undefined)?.approved_scopes;
  return new Set(Array.isArray(approved) ? approved.filter((scope): scope is string => typeof scope === 'string') : []);
}

/** Claims a client may receive: those of its approved scopes. */
export function approvedClaimsOf(client: object | undefined): Set<string> {
  const claims = new Set<string>();
  for (const scope of approvedScopesOf(client)) {
    for (const claim of (SCOPE_CLAIMS as Record<string, readonly string[]>)[scope] ?? []) claims.add(claim);
  }
  return claims;
}

/** Requested and approved OIDC scopes the grant does not cover yet. */
export function missingApprovedScopes(ctx: KoaContextWithOIDC): string[] {
  const approved = approvedScopesOf(ctx.oidc.client);
  const encountered = new Set(ctx.oidc.grant?.getOIDCScopeEncountered().split(' ') ?? []);
  return [...ctx.oidc.requestParamOIDCScopes].filter((scope) => approved.has(scope) && !encountered.has(scope));
}

/** Requested (claims parameter) and approved claims the grant does not cover yet. */
export function missingApprovedClaims(ctx: KoaContextWithOIDC): string[] {
  const approved = approvedClaimsOf(ctx.oidc.client);
  const encountered = new Set(ctx.oidc.grant?.getOIDCClaimsEncountered() ?? []);
  const missing = [...ctx.oidc.requestParamClaims].filter(
    (claim) => approved.has(claim) && !encountered.has(claim) && !ALWAYS_RELEASED.has(claim),
  );
  // verified_claims (an approved client's) and the claims asked for inside it.
  for (const claim of verifiedClaimsToConsent(ctx, approved)) if (!encountered.has(claim) && !missing.includes(claim)) missing.push(claim);
  return missing;
}

/** The level the request needs when the session's level is below it, else undefined. */
export function unmetAssurance(ctx: KoaContextWithOIDC): string | undefined {
  const acrRequest = (ctx.oidc.claims as { id_token?: { acr?: { value?: unknown; values?: unknown } } } | undefined)?.id_token?.acr;
  const needed = requiredLevel(acrRequest);
  if (needed === undefined) return undefined;
  const current = levelOf(ctx.oidc.session?.acr) ?? 0;
  return current < needed ? acrOf(needed) : undefined;
}

/**
 * prompt=select_account, asked only of a browser with a signed-in session, and not again once this
 * request has been answered or has signed someone in (without a session it is an ordinary login,
 * which OpenID Connect Core 3.1.2.1 allows).
 */
export function selectAccountPrompt(): InstanceType<typeof Prompt> {
  const prompt = new Prompt({ name: 'select_account', requestable: true });
  // The generated check would ask again right after a sign-in that had no session to choose from.
  prompt.checks.clear();
  prompt.checks.add(
    new Check(
      'select_account_prompt',
      'the citizen is asked which account to continue with',
      'account_selection_required',
      (ctx) =>
        ctx.oidc.prompts.has('select_account') &&
        ctx.oidc.promptPending('select_account') &&
        Boolean(ctx.oidc.session?.accountId) &&
        !ctx.oidc.result?.login,
    ),
  );
  return prompt;
}

/** The answer to select_account was "use another account" (src/oidc/sessions/account-selection.ts). */
function anotherAccountChosen(ctx: KoaContextWithOIDC): boolean {
  const answer = (ctx.oidc.result as { select_account?: { anotherAccount?: unknown } } | undefined)?.select_account;
  return answer?.anotherAccount === true;
}

/**
 * The `sub` an id_token_hint or a claims request names is the session's citizen as this client knows
 * them. oidc-provider's own checks compare a public client's `sub` with the internal id; ours with the
 * public subject (src/oidc/subjects.ts).
 */
function subjectChecks(subjects: Subjects): InstanceType<typeof Check>[] {
  const sessionSubject = (ctx: KoaContextWithOIDC) => {
    const accountId = ctx.oidc.session?.accountId;
    return accountId && ctx.oidc.client ? subjects.of(ctx.oidc.client, accountId) : undefined;
  };
  const requestedSubject = (ctx: KoaContextWithOIDC) =>
    (ctx.oidc.claims as { id_token?: { sub?: { value?: unknown } } } | undefined)?.id_token?.sub;
  return [
    new Check('id_token_hint', 'id_token_hint and authenticated subject do not match', 'login_required', (ctx) => {
      const hint = ctx.oidc.entities.IdTokenHint as { payload?: { sub?: unknown } } | undefined;
      return hint !== undefined && hint.payload?.sub !== sessionSubject(ctx);
    }),
    new Check(
      'claims_id_token_sub_value',
      'requested subject could not be obtained',
      'login_required',
      (ctx) => {
        const requested = requestedSubject(ctx);
        return requested !== undefined && 'value' in requested && requested.value !== sessionSubject(ctx);
      },
      (ctx) => ({ sub: requestedSubject(ctx) }),
    ),
  ];
}

export function createInteractionPolicy(lifetimes: SessionLifetimes, subjects: Subjects): ReturnType<typeof base> {
  const policy = base();
  // First: the citizen chooses who continues before anything is asked of that person.
  policy.add(selectAccountPrompt(), 0);
  const login = policy.get('login')!;
  login.checks.add(
    new Check(
      'absolute_lifetime',
      'the session has reached its absolute lifetime',
      'login_required',
      (ctx) => Boolean(ctx.oidc.session?.accountId) && pastAbsoluteLifetime(lifetimes, ctx.oidc.session?.loginTs) && !ctx.oidc.result?.login,
    ),
  );
  login.checks.add(
    new Check(
      'another_account_chosen',
      'the citizen chose to sign in with another account',
      'login_required',
      (ctx) => anotherAccountChosen(ctx) && !ctx.oidc.result?.login,
    ),
  );
  // Replaced in place: the first failing check names the reason, so the order stays the library's.
  for (const check of subjectChecks(subjects)) {
    const at = login.checks.findIndex((existing) => existing.reason === check.reason);
    login.checks.remove(check.reason);
    login.checks.add(check, at);
  }
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');
  login.checks.add(
    new Check(
      'acr_level_too_low',
      'a higher level of assurance is required',
      'login_required',
      (ctx) => unmetAssurance(ctx) !== undefined,
      (ctx) => ({ requiredAcr: unmetAssurance(ctx) }),
    ),
  );
  const consent = policy.get('consent')!;
  consent.checks.remove('op_scopes_missing');
  consent.checks.remove('op_claims_missing');
  consent.checks.add(
    new Check(
      'op_scopes_missing',
      'requested scopes not granted',
      // Given explicitly: checks added after the prompt exists get no default error code, and
      // prompt=none must answer consent_required (OpenID Connect Core 3.1.2.6).
      'consent_required',
      (ctx) => missingApprovedScopes(ctx).length > 0,
      (ctx) => ({ missingOIDCScope: missingApprovedScopes(ctx) }),
    ),
  );
  consent.checks.add(
    new Check(
      'op_claims_missing',
      'requested claims not granted',
      'consent_required',
      (ctx) => missingApprovedClaims(ctx).length > 0,
      (ctx) => ({ missingOIDCClaims: missingApprovedClaims(ctx) }),
    ),
  );
  return policy;
}
