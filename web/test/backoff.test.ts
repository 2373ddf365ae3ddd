import { describe, expect, it } from 'vitest';

import { backoffCeilingMs, backoffDelayMs } from '../src/lib/core/backoff';

const options = { backoffBaseMs: 1000, backoffCapMs: 30000 };

describe('backoff', () => {
  it('ceiling doubles up to the cap', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 40].map((attempt) => backoffCeilingMs(attempt, options));

    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('huge attempt stays at the cap', () => {
    expect(backoffCeilingMs(10_000, options)).toBe(30000);
  });

  it('delay stays within zero and the ceiling', () => {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const ceiling = backoffCeilingMs(attempt, options);
      for (const random of [0, 0.25, 0.5, 0.999999]) {
        const delay = backoffDelayMs(attempt, options, () => random);

        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });

  it('jitter is fresh on every call', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(5, options)));

    expect(delays.size).toBeGreaterThan(40);
  });
});
