// The citizen's consent records on the account page: printing one (GET), and withdrawing it (GET
// asks, POST does). Withdrawing only takes access away: no fresh sign-in needed, like ending a session.
import { Router, type RouteParams } from '../../web/router.ts';
import type { ClientRepository } from '../../oidc/clients/clients.ts';
import type { ConsentRecords } from '../../oidc/consent/consent-records.ts';
import { ACCOUNT_SECTIONS, accountErrorPage } from './pages.ts';
import { consentRecordPage, withdrawConsentPage } from './consents-pages.ts';
import { frame, send, type AccountSession, type Signed } from './session.ts';

/** A consent record's id in its pages' paths. */
export const CONSENT_ID = /[0-9a-f-]{36}/;

export interface ConsentRoutesDependencies {
  readonly clients: Pick<ClientRepository, 'find'>;
  readonly consents: Pick<ConsentRecords, 'find' | 'withdraw'>;
}

export function consentRoutes(deps: ConsentRoutesDependencies, account: AccountSession): Router {
  /** The citizen's own consent record named in the path; another citizen's is not found (404). */
  const ownConsentRecord = async (signed: Signed, params: RouteParams) => {
    const record = await deps.consents.find(signed.account.id, params.id ?? '');
    if (!record) send(signed.ctx, 404, accountErrorPage(frame(signed.ctx, signed.locale), 'consents.not_found'));
    return record;
  };
  const clientNameOf = async (clientId: string) => (await deps.clients.find(clientId))?.name ?? clientId;
  const options = { params: { id: CONSENT_ID } };

  return new Router()
    .get(
      '/account/consents/{id}',
      account.get(async (signed, params) => {
        const record = await ownConsentRecord(signed, params);
        if (!record) return;
        send(
          signed.ctx,
          200,
          consentRecordPage({
            ...frame(signed.ctx, signed.locale),
            id: record.id,
            clientId: record.clientId,
            clientName: await clientNameOf(record.clientId),
            scopes: record.scopes,
            claims: record.claims,
            shownText: record.shownText,
            shownLocale: record.locale,
            givenAt: record.givenAt,
            withdrawnAt: record.withdrawnAt,
          }),
        );
      }),
      options,
    )
    .get(
      '/account/consents/{id}/withdraw',
      account.get(async (signed, params) => {
        const record = await ownConsentRecord(signed, params);
        if (!record) return;
        if (record.withdrawnAt) {
          await account.flashAndReturn(signed, 'notice.consent_withdrawn', ACCOUNT_SECTIONS.services.path);
          return;
        }
        send(
          signed.ctx,
          200,
          withdrawConsentPage({ ...frame(signed.ctx, signed.locale), csrf: signed.session.csrf, id: record.id, clientName: await clientNameOf(record.clientId) }),
        );
      }),
      options,
    )
    .post(
      '/account/consents/{id}/withdraw',
      account.post(async (signed, params) => {
        const record = await deps.consents.withdraw(signed.account.id, params.id ?? '', { ip: signed.ctx.ip });
        if (!record) {
          send(signed.ctx, 404, accountErrorPage(frame(signed.ctx, signed.locale), 'consents.not_found'));
          return;
        }
        await account.flashAndReturn(signed, 'notice.consent_withdrawn', ACCOUNT_SECTIONS.services.path);
      }),
      options,
    );
}
