// Server-Sent Events connection to livegate with a connection state, stall detection,
// resume ids and a capped exponential backoff for connections the browser gave up on.

// Connection states, in the words the status badge shows.
export const State = Object.freeze({
  CONNECTING: 'connecting',
  LIVE: 'live',
  STALLED: 'stalled',
  RECONNECTING: 'reconnecting',
  OFFLINE: 'offline',
});

export const DEFAULTS = Object.freeze({
  // How often the server sends data on each channel (livegate's sysmetrics default is 1 s).
  expectedIntervalMs: 1000,
  // The connection counts as stalled after this many expected intervals without data.
  // Heartbeat comments are invisible to EventSource, so only data counts.
  stallFactor: 2.5,
  // Backoff for our own retries: a random delay between 0 and
  // min(backoffCapMs, backoffBaseMs * 2^attempt) ("full jitter").
  backoffBaseMs: 1000,
  backoffCapMs: 30000,
  // A connection that has not opened after this long is closed and retried. It has to
  // be longer than the server's `retry:` interval (livegate sends 3 s), because while
  // the browser reconnects by itself the timeout runs from its last failed attempt.
  connectTimeoutMs: 10000,
  // The backoff attempt counter goes back to zero only after a connection stayed
  // open this long, so a server that accepts and then drops at once still backs off.
  healthyUptimeMs: 10000,
  // How often the stall check runs while connected.
  watchdogMs: 250,
});

// Connects to `url` (relative to the page) and calls these handlers:
//   onEvent(envelope)          with each parsed data frame { channel, id, time, key, data }.
//   onReset(channel, reason)   when the server could not resume. A fresh snapshot follows.
//   onGap(channel, dropped)    when the server skipped `dropped` events for a slow client.
//   onState(state, retryAt)    when the state changes. retryAt is the Date.now() time of
//                              our next retry, or null while the browser retries itself.
//
// The browser's EventSource reconnects by itself after network errors and sends the
// Last-Event-ID header. When it gives up (readyState CLOSED, for example after an HTTP
// error status), this class retries with a new EventSource and a last_event_id query
// parameter.
export class MetricStream {
  #url;
  #handlers;
  #options;
  #source = null;
  #state = null;
  #retryAt = null;
  #lastEventId = '';
  #lastDataAt = 0;
  #hasBeenOpen = false;
  #attempt = 0;
  #timers = { retry: 0, connect: 0, healthy: 0, watchdog: 0 };
  #onOnline = () => this.#handleOnline();
  #onOffline = () => this.#handleOffline();

  constructor(url, handlers, options = {}) {
    this.#url = url;
    this.#handlers = handlers;
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
    this.#closeSource();
    this.#clearTimer('retry');
  }

  #open() {
    this.#clearTimer('retry');
    this.#closeSource();

    const source = new EventSource(this.#resumeUrl());
    source.onopen = () => this.#handleOpen();
    source.onmessage = (event) => this.#handleMessage(event);
    source.onerror = () => this.#handleError();
    source.addEventListener('reset', (event) => this.#handleControl(event, 'reset'));
    source.addEventListener('gap', (event) => this.#handleControl(event, 'gap'));
    this.#source = source;

    this.#armConnectTimeout();
    this.#setState(this.#hasBeenOpen ? State.RECONNECTING : State.CONNECTING);
  }

  // NOTE: the browser's own reconnects reuse this URL, so they send this (older)
  // last_event_id together with a newer Last-Event-ID header. The server has to prefer
  // the header, or such a reconnect replays events this page already has.
  #resumeUrl() {
    const url = new URL(this.#url, document.baseURI);
    if (this.#lastEventId !== '')
      url.searchParams.set('last_event_id', this.#lastEventId);
    return url.href;
  }

  #handleOpen() {
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

  #handleMessage(event) {
    this.#noteData(event);

    let envelope;
    try {
      envelope = JSON.parse(event.data);
    } catch (error) {
      console.warn(`livegate: ignored a message that is not valid JSON (id ${event.lastEventId}): ${error.message}`);
      return;
    }
    if (envelope === null || typeof envelope !== 'object' || typeof envelope.channel !== 'string') {
      console.warn(`livegate: ignored a message without a channel (id ${event.lastEventId})`);
      return;
    }
    this.#handlers.onEvent(envelope);
  }

  #handleControl(event, kind) {
    this.#noteData(event);

    let control;
    try {
      control = JSON.parse(event.data);
    } catch (error) {
      console.warn(`livegate: ignored a ${kind} frame that is not valid JSON: ${error.message}`);
      return;
    }
    if (kind === 'reset')
      this.#handlers.onReset(control?.channel, control?.reason);
    else
      this.#handlers.onGap(control?.channel, control?.dropped);
  }

  #noteData(event) {
    if (event.lastEventId !== '')
      this.#lastEventId = event.lastEventId;
    this.#lastDataAt = performance.now();
    if (this.#state === State.STALLED)
      this.#setState(State.LIVE);
  }

  #checkStall() {
    const limitMs = this.#options.expectedIntervalMs * this.#options.stallFactor;
    if (this.#state === State.LIVE && performance.now() - this.#lastDataAt > limitMs)
      this.#setState(State.STALLED);
  }

  #handleError() {
    this.#clearTimer('healthy');
    this.#clearTimer('watchdog');

    if (this.#source.readyState === EventSource.CLOSED) {
      this.#closeSource();
      this.#scheduleRetry();
      return;
    }

    // readyState is CONNECTING: the browser waits for the server's retry interval and
    // reconnects by itself, so only the connect timeout is armed here.
    this.#armConnectTimeout();
    this.#setState(this.#hasBeenOpen ? State.RECONNECTING : State.CONNECTING);
  }

  #armConnectTimeout() {
    this.#clearTimer('connect');
    this.#timers.connect = setTimeout(() => {
      console.warn(`livegate: connection timed out after ${this.#options.connectTimeoutMs} ms, retrying with backoff`);
      this.#closeSource();
      this.#scheduleRetry();
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
    this.#closeSource();
    this.#clearTimer('retry');
    this.#setState(State.OFFLINE);
  }

  // Closes the current EventSource, if any, with the timers that belong to it.
  #closeSource() {
    this.#clearTimer('connect');
    this.#clearTimer('healthy');
    this.#clearTimer('watchdog');
    if (this.#source === null)
      return;

    this.#source.onopen = null;
    this.#source.onmessage = null;
    this.#source.onerror = null;
    this.#source.close();
    this.#source = null;
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
    this.#handlers.onState(state, retryAt);
  }
}
