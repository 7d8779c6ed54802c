// The sign-in pages' view of oidc-provider's interactions: what is being asked, and how to finish
// it (login, consent, refusal). Pages stay free of oidc-provider types.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ConsentRecords, ShownConsent } from './consent-records.ts';
import { approvedScopesOf } from './interaction-policy.ts';
import type { SubjectType } from '../subjects.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { RepresentationRequest } from '../../representation/representation.ts';
import { representationRequestOf, type RepresentationChoice } from './representation.ts';

export interface InteractionView {
  readonly uid: string;
  /** 'login', 'consent' or 'select_account'. */
  readonly prompt: string;
  readonly clientId: string;
  readonly clientName: string;
  /** What `sub` the client gets, for the consent page to say (docs/design.md "Subjects"). */
  readonly subjectType: SubjectType;
  readonly redirectUri: string;
  /** Scopes the consent page must show: requested, approved, not yet granted. */
  readonly scopesToConsent: readonly string[];
  /** Claims asked for individually (claims parameter), approved, not yet granted. */
  readonly claimsToConsent: readonly string[];
  readonly uiLocales: string | undefined;
  readonly loginHint: string | undefined;
  /** The account of the browser's session, if it has one (also during a step-up). */
  readonly accountId: string | undefined;
  /** The session's assurance level so far (acr), if signed in. */
  readonly sessionAcr: string | undefined;
  /** Why the prompt is shown (oidc-provider's reasons, e.g. no_session, acr_level_too_low). */
  readonly reasons: readonly string[];
  /** The level this request needs, when the session is below it. */
  readonly requiredAcr: string | undefined;
}

export interface LoginResult {
  readonly accountId: string;
  readonly acr: string;
  readonly amr: readonly string[];
}

/** The interaction is unknown or expired (or its cookie is missing): the citizen must start again. */
export class InteractionExpired extends Error {
  override readonly name = 'InteractionExpired';
}

const asString = (value: unknown) => (typeof value === 'string' ? value : undefined);
const asStrings = (value: unknown) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

export class InteractionService {
  readonly #provider: Provider;
  readonly #audit: AuditLog;
  readonly #consents: ConsentRecords;
  readonly #metrics: Pick<Metrics, 'signIn'> | undefined;

  constructor(provider: Provider, audit: AuditLog, consents: ConsentRecords, metrics?: Pick<Metrics, 'signIn'>) {
    this.#provider = provider;
    this.#audit = audit;
    this.#consents = consents;
    this.#metrics = metrics;
  }

