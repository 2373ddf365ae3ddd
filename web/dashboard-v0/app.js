// Dashboard entry point: subscribes to the host metric channels and renders them,
// at most once per animation frame, together with the connection state. The page uses
// Server-Sent Events, or WebSocket when its URL has the query ?transport=ws.

import { createCards } from './cards.js';
import { formatAge } from './format.js';
import { State } from './reconnect.js';
import { MetricStream } from './sse.js';
import { WebSocketStream } from './ws.js';

const CHANNELS = ['system.cpu', 'system.memory', 'system.load', 'system.network', 'system.disk'];

// How often the data age and the retry countdown are refreshed.
const CLOCK_TICK_MS = 250;

// How long a notice about skipped events stays on screen.
const NOTICE_MS = 6000;

// Transports by the value of the page's `transport` query parameter. `path` is the
// livegate endpoint, and both stream classes take the same URL query.
const TRANSPORTS = {
  sse: { name: 'SSE', description: 'Server-Sent Events', path: 'sse', Stream: MetricStream },
  ws: { name: 'WebSocket', description: 'WebSocket', path: 'ws', Stream: WebSocketStream },
};
const DEFAULT_TRANSPORT = 'sse';

function chooseTransport() {
  const requested = new URLSearchParams(window.location.search).get('transport') ?? DEFAULT_TRANSPORT;
  if (Object.hasOwn(TRANSPORTS, requested))
    return TRANSPORTS[requested];

  const known = Object.keys(TRANSPORTS).join(' or ');
  console.warn(`livegate: unknown transport "${requested}" in the page URL, expected ${known}, so the page uses ${DEFAULT_TRANSPORT}`);
  return TRANSPORTS[DEFAULT_TRANSPORT];
}

function streamUrl(transport) {
  const query = new URLSearchParams(CHANNELS.map((channel) => ['channel', channel]));
  // Relative, so the page also works behind a proxy that serves livegate under a path prefix.
  return `${transport.path}?${query}`;
}

// Collects cards that need drawing and draws them all in the next animation frame,
// so a burst of messages (a snapshot, a resumed backlog) costs one render.
class RenderQueue {
  #dirty = new Set();
  #frame = 0;

  add(card) {
    this.#dirty.add(card);
    if (this.#frame === 0)
      this.#frame = requestAnimationFrame(() => this.#flush());
  }

  #flush() {
    this.#frame = 0;
    for (const card of this.#dirty)
      card.render();
    this.#dirty.clear();
  }
}

// The header: status badge, transport name, retry countdown, age of the newest data and
// the notice line. It also dims the cards while the connection is not live.
class StatusView {
  #badge = document.getElementById('connection');
  #status = document.getElementById('status');
  #icon = document.getElementById('status-icon');
  #transport = document.getElementById('transport');
  #retry = document.getElementById('retry');
  #updated = document.getElementById('updated');
  #notice = document.getElementById('notice');
  #cards = document.getElementById('cards');
  #state = null;
  #retryAt = null;
  #newestDataAt = null;
  #noticeTimer = 0;

  showTransport(transport) {
    this.#transport.textContent = transport.name;
    this.#transport.title = `live data over ${transport.description}`;
  }

  showState(state, retryAt) {
    this.#state = state;
    this.#badge.dataset.state = state;
    this.#status.textContent = state;
    this.#icon.setAttribute('href', `#icon-${state}`);
    this.#cards.dataset.fresh = String(state === State.LIVE);
    this.#retryAt = retryAt;
    this.tick();
  }

  noteData() {
    this.#newestDataAt = performance.now();
  }

  showNotice(text) {
    clearTimeout(this.#noticeTimer);
    this.#notice.textContent = text;
    this.#noticeTimer = setTimeout(() => {
      this.#notice.textContent = '';
    }, NOTICE_MS);
  }

  // Refreshes the texts that change with time alone.
  tick() {
    setText(this.#retry, this.#retryText());
    if (this.#newestDataAt !== null)
      setText(this.#updated, `updated ${formatAge(performance.now() - this.#newestDataAt)}`);
  }

  #retryText() {
    if (this.#state === State.FAILED)
      return 'reload to retry';
    if (this.#retryAt === null)
      return '';
    const seconds = Math.ceil((this.#retryAt - Date.now()) / 1000);
    return seconds > 0 ? `retry in ${seconds} s` : 'retrying';
  }
}

function setText(element, text) {
  if (element.textContent !== text)
    element.textContent = text;
}

function start() {
  const renderQueue = new RenderQueue();
  const cards = createCards(document, { onResize: (card) => renderQueue.add(card) });
  const cardByChannel = new Map(cards.map((card) => [card.channel, card]));
  const statusView = new StatusView();
  const transport = chooseTransport();
  statusView.showTransport(transport);

  const stream = new transport.Stream(streamUrl(transport), {
    onEvent(envelope) {
      const card = cardByChannel.get(envelope.channel);
      const payload = envelope.data;
      if (card === undefined || payload === null || typeof payload !== 'object')
        return;

      card.apply(payload);
      statusView.noteData();
      renderQueue.add(card);
    },
    onReset(channel, reason) {
      console.info(`livegate: ${channel} restarted from a fresh snapshot (${reason})`);
      cardByChannel.get(channel)?.clearHistory();
    },
    onGap(channel, dropped) {
      const count = Number.isInteger(dropped) ? dropped : 'some';
      statusView.showNotice(`The server skipped ${count} events on ${channel} because this page fell behind.`);
    },
    onState(state, retryAt) {
      statusView.showState(state, retryAt);
    },
  });

  setInterval(() => statusView.tick(), CLOCK_TICK_MS);
  stream.start();
}

start();
