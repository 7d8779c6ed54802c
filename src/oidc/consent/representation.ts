// Acting for others through Rich Authorization Requests (RFC 9396; docs/representation.md "For
// portals: asking to act for someone"). A client approved for the type asks with
//   authorization_details=[{"type":"urn:vn:eid:representation","party_kinds":[...],"roles":[...]}]
// the citizen chooses a party on the chooser page (the `representation` prompt, after consent), and
// every token issued from that authorization carries the granted entry — checked against the
// registers again at the code's exchange and at every refresh, where a party that no longer qualifies
// ends the flow with invalid_grant. Each token issued while acting for a party is written to
// representation_uses and the audit trail.
//
// What is stored where: the interaction's result holds the choice (`ref` and roles); the code and the
// refresh token hold the granted entry plus `ref` (the party's register key: an enterprise code, or the
// child's ID number), which never leaves the provider; access tokens, introspection, the token response,
// the ID token and userinfo carry the public entry (without `ref`).
import {
  errors,
  interactionPolicy,
  type AuthorizationDetailsForAccessToken,
  type AuthorizationDetailsForGrantSource,
  type AuthorizationDetailsForIntrospection,
  type Configuration,
  type KoaContextWithOIDC,
  type RichAuthorizationRequestType,
} from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Logger } from '../../observability/logger.ts';
import {
  ORGANISATION_ROLES,
  PARTY_KINDS,
  REPRESENTATION_TYPE,
  type Actor,
  type OrganisationRole,
  type Party,
  type PartyKind,
  type PartyReference,
  type RepresentationDirectory,
  type RepresentationRequest,
} from '../../representation/representation.ts';
import type { RepresentationUse } from '../../representation/uses.ts';
import { approvedScopesOf } from './interaction-policy.ts';
import type { Subjects, SubjectClient } from '../subjects.ts';

const { Check, Prompt } = interactionPolicy;

/** What the provider needs from the rest of the system to act for others. */
export interface RepresentationHooks {
  readonly directory: Pick<RepresentationDirectory, 'recheck'>;
  /** The acting citizen as their account says now; undefined for an account that cannot act. */
  actorOf(accountId: string): Promise<Actor | undefined>;
  /** Writes a representation_uses row (src/representation/uses.ts). */
  recordUse(use: RepresentationUse): Promise<void>;
}

/** The citizen's choice, kept in the interaction's result until the code is issued. */
export interface RepresentationChoice {
  /** `organisation:<enterprise code>` or `child:<ID number>`. */
  readonly ref: string;
  readonly roles: readonly OrganisationRole[];
}

/** The granted entry as clients see it. */
export interface GrantedRepresentation {
  readonly type: typeof REPRESENTATION_TYPE;
  readonly party:
    | { readonly kind: 'organisation'; readonly enterprise_code: string; readonly name: string }
    | { readonly kind: 'child'; readonly sub: string; readonly name: string; readonly birthdate: string; readonly national_id?: string };
  readonly roles?: readonly OrganisationRole[];
}

/** The entry as the code and refresh token keep it: with the party's register key. */
type StoredRepresentation = { readonly type: string; readonly ref: string } & Record<string, unknown>;

const REQUEST_FIELDS = new Set(['type', 'party_kinds', 'roles']);
/** Where a representation may be asked: only a browser flow can show the chooser. */
const REQUEST_ROUTES = new Set(['authorization', 'resume', 'pushed_authorization_request']);

/** `organisation:<code>` / `child:<ID number>` → the party reference; undefined for anything else. */
export function partyReferenceOf(ref: string): PartyReference | undefined {
  const organisation = /^organisation:([0-9]{10}(?:-[0-9]{3})?)$/.exec(ref);
  if (organisation) return { kind: 'organisation', enterpriseCode: organisation[1]! };
  const child = /^child:([0-9]{12})$/.exec(ref);
  return child ? { kind: 'child', nationalId: child[1]! } : undefined;
}

/** The reference a party is chosen by (the chooser form's `party` value). */
export function refOf(party: Party): string {
  return party.kind === 'organisation' ? `organisation:${party.enterpriseCode}` : `child:${party.nationalId}`;
}

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

/**
 * Checks one requested entry of our type; throws invalid_authorization_details naming what is wrong.
 * Strict: unknown fields are refused (a field we ignore could be a restriction the client thinks holds).
 */
