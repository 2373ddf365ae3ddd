// What the SSE and WebSocket clients have in common: the channel store, the
// connection, and opening the connection on the first channel and closing it after the last.

import { ChannelStore, type ChannelListener } from './channels';
import { Connection, browserPlatform, type Connector, type Platform } from './connection';
import type { ChannelOptions, ConnectionOptions } from './defaults';

export type TransportName = 'sse' | 'ws';

/** Options of both clients. */
export interface ClientOptions {
  /** Endpoint, resolved against the page: "sse" or "ws" relative to the page by default. */
  url?: string;
  connection?: Partial<ConnectionOptions>;
  platform?: Platform;
}

/** A client of one livegate endpoint. One client serves every channel of a page. */
export interface LivegateClient {
  readonly transport: TransportName;
  readonly connection: Connection;
  readonly channels: ChannelStore;
  /**
   * Follows `channel`: the connection includes it while at least one follower is
   * there. Returns the function that stops following (safe to call twice).
   */
  follow(channel: string, listener?: ChannelListener, options?: Partial<ChannelOptions>): () => void;
  /** Closes the connection, clears every timer and forgets every channel. */
  destroy(): void;
}

/**
 * Base of SSEClient and WebSocketClient. Subclasses provide the connector and react to
 * channel set changes while connected (`channelsChanged`).
 */
export abstract class ClientBase implements LivegateClient {
  abstract readonly transport: TransportName;
  readonly connection: Connection;
  readonly channels: ChannelStore;
  protected readonly platform: Platform;
  #unwatchSet: () => void;
  #syncQueued = false;
  #syncedSet = '';

  protected constructor(options: ClientOptions) {
    this.platform = options.platform ?? browserPlatform;
    this.channels = new ChannelStore(() => this.platform.now());
    this.connection = new Connection((events) => this.connect(events), options.connection, this.platform);
    this.#unwatchSet = this.channels.onSetChange(() => this.#handleSetChange());
  }

  follow(channel: string, listener?: ChannelListener, options?: Partial<ChannelOptions>): () => void {
    return this.channels.acquire(channel, listener, options);
  }

  destroy(): void {
    this.#unwatchSet();
    this.connection.destroy();
    this.#syncedSet = '';
  }

  protected abstract connect(events: Parameters<Connector>[0]): () => void;

  /** Called when the channel set changed while the connection runs. */
  protected abstract channelsChanged(): void;

  // Components usually mount and unmount together: one check after the current task's
  // synchronous work serves them all, and a release followed by a new reference to
  // the same channel (React's StrictMode) changes nothing.
  #handleSetChange(): void {
    if (this.#syncQueued)
      return;
    this.#syncQueued = true;
    queueMicrotask(() => {
      this.#syncQueued = false;
      this.#sync();
    });
  }

  #sync(): void {
    const names = this.channels.names();
    const key = names.join('\n');
    if (key === this.#syncedSet)
      return;
    this.#syncedSet = key;

    if (names.length === 0)
      this.connection.stop();
    else if (this.connection.status.get().state === 'idle')
      this.connection.start();
    else
      this.channelsChanged();
  }
}

/** Resolves `url` against the page (or http://localhost/ outside a browser). */
export function resolveUrl(url: string): URL {
  const base = typeof document !== 'undefined' ? document.baseURI : 'http://localhost/';
  return new URL(url, base);
}
