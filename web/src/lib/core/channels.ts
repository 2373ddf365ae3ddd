// Per-channel state of a client: reference counts, latest value, values by key,
// bounded history, resume ids, duplicate filtering, reset and gap notices.

import { CHANNEL_DEFAULTS, type ChannelOptions } from './defaults';
import type { Listener } from './status';

/** One event as livegate sends it (the SSE data envelope; the WebSocket message without `type` and `resume`). */
export interface Envelope {
  readonly channel: string;
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly key: string | null;
  /** The event type of a typed event. */
  readonly event?: string;
  readonly data: unknown;
}

/** What the server said about a channel outside its events. */
export interface ChannelNotice {
  readonly kind: 'subscribed' | 'reset' | 'gap' | 'error';
  readonly at: number;
  readonly detail: string;
}

/** Immutable view of one channel; a new object after every change, so React can compare by reference. */
export interface ChannelState {
  readonly channel: string;
  readonly latest: Envelope | null;
  /** The newest event of every key (events without a key are under ""). */
  readonly byKey: ReadonlyMap<string, Envelope>;
  /** Events in arrival order, at most `historyLength`. */
  readonly history: readonly Envelope[];
  /** The resume position of the newest event of this channel, or null before the first one. */
  readonly resumeId: string | null;
  /** Whether the server confirmed the subscription on the current connection. */
  readonly subscribed: boolean;
  /** `recovered` of the last `subscribed` notice: true when a resume replayed what was missed. */
  readonly recovered: boolean | null;
  readonly resets: number;
  readonly gaps: number;
  /** Events the server reported as dropped in gap notices (notices without a count add nothing). */
  readonly dropped: number;
  readonly duplicates: number;
  readonly lastNotice: ChannelNotice | null;
}

export type ChannelListener = (state: ChannelState) => void;

/** Called synchronously for every accepted event, and with `reset` when the server sent one. */
export type EventListener = (event: { kind: 'event'; envelope: Envelope } | { kind: 'reset'; reason: string }) => void;

interface Entry {
  state: ChannelState;
  refs: number;
  options: ChannelOptions;
  seenIds: Set<string>;
  seenOrder: string[];
  pendingReset: boolean;
  listeners: Set<ChannelListener>;
  eventListeners: Set<EventListener>;
}

