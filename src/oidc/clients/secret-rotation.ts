// Client secret rotation with an overlap: after an administrator rotates a secret, the previous one is
// still accepted until its overlap ends, so a relying party can roll its instances over without an
// outage. oidc-provider compares one `client_secret`; its per-provider Client class is given a
// comparison that, when the current secret does not match, asks the store about the previous one.
import type Provider from 'oidc-provider';

/** True when `candidate` is the client's previous secret and still within its overlap. */
export type RetiredSecretCheck = (clientId: string, candidate: string) => Promise<boolean>;

interface SecretComparison {
  readonly clientId: string;
  compareClientSecret: (this: SecretComparison, actual: unknown) => boolean | Promise<boolean>;
}

export function acceptRetiredSecrets(provider: Provider, retiredSecretMatches: RetiredSecretCheck): void {
  const prototype = provider.Client.prototype as unknown as SecretComparison;
  const compareCurrent = prototype.compareClientSecret;
  prototype.compareClientSecret = async function (this: SecretComparison, actual: unknown): Promise<boolean> {
    if (await compareCurrent.call(this, actual)) return true;
    // The store is asked only after a mismatch: the usual request costs nothing more.
    return typeof actual === 'string' && actual.length > 0 && actual.length <= 512 && retiredSecretMatches(this.clientId, actual);
  };
}
