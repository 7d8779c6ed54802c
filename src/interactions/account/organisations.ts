// HTTP for /account/organisations (signed in, and the CSRF token of every POST checked, by ./session.ts):
// the organisations a citizen represents and the authorisations they received (declined in one
// click), and one organisation's page for its current legal representative: activation, grants,
// revocation in one click, and every use of the organisation's account.
//
// An organisation's page and its revocations need the console's sign-in at level 2 (urn:vn:eid:loa:2):
// it lists other citizens' ID numbers and hands out the organisation's authority. Activating and
// granting need that sign-in to be fresh too (at most 5 minutes old), like a change of second factors
// (./session.ts). Without it the browser is sent to step up (acr_values=urn:vn:eid:loa:2, max_age=300)
// and back to the organisation's page; an account that cannot reach level 2 (level 1, or no second
// factor yet) is told why instead, so nothing loops. Declining only takes access away: any sign-in.
import { Router, type RouteParams } from '../../web/router.ts';
import { hasStrongSecondFactor } from '../../accounts/second-factors.ts';
import { RegistryUnavailable } from '../../registry/gateway.ts';
import {
  ENTERPRISE_CODE,
  OrganisationRefusal,
  type Actor,
  type OrganisationAccounts,
  type OrganisationEntry,
} from '../../representation/organisation-accounts.ts';
import { FRESH_SIGN_IN_SECONDS, LOA_2 } from '../account-console.ts';
import { html } from '../../web/html.ts';
import { switchHref, translator } from '../../web/i18n.ts';
import { ORGANISATION_MESSAGES } from '../messages/organisations.ts';
import {
  isOrganisationMessageKey,
  organisationPage,
  organisationPath,
  organisationsPage,
  type GrantForm,
  type OrganisationMessageKey,
} from './organisations-pages.ts';
import { ACCOUNT_SECTIONS, page } from './pages.ts';
import { send, type AccountSession, type Signed } from './session.ts';

const LIST = ACCOUNT_SECTIONS.organisations.path;
const VIA = 'account page';
const t = translator(ORGANISATION_MESSAGES);

export interface OrganisationRoutesDependencies {
  readonly organisationAccounts: Pick<
    OrganisationAccounts,
    'today' | 'organisation' | 'representedBy' | 'managed' | 'activate' | 'grantsOf' | 'grantsTo' | 'grant' | 'revoke' | 'decline' | 'usesOf' | 'childUsesFor'
  >;
}

const actorOf = (signed: Signed): Actor => ({ accountId: signed.account.id, nationalId: signed.account.nationalId, level: signed.account.level });