function emptyState(channel: string): ChannelState {
  return {
    channel,
    latest: null,
    byKey: new Map(),
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

/**
 * The channels a client follows. acquire() adds a reference (the first one makes the
 * channel part of the connection's set), and its return value drops it again.
 * State listeners run in a microtask after a change, once for all the events applied
 * synchronously before it (one network chunk), so a burst costs one notification.
 */
export class ChannelStore {
  #entries = new Map<string, Entry>();
  #setListeners = new Set<Listener>();
  #dirty = new Set<string>();
  #flushQueued = false;
  #now: () => number;

  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
  }

  /** Names of the channels with at least one reference, in the order they were added. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  get(channel: string): ChannelState | undefined {
    return this.#entries.get(channel)?.state;
  }

  /** Registers a listener for changes of the channel set; returns its remover. */
  onSetChange(listener: Listener): () => void {
    this.#setListeners.add(listener);
    return () => {
      this.#setListeners.delete(listener);
    };
  }

  /**
   * Adds a reference to `channel`, with `listener` for its changes. A larger
   * historyLength than the channel has raises it. Returns the release function, which
   * is safe to call more than once; the last release forgets the channel's state.
   */
  acquire(channel: string, listener?: ChannelListener, options: Partial<ChannelOptions> = {}): () => void {
    let entry = this.#entries.get(channel);
    const created = entry === undefined;
    if (entry === undefined) {
      entry = {
        state: emptyState(channel),
        refs: 0,
        options: { ...CHANNEL_DEFAULTS, ...options },
        seenIds: new Set(),
        seenOrder: [],
        pendingReset: false,
        listeners: new Set(),
        eventListeners: new Set(),
      };
      this.#entries.set(channel, entry);
    } else {
      entry.options = mergeOptions(entry.options, options);
    }
    entry.refs += 1;
    if (listener !== undefined)
      entry.listeners.add(listener);
    if (created)
      this.#notifySet();

    const owned = entry;
    let released = false;
    return () => {
      if (released)
        return;
      released = true;
      if (listener !== undefined)
        owned.listeners.delete(listener);
      owned.refs -= 1;
      if (owned.refs === 0 && this.#entries.get(channel) === owned) {
        this.#entries.delete(channel);
        this.#notifySet();
      }
    };
  }

  /**
   * Adds a listener for each event of a channel that has a reference. Returns its
   * remover; releasing the channel's last reference removes it too.
   */
  listenEvents(channel: string, listener: EventListener): () => void {
    const entry = this.#entries.get(channel);
    if (entry === undefined)
      throw new Error(`listenEvents: channel ${channel} has no reference: call acquire() first`);
    entry.eventListeners.add(listener);
    return () => {
      entry.eventListeners.delete(listener);
    };
  }

  /**
   * Applies one event with its resume `position`. Returns false, changing nothing but
   * the duplicate count, for an event of an unknown channel or an id already seen (a
   * resume delivers at least once, so repeats happen).
   */
  applyEvent(envelope: Envelope, position: string = envelope.id): boolean {
    const entry = this.#entries.get(envelope.channel);
    if (entry === undefined)
      return false;
    if (entry.seenIds.has(envelope.id)) {
      this.#update(entry, { duplicates: entry.state.duplicates + 1 });
      return false;
    }
    this.#remember(entry, envelope.id);

    // After a reset the first event starts the snapshot that replaces the state, so the
    // old values stay on screen until new ones are there.
    const replacing = entry.pendingReset;
    entry.pendingReset = false;
    const previous = entry.state;
    const byKey = new Map(replacing ? [] : previous.byKey);
    byKey.set(envelope.key ?? '', envelope);
    const kept = replacing && !entry.options.keepHistoryOnReset ? [] : previous.history;
    const history = kept.length >= entry.options.historyLength
      ? [...kept.slice(kept.length - entry.options.historyLength + 1), envelope]
      : [...kept, envelope];

    this.#update(entry, { latest: envelope, byKey, history, resumeId: position });
    for (const listener of [...entry.eventListeners])
      listener({ kind: 'event', envelope });
    return true;
  }

  /** Records the server's `subscribed` notice. */
  applySubscribed(channel: string, recovered: boolean): void {
    const entry = this.#entries.get(channel);
    if (entry === undefined)
      return;
    this.#update(entry, {
      subscribed: true,
      recovered,
      lastNotice: { kind: 'subscribed', at: this.#now(), detail: recovered ? 'resumed' : 'new' },
    });
  }

  /**
   * Records a reset: the server could not resume and sends the snapshot next. The
   * state is kept until the snapshot's first event replaces it, and the resume id and
   * seen ids are forgotten because they belong to the old stream.
   */
  applyReset(channel: string, reason: string): void {
    const entry = this.#entries.get(channel);
    if (entry === undefined)
      return;
    entry.pendingReset = true;
    entry.seenIds.clear();
    entry.seenOrder = [];
    this.#update(entry, {
      resumeId: null,
      resets: entry.state.resets + 1,
      lastNotice: { kind: 'reset', at: this.#now(), detail: reason },
    });
    for (const listener of [...entry.eventListeners])
      listener({ kind: 'reset', reason });
  }

  /** Records a gap notice: `dropped` events were skipped, or an unknown number when null. */
  applyGap(channel: string, dropped: number | null, reason: string | null): void {
    const entry = this.#entries.get(channel);
    if (entry === undefined)
      return;
    const detail = dropped !== null ? `${dropped} events dropped` : reason ?? 'events lost upstream';
    this.#update(entry, {
      gaps: entry.state.gaps + 1,
      dropped: entry.state.dropped + (dropped ?? 0),
      lastNotice: { kind: 'gap', at: this.#now(), detail },
    });
  }

  /** Records an error the server reported for a channel (a rejected subscription). */
  applyError(channel: string, message: string): void {
    const entry = this.#entries.get(channel);
    if (entry === undefined)
      return;
    this.#update(entry, { lastNotice: { kind: 'error', at: this.#now(), detail: message } });
  }

  /** Marks every channel unconfirmed, as when a connection ends. */
  markAllUnsubscribed(): void {
    for (const entry of this.#entries.values()) {
      if (entry.state.subscribed)
        this.#update(entry, { subscribed: false });
    }
  }

  #remember(entry: Entry, id: string): void {
    entry.seenIds.add(id);
    entry.seenOrder.push(id);
    if (entry.seenOrder.length > entry.options.seenIdLimit)
      entry.seenIds.delete(entry.seenOrder.shift() as string);
  }

  #update(entry: Entry, change: Partial<ChannelState>): void {
    entry.state = { ...entry.state, ...change };
    this.#dirty.add(entry.state.channel);
    if (this.#flushQueued)
      return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushQueued = false;
    const channels = [...this.#dirty];
    this.#dirty.clear();
    for (const channel of channels) {
      const entry = this.#entries.get(channel);
      if (entry === undefined)
        continue;
      for (const listener of [...entry.listeners])
        listener(entry.state);
    }
  }

  #notifySet(): void {
    for (const listener of [...this.#setListeners])
      listener();
  }
}

function mergeOptions(current: ChannelOptions, requested: Partial<ChannelOptions>): ChannelOptions {
  return {
    historyLength: Math.max(current.historyLength, requested.historyLength ?? 0),
    seenIdLimit: Math.max(current.seenIdLimit, requested.seenIdLimit ?? 0),
    keepHistoryOnReset: current.keepHistoryOnReset || (requested.keepHistoryOnReset ?? false),
  };
}
