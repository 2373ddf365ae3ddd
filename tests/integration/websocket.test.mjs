// Integration tests of the WebSocket sink with the ws library as the client: the JSON
// protocol, resume, client rates, handshake checks, per-address limits, pings, slow
// clients and shutdown.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { startLivegate } from '../lib/livegate.mjs';
import { openSse, publish } from '../lib/sse.mjs';

// AddressSanitizer builds are about 3 times slower, so every wait is scaled by this.
const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;
const WAIT_MS = 5000 * SLOW;

const PROTOCOL = 'livegate.v1';

const CONFIG = `server:
  listen: 127.0.0.1:0
  workers: 2
  admin:
    listen: 127.0.0.1:0
  limits:
    max_subscriptions: 4
channels:
  - match: "short.*"
    history:
      length: 3
    snapshot: last
    publish: true
  - match: "private.*"
    subscribe: false
    publish: true
  - match: "*"
    history:
      length: 1000
    snapshot: last
    publish: true
sinks:
  - type: websocket
    allowed_origins: ["https://allowed.example"]
    subprotocols: [livegate.v1, livegate.v2]
  - type: sse
`;

function wsUrl(livegate, path = '/ws') {
  return `${livegate.publicUrl.replace(/^http/, 'ws')}${path}`;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A ws client that records every message, ping and the close, with waits on them.
class Client {
  #waiters = [];

  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.pings = [];
    this.pongs = [];
    this.closeEvent = null;

    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeEvent = { code, reason: reason.toString(), at: performance.now() };
        this.#notify();
        resolve(this.closeEvent);
      });
    });

    // Messages that are binary or not JSON are kept apart, for tests to check.
    this.invalid = [];
    ws.on('message', (data, isBinary) => {
      let message;
      try {
        message = JSON.parse(data.toString());
      } catch {
        message = null;
      }
      if (isBinary || message === null)
        this.invalid.push({ isBinary, text: data.toString() });
      else
        this.messages.push({ ...message, receivedAt: performance.now() });
      this.#notify();
    });

    ws.on('ping', (data) => {
      this.pings.push({ data: data.toString(), at: performance.now() });
      this.#notify();
    });
    ws.on('pong', (data) => {
      this.pongs.push(data.toString());
      this.#notify();
    });
    // Failures show in the close event and in waitFor.
    ws.on('error', () => {});
  }

  send(command) {
    this.ws.send(typeof command === 'string' ? command : JSON.stringify(command));
  }

  ofType(type) {
    return this.messages.filter((m) => m.type === type);
  }

  // Event messages, of CHANNEL when given.
  events(channel) {
    return this.ofType('event').filter((m) => channel === undefined || m.channel === channel);
  }

  // Resolves once predicate() is true. Rejects when the connection closes first or
  // when timeoutMs passes.
  waitFor(predicate, description, timeoutMs = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate()) {
          cleanup();
          resolve();
        } else if (this.closeEvent !== null) {
          cleanup();
          reject(new Error(`connection closed (${this.closeEvent.code}) while waiting for ${description}; ${this.summary()}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}; ${this.summary()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== check);
      };
      this.#waiters.push(check);
      check();
    });
  }

  // Describes what arrived, for error messages: the count of each message type and
  // the last few messages, shortened.
  summary() {
    const counts = {};
    for (const message of this.messages)
      counts[message.type] = (counts[message.type] ?? 0) + 1;
    const last = this.messages.slice(-3).map((message) => {
      const text = JSON.stringify({ ...message, receivedAt: undefined });
      return text.length > 200 ? `${text.slice(0, 200)}...` : text;
    });
    return `received ${JSON.stringify(counts)}, last: ${last.join(' ')}`;
  }

  // Resolves with the close event, or rejects when the connection is still open after
  // timeoutMs.
  async waitForClose(timeoutMs = WAIT_MS) {
    let timer;
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // Sends a subscribe command and waits for the subscribed message of every channel.
  async subscribe(fields) {
    const channels = fields.channels ?? [fields.channel];
    this.send({ op: 'subscribe', ...fields });
    await this.waitFor(
      () => channels.every((channel) => this.ofType('subscribed').some((m) => m.channel === channel)),
      `subscribed to ${channels.join(', ')}`,
    );
  }

  close() {
    this.ws.close();
  }

  terminate() {
    this.ws.terminate();
  }

  #notify() {
    for (const waiter of [...this.#waiters])
      waiter();
  }
}

// Opens a WebSocket and resolves with a Client once the handshake succeeded.
function connect(url, { protocols = PROTOCOL, ...options } = {}) {
  const ws = new WebSocket(url, protocols, { handshakeTimeout: WAIT_MS, ...options });
  const client = new Client(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (request, response) => {
      reject(new Error(`handshake failed with status ${response.statusCode}`));
      request.destroy();
    });
    ws.once('error', reject);
  });
}

// Attempts a handshake that livegate should reject. Resolves with { status, body }.
function rejectedHandshake(url, { protocols = PROTOCOL, ...options } = {}) {
  const ws = new WebSocket(url, protocols, { handshakeTimeout: WAIT_MS, ...options });
  ws.on('error', () => {});
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the handshake succeeded, expected a rejection'));
    });
    ws.once('unexpected-response', (request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text) => {
        body += text;
      });
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode, body });
      });
    });
  });
}

// Attempts a handshake and resolves with { headers, protocol, error }: the headers of
// the 101 response, the subprotocol of the opened connection, and the error the
// client raised (null when it opened). An opened connection is closed.
function handshakeResult(url, protocols) {
  const ws = new WebSocket(url, protocols, { handshakeTimeout: WAIT_MS });
  let headers = null;
  ws.once('upgrade', (response) => {
    headers = response.headers;
  });
  return new Promise((resolve) => {
    ws.once('open', () => {
      const protocol = ws.protocol;
      ws.close();
      resolve({ headers, protocol, error: null });
    });
    ws.once('error', (error) => resolve({ headers, protocol: null, error }));
  });
}

async function rssBytes(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(match[1]) * 1024;
}

// Returns the value of the first /metrics line that matches PATTERN, or 0.
async function metric(adminUrl, pattern) {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

async function subscribers(adminUrl, channel) {
  const response = await fetch(`${adminUrl}/api/channels/${channel}`);
  return (await response.json()).subscribers;
}

async function stopCleanly(livegate) {
  const { code, killed } = await livegate.stop();
  assert.equal(killed, false, 'livegate did not stop on SIGTERM');
  assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
}

describe('websocket protocol', () => {
  let livegate;
  const clients = [];

  // Opens a client that is closed after the test.
  async function open(options) {
    const client = await connect(wsUrl(livegate), options);
    clients.push(client);
    return client;
  }

  before(async () => {
    livegate = await startLivegate({ config: CONFIG });
  });

  after(async () => {
    for (const client of clients)
      client.terminate();
    await stopCleanly(livegate);
    assert.deepEqual(clients.flatMap((client) => client.invalid), [], 'livegate sent binary or non-JSON messages');
  });

  it('subscribe sends subscribed, snapshot, live', async () => {
    await publish(livegate.adminUrl, 'snap.a', { v: 1 });
    const last = await publish(livegate.adminUrl, 'snap.a', { v: 2 }, { key: 'k1' });
    const client = await open();

    await client.subscribe({ channel: 'snap.a' });
    await client.waitFor(() => client.messages.length >= 2, 'the snapshot');
    const live = await publish(livegate.adminUrl, 'snap.a', { v: 3 }, { key: 'k2' });
    await client.waitFor(() => client.messages.length >= 3, 'the live event');

    const [subscribed, snapshot, event] = client.messages;
    assert.deepEqual({ ...subscribed, receivedAt: undefined },
      { type: 'subscribed', channel: 'snap.a', recovered: false, receivedAt: undefined });
    assert.equal(snapshot.type, 'event');
    assert.equal(snapshot.id, last.id);
    assert.equal(snapshot.key, 'k1');
    assert.deepEqual(snapshot.data, { v: 2 });
    assert.equal(event.type, 'event');
    assert.equal(event.channel, 'snap.a');
    assert.equal(event.id, live.id);
    assert.equal(event.key, 'k2');
    assert.deepEqual(event.data, { v: 3 });
    assert.equal(typeof event.time, 'number');
    assert.equal(client.messages.length, 3);
  });

  it('event without key has null key', async () => {
    const client = await open();
    await client.subscribe({ channel: 'nokey.a' });

    const answer = await publish(livegate.adminUrl, 'nokey.a', 'plain text');
    await client.waitFor(() => client.events().length === 1, 'the event');

    const [event] = client.events();
    assert.equal(event.id, answer.id);
    assert.equal(event.key, null);
    assert.equal(event.data, 'plain text');
  });

  it('typed event carries event field', async () => {
    const client = await open();
    await client.subscribe({ channel: 'typed.a' });

    const typed = await publish(livegate.adminUrl, 'typed.a', { n: 1 }, { type: 'tick' });
    const untyped = await publish(livegate.adminUrl, 'typed.a', { n: 2 });
    await client.waitFor(() => client.events().length === 2, 'both events');

    const [first, second] = client.events();
    assert.equal(first.id, typed.id);
    assert.equal(first.event, 'tick');
    assert.equal(second.id, untyped.id);
    assert.equal('event' in second, false, `untyped event has "event": ${JSON.stringify(second)}`);
  });

  it('event reaches ws and SSE clients', async () => {
    const wsClients = [await open(), await open(), await open()];
    await Promise.all(wsClients.map((client) => client.subscribe({ channel: 'fanout.a' })));
    const sse = await openSse(`${livegate.publicUrl}/sse?channel=fanout.a`);
    try {
      await sse.waitFor(() => sse.named('subscribed').length === 1, WAIT_MS, 'the SSE subscription');

      const answer = await publish(livegate.adminUrl, 'fanout.a', { price: 101.5 }, { key: 'AAPL' });
      await Promise.all(wsClients.map((client) => client.waitFor(() => client.events().length === 1, 'the event')));
      await sse.waitFor(() => sse.messages().length === 1, WAIT_MS, 'the SSE event');

      for (const client of wsClients) {
        const [event] = client.events();
        assert.equal(event.id, answer.id);
        assert.equal(event.channel, 'fanout.a');
        assert.equal(event.key, 'AAPL');
        assert.deepEqual(event.data, { price: 101.5 });
      }
      const [sseEvent] = sse.messages();
      assert.equal(sseEvent.id, answer.id);
      assert.equal(sseEvent.sseId, answer.id);
      assert.deepEqual(sseEvent.data, { price: 101.5 });
      assert.equal(sseEvent.time, wsClients[0].events()[0].time);
    } finally {
      sse.close();
    }
  });

  it('channels list subscribes to both', async () => {
    const client = await open();
    await client.subscribe({ channels: ['multi.a', 'multi.b'] });

    const a = await publish(livegate.adminUrl, 'multi.a', { x: 'a' });
    const b = await publish(livegate.adminUrl, 'multi.b', { x: 'b' });
    await client.waitFor(() => client.events().length === 2, 'both events');

    assert.deepEqual(client.ofType('subscribed').map((m) => [m.channel, m.recovered]),
      [['multi.a', false], ['multi.b', false]]);
    assert.deepEqual(client.events().map((m) => [m.channel, m.id]), [['multi.a', a.id], ['multi.b', b.id]]);
  });

  it('unsubscribe stops the channel', async () => {
    const client = await open();
    await client.subscribe({ channels: ['unsub.a', 'unsub.b'] });
    const before = await publish(livegate.adminUrl, 'unsub.a', { n: 1 });
    await client.waitFor(() => client.events().length === 1, 'the first event');

    client.send({ op: 'unsubscribe', channel: 'unsub.a' });
    await client.waitFor(() => client.ofType('unsubscribed').length === 1, 'unsubscribed');
    await publish(livegate.adminUrl, 'unsub.a', { n: 2 });
    // Events of one connection arrive in id order, so once this later event of the
    // other channel is in, an event of unsub.a would have arrived before it.
    const marker = await publish(livegate.adminUrl, 'unsub.b', { n: 3 });
    await client.waitFor(() => client.events('unsub.b').length === 1, 'the event of unsub.b');

    assert.deepEqual(client.ofType('unsubscribed').map((m) => ({ type: m.type, channel: m.channel })),
      [{ type: 'unsubscribed', channel: 'unsub.a' }]);
    assert.deepEqual(client.events().map((m) => m.id), [before.id, marker.id]);
    assert.equal(client.ofType('error').length, 0);
  });

  it('unsubscribe unknown channel is error', async () => {
    const client = await open();

    client.send({ op: 'unsubscribe', channel: 'never.subscribed' });
    await client.waitFor(() => client.ofType('error').length === 1, 'the error');

    const [error] = client.ofType('error');
    assert.equal(error.channel, 'never.subscribed');
    assert.match(error.message, /not subscribed to channel 'never\.subscribed'/);
    assert.equal(client.ws.readyState, WebSocket.OPEN);
  });

  it('resume delivers exactly the missed events', async () => {
    const first = await open();
    await first.subscribe({ channel: 'resume.a' });
    const seen = await publish(livegate.adminUrl, 'resume.a', { n: 0 });
    await first.waitFor(() => first.events().length === 1, 'the first event');
    first.close();
    await first.waitForClose();

    const missed = [];
    for (let n = 1; n <= 3; n++)
      missed.push(await publish(livegate.adminUrl, 'resume.a', { n }));
    const resumed = await open();
    await resumed.subscribe({ channel: 'resume.a', last_event_id: seen.id });
    await resumed.waitFor(() => resumed.events().length >= 3, 'three missed events');
    // A later live event shows that nothing else was replayed before it.
    const live = await publish(livegate.adminUrl, 'resume.a', { n: 4 });
    await resumed.waitFor(() => resumed.events().length >= 4, 'the live event');

    assert.deepEqual(resumed.ofType('subscribed').map((m) => m.recovered), [true]);
    assert.deepEqual(resumed.ofType('reset'), []);
    assert.deepEqual(resumed.events().map((m) => m.id), [...missed.map((m) => m.id), live.id]);
    assert.deepEqual(resumed.events().map((m) => m.data.n), [1, 2, 3, 4]);
    assert.equal(resumed.messages[0].type, 'subscribed');
  });

  it('evicted id gets reset and snapshot', async () => {
    const seen = await publish(livegate.adminUrl, 'short.a', { n: 0 });
    let last;
    for (let n = 1; n <= 5; n++)
      last = await publish(livegate.adminUrl, 'short.a', { n });

    const client = await open();
    await client.subscribe({ channel: 'short.a', last_event_id: seen.id });
    await client.waitFor(() => client.events().length >= 1, 'the snapshot');
    const live = await publish(livegate.adminUrl, 'short.a', { n: 6 });
    await client.waitFor(() => client.events().length >= 2, 'the live event');

    assert.deepEqual(client.messages.map((m) => m.type), ['subscribed', 'reset', 'event', 'event']);
    assert.equal(client.messages[0].recovered, false);
    assert.equal(client.messages[1].channel, 'short.a');
    assert.equal(client.messages[1].reason, 'evicted');
    assert.deepEqual(client.events().map((m) => m.id), [last.id, live.id]);
  });

  it('unknown id gets reset and snapshot', async () => {
    const last = await publish(livegate.adminUrl, 'resume.u', { n: 9 });

    const client = await open();
    await client.subscribe({ channel: 'resume.u', last_event_id: 'from-another-process-12' });
    await client.waitFor(() => client.events().length >= 1, 'the snapshot');

    assert.deepEqual(client.messages.map((m) => m.type), ['subscribed', 'reset', 'event']);
    assert.equal(client.messages[0].recovered, false);
    assert.equal(client.messages[1].reason, 'unknown id');
    assert.equal(client.events()[0].id, last.id);
  });

  it('resume across channels keeps id order', async () => {
    const first = await open();
    await first.subscribe({ channels: ['order.c', 'order.d'] });
    const seen = await publish(livegate.adminUrl, 'order.c', { n: 0 });
    await first.waitFor(() => first.events().length === 1, 'the first event');
    first.close();
    await first.waitForClose();

    const published = [];
    for (const channel of ['order.d', 'order.c', 'order.d', 'order.c'])
      published.push(await publish(livegate.adminUrl, channel, { channel }));
    const resumed = await open();
    await resumed.subscribe({ channels: ['order.c', 'order.d'], last_event_id: seen.id });
    await resumed.waitFor(() => resumed.events().length >= 4, 'four missed events');
    const live = await publish(livegate.adminUrl, 'order.d', { channel: 'order.d' });
    await resumed.waitFor(() => resumed.events().length >= 5, 'the live event');

    assert.deepEqual(resumed.events().map((m) => m.id), [...published.map((p) => p.id), live.id]);
    assert.deepEqual(resumed.events().map((m) => m.channel), ['order.d', 'order.c', 'order.d', 'order.c', 'order.d']);
    assert.deepEqual(resumed.ofType('subscribed').map((m) => m.recovered), [true, true]);
    assert.deepEqual(resumed.ofType('reset'), []);
  });

  it('max_rate limits one subscription only', { timeout: 20000 * SLOW }, async () => {
    const client = await open();
    await client.subscribe({ channel: 'rate.a', max_rate: 2 });
    await client.subscribe({ channel: 'rate.b' });

    // About 100 updates a second to rate.a for 3 seconds, alternating two keys, and
    // every fifth one also to rate.b, which has no rate.
    const started = performance.now();
    let n = 0;
    const unrated = [];
    while (performance.now() - started < 3000) {
      n++;
      await publish(livegate.adminUrl, 'rate.a', { n }, { key: n % 2 ? 'odd' : 'even' });
      if (n % 5 === 0)
        unrated.push(await publish(livegate.adminUrl, 'rate.b', { n }));
      await sleep(10);
    }
    const published = n;
    // The newest value of each key arrives at the latest one interval after the end.
    await client.waitFor(() => client.events('rate.b').length === unrated.length, 'every event of rate.b');
    await sleep(800 * SLOW);

    for (const key of ['odd', 'even']) {
      const values = client.events('rate.a').filter((m) => m.key === key).map((m) => m.data.n);
      // About 2 a second for 3.x seconds: at least 4, never near the 150 published.
      assert.ok(values.length >= 4, `${key}: ${values.length} updates: ${values}`);
      assert.ok(values.length <= 10, `${key}: ${values.length} updates: ${values}`);
      assert.deepEqual([...values].sort((x, y) => x - y), values, `${key} values out of order`);
    }
    const lastOdd = published % 2 ? published : published - 1;
    const lastEven = published % 2 ? published - 1 : published;
    assert.equal(client.events('rate.a').filter((m) => m.key === 'odd').at(-1).data.n, lastOdd);
    assert.equal(client.events('rate.a').filter((m) => m.key === 'even').at(-1).data.n, lastEven);

    const oddTimes = client.events('rate.a').filter((m) => m.key === 'odd').map((m) => m.receivedAt);
    const intervals = oddTimes.slice(1).map((time, i) => time - oddTimes[i]);
    assert.ok(intervals.every((ms) => ms >= 400), `odd updates closer than the 500 ms rate: ${intervals}`);
    assert.deepEqual(client.events('rate.b').map((m) => m.id), unrated.map((p) => p.id));
  });

  it('refused subscription is an error', async () => {
    const client = await open();

    client.send({ op: 'subscribe', channel: 'private.a' });
    await client.waitFor(() => client.ofType('error').length === 1, 'the error');
    await client.subscribe({ channel: 'allowed.a' });

    const [error] = client.ofType('error');
    assert.equal(error.channel, 'private.a');
    assert.match(error.message, /subscribing to channel 'private\.a' is not allowed/);
    assert.equal(client.ofType('subscribed').length, 1);
    assert.equal(client.ws.readyState, WebSocket.OPEN);
  });

  it('invalid JSON is an error', async () => {
    const client = await open();

    client.send('{"op": "subscribe",');
    await client.waitFor(() => client.ofType('error').length === 1, 'the error');

    const [error] = client.ofType('error');
    assert.match(error.message, /^invalid JSON at line 1 column \d+/);
    assert.equal('channel' in error, false);
    assert.equal(client.ws.readyState, WebSocket.OPEN);
  });

  it('unknown op is an error', async () => {
    const client = await open();

    client.send({ op: 'publish', channel: 'a' });
    await client.waitFor(() => client.ofType('error').length === 1, 'the error');

    const [error] = client.ofType('error');
    assert.match(error.message, /unknown op 'publish'/);
    assert.equal(client.ws.readyState, WebSocket.OPEN);
  });

  it('binary message is an error', async () => {
    const client = await open();

    client.ws.send(Buffer.from(JSON.stringify({ op: 'ping' })), { binary: true });
    await client.waitFor(() => client.ofType('error').length === 1, 'the error');

    const [error] = client.ofType('error');
    assert.match(error.message, /binary messages are not supported/);
    assert.equal(client.ws.readyState, WebSocket.OPEN);
  });

  it('too many bad messages close with 1008', async () => {
    const client = await open();

    // max_errors is 20 by default, so 20 error messages come back and the 21st bad
    // message closes the connection.
    for (let i = 0; i < 21; i++)
      client.send('not json');
    const close = await client.waitForClose();

    assert.equal(client.ofType('error').length, 20);
    assert.equal(close.code, 1008);
    assert.equal(close.reason, 'too many invalid messages');
  });

  it('ping op returns pong with data', async () => {
    const client = await open();

    client.send({ op: 'ping', data: { x: 1 } });
    await client.waitFor(() => client.ofType('pong').length === 1, 'the pong');

    const [pong] = client.ofType('pong');
    assert.deepEqual(pong.data, { x: 1 });
    assert.deepEqual(Object.keys(pong).filter((name) => name !== 'receivedAt').sort(), ['data', 'type']);
  });

  it('ping op echoes data byte for byte', async () => {
    const client = await open();
    const texts = [];
    client.ws.on('message', (data) => texts.push(data.toString()));
    const data = '{"price":0.1,"big":123456789012345678901234567890,"id":9007199254740993,"e":1E+2,"s":"\\u00e9"}';

    client.send(`{"op":"ping","data":${data}}`);
    await client.waitFor(() => client.ofType('pong').length === 1, 'the pong');

    assert.deepEqual(texts, [`{"type":"pong","data":${data}}`]);
  });

  it('NUL in a channel name is a clear error', async () => {
    const client = await open();

    client.send('{"op":"subscribe","channel":"a\\u0000b"}');
    await client.waitFor(() => client.ofType('error').length === 1, 'the error');

    assert.match(client.ofType('error')[0].message, /"channel" contains a NUL character/);
  });

  it('client ping gets matching pong', async () => {
    const client = await open();

    client.ws.ping('probe-1');
    await client.waitFor(() => client.pongs.length === 1, 'the pong frame');

    assert.deepEqual(client.pongs, ['probe-1']);
  });

  it('subscriptions over the limit are errors', async () => {
    // server.limits.max_subscriptions is 4 in CONFIG.
    const client = await open();
    await client.subscribe({ channels: ['limit.a', 'limit.b', 'limit.c', 'limit.d'] });

    client.send({ op: 'subscribe', channel: 'limit.e' });
    await client.waitFor(() => client.ofType('error').length === 1, 'the error');

    const [error] = client.ofType('error');
    assert.equal(error.channel, 'limit.e');
    assert.match(error.message, /too many subscriptions: the limit is 4 per connection/);
    assert.equal(client.ofType('subscribed').length, 4);
    assert.equal(client.ws.readyState, WebSocket.OPEN);
  });

  it('too many channels in one command', async () => {
    const client = await open();

    client.send({ op: 'subscribe', channels: ['many.a', 'many.b', 'many.c', 'many.d', 'many.e'] });
    await client.waitFor(() => client.ofType('error').length === 1, 'the error');

    const [error] = client.ofType('error');
    assert.match(error.message, /too many subscriptions: the limit is 4 per connection/);
    assert.equal('channel' in error, false);
    assert.equal(client.ofType('subscribed').length, 0);
  });
});

describe('websocket handshake', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({ config: CONFIG });
  });

  after(async () => {
    await stopCleanly(livegate);
  });

  it('listed origin may connect', async () => {
    const client = await connect(wsUrl(livegate), { origin: 'https://allowed.example' });
    client.close();
    await client.waitForClose();
  });

  it('same origin may connect', async () => {
    const client = await connect(wsUrl(livegate), { origin: livegate.publicUrl });
    client.close();
    await client.waitForClose();
  });

  it('other origin gets 403', async () => {
    const { status, body } = await rejectedHandshake(wsUrl(livegate), { origin: 'https://evil.example' });

    assert.equal(status, 403);
    assert.match(JSON.parse(body).error, /origin 'https:\/\/evil\.example' may not connect/);
  });

  it('origin on another port gets 403', async () => {
    const { port } = new URL(livegate.publicUrl);
    const origin = `http://127.0.0.1:${Number(port) === 65535 ? 65534 : Number(port) + 1}`;

    const { status } = await rejectedHandshake(wsUrl(livegate), { origin });

    assert.equal(status, 403);
  });

  it('first offered known subprotocol wins', async () => {
    const result = await handshakeResult(wsUrl(livegate), ['other', 'livegate.v2', 'livegate.v1']);

    assert.equal(result.error, null);
    assert.equal(result.headers['sec-websocket-protocol'], 'livegate.v2');
    assert.equal(result.protocol, 'livegate.v2');
  });

  it('no subprotocol offered connects without', async () => {
    const result = await handshakeResult(wsUrl(livegate), []);

    assert.equal(result.error, null);
    assert.equal(result.headers['sec-websocket-protocol'], undefined);
    assert.equal(result.protocol, '');
  });

  it('unknown subprotocol gets no header', async () => {
    const result = await handshakeResult(wsUrl(livegate), ['chat', 'superchat']);

    assert.notEqual(result.headers, null, 'livegate did not answer 101');
    assert.equal(result.headers['sec-websocket-protocol'], undefined);
    // RFC 6455 lets the client fail such a connection, and the ws library does.
    assert.match(result.error?.message ?? '', /Server sent no subprotocol/);
  });
});

