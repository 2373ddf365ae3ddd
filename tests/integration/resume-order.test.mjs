// Resume positions when events leave a stream out of id order: a client rate holding
// one key while other channels go on, and WebSocket channels added one command at a
// time. The position a client keeps (SSE: the id: line; WebSocket: "resume" when
// present, else "id") must lose nothing and repeat as little as possible.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { startLivegate } from '../lib/livegate.mjs';
import { openSse, publish } from '../lib/sse.mjs';

// AddressSanitizer builds are about 3 times slower, so every wait is scaled by this.
const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;
const WAIT_MS = 5000 * SLOW;

const CONFIG = `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
channels:
  - match: "*"
    history:
      length: 1000
    snapshot: last
    publish: true
sinks:
  - type: websocket
  - type: sse
`;

function seqOf(id) {
  return Number(id.split('-')[1]);
}

function epochOf(id) {
  return id.split('-')[0];
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A WebSocket client that records the event messages and waits on them.
class WsClient {
  #waiters = [];

  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()));
      for (const waiter of [...this.#waiters])
        waiter();
    });
  }

  static open(url) {
    const ws = new WebSocket(url, 'livegate.v1', { handshakeTimeout: WAIT_MS });
    const client = new WsClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(message) {
    this.ws.send(JSON.stringify(message));
  }

  events() {
    return this.messages.filter((m) => m.type === 'event');
  }

  // The position to resume from: "resume" of the last event when present, else its id.
  position() {
    const last = this.events().at(-1);
    return last.resume ?? last.id;
  }

  waitFor(predicate, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this.messages)) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`));
      }, WAIT_MS);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
      };
      this.#waiters.push(check);
      check();
    });
  }

  close() {
    this.ws.terminate();
  }
}

describe('resume positions out of id order', () => {
  let livegate;
  let wsUrl;

  before(async () => {
    livegate = await startLivegate({ config: CONFIG });
    wsUrl = `${livegate.publicUrl.replace(/^http/, 'ws')}/ws`;
  });

  after(async () => {
    const { code } = await livegate.stop();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('SSE rate on one key delays no other', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=hold.a&channel=hold.b&max_rate=1`);
    await stream.waitFor(() => stream.named('subscribed').length === 2, WAIT_MS, 'subscribed');

    await publish(livegate.adminUrl, 'hold.a', { n: 1 }, { key: 'k' });
    const a2 = await publish(livegate.adminUrl, 'hold.a', { n: 2 }, { key: 'k' });
    const sentB = performance.now();
    const b1 = await publish(livegate.adminUrl, 'hold.b', { n: 1 }, { key: 'k' });

    await stream.waitFor(() => stream.messages().some((m) => m.id === b1.id), WAIT_MS, 'b1');
    const arrived = stream.events.find((e) => e.data.includes(b1.id));
    assert.ok(arrived.receivedAt - sentB < 500 * SLOW, `b1 took ${(arrived.receivedAt - sentB).toFixed(0)} ms`);
    assert.ok(!stream.messages().some((m) => m.id === a2.id), 'a2 arrived before its interval');

    // B1 overtook the held A2: its id: line stops just before A2.
    const b1Message = stream.messages().find((m) => m.id === b1.id);
    assert.equal(b1Message.sseId, `${epochOf(b1.id)}-${seqOf(a2.id) - 1}`);

    // A2 comes once its interval has passed, with the position past B1.
    await stream.waitFor(() => stream.messages().some((m) => m.id === a2.id), WAIT_MS, 'a2');
    stream.close();
    const a2Message = stream.messages().find((m) => m.id === a2.id);
    assert.equal(a2Message.sseId, b1.id);
    assert.deepEqual(stream.messages().map((m) => m.data.n), [1, 1, 2]);
  });

  it('SSE resume while held loses nothing', async () => {
    const url = `${livegate.publicUrl}/sse?channel=lost.a&channel=lost.b&max_rate=0.5`;
    const stream = await openSse(url);
    await stream.waitFor(() => stream.named('subscribed').length === 2, WAIT_MS, 'subscribed');

    await publish(livegate.adminUrl, 'lost.a', { n: 1 }, { key: 'k' });
    const a2 = await publish(livegate.adminUrl, 'lost.a', { n: 2 }, { key: 'k' });
    const b1 = await publish(livegate.adminUrl, 'lost.b', { n: 1 }, { key: 'k' });
    await stream.waitFor(() => stream.messages().some((m) => m.id === b1.id), WAIT_MS, 'b1');
    stream.close();
    const position = stream.events.filter((e) => e.id !== undefined).at(-1).id;

    // Reconnect before A2 was sent: the position brings it back.
    const resumed = await openSse(url, { headers: { 'Last-Event-ID': position } });
    await resumed.waitFor(() => resumed.messages().some((m) => m.id === a2.id), WAIT_MS, 'a2 after the resume');
    resumed.close();
    assert.deepEqual(resumed.named('subscribed').map((s) => s.recovered), [true, true]);
  });

  it('SSE resume ids never go backwards', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=order.a&channel=order.b&max_rate=4`);
    await stream.waitFor(() => stream.named('subscribed').length === 2, WAIT_MS, 'subscribed');
    for (let n = 0; n < 40; n++) {
      await publish(livegate.adminUrl, n % 2 ? 'order.a' : 'order.b', { n }, { key: `k${n % 3}` });
      await sleep(10);
    }
    await sleep(600 * SLOW);
    stream.close();

    const messages = stream.messages();
    const positions = messages.map((m) => seqOf(m.sseId));
    assert.ok(messages.length >= 6, `only ${messages.length} updates`);
    assert.ok(messages.length < 40, `${messages.length} updates: the rate did not apply`);
    assert.deepEqual(positions, [...positions].sort((x, y) => x - y), `positions went backwards: ${positions}`);
    assert.equal(new Set(messages.map((m) => m.id)).size, messages.length, 'an event arrived twice');
    // Once nothing is held, the position is the newest event sent.
    assert.equal(positions.at(-1), Math.max(...messages.map((m) => seqOf(m.id))));
  });

  it('WebSocket rate on one channel delays no other', async () => {
    const client = await WsClient.open(wsUrl);
    client.send({ op: 'subscribe', channel: 'wshold.a', max_rate: 1 });
    client.send({ op: 'subscribe', channel: 'wshold.b' });
    await client.waitFor((m) => m.filter((x) => x.type === 'subscribed').length === 2, 'subscribed');

    const a1 = await publish(livegate.adminUrl, 'wshold.a', { n: 1 }, { key: 'k' });
    const a2 = await publish(livegate.adminUrl, 'wshold.a', { n: 2 }, { key: 'k' });
    const b1 = await publish(livegate.adminUrl, 'wshold.b', { n: 1 }, { key: 'k' });
    await client.waitFor((m) => m.some((x) => x.id === b1.id), 'b1');
    assert.ok(!client.events().some((x) => x.id === a2.id), 'a2 arrived before its interval');

    const b1Message = client.events().find((x) => x.id === b1.id);
    assert.equal(b1Message.resume, `${epochOf(b1.id)}-${seqOf(a2.id) - 1}`);
    assert.equal(client.events().find((x) => x.id === a1.id).resume, undefined, 'in-order events carry no resume');

    await client.waitFor((m) => m.some((x) => x.id === a2.id), 'a2');
    assert.equal(client.events().find((x) => x.id === a2.id).resume, b1.id);
    client.close();
  });

  it('WebSocket late subscribe keeps position', async () => {
    const b1 = await publish(livegate.adminUrl, 'late.b', { n: 1 });
    const a1 = await publish(livegate.adminUrl, 'late.a', { n: 1 });
    const client = await WsClient.open(wsUrl);
    client.send({ op: 'subscribe', channel: 'late.a' });
    await client.waitFor((m) => m.some((x) => x.id === a1.id), 'a1');
    client.send({ op: 'subscribe', channel: 'late.b' });
    await client.waitFor((m) => m.some((x) => x.id === b1.id), 'b1');

    // B1 is older than A1, which the client already has: its position stays at A1.
    assert.equal(client.events().find((x) => x.id === b1.id).resume, a1.id);
    const position = client.position();
    client.close();

    // Resuming both channels from there repeats nothing.
    const resumed = await WsClient.open(wsUrl);
    resumed.send({ op: 'subscribe', channels: ['late.a', 'late.b'], last_event_id: position });
    await resumed.waitFor((m) => m.filter((x) => x.type === 'subscribed').length === 2, 'subscribed');
    const a2 = await publish(livegate.adminUrl, 'late.a', { n: 2 });
    await resumed.waitFor((m) => m.some((x) => x.id === a2.id), 'a2');
    resumed.close();
    assert.deepEqual(resumed.messages.filter((x) => x.type === 'subscribed').map((x) => x.recovered), [true, true]);
    assert.deepEqual(resumed.events().map((x) => x.id), [a2.id]);
  });
});
