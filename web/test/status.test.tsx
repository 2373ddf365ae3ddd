import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ConnectionStatus, describeStatus } from '../src/lib/components/ConnectionStatus';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('ConnectionStatus', () => {
  it('stall time counts up with the clock', () => {
    const lastActivityAt = Date.now();
    render(<ConnectionStatus status={{ state: 'stalled', lastActivityAt }} />);
    expect(screen.getByTestId('retry').textContent).toBe('no data for 0 s');

    act(() => {
      vi.advanceTimersByTime(7000);
    });

    expect(screen.getByTestId('retry').textContent).toBe('no data for 7 s');
  });

  it('stall time is never negative', () => {
    expect(describeStatus({ state: 'stalled', lastActivityAt: 10000 }, 7000)).toBe('no data for 0 s');
  });

  it('idle says no channel is followed', () => {
    expect(describeStatus({ state: 'idle' }, 0)).toBe('no channel followed');
  });
});
