// Self-service at /account: the citizen's registry data, contacts, second factors, password, sign-in
// sessions, consents, bank approvals and "lock my account" — one router of page groups, each in its
// own module, sharing the console session of ./session.ts.
import { Router } from '../../web/router.ts';
import { accountSession, type AccountSessionDependencies } from './session.ts';
import { signInRoutes, type SignInRoutesDependencies } from './sign-in.ts';
import { overviewRoutes, type OverviewRoutesDependencies } from './overview.ts';
import { factorRoutes, type FactorRoutesDependencies } from './factors.ts';
import { contactRoutes, type ContactRoutesDependencies } from './contacts.ts';
import { passwordRoutes, type PasswordRoutesDependencies } from './password.ts';
import { sessionRoutes, type SessionRoutesDependencies } from './sessions.ts';
import { consentRoutes, type ConsentRoutesDependencies } from './consents.ts';
import { approvalRoutes, type ApprovalRoutesDependencies } from './approvals.ts';
import { organisationRoutes, type OrganisationRoutesDependencies } from './organisations.ts';

/** What the account page uses; the composition root (src/server.ts) hands it over. */
export type AccountRoutesDependencies = AccountSessionDependencies &
  SignInRoutesDependencies &
  OverviewRoutesDependencies &
  FactorRoutesDependencies &
  ContactRoutesDependencies &
  PasswordRoutesDependencies &
  SessionRoutesDependencies &
  ConsentRoutesDependencies &
  ApprovalRoutesDependencies &
  OrganisationRoutesDependencies;

export function accountRoutes(deps: AccountRoutesDependencies): Router {
  const account = accountSession(deps);
  return new Router()
    .mount(signInRoutes(deps, account))
    .mount(overviewRoutes(deps, account))
    .mount(factorRoutes(deps, account))
    .mount(contactRoutes(deps, account))
    .mount(passwordRoutes(deps, account))
    .mount(sessionRoutes(deps, account))
    .mount(consentRoutes(deps, account))
    .mount(approvalRoutes(deps, account))
    .mount(organisationRoutes(deps, account));
}
