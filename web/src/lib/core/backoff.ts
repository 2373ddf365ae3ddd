// Capped exponential backoff with full jitter.

export interface BackoffOptions {
  backoffBaseMs: number;
  backoffCapMs: number;
}

/** Returns the ceiling of the delay before retry number `attempt` (0 for the first retry): min(cap, base * 2^attempt). */
export function backoffCeilingMs(attempt: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt, 0), 52);
  return Math.min(options.backoffCapMs, options.backoffBaseMs * 2 ** exponent);
}

/**
 * Returns the delay before retry number `attempt`: a fresh random time in [0, ceiling)
 * ("full jitter"), so clients that lost the same server do not come back in step.
 * `random` returns a number in [0, 1), like Math.random.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeilingMs(attempt, options));
}
