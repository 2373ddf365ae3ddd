import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { RejectedError } from '../src/lib/core/errors';
import { WebSocketClient } from '../src/lib/core/ws';
import { FakeWebSocket, settle, testPlatform } from './helpers';

function makeClient() {
  FakeWebSocket.reset();
  return new WebSocketClient({
    url: 'http://127.0.0.1:8080/ws',
    WebSocket: FakeWebSocket as unknown as typeof WebSocket,
    platform: testPlatform(),
  });
}

function event(channel: string, id: string, extra: Record<string, unknown> = {}) {
  return { type: 'event', channel, id, time: 1, key: null, data: { value: id }, ...extra };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('websocket client', () => {
  it('subscribes with livegate.v1', async () => {
    const client = makeClient();
    client.follow('a');
    client.follow('b');
    await settle();
    const socket = FakeWebSocket.latest();
    socket.open();

    expect(socket.url).toBe('ws://127.0.0.1:8080/ws');
    expect(socket.protocol).toBe('livegate.v1');
    expect(socket.sent).toEqual([{ op: 'subscribe', channels: ['a', 'b'] }]);
    client.destroy();
  });

  it('goes live on the first subscribed', async () => {
    const client = makeClient();
    client.follow('a');
    await settle();
    const socket = FakeWebSocket.latest();
    socket.open();
    expect(client.connection.status.get().state).toBe('connecting');

    socket.receive({ type: 'subscribed', channel: 'a', recovered: false });
    expect(client.connection.status.get().state).toBe('live');
    client.destroy();
  });

  it('resubscribes each channel from its position', async () => {
    const client = makeClient();
    client.follow('a');
    client.follow('b');
    client.follow('c');
    await settle();
    const first = FakeWebSocket.latest();
    first.open();
    first.receive({ type: 'subscribed', channel: 'a', recovered: false });
    first.receive(event('a', 'e1-4'));
    first.receive(event('b', 'e1-6', { resume: 'e1-5' }));
    await settle();

    first.serverClose(1006);
    const status = client.connection.status.get();
    if (status.state !== 'reconnecting' || status.retryAt === null)
      throw new Error(`expected a pending retry, status is ${status.state}`);
    vi.advanceTimersByTime(status.retryAt - Date.now());
    const second = FakeWebSocket.latest();
    second.open();

    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(second.sent).toEqual([
      { op: 'subscribe', channel: 'a', last_event_id: 'e1-4' },
      { op: 'subscribe', channel: 'b', last_event_id: 'e1-5' },
      { op: 'subscribe', channels: ['c'] },
    ]);
    client.destroy();
  });

  it('channel changes use the open socket', async () => {
    const client = makeClient();
    const releaseA = client.follow('a');
    await settle();
    const socket = FakeWebSocket.latest();
    socket.open();
    client.follow('b');
    releaseA();
    await settle();

    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(socket.sent).toEqual([
      { op: 'subscribe', channels: ['a'] },
      { op: 'subscribe', channels: ['b'] },
      { op: 'unsubscribe', channels: ['a'] },
    ]);
    client.destroy();
  });

  it('close 1008 stops with an error', async () => {
    const client = makeClient();
    client.follow('a');
    await settle();
    const socket = FakeWebSocket.latest();
    socket.open();
    socket.receive({ type: 'subscribed', channel: 'a', recovered: false });
    socket.serverClose(1008, 'too many invalid messages');
    const status = client.connection.status.get();

    expect(status.state).toBe('failed');
    expect(status.state === 'failed' && status.error).toBeInstanceOf(RejectedError);
    expect(status.state === 'failed' && status.error.message).toContain('too many invalid messages');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    client.destroy();
  });

  it('pings and counts pongs as activity', async () => {
    const client = new WebSocketClient({
      url: 'http://127.0.0.1/ws',
      WebSocket: FakeWebSocket as unknown as typeof WebSocket,
      platform: testPlatform(),
      connection: { pingIntervalMs: 1000, stallTimeoutMs: 2500 },
    });
    FakeWebSocket.reset();
    client.follow('a');
    await settle();
    const socket = FakeWebSocket.latest();
    socket.open();
    socket.receive({ type: 'subscribed', channel: 'a', recovered: false });
    for (let second = 0; second < 5; second += 1) {
      vi.advanceTimersByTime(1000);
      socket.receive({ type: 'pong' });
    }

    expect(socket.sent.filter((message) => message.op === 'ping')).toHaveLength(5);
    expect(client.connection.status.get().state).toBe('live');
    client.destroy();
  });

  it('send queue is bounded while closed', async () => {
    const client = new WebSocketClient({
      url: 'http://127.0.0.1/ws',
      WebSocket: FakeWebSocket as unknown as typeof WebSocket,
      platform: testPlatform(),
      connection: { sendQueueLimit: 2 },
    });
    FakeWebSocket.reset();
    client.send({ op: 'ping', data: 1 });
    client.send({ op: 'ping', data: 2 });
    client.send({ op: 'ping', data: 3 });
    client.follow('a');
    await settle();
    const socket = FakeWebSocket.latest();
    socket.open();

    expect(socket.sent.slice(1)).toEqual([{ op: 'ping', data: 2 }, { op: 'ping', data: 3 }]);
    client.destroy();
  });
});
