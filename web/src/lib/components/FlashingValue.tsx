// A value that flashes when it changes: green with ▲ when it rises, red with ▼ when it falls.

import { useEffect, useRef, useState } from 'react';

export interface FlashingValueProps {
  value: number;
  format?: (value: number) => string;
  className?: string;
  testId?: string;
}

type Direction = 'up' | 'down' | 'flat';

const ARROWS: Record<Direction, string> = { up: '▲', down: '▼', flat: '' };

/**
 * Renders `value` and, after a change, an arrow for the direction and a short flash.
 * Re-renders with the same value do not flash. The arrow stays until the next change,
 * so the direction is readable without colour and after the flash has faded.
 */
export function FlashingValue({ value, format = String, className, testId }: FlashingValueProps) {
  const previous = useRef(value);
  const [change, setChange] = useState<{ direction: Direction; count: number }>({ direction: 'flat', count: 0 });

  useEffect(() => {
    if (value === previous.current)
      return;
    const direction: Direction = value > previous.current ? 'up' : 'down';
    previous.current = value;
    setChange((last) => ({ direction, count: last.count + 1 }));
  }, [value]);

  const label = change.direction === 'flat' ? '' : change.direction === 'up' ? 'up' : 'down';
  return (
    <span className={`flashing tabular ${className ?? ''}`} data-direction={change.direction} data-testid={testId}>
      {/* A new key restarts the CSS flash animation on every change. */}
      <span key={change.count} className={change.count > 0 ? `flash flash-${change.direction}` : undefined}>
        {format(value)}
      </span>
      <span className="flash-arrow" aria-label={label}>{ARROWS[change.direction]}</span>
    </span>
  );
}
