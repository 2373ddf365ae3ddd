import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { RejectedError } from '../src/lib/core/errors';
import { SSEClient } from '../src/lib/core/sse';
import { FakeFetch, settle, sseEvent, sseNotice, testPlatform } from './helpers';

function makeClient() {
  const fake = new FakeFetch();
  const client = new SSEClient({ url: 'http://127.0.0.1:8080/sse', fetch: fake.fetch, platform: testPlatform() });
  return { fake, client };
}

// Runs the first reconnect: ends the stream and waits out the backoff delay.
async function reconnect(fake: FakeFetch, client: SSEClient): Promise<void> {
  fake.latest().end();
  await settle();
  const status = client.connection.status.get();
  if (status.state !== 'reconnecting' || status.retryAt === null)
    throw new Error(`expected a pending retry, status is ${status.state}`);
  vi.advanceTimersByTime(status.retryAt - Date.now());
  await settle();
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('sse client', () => {
  it('first stream has channels and no position', async () => {
    const { fake, client } = makeClient();
    client.follow('prices.A');
    client.follow('prices.B');
    await settle();

    expect(fake.streams).toHaveLength(1);
    expect(fake.latest().url.searchParams.getAll('channel')).toEqual(['prices.A', 'prices.B']);
    expect(fake.latest().url.searchParams.has('last_event_id')).toBe(false);
    client.destroy();
  });

  it('goes live when the stream opens', async () => {
    const { client } = makeClient();
    client.follow('prices.A');
    await settle();

    expect(client.connection.status.get().state).toBe('live');
    client.destroy();
  });

  it('reconnect resumes from the last id', async () => {
    const { fake, client } = makeClient();
    client.follow('prices.A');
    await settle();
    fake.latest().write(sseNotice('subscribed', { channel: 'prices.A', recovered: false }));
    fake.latest().write(sseEvent('prices.A', 'e1-10', { price: 1 }));
    fake.latest().write(sseEvent('prices.A', 'e1-12', { price: 2 }));
    await settle();

    await reconnect(fake, client);

    expect(fake.streams).toHaveLength(2);
    expect(fake.latest().url.searchParams.get('last_event_id')).toBe('e1-12');
    expect(client.channels.get('prices.A')?.resumeId).toBe('e1-12');
    client.destroy();
  });

  it('unconfirmed channel gets no position', async () => {
    const { fake, client } = makeClient();
    client.follow('prices.A');
    await settle();
    fake.latest().write(sseEvent('prices.A', 'e1-10', { price: 1 }));
    await settle();

    await reconnect(fake, client);

    expect(fake.latest().url.searchParams.has('last_event_id')).toBe(false);
    client.destroy();
  });

  it('repeated ids are dropped', async () => {
    const { fake, client } = makeClient();
    client.follow('prices.A');
    await settle();
    fake.latest().write(sseEvent('prices.A', 'e1-10', { price: 1 }));
    fake.latest().write(sseEvent('prices.A', 'e1-10', { price: 1 }));
    fake.latest().write(sseEvent('prices.A', 'e1-11', { price: 2 }));
    await settle();
    const state = client.channels.get('prices.A');

    expect(state?.history.map((event) => event.id)).toEqual(['e1-10', 'e1-11']);
    expect(state?.duplicates).toBe(1);
    client.destroy();
  });

  it('reset replaces state with the snapshot', async () => {
    const { fake, client } = makeClient();
    client.follow('book');
    await settle();
    const stream = fake.latest();
    stream.write(sseEvent('book', 'e1-1', { price: 1 }, 'A'));
    stream.write(sseEvent('book', 'e1-2', { price: 2 }, 'B'));
    await settle();

    stream.write(sseNotice('reset', { channel: 'book', reason: 'unknown id' }));
    await settle();
    const during = client.channels.get('book');
    expect(during?.resets).toBe(1);
    expect([...(during?.byKey.keys() ?? [])]).toEqual(['A', 'B']);

    stream.write(sseEvent('book', 'e2-5', { price: 3 }, 'B'));
    await settle();
    const after = client.channels.get('book');
    expect([...(after?.byKey.keys() ?? [])]).toEqual(['B']);
    expect(after?.history.map((event) => event.id)).toEqual(['e2-5']);
    expect(after?.lastNotice?.detail).toBe('unknown id');
    client.destroy();
  });

  it('reset keeps history when asked', async () => {
    const { fake, client } = makeClient();
    client.follow('system.cpu', undefined, { keepHistoryOnReset: true });
    await settle();
    const stream = fake.latest();
    stream.write(sseEvent('system.cpu', 'e1-1', { usage_percent: 5 }));
    stream.write(sseNotice('reset', { channel: 'system.cpu', reason: 'unknown id' }));
    stream.write(sseEvent('system.cpu', 'e2-1', { usage_percent: 6 }));
    await settle();

    expect(client.channels.get('system.cpu')?.history.map((event) => event.id)).toEqual(['e1-1', 'e2-1']);
    client.destroy();
  });

  it('gap notice is counted', async () => {
    const { fake, client } = makeClient();
    client.follow('prices.A');
    await settle();
    fake.latest().write(sseNotice('gap', { channel: 'prices.A', dropped: 7 }));
    fake.latest().write(sseNotice('gap', { channel: 'prices.A', reason: 'source reconnected' }));
    await settle();
    const state = client.channels.get('prices.A');

    expect(state?.gaps).toBe(2);
    expect(state?.dropped).toBe(7);
    expect(state?.lastNotice?.detail).toBe('source reconnected');
    client.destroy();
  });

  it('heartbeat comment counts as activity', async () => {
    const fake = new FakeFetch();
    const client = new SSEClient({ url: 'http://127.0.0.1/sse', fetch: fake.fetch, platform: testPlatform(), connection: { stallTimeoutMs: 3000 } });
    client.follow('prices.A');
    await settle();
    for (let second = 0; second < 6; second += 1) {
      vi.advanceTimersByTime(1000);
      fake.latest().write(': heartbeat\n\n');
      await settle();
    }

    expect(client.connection.status.get().state).toBe('live');
    vi.advanceTimersByTime(3000);
    expect(client.connection.status.get().state).toBe('stalled');
    client.destroy();
  });

  it('http 401 stops with an error', async () => {
    const { fake, client } = makeClient();
    fake.statuses.push(401);
    client.follow('prices.A');
    await settle();
    const status = client.connection.status.get();

    expect(status.state).toBe('failed');
    expect(status.state === 'failed' && status.error).toBeInstanceOf(RejectedError);
    expect(vi.getTimerCount()).toBe(0);
    client.destroy();
  });

  it('http 503 is retried', async () => {
    const { fake, client } = makeClient();
    fake.statuses.push(503);
    client.follow('prices.A');
    await settle();

    const status = client.connection.status.get();
    expect(status.state).toBe('reconnecting');
    expect(status.state === 'reconnecting' && status.reason).toContain('HTTP 503');
    client.destroy();
  });

  it('new channel reopens the stream once', async () => {
    const { fake, client } = makeClient();
    client.follow('a');
    await settle();
    client.follow('b');
    client.follow('c');
    await settle();

    expect(fake.streams).toHaveLength(2);
    expect(fake.streams[0]!.aborted()).toBe(true);
    expect(fake.latest().url.searchParams.getAll('channel')).toEqual(['a', 'b', 'c']);
    client.destroy();
  });

  it('last release closes the stream', async () => {
    const { fake, client } = makeClient();
    const release = client.follow('a');
    await settle();
    release();
    await settle();

    expect(fake.latest().aborted()).toBe(true);
    expect(client.connection.status.get().state).toBe('idle');
    expect(vi.getTimerCount()).toBe(0);
    client.destroy();
  });
});
