// The admin API's organisation endpoint (docs/administration.md "Organisations' eID accounts"): what
// an officer sees of an organisation — the business register's entry, its eID account's activation and
// every authorisation with its status today. Read-only by design: activation, grants, revocations and
// declines happen only on the citizens' own account pages (src/interactions/account/organisations.ts).
// The enterprise code is not personal data, so it travels in the URL; the look is audited.
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import { ENTERPRISE_CODE, type Authorisation, type OrganisationAccounts, type OrganisationEntry } from '../representation/organisation-accounts.ts';
import { ORGANISATION_ROLES } from '../representation/representation.ts';
import { notFound } from './problem.ts';
import type { AdminRoute } from './route.ts';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

const organisationSchema = z.object({
  enterpriseCode: z.string(),
  name: z.string(),
  nameEn: z.string().nullable(),
  status: z.enum(['active', 'suspended', 'dissolving', 'dissolved', 'revoked', 'bankrupt']).describe('As the business register holds it'),
  foundedOn: z.string().describe('YYYY-MM-DD'),
  headOffice: z.string(),
  representatives: z.array(z.object({ nationalId: z.string(), name: z.string().nullable(), title: z.string() })).describe('Current legal representatives, from the register'),
  activation: z
    .object({ activatedBy: z.string().describe("The representative's account id"), activatedAt: z.string() })
    .nullable()
    .describe("The organisation's eID account; null until a legal representative activates it"),
  authorisations: z.array(
    z.object({
      id: z.string(),
      granteeNationalId: z.string(),
      granteeName: z.string().nullable(),
      roles: z.array(z.enum(ORGANISATION_ROLES)),
      validFrom: z.string(),
      validUntil: z.string().nullable(),
      status: z.enum(['current', 'upcoming', 'ended', 'declined', 'revoked']).describe('Today: `ended` also when the organisation is no longer active'),
      grantedBy: z.string().describe('Account id'),
      grantedAt: z.string(),
      declinedAt: z.string().nullable(),
      revokedAt: z.string().nullable(),
      revokedBy: z.string().nullable(),
    }),
  ),
});

const viewOf = (entry: OrganisationEntry, grants: readonly Authorisation[]): z.infer<typeof organisationSchema> => ({
  enterpriseCode: entry.enterpriseCode,
  name: entry.name,
  nameEn: entry.nameEn,
  status: entry.status,
  foundedOn: entry.foundedOn,
  headOffice: entry.headOffice,
  representatives: entry.representatives.map((representative) => ({ ...representative })),
  activation: entry.activation && { activatedBy: entry.activation.activatedBy, activatedAt: entry.activation.activatedAt.toISOString() },
  authorisations: grants.map((grant) => ({
    id: grant.id,
    granteeNationalId: grant.granteeNationalId,
    granteeName: grant.granteeName,
    roles: [...grant.roles],
    validFrom: grant.validFrom,
    validUntil: grant.validUntil,
    status: grant.status,
    grantedBy: grant.grantedBy,
    grantedAt: grant.grantedAt.toISOString(),
    declinedAt: iso(grant.declinedAt),
    revokedAt: iso(grant.revokedAt),
    revokedBy: grant.revokedBy,
  })),
});

export function organisationRoutes(deps: { organisations: Pick<OrganisationAccounts, 'organisation' | 'grantsOf'>; audit: AuditLog }): AdminRoute<never, never>[] {
  const show: AdminRoute<never, never> = {
    method: 'GET',
    path: '/api/organisations/{enterpriseCode}',
    operationId: 'getOrganisation',
    summary: "An organisation's register entry, eID account and authorisations (read-only)",
    description:
      'The business register mirror\'s entry (10 digits, or 10 digits `-NNN` for a branch), whether a legal representative has activated the organisation\'s eID account, and every authorisation granted, with its status today. Nothing here can be changed through the API: representatives act on their own account page. The look is audited (`admin.action`, `organisation.viewed`).',
    tag: 'Organisations',
    access: { roles: ['support_officer'], scope: 'admin:accounts' },
    responses: { 200: { description: 'The organisation', schema: organisationSchema } },
    async handle({ principal, params }) {
      const code = params.enterpriseCode ?? '';
      const entry = ENTERPRISE_CODE.test(code) ? await deps.organisations.organisation(code) : undefined;
      if (!entry) throw notFound('organisation');
      const grants = await deps.organisations.grantsOf(code);
      await deps.audit.record({ type: 'admin.action', actor: principal.actor, data: { action: 'organisation.viewed', enterpriseCode: code, via: 'api' } });
      return { status: 200, body: viewOf(entry, grants) };
    },
  };
  return [show];
}