  async #details(req: IncomingMessage, res: ServerResponse) {
    try {
      return await this.#provider.interactionDetails(req, res);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) throw new InteractionExpired('interaction not found', { cause: error });
      throw error;
    }
  }

  async view(req: IncomingMessage, res: ServerResponse): Promise<InteractionView> {
    const details = await this.#details(req, res);
    const clientId = asString(details.params.client_id) ?? '';
    const client = await this.#provider.Client.find(clientId);
    if (!client) throw new InteractionExpired('the client of this interaction is gone');
    const approved = approvedScopesOf(client);
    const promptDetails = details.prompt.details as { missingOIDCScope?: unknown; missingOIDCClaims?: unknown; requiredAcr?: unknown };
    const requested = (asString(details.params.scope) ?? '').split(' ');
    return {
      uid: details.uid,
      prompt: details.prompt.name,
      clientId,
      clientName: client.clientName ?? clientId,
      subjectType: client.subjectType === 'pairwise' ? 'pairwise' : 'public',
      redirectUri: asString(details.params.redirect_uri) ?? '',
      scopesToConsent:
        details.prompt.name === 'consent' && promptDetails.missingOIDCScope === undefined
          ? requested.filter((scope) => approved.has(scope)) // prompt=consent: show everything asked
          : asStrings(promptDetails.missingOIDCScope),
      claimsToConsent: asStrings(promptDetails.missingOIDCClaims),
      uiLocales: asString(details.params.ui_locales),
      loginHint: asString(details.params.login_hint),
      accountId: details.session?.accountId,
      sessionAcr: asString((details.session as { acr?: unknown } | undefined)?.acr),
      reasons: details.prompt.reasons,
      requiredAcr: asString(promptDetails.requiredAcr),
    };
  }

  /** Records a successful sign-in; returns where to send the browser next. */
  async finishLogin(req: IncomingMessage, res: ServerResponse, login: LoginResult): Promise<string> {
    await this.#details(req, res);
    const next = await this.#provider.interactionResult(
      req,
      res,
      // remember: false — a session cookie, gone when the browser closes (shared computers).
      { login: { accountId: login.accountId, acr: login.acr, amr: [...login.amr], remember: false } },
      { mergeWithLastSubmission: false },
    );
    this.#metrics?.signIn('success', login.acr);
    return next;
  }

  /**
   * Grants what the consent page showed (approved scopes and claims only) and keeps a consent record
   * of it: `shown` is the page's text, word for word, in the language it was shown in.
   */
  async finishConsent(req: IncomingMessage, res: ServerResponse, shown: ShownConsent): Promise<string> {
    const details = await this.#details(req, res);
    const view = await this.view(req, res);
    const accountId = details.session?.accountId;
    if (!accountId || details.prompt.name !== 'consent') throw new InteractionExpired('no consent is being asked');
    const existing = details.grantId ? await this.#provider.Grant.find(details.grantId) : undefined;
    const grant = existing ?? new this.#provider.Grant({ accountId, clientId: view.clientId });
    // What the page did not show is not granted; rejected, it counts as answered and is not asked again.
    const withheldScopes = new Set(shown.withheld?.scopes ?? []);
    const withheldClaims = new Set(shown.withheld?.claims ?? []);
    const scopes = view.scopesToConsent.filter((scope) => !withheldScopes.has(scope));
    const claims = view.claimsToConsent.filter((claim) => !withheldClaims.has(claim));
    if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
    if (claims.length > 0) grant.addOIDCClaims(claims);
    if (withheldScopes.size > 0) grant.rejectOIDCScope([...withheldScopes].join(' '));
    if (withheldClaims.size > 0) grant.rejectOIDCClaims([...withheldClaims]);
    const grantId = await grant.save();
    try {
      await this.#consents.record({ accountId, clientId: view.clientId, grantId, scopes, claims, shown });
    } catch (error) {
      // No new grant without its proof. (An existing grant keeps the scopes just saved; the
      // interaction fails, so no token is issued on them until a consent is recorded.)
      if (!existing) await grant.destroy();
      throw error;
    }
    await this.#audit.record({
      type: 'consent.given',
      actor: accountId,
      accountId,
      clientId: view.clientId,
      data: { scopes, claims, grantId },
    });
    return this.#provider.interactionResult(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  /** What the chooser is asked (src/oidc/consent/representation.ts); undefined when the interaction asks no representation. */
  async representationRequest(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ readonly request: RepresentationRequest; readonly childNationalIdReleased: boolean } | undefined> {
    const details = await this.#details(req, res);
    if (details.prompt.name !== 'representation') return undefined;
    const request = representationRequestOf(details.params);
    if (!request) return undefined;
    const client = await this.#provider.Client.find(asString(details.params.client_id) ?? '');
    // A child's ID number goes only to a client approved for the national_id scope (src/oidc/consent/representation.ts).
    return { request, childNationalIdReleased: approvedScopesOf(client).has('national_id') };
  }

  /**
   * The citizen chose a party (already checked against the registers by the caller): a consent record
   * of the chooser's words ("acting for X"), an audit event, and the choice in the interaction's result,
   * from which the code's authorization_details are made.
   */
  async finishRepresentation(
    req: IncomingMessage,
    res: ServerResponse,
    choice: RepresentationChoice & { readonly shown: ShownConsent; readonly actingFor: { readonly kind: string; readonly name: string } },
  ): Promise<string> {
    const details = await this.#details(req, res);
    const accountId = details.session?.accountId;
    const clientId = asString(details.params.client_id) ?? '';
    const lastConsent = (details.lastSubmission as { consent?: { grantId?: unknown } } | undefined)?.consent?.grantId;
    const grantId = details.grantId ?? asString(lastConsent);
    if (!accountId || details.prompt.name !== 'representation' || !grantId) throw new InteractionExpired('no representation is being asked');
    await this.#consents.record({ accountId, clientId, grantId, scopes: [], claims: [], shown: choice.shown });
    await this.#audit.record({
      type: 'consent.given',
      actor: accountId,
      accountId,
      clientId,
      data: { scopes: [], claims: [], grantId, actingFor: choice.actingFor, roles: [...choice.roles] },
    });
    return this.#provider.interactionResult(req, res, { representation: { ref: choice.ref, roles: [...choice.roles] } }, { mergeWithLastSubmission: true });
  }

  /** The request for representation cannot be met (no party, or the citizen cancelled): access_denied with a description. */
  async refuseRepresentation(req: IncomingMessage, res: ServerResponse, description: string): Promise<string> {
    await this.#details(req, res);
    return this.#provider.interactionResult(req, res, { error: 'access_denied', error_description: description }, { mergeWithLastSubmission: false });
  }

  /** The request cannot be met as asked (for example level 2 for a level-1 account). */
  async fail(req: IncomingMessage, res: ServerResponse, error: 'unmet_authentication_requirements', description: string): Promise<string> {
    await this.#details(req, res);
    return this.#provider.interactionResult(req, res, { error, error_description: description }, { mergeWithLastSubmission: false });
  }

  /** The citizen refused or cancelled: the client gets access_denied. */
  async abort(req: IncomingMessage, res: ServerResponse): Promise<string> {
    await this.#details(req, res);
    return this.#provider.interactionResult(
      req,
      res,
      { error: 'access_denied', error_description: 'the citizen did not agree' },
      { mergeWithLastSubmission: false },
    );
  }
}
