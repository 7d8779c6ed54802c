// What the chip tests share: a bank client approved for chip verification with a DPoP-bound
// client_credentials token (openid-client), the test chips of the world's registry records, and posting
// a chip read with a DPoP proof made for that request.
import * as client from 'openid-client';
import type { RunningServer } from './world.ts';
import { discoverBank, dpopKey, dpopProof, signingKey, type DpopKey } from './bank.ts';
import { CHIP_VERIFICATION_RESOURCE } from '../../src/oidc/chip-tokens.ts';
import { ensureTestAuthority, issueTestChip, type ChipFiles } from '../../src/chip/test-chip.ts';
import type { IssuedCertificate } from '../../src/chip/certificates.ts';

export interface ChipBank {
  readonly clientId: string;
  readonly config: client.Configuration;
  readonly key: DpopKey;
  readonly accessToken: string;
}

/** Registers a bank client (approved for `scopes`) and gets a DPoP-bound token for the chip API. */
export async function chipBank(world: RunningServer, clientId: string, scopes: string[] = ['openid', 'chip_verification']): Promise<ChipBank> {
  const signer = await signingKey('ES256', `${clientId}-1`);
  await world.server.container.clients.save({
    clientId,
    name: `Bank ${clientId}`,
    profile: 'bank',
    approvedScopes: scopes,
    redirectUris: ['http://127.0.0.1:4003/callback'],
    subjectType: 'public',
    jwks: { keys: [signer.publicJwk] },
  });
  const config = await discoverBank(world.issuer, clientId, signer);
  const key = await dpopKey();
  const dpop = client.getDPoPHandle(config, {
    privateKey: key.privateKey,
    publicKey: await crypto.subtle.importKey('jwk', key.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']),
  });
  const tokens = await client.clientCredentialsGrant(config, { scope: 'chip_verification', resource: CHIP_VERIFICATION_RESOURCE }, { DPoP: dpop });
  return { clientId, config, key, accessToken: tokens.access_token };
}

/** The world's test authority (the one its server trusts: DATA_DIR/chip-test-authority/). */
export function testAuthority(world: RunningServer) {
  return ensureTestAuthority(world.config.dataDir);
}

/** A test chip of a registry record of the world, signed by `signer` (default: the trusted test signer). */
export async function chipOf(world: RunningServer, nationalId: string, signer?: IssuedCertificate): Promise<ChipFiles> {
  const record = await world.server.container.registry.findByNationalId(nationalId);
  if (!record) throw new Error(`no registry record ${nationalId}`);
  return issueTestChip(record, signer ?? (await testAuthority(world)).documentSigner);
}

export interface ChipAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly challenge: string | null;
}

/** POSTs `body` to /chip/verifications with the bank's token and a fresh proof (or the given headers). */
export async function postChip(world: RunningServer, bank: ChipBank, body: unknown, headers?: Record<string, string>): Promise<ChipAnswer> {
  const url = `${world.issuer}/chip/verifications`;
  const response = await fetch(url, {
    method: 'POST',
    headers: headers ?? {
      'content-type': 'application/json',
      authorization: `DPoP ${bank.accessToken}`,
      dpop: await dpopProof(bank.key, 'POST', url, { accessToken: bank.accessToken }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, challenge: response.headers.get('www-authenticate') };
}
