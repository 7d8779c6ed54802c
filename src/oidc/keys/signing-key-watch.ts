// Each instance re-reads the signing keys every `pollSeconds` (and at the moment a key is due to
// change state), runs the scheduled rotation work, and swaps in a provider built with the new key set
// when the set or its order changed. Every instance computes the same set from the same rows and clock.
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { Logger } from '../../observability/logger.ts';
import type { KeyRotation } from './key-rotation.ts';
import type { ProviderHolder } from '../provider-holder.ts';
import { nextTransition } from './key-lifecycle.ts';

export interface SigningKeyWatch {
  /** Reads the keys now; true when the provider was rebuilt. */
  refresh(): Promise<boolean>;
  stop(): Promise<void>;
}

/** The kids in the provider's order: a change in either set or order means another signing key. */
function fingerprintOf(jwks: { keys: JWK[] }): string {
  return jwks.keys.map((key) => `${key.alg}:${key.kid}`).join(',');
}

export function watchSigningKeys(options: {
  readonly rotation: KeyRotation;
  readonly holder: ProviderHolder;
  readonly build: (jwks: { keys: JWK[] }) => Provider;
  /** The set the current provider was built with. */
  readonly initial: { keys: JWK[] };
  readonly logger: Logger;
}): SigningKeyWatch {
  const { rotation, holder, build, logger } = options;
  const pollMs = rotation.settings.pollSeconds * 1000;
  let fingerprint = fingerprintOf(options.initial);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  let stopped = false;

  const check = async (): Promise<{ rebuilt: boolean; wakeAt: Date | undefined }> => {
    await rotation.maintain();
    const { jwks, now, retentionSeconds } = await rotation.providerJwks();
    const next = fingerprintOf(jwks);
    let rebuilt = false;
    if (next !== fingerprint) {
      holder.replace(build(jwks));
      logger.info({ keys: next, generation: holder.generation }, 'signing keys changed: provider rebuilt');
      fingerprint = next;
      rebuilt = true;
    }
    const keys = (await rotation.list()).filter((key) => key.revokedAt === null);
    return { rebuilt, wakeAt: nextTransition(keys, now, retentionSeconds) };
  };

  const refresh = (): Promise<boolean> => {
    running ??= check()
      .then(({ rebuilt, wakeAt }) => {
        schedule(wakeAt);
        return rebuilt;
      })
      .catch((error: unknown) => {
        // The provider in service keeps its keys; the next poll tries again.
        logger.error({ err: error }, 'could not read the signing keys; keeping the current ones');
        schedule(undefined);
        return false;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  function schedule(wakeAt: Date | undefined): void {
    if (stopped) return;
    clearTimeout(timer);
    // At the next poll, or just after the next state change if that comes first.
    const untilChange = wakeAt ? Math.max(0, wakeAt.getTime() - Date.now()) + 50 : Number.POSITIVE_INFINITY;
    timer = setTimeout(() => void refresh(), Math.min(pollMs, untilChange));
    timer.unref();
  }

  schedule(undefined);
  return {
    refresh,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
