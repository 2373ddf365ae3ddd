// A number that eases to each new value, in tabular figures; instant when the user prefers reduced motion.

import { useEffect, useRef, useState } from 'react';

export interface AnimatedNumberProps {
  value: number;
  format?: (value: number) => string;
  /** Length of the ease. Default 400 ms. */
  durationMs?: number;
  className?: string;
  testId?: string;
}

const DEFAULT_DURATION_MS = 400;

function prefersReducedMotion(): boolean {
  return typeof window !== 'undefined' && typeof window.matchMedia === 'function' && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}

// Cubic ease-out: fast start, gentle landing.
function easeOut(t: number): number {
  return 1 - (1 - t) ** 3;
}

/** Renders `value` through `format`, easing from the previous value over `durationMs`. */
export function AnimatedNumber({ value, format = String, durationMs = DEFAULT_DURATION_MS, className, testId }: AnimatedNumberProps) {
  const [shown, setShown] = useState(value);
  const shownRef = useRef(value);

  useEffect(() => {
    const from = shownRef.current;
    if (from === value || !Number.isFinite(from) || prefersReducedMotion() || typeof requestAnimationFrame !== 'function') {
      shownRef.current = value;
      setShown(value);
      return undefined;
    }

    const start = performance.now();
    let frame = requestAnimationFrame(function step(time: number) {
      const t = Math.min(1, (time - start) / durationMs);
      const current = t >= 1 ? value : from + (value - from) * easeOut(t);
      shownRef.current = current;
      setShown(current);
      if (t < 1)
        frame = requestAnimationFrame(step);
    });
    return () => cancelAnimationFrame(frame);
  }, [value, durationMs]);

  return (
    <span className={`tabular ${className ?? ''}`} data-testid={testId} data-value={value}>
      {format(shown)}
    </span>
  );
}
