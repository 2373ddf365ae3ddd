// Integration tests of slow and stalled clients: bounded memory, the three overflow
// policies, drop counters in /metrics, and no delay for the other clients.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';

import { startLivegate } from '../lib/livegate.mjs';
import { openSse, publish } from '../lib/sse.mjs';

const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;
const QUEUE_BYTES = 256 * 1024;
const PAYLOAD_BYTES = 4 * 1024;

const CONFIG = `server:
  listen: 127.0.0.1:0
  workers: 2
  admin:
    listen: 127.0.0.1:0
  shutdown_timeout: 1s
  limits:
    client_queue: ${QUEUE_BYTES}
channels:
  - match: "drop.*"
    history: {length: 10}
    snapshot: none
    overflow: drop
    publish: true
  - match: "conflate.*"
    history: {length: 10}
    snapshot: none
    overflow: conflate
    publish: true
  - match: "cut.*"
    history: {length: 10}
    snapshot: none
    overflow: disconnect
    publish: true
sinks:
  - type: sse
    heartbeat_interval: 0
`;

async function rssBytes(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(match[1]) * 1024;
}

// Subscribers of CHANNEL as the admin API counts them.
async function subscribers(adminUrl, channel) {
  const response = await fetch(`${adminUrl}/api/channels/${channel}`);
  return (await response.json()).subscribers;
}

