// Life cycle of one transport connection: connect timeout, backoff with full jitter,
// retry limit, circuit breaker, stall detection, online/offline and page visibility.
// The SSE and WebSocket clients share it, so the retry logic exists once.

import { backoffDelayMs } from './backoff';
import { CircuitBreaker } from './breaker';
import { CONNECTION_DEFAULTS, type ConnectionOptions } from './defaults';
import { LivegateError, RetryLimitError } from './errors';
import { Observable, type LivegateStatus } from './status';

/** End of a session: `retry` reconnects with backoff, `fatal` stops in the failed state. */
export type SessionEnd =
  | { readonly kind: 'retry'; readonly message: string }
  | { readonly kind: 'fatal'; readonly error: LivegateError };

/** Reports of a transport session to its Connection. Calls from a closed session are ignored. */
export interface SessionEvents {
  /** The connection is established and subscribed: the status becomes live. */
  opened(): void;
  /** Data or a heartbeat arrived. */
  activity(): void;
  /** The connection ended on its own or failed. */
  ended(end: SessionEnd): void;
}

/** Opens one transport session and returns the function that closes it without further reports. */
export type Connector = (events: SessionEvents) => () => void;

/** Platform hooks, replaceable in tests. The defaults use `window`, `navigator` and `document` when present. */
export interface Platform {
  now(): number;
  random(): number;
  isOnline(): boolean;
  isVisible(): boolean;
  /** Registers handlers for online, offline and "page became visible"; returns the function that removes them. */
  watch(handlers: { online(): void; offline(): void; visible(): void }): () => void;
}

export const browserPlatform: Platform = {
  now: () => Date.now(),
  random: () => Math.random(),
  isOnline: () => typeof navigator === 'undefined' || navigator.onLine !== false,
  isVisible: () => typeof document === 'undefined' || document.visibilityState !== 'hidden',
  watch(handlers) {
    if (typeof window === 'undefined')
      return () => {};
    const onVisibility = () => {
      if (document.visibilityState === 'visible')
        handlers.visible();
    };
    window.addEventListener('online', handlers.online);
    window.addEventListener('offline', handlers.offline);
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      window.removeEventListener('online', handlers.online);
      window.removeEventListener('offline', handlers.offline);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  },
};

type TimerName = 'retry' | 'connect' | 'healthy' | 'stall';

/**
 * Runs a transport's connections: start() connects, a session that ends or times out
 * is retried after min(backoffCapMs, backoffBaseMs * 2^attempt) * random() ms, and the
 * attempt counter returns to 0 only after healthyUptimeMs of open connection. After
 * maxRetries failed attempts in a row, or a fatal end, the status is `failed` until
 * reconnect(). stop() closes the connection and clears every timer; start() may follow.
 */
