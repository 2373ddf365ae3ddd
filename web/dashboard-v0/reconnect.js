// Connection state, stall detection, connect timeout, capped exponential backoff and
// online/offline handling, shared by the dashboard's transports: MetricStream (sse.js)
// and WebSocketStream (ws.js).

// Connection states, in the words the status badge shows.
export const State = Object.freeze({
  CONNECTING: 'connecting',
  LIVE: 'live',
  STALLED: 'stalled',
  RECONNECTING: 'reconnecting',
  OFFLINE: 'offline',
  // The server rejected the connection for a reason that a retry would repeat, so the
  // stream stopped. Only a page reload starts a new one.
  FAILED: 'failed',
});

export const DEFAULTS = Object.freeze({
  // How often the server sends data on each channel (livegate's sysmetrics default is 1 s).
  expectedIntervalMs: 1000,
  // The connection counts as stalled after this many expected intervals without data.
  // Page scripts see neither SSE heartbeat comments nor WebSocket pings, so only data counts.
  stallFactor: 2.5,
  // Backoff for our own retries: a random delay between 0 and
  // min(backoffCapMs, backoffBaseMs * 2^attempt) ("full jitter").
  backoffBaseMs: 1000,
  backoffCapMs: 30000,
  // A connection that has not opened after this long is closed and retried. For SSE it
  // has to be longer than the server's `retry:` interval (livegate sends 3 s), because
  // while the browser reconnects by itself the timeout runs from its last failed attempt.
  connectTimeoutMs: 10000,
  // The backoff attempt counter goes back to zero only after a connection stayed
  // open this long, so a server that accepts and then drops at once still backs off.
  healthyUptimeMs: 10000,
  // How often the stall check runs while connected.
  watchdogMs: 250,
});

// Runs the life cycle of one stream's connection and reports its state. The transport
// object opens and closes the connection itself:
//   transport.connect()      opens a new connection.
//   transport.disconnect()   closes the current connection, if any, and detaches its
//                            handlers, so that it reports nothing afterwards.
// The transport reports what happens to the connection through opened(), noteData(),
// retry(), waitForBrowserRetry() and fail().
// onState(state, retryAt) is called when the state changes. retryAt is the Date.now()
// time of our next retry, or null while there is none planned.
export class Reconnector {
  #transport;
  #onState;
  #options;
  #state = null;
  #retryAt = null;
  #lastDataAt = 0;
  #hasBeenOpen = false;
  #attempt = 0;
  #timers = { retry: 0, connect: 0, healthy: 0, watchdog: 0 };
  #onOnline = () => this.#handleOnline();
  #onOffline = () => this.#handleOffline();

  constructor(transport, onState, options = {}) {
    this.#transport = transport;
    this.#onState = onState;
    this.#options = { ...DEFAULTS, ...options };
  }

  get state() {
    return this.#state;
  }

  start() {
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('offline', this.#onOffline);

    if (!navigator.onLine) {
      this.#setState(State.OFFLINE);
      return;
    }
    this.#open();
  }

  // Closes the connection and clears every timer. The instance cannot be started again.
  destroy() {
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
    this.#disconnect();
    this.#clearTimer('retry');
  }

  // Marks the connection live once the transport's connection is open and subscribed.
  // Starts the stall watchdog and the timer that resets the backoff after healthyUptimeMs.
  opened() {
    this.#clearTimer('connect');
    this.#clearTimer('healthy');
    this.#clearTimer('watchdog');
    this.#hasBeenOpen = true;
    this.#lastDataAt = performance.now();
    this.#setState(State.LIVE);

    this.#timers.healthy = setTimeout(() => {
      this.#attempt = 0;
    }, this.#options.healthyUptimeMs);
    this.#timers.watchdog = setInterval(() => this.#checkStall(), this.#options.watchdogMs);
  }

  // Records that data arrived, which ends a stall.
  noteData() {
    this.#lastDataAt = performance.now();
    if (this.#state === State.STALLED)
      this.#setState(State.LIVE);
  }

  // Closes the connection and opens a new one after a backoff delay.
  retry() {
    this.#disconnect();
    this.#scheduleRetry();
  }

  // Lets the browser reconnect by itself (EventSource does after a network error) and
  // arms the connect timeout in case it never succeeds.
  waitForBrowserRetry() {
    this.#clearTimer('healthy');
    this.#clearTimer('watchdog');
    this.#armConnectTimeout();
    this.#setState(this.#hasBeenOpen ? State.RECONNECTING : State.CONNECTING);
  }

  // Stops for good like destroy() and shows the FAILED state.
  fail() {
    this.destroy();
    this.#setState(State.FAILED);
  }

  #open() {
    this.#clearTimer('retry');
    this.#disconnect();

    this.#transport.connect();

    this.#armConnectTimeout();
    this.#setState(this.#hasBeenOpen ? State.RECONNECTING : State.CONNECTING);
  }

  #checkStall() {
    const limitMs = this.#options.expectedIntervalMs * this.#options.stallFactor;
    if (this.#state === State.LIVE && performance.now() - this.#lastDataAt > limitMs)
      this.#setState(State.STALLED);
  }

  #armConnectTimeout() {
    this.#clearTimer('connect');
    this.#timers.connect = setTimeout(() => {
      console.warn(`livegate: connection timed out after ${this.#options.connectTimeoutMs} ms, retrying with backoff`);
      this.retry();
    }, this.#options.connectTimeoutMs);
  }

  #scheduleRetry() {
    const { backoffBaseMs, backoffCapMs } = this.#options;
    const ceilingMs = Math.min(backoffCapMs, backoffBaseMs * 2 ** this.#attempt);
    const delayMs = Math.random() * ceilingMs;

    this.#attempt += 1;
    this.#clearTimer('retry');
    this.#timers.retry = setTimeout(() => this.#open(), delayMs);
    this.#setState(State.RECONNECTING, Date.now() + delayMs);
  }

  #handleOnline() {
    if (this.#state !== State.OFFLINE)
      return;

    this.#attempt = 0;
    this.#open();
  }

  #handleOffline() {
    this.#disconnect();
    this.#clearTimer('retry');
    this.#setState(State.OFFLINE);
  }

  // Closes the current connection, if any, with the timers that belong to it.
  #disconnect() {
    this.#clearTimer('connect');
    this.#clearTimer('healthy');
    this.#clearTimer('watchdog');
    this.#transport.disconnect();
  }

  // HTML keeps one list of timers for setTimeout and setInterval, so clearTimeout
  // also stops the watchdog interval.
  #clearTimer(name) {
    clearTimeout(this.#timers[name]);
    this.#timers[name] = 0;
  }

  #setState(state, retryAt = null) {
    if (state === this.#state && retryAt === this.#retryAt)
      return;

    this.#state = state;
    this.#retryAt = retryAt;
    this.#onState(state, retryAt);
  }
}