describe('websocket address limit', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({
      config: CONFIG.replace('    max_subscriptions: 4\n', '    max_subscriptions: 4\n    max_streams_per_address: 2\n'),
    });
  });

  after(async () => {
    await stopCleanly(livegate);
  });

  it('third stream from one address gets 429', async () => {
    const first = await connect(wsUrl(livegate));
    const second = await connect(wsUrl(livegate));
    try {
      const third = await rejectedHandshake(wsUrl(livegate));
      const sse = await fetch(`${livegate.publicUrl}/sse?channel=limit.a`);
      const sseBody = await sse.json();

      assert.equal(third.status, 429);
      assert.match(JSON.parse(third.body).error, /too many streams from your address: the limit is 2/);
      assert.equal(sse.status, 429);
      assert.match(sseBody.error, /too many streams from your address/);
    } finally {
      first.terminate();
      second.terminate();
    }
  });

  it('closed stream frees its slot', async () => {
    const first = await connect(wsUrl(livegate));
    const second = await connect(wsUrl(livegate));
    try {
      second.close();
      await second.waitForClose();

      // The server releases the slot once it has seen the close.
      let third = null;
      const deadline = performance.now() + WAIT_MS;
      while (third === null && performance.now() < deadline) {
        third = await connect(wsUrl(livegate)).catch(() => null);
        if (third === null)
          await sleep(50);
      }
      assert.notEqual(third, null, 'no connection succeeded after one was closed');
      third.close();
      await third.waitForClose();
    } finally {
      first.terminate();
      second.terminate();
    }
  });
});

