// docs/design.md's demo data — a contract outside automation relies on — loaded idempotently: running the
// seed again puts every demo citizen, account and client back as described there.
import type { ClientRegistration } from '../oidc/clients/clients.ts';
import { cardExpiry, type NewRegistryRecord } from '../registry/registry.ts';
import type { AccountLevel } from '../accounts/accounts.ts';
import type { Config } from '../config/config.ts';
import { DEMO_BANK_PUBLIC_JWK } from '../demo/demo-bank-key.ts';
import type { RegistryRepository } from '../registry/registry.ts';
import type { AccountStore } from '../accounts/account-store.ts';
import type { PasswordHasher } from '../accounts/passwords.ts';
import type { KeyEncryption } from '../storage/key-encryption.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import type { Database } from '../storage/database.ts';
import { DEMO_CHILD, seedRepresentationDemo } from '../representation/demo-representation.ts';
import { REPRESENTATION_TYPE } from '../representation/representation.ts';

interface DemoCitizen {
  readonly record: NewRegistryRecord;
  readonly account?: { readonly level: AccountLevel; readonly password: string; readonly totpSecret?: string };
}

const ISSUED = '2021-04-01';

function citizen(
  fields: Pick<NewRegistryRecord, 'nationalId' | 'fullName' | 'gender' | 'birthDate' | 'placeOfOrigin' | 'permanentAddress' | 'contactPhone'> & {
    diedOn?: string;
  },
): NewRegistryRecord {
  return {
    ...fields,
    birthRegistrationProvince: fields.nationalId.slice(0, 3),
    ethnicity: 'Kinh',
    nationality: 'VN',
    idCardIssueDate: ISSUED,
    idCardExpiryDate: cardExpiry(fields.birthDate, ISSUED),
    temporaryAddress: null,
    diedOn: fields.diedOn ?? null,
    missingSince: null,
    contactEmail: null,
  };
}

export const DEMO_CITIZENS: readonly DemoCitizen[] = [
  {
    record: citizen({
      nationalId: '001099012345',
      fullName: 'Nguyễn Văn An',
      gender: 'male',
      birthDate: '1999-03-15',
      placeOfOrigin: 'Hà Nội',
      permanentAddress: { streetAddress: '12 Phố Điện Biên Phủ', locality: 'Phường Ba Đình', region: 'Thành phố Hà Nội', country: 'VN' },
      contactPhone: '+84900000001',
    }),
    account: { level: 2, password: 'An#Demo2026', totpSecret: 'JBSWY3DPEHPK3PXP' },
  },
  {
    record: citizen({
      nationalId: '079185000123',
      fullName: 'Trần Thị Bích',
      gender: 'female',
      birthDate: '1985-07-02',
      placeOfOrigin: 'TP Hồ Chí Minh',
      permanentAddress: { streetAddress: '45 Đường Lê Lợi', locality: 'Phường Sài Gòn', region: 'Thành phố Hồ Chí Minh', country: 'VN' },
      contactPhone: '+84900000002',
    }),
    account: { level: 1, password: 'Bich#Demo2026' },
  },
  {
    record: citizen({
      nationalId: '048203000777',
      fullName: 'Lê Minh Khoa',
      gender: 'male',
      birthDate: '2003-11-20',
      placeOfOrigin: 'Đà Nẵng',
      permanentAddress: { streetAddress: '8 Đường Bạch Đằng', locality: 'Phường Hải Châu', region: 'Thành phố Đà Nẵng', country: 'VN' },
      contactPhone: '+84900000003',
    }),
    account: { level: 2, password: 'Khoa#Demo2026', totpSecret: 'KRSXG5CTMVRXEZLU' },
  },
  {
    record: citizen({
      nationalId: '031190004567',
      fullName: 'Phạm Thu Hà',
      gender: 'female',
      birthDate: '1990-01-09',
      placeOfOrigin: 'Hải Phòng',
      permanentAddress: { streetAddress: '20 Đường Điện Biên Phủ', locality: 'Phường Hồng Bàng', region: 'Thành phố Hải Phòng', country: 'VN' },
      contactPhone: '+84900000004',
    }),
  },
  {
    record: citizen({
      nationalId: '036080001111',
      fullName: 'Đỗ Văn Tùng',
      gender: 'male',
      birthDate: '1980-05-30',
      placeOfOrigin: 'Nam Định',
      // Nam Định province joined Ninh Bình on 1 July 2025; addresses name the current province.
      permanentAddress: { streetAddress: '3 Đường Trần Hưng Đạo', locality: 'Phường Nam Định', region: 'Tỉnh Ninh Bình', country: 'VN' },
      contactPhone: '+84900000005',
      diedOn: '2025-12-01',
    }),
    account: { level: 1, password: 'Tung#Demo2026' },
  },
];

type DemoPorts = Pick<Config['demo'], 'portalPort' | 'bankPort'>;

