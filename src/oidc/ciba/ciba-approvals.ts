// The citizen's side of CIBA (src/oidc/ciba/ciba.ts): the requests waiting for them, and their answer. An
// approval is a consent like the consent page's — a grant of the requested, approved scopes and a
// consent record of the words shown — handed to oidc-provider with backchannelResult(); a denial is
// access_denied. Each request is answered once: approval, denial and a stand-in's timer race through
// one SET NX.
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ConsentRecords, ShownConsent } from '../consent/consent-records.ts';
import { approvedClaimsOf, approvedScopesOf } from '../consent/interaction-policy.ts';
import { KNOWN_SCOPES } from '../clients/client-profiles.ts';
import { LOA_1, LOA_2, requiredLevel, type AssuranceLevel } from '../consent/assurance.ts';
import { DENIAL_DESCRIPTION, type CibaPendingIndex } from './ciba.ts';
import type { SubjectType } from '../subjects.ts';

/** Always in an ID token; never a line of its own on the page. */
const ALWAYS_RELEASED = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

/** A request waiting for the citizen, as the account page shows it. */
export interface PendingApproval {
  /** The auth_req_id. */
  readonly id: string;
  readonly clientId: string;
  readonly clientName: string;
  /** What `sub` the bank gets, for the page to say (docs/design.md "Subjects"). */
  readonly subjectType: SubjectType;
  readonly bindingMessage: string;
  /** What the bank receives on approval: requested and approved for it, in the usual order. */
  readonly scopes: readonly string[];
  /** Claims asked for one by one (claims parameter), approved for the bank. */
  readonly claims: readonly string[];
  readonly requestedAt: Date;
  readonly expiresAt: Date;
  /** The assurance the bank asked for (acr_values); level 2 when it named none (the bank profile's default). */
  readonly requiredLevel: AssuranceLevel;
}

export interface ApprovalProof {
  /** urn:vn:eid:loa:1 or :2, as the approval reached. */
  readonly acr: string;
  readonly amr: readonly string[];
  /** The page's words, kept in the consent record. */
  readonly shown: ShownConsent;
  readonly ip?: string;
}

export type ApprovalOutcome = 'approved' | 'denied' | 'gone';

type BackchannelRequest = InstanceType<Provider['BackchannelAuthenticationRequest']>;

export class CibaApprovals {
  readonly #provider: Provider;
  readonly #index: CibaPendingIndex;
  readonly #consents: ConsentRecords;
  readonly #audit: AuditLog;

  constructor(deps: { provider: Provider; index: CibaPendingIndex; consents: ConsentRecords; audit: AuditLog }) {
    this.#provider = deps.provider;
    this.#index = deps.index;
    this.#consents = deps.consents;
    this.#audit = deps.audit;
  }

