// The demo data of acting for others (docs/design.md "Demo data"), written idempotently with upserts:
// organisation 0109999999 with Nguyễn Văn An as its legal representative, its eID account activated by
// him, his authorisation of Lê Minh Khoa for `tax`, and his daughter Nguyễn Minh Châu (no account).
// The business register's own import is another path (src/business/); this writes the rows directly.
import type { Database } from '../storage/database.ts';
import { cardExpiry, type NewRegistryRecord } from '../registry/registry.ts';

export const DEMO_ORGANISATION = {
  enterpriseCode: '0109999999',
  name: 'Công ty TNHH Dịch vụ Số An Phát',
  nameEn: 'An Phat Digital Services Company Limited',
  representative: '001099012345',
  title: 'Giám đốc',
} as const;

/** Lê Minh Khoa, authorised by An for `tax` (a fixed id, so that seeding again finds the same row). */
export const DEMO_AUTHORISATION = {
  id: '6f1b2c3d-0000-4000-8000-000000000001',
  grantee: '048203000777',
  roles: ['tax'],
  validFrom: '2025-07-01',
} as const;

const CHILD_ISSUED = '2024-07-01';

/** Nguyễn Minh Châu, An's daughter, under 14: her record names him as father; she has no account. */
export const DEMO_CHILD: NewRegistryRecord = {
  nationalId: '001321000888',
  fullName: 'Nguyễn Minh Châu',
  gender: 'female',
  birthDate: '2021-06-01',
  placeOfOrigin: 'Hà Nội',
  birthRegistrationProvince: '001',
  ethnicity: 'Kinh',
  nationality: 'VN',
  // Cards are issued from birth since 1 July 2024 (on request); hers on that day.
  idCardIssueDate: CHILD_ISSUED,
  idCardExpiryDate: cardExpiry('2021-06-01', CHILD_ISSUED),
  permanentAddress: { streetAddress: '12 Phố Điện Biên Phủ', locality: 'Phường Ba Đình', region: 'Thành phố Hà Nội', country: 'VN' },
  temporaryAddress: null,
  diedOn: null,
  missingSince: null,
  contactPhone: null,
  contactEmail: null,
};

/** Writes the representation rows; the citizens' records and accounts must exist already. */
export async function seedRepresentationDemo(db: Database): Promise<void> {
  const org = DEMO_ORGANISATION;
  await db.transaction(async (trx) => {
    await trx('registry_records').where({ national_id: DEMO_CHILD.nationalId }).update({ father_national_id: org.representative });
    await trx('business_organisations')
      .insert({ enterprise_code: org.enterpriseCode, name: org.name, name_en: org.nameEn, status: 'active', founded_on: '2020-01-15', head_office: '12 Phố Điện Biên Phủ, Phường Ba Đình, Thành phố Hà Nội' })
      .onConflict('enterprise_code')
      .merge();
    // The register names An alone: a replaced representative from an earlier run goes.
    await trx('business_representatives').where({ enterprise_code: org.enterpriseCode }).whereNot({ national_id: org.representative }).delete();
    await trx('business_representatives').insert({ enterprise_code: org.enterpriseCode, national_id: org.representative, title: org.title }).onConflict(['enterprise_code', 'national_id']).merge();
    const an = await trx('accounts').where({ national_id: org.representative }).first<{ id: string } | undefined>('id');
    if (!an) throw new Error('the demo citizen Nguyễn Văn An has no account yet');
    await trx('organisation_accounts').insert({ enterprise_code: org.enterpriseCode, activated_by: an.id }).onConflict('enterprise_code').merge(['activated_by']);
    const grant = DEMO_AUTHORISATION;
    await trx('organisation_authorisations')
      .insert({
        id: grant.id,
        enterprise_code: org.enterpriseCode,
        grantee_national_id: grant.grantee,
        roles: [...grant.roles],
        valid_from: grant.validFrom,
        valid_until: null,
        granted_by: an.id,
        declined_at: null,
        revoked_at: null,
        revoked_by: null,
      })
      .onConflict('id')
      .merge();
  });
}
