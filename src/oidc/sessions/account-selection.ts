// prompt=select_account: the browser's signed-in citizen either goes on, or makes way for someone
// else. Making way ends the session first — as a logout would: its grants revoked, its clients'
// back-channel logouts queued — so nothing of it carries over to whoever signs in next.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { AuditLog } from '../../audit/audit-log.ts';
import { InteractionExpired } from '../consent/interactions.ts';
import type { SessionTerminator } from './sessions.ts';

/** The account question of one interaction. */
export interface AccountChoice {
  readonly uid: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly uiLocales: string | undefined;
  /** The citizen signed in to this browser. */
  readonly accountId: string;
}

const asString = (value: unknown) => (typeof value === 'string' ? value : undefined);
const epochSeconds = () => Math.floor(Date.now() / 1000);

export class AccountSelection {
  readonly #provider: Provider;
  readonly #sessions: SessionTerminator;
  readonly #audit: AuditLog;

  constructor(provider: Provider, sessions: SessionTerminator, audit: AuditLog) {
    this.#provider = provider;
    this.#sessions = sessions;
    this.#audit = audit;
  }

  async #interaction(req: IncomingMessage, res: ServerResponse) {
    let interaction;
    try {
      interaction = await this.#provider.interactionDetails(req, res);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) throw new InteractionExpired('interaction not found', { cause: error });
      throw error;
    }
    const accountId = interaction.session?.accountId;
    if (interaction.prompt.name !== 'select_account' || !accountId) throw new InteractionExpired('no account is being chosen');
    return { interaction, accountId };
  }

  /** What the page asks about; InteractionExpired when this interaction asks no such thing. */
  async choice(req: IncomingMessage, res: ServerResponse): Promise<AccountChoice> {
    const { interaction, accountId } = await this.#interaction(req, res);
    return {
      uid: interaction.uid,
      clientId: asString(interaction.params.client_id) ?? '',
      redirectUri: asString(interaction.params.redirect_uri) ?? '',
      uiLocales: asString(interaction.params.ui_locales),
      accountId,
    };
  }

  /** The signed-in citizen goes on; returns where the browser goes next (the rest of the request). */
  async continueAsCurrent(req: IncomingMessage, res: ServerResponse): Promise<string> {
    await this.#interaction(req, res);
    return this.#provider.interactionResult(req, res, { select_account: {} }, { mergeWithLastSubmission: true });
  }

  /**
   * Someone else signs in: the current session ends now (not when the other citizen signs in, so that
   * cancelling leaves no one signed in either), and the request goes on without it — to the login page.
   */
  async useAnotherAccount(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const { interaction, accountId } = await this.#interaction(req, res);
    const origin = interaction.session as { uid?: unknown; cookie?: unknown } | undefined;
    // The session as it is now: its id changes when a sign-in resumes in another tab, its uid does not.
    const uid = asString(origin?.uid);
    const current = uid === undefined ? undefined : await this.#provider.Session.findByUid(uid);
    const ids = new Set([current?.jti, asString(origin?.cookie)].filter((id): id is string => id !== undefined));
    let ended = false;
    for (const id of ids) ended = (await this.#sessions.endSession(accountId, id)) || ended;
    // The request no longer belongs to that session (oidc-provider would refuse to resume it in
    // another one) nor to its grant. The result makes the policy ask for a login whatever session
    // the browser may still present (src/oidc/consent/interaction-policy.ts).
    interaction.session = undefined;
    interaction.grantId = undefined;
    interaction.result = { select_account: { anotherAccount: true } };
    await interaction.save(Math.max(1, (interaction.exp ?? 0) - epochSeconds()));
    await this.#audit.record({
      type: 'logout',
      actor: accountId,
      accountId,
      clientId: asString(interaction.params.client_id),
      data: { reason: 'select_account', sessionEnded: ended },
    });
    return interaction.returnTo;
  }
}
