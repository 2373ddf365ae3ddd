// WebSocket connection to livegate with resume ids, speaking livegate's JSON protocol
// (subprotocol livegate.v1). Its connection state, stall detection and capped
// exponential backoff come from reconnect.js, the same as for MetricStream (sse.js).

import { DEFAULTS, Reconnector, State } from './reconnect.js';

export { DEFAULTS, State };

// The subprotocol that livegate's WebSocket sink accepts by default. Chromium (checked
// with version 156) fails the handshake when the server does not echo it.
export const SUBPROTOCOL = 'livegate.v1';

// livegate closes with 1008 (policy violation) after the sink's max_errors invalid
// messages. A new connection would send the same messages, so the stream stops instead.
const CLOSE_POLICY_VIOLATION = 1008;

// Connects to `url` and calls the same handlers as MetricStream:
//   onEvent(envelope)          with each event { channel, id, time, key, data }, plus
//                              `event` for a typed event. MetricStream never receives
//                              typed events, because EventSource.onmessage skips them.
//   onReset(channel, reason)   when the server could not resume. A fresh snapshot follows.
//   onGap(channel, dropped)    when the server skipped `dropped` events for a slow client.
//   onState(state, retryAt)    when the state changes. retryAt is the Date.now() time of
//                              our next retry, or null.
//
// `url` is relative to the page and takes the query parameters of GET /sse: `channel`
// once per channel and an optional `max_rate`, so that the same URL query works for both
// transports. They are sent in the subscribe message, not in the upgrade request, and
// http(s) becomes ws(s). The stream is live once the server confirms a subscription. A
// rejected subscribe leaves it connecting until the connect timeout retries with backoff.
// After every reconnect the subscribe message carries the id of the last event received,
// so the server replays exactly the events missed, or sends a reset and a fresh snapshot.
// The server's error messages are logged with console.warn. A close with code 1008 stops
// the retries in the FAILED state.
export class WebSocketStream {
  #socketUrl;
  #channels;
  #maxRate;
  #handlers;
  #socket = null;
  #subscribed = false;
  #lastEventId = '';
  #unknownTypesWarned = new Set();
  #reconnector;

  constructor(url, handlers, options = {}) {
    const { socketUrl, channels, maxRate } = parseStreamUrl(url);
    this.#socketUrl = socketUrl;
    this.#channels = channels;
    this.#maxRate = maxRate;
    this.#handlers = handlers;
    this.#reconnector = new Reconnector(
      { connect: () => this.#openSocket(), disconnect: () => this.#closeSocket() },
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

  // An error event is always followed by a close event, so onclose handles both.
  #openSocket() {
    const socket = new WebSocket(this.#socketUrl, SUBPROTOCOL);
    socket.onopen = () => this.#sendSubscribe();
    socket.onmessage = (event) => this.#handleMessage(event);
    socket.onclose = (event) => this.#handleClose(event);
    this.#socket = socket;
    this.#subscribed = false;
  }

  #sendSubscribe() {
    const request = { op: 'subscribe', channels: this.#channels };
    if (this.#lastEventId !== '')
      request.last_event_id = this.#lastEventId;
    if (this.#maxRate !== null)
      request.max_rate = this.#maxRate;
    this.#socket.send(JSON.stringify(request));
  }

  #handleMessage(event) {
    this.#reconnector.noteData();

    if (typeof event.data !== 'string') {
      console.warn('livegate: ignored a binary message: livegate sends only text messages');
      return;
    }
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      console.warn(`livegate: ignored a message that is not valid JSON: ${error.message}`);
      return;
    }
    if (message === null || typeof message !== 'object') {
      console.warn(`livegate: ignored a message that is not a JSON object: ${event.data.slice(0, 100)}`);
      return;
    }

    switch (message.type) {
      case 'event':
        this.#handleEvent(message);
        break;
      case 'subscribed':
        this.#handleSubscribed();
        break;
      case 'reset':
        this.#handlers.onReset(message.channel, message.reason);
        break;
      case 'gap':
        this.#handlers.onGap(message.channel, message.dropped);
        break;
      case 'error':
        console.warn(`livegate: the server rejected a request${message.channel ? ` for ${message.channel}` : ''}: ${message.message}`);
        break;
      default:
        this.#warnUnknownType(message.type);
    }
  }

  #handleEvent(message) {
    // The envelope is the message without `type` and `resume`, the same fields as an
    // SSE event. The resume position is `resume` when present (an event that left the
    // stream out of id order), else the event's id.
    const { type, resume, ...envelope } = message;
    const position = typeof resume === 'string' ? resume : envelope.id;
    if (typeof position === 'string' && position !== '')
      this.#lastEventId = position;

    if (typeof envelope.channel !== 'string') {
      console.warn(`livegate: ignored a message without a channel (id ${envelope.id})`);
      return;
    }
    this.#handlers.onEvent(envelope);
  }

  // The server sends one `subscribed` message per channel, all before the first event
  // of the subscription. The first one makes the connection live.
  #handleSubscribed() {
    if (this.#subscribed)
      return;

    this.#subscribed = true;
    this.#reconnector.opened();
  }

  // Warns once per type, so that a newer server's messages of a type this page does not
  // know cannot flood the console.
  #warnUnknownType(type) {
    const name = String(type);
    if (this.#unknownTypesWarned.has(name))
      return;

    this.#unknownTypesWarned.add(name);
    console.warn(`livegate: ignored messages of unknown type "${name}"`);
  }

  #handleClose(event) {
    const reason = event.reason === '' ? 'no reason given' : event.reason;
    if (event.code === CLOSE_POLICY_VIOLATION) {
      console.warn(`livegate: the server closed the WebSocket with code 1008 (${reason}), not retrying: reload the page to connect again`);
      this.#reconnector.fail();
      return;
    }

    console.info(`livegate: the WebSocket closed with code ${event.code} (${reason}), retrying with backoff`);
    this.#reconnector.retry();
  }

  // Closes the current WebSocket, if any.
  #closeSocket() {
    if (this.#socket === null)
      return;

    this.#socket.onopen = null;
    this.#socket.onmessage = null;
    this.#socket.onclose = null;
    this.#socket.close(1000);
    this.#socket = null;
  }
}

// Splits `url`, resolved against the page, into the ws: or wss: URL to open and the
// subscription parameters `channel` and `max_rate` of its query. Throws when no
// channel is given or max_rate is not a number of 0 or more.
function parseStreamUrl(url) {
  const socketUrl = new URL(url, document.baseURI);
  const params = socketUrl.searchParams;
  const channels = params.getAll('channel');
  const maxRateText = params.get('max_rate');
  params.delete('channel');
  params.delete('max_rate');

  if (channels.length === 0)
    throw new Error(`WebSocketStream: no channel parameter in "${url}": add channel=NAME for each channel to follow`);

  let maxRate = null;
  if (maxRateText !== null) {
    maxRate = Number(maxRateText);
    if (maxRateText.trim() === '' || !Number.isFinite(maxRate) || maxRate < 0)
      throw new Error(`WebSocketStream: invalid max_rate "${maxRateText}" in "${url}": expected updates per second, a number of 0 or more`);
  }

  socketUrl.protocol = ['https:', 'wss:'].includes(socketUrl.protocol) ? 'wss:' : 'ws:';
  return { socketUrl: socketUrl.href, channels, maxRate };
}