describe('websocket liveness', () => {
  const PING_INTERVAL_MS = 300;
  const PONG_TIMEOUT_MS = 500;
  let livegate;

  before(async () => {
    livegate = await startLivegate({
      config: CONFIG.replace('  - type: websocket\n',
        `  - type: websocket\n    ping_interval: ${PING_INTERVAL_MS}ms\n    pong_timeout: ${PONG_TIMEOUT_MS}ms\n`),
    });
  });

  after(async () => {
    await stopCleanly(livegate);
  });

  // A proxy that closes connections idle for 60 s never finds this one idle, because
  // the server sends a ping every ping interval and the client returns a pong.
  it('idle client gets pings, stays open', { timeout: 20000 * SLOW }, async () => {
    const client = await connect(wsUrl(livegate));
    const opened = performance.now();
    try {
      await sleep(3000 * SLOW);

      assert.equal(client.closeEvent, null, `closed with ${client.closeEvent?.code} while idle`);
      assert.ok(client.pings.length >= 5, `${client.pings.length} pings in 3 s at a ${PING_INTERVAL_MS} ms interval`);
      assert.deepEqual([...new Set(client.pings.map((ping) => ping.data))], ['livegate']);
      const times = [opened, ...client.pings.map((ping) => ping.at)];
      const gaps = times.slice(1).map((time, i) => time - times[i]);
      assert.ok(Math.max(...gaps) < PING_INTERVAL_MS * 2 * SLOW, `silent gaps of ${gaps.map(Math.round)} ms`);
    } finally {
      client.terminate();
    }
  });

  it('client without pongs is dropped', { timeout: 20000 * SLOW }, async () => {
    const client = await connect(wsUrl(livegate), { autoPong: false });
    const opened = performance.now();

    const close = await client.waitForClose(5000 * SLOW);
    const lifetime = close.at - opened;

    assert.ok(client.pings.length >= 1, 'the server sent no ping before dropping the client');
    assert.ok(lifetime >= PING_INTERVAL_MS + PONG_TIMEOUT_MS - 50, `dropped after ${lifetime.toFixed(0)} ms`);
    assert.ok(lifetime < (PING_INTERVAL_MS + PONG_TIMEOUT_MS) * SLOW + 1000, `dropped after ${lifetime.toFixed(0)} ms`);
    assert.match(livegate.log(), /no pong within 500 ms/);
    assert.equal(close.code, 1008);
    assert.equal(close.reason, 'no pong within 500 ms');
  });
});

