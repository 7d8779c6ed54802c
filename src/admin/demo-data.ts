// DESIGN.md's demo data (a contract outside automation relies on), loaded idempotently.
import type { Container } from '../container.ts';
import type { ClientRegistration } from '../oidc/clients.ts';

export const DEMO_CLIENTS: readonly ClientRegistration[] = [
  {
    clientId: 'demo-portal',
    name: 'Cổng dịch vụ công (demo)',
    profile: 'portal',
    secret: 'demo-portal-secret',
    redirectUris: ['http://localhost:4000/callback'],
    postLogoutRedirectUris: ['http://localhost:4000/'],
    approvedScopes: ['openid', 'profile', 'address', 'national_id', 'phone', 'email', 'offline_access'],
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
];

export async function seedDemoData(container: Container): Promise<void> {
  if (container.config.env === 'production') throw new Error('demo data is never loaded in production');
  for (const client of DEMO_CLIENTS) await container.clients.save(client);
}