/** Where the quickstart serves its demo relying parties: the portal on localhost, the bank on 127.0.0.1. */
export function demoOrigins({ portalPort, bankPort }: DemoPorts): { readonly portal: string; readonly bank: string } {
  return { portal: `http://localhost:${portalPort}`, bank: `http://127.0.0.1:${bankPort}` };
}

/** The demo clients, demo-portal and demo-bank registered on the configured demo ports. */
export function demoClients(ports: DemoPorts): readonly ClientRegistration[] {
  const { portal, bank } = demoOrigins(ports);
  return [
    {
      clientId: 'demo-portal',
      name: 'Cổng dịch vụ công (demo)',
      profile: 'portal',
      secret: 'demo-portal-secret',
      redirectUris: [`${portal}/callback`],
      postLogoutRedirectUris: [`${portal}/`],
      approvedScopes: ['openid', 'profile', 'address', 'national_id', 'phone', 'email', 'offline_access'],
      verifiedClaimsApproved: true,
    },
    {
      clientId: 'demo-tax',
      name: 'Thuế điện tử (demo)',
      profile: 'portal',
      secret: 'demo-tax-secret',
      redirectUris: ['http://127.0.0.1:4001/callback'],
      postLogoutRedirectUris: ['http://127.0.0.1:4001/'],
      approvedScopes: ['openid', 'profile', 'national_id', 'identity_document', 'address', 'offline_access'],
    },
    {
      clientId: 'demo-spa',
      name: 'Ứng dụng web (demo)',
      profile: 'spa',
      tokenEndpointAuthMethod: 'none',
      redirectUris: ['http://localhost:4002/callback'],
      postLogoutRedirectUris: ['http://localhost:4002/'],
      approvedScopes: ['openid', 'profile'],
    },
    {
      clientId: 'demo-service',
      name: 'Dịch vụ nội bộ (demo)',
      profile: 'service',
      secret: 'demo-service-secret',
      approvedScopes: [],
    },
    {
      // FAPI 2.0: PAR, private_key_jwt with docs/design.md's published demo key, DPoP-bound tokens. Public
      // subjects: it is approved for the national ID anyway (docs/design.md "Subjects").
      clientId: 'demo-bank',
      name: 'Ngân hàng (demo)',
      profile: 'bank',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [DEMO_BANK_PUBLIC_JWK] },
      redirectUris: [`${bank}/callback`],
      postLogoutRedirectUris: [`${bank}/`],
      subjectType: 'public',
      verifiedClaimsApproved: true,
      // chip_verification: the chip API for banks (docs/integrating-a-bank.md "Verifying a chip card").
      approvedScopes: ['openid', 'profile', 'national_id', 'identity_document', 'offline_access', 'chip_verification'],
    },
  ];
}

/** The demo clients as docs/design.md "Demo data" lists them, on the default ports 4000 and 4003. */
export const DEMO_CLIENTS = demoClients({ portalPort: 4000, bankPort: 4003 });

/** What loading the demo data writes through (the container has all of it). */
export interface DemoSeedDependencies {
  readonly config: Pick<Config, 'env' | 'demo'>;
  readonly registry: Pick<RegistryRepository, 'upsert'>;
  readonly accounts: Pick<AccountStore, 'enrol'>;
  readonly passwords: Pick<PasswordHasher, 'hash'>;
  readonly sealer: Pick<KeyEncryption, 'seal'>;
  readonly clients: Pick<ClientRepository, 'save' | 'setAuthorizationDetailsTypes'>;
  /** Acting for others: the business register's and authorisations' rows (src/representation/demo-representation.ts). */
  readonly db: Database;
}

/** Clients approved for acting for others (docs/design.md "Demo data"). */
export const DEMO_REPRESENTATION_CLIENTS: readonly string[] = ['demo-portal', 'demo-tax'];

export async function seedDemoData(container: DemoSeedDependencies): Promise<void> {
  if (container.config.env === 'production') throw new Error('demo data is never loaded in production');
  for (const { record, account } of DEMO_CITIZENS) {
    await container.registry.upsert(record);
    if (!account) continue;
    await container.accounts.enrol({
      nationalId: record.nationalId,
      level: account.level,
      passwordHash: await container.passwords.hash(account.password),
      totpSecretSealed: account.totpSecret ? container.sealer.seal(account.totpSecret, `totp:${record.nationalId}`) : null,
      phoneNumber: record.contactPhone,
      phoneNumberVerified: true,
      email: null,
      emailVerified: false,
    });
  }
  // Nguyễn Minh Châu, An's daughter: a registry record, no account.
  await container.registry.upsert(DEMO_CHILD);
  for (const client of demoClients(container.config.demo)) {
    await container.clients.save(client);
    await container.clients.setAuthorizationDetailsTypes(client.clientId, DEMO_REPRESENTATION_CLIENTS.includes(client.clientId) ? [REPRESENTATION_TYPE] : []);
  }
  await seedRepresentationDemo(container.db);
}
