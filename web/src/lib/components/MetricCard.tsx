// A dashboard card: title, main figure, optional detail lines and chart, dimmed while its data is not fresh.

import type { ReactNode } from 'react';

export interface MetricCardProps {
  title: string;
  /** The main figure, usually an AnimatedNumber. */
  value?: ReactNode;
  unit?: string;
  /** False dims the card and says the values are the last known ones. */
  fresh?: boolean;
  /** Shown instead of the value before the first data. */
  placeholder?: string;
  children?: ReactNode;
  testId?: string;
}

export function MetricCard({ title, value, unit, fresh = true, placeholder = 'waiting for data', children, testId }: MetricCardProps) {
  return (
    <section className="card" data-fresh={String(fresh)} data-testid={testId} aria-label={title}>
      <header className="card-header">
        <h2>{title}</h2>
        {!fresh && value !== undefined && <span className="card-stale" title="the connection is not live: these are the last values received">last known</span>}
      </header>
      {value === undefined ? (
        <p className="card-placeholder">{placeholder}</p>
      ) : (
        <p className="card-value">
          {value}
          {unit !== undefined && <span className="card-unit">{unit}</span>}
        </p>
      )}
      {children}
    </section>
  );
}