export function organisationRoutes(deps: OrganisationRoutesDependencies, account: AccountSession): Router {
  const organisations = deps.organisationAccounts;
  // The router anchors a parameter's pattern itself (src/web/router.ts).
  const options = { params: { code: /[0-9]{10}(?:-[0-9]{3})?/ } };

  /** A page that says why the request cannot go on, with a way back to the list. */
  const refuse = (signed: Signed, status: number, key: OrganisationMessageKey) => {
    const { ctx, locale } = signed;
    send(
      ctx,
      status,
      page(
        // Answered at a POST address too: the other language is the list.
        { locale, switchHref: switchHref(LIST, locale) },
        t(locale, 'org.title'),
        html`<h1>${t(locale, 'org.title')}</h1>
<p role="alert">${t(locale, key)}</p>
<p><a href="${LIST}">${t(locale, 'org.back')}</a></p>`,
      ),
    );
  };

  /**
   * True when the console's sign-in is at level 2 (and fresh, if asked); otherwise it starts a step-up
   * to `returnTo`, or explains why none can help, and answers the request itself.
   */
  const levelTwo = async (signed: Signed, returnTo: string, fresh: boolean): Promise<boolean> => {
    const { ctx, locale, session } = signed;
    if (signed.account.level !== 2) {
      refuse(signed, 403, 'org.needs_level2');
      return false;
    }
    if (session.acr === LOA_2 && (!fresh || Date.now() / 1000 - session.authTime <= FRESH_SIGN_IN_SECONDS)) return true;
    if (!hasStrongSecondFactor(signed.factors)) {
      refuse(signed, 403, 'org.needs_factor');
      return false;
    }
    await account.startSignIn(ctx, locale, { returnTo, stepUp: true, acrValues: LOA_2 });
    return false;
  };

  /** Takes the notice a change left behind (post/redirect/get). */
  const takeFlash = async (signed: Signed): Promise<OrganisationMessageKey | undefined> => {
    const flash = signed.session.flash;
    if (flash === undefined) return undefined;
    signed.session = { ...signed.session, flash: undefined };
    await account.saveSession(signed.sessionId, signed.session);
    return isOrganisationMessageKey(flash) ? flash : undefined;
  };

  const flashAndReturn = async (signed: Signed, key: OrganisationMessageKey, to: string) => {
    signed.session = { ...signed.session, flash: key };
    await account.saveSession(signed.sessionId, signed.session);
    signed.ctx.status = 303;
    signed.ctx.redirect(to);
  };

  const showList = async (signed: Signed, status: number, message: { notice?: OrganisationMessageKey | undefined; error?: OrganisationMessageKey } = {}) => {
    const { ctx, locale, account: holder } = signed;
    const [represented, received, childUses] = await Promise.all([
      organisations.representedBy(holder.nationalId),
      organisations.grantsTo(holder.nationalId),
      // A parent acts for a child only with a level-2 account: so does the parent's view of the uses.
      holder.level === 2 ? organisations.childUsesFor(holder.nationalId) : Promise.resolve([]),
    ]);
    send(
      ctx,
      status,
      organisationsPage({
        // A refused form is answered at its POST address: the other language is the list itself.
        locale,
        switchHref: switchHref(LIST, locale),
        csrf: signed.session.csrf,
        ...message,
        level: holder.level,
        canReachLevelTwo: hasStrongSecondFactor(signed.factors),
        represented,
        received,
        childUses,
      }),
    );
  };

  const showOrganisation = async (
    signed: Signed,
    entry: OrganisationEntry,
    status: number,
    message: { notice?: OrganisationMessageKey | undefined; error?: OrganisationMessageKey; form?: GrantForm } = {},
  ) => {
    const { ctx, locale } = signed;
    const usesQuery = typeof ctx.query.uses === 'string' ? ctx.query.uses : '0';
    const usesPage = Math.min(Math.max(Number.parseInt(usesQuery, 10) || 0, 0), 10_000);
    const [grants, uses] = await Promise.all([organisations.grantsOf(entry.enterpriseCode), organisations.usesOf(entry.enterpriseCode, usesPage)]);
    send(
      ctx,
      status,
      organisationPage({
        locale,
        switchHref: switchHref(`${organisationPath(entry.enterpriseCode)}${usesPage > 0 ? `?uses=${usesPage}` : ''}`, locale),
        csrf: signed.session.csrf,
        ...(message.notice && { notice: message.notice }),
        ...(message.error && { error: message.error }),
        organisation: entry,
        grants,
        uses: uses.uses,
        usesPage,
        usesHasMore: uses.hasMore,
        form: message.form ?? { grantee: '', roles: [], validFrom: organisations.today(), validUntil: '' },
      }),
    );
  };

  /** The organisation of the path, if the signed-in citizen is its current legal representative. */
  const representedOrganisation = async (signed: Signed, params: RouteParams): Promise<OrganisationEntry | undefined> => {
    try {
      return await organisations.managed({ ...actorOf(signed), level: 2 }, params.code ?? '');
    } catch (error) {
      if (!(error instanceof OrganisationRefusal)) throw error;
      refuse(signed, error.status, `org.error.${error.code}`);
      return undefined;
    }
  };

  const list = async (signed: Signed) => showList(signed, 200, { notice: await takeFlash(signed) });

  const show = async (signed: Signed, params: RouteParams) => {
    const entry = await representedOrganisation(signed, params);
    if (!entry || !(await levelTwo(signed, organisationPath(entry.enterpriseCode), false))) return;
    await showOrganisation(signed, entry, 200, { notice: await takeFlash(signed) });
  };

  const activate = async (signed: Signed) => {
    const code = signed.form.get('enterprise_code') ?? '';
    if (!ENTERPRISE_CODE.test(code)) {
      await showList(signed, 404, { error: 'org.error.unknown_organisation' });
      return;
    }
    // A citizen the register does not name is refused before any step-up.
    if (!(await representedOrganisation(signed, { code }))) return;
    if (!(await levelTwo(signed, organisationPath(code), true))) return;
    try {
      await organisations.activate(actorOf(signed), code, { ip: signed.ctx.ip, via: VIA });
    } catch (error) {
      if (!(error instanceof OrganisationRefusal)) throw error;
      await showList(signed, error.status, { error: `org.error.${error.code}` });
      return;
    }
    await flashAndReturn(signed, 'org.notice.activated', organisationPath(code));
  };

  const grant = async (signed: Signed, params: RouteParams) => {
    const entry = await representedOrganisation(signed, params);
    if (!entry || !(await levelTwo(signed, organisationPath(entry.enterpriseCode), true))) return;
    const { form } = signed;
    const input = {
      grantee: (form.get('grantee') ?? '').slice(0, 40),
      roles: form.getAll('roles'),
      validFrom: form.get('valid_from') ?? '',
      validUntil: form.get('valid_until') ?? '',
    };
    try {
      await organisations.grant(actorOf(signed), entry.enterpriseCode, input, { ip: signed.ctx.ip, via: VIA });
    } catch (error) {
      const shown = { grantee: input.grantee, roles: input.roles, validFrom: input.validFrom.slice(0, 10), validUntil: input.validUntil.slice(0, 10) };
      if (error instanceof RegistryUnavailable) {
        await showOrganisation(signed, entry, 503, { error: 'org.error.registry_unavailable', form: shown });
        return;
      }
      if (!(error instanceof OrganisationRefusal)) throw error;
      const key: OrganisationMessageKey = `org.error.${error.code}`;
      await showOrganisation(signed, entry, error.status, error.field ? { form: { ...shown, error: { field: error.field, key } } } : { error: key, form: shown });
      return;
    }
    await flashAndReturn(signed, 'org.notice.granted', organisationPath(entry.enterpriseCode));
  };

  const revoke = async (signed: Signed, params: RouteParams) => {
    const entry = await representedOrganisation(signed, params);
    if (!entry || !(await levelTwo(signed, organisationPath(entry.enterpriseCode), false))) return;
    try {
      await organisations.revoke(actorOf(signed), entry.enterpriseCode, signed.form.get('grant') ?? '', { ip: signed.ctx.ip, via: VIA });
    } catch (error) {
      if (!(error instanceof OrganisationRefusal)) throw error;
      await showOrganisation(signed, entry, error.status, { error: `org.error.${error.code}` });
      return;
    }
    await flashAndReturn(signed, 'org.notice.revoked', organisationPath(entry.enterpriseCode));
  };

  const decline = async (signed: Signed) => {
    try {
      await organisations.decline(actorOf(signed), signed.form.get('grant') ?? '', { ip: signed.ctx.ip, via: VIA });
    } catch (error) {
      if (!(error instanceof OrganisationRefusal)) throw error;
      await showList(signed, error.status, { error: `org.error.${error.code}` });
      return;
    }
    await flashAndReturn(signed, 'org.notice.declined', LIST);
  };

  return new Router()
    .get(LIST, account.get(list))
    .post(`${LIST}/activate`, account.post(activate))
    .post(`${LIST}/grants/decline`, account.post(decline))
    .get(`${LIST}/{code}`, account.get(show), options)
    .post(`${LIST}/{code}/grants`, account.post(grant), options)
    .post(`${LIST}/{code}/grants/revoke`, account.post(revoke), options);
}