  /** The citizen's waiting requests, the one expiring first first. */
  async pending(accountId: string): Promise<PendingApproval[]> {
    const found = await Promise.all((await this.#index.requestIds(accountId)).map((id) => this.#load(accountId, id)));
    return found
      .filter((entry) => entry !== undefined)
      .map((entry) => entry.approval)
      .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime());
  }

  /** One waiting request of the citizen's; another citizen's, an answered or an expired one is undefined. */
  async find(accountId: string, requestId: string): Promise<PendingApproval | undefined> {
    if (!(await this.#index.holds(accountId, requestId))) return undefined;
    return (await this.#load(accountId, requestId))?.approval;
  }

  async approve(accountId: string, requestId: string, proof: ApprovalProof): Promise<ApprovalOutcome> {
    if (!(await this.#index.holds(accountId, requestId))) return 'gone';
    const loaded = await this.#load(accountId, requestId);
    if (!loaded || !(await this.#index.settle(requestId, 'approved', loaded.request.remainingTTL))) return 'gone';
    const { request, approval } = loaded;
    const grant = new this.#provider.Grant({ accountId, clientId: approval.clientId });
    grant.addOIDCScope(approval.scopes.join(' '));
    if (approval.claims.length > 0) grant.addOIDCClaims([...approval.claims]);
    const grantId = await grant.save();
    try {
      await this.#consents.record({ accountId, clientId: approval.clientId, grantId, scopes: approval.scopes, claims: approval.claims, shown: proof.shown });
    } catch (error) {
      // No grant without its proof; the request stays settled and expires unanswered.
      await grant.destroy();
      throw error;
    }
    await this.#audit.record({
      type: 'consent.given',
      actor: accountId,
      accountId,
      clientId: approval.clientId,
      data: { scopes: approval.scopes, claims: approval.claims, grantId, via: 'backchannel authentication' },
    });
    // The token's scope, and whether a refresh token comes, follow what was granted, not what was asked.
    request.scope = approval.scopes.join(' ');
    await this.#provider.backchannelResult(request, grant, {
      acr: proof.acr,
      amr: [...proof.amr],
      authTime: Math.floor(Date.now() / 1000),
    });
    await this.#index.release(accountId, requestId);
    await this.#audit.record({
      type: 'ciba.approved',
      actor: accountId,
      accountId,
      clientId: approval.clientId,
      data: { requestId: requestId.slice(0, 8), grantId, scopes: approval.scopes, acr: proof.acr, amr: proof.amr, ...(proof.ip && { ip: proof.ip }) },
    });
    return 'approved';
  }

  async deny(accountId: string, requestId: string, context: { ip?: string } = {}): Promise<ApprovalOutcome> {
    if (!(await this.#index.holds(accountId, requestId))) return 'gone';
    const loaded = await this.#load(accountId, requestId);
    if (!loaded || !(await this.#index.settle(requestId, 'denied', loaded.request.remainingTTL))) return 'gone';
    await this.#provider.backchannelResult(loaded.request, new errors.AccessDenied(DENIAL_DESCRIPTION));
    await this.#index.release(accountId, requestId);
    await this.#audit.record({
      type: 'ciba.denied',
      actor: accountId,
      accountId,
      clientId: loaded.approval.clientId,
      data: { requestId: requestId.slice(0, 8), ...(context.ip && { ip: context.ip }) },
    });
    return 'denied';
  }

  /** A request still waiting for this citizen, with what the page shows of it. */
  async #load(accountId: string, requestId: string): Promise<{ request: BackchannelRequest; approval: PendingApproval } | undefined> {
    if (typeof requestId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(requestId)) return undefined;
    const request = await this.#provider.BackchannelAuthenticationRequest.find(requestId);
    if (!request || request.accountId !== accountId || request.grantId || request.error || request.consumed || request.isExpired) return undefined;
    const clientId = request.clientId;
    const client = clientId === undefined ? undefined : await this.#provider.Client.find(clientId);
    if (!clientId || !client) return undefined;
    const approvedScopes = approvedScopesOf(client);
    const requested = new Set((request.scope ?? '').split(' '));
    const scopes = KNOWN_SCOPES.filter((scope) => requested.has(scope) && approvedScopes.has(scope));
    const approvedClaims = approvedClaimsOf(client);
    const claimRequests = { ...request.claims?.id_token, ...request.claims?.userinfo };
    const claims = Object.keys(claimRequests).filter((claim) => approvedClaims.has(claim) && !ALWAYS_RELEASED.has(claim));
    const acrRequest = request.claims?.id_token?.acr as { value?: unknown; values?: unknown } | undefined;
    return {
      request,
      approval: {
        id: requestId,
        clientId,
        clientName: client.clientName ?? clientId,
        subjectType: client.subjectType === 'pairwise' ? 'pairwise' : 'public',
        bindingMessage: typeof request.params?.binding_message === 'string' ? request.params.binding_message : '',
        scopes,
        claims,
        requestedAt: new Date((request.iat ?? 0) * 1000),
        expiresAt: new Date((request.exp ?? 0) * 1000),
        requiredLevel: requiredLevel(acrRequest) ?? 2,
      },
    };
  }
}

/** The acr an approval reaches: level 2 for a level-2 account (a second factor is always asked). */
export function approvalAcr(accountLevel: 1 | 2): string {
  return accountLevel === 2 ? LOA_2 : LOA_1;
}
