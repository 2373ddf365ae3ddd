// Server-Sent Events connection to livegate with resume ids. Its connection state, stall
// detection and the capped exponential backoff for connections the browser gave up on
// come from reconnect.js.

import { DEFAULTS, Reconnector, State } from './reconnect.js';

export { DEFAULTS, State };

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
  #source = null;
  #lastEventId = '';
  #reconnector;

  constructor(url, handlers, options = {}) {
    this.#url = url;
    this.#handlers = handlers;
    this.#reconnector = new Reconnector(
      { connect: () => this.#openSource(), disconnect: () => this.#closeSource() },
      (state, retryAt) => handlers.onState(state, retryAt),
      options,
    );
  }

  get state() {
    return this.#reconnector.state;
  }

  start() {
    this.#reconnector.start();
  }

  // Closes the connection and clears every timer. The instance cannot be started again.
  destroy() {
    this.#reconnector.destroy();
  }

  #openSource() {
    const source = new EventSource(this.#resumeUrl());
    source.onopen = () => this.#reconnector.opened();
    source.onmessage = (event) => this.#handleMessage(event);
    source.onerror = () => this.#handleError();
    source.addEventListener('reset', (event) => this.#handleControl(event, 'reset'));
    source.addEventListener('gap', (event) => this.#handleControl(event, 'gap'));
    this.#source = source;
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
    this.#reconnector.noteData();
  }

  #handleError() {
    if (this.#source.readyState === EventSource.CLOSED) {
      this.#reconnector.retry();
      return;
    }

    // readyState is CONNECTING: the browser waits for the server's retry interval and
    // reconnects by itself, so only the connect timeout is armed here.
    this.#reconnector.waitForBrowserRetry();
  }

  // Closes the current EventSource, if any.
  #closeSource() {
    if (this.#source === null)
      return;

    this.#source.onopen = null;
    this.#source.onmessage = null;
    this.#source.onerror = null;
    this.#source.close();
    this.#source = null;
  }
}
