// The provider currently in service. oidc-provider reads its signing keys once, at construction, so a
// change of keys builds a new provider and puts it here; requests already running finish on the one
// they started on. Everything outside src/oidc/ sees the provider through `view` and `callback`, which
// always reach the current one: nothing keeps a provider from before a change.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** oidc-provider's names for the endpoints programs call (not its discovery document or pages). */
const PROTOCOL_ROUTES = [
  'authorization', 'backchannel_authentication', 'device_authorization', 'end_session', 'introspection', 'jwks',
  'pushed_authorization_request', 'registration', 'revocation', 'token', 'userinfo',
];

function protocolPathsOf(provider: Provider): string[] {
  return PROTOCOL_ROUTES.flatMap((name) => {
    try {
      return [provider.pathFor(name)];
    } catch {
      return []; // a feature that is off has no route
    }
  });
}

export class ProviderHolder {
  #current: Provider;
  #handler: RequestHandler;
  #generation = 1;
  readonly #protocolPaths: readonly string[];

  /**
   * Forwards every property to the current provider; its methods are bound to it (they use its
   * private fields), its classes (`Client`, `IdToken`…) and values are returned as they are.
   * Listeners and hooks belong in createProvider (src/oidc/provider.ts), which builds every provider:
   * one added through `view.on()` would stay on the provider of the moment.
   */
  readonly view: Provider;

  constructor(initial: Provider) {
    this.#current = initial;
    this.#handler = initial.callback();
    this.#protocolPaths = protocolPathsOf(initial);
    this.view = new Proxy(initial, {
      get: (_target, property) => {
        const current = this.#current;
        const value: unknown = Reflect.get(current, property, current);
        if (typeof value === 'function' && !Object.hasOwn(value, 'prototype')) return (value as (...args: unknown[]) => unknown).bind(current);
        return value;
      },
      set: (_target, property, value) => Reflect.set(this.#current, property, value, this.#current),
      has: (_target, property) => Reflect.has(this.#current, property),
    });
  }

  get current(): Provider {
    return this.#current;
  }

  /** How many providers have served, this one included (1 until the first change of keys). */
  get generation(): number {
    return this.#generation;
  }

  /** The public app's handler: each request goes to the provider current when it arrives. */
  readonly callback: RequestHandler = (req, res) => this.#handler(req, res);

  /** Whether a path is one of the provider's protocol endpoints, where errors are OAuth's (JSON for programs). */
  servesProtocolAt(path: string): boolean {
    return this.#protocolPaths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  }

  replace(next: Provider): void {
    this.#handler = next.callback();
    this.#current = next;
    this.#generation += 1;
  }
}
