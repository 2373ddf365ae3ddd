import { describe, expect, it } from 'vitest';

import { CircuitBreaker } from '../src/lib/core/breaker';

const options = { breakerThreshold: 3, breakerOpenMs: 10000 };

describe('circuit breaker', () => {
  it('stays closed below the threshold', () => {
    const breaker = new CircuitBreaker(options);
    breaker.recordFailure(0);
    breaker.recordFailure(1);

    expect(breaker.state(2)).toBe('closed');
    expect(breaker.openUntil(2)).toBeNull();
  });

  it('opens at the threshold', () => {
    const breaker = new CircuitBreaker(options);
    for (const now of [0, 1, 2])
      breaker.recordFailure(now);

    expect(breaker.state(3)).toBe('open');
    expect(breaker.openUntil(3)).toBe(10002);
  });

  it('turns half-open after the open time', () => {
    const breaker = new CircuitBreaker(options);
    for (const now of [0, 1, 2])
      breaker.recordFailure(now);

    expect(breaker.state(10001)).toBe('open');
    expect(breaker.state(10002)).toBe('half-open');
  });

  it('failed trial opens it again', () => {
    const breaker = new CircuitBreaker(options);
    for (const now of [0, 1, 2])
      breaker.recordFailure(now);
    breaker.recordFailure(20000);

    expect(breaker.state(20001)).toBe('open');
    expect(breaker.state(30000)).toBe('half-open');
  });

  it('success closes it and resets the count', () => {
    const breaker = new CircuitBreaker(options);
    for (const now of [0, 1, 2])
      breaker.recordFailure(now);
    breaker.recordSuccess();
    breaker.recordFailure(20000);

    expect(breaker.state(20001)).toBe('closed');
  });
});