describe('websocket flooding and slow clients', () => {
  const QUEUE_BYTES = 64 * 1024;
  let livegate;

  before(async () => {
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
  shutdown_timeout: 10s
  limits:
    client_queue: 64KiB
channels:
  - match: "cut.*"
    snapshot: none
    overflow: disconnect
    publish: true
  - match: "*"
    snapshot: none
    overflow: drop
    publish: true
sinks:
  - type: websocket
    ping_interval: 0
`,
    });
  });

  after(async () => {
    await stopCleanly(livegate);
  });

  async function waitForLog(pattern, timeoutMs = WAIT_MS) {
    const deadline = performance.now() + timeoutMs;
    while (!pattern.test(livegate.log())) {
      if (performance.now() > deadline)
        throw new Error(`no log line matching ${pattern}; log:\n${livegate.log()}`);
      await sleep(50);
    }
  }

  it('ping flood without reading stays bounded', { timeout: 60000 * SLOW }, async (t) => {
    const flooder = await connect(wsUrl(livegate));
    t.after(() => flooder.terminate());
    const other = await connect(wsUrl(livegate));
    t.after(() => other.terminate());
    flooder.ws._socket.pause();
    const rssBefore = await rssBytes(livegate.process.pid);

    // 100000 pings of 125 bytes ask for about 12.7 MB of pongs, far more than the
    // kernel buffers of a loopback connection hold.
    const payload = Buffer.alloc(125, 0x61);
    for (let i = 0; i < 100000; i++)
      flooder.ws.ping(payload);
    await sleep(2000 * SLOW);

    const queued = await metric(livegate.adminUrl, /^livegate_queued_bytes /);
    t.diagnostic(`queued bytes ${queued}`);
    assert.ok(queued <= QUEUE_BYTES + 32 * 1024, `queued bytes ${queued}`);
    const growth = (await rssBytes(livegate.process.pid)) - rssBefore;
    t.diagnostic(`RSS growth ${(growth / 1048576).toFixed(2)} MiB`);
    if (SLOW === 1)
      assert.ok(growth < 4 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB`);

    other.send({ op: 'ping', data: 'still served' });
    await other.waitFor(() => other.ofType('pong').length === 1, 'the other client\'s pong');
    assert.equal(flooder.closeEvent, null, 'the flooding client is throttled, not closed');

    // Once it reads, the flooding client gets every pong, in order.
    flooder.ws._socket.resume();
    await flooder.waitFor(() => flooder.pongs.length === 100000, 'every pong', 30000 * SLOW);
  });

  // Subscribes a client to CHANNEL, stops reading, and publishes 4 KiB events until
  // livegate logs LOG_PATTERN. Returns the client, still paused.
  async function stallUntil(t, channel, logPattern) {
    const client = await connect(wsUrl(livegate));
    t.after(() => client.terminate());
    await client.subscribe({ channel });
    client.ws._socket.pause();
    const pad = 'x'.repeat(4096);
    for (let n = 0; n < 5000 && !logPattern.test(livegate.log()); n++)
      await publish(livegate.adminUrl, channel, { n, pad });
    await waitForLog(logPattern);
    return client;
  }

  it('disconnect policy sends close 1008', { timeout: 60000 * SLOW }, async (t) => {
    const client = await stallUntil(t, 'cut.a', /closing stream \d+ from \S+: queue over 65536 bytes on channel 'cut.a'/);

    client.ws._socket.resume();
    const close = await client.waitForClose(10000 * SLOW);
    assert.equal(close.code, 1008);
    assert.equal(close.reason, 'too slow: more than 65536 bytes queued');
  });
});

