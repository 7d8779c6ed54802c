// Acting for others (docs/representation.md): the business register mirror, family relations in the
// population registry, organisations' eID accounts with the authorisations their representatives
// grant, every use of a representation, the clients approved for the representation type, and how an
// account's level 2 was evidenced. Expand-only: new tables and nullable (or defaulted) columns.
import type { Knex } from 'knex';

const ORGANISATION_STATUSES = ['active', 'suspended', 'dissolving', 'dissolved', 'revoked', 'bankrupt'];
const ROLES = ['tax', 'social_insurance', 'customs', 'business_registration', 'all'];

export async function up(knex: Knex): Promise<void> {
  // The national business registration database's mirror, written only by its import and change feed.
  await knex.raw(`
    CREATE TABLE business_organisations (
      enterprise_code text COLLATE "C" PRIMARY KEY CHECK (enterprise_code ~ '^[0-9]{10}(-[0-9]{3}){0,1}$'),
      name text NOT NULL,
      name_en text,
      status text NOT NULL CHECK (status IN (${ORGANISATION_STATUSES.map((s) => `'${s}'`).join(', ')})),
      founded_on date NOT NULL,
      head_office text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  await knex.raw(`
    CREATE TABLE business_representatives (
      enterprise_code text COLLATE "C" NOT NULL,
      national_id char(12) COLLATE "C" NOT NULL CHECK (national_id ~ '^[0-9]{12}$'),
      title text NOT NULL,
      PRIMARY KEY (enterprise_code, national_id)
    )`);
  // "Which organisations does this citizen represent?" is asked at every sign-in that asks for representation.
  await knex.raw('CREATE INDEX business_representatives_national_id ON business_representatives (national_id)');

  // Parents and legal guardian by ID number, where the registry knows them. Most records name none:
  // partial indexes stay small, and "whose parent is this citizen?" never scans.
  await knex.schema.alterTable('registry_records', (table) => {
    table.specificType('father_national_id', 'char(12) COLLATE "C"');
    table.specificType('mother_national_id', 'char(12) COLLATE "C"');
    table.specificType('guardian_national_id', 'char(12) COLLATE "C"');
  });
  for (const column of ['father_national_id', 'mother_national_id', 'guardian_national_id']) {
    await knex.raw(`CREATE INDEX registry_records_${column} ON registry_records (${column}) WHERE ${column} IS NOT NULL`);
  }

  // An organisation's eID account: activated once by a legal representative, checked against the register then.
  await knex.raw(`
    CREATE TABLE organisation_accounts (
      enterprise_code text COLLATE "C" PRIMARY KEY,
      activated_by uuid NOT NULL REFERENCES accounts (id),
      activated_at timestamptz NOT NULL DEFAULT now()
    )`);
  // Authorisations a representative grants to another citizen: roles, a period, declined or revoked.
  // They belong to the organisation, not to who granted them: a new representative inherits them.
  await knex.raw(`
    CREATE TABLE organisation_authorisations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      enterprise_code text COLLATE "C" NOT NULL REFERENCES organisation_accounts (enterprise_code),
      grantee_national_id char(12) COLLATE "C" NOT NULL CHECK (grantee_national_id ~ '^[0-9]{12}$'),
      roles text[] NOT NULL CHECK (cardinality(roles) > 0 AND roles <@ ARRAY[${ROLES.map((r) => `'${r}'`).join(', ')}]::text[]),
      valid_from date NOT NULL,
      valid_until date,
      granted_by uuid NOT NULL REFERENCES accounts (id),
      granted_at timestamptz NOT NULL DEFAULT now(),
      declined_at timestamptz,
      revoked_at timestamptz,
      revoked_by uuid REFERENCES accounts (id),
      CHECK (valid_until IS NULL OR valid_until >= valid_from)
    )`);
  await knex.raw('CREATE INDEX organisation_authorisations_grantee ON organisation_authorisations (grantee_national_id)');
  await knex.raw('CREATE INDEX organisation_authorisations_organisation ON organisation_authorisations (enterprise_code)');

  // Every token issued or refreshed while a citizen acts for a party: what the organisation's
  // representative (or the parent) sees on /account. The child is named by ID number: a child under 14
  // has no account.
  await knex.raw(`
    CREATE TABLE representation_uses (
      id bigserial PRIMARY KEY,
      party_kind text NOT NULL CHECK (party_kind IN ('organisation', 'child')),
      enterprise_code text COLLATE "C",
      child_national_id char(12) COLLATE "C",
      actor_account_id uuid NOT NULL REFERENCES accounts (id),
      client_id text NOT NULL,
      roles text[] NOT NULL DEFAULT '{}',
      event text NOT NULL,
      used_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((party_kind = 'organisation') = (enterprise_code IS NOT NULL)),
      CHECK ((party_kind = 'child') = (child_national_id IS NOT NULL))
    )`);
  await knex.raw('CREATE INDEX representation_uses_organisation ON representation_uses (enterprise_code, used_at DESC) WHERE enterprise_code IS NOT NULL');
  await knex.raw('CREATE INDEX representation_uses_child ON representation_uses (child_national_id, used_at DESC) WHERE child_national_id IS NOT NULL');
  await knex.raw('CREATE INDEX representation_uses_actor ON representation_uses (actor_account_id, used_at DESC)');

  // RFC 9396 authorization-details types a client is approved for, like its approved scopes.
  await knex.raw(`ALTER TABLE clients ADD COLUMN approved_authorization_details_types text[] NOT NULL DEFAULT '{}'`);

  // How level 2 was evidenced: checked in person by an officer, or the card's chip verified
  // (passive authentication); the document as checked then. Null for level 1 and for older raises.
  await knex.raw(`ALTER TABLE accounts ADD COLUMN level_evidence_method text CHECK (level_evidence_method IN ('in_person', 'chip'))`);
  await knex.raw('ALTER TABLE accounts ADD COLUMN level_evidence_document jsonb');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE accounts DROP COLUMN level_evidence_document');
  await knex.raw('ALTER TABLE accounts DROP COLUMN level_evidence_method');
  await knex.raw('ALTER TABLE clients DROP COLUMN approved_authorization_details_types');
  await knex.raw('DROP TABLE representation_uses');
  await knex.raw('DROP TABLE organisation_authorisations');
  await knex.raw('DROP TABLE organisation_accounts');
  await knex.schema.alterTable('registry_records', (table) => {
    table.dropColumn('father_national_id');
    table.dropColumn('mother_national_id');
    table.dropColumn('guardian_national_id');
  });
  await knex.raw('DROP TABLE business_representatives');
  await knex.raw('DROP TABLE business_organisations');
}
