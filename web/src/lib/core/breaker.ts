// Circuit breaker for connection attempts: closed, open, half-open.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  breakerThreshold: number;
  breakerOpenMs: number;
}

/**
 * Counts failed attempts in a row. After `breakerThreshold` of them the breaker opens:
 * no attempt until `breakerOpenMs` has passed. Then it is half-open: one trial attempt
 * goes through; its success closes the breaker, its failure opens it again for another
 * `breakerOpenMs`. The open state always ends after that time, so the breaker never
 * blocks forever. Time comes from the `now` arguments (ms), so tests need no clock.
 */
export class CircuitBreaker {
  #options: BreakerOptions;
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';

  constructor(options: BreakerOptions) {
    this.#options = options;
  }

  /** Returns the state at time `now`: an open breaker whose time has passed is half-open. */
  state(now: number): BreakerState {
    if (this.#state === 'open' && now - this.#openedAt >= this.#options.breakerOpenMs)
      this.#state = 'half-open';
    return this.#state;
  }

  /** Returns the time at which an open breaker turns half-open, or null when it is not open. */
  openUntil(now: number): number | null {
    return this.state(now) === 'open' ? this.#openedAt + this.#options.breakerOpenMs : null;
  }

  /** Records a failed attempt at `now`; opens the breaker at the threshold, or again after a failed trial. */
  recordFailure(now: number): void {
    const state = this.state(now);
    this.#failures += 1;
    if (state === 'half-open' || this.#failures >= this.#options.breakerThreshold) {
      this.#state = 'open';
      this.#openedAt = now;
    }
  }

  /** Records a healthy connection: the breaker closes and the failure count starts over. */
  recordSuccess(): void {
    this.#failures = 0;
    this.#state = 'closed';
  }
}
