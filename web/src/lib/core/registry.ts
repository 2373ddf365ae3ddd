// One client per transport and endpoint for the whole page, shared by every hook.

import type { ClientOptions, LivegateClient, TransportName } from './client';
import { SSEClient } from './sse';
import { WebSocketClient } from './ws';

const clients = new Map<string, LivegateClient>();

/**
 * Returns the page's client for `transport` and `options.url`, creating it on first
 * use with `options`; later calls with the same transport and URL get the same client
 * and their other options are ignored. A client without channels holds no connection
 * and no timer, so shared clients are kept for the life of the page.
 */
export function sharedClient(transport: TransportName, options: ClientOptions = {}): LivegateClient {
  const key = `${transport} ${options.url ?? ''}`;
  let client = clients.get(key);
  if (client === undefined) {
    client = transport === 'sse' ? new SSEClient(options) : new WebSocketClient(options);
    clients.set(key, client);
  }
  return client;
}

/** Destroys every shared client (for tests and for pages that tear down their app). */
export function destroySharedClients(): void {
  for (const client of clients.values())
    client.destroy();
  clients.clear();
}
