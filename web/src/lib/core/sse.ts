// Server-Sent Events client for livegate's GET /sse, read with fetch() so that it sees
// HTTP statuses and heartbeat comments, which EventSource hides from page scripts.

import { type Envelope } from './channels';
import { ClientBase, resolveUrl, type ClientOptions } from './client';
import type { SessionEvents } from './connection';
import { RejectedError } from './errors';
import { SSEParser, type ServerSentEvent } from './sse-parser';

/** Named events that livegate sends as notices; every other name is a typed event. */
const NOTICE_TYPES = new Set(['subscribed', 'reset', 'gap', 'subscribe_error', 'error']);

/** HTTP statuses after which a retry would be rejected the same way. */
const FATAL_STATUSES = new Set([401, 403]);

export interface SSEClientOptions extends ClientOptions {
  /** The fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

/**
 * Follows channels over one GET /sse stream. The channel set is in the URL, so a
 * change of the set opens a new stream at once. Reconnects send the resume position
 * (the last `id:` received) as the `last_event_id` query parameter, so livegate replays
 * what was missed, or sends a reset and the snapshot. Each channel also remembers its
 * own position, and repeated event ids are dropped.
 */
export class SSEClient extends ClientBase {
  readonly transport = 'sse' as const;
  #url: string;
  #fetch: typeof fetch;
  #position = '';
  // Channels whose `subscribed` notice arrived on the previous stream: the resume
  // position covers them.
  #confirmed = new Set<string>();

  constructor(options: SSEClientOptions = {}) {
    super(options);
    this.#url = options.url ?? 'sse';
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The position sent on the next reconnect, "" before the first event. */
  get position(): string {
    return this.#position;
  }

  protected channelsChanged(): void {
    this.connection.restart();
  }

  /**
   * Builds the stream URL. The position is sent only when every channel was
   * subscribed on the previous stream: for a new channel it would make the server
   * replay from there instead of sending that channel's snapshot.
   * NOTE: so adding a channel drops the position for all of them: the other channels
   * get their snapshot instead of a replay, and events published during the switch
   * (a few milliseconds) are not replayed. A stream per new channel, or a server-side
   * per-channel position, would avoid that.
   */
  streamUrl(): string {
    const url = resolveUrl(this.#url);
    const names = this.channels.names();
    for (const channel of names)
      url.searchParams.append('channel', channel);
    const maxRate = this.connection.options.maxRate;
    if (maxRate > 0)
      url.searchParams.set('max_rate', String(maxRate));
    if (this.#position !== '' && names.every((channel) => this.#confirmed.has(channel)))
      url.searchParams.set('last_event_id', this.#position);
    return url.href;
  }

  protected connect(events: SessionEvents): () => void {
    const abort = new AbortController();
    const url = this.streamUrl();
    this.#confirmed.clear();
    this.channels.markAllUnsubscribed();
    void this.#run(url, abort.signal, events);
    return () => abort.abort();
  }

  async #run(url: string, signal: AbortSignal, events: SessionEvents): Promise<void> {
    let response: Response;
    try {
      response = await this.#fetch(url, { headers: { Accept: 'text/event-stream' }, cache: 'no-store', signal });
    } catch (error) {
      if (!signal.aborted)
        events.ended({ kind: 'retry', message: `GET /sse failed: ${describe(error)}` });
      return;
    }

    if (!response.ok || response.body === null) {
      const detail = await errorText(response);
      const message = `GET /sse returned HTTP ${response.status}${detail}`;
      if (FATAL_STATUSES.has(response.status))
        events.ended({ kind: 'fatal', error: new RejectedError(response.status, `${message}: check the channel's subscribe rule or the page's origin, then reconnect`) });
      else
        events.ended({ kind: 'retry', message });
      return;
    }

    events.opened();
    const parser = new SSEParser({
      event: (event) => {
        events.activity();
        this.#handleEvent(event);
      },
      comment: () => events.activity(),
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done)
          break;
        parser.push(value);
      }
    } catch (error) {
      if (!signal.aborted)
        events.ended({ kind: 'retry', message: `the stream failed: ${describe(error)}` });
      return;
    }
    if (!signal.aborted)
      events.ended({ kind: 'retry', message: 'the server closed the stream' });
  }

  #handleEvent(event: ServerSentEvent): void {
    if (event.hasId && event.lastEventId !== '')
      this.#position = event.lastEventId;

    const body = parseObject(event.data);
    if (body === null) {
      console.warn(`livegate: ignored a ${event.type} frame that is not a JSON object: ${event.data.slice(0, 100)}`);
      return;
    }
    if (!NOTICE_TYPES.has(event.type)) {
      this.#handleData(event, body);
      return;
    }

    const channel = typeof body.channel === 'string' ? body.channel : '';
    switch (event.type) {
      case 'subscribed':
        this.#confirmed.add(channel);
        this.channels.applySubscribed(channel, body.recovered === true);
        break;
      case 'reset':
        this.channels.applyReset(channel, String(body.reason ?? 'unknown'));
        break;
      case 'gap':
        this.channels.applyGap(channel, typeof body.dropped === 'number' ? body.dropped : null, typeof body.reason === 'string' ? body.reason : null);
        break;
      default:
        console.warn(`livegate: the server reported ${event.type}${channel === '' ? '' : ` for ${channel}`}: ${String(body.message)}`);
        this.channels.applyError(channel, String(body.message));
    }
  }

  #handleData(event: ServerSentEvent, body: Record<string, unknown>): void {
    if (typeof body.channel !== 'string' || typeof body.id !== 'string') {
      console.warn(`livegate: ignored an event without channel or id (id ${event.lastEventId})`);
      return;
    }
    const envelope: Envelope = {
      channel: body.channel,
      id: body.id,
      time: typeof body.time === 'number' ? body.time : 0,
      key: typeof body.key === 'string' ? body.key : null,
      data: body.data,
      ...(event.type === 'message' ? {} : { event: event.type }),
    };
    this.channels.applyEvent(envelope, event.hasId ? event.lastEventId : envelope.id);
  }
}

export function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function errorText(response: Response): Promise<string> {
  try {
    const body = parseObject(await response.text());
    return typeof body?.error === 'string' ? ` (${body.error})` : '';
  } catch {
    return '';
  }
}