describe('websocket slow client', () => {
  const QUEUE_BYTES = 64 * 1024;
  const PAYLOAD_BYTES = 4 * 1024;
  let livegate;

  before(async () => {
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  workers: 2
  admin:
    listen: 127.0.0.1:0
  shutdown_timeout: 1s
  limits:
    client_queue: 64KiB
channels:
  - match: "drop.*"
    history:
      length: 10
    snapshot: none
    overflow: drop
    publish: true
sinks:
  - type: websocket
`,
    });
  });

  after(async () => {
    await stopCleanly(livegate);
  });

  function payload(n) {
    return JSON.stringify({ n, pad: 'x'.repeat(PAYLOAD_BYTES) });
  }

  // Publishes events FIRST to LAST - 1 to drop.a, waiting every few events until
  // READER has them all. The reader runs in this process, so it reads only when the
  // publishing loop yields. Without the waits it can fall more than a client queue
  // (16 events) behind and lose events to the drop policy.
  async function publishPaced(first, last, reader) {
    for (let n = first; n < last; n++) {
      await publish(livegate.adminUrl, 'drop.a', payload(n));
      if ((n + 1) % 8 === 0 || n + 1 === last)
        await reader.waitFor(() => reader.events().length === n + 1, `event ${n} at the reading client`);
    }
  }

  it('stalled client stays within its queue cap', { timeout: 60000 * SLOW }, async (t) => {
    const fast = await connect(wsUrl(livegate));
    t.after(() => fast.terminate());
    await fast.subscribe({ channel: 'drop.a' });
    const stalled = await connect(wsUrl(livegate));
    t.after(() => stalled.terminate());
    await stalled.subscribe({ channel: 'drop.a' });
    // The client stops reading: the kernel buffers fill, then livegate's queue.
    stalled.ws._socket.pause();

    // Warm up the allocator and let the stalled client's kernel buffers fill.
    await publishPaced(0, 200, fast);
    const rssBefore = await rssBytes(livegate.process.pid);

    const total = 5000;
    await publishPaced(200, total, fast);
    const rssAfter = await rssBytes(livegate.process.pid);

    // 4800 events of 4 KiB went past a client that reads nothing: without the cap the
    // gateway would hold about 19 MiB for it, less what the kernel buffers.
    const growth = rssAfter - rssBefore;
    t.diagnostic(`RSS growth ${(growth / 1048576).toFixed(2)} MiB`);
    // AddressSanitizer keeps freed memory in quarantine, so RSS is not checked under it.
    if (SLOW === 1)
      assert.ok(growth < 6 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB`);

    assert.deepEqual(fast.events().map((m) => m.data.n), [...Array(total).keys()]);
    assert.equal(fast.ofType('gap').length, 0);
    const dropped = await metric(livegate.adminUrl,
      /^livegate_channel_dropped_events_total\{channel="drop.a",reason="overflow"\}/);
    t.diagnostic(`overflow drops ${dropped}`);
    assert.ok(dropped > 1000, `overflow drops in /metrics: ${dropped}`);
    const queued = await metric(livegate.adminUrl, /^livegate_queued_bytes /);
    assert.ok(queued <= QUEUE_BYTES + PAYLOAD_BYTES * 2, `queued bytes ${queued}`);
    assert.equal(await subscribers(livegate.adminUrl, 'drop.a'), 2, 'the drop policy must not disconnect');

    // Once it reads again, the stalled client learns how many events it lost: what it
    // received and what the gap notices count add up to every event.
    stalled.ws._socket.resume();
    const gapTotal = () => stalled.ofType('gap').reduce((sum, gap) => sum + gap.dropped, 0);
    await stalled.waitFor(() => stalled.events().length + gapTotal() === total, 'events and gaps for every event',
      10000 * SLOW);
    assert.ok(stalled.ofType('gap').every((gap) => gap.channel === 'drop.a'));
    assert.ok(gapTotal() > 1000, `gaps of ${gapTotal()} events`);
    const received = stalled.events().map((m) => m.data.n);
    assert.deepEqual([...received].sort((x, y) => x - y), received, 'the stalled client got events out of order');
  });
});

describe('websocket shutdown', () => {
  it('SIGTERM closes clients with 1001', async () => {
    const livegate = await startLivegate({ config: CONFIG });
    let stopped;
    const clients = [];
    try {
      for (let i = 0; i < 3; i++) {
        const client = await connect(wsUrl(livegate));
        await client.subscribe({ channel: `shutdown.${i}` });
        clients.push(client);
      }

      stopped = await livegate.stop();
    } finally {
      await livegate.stop();
    }

    assert.equal(stopped.killed, false, 'livegate did not stop on SIGTERM');
    assert.equal(stopped.code, 0, `livegate exited with ${stopped.code}; output:\n${livegate.log()}`);
    for (const client of clients) {
      // ws reports 1006 when the connection ends without a close frame.
      const close = await client.waitForClose();
      assert.equal(close.code, 1001);
      assert.equal(close.reason, 'server shutting down');
    }
  });
});
