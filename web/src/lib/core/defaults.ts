// Connection options of the livegate clients, with their documented defaults.

/** Options shared by the SSE and WebSocket clients. Every field has a default in `CONNECTION_DEFAULTS`. */
export interface ConnectionOptions {
  /** First backoff ceiling: the first retry waits a random time in [0, backoffBaseMs). Default 1000 ms. */
  backoffBaseMs: number;
  /** Largest backoff ceiling: retries wait a random time in [0, min(backoffCapMs, backoffBaseMs * 2^attempt)). Default 30000 ms. */
  backoffCapMs: number;
  /** Failed attempts in a row after which the client stops with a `RetryLimitError`. Default 100; `Infinity` never stops. */
  maxRetries: number;
  /** The attempt counter goes back to 0 only after a connection stayed open this long. Default 10000 ms. */
  healthyUptimeMs: number;
  /** A connection not open after this long is closed and counted as a failed attempt. Default 10000 ms. */
  connectTimeoutMs: number;
  /** A live connection that receives no data and no heartbeat for this long is `stalled`. Default 35000 ms (livegate sends an SSE heartbeat after 15 s of silence). */
  stallTimeoutMs: number;
  /** A stalled connection is closed and retried after this much more silence. Default 30000 ms. */
  stallReconnectMs: number;
  /** Failed attempts in a row that open the circuit breaker. Default 5. */
  breakerThreshold: number;
  /** How long the breaker stays open before it lets one trial attempt through (half-open). Default 30000 ms. */
  breakerOpenMs: number;
  /** WebSocket only: interval of the client's `{"op":"ping"}` messages, whose pongs count as heartbeats. Default 10000 ms. */
  pingIntervalMs: number;
  /** WebSocket only: messages kept while the socket is not open, sent once it is. Default 100. */
  sendQueueLimit: number;
  /** Updates per second per key requested from the server (livegate's `max_rate`); 0 asks for every update. Default 0. */
  maxRate: number;
}

/** The defaults of `ConnectionOptions`; README's hooks section lists the same values. */
export const CONNECTION_DEFAULTS: Readonly<ConnectionOptions> = Object.freeze({
  backoffBaseMs: 1000,
  backoffCapMs: 30000,
  maxRetries: 100,
  healthyUptimeMs: 10000,
  connectTimeoutMs: 10000,
  stallTimeoutMs: 35000,
  stallReconnectMs: 30000,
  breakerThreshold: 5,
  breakerOpenMs: 30000,
  pingIntervalMs: 10000,
  sendQueueLimit: 100,
  maxRate: 0,
});

/** Options of the per-channel state that the clients keep. */
export interface ChannelOptions {
  /** Events kept per channel for `history`. Default 300. */
  historyLength: number;
  /** Event ids remembered per channel to drop repeated events after a resume. Default 512. */
  seenIdLimit: number;
  /** Keep `history` when the server sends a reset (useful for time series such as host metrics); otherwise the snapshot replaces it. Default false. */
  keepHistoryOnReset: boolean;
}

export const CHANNEL_DEFAULTS: Readonly<ChannelOptions> = Object.freeze({
  historyLength: 300,
  seenIdLimit: 512,
  keepHistoryOnReset: false,
});
