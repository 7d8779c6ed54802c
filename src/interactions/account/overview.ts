// The account page's own page groups (GET /account, /account/contacts, /account/security,
// /account/sessions, /account/services, /account/history): registry data, contacts, factors, sign-in
// sessions, the services with access and the data-access history, with the notice a change left behind.
import { Router } from '../../web/router.ts';
import type { AccountFactors } from '../../accounts/second-factors.ts';
import type { ClientRepository } from '../../oidc/clients/clients.ts';
import type { ConsentRecords } from '../../oidc/consent/consent-records.ts';
import type { AccountSessions } from '../../oidc/sessions/account-sessions.ts';
import type { AccessHistory } from '../../audit/access-history.ts';
import { CONSOLE_CLIENT_ID } from '../account-console.ts';
import { ACCOUNT_SECTIONS, isAccountMessageKey } from './pages.ts';
import { overviewPage } from './overview-page.ts';
import { frame, send, type AccountSession, type Signed } from './session.ts';

const HISTORY_PAGE_SIZE = 20;
const SECTIONS = ['overview', 'contacts', 'security', 'sessions', 'services', 'history'] as const;

export interface OverviewRoutesDependencies {
  readonly factors: Pick<AccountFactors, 'listPasskeys'>;
  readonly clients: Pick<ClientRepository, 'find'>;
  readonly consents: Pick<ConsentRecords, 'servicesWithAccess'>;
  readonly accessHistory: AccessHistory;
  readonly accountSessions: AccountSessions;
}

export function overviewRoutes(deps: OverviewRoutesDependencies, account: AccountSession): Router {
  const router = new Router();
  for (const section of SECTIONS) router.get(ACCOUNT_SECTIONS[section].path, account.get((signed) => show(signed, section)));
  return router;

  async function show(signed: Signed, section: (typeof SECTIONS)[number]): Promise<void> {
    const { ctx, locale, account: holder, session } = signed;
    if (section === 'overview' && typeof ctx.query.history === 'string') {
      // The history had no page of its own before: its old links still land on it.
      ctx.status = 301;
      ctx.redirect(`${ACCOUNT_SECTIONS.history.path}?history=${encodeURIComponent(ctx.query.history)}`);
      return;
    }
    const notice = isAccountMessageKey(session.flash) ? session.flash : undefined;
    if (session.flash !== undefined) {
      signed.session = { ...session, flash: undefined };
      await account.saveSession(signed.sessionId, signed.session);
    }
    const historyPage = Math.min(Math.max(Number.parseInt(typeof ctx.query.history === 'string' ? ctx.query.history : '0', 10) || 0, 0), 10_000);
    const [record, passkeys, sessions, services, history] = await Promise.all([
      account.registryRecordOf(holder),
      deps.factors.listPasskeys(holder.id),
      deps.accountSessions.list(holder.id),
      deps.consents.servicesWithAccess(holder.id),
      deps.accessHistory.page(holder.id, { page: historyPage, pageSize: HISTORY_PAGE_SIZE }),
    ]);
    const clientNames = new Map<string, string>();
    const clientIds = [...sessions.flatMap((item) => item.clientIds), ...services.map((item) => item.clientId), ...history.entries.map((item) => item.clientId ?? '')];
    for (const clientId of new Set(clientIds.filter((id) => id !== ''))) {
      clientNames.set(clientId, (await deps.clients.find(clientId))?.name ?? clientId);
    }
    send(
      ctx,
      200,
      overviewPage({
        ...frame(ctx, locale),
        csrf: session.csrf,
        notice,
        account: holder,
        signIn: { acr: session.acr, authTime: new Date(session.authTime * 1000) },
        record,
        factors: signed.factors,
        passkeys,
        sessions: sessions.map((item) => ({
          id: item.id,
          current: session.sid !== undefined && item.sids[CONSOLE_CLIENT_ID] === session.sid,
          signedInAt: item.signedInAt,
          expiresAt: item.expiresAt,
          services: item.clientIds.map((clientId) => clientNames.get(clientId) ?? clientId),
        })),
        services: services.map((item) => ({
          clientName: clientNames.get(item.clientId) ?? item.clientId,
          scopes: item.scopes,
          claims: item.claims,
          since: item.since,
          recordId: item.latestRecordId,
        })),
        history: {
          page: historyPage,
          hasMore: history.hasMore,
          rows: history.entries.map((entry) => ({
            at: entry.at,
            kind: entry.kind,
            clientName: entry.clientId === undefined ? '' : (clientNames.get(entry.clientId) ?? entry.clientId),
            items: entry.items,
            ...(entry.actingFor && { actingFor: entry.actingFor }),
          })),
        },
        today: new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date()),
      }, section),
    );
  }
}