export class Connection {
  readonly status = new Observable<LivegateStatus>({ state: 'idle' });
  readonly options: Readonly<ConnectionOptions>;
  #connector: Connector;
  #platform: Platform;
  #breaker: CircuitBreaker;
  #timers: Record<TimerName, ReturnType<typeof setTimeout> | undefined> = {
    retry: undefined,
    connect: undefined,
    healthy: undefined,
    stall: undefined,
  };
  #closeSession: (() => void) | null = null;
  #session = 0;
  #attempt = 0;
  #hasBeenLive = false;
  #lastActivityAt = 0;
  #unwatch: (() => void) | null = null;
  #destroyed = false;

  constructor(connector: Connector, options: Partial<ConnectionOptions> = {}, platform: Platform = browserPlatform) {
    this.#connector = connector;
    this.options = { ...CONNECTION_DEFAULTS, ...options };
    this.#platform = platform;
    this.#breaker = new CircuitBreaker(this.options);
  }

  /** Failed attempts in a row since the last healthy connection. */
  get attempt(): number {
    return this.#attempt;
  }

  get breakerState() {
    return this.#breaker.state(this.#platform.now());
  }

  /** Connects, or shows `offline` while the browser is offline. Does nothing while running. */
  start(): void {
    if (this.#destroyed || this.#unwatch !== null)
      return;

    this.#unwatch = this.#platform.watch({
      online: () => this.#handleOnline(),
      offline: () => this.#handleOffline(),
      visible: () => this.#handleVisible(),
    });
    if (!this.#platform.isOnline()) {
      this.status.set({ state: 'offline' });
      return;
    }
    this.#open();
  }

  /** Closes the connection, clears every timer and returns to `idle`. */
  stop(): void {
    this.#unwatch?.();
    this.#unwatch = null;
    this.#closeCurrent();
    this.#clearTimer('retry');
    this.#hasBeenLive = false;
    this.status.set({ state: 'idle' });
  }

  /** Stops for good: start() does nothing afterwards. */
  destroy(): void {
    this.stop();
    this.#destroyed = true;
  }

  /** Closes the current session and opens a new one at once, without counting a failure (a changed channel set). */
  restart(): void {
    if (this.#unwatch === null || this.status.get().state === 'offline' || this.status.get().state === 'failed')
      return;
    this.#open();
  }

  /** Starts over after `failed`, or skips the wait of a pending retry: attempts and the breaker are reset. */
  reconnect(): void {
    if (this.#destroyed)
      return;
    this.#attempt = 0;
    this.#breaker.recordSuccess();
    if (this.#unwatch === null)
      this.start();
    else
      this.#open();
  }

  #open(): void {
    this.#clearTimer('retry');
    this.#closeCurrent();

    const session = ++this.#session;
    const current = () => session === this.#session;
    this.status.set(
      this.#hasBeenLive
        ? { state: 'reconnecting', attempt: this.#attempt, retryAt: null, breaker: this.breakerState, reason: 'connecting' }
        : { state: 'connecting', attempt: this.#attempt },
    );
    this.#setTimer('connect', this.options.connectTimeoutMs, () => {
      this.#retry(`the connection did not open within ${this.options.connectTimeoutMs} ms`);
    });
    this.#closeSession = this.#connector({
      opened: () => {
        if (current())
          this.#handleOpened();
      },
      activity: () => {
        if (current())
          this.#handleActivity();
      },
      ended: (end) => {
        if (!current())
          return;
        if (end.kind === 'fatal')
          this.#fail(end.error);
        else
          this.#retry(end.message);
      },
    });
  }

  #handleOpened(): void {
    this.#clearTimer('connect');
    this.#hasBeenLive = true;
    this.#lastActivityAt = this.#platform.now();
    this.status.set({ state: 'live', since: this.#lastActivityAt });

    this.#setTimer('healthy', this.options.healthyUptimeMs, () => {
      this.#attempt = 0;
      this.#breaker.recordSuccess();
    });
    this.#armStallCheck();
  }

  #handleActivity(): void {
    this.#lastActivityAt = this.#platform.now();
    if (this.status.get().state === 'stalled')
      this.status.set({ state: 'live', since: this.#lastActivityAt });
  }

  // Runs when the silence could first reach a limit, then re-arms itself for the next one.
  #armStallCheck(): void {
    const { stallTimeoutMs, stallReconnectMs } = this.options;
    const silentMs = this.#platform.now() - this.#lastActivityAt;
    const state = this.status.get().state;

    if (silentMs >= stallTimeoutMs + stallReconnectMs) {
      this.#retry(`no data or heartbeat for ${silentMs} ms`);
      return;
    }
    if (silentMs >= stallTimeoutMs && state === 'live')
      this.status.set({ state: 'stalled', lastActivityAt: this.#lastActivityAt });

    const nextLimitMs = silentMs < stallTimeoutMs ? stallTimeoutMs : stallTimeoutMs + stallReconnectMs;
    this.#setTimer('stall', nextLimitMs - silentMs, () => this.#armStallCheck());
  }

  #retry(reason: string): void {
    const now = this.#platform.now();
    this.#closeCurrent();

    if (this.#attempt >= this.options.maxRetries) {
      this.#fail(new RetryLimitError(this.#attempt, reason));
      return;
    }

    this.#breaker.recordFailure(now);
    let delayMs = backoffDelayMs(this.#attempt, this.options, this.#platform.random);
    const openUntil = this.#breaker.openUntil(now);
    if (openUntil !== null)
      delayMs = Math.max(delayMs, openUntil - now);

    this.#attempt += 1;
    this.#setTimer('retry', delayMs, () => this.#open());
    this.status.set({
      state: 'reconnecting',
      attempt: this.#attempt,
      retryAt: now + delayMs,
      breaker: this.#breaker.state(now),
      reason,
    });
  }

  #fail(error: LivegateError): void {
    this.#closeCurrent();
    this.#clearTimer('retry');
    this.status.set({ state: 'failed', error });
  }

  #handleOnline(): void {
    if (this.status.get().state === 'offline')
      this.#open();
  }

  #handleOffline(): void {
    if (this.status.get().state === 'failed')
      return;
    this.#closeCurrent();
    this.#clearTimer('retry');
    this.status.set({ state: 'offline' });
  }

  // A page that comes back into view skips the rest of a backoff wait, unless the
  // breaker is open: then the wait protects a server that is struggling.
  #handleVisible(): void {
    const status = this.status.get();
    if (status.state !== 'reconnecting' || status.retryAt === null)
      return;
    if (this.#breaker.state(this.#platform.now()) === 'open')
      return;
    this.#open();
  }

  // Closes the session, if any, with the timers that belong to it.
  #closeCurrent(): void {
    this.#session += 1;
    this.#clearTimer('connect');
    this.#clearTimer('healthy');
    this.#clearTimer('stall');
    const close = this.#closeSession;
    this.#closeSession = null;
    close?.();
  }

  #setTimer(name: TimerName, delayMs: number, run: () => void): void {
    this.#clearTimer(name);
    this.#timers[name] = setTimeout(() => {
      this.#timers[name] = undefined;
      run();
    }, delayMs);
  }

  #clearTimer(name: TimerName): void {
    if (this.#timers[name] !== undefined)
      clearTimeout(this.#timers[name]);
    this.#timers[name] = undefined;
  }
}
