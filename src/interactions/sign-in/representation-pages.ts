// The representation chooser's pages (src/interactions/sign-in/representation.ts): the parties the
// citizen may act for, one radio `party` each whose label carries the party's name; or, when there is
// none, a plain page saying so whose button returns access_denied to the service.
import { html, layout } from '../../web/html.ts';
import { formatDate, translator, type Locale } from '../../web/i18n.ts';
import { REPRESENTATION_MESSAGES } from '../messages/representation.ts';
import type { OrganisationRole, Party } from '../../representation/representation.ts';

export const t = translator(REPRESENTATION_MESSAGES);

/** The chooser form's value for a party: `organisation:<enterprise code>` or `child:<ID number>`. */
export function partyValue(party: Party): string {
  return party.kind === 'organisation' ? `organisation:${party.enterpriseCode}` : `child:${party.nationalId}`;
}

export function rolesText(locale: Locale, roles: readonly OrganisationRole[]): string {
  return roles.map((role) => t(locale, `role.${role}`)).join(', ');
}

/** The party in one line, as the option's label and the consent record say it. */
export function partyText(locale: Locale, party: Party): string {
  if (party.kind === 'organisation') {
    const name = locale === 'en' && party.nameEn ? `${party.name} (${party.nameEn})` : party.name;
    const basis = party.basis.kind === 'legal_representative' ? t(locale, 'rep.legal_representative').replace('{title}', party.basis.title) : t(locale, 'rep.authorised');
    return `${name}, ${t(locale, 'rep.organisation').replace('{code}', party.enterpriseCode)} — ${basis}`;
  }
  return `${party.name}, ${t(locale, 'rep.child').replace('{date}', formatDate(locale, party.birthDate))} — ${t(locale, `rep.relation.${party.relation}`)}`;
}

export interface ChooserPageModel {
  readonly locale: Locale;
  readonly uid: string;
  readonly clientName: string;
  readonly parties: readonly Party[];
  readonly roles: readonly OrganisationRole[];
  readonly childNationalIdReleased: boolean;
  readonly alert?: string;
  readonly switchHref: string;
}

export function chooserPage(model: ChooserPageModel): string {
  const { locale } = model;
  const hasOrganisation = model.parties.some((party) => party.kind === 'organisation');
  const hasChild = model.parties.some((party) => party.kind === 'child');
  return layout({
    locale,
    title: t(locale, 'rep.title'),
    switchHref: model.switchHref,
    body: html`<h1>${t(locale, 'rep.title')}</h1>
${model.alert ? html`<p role="alert">${model.alert}</p>` : ''}
<p>${t(locale, 'rep.lead').replace('{client}', model.clientName)}</p>
${model.roles.length > 0 ? html`<p>${t(locale, 'rep.roles')}: <strong>${rolesText(locale, model.roles)}</strong></p>` : ''}
<form method="post" action="/interaction/${model.uid}/representation">
<input type="hidden" name="lang" value="${locale}">
<fieldset class="parties">
<legend>${t(locale, 'rep.legend')}</legend>
${model.parties.map(
  (party, index) =>
    html`<label><input type="radio" name="party" value="${partyValue(party)}"${index === 0 ? html` required` : ''}> <span>${partyText(locale, party)}</span></label>`,
)}
</fieldset>
${hasOrganisation ? html`<p class="muted">${t(locale, 'rep.shared_organisation')}</p>` : ''}
${hasChild ? html`<p class="muted">${t(locale, model.childNationalIdReleased ? 'rep.shared_child_id' : 'rep.shared_child')}</p>` : ''}
<div class="actions"><button type="submit" class="primary">${t(locale, 'rep.continue')}</button></div>
</form>
<form method="post" action="/interaction/${model.uid}/abort">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="secondary">${t(locale, 'rep.cancel')}</button></div>
</form>
<p class="muted">${t(locale, 'rep.not_self')}</p>`,
  });
}

export interface NoPartyPageModel {
  readonly locale: Locale;
  readonly uid: string;
  readonly clientName: string;
  readonly roles: readonly OrganisationRole[];
  /** A level-1 account: the page says that only level 2 may act for others. */
  readonly levelOne: boolean;
  readonly switchHref: string;
}

export function noPartyPage(model: NoPartyPageModel): string {
  const { locale } = model;
  return layout({
    locale,
    title: t(locale, 'rep.none_title'),
    switchHref: model.switchHref,
    body: html`<h1>${t(locale, 'rep.none_title')}</h1>
<p role="alert">${t(locale, 'rep.none_lead').replace('{client}', model.clientName)}</p>
${model.roles.length > 0 ? html`<p>${t(locale, 'rep.roles')}: <strong>${rolesText(locale, model.roles)}</strong></p>` : ''}
${model.levelOne ? html`<p>${t(locale, 'rep.none_level')}</p>` : ''}
<p>${t(locale, 'rep.none_how')}</p>
<form method="post" action="/interaction/${model.uid}/representation/none">
<input type="hidden" name="lang" value="${locale}">
<div class="actions"><button type="submit" class="primary">${t(locale, 'rep.none_back')}</button></div>
</form>`,
  });
}

/** The consent record's words: what the chooser showed and what was chosen. */
export function chosenText(locale: Locale, clientName: string, party: Party, roles: readonly OrganisationRole[]): string {
  const lines = [t(locale, 'rep.record').replace('{client}', clientName).replace('{party}', partyText(locale, party))];
  if (party.kind === 'organisation' && roles.length > 0) lines.push(`${t(locale, 'rep.roles')}: ${rolesText(locale, roles)}`);
  return lines.join('\n');
}