// AddressSanitizer keeps freed memory in quarantine, so RSS is not checked under it.
function assertRssGrowth(t, growth) {
  t.diagnostic(`RSS growth ${(growth / 1048576).toFixed(2)} MiB`);
  if (SLOW === 1)
    assert.ok(growth < 6 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB`);
}

async function metric(adminUrl, pattern) {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

// Opens a raw connection that sends the SSE request and then reads at most
// bytesPerSecond, or nothing at all when it is 0.
function rawSubscriber(url, path, bytesPerSecond) {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  const state = { socket, received: 0, closed: false, timer: null };
  socket.on('close', () => {
    state.closed = true;
  });
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
  socket.pause();
  if (bytesPerSecond > 0) {
    const chunk = Math.max(1, Math.round(bytesPerSecond / 10));
    state.timer = setInterval(() => {
      const data = socket.read(chunk) ?? socket.read();
      if (data !== null)
        state.received += data.length;
    }, 100);
  }
  state.close = () => {
    clearInterval(state.timer);
    socket.destroy();
  };
  return state;
}

function payload(n, key) {
  return JSON.stringify({ n, key, t: Date.now(), pad: 'x'.repeat(PAYLOAD_BYTES) });
}

describe('slow clients', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({ config: CONFIG });
  });

  after(async () => {
    const { code } = await livegate.stop();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('stalled client stays within its queue cap', async (t) => {
    const fast = await openSse(`${livegate.publicUrl}/sse?channel=drop.a`);
    t.after(() => fast.close());
    await fast.waitFor(() => fast.named('subscribed').length === 1, 5000 * SLOW, 'subscribed');
    const stalled = rawSubscriber(livegate.publicUrl, '/sse?channel=drop.a', 0);
    t.after(() => stalled.close());

    // Warm up the allocator and let the stalled client's kernel buffers fill.
    for (let n = 0; n < 200; n++)
      await publish(livegate.adminUrl, 'drop.a', payload(n));
    await fast.waitFor(() => fast.messages().length === 200, 10000 * SLOW, 'the warm-up events');
    const before = await rssBytes(livegate.process.pid);

    // Forty events at a time (about 160 KiB), each batch read by the fast client before the next,
    // so that only the stalled client's queue fills, however loaded the machine is.
    const total = 5000;
    for (let n = 200; n < total; n++) {
      await publish(livegate.adminUrl, 'drop.a', payload(n));
      if (n % 40 === 39)
        await fast.waitFor(() => fast.messages().length === n + 1, 20000 * SLOW, `event ${n} at the fast client`);
    }
    await fast.waitFor(() => fast.messages().length === total, 20000 * SLOW, 'every event at the fast client');
    const afterRss = await rssBytes(livegate.process.pid);

    // 4800 events of 4 KiB went past a client that reads nothing: without the cap
    // the gateway would hold about 19 MiB for it, less what the kernel buffers.
    assertRssGrowth(t, afterRss - before);

    const messages = fast.messages();
    assert.deepEqual(messages.map((m) => m.data.n), [...Array(total).keys()]);
    const dropped = await metric(livegate.adminUrl, /^livegate_channel_dropped_events_total\{channel="drop.a",reason="overflow"\}/);
    t.diagnostic(`overflow drops ${dropped}`);
    assert.ok(dropped > 1000, `overflow drops in /metrics: ${dropped}`);
    const queued = await metric(livegate.adminUrl, /^livegate_queued_bytes /);
    assert.ok(queued <= QUEUE_BYTES + PAYLOAD_BYTES * 2, `queued bytes ${queued}`);
    assert.equal(await subscribers(livegate.adminUrl, 'drop.a'), 2, 'the drop policy must not disconnect');

  });

  it('stalled client does not delay another', async (t) => {
    const fast = await openSse(`${livegate.publicUrl}/sse?channel=drop.latency`);
    t.after(() => fast.close());
    await fast.waitFor(() => fast.named('subscribed').length === 1, 5000 * SLOW, 'subscribed');
    const stalled = rawSubscriber(livegate.publicUrl, '/sse?channel=drop.latency', 0);
    t.after(() => stalled.close());

    const total = 500;
    for (let n = 0; n < total; n++) {
      await publish(livegate.adminUrl, 'drop.latency', payload(n));
      if (n % 10 === 0)
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await fast.waitFor(() => fast.messages().length === total, 10000 * SLOW, 'every event');
    // receivedAt is performance.now(); with timeOrigin it becomes epoch milliseconds like t.
    const received = fast.messages();
    const delays = fast.events.filter((e) => e.event === 'message')
      .map((e, i) => performance.timeOrigin + e.receivedAt - received[i].data.t);
    delays.sort((a, b) => a - b);
    const p99 = delays[Math.floor(delays.length * 0.99)];
    t.diagnostic(`p99 ${p99.toFixed(1)} ms`);
    assert.ok(p99 < 250 * SLOW, `p99 publish-to-receive ${p99.toFixed(1)} ms with a stalled client`);

  });

  it('slow reader is conflated, memory flat', async (t) => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const fast = await openSse(`${livegate.publicUrl}/sse?channel=conflate.slow`);
    t.after(() => fast.close());
    await fast.waitFor(() => fast.named('subscribed').length === 1, 5000 * SLOW, 'subscribed');
    const slow = rawSubscriber(livegate.publicUrl, '/sse?channel=conflate.slow', 10 * 1024);
    t.after(() => slow.close());

    let n = 0;
    const publishFor = async (ms) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        await publish(livegate.adminUrl, 'conflate.slow', payload(n, keys[n % keys.length]), { key: keys[n % keys.length] });
        n++;
        if (n % 20 === 0)
          await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    await publishFor(1000);
    const before = await rssBytes(livegate.process.pid);
    await publishFor(3000 * SLOW);
    const afterRss = await rssBytes(livegate.process.pid);
    await fast.waitFor(() => fast.messages().length === n, 10000 * SLOW, 'every event at the fast client');

    t.diagnostic(`${n} events published`);
    assertRssGrowth(t, afterRss - before);
    assert.ok(slow.received > 0, 'the slow client received nothing');
    assert.equal(await subscribers(livegate.adminUrl, 'conflate.slow'), 2, 'the conflate policy must not disconnect');
    const conflated = await metric(livegate.adminUrl,
      /^livegate_channel_dropped_events_total\{channel="conflate.slow",reason="conflated"\}/);
    t.diagnostic(`conflated drops ${conflated}, slow client read ${slow.received} bytes`);
    assert.ok(conflated > 0, `conflated drops in /metrics: ${conflated}`);

  });

  it('disconnect policy cuts a stalled client', async (t) => {
    // A paused socket never reads, so it cannot see the close: watch the counters.
    const cutBefore = await metric(livegate.adminUrl, /^livegate_dropped_events_total\{reason="disconnect"\}/);
    const stalled = rawSubscriber(livegate.publicUrl, '/sse?channel=cut.a', 0);
    t.after(() => stalled.close());
    const fast = await openSse(`${livegate.publicUrl}/sse?channel=cut.a`);
    t.after(() => fast.close());
    await fast.waitFor(() => fast.named('subscribed').length === 1, 5000 * SLOW, 'subscribed');

    let n = 0;
    let open = 2;
    const deadline = performance.now() + 15000 * SLOW;
    while (open === 2 && performance.now() < deadline) {
      await publish(livegate.adminUrl, 'cut.a', payload(n++));
      // The fast client reads each batch before the next, so only the stalled one is cut.
      if (n % 40 === 0)
        await fast.waitFor(() => fast.messages().length === n, 10000 * SLOW, `event ${n} at the fast client`);
      if (n % 100 === 0)
        open = await subscribers(livegate.adminUrl, 'cut.a');
    }
    assert.equal(open, 1, `the stalled client is still connected after ${n} events`);
    await fast.waitFor(() => fast.messages().length === n, 10000 * SLOW, 'every event at the fast client');
    const cut = await metric(livegate.adminUrl, /^livegate_dropped_events_total\{reason="disconnect"\}/);
    assert.equal(cut, cutBefore + 1, 'one disconnect in /metrics');
  });
});

describe('send timeout', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({
      config: CONFIG.replace('  limits:\n', '  limits:\n    send_timeout: 1s\n'),
    });
  });

  after(async () => {
    const { code } = await livegate.stop();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('stalled client is cut after send_timeout', async (t) => {
    const stalled = rawSubscriber(livegate.publicUrl, '/sse?channel=conflate.stuck', 0);
    t.after(() => stalled.close());
    const deadline = performance.now() + 1000 * SLOW;
    while (await subscribers(livegate.adminUrl, 'conflate.stuck') === undefined && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));

    // Fill the kernel buffers so that writes stop making progress.
    for (let n = 0; n < 3000; n++)
      await publish(livegate.adminUrl, 'conflate.stuck', payload(n, `k${n % 50}`), { key: `k${n % 50}` });
    const cutAt = performance.now() + 8000 * SLOW;
    let open = 1;
    while (open === 1 && performance.now() < cutAt) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      open = await subscribers(livegate.adminUrl, 'conflate.stuck');
    }
    assert.equal(open, 0, 'the stalled client is still subscribed');
    assert.match(livegate.log(), /accepted no data for 1000 ms \(server\.limits\.send_timeout\)/);
  });
});
