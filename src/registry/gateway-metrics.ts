// Counts and times the registry lookups of any gateway (the local mirror or the remote registry),
// by outcome: a failing registry shows on the dashboard before citizens call about it.
import type { Metrics } from '../observability/metrics.ts';
import { RegistryUnavailable, type RegistryGateway } from './gateway.ts';

/**
 * The gateway itself, with findByNationalId measured. A proxy rather than a wrapper class, so the
 * gateway keeps its identity (its class, the remote one's circuit state) for whoever inspects it.
 */
export function measuredRegistryGateway<T extends RegistryGateway>(inner: T, metrics: Metrics, name: 'mirror' | 'remote'): T {
  const findByNationalId: RegistryGateway['findByNationalId'] = async (nationalId) => {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const record = await inner.findByNationalId(nationalId);
      metrics.registryCall(name, record ? 'found' : 'not_found', seconds());
      return record;
    } catch (error) {
      metrics.registryCall(name, error instanceof RegistryUnavailable ? 'unavailable' : 'error', seconds());
      throw error;
    }
  };
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'findByNationalId') return findByNationalId;
      // Bound to the gateway itself: its methods and getters use private fields.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