export function validateRepresentationRequest(detail: Record<string, unknown>): RepresentationRequest {
  const refuse = (message: string): never => {
    throw new errors.InvalidAuthorizationDetails(`${REPRESENTATION_TYPE}: ${message}`);
  };
  const unknown = Object.keys(detail).filter((key) => !REQUEST_FIELDS.has(key));
  if (unknown.length > 0) refuse(`unknown field(s) ${unknown.join(', ')}`);
  const kinds = detail.party_kinds;
  if (!isStrings(kinds) || kinds.length === 0) refuse('party_kinds must be a non-empty array of strings');
  const partyKinds = kinds as string[];
  if (new Set(partyKinds).size !== partyKinds.length) refuse('party_kinds must not repeat a kind');
  const badKind = partyKinds.find((kind) => !(PARTY_KINDS as readonly string[]).includes(kind));
  if (badKind !== undefined) refuse(`party_kinds: "${badKind}" is not one of ${PARTY_KINDS.join(', ')}`);
  const roles = detail.roles;
  if (partyKinds.includes('organisation')) {
    if (!isStrings(roles) || roles.length === 0) refuse('roles must be a non-empty array when organisations are asked for');
    const list = roles as string[];
    if (new Set(list).size !== list.length) refuse('roles must not repeat a role');
    const badRole = list.find((role) => !(ORGANISATION_ROLES as readonly string[]).includes(role));
    if (badRole !== undefined) refuse(`roles: "${badRole}" is not one of ${ORGANISATION_ROLES.join(', ')}`);
  } else if (roles !== undefined && !(isStrings(roles) && roles.length === 0)) {
    refuse('roles apply to organisations only');
  }
  return { partyKinds: partyKinds as PartyKind[], roles: (partyKinds.includes('organisation') ? (roles as OrganisationRole[]) : []) };
}

/** The authorization_details parameter, as a string (authorization endpoint) or already parsed (PAR). */
function detailsOf(value: unknown): Record<string, unknown>[] {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return [];
    }
  }
  return Array.isArray(parsed) ? parsed.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null) : [];
}

/** The representation a request's parameters ask for (already validated), if any. */
export function representationRequestOf(params: Record<string, unknown> | undefined): RepresentationRequest | undefined {
  const detail = detailsOf(params?.authorization_details).find((item) => item.type === REPRESENTATION_TYPE);
  return detail ? validateRepresentationRequest(detail) : undefined;
}

/** The choice an interaction's result holds. */
function choiceOf(result: unknown): RepresentationChoice | undefined {
  const choice = (result as { representation?: { ref?: unknown; roles?: unknown } } | undefined)?.representation;
  if (!choice || typeof choice.ref !== 'string' || !isStrings(choice.roles)) return undefined;
  return { ref: choice.ref, roles: choice.roles as OrganisationRole[] };
}

/**
 * The `sub` of a child at a client. A child under 14 has no account, so no account id to derive it from:
 * HMAC-SHA256 with the pairwise key over the client's sector (pairwise clients) or `public`, and
 * `child:` + the ID number — stable per sector, unlinkable across sectors, and not the ID number.
 */
export function childSubject(subjects: Subjects, client: SubjectClient, nationalId: string): string {
  return subjects.childSubject(client, nationalId);
}

/** The public entry of a party the registers confirmed. */
function grantedEntry(subjects: Subjects, client: SubjectClient & object, party: Party, roles: readonly OrganisationRole[]): StoredRepresentation {
  if (party.kind === 'organisation') {
    return {
      type: REPRESENTATION_TYPE,
      party: { kind: 'organisation', enterprise_code: party.enterpriseCode, name: party.name },
      roles: [...roles],
      ref: refOf(party),
    };
  }
  return {
    type: REPRESENTATION_TYPE,
    party: {
      kind: 'child',
      sub: childSubject(subjects, client, party.nationalId),
      name: party.name,
      birthdate: party.birthDate,
      // The ID number only to a client approved for it (docs/representation.md).
      ...(approvedScopesOf(client).has('national_id') && { national_id: party.nationalId }),
    },
    ref: refOf(party),
  };
}

const withoutRef = (entry: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'ref'));

/** Our entries of a token's details, as clients see them. */
export function publicRepresentations(rar: readonly unknown[] | undefined): GrantedRepresentation[] {
  return (rar ?? [])
    .filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null && (entry as { type?: unknown }).type === REPRESENTATION_TYPE)
    .map((entry) => withoutRef(entry) as unknown as GrantedRepresentation);
}

/** "Acting for X" for the audit trail and the citizen's history: the party's kind and name. */
export function actingForOf(rar: readonly unknown[] | undefined): { kind: string; name: string } | undefined {
  const entry = publicRepresentations(rar)[0];
  return entry && { kind: entry.party.kind, name: entry.party.name };
}

