// HTTP for the sign-in pages: GET /interaction/{uid} shows the page the interaction needs, each POST
// finishes a step (login, otp, passkey, consent, abort, unmet) — one module per step.
import { Router } from '../../web/router.ts';
import { interactionPageRoutes, type InteractionPageDependencies } from './page.ts';
import { loginRoutes, type LoginDependencies } from './login.ts';
import { passkeyRoutes, type PasskeyDependencies } from './passkey.ts';
import { secondStep, secondStepRoutes, type SecondStepDependencies } from './second-step.ts';
import { consentRoutes } from './consent.ts';
import { representationRoutes, type RepresentationRoutesDependencies } from './representation.ts';

export type InteractionRoutesDependencies = InteractionPageDependencies & LoginDependencies & PasskeyDependencies & SecondStepDependencies & RepresentationRoutesDependencies;

export function interactionRoutes(deps: InteractionRoutesDependencies): Router {
  const second = secondStep(deps);
  return new Router()
    .mount(interactionPageRoutes(deps, second))
    .mount(loginRoutes(deps, second))
    .mount(passkeyRoutes(deps, second))
    .mount(secondStepRoutes(deps, second))
    .mount(consentRoutes(deps))
    .mount(representationRoutes(deps));
}
