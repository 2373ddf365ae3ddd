import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SWRConfig } from 'swr';

import type { Envelope } from '../src/lib/core/channels';
import { SSEClient } from '../src/lib/core/sse';
import { WebSocketClient } from '../src/lib/core/ws';
import { LivegateProvider, useChannel, useRealtimeData } from '../src/lib/react/hooks';
import { FakeFetch, FakeWebSocket, settle, sseEvent, testPlatform } from './helpers';

function Price({ channel }: { channel: string }) {
  const { latest, history, status } = useChannel(channel);
  const price = (latest?.data as { price?: number } | undefined)?.price;
  return <p data-testid={channel}>{`${status.state} ${price ?? '-'} ${history.length}`}</p>;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('hooks', () => {
  it('useChannel shows events as they arrive', async () => {
    const fake = new FakeFetch();
    const client = new SSEClient({ url: 'http://127.0.0.1/sse', fetch: fake.fetch, platform: testPlatform() });
    render(
      <LivegateProvider clients={{ sse: client }}>
        <Price channel="prices.A" />
      </LivegateProvider>,
    );
    await act(settle);
    await act(async () => {
      fake.latest().write(sseEvent('prices.A', 'e1-1', { price: 101.5 }));
      await settle();
    });

    expect(screen.getByTestId('prices.A').textContent).toBe('live 101.5 1');
    client.destroy();
  });

  it('two components share one stream', async () => {
    const fake = new FakeFetch();
    const client = new SSEClient({ url: 'http://127.0.0.1/sse', fetch: fake.fetch, platform: testPlatform() });
    render(
      <LivegateProvider clients={{ sse: client }}>
        <Price channel="prices.A" />
        <Price channel="prices.A" />
        <Price channel="prices.B" />
      </LivegateProvider>,
    );
    await act(settle);

    expect(fake.streams).toHaveLength(1);
    expect(fake.latest().url.searchParams.getAll('channel')).toEqual(['prices.A', 'prices.B']);
    client.destroy();
  });

  it('unmount clears a pending reconnect timer', async () => {
    const fake = new FakeFetch();
    const client = new SSEClient({ url: 'http://127.0.0.1/sse', fetch: fake.fetch, platform: testPlatform() });
    const view = render(
      <LivegateProvider clients={{ sse: client }}>
        <Price channel="prices.A" />
      </LivegateProvider>,
    );
    await act(settle);
    await act(async () => {
      fake.latest().end();
      await settle();
    });
    expect(client.connection.status.get().state).toBe('reconnecting');
    expect(vi.getTimerCount()).toBeGreaterThan(0);

    view.unmount();
    await settle();

    expect(client.connection.status.get().state).toBe('idle');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120000);
    expect(fake.streams).toHaveLength(1);
  });

  it('unmount closes the websocket', async () => {
    FakeWebSocket.reset();
    const client = new WebSocketClient({ url: 'http://127.0.0.1/ws', WebSocket: FakeWebSocket as unknown as typeof WebSocket, platform: testPlatform() });
    const view = render(
      <LivegateProvider transport="ws" clients={{ ws: client }}>
        <Price channel="prices.A" />
      </LivegateProvider>,
    );
    await act(settle);
    act(() => {
      FakeWebSocket.latest().open();
      FakeWebSocket.latest().receive({ type: 'subscribed', channel: 'prices.A', recovered: false });
    });

    view.unmount();
    await settle();

    expect(FakeWebSocket.latest().closedByClient).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('useRealtimeData loads then applies pushes', async () => {
    const fake = new FakeFetch();
    const client = new SSEClient({ url: 'http://127.0.0.1/sse', fetch: fake.fetch, platform: testPlatform() });
    let resolveLoad: (value: number[]) => void = () => {};
    const fetcher = vi.fn(() => new Promise<number[]>((resolve) => {
      resolveLoad = resolve;
    }));
    const apply = (current: number[], event: Envelope) => [...current, (event.data as { n: number }).n];

    function Numbers() {
      const { data } = useRealtimeData('/api/numbers', fetcher, { channel: 'numbers', apply });
      return <p data-testid="numbers">{data === undefined ? 'loading' : data.join(',')}</p>;
    }
    render(
      <SWRConfig value={{ provider: () => new Map() }}>
        <LivegateProvider clients={{ sse: client }}>
          <Numbers />
        </LivegateProvider>
      </SWRConfig>,
    );
    await act(settle);
    await act(async () => {
      fake.latest().write(sseEvent('numbers', 'e1-1', { n: 3 }));
      await settle();
    });
    expect(screen.getByTestId('numbers').textContent).toBe('loading');

    await act(async () => {
      resolveLoad([1, 2]);
      await settle();
    });
    expect(screen.getByTestId('numbers').textContent).toBe('1,2,3');

    await act(async () => {
      fake.latest().write(sseEvent('numbers', 'e1-2', { n: 4 }));
      await settle();
    });
    expect(screen.getByTestId('numbers').textContent).toBe('1,2,3,4');
    expect(fetcher).toHaveBeenCalledTimes(1);
    client.destroy();
  });

  it('failed load keeps the error', async () => {
    const fake = new FakeFetch();
    const client = new SSEClient({ url: 'http://127.0.0.1/sse', fetch: fake.fetch, platform: testPlatform() });
    const fetcher = () => Promise.reject(new Error('HTTP 500'));

    function Numbers() {
      const { data, error } = useRealtimeData<number[]>('/api/numbers', fetcher, { channel: 'numbers', apply: (current) => current });
      return <p data-testid="numbers">{error instanceof Error ? error.message : String(data)}</p>;
    }
    render(
      <SWRConfig value={{ provider: () => new Map() }}>
        <LivegateProvider clients={{ sse: client }}>
          <Numbers />
        </LivegateProvider>
      </SWRConfig>,
    );
    await act(settle);

    expect(screen.getByTestId('numbers').textContent).toBe('HTTP 500');
    client.destroy();
  });
});
