// The connection status union and a small observable value for it.

import type { BreakerState } from './breaker';
import type { LivegateError } from './errors';

/**
 * State of one client connection. `reconnecting` has `retryAt` (ms since the epoch)
 * while it waits for the next attempt and null while that attempt runs.
 */
export type LivegateStatus =
  | { readonly state: 'idle' }
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'live'; readonly since: number }
  | { readonly state: 'stalled'; readonly lastActivityAt: number }
  | {
      readonly state: 'reconnecting';
      readonly attempt: number;
      readonly retryAt: number | null;
      readonly breaker: BreakerState;
      readonly reason: string;
    }
  | { readonly state: 'offline' }
  | { readonly state: 'failed'; readonly error: LivegateError };

export type ConnectionState = LivegateStatus['state'];

export type Listener = () => void;

/** A value with change listeners, in the shape `useSyncExternalStore` expects. */
export class Observable<T> {
  #value: T;
  #listeners = new Set<Listener>();

  constructor(value: T) {
    this.#value = value;
  }

  get = (): T => this.#value;

  subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  set(value: T): void {
    if (Object.is(value, this.#value))
      return;
    this.#value = value;
    for (const listener of [...this.#listeners])
      listener();
  }
}