export interface RepresentationFeatureDependencies {
  readonly hooks: RepresentationHooks;
  readonly subjects: Subjects;
  readonly audit: AuditLog;
  readonly logger: Logger;
}

/** oidc-provider's richAuthorizationRequests feature as we configure it (enabled, with introspection). */
export interface RarFeature {
  readonly enabled: true;
  readonly types: Record<string, RichAuthorizationRequestType>;
  readonly authorizationDetailsForGrantSource: AuthorizationDetailsForGrantSource;
  readonly authorizationDetailsForAccessToken: AuthorizationDetailsForAccessToken;
  readonly authorizationDetailsForIntrospection: AuthorizationDetailsForIntrospection;
}
type TokenLike = { accountId?: string; rar?: unknown[]; clientId?: string };

/** oidc-provider's richAuthorizationRequests feature, with our one type. */
export function representationFeature(deps: RepresentationFeatureDependencies): RarFeature {
  const { hooks, subjects } = deps;

  /** The party again, as the registers say today; invalid_grant when the citizen may no longer act for it. */
  const recheck = async (accountId: string | undefined, ref: string, roles: readonly OrganisationRole[]): Promise<Party> => {
    const reference = partyReferenceOf(ref);
    const actor = accountId ? await hooks.actorOf(accountId) : undefined;
    const party = reference && actor ? await hooks.directory.recheck(actor, reference, roles) : undefined;
    if (!party) throw new errors.InvalidGrant('the citizen may no longer act for the party this authorization was given for');
    return party;
  };

  const type: RichAuthorizationRequestType = {
    validate(ctx: KoaContextWithOIDC, detail: Record<string, unknown>) {
      if (!REQUEST_ROUTES.has(ctx.oidc.route)) {
        throw new errors.InvalidAuthorizationDetails(`${REPRESENTATION_TYPE} is asked in an authorization request or PAR only (the citizen chooses in a browser)`);
      }
      const scope = typeof ctx.oidc.params?.scope === 'string' ? ctx.oidc.params.scope.split(' ') : [];
      if (!scope.includes('openid')) throw new errors.InvalidAuthorizationDetails(`${REPRESENTATION_TYPE} needs the openid scope`);
      const ours = detailsOf(ctx.oidc.params?.authorization_details).filter((item) => item.type === REPRESENTATION_TYPE);
      if (ours.length > 1) throw new errors.InvalidAuthorizationDetails(`${REPRESENTATION_TYPE}: at most one entry per request`);
      validateRepresentationRequest(detail);
    },
  };
  // The code carries the chosen party, confirmed by the registers at this moment.
  const forGrantSource: AuthorizationDetailsForGrantSource = async (ctx, code) => {
    if (representationRequestOf(ctx.oidc.params) === undefined) return [];
    const choice = choiceOf(ctx.oidc.result);
    if (!choice) throw new errors.AccessDenied('no party was chosen');
    const party = await recheck(code.accountId, choice.ref, choice.roles);
    return [grantedEntry(subjects, ctx.oidc.client!, party, choice.roles)];
  };
  // Every access token, at the code's exchange and at each refresh: checked again, recorded.
  const forAccessToken: AuthorizationDetailsForAccessToken = async (ctx, token, source, grantType) => {
    const stored = ((source as TokenLike | undefined)?.rar ?? []) as Record<string, unknown>[];
    const granted: GrantedRepresentation[] = [];
    for (const entry of stored) {
      if (entry.type !== REPRESENTATION_TYPE || typeof entry.ref !== 'string') continue;
      const roles = (isStrings(entry.roles) ? entry.roles : []) as OrganisationRole[];
      const accountId = (token as TokenLike).accountId;
      const party = await recheck(accountId, entry.ref, roles);
      const fresh = grantedEntry(subjects, ctx.oidc.client!, party, roles);
      const event = grantType === 'refresh_token' ? 'refreshed' : 'issued';
      const clientId = ctx.oidc.client!.clientId;
      await hooks.recordUse({ party, actorAccountId: accountId!, clientId, roles, event });
      // The row above is the durable record; the audit event goes with the next batch, as token.issued does.
      void deps.audit
        .recordLater({
          type: 'representation.used',
          actor: accountId!,
          accountId: accountId!,
          clientId,
          data: { event, grantType, actingFor: { kind: party.kind, name: party.name, ...(party.kind === 'organisation' && { enterpriseCode: party.enterpriseCode }) }, roles },
        })
        .catch((error: unknown) => deps.logger.error({ err: error }, 'could not write the audit event of a representation'));
      granted.push(withoutRef(fresh) as unknown as GrantedRepresentation);
    }
    return granted as unknown as Awaited<ReturnType<AuthorizationDetailsForAccessToken>>;
  };
  const forIntrospection: AuthorizationDetailsForIntrospection = (_ctx, token) =>
    publicRepresentations((token as TokenLike).rar) as unknown as Awaited<ReturnType<AuthorizationDetailsForIntrospection>>;
  return {
    enabled: true,
    types: { [REPRESENTATION_TYPE]: type },
    authorizationDetailsForGrantSource: forGrantSource,
    authorizationDetailsForAccessToken: forAccessToken,
    authorizationDetailsForIntrospection: forIntrospection,
  };
}

