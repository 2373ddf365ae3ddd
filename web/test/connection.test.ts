import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { backoffCeilingMs } from '../src/lib/core/backoff';
import { Connection, type SessionEvents } from '../src/lib/core/connection';
import { CONNECTION_DEFAULTS } from '../src/lib/core/defaults';
import { RejectedError, RetryLimitError } from '../src/lib/core/errors';
import { testPlatform } from './helpers';

// A connector whose sessions the test drives; `sessions` holds the events of each attempt.
function fakeConnector() {
  const sessions: SessionEvents[] = [];
  let closed = 0;
  const connector = (events: SessionEvents) => {
    sessions.push(events);
    return () => {
      closed += 1;
    };
  };
  return { connector, sessions, closedCount: () => closed };
}

function retryDelay(connection: Connection): number {
  const status = connection.status.get();
  if (status.state !== 'reconnecting' || status.retryAt === null)
    throw new Error(`expected a pending retry, status is ${JSON.stringify(status)}`);
  return status.retryAt - Date.now();
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('connection', () => {
  it('goes from connecting to live', () => {
    const { connector, sessions } = fakeConnector();
    const connection = new Connection(connector, {}, testPlatform());
    connection.start();

    expect(connection.status.get().state).toBe('connecting');
    sessions[0]!.opened();
    expect(connection.status.get().state).toBe('live');
    connection.destroy();
  });

  // A server that accepts the handshake and closes at once must not keep the client
  // in its shortest delay band: the delays grow with fresh jitter.
  it('accept-then-close server gets growing delays', () => {
    const { connector, sessions } = fakeConnector();
    const options = { breakerThreshold: 1000, maxRetries: 1000 };
    const connection = new Connection(connector, options, testPlatform(0.99));
    connection.start();
    const delays: number[] = [];

    for (let attempt = 0; attempt < 8; attempt += 1) {
      sessions.at(-1)!.opened();
      sessions.at(-1)!.ended({ kind: 'retry', message: 'closed at once' });
      delays.push(retryDelay(connection));
      vi.advanceTimersByTime(delays.at(-1)!);
    }

    const ceilings = delays.map((_, attempt) => backoffCeilingMs(attempt, CONNECTION_DEFAULTS));
    delays.forEach((delay, attempt) => {
      expect(delay).toBeLessThan(ceilings[attempt]!);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(0.99 * ceilings[attempt]!));
    });
    expect(delays.at(-1)).toBeGreaterThan(20000);
    expect(connection.attempt).toBe(8);
    connection.destroy();
  });

  it('attempt count resets after healthy uptime', () => {
    const { connector, sessions } = fakeConnector();
    const connection = new Connection(connector, {}, testPlatform());
    connection.start();
    sessions[0]!.ended({ kind: 'retry', message: 'refused' });
    vi.advanceTimersByTime(retryDelay(connection));
    sessions[1]!.ended({ kind: 'retry', message: 'refused' });
    vi.advanceTimersByTime(retryDelay(connection));
    expect(connection.attempt).toBe(2);

    sessions[2]!.opened();
    vi.advanceTimersByTime(CONNECTION_DEFAULTS.healthyUptimeMs - 1);
    expect(connection.attempt).toBe(2);
    vi.advanceTimersByTime(1);
    expect(connection.attempt).toBe(0);
    connection.destroy();
  });

  it('policy close stops with an error', () => {
    const { connector, sessions } = fakeConnector();
    const connection = new Connection(connector, {}, testPlatform());
    connection.start();
    sessions[0]!.opened();
    sessions[0]!.ended({ kind: 'fatal', error: new RejectedError(1008, 'policy violation') });
    const status = connection.status.get();

    expect(status.state).toBe('failed');
    expect(status.state === 'failed' && status.error).toBeInstanceOf(RejectedError);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60000);
    expect(sessions).toHaveLength(1);
    connection.destroy();
  });

  it('retry limit stops with an error', () => {
    const { connector, sessions } = fakeConnector();
    const connection = new Connection(connector, { maxRetries: 3 }, testPlatform());
    connection.start();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      sessions.at(-1)!.ended({ kind: 'retry', message: 'refused' });
      vi.advanceTimersByTime(retryDelay(connection));
    }
    sessions.at(-1)!.ended({ kind: 'retry', message: 'refused' });
    const status = connection.status.get();

    expect(sessions).toHaveLength(4);
    expect(status.state).toBe('failed');
    expect(status.state === 'failed' && status.error).toBeInstanceOf(RetryLimitError);
    expect(vi.getTimerCount()).toBe(0);
    connection.destroy();
  });

  it('open breaker delays the retry', () => {
    const { connector, sessions } = fakeConnector();
    const options = { breakerThreshold: 2, breakerOpenMs: 60000, backoffCapMs: 1000 };
    const connection = new Connection(connector, options, testPlatform());
    connection.start();
    sessions[0]!.ended({ kind: 'retry', message: 'refused' });
    vi.advanceTimersByTime(retryDelay(connection));
    sessions[1]!.ended({ kind: 'retry', message: 'refused' });
    const status = connection.status.get();

    expect(status.state === 'reconnecting' && status.breaker).toBe('open');
    expect(retryDelay(connection)).toBe(60000);
    vi.advanceTimersByTime(60000);
    expect(sessions).toHaveLength(3);
    expect(connection.breakerState).toBe('half-open');
    connection.destroy();
  });

  it('silence makes it stalled, then reconnects', () => {
    const { connector, sessions } = fakeConnector();
    const options = { stallTimeoutMs: 3000, stallReconnectMs: 5000 };
    const connection = new Connection(connector, options, testPlatform());
    connection.start();
    sessions[0]!.opened();

    vi.advanceTimersByTime(2999);
    expect(connection.status.get().state).toBe('live');
    vi.advanceTimersByTime(1);
    expect(connection.status.get().state).toBe('stalled');
    sessions[0]!.activity();
    expect(connection.status.get().state).toBe('live');

    vi.advanceTimersByTime(8000);
    expect(connection.status.get().state).toBe('reconnecting');
    expect(sessions).toHaveLength(1);
    connection.destroy();
  });

  it('activity keeps it live', () => {
    const { connector, sessions } = fakeConnector();
    const connection = new Connection(connector, { stallTimeoutMs: 3000 }, testPlatform());
    connection.start();
    sessions[0]!.opened();
    for (let second = 0; second < 10; second += 1) {
      vi.advanceTimersByTime(1000);
      sessions[0]!.activity();
    }

    expect(connection.status.get().state).toBe('live');
    connection.destroy();
  });

  it('connect timeout counts as a failure', () => {
    const { connector, closedCount } = fakeConnector();
    const connection = new Connection(connector, { connectTimeoutMs: 5000 }, testPlatform());
    connection.start();
    vi.advanceTimersByTime(5000);

    expect(connection.status.get().state).toBe('reconnecting');
    expect(closedCount()).toBe(1);
    expect(connection.attempt).toBe(1);
    connection.destroy();
  });

  it('offline closes and online reconnects at once', () => {
    const { connector, sessions, closedCount } = fakeConnector();
    const platform = testPlatform();
    const connection = new Connection(connector, {}, platform);
    connection.start();
    sessions[0]!.opened();

    platform.handlers.offline!();
    expect(connection.status.get().state).toBe('offline');
    expect(closedCount()).toBe(1);
    expect(vi.getTimerCount()).toBe(0);

    platform.handlers.online!();
    expect(sessions).toHaveLength(2);
    connection.destroy();
  });

  it('starts offline when the browser is offline', () => {
    const { connector, sessions } = fakeConnector();
    const platform = testPlatform();
    platform.online = false;
    const connection = new Connection(connector, {}, platform);
    connection.start();

    expect(connection.status.get().state).toBe('offline');
    expect(sessions).toHaveLength(0);
    connection.destroy();
  });

  it('visible page skips the backoff wait', () => {
    const { connector, sessions } = fakeConnector();
    const platform = testPlatform();
    const connection = new Connection(connector, {}, platform);
    connection.start();
    sessions[0]!.ended({ kind: 'retry', message: 'refused' });

    platform.handlers.visible!();
    expect(sessions).toHaveLength(2);
    connection.destroy();
  });

  it('destroy clears the pending retry timer', () => {
    const { connector, sessions } = fakeConnector();
    const connection = new Connection(connector, {}, testPlatform());
    connection.start();
    sessions[0]!.ended({ kind: 'retry', message: 'refused' });
    expect(vi.getTimerCount()).toBe(1);

    connection.destroy();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60000);
    expect(sessions).toHaveLength(1);
  });

  it('late events of a closed session are ignored', () => {
    const { connector, sessions } = fakeConnector();
    const connection = new Connection(connector, {}, testPlatform());
    connection.start();
    sessions[0]!.ended({ kind: 'retry', message: 'refused' });
    vi.advanceTimersByTime(retryDelay(connection));
    sessions[0]!.opened();

    expect(connection.status.get().state).toBe('connecting');
    connection.destroy();
  });
});
