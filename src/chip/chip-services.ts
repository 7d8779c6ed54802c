// Chip verification's services, built once by the composition roots (src/container.ts for the server,
// src/cli.ts for `accounts raise-level --chip`): the trust list (src/chip/trust-list.ts), the verifier,
// and for the server the bank-facing service and what its route needs from the provider.
import type { Config } from '../config/config.ts';
import type { RegistryGateway } from '../registry/gateway.ts';
import { ChipVerifier } from './chip-verification.ts';
import type { ChipVerifications } from './chip-results.ts';
import type { ChipRoutesDependencies } from './routes.ts';
import { testTrustAnchor } from './test-chip.ts';
import { loadTrustList } from './trust-list.ts';

export interface ChipServices {
  readonly verifier: ChipVerifier;
  readonly verifications: ChipVerifications;
  readonly findToken: ChipRoutesDependencies['findChipToken'];
  readonly clientOf: ChipRoutesDependencies['chipClientOf'];
}

/** The verifier over the configured trust list (and, outside production, the quickstart's test CSCA). */
export async function createChipVerifier(config: Config, registry: Pick<RegistryGateway, 'findByNationalId'>): Promise<ChipVerifier> {
  const production = config.env === 'production';
  const trust = loadTrustList({
    production,
    trustListFile: config.chip.trustListFile,
    crlFile: config.chip.crlFile,
    test: production ? [] : [await testTrustAnchor(config.dataDir)],
  });
  return new ChipVerifier({ trust: () => trust, registry });
}