/**
 * The chooser: asked after consent of a request for representation, until the citizen has chosen.
 * prompt=none gets interaction_required (a choice cannot be made without the citizen). oidc-provider's
 * own `rar_prompt` check would ask for consent to every such request again: the chooser answers it.
 */
export function withRepresentationPrompt<T extends { get(name: string): InstanceType<typeof Prompt> | undefined; add(prompt: InstanceType<typeof Prompt>): void }>(
  policy: T,
  enabled: boolean,
): T {
  if (!enabled) return policy;
  policy.get('consent')!.checks.remove('rar_prompt');
  policy.add(
    new Prompt(
      { name: 'representation', requestable: false },
      new Check('representation_choice', 'the citizen chooses whom to act for', 'interaction_required', (ctx: KoaContextWithOIDC) => {
        const asked = detailsOf(ctx.oidc.params?.authorization_details).some((item) => item.type === REPRESENTATION_TYPE);
        return asked && !choiceOf(ctx.oidc.result);
      }),
    ),
  );
  return policy;
}

/**
 * The resource a representation request's code is issued for when the client names none: oidc-provider
 * wants one with authorization_details (RFC 9396 §9), and ours are for the userinfo endpoint. The code
 * is exchanged without `resource`, so its access token is the userinfo token as for any OpenID request.
 */
type ResourceFeature = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;
export function withUserinfoResource<T extends ResourceFeature>(feature: T): T {
  const defaultResource = feature.defaultResource!;
  const getResourceServerInfo = feature.getResourceServerInfo!;
  const userinfoOf = (ctx: KoaContextWithOIDC) => ctx.oidc.urlFor('userinfo');
  const asksRepresentation = (ctx: KoaContextWithOIDC) => detailsOf(ctx.oidc.params?.authorization_details).some((item) => item.type === REPRESENTATION_TYPE);
  const wrapped: ResourceFeature = {
    ...feature,
    defaultResource: async (ctx, client, oneOf) => {
      const chosen = await defaultResource(ctx, client, oneOf);
      if (chosen !== undefined || oneOf !== undefined || !REQUEST_ROUTES.has(ctx.oidc.route)) return chosen;
      return asksRepresentation(ctx) ? userinfoOf(ctx) : chosen;
    },
    // The userinfo endpoint is a resource only for a representation request (and, at the token
    // endpoint, for the code or refresh token it was granted to); otherwise it stays unknown.
    getResourceServerInfo: (ctx, indicator, client) =>
      indicator === userinfoOf(ctx) && (!REQUEST_ROUTES.has(ctx.oidc.route) || asksRepresentation(ctx))
        ? { audience: indicator, scope: '', accessTokenFormat: 'opaque' }
        : getResourceServerInfo(ctx, indicator, client),
  };
  return wrapped as T;
}

type ClaimsResult = (this: { ctx?: KoaContextWithOIDC }) => Promise<Record<string, unknown>>;

/**
 * ID tokens and userinfo carry the access token's granted entries as `authorization_details` (the
 * access token issued beside the ID token, or the one userinfo was called with). `sub` stays the
 * acting citizen's.
 */
export function installRepresentationClaims(provider: Provider): void {
  const claims = provider.Claims.prototype as unknown as { result: ClaimsResult };
  const result = claims.result;
  claims.result = async function (this: { ctx?: KoaContextWithOIDC }) {
    const released = await result.call(this);
    const token = this.ctx?.oidc?.entities?.AccessToken as { rar?: unknown[] } | undefined;
    const granted = publicRepresentations(token?.rar);
    if (granted.length > 0) released.authorization_details = granted;
    return released;
  };
}
