// Connection status badge: a shape and a word for each state, and a countdown to the next retry.

import { useEffect, useState } from 'react';

import type { LivegateStatus as Status } from '../core/status';

// The shape beside the word, so that the state does not rest on colour alone.
const SHAPES: Record<Status['state'], string> = {
  idle: '○',
  connecting: '◌',
  live: '●',
  stalled: '◐',
  reconnecting: '↻',
  offline: '⊘',
  failed: '✕',
};

const COUNTDOWN_TICK_MS = 250;

export interface ConnectionStatusProps {
  status: Status;
  /** Shown after the state, such as the transport name. */
  label?: string;
  /** Called by the "retry now" button of the reconnecting and failed states. */
  onRetry?: () => void;
}

/** Shows connecting, live, stalled, reconnecting (with the seconds to the next attempt), offline or failed. */
export function ConnectionStatus({ status, label, onRetry }: ConnectionStatusProps) {
  // The countdown and the stall time change with the clock alone.
  const now = useNow((status.state === 'reconnecting' && status.retryAt !== null) || status.state === 'stalled');
  const detail = describeStatus(status, now);

  return (
    <div className="connection" data-state={status.state} role="status" aria-live="polite">
      <span className="connection-shape" aria-hidden="true">{SHAPES[status.state]}</span>
      <span className="connection-state" data-testid="status">{status.state}</span>
      {label !== undefined && <span className="connection-label" data-testid="transport">{label}</span>}
      <span className="connection-detail" data-testid="retry" title={status.state === 'reconnecting' ? status.reason : undefined}>{detail}</span>
      {onRetry !== undefined && (status.state === 'failed' || (status.state === 'reconnecting' && status.retryAt !== null)) && (
        <button type="button" className="connection-retry" onClick={onRetry}>retry now</button>
      )}
    </div>
  );
}

/** Returns the status detail text: the retry countdown, the breaker state or the error. */
export function describeStatus(status: Status, now: number): string {
  switch (status.state) {
    case 'reconnecting': {
      if (status.retryAt === null)
        return `attempt ${status.attempt}`;
      const seconds = Math.max(0, Math.ceil((status.retryAt - now) / 1000));
      const breaker = status.breaker === 'open' ? ' (paused after repeated failures)' : '';
      return `retry in ${seconds} s${breaker}`;
    }
    case 'stalled':
      return `no data for ${Math.max(0, Math.round((now - status.lastActivityAt) / 1000))} s`;
    case 'failed':
      return status.error.message;
    case 'offline':
      return 'waiting for the network';
    case 'idle':
      return 'no channel followed';
    default:
      return '';
  }
}

// Returns Date.now(), refreshed every COUNTDOWN_TICK_MS while `ticking`.
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (!ticking)
      return undefined;
    const timer = setInterval(() => setNow(Date.now()), COUNTDOWN_TICK_MS);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}
