// The bank's answer to a chip verification (docs/integrating-a-bank.md "Verifying a chip card"): the
// result as a JWT signed with the provider's current signing key (published at /jwks), typed
// `chip-verification+jwt` so it cannot pass for an ID token or an access token, for the bank to keep as
// evidence. Each verification is audited; a genuine chip of a citizen with an account also shows in the
// citizen's data-access history (src/audit/access-history.ts).
import { randomUUID } from 'node:crypto';
import { SignJWT, importJWK, type JWK } from 'jose';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ChipCheck, ChipRead, ChipVerifier } from './chip-verification.ts';

export const CHIP_VERIFICATION_TYP = 'chip-verification+jwt';

export interface ChipVerificationDependencies {
  readonly verifier: ChipVerifier;
  readonly issuer: string;
  /** The provider's signing key for ES256 now (private JWK with kid and alg). */
  readonly signingKey: () => Promise<JWK>;
  readonly audit: Pick<AuditLog, 'record'>;
  /** The account of an ID number, if there is one. */
  readonly accountIdOf: (nationalId: string) => Promise<string | undefined>;
}

/** Names of the checks that failed, for the audit trail. */
export const failedChecks = (check: ChipCheck) => check.checks.filter((item) => !item.passed).map((item) => item.check);

/** Whether the chip was shown genuine and the registry knew the number: only then is it this citizen's. */
const isTheCitizens = (check: ChipCheck) => check.checks.some((item) => item.check === 'registry_record_found' && item.passed);

export class ChipVerifications {
  readonly #deps: ChipVerificationDependencies;

  constructor(deps: ChipVerificationDependencies) {
    this.#deps = deps;
  }

  /** Verifies a bank's chip read and signs the result for that bank (the audience). */
  async verifyFor(clientId: string, read: ChipRead): Promise<{ verification: string; check: ChipCheck }> {
    const check = await this.#deps.verifier.check(read);
    const accountId = isTheCitizens(check) ? await this.#deps.accountIdOf(check.nationalId) : undefined;
    await this.#deps.audit.record({
      type: 'chip.verified',
      clientId,
      ...(accountId && { accountId }),
      data: { result: check.result, txn: check.txn, failed: failedChecks(check), dataGroups: check.dataGroups },
    });
    return { verification: await this.sign(check, clientId), check };
  }

  /** The signed result: iss, aud, iat, jti, txn, result, checks, national_id, and when verified the document. */
  async sign(check: ChipCheck, audience: string): Promise<string> {
    const jwk = await this.#deps.signingKey();
    const key = await importJWK(jwk, jwk.alg);
    return new SignJWT({
      txn: check.txn,
      result: check.result,
      checks: check.checks,
      national_id: check.nationalId,
      data_groups: check.dataGroups,
      ...(check.document && { document: check.document }),
      ...(check.dg2Hash && { dg2_hash: check.dg2Hash }),
    })
      .setProtectedHeader({ alg: jwk.alg!, kid: jwk.kid!, typ: CHIP_VERIFICATION_TYP })
      .setIssuer(this.#deps.issuer)
      .setAudience(audience)
      .setIssuedAt(Math.floor(check.time.getTime() / 1000))
      .setJti(randomUUID())
      .sign(key);
  }
}
