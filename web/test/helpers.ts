// Test doubles: a platform with a fixed random number, a WebSocket and a fetch under the test's control.

import type { Platform } from '../src/lib/core/connection';

/** A platform that uses the (fake) Date clock, a fixed random() and records its window handlers. */
export function testPlatform(random = 0.5) {
  const handlers: { online?: () => void; offline?: () => void; visible?: () => void } = {};
  const platform: Platform & { online: boolean; handlers: typeof handlers } = {
    online: true,
    handlers,
    now: () => Date.now(),
    random: () => random,
    isOnline: () => platform.online,
    isVisible: () => true,
    watch(next) {
      Object.assign(handlers, next);
      return () => {
        delete handlers.online;
        delete handlers.offline;
        delete handlers.visible;
      };
    },
  };
  return platform;
}

/** A WebSocket whose server side the test plays: open(), receive(), close(). */
export class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static instances: FakeWebSocket[] = [];

  readonly url: string;
  readonly protocol: string;
  readyState = FakeWebSocket.CONNECTING;
  sent: Record<string, unknown>[] = [];
  closedByClient = false;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;

  constructor(url: string, protocol: string) {
    this.url = url;
    this.protocol = protocol;
    FakeWebSocket.instances.push(this);
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  static latest(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (socket === undefined)
      throw new Error('no WebSocket was opened');
    return socket;
  }

  send(text: string): void {
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
  }

  close(): void {
    this.closedByClient = true;
    this.readyState = FakeWebSocket.CLOSED;
  }

  open(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.();
  }

  receive(message: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code, reason });
  }
}

/** One request made through FakeFetch, with the stream the test writes to. */
export interface FakeStream {
  url: URL;
  write(text: string): void;
  end(): void;
  aborted(): boolean;
}

/** A fetch that answers each GET with a streaming 200 (or the next queued status) that the test writes. */
export class FakeFetch {
  streams: FakeStream[] = [];
  statuses: number[] = [];

  fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const signal = init?.signal ?? null;
    const status = this.statuses.shift() ?? 200;
    if (status !== 200)
      return Promise.resolve(new Response(JSON.stringify({ error: `status ${status}` }), { status }));

    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    const encoder = new TextEncoder();
    let open = true;
    signal?.addEventListener('abort', () => {
      if (open)
        controller.error(new DOMException('aborted', 'AbortError'));
      open = false;
    });
    this.streams.push({
      url,
      write: (text) => {
        if (open)
          controller.enqueue(encoder.encode(text));
      },
      end: () => {
        if (open)
          controller.close();
        open = false;
      },
      aborted: () => signal?.aborted ?? false,
    });
    return Promise.resolve(new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } }));
  };

  latest(): FakeStream {
    const stream = this.streams.at(-1);
    if (stream === undefined)
      throw new Error('no stream was requested');
    return stream;
  }
}

/** Formats one livegate SSE event frame. */
export function sseEvent(channel: string, id: string, data: unknown, key: string | null = null): string {
  return `id: ${id}\ndata: ${JSON.stringify({ channel, id, time: 1, key, data })}\n\n`;
}

/** Formats one livegate SSE notice. */
export function sseNotice(type: string, body: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify(body)}\n\n`;
}

/** Lets pending promise callbacks and microtasks run (fetch reads, store notifications). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1)
    await Promise.resolve();
}
