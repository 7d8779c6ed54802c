// A circuit breaker for the remote registry: after N failures in a row it stops asking (callers fail
// at once instead of each waiting out the timeouts), and after a cool-down lets one trial request
// through — its success closes the circuit, its failure opens it for another cool-down.

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  readonly threshold: number;
  readonly cooldownMs: number;
  /** Told when the state changes (for the logs). */
  readonly onStateChange?: (state: CircuitState) => void;
  readonly now?: () => number;
}

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #onStateChange: ((state: CircuitState) => void) | undefined;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;

  constructor(options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.threshold) || options.threshold < 1) throw new RangeError('threshold: expected a whole number of at least 1');
    if (!(options.cooldownMs >= 0)) throw new RangeError('cooldownMs: expected a non-negative number');
    this.#threshold = options.threshold;
    this.#cooldownMs = options.cooldownMs;
    this.#onStateChange = options.onStateChange;
    this.#now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    return this.#state;
  }

  /**
   * Asks to send one request. Returns undefined when it may go (the caller must then report its
   * outcome with succeeded() or failed()), else the milliseconds until the circuit may let one through.
   */
  acquire(): number | undefined {
    if (this.#state === 'closed') return undefined;
    if (this.#state === 'open') {
      const waited = this.#now() - this.#openedAt;
      if (waited < this.#cooldownMs) return this.#cooldownMs - waited;
      this.#change('half-open');
    }
    // Half-open: one trial at a time; the others wait for its verdict.
    if (this.#trialInFlight) return Math.max(1, this.#cooldownMs);
    this.#trialInFlight = true;
    return undefined;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#trialInFlight = false;
    if (this.#state !== 'closed') this.#change('closed');
  }

  failed(): void {
    this.#failures += 1;
    const trial = this.#state === 'half-open';
    this.#trialInFlight = false;
    if (trial || (this.#state === 'closed' && this.#failures >= this.#threshold)) {
      this.#openedAt = this.#now();
      this.#change('open');
    }
  }

  #change(state: CircuitState): void {
    this.#state = state;
    this.#onStateChange?.(state);
  }
}
