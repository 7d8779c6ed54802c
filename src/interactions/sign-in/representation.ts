// HTTP for the representation chooser (docs/representation.md "The chooser"), the `representation`
// prompt that follows consent when a client asked for urn:vn:eid:representation:
//   GET  /interaction/<uid>/representation        the parties the citizen may act for (or "no one")
//   POST /interaction/<uid>/representation        form field `party`: the choice, checked again now
//   POST /interaction/<uid>/representation/none   back to the service with access_denied
// Choosing oneself is not offered: the service asked for a representation, and a token that says less
// than asked is not given; cancelling (POST …/abort) returns access_denied as well.
import { Router } from '../../web/router.ts';
import type { AccountStore } from '../../accounts/account-store.ts';
import { InteractionExpired } from '../../oidc/consent/interactions.ts';
import type { Party, RepresentationDirectory } from '../../representation/representation.ts';
import { chooserPage, chosenText, noPartyPage, partyValue } from './representation-pages.ts';
import { UID, signInStep, type SignInStep, type StepDependencies } from './step.ts';
import { t } from './representation-pages.ts';

export interface RepresentationRoutesDependencies extends StepDependencies {
  readonly accounts: Pick<AccountStore, 'findById'>;
  readonly representation: Pick<RepresentationDirectory, 'partiesFor'>;
}

/** Where the chooser of an interaction is (./page.ts sends the browser there). */
export const representationPath = (uid: string): string => `/interaction/${uid}/representation`;

/** What the service gets when the request cannot be met: no party qualifies. */
const NO_PARTY = 'the citizen represents no organisation or child for what was asked';

export function representationRoutes(deps: RepresentationRoutesDependencies): Router {
  /** The request, the acting account and the parties it may act for now; InteractionExpired when no representation is asked. */
  const situation = async ({ ctx, view }: SignInStep) => {
    const asked = await deps.interactions.representationRequest(ctx.req, ctx.res);
    const account = view.accountId ? await deps.accounts.findById(view.accountId) : undefined;
    if (!asked || !account) throw new InteractionExpired('no representation is being asked');
    const parties = account.status === 'active' ? await deps.representation.partiesFor({ nationalId: account.nationalId, level: account.level }, asked.request) : [];
    return { ...asked, account, parties };
  };

  const show = (step: SignInStep, found: Awaited<ReturnType<typeof situation>>, status = 200, alert?: string) => {
    const { locale, view, here, send } = step;
    const roles = found.request.partyKinds.includes('organisation') ? found.request.roles : [];
    if (found.parties.length === 0) {
      send(status === 200 ? 200 : status, noPartyPage({ locale, uid: view.uid, clientName: view.clientName, roles, levelOne: found.account.level !== 2, switchHref: here }));
      return;
    }
    send(
      status,
      chooserPage({
        locale,
        uid: view.uid,
        clientName: view.clientName,
        parties: found.parties,
        roles,
        childNationalIdReleased: found.childNationalIdReleased,
        ...(alert && { alert }),
        switchHref: here,
      }),
    );
  };

  return new Router()
    .get(
      '/interaction/{uid}/representation',
      signInStep(deps, 'GET', async (step) => {
        if (step.view.prompt !== 'representation') throw new InteractionExpired('not waiting for a representation');
        show(step, await situation(step));
      }),
      UID,
    )
    .post(
      '/interaction/{uid}/representation',
      signInStep(deps, 'POST', async (step) => {
        const { ctx, view, form, locale } = step;
        if (view.prompt !== 'representation') throw new InteractionExpired('not waiting for a representation');
        const found = await situation(step);
        const value = form.get('party') ?? '';
        if (!value) {
          show(step, found, 400, t(locale, 'rep.choose'));
          return;
        }
        // Checked against the registers as they are now: a party that stopped qualifying is refused.
        const party: Party | undefined = found.parties.find((candidate) => partyValue(candidate) === value);
        if (!party) {
          show(step, found, 403, t(locale, 'rep.no_longer'));
          return;
        }
        const roles = party.kind === 'organisation' ? found.request.roles : [];
        ctx.status = 303;
        ctx.redirect(
          await deps.interactions.finishRepresentation(ctx.req, ctx.res, {
            ref: value,
            roles,
            shown: { locale, text: chosenText(locale, view.clientName, party, roles) },
            actingFor: { kind: party.kind, name: party.name },
          }),
        );
      }),
      UID,
    )
    .post(
      '/interaction/{uid}/representation/none',
      signInStep(deps, 'POST', async ({ ctx, view }) => {
        if (view.prompt !== 'representation') throw new InteractionExpired('not waiting for a representation');
        ctx.status = 303;
        ctx.redirect(await deps.interactions.refuseRepresentation(ctx.req, ctx.res, NO_PARTY));
      }),
      UID,
    );
}
