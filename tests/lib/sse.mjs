// A small Server-Sent Events reader over fetch for tests that need the raw fields
// (id, event, data, comments) and control over headers and reading speed.

// Parses text/event-stream per the HTML standard: lines end at CRLF, CR or LF; a
// blank line dispatches; "field: value" with one optional space after the colon.
export class SseParser {
  #buffer = '';
  #pendingCr = false;
  #event = { id: undefined, event: undefined, data: [] };
  #fields = [];

  constructor(onEvent, onComment = () => {}) {
    this.onEvent = onEvent;
    this.onComment = onComment;
  }

  push(text) {
    let input = text;
    if (this.#pendingCr && input.startsWith('\n'))
      input = input.slice(1);
    this.#pendingCr = false;
    this.#buffer += input;

    const lines = this.#buffer.split(/\r\n|\r|\n/);
    this.#buffer = lines.pop();
    // A CR at the very end may be the first half of a CRLF split across chunks.
    if (this.#buffer === '' && /\r$/.test(input))
      this.#pendingCr = true;
    for (const line of lines)
      this.#line(line);
  }

  #line(line) {
    if (line === '') {
      // The standard dispatches only frames with data; a bare "retry:" frame is not an event.
      if (this.#event.data.length > 0)
        this.onEvent({
          id: this.#event.id,
          event: this.#event.event ?? 'message',
          data: this.#event.data.join('\n'),
          fields: this.#fields,
        });
      this.#event = { id: undefined, event: undefined, data: [] };
      this.#fields = [];
      return;
    }
    if (line.startsWith(':')) {
      this.onComment(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' '))
      value = value.slice(1);
    this.#fields.push(field);
    if (field === 'data')
      this.#event.data.push(value);
    else if (field === 'id')
      this.#event.id = value;
    else if (field === 'event')
      this.#event.event = value;
  }
}

// Opens a stream and collects its events. Use next(predicate, timeoutMs) to wait for
// an event, events to see everything received so far, and close() to disconnect.
export async function openSse(url, { headers = {}, timeoutMs = 5000 } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(url, { headers, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
  return new SseStream(response, controller);
}

export class SseStream {
  #waiters = [];
  #closed = false;

  constructor(response, controller) {
    this.response = response;
    this.status = response.status;
    this.headers = response.headers;
    this.events = [];
    this.comments = [];
    this.controller = controller;
    this.ended = false;
    this.parser = new SseParser(
      (event) => this.#add({ ...event, receivedAt: performance.now() }),
      (comment) => this.comments.push(comment),
    );
    this.done = this.#read();
  }

  async #read() {
    if (this.response.body === null)
      return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.response.body)
        this.parser.push(decoder.decode(chunk, { stream: true }));
    } catch (error) {
      if (!this.#closed)
        this.error = error;
    }
    this.ended = true;
    this.#notify();
  }

  #add(event) {
    this.events.push(event);
    this.#notify();
  }

  #notify() {
    for (const waiter of [...this.#waiters])
      waiter();
  }

  // Resolves with the events received so far once predicate(events) is true.
  waitFor(predicate, timeoutMs = 5000, what = 'events') {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this.events)) {
          cleanup();
          resolve(this.events);
        } else if (this.ended) {
          cleanup();
          reject(new Error(`stream ended while waiting for ${what}; got ${JSON.stringify(this.events.map((e) => e.data))}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.events.length} events`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
      };
      this.#waiters.push(check);
      check();
    });
  }

  // Messages (events without an event: name, or with a type) as parsed envelopes.
  messages() {
    return this.events.filter((e) => !['subscribed', 'reset', 'gap', 'subscribe_error'].includes(e.event))
      .map((e) => ({ ...JSON.parse(e.data), sseId: e.id, sseEvent: e.event }));
  }

  named(name) {
    return this.events.filter((e) => e.event === name).map((e) => JSON.parse(e.data));
  }

  close() {
    this.#closed = true;
    this.controller.abort();
  }
}

// Publishes DATA to CHANNEL through the admin API and returns the parsed answer.
export async function publish(adminUrl, channel, data, { key, type, headers = {} } = {}) {
  const params = new URLSearchParams();
  if (key !== undefined)
    params.set('key', key);
  if (type !== undefined)
    params.set('type', type);
  const query = params.size > 0 ? `?${params}` : '';
  const response = await fetch(`${adminUrl}/api/channels/${encodeURIComponent(channel)}/events${query}`, {
    method: 'POST',
    body: typeof data === 'string' ? data : JSON.stringify(data),
    headers,
  });
  const body = await response.json();
  if (response.status !== 201)
    throw new Error(`publish to ${channel} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}
