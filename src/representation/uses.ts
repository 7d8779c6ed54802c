// Every token issued or refreshed while a citizen acts for a party (docs/representation.md): one
// representation_uses row, what the organisation's representative (or the parent) sees later. The
// child is named by ID number, since a child under 14 has no account.
import type { Database } from '../storage/database.ts';
import type { OrganisationRole, Party } from './representation.ts';

export interface RepresentationUse {
  readonly party: Party;
  readonly actorAccountId: string;
  readonly clientId: string;
  readonly roles: readonly OrganisationRole[];
  /** `issued` (a code exchanged) or `refreshed`. */
  readonly event: 'issued' | 'refreshed';
}

export class RepresentationUses {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async record(use: RepresentationUse): Promise<void> {
    await this.#db('representation_uses').insert({
      party_kind: use.party.kind,
      enterprise_code: use.party.kind === 'organisation' ? use.party.enterpriseCode : null,
      child_national_id: use.party.kind === 'child' ? use.party.nationalId : null,
      actor_account_id: use.actorAccountId,
      client_id: use.clientId,
      roles: [...use.roles],
      event: use.event,
    });
  }
}
