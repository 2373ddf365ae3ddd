import { describe, expect, it } from 'vitest';

import { formatChange } from '../src/app/format';

describe('formatChange', () => {
  it.each([
    [1.234, '+1.23%', 'up'],
    [-0.5, '-0.50%', 'down'],
    [0, '0.00%', 'flat'],
    [-0.004, '0.00%', 'flat'],
    [0.004, '0.00%', 'flat'],
    [-0.005001, '-0.01%', 'down'],
    [Number.NaN, '–', 'flat'],
  ])('%s percent is %s and %s', (percent, text, trend) => {
    const change = formatChange(percent);

    expect(change.text).toBe(text);
    expect(change.trend).toBe(trend);
  });
});
