// React hooks over the connection core: thin wrappers around useSyncExternalStore.

import { createContext, createElement, useCallback, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import useSWRSubscription from 'swr/subscription';

import type { ChannelState, Envelope } from '../core/channels';
import type { ClientOptions, LivegateClient, TransportName } from '../core/client';
import type { ChannelOptions } from '../core/defaults';
import { sharedClient } from '../core/registry';
import type { LivegateStatus } from '../core/status';
import type { WebSocketClient } from '../core/ws';

interface ProviderValue {
  transport: TransportName;
  clients: Partial<Record<TransportName, LivegateClient>>;
}

const LivegateContext = createContext<ProviderValue>({ transport: 'sse', clients: {} });

export interface LivegateProviderProps {
  /** Transport of useChannel and useRealtimeData when they name none. Default "sse". */
  transport?: TransportName;
  /** Clients to use instead of the page's shared ones (another endpoint, other options, tests). */
  clients?: Partial<Record<TransportName, LivegateClient>>;
  children?: ReactNode;
}

/** Sets the default transport and, optionally, the clients of the hooks below it. */
export function LivegateProvider({ transport = 'sse', clients = {}, children }: LivegateProviderProps) {
  const value = useMemo(() => ({ transport, clients }), [transport, clients]);
  return createElement(LivegateContext.Provider, { value }, children);
}

/** Returns the client for `transport` (the provider's default when undefined): the provider's, else the page's shared one. */
export function useLivegateClient(transport?: TransportName, options?: ClientOptions): LivegateClient {
  const context = useContext(LivegateContext);
  const name = transport ?? context.transport;
  return context.clients[name] ?? sharedClient(name, options);
}

/** Returns the connection status of `client`, re-rendering on every change. */
export function useConnectionStatus(client: LivegateClient): LivegateStatus {
  const { subscribe, get } = client.connection.status;
  return useSyncExternalStore(subscribe, get, get);
}

export interface TransportHook<Client extends LivegateClient> {
  client: Client;
  status: LivegateStatus;
  /** Starts over after `failed`, or skips the wait before the next retry. */
  reconnect(): void;
}

/** Returns the page's Server-Sent Events client and its status. The connection opens with the first channel followed. */
export function useSSE(options?: ClientOptions): TransportHook<LivegateClient> {
  const client = useLivegateClient('sse', options);
  const status = useConnectionStatus(client);
  const reconnect = useCallback(() => client.connection.reconnect(), [client]);
  return { client, status, reconnect };
}

/** Returns the page's WebSocket client and its status, with `send` for protocol messages. */
export function useWebSocket(options?: ClientOptions): TransportHook<WebSocketClient> & { send(message: Record<string, unknown>): void } {
  const client = useLivegateClient('ws', options) as WebSocketClient;
  const status = useConnectionStatus(client);
  const reconnect = useCallback(() => client.connection.reconnect(), [client]);
  const send = useCallback((message: Record<string, unknown>) => client.send(message), [client]);
  return { client, status, reconnect, send };
}

export interface UseChannelOptions extends Partial<ChannelOptions> {
  transport?: TransportName;
}

export interface ChannelView extends ChannelState {
  status: LivegateStatus;
}

/**
 * Follows `channel` while the component is mounted and returns its latest event,
 * values by key, history and notices, with the connection status. Components on the
 * same channel share one subscription, and all channels share one connection per
 * transport. Pass null to follow nothing.
 */
export function useChannel(channel: string | null, options: UseChannelOptions = {}): ChannelView {
  const client = useLivegateClient(options.transport);
  const { historyLength, seenIdLimit, keepHistoryOnReset } = options;
  const empty = useMemo(() => emptyChannel(channel ?? ''), [channel]);

  const subscribe = useCallback(
    (notify: () => void) => {
      if (channel === null)
        return () => {};
      const channelOptions: Partial<ChannelOptions> = {};
      if (historyLength !== undefined)
        channelOptions.historyLength = historyLength;
      if (seenIdLimit !== undefined)
        channelOptions.seenIdLimit = seenIdLimit;
      if (keepHistoryOnReset !== undefined)
        channelOptions.keepHistoryOnReset = keepHistoryOnReset;
      return client.follow(channel, notify, channelOptions);
    },
    [client, channel, historyLength, seenIdLimit, keepHistoryOnReset],
  );
  const getSnapshot = useCallback(() => (channel === null ? empty : client.channels.get(channel) ?? empty), [client, channel, empty]);

  const state = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
  const status = useConnectionStatus(client);
  return useMemo(() => ({ ...state, status }), [state, status]);
}

export interface RealtimeOptions<Data> {
  /** The channel whose events update the data. */
  channel: string;
  /** Returns the data with one pushed event applied. It must not change `current`. */
  apply(current: Data, event: Envelope): Data;
  transport?: TransportName;
}

/**
 * Loads `key` with `fetcher` once, then keeps it current from `options.channel`
 * without fetching again, through SWR's subscription API (swr/subscription). Events
 * that arrive while the fetch runs are applied after it, in order. A failed fetch
 * sets `error`, keeps any data SWR already has, and ignores events until the next
 * subscription. Pass a null key to load nothing.
 */
export function useRealtimeData<Data>(key: string | null, fetcher: (key: string) => Promise<Data>, options: RealtimeOptions<Data>): { data: Data | undefined; error: unknown } {
  const client = useLivegateClient(options.transport);
  const { channel, apply } = options;

  const { data, error } = useSWRSubscription<Data, unknown, [string, string, string] | null>(
    key === null ? null : [key, channel, client.transport],
    ([resourceKey, channelName], { next }) => {
      const pending: Envelope[] = [];
      let phase: 'loading' | 'loaded' | 'failed' = 'loading';
      let closed = false;

      const release = client.follow(channelName);
      const unlisten = client.channels.listenEvents(channelName, (event) => {
        if (event.kind !== 'event' || phase === 'failed')
          return;
        if (phase === 'loading')
          pending.push(event.envelope);
        else
          next(null, (current?: Data) => (current === undefined ? current : apply(current, event.envelope)));
      });

      fetcher(resourceKey).then(
        (loadedData) => {
          if (closed)
            return;
          phase = 'loaded';
          next(null, pending.splice(0).reduce(apply, loadedData));
        },
        (reason: unknown) => {
          // Without loaded data there is nothing to apply events to, until SWR
          // subscribes again (a remount or a new key).
          phase = 'failed';
          pending.length = 0;
          if (!closed)
            next(reason);
        },
      );

      return () => {
        closed = true;
        unlisten();
        release();
      };
    },
  );
  return { data, error };
}

const EMPTY_MAP: ReadonlyMap<string, Envelope> = new Map();

function emptyChannel(channel: string): ChannelState {
  return {
    channel,
    latest: null,
    byKey: EMPTY_MAP,
    history: [],
    resumeId: null,
    subscribed: false,
    recovered: null,
    resets: 0,
    gaps: 0,
    dropped: 0,
    duplicates: 0,
    lastNotice: null,
  };
}
