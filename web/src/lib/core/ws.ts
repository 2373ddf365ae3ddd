// WebSocket client for livegate's GET /ws (subprotocol livegate.v1): subscribe and
// unsubscribe messages, per-channel resume positions, application pings.

import { type Envelope } from './channels';
import { ClientBase, resolveUrl, type ClientOptions } from './client';
import type { SessionEvents } from './connection';
import { RejectedError } from './errors';
import { describe, parseObject } from './sse';

/** The subprotocol livegate's WebSocket sink accepts by default. */
export const SUBPROTOCOL = 'livegate.v1';

/** Close codes after which a retry would be rejected the same way: 1008 policy violation (livegate: too many invalid messages). */
const FATAL_CLOSE_CODES = new Set([1008]);

export interface WebSocketClientOptions extends ClientOptions {
  /** The WebSocket constructor; the global one by default. */
  WebSocket?: typeof WebSocket;
}

/**
 * Follows channels over one WebSocket. Channels added or removed while connected are
 * subscribed or unsubscribed on the open socket. After a reconnect each channel is
 * subscribed again with its own resume position (`resume` of its last event, else its
 * `id`), and channels without one get their snapshot. A close with 1008 stops the
 * retries with a RejectedError.
 *
 * NOTE: a browser reports a rejected handshake (HTTP 401, 403 or 429) only as close
 * code 1006, the same as a network failure, so those are retried with backoff.
 */
export class WebSocketClient extends ClientBase {
  readonly transport = 'ws' as const;
  #url: string;
  #WebSocket: typeof WebSocket;
  #socket: WebSocket | null = null;
  #subscribed = new Set<string>();
  #queue: string[] = [];
  #live = false;

  constructor(options: WebSocketClientOptions = {}) {
    super(options);
    this.#url = options.url ?? 'ws';
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
  }

  /** Sends a protocol message, or queues it (at most `sendQueueLimit`, oldest dropped first) until the socket is open. */
  send(message: Record<string, unknown>): void {
    const text = JSON.stringify(message);
    if (this.#socket !== null && this.#socket.readyState === this.#WebSocket.OPEN) {
      this.#socket.send(text);
      return;
    }
    this.#queue.push(text);
    if (this.#queue.length > this.connection.options.sendQueueLimit)
      this.#queue.shift();
  }

  socketUrl(): string {
    const url = resolveUrl(this.#url);
    url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
    return url.href;
  }

  protected channelsChanged(): void {
    if (this.#socket === null || this.#socket.readyState !== this.#WebSocket.OPEN)
      return;
    this.#syncSubscriptions();
  }

  protected connect(events: SessionEvents): () => void {
    const socket = new this.#WebSocket(this.socketUrl(), SUBPROTOCOL);
    let pingTimer: ReturnType<typeof setInterval> | undefined;
    this.#socket = socket;
    this.#subscribed.clear();
    this.#live = false;
    this.channels.markAllUnsubscribed();

    socket.onopen = () => {
      this.#syncSubscriptions();
      for (const text of this.#queue.splice(0))
        socket.send(text);
      pingTimer = setInterval(() => socket.send(JSON.stringify({ op: 'ping' })), this.connection.options.pingIntervalMs);
    };
    socket.onmessage = (message: MessageEvent) => {
      events.activity();
      this.#handleMessage(message, events);
    };
    // An error event is always followed by a close event, so onclose handles both.
    socket.onclose = (event: CloseEvent) => {
      clearInterval(pingTimer);
      const reason = event.reason === '' ? 'no reason given' : event.reason;
      if (FATAL_CLOSE_CODES.has(event.code)) {
        events.ended({ kind: 'fatal', error: new RejectedError(event.code, `the server closed the WebSocket with code ${event.code} (${reason}): fix the messages this page sends, then reconnect`) });
        return;
      }
      events.ended({ kind: 'retry', message: `the WebSocket closed with code ${event.code} (${reason})` });
    };

    return () => {
      clearInterval(pingTimer);
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      try {
        socket.close(1000);
      } catch (error) {
        console.warn(`livegate: closing the WebSocket failed: ${describe(error)}`);
      }
      if (this.#socket === socket)
        this.#socket = null;
    };
  }

  // Subscribes the channels that were added and unsubscribes those that were removed.
  // Channels without a resume position share one message, so their snapshots arrive
  // merged in id order.
  #syncSubscriptions(): void {
    const socket = this.#socket;
    if (socket === null)
      return;
    const wanted = new Set(this.channels.names());
    const fresh: string[] = [];
    for (const channel of wanted) {
      if (this.#subscribed.has(channel))
        continue;
      this.#subscribed.add(channel);
      const position = this.channels.get(channel)?.resumeId ?? null;
      if (position === null)
        fresh.push(channel);
      else
        socket.send(JSON.stringify({ op: 'subscribe', channel, last_event_id: position, ...this.#rate() }));
    }
    if (fresh.length > 0)
      socket.send(JSON.stringify({ op: 'subscribe', channels: fresh, ...this.#rate() }));

    const gone = [...this.#subscribed].filter((channel) => !wanted.has(channel));
    for (const channel of gone)
      this.#subscribed.delete(channel);
    if (gone.length > 0)
      socket.send(JSON.stringify({ op: 'unsubscribe', channels: gone }));
  }

  #rate(): { max_rate?: number } {
    const maxRate = this.connection.options.maxRate;
    return maxRate > 0 ? { max_rate: maxRate } : {};
  }

  #handleMessage(message: MessageEvent, events: SessionEvents): void {
    if (typeof message.data !== 'string') {
      console.warn('livegate: ignored a binary message: livegate sends only text messages');
      return;
    }
    const body = parseObject(message.data);
    if (body === null) {
      console.warn(`livegate: ignored a message that is not a JSON object: ${message.data.slice(0, 100)}`);
      return;
    }
    const channel = typeof body.channel === 'string' ? body.channel : '';

    switch (body.type) {
      case 'event':
        this.#handleEvent(body);
        break;
      case 'subscribed':
        this.channels.applySubscribed(channel, body.recovered === true);
        if (!this.#live) {
          this.#live = true;
          events.opened();
        }
        break;
      case 'reset':
        this.channels.applyReset(channel, String(body.reason ?? 'unknown'));
        break;
      case 'gap':
        this.channels.applyGap(channel, typeof body.dropped === 'number' ? body.dropped : null, typeof body.reason === 'string' ? body.reason : null);
        break;
      case 'error':
        console.warn(`livegate: the server rejected a request${channel === '' ? '' : ` for ${channel}`}: ${String(body.message)}`);
        if (channel !== '')
          this.channels.applyError(channel, String(body.message));
        break;
      case 'pong':
      case 'unsubscribed':
        break;
      default:
        console.warn(`livegate: ignored a message of unknown type ${String(body.type)}`);
    }
  }

  #handleEvent(body: Record<string, unknown>): void {
    if (typeof body.channel !== 'string' || typeof body.id !== 'string') {
      console.warn('livegate: ignored an event without channel or id');
      return;
    }
    const envelope: Envelope = {
      channel: body.channel,
      id: body.id,
      time: typeof body.time === 'number' ? body.time : 0,
      key: typeof body.key === 'string' ? body.key : null,
      data: body.data,
      ...(typeof body.event === 'string' ? { event: body.event } : {}),
    };
    const position = typeof body.resume === 'string' ? body.resume : body.id;
    this.channels.applyEvent(envelope, position);
  }
}
