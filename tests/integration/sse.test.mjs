// Integration tests of the SSE sink against the real binary: delivery, snapshots,
// resume, client rates, injection safety and CORS.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { EventSource } from 'eventsource';

import { startLivegate } from '../lib/livegate.mjs';
import { openSse, publish } from '../lib/sse.mjs';

const CONFIG = `server:
  listen: 127.0.0.1:0
  workers: 2
  admin:
    listen: 127.0.0.1:0
channels:
  - match: "short.*"
    history:
      length: 3
    snapshot: last
    publish: true
  - match: "keyed.*"
    history:
      length: 100
    snapshot: keyed
    publish: true
  - match: "private.*"
    subscribe: false
    publish: true
  - match: "rated.*"
    max_rate: 1
    snapshot: none
    publish: true
  - match: "*"
    history:
      length: 1000
    snapshot: last
    publish: true
sinks:
  - type: sse
    heartbeat_interval: 300ms
    cors_origins: ["https://allowed.example"]
`;

// Opens an EventSource and collects its messages until closed.
function openEventSource(url, options) {
  const source = new EventSource(url, options);
  const received = [];
  const named = [];
  source.onmessage = (message) => received.push({ id: message.lastEventId, ...JSON.parse(message.data) });
  for (const name of ['tick', 'reset', 'gap', 'subscribed'])
    source.addEventListener(name, (message) => named.push({ name, data: message.data, id: message.lastEventId }));
  const opened = new Promise((resolve, reject) => {
    source.onopen = resolve;
    source.onerror = (error) => reject(new Error(`EventSource failed: ${error.message ?? error.type}`));
  });
  return { source, received, named, opened };
}

async function until(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SSE sink', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({ config: CONFIG });
  });

  after(async () => {
    const { code, killed } = await livegate.stop();
    assert.equal(killed, false, 'livegate did not stop on SIGTERM');
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('published event reaches every subscriber', async () => {
    const clients = [];
    for (let i = 0; i < 4; i++)
      clients.push(openEventSource(`${livegate.publicUrl}/sse?channel=fanout.a`));
    await Promise.all(clients.map((c) => c.opened));
    // Subscriptions complete asynchronously, and the subscribed notice marks the moment.
    await until(() => clients.every((c) => c.named.some((n) => n.name === 'subscribed')), 5000, 'subscribed notices');

    const answer = await publish(livegate.adminUrl, 'fanout.a', { price: 101.5 }, { key: 'AAPL' });
    await until(() => clients.every((c) => c.received.length === 1), 5000, 'the event at every client');

    for (const client of clients) {
      const [message] = client.received;
      assert.equal(message.channel, 'fanout.a');
      assert.equal(message.id, answer.id);
      assert.equal(message.key, 'AAPL');
      assert.deepEqual(message.data, { price: 101.5 });
      assert.equal(typeof message.time, 'number');
      client.source.close();
    }
  });

  it('new subscriber gets the snapshot first', async () => {
    await publish(livegate.adminUrl, 'snap.a', { v: 1 });
    const last = await publish(livegate.adminUrl, 'snap.a', { v: 2 });
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=snap.a`);
    await stream.waitFor((events) => stream.messages().length >= 1, 5000, 'the snapshot');

    const [message] = stream.messages();
    assert.equal(message.id, last.id);
    assert.equal(message.sseId, last.id);
    assert.deepEqual(message.data, { v: 2 });
    stream.close();
  });

  it('event larger than the client queue arrives', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=big.a`);
    await stream.waitFor(() => stream.named('subscribed').length === 1, 5000, 'subscribed');
    const big = { blob: 'x'.repeat(300 * 1024) };
    const answer = await publish(livegate.adminUrl, 'big.a', big);
    await stream.waitFor(() => stream.messages().length === 1, 5000, 'the large event');
    assert.equal(stream.messages()[0].id, answer.id);
    assert.equal(stream.messages()[0].data.blob.length, big.blob.length);
    assert.deepEqual(stream.named('gap'), []);
    stream.close();
  });

  it('keyed snapshot holds newest per key', async () => {
    await publish(livegate.adminUrl, 'keyed.q', { p: 1 }, { key: 'A' });
    await publish(livegate.adminUrl, 'keyed.q', { p: 2 }, { key: 'B' });
    await publish(livegate.adminUrl, 'keyed.q', { p: 3 }, { key: 'A' });
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=keyed.q`);
    await stream.waitFor(() => stream.messages().length >= 2, 5000, 'two snapshot events');

    const byKey = Object.fromEntries(stream.messages().map((m) => [m.key, m.data.p]));
    assert.deepEqual(byKey, { A: 3, B: 2 });
    stream.close();
  });

  it('resume delivers exactly the missed events', async () => {
    const first = await openSse(`${livegate.publicUrl}/sse?channel=resume.a`);
    await first.waitFor((events) => events.some((e) => e.event === 'subscribed'), 5000, 'subscribed');
    const seen = await publish(livegate.adminUrl, 'resume.a', { n: 0 });
    await first.waitFor(() => first.messages().length === 1, 5000, 'the first event');
    first.close();

    const missed = [];
    for (let n = 1; n <= 3; n++)
      missed.push(await publish(livegate.adminUrl, 'resume.a', { n }));

    const resumed = await openSse(`${livegate.publicUrl}/sse?channel=resume.a`, {
      headers: { 'Last-Event-ID': seen.id },
    });
    await resumed.waitFor(() => resumed.messages().length >= 3, 5000, 'three missed events');
    // Nothing else may follow: a later event proves the stream is quiet before it.
    const later = await publish(livegate.adminUrl, 'resume.a', { n: 4 });
    await resumed.waitFor(() => resumed.messages().length >= 4, 5000, 'the live event');

    const messages = resumed.messages();
    assert.deepEqual(messages.map((m) => m.data.n), [1, 2, 3, 4]);
    assert.deepEqual(messages.map((m) => m.id), [...missed.map((m) => m.id), later.id]);
    assert.deepEqual(resumed.named('subscribed'), [{ channel: 'resume.a', recovered: true }]);
    assert.deepEqual(resumed.named('reset'), []);
    resumed.close();
  });

  it('resume id in query parameter works', async () => {
    const seen = await publish(livegate.adminUrl, 'resume.q', { n: 0 });
    const missed = await publish(livegate.adminUrl, 'resume.q', { n: 1 });
    const resumed = await openSse(
      `${livegate.publicUrl}/sse?channel=resume.q&last_event_id=${encodeURIComponent(seen.id)}`);
    await resumed.waitFor(() => resumed.messages().length >= 1, 5000, 'the missed event');
    assert.deepEqual(resumed.messages().map((m) => m.id), [missed.id]);
    assert.equal(resumed.named('subscribed')[0].recovered, true);
    resumed.close();
  });

  it('evicted resume id gets reset and snapshot', async () => {
    const seen = await publish(livegate.adminUrl, 'short.a', { n: 0 });
    let last;
    for (let n = 1; n <= 5; n++)
      last = await publish(livegate.adminUrl, 'short.a', { n });

    const resumed = await openSse(`${livegate.publicUrl}/sse?channel=short.a`, {
      headers: { 'Last-Event-ID': seen.id },
    });
    await resumed.waitFor(() => resumed.messages().length >= 1, 5000, 'the snapshot');

    assert.deepEqual(resumed.named('reset'), [{ channel: 'short.a', reason: 'evicted' }]);
    assert.deepEqual(resumed.named('subscribed'), [{ channel: 'short.a', recovered: false }]);
    const messages = resumed.messages();
    assert.equal(messages.length, 1);
    assert.equal(messages[0].id, last.id);
    // The reset comes before the snapshot.
    const order = resumed.events.map((e) => e.event);
    assert.ok(order.indexOf('reset') < order.indexOf('message'));
    resumed.close();
  });

  it('unknown resume id gets reset', async () => {
    const last = await publish(livegate.adminUrl, 'resume.u', { n: 9 });
    const resumed = await openSse(`${livegate.publicUrl}/sse?channel=resume.u`, {
      headers: { 'Last-Event-ID': 'from-another-process-12' },
    });
    await resumed.waitFor(() => resumed.messages().length >= 1, 5000, 'the snapshot');
    assert.deepEqual(resumed.named('reset'), [{ channel: 'resume.u', reason: 'unknown id' }]);
    assert.equal(resumed.messages()[0].id, last.id);
    resumed.close();
  });

  it('EventSource reconnect resumes without loss', async () => {
    const client = openEventSource(`${livegate.publicUrl}/sse?channel=es.resume`);
    await client.opened;
    await until(() => client.named.some((n) => n.name === 'subscribed'), 5000, 'subscribed');
    await publish(livegate.adminUrl, 'es.resume', { n: 1 });
    await until(() => client.received.length === 1, 5000, 'the first event');
    client.source.close();

    await publish(livegate.adminUrl, 'es.resume', { n: 2 });
    const again = openEventSource(`${livegate.publicUrl}/sse?channel=es.resume`, {
      fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, 'Last-Event-ID': client.received[0].id } }),
    });
    await again.opened;
    await until(() => again.received.length === 1, 5000, 'the missed event');
    assert.equal(again.received[0].data.n, 2);
    again.source.close();
  });

  it('several channels on one stream', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=multi.a&channel=multi.b`);
    await stream.waitFor(() => stream.named('subscribed').length === 2, 5000, 'two subscriptions');
    const a = await publish(livegate.adminUrl, 'multi.a', { x: 'a' });
    const b = await publish(livegate.adminUrl, 'multi.b', { x: 'b' });
    await stream.waitFor(() => stream.messages().length >= 2, 5000, 'both events');
    assert.deepEqual(stream.messages().map((m) => [m.channel, m.id]), [['multi.a', a.id], ['multi.b', b.id]]);

    // One resume id covers both channels: resuming from a's id replays only b.
    stream.close();
    const resumed = await openSse(`${livegate.publicUrl}/sse?channel=multi.a&channel=multi.b`, {
      headers: { 'Last-Event-ID': a.id },
    });
    await resumed.waitFor(() => resumed.messages().length >= 1, 5000, 'the replay');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(resumed.messages().map((m) => m.id), [b.id]);
    resumed.close();
  });

  it('multi-channel resume keeps id order', async () => {
    const first = await openSse(`${livegate.publicUrl}/sse?channel=order.c&channel=order.d`);
    await first.waitFor(() => first.named('subscribed').length === 2, 5000, 'two subscriptions');
    const seen = await publish(livegate.adminUrl, 'order.c', { n: 0 });
    await first.waitFor(() => first.messages().length === 1, 5000, 'the first event');
    first.close();

    const published = [];
    for (const channel of ['order.d', 'order.c', 'order.d', 'order.c'])
      published.push(await publish(livegate.adminUrl, channel, { channel }));

    const resumed = await openSse(`${livegate.publicUrl}/sse?channel=order.c&channel=order.d`, {
      headers: { 'Last-Event-ID': seen.id },
    });
    await resumed.waitFor(() => resumed.messages().length >= 4, 5000, 'four missed events');
    assert.deepEqual(resumed.messages().map((m) => m.id), published.map((p) => p.id));
    resumed.close();

    // Resuming from the third id gets exactly the fourth, nothing older.
    const again = await openSse(`${livegate.publicUrl}/sse?channel=order.c&channel=order.d`, {
      headers: { 'Last-Event-ID': published[2].id },
    });
    await again.waitFor(() => again.named('subscribed').length === 2 && again.messages().length >= 1, 5000, 'the rest');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(again.messages().map((m) => m.id), [published[3].id]);
    again.close();
  });

  it('multi-channel snapshot comes in id order', async () => {
    const b = await publish(livegate.adminUrl, 'snaporder.b', { v: 'b' });
    const a = await publish(livegate.adminUrl, 'snaporder.a', { v: 'a' });
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=snaporder.a&channel=snaporder.b`);
    await stream.waitFor(() => stream.messages().length >= 2, 5000, 'both snapshots');
    assert.deepEqual(stream.messages().map((m) => m.id), [b.id, a.id]);
    stream.close();
  });

  it('tiny max_rate cannot lift the rule rate', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=rated.x&max_rate=1e-300`);
    await stream.waitFor(() => stream.named('subscribed').length === 1, 5000, 'subscribed');
    for (let n = 0; n < 10; n++) {
      await publish(livegate.adminUrl, 'rated.x', { n });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    stream.close();
    assert.equal(stream.messages().length, 1, `received ${stream.messages().length} events`);
  });

  it('subscriber-made channels go away after', async () => {
    const before = (await (await fetch(`${livegate.adminUrl}/api/stats`)).json()).channels;
    const streams = [];
    for (let i = 0; i < 5; i++)
      streams.push(await openSse(`${livegate.publicUrl}/sse?channel=junk.${i}`));
    await Promise.all(streams.map((s) => s.waitFor(() => s.named('subscribed').length === 1, 5000, 'subscribed')));
    const during = (await (await fetch(`${livegate.adminUrl}/api/stats`)).json()).channels;
    assert.equal(during, before + 5);

    for (const stream of streams)
      stream.close();
    const deadline = Date.now() + 5000;
    let after = during;
    while (after !== before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = (await (await fetch(`${livegate.adminUrl}/api/stats`)).json()).channels;
    }
    assert.equal(after, before);
  });

  it('client rate sends newest value', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=rate.a&max_rate=2`);
    await stream.waitFor((events) => events.some((e) => e.event === 'subscribed'), 5000, 'subscribed');

    // 100 updates a second for 3 seconds, alternating two keys.
    const started = performance.now();
    let n = 0;
    while (performance.now() - started < 3000) {
      n++;
      await publish(livegate.adminUrl, 'rate.a', { n }, { key: n % 2 ? 'odd' : 'even' });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const published = n;
    // The last value of each key arrives at the latest one interval after the end.
    await new Promise((resolve) => setTimeout(resolve, 800));
    stream.close();

    const perKey = { odd: [], even: [] };
    for (const message of stream.messages())
      perKey[message.key].push({ n: message.data.n });
    for (const key of ['odd', 'even']) {
      const values = perKey[key].map((v) => v.n);
      // About 2 a second for 3.x seconds: at least 4, never near the 150 published.
      assert.ok(values.length >= 4, `${key}: ${values.length} updates: ${values}`);
      assert.ok(values.length <= 10, `${key}: ${values.length} updates: ${values}`);
      assert.deepEqual([...values].sort((x, y) => x - y), values, `${key} values out of order`);
    }
    const lastOdd = published % 2 ? published : published - 1;
    const lastEven = published % 2 ? published - 1 : published;
    assert.equal(perKey.odd.at(-1).n, lastOdd, 'the newest odd value was not delivered last');
    assert.equal(perKey.even.at(-1).n, lastEven, 'the newest even value was not delivered last');

    const intervals = [];
    const times = stream.events.filter((e) => e.event === 'message' && JSON.parse(e.data).key === 'odd')
      .map((e) => e.receivedAt);
    for (let i = 1; i < times.length; i++)
      intervals.push(times[i] - times[i - 1]);
    assert.ok(intervals.every((ms) => ms >= 400), `odd updates closer than the 500 ms rate: ${intervals}`);
  });

  it('type with line feed is rejected', async () => {
    const client = openEventSource(`${livegate.publicUrl}/sse?channel=inject.a`);
    await client.opened;
    await until(() => client.named.some((n) => n.name === 'subscribed'), 5000, 'subscribed');

    const response = await fetch(`${livegate.adminUrl}/api/channels/inject.a/events?type=${encodeURIComponent('tick\ndata: spoofed')}`,
      { method: 'POST', body: 'original' });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /line feed/);
    await publish(livegate.adminUrl, 'inject.a', 'after', { type: 'tick' });
    await until(() => client.named.some((n) => n.name === 'tick'), 5000, 'the tick event');

    assert.deepEqual(client.named.filter((n) => n.name !== 'subscribed').map((n) => n.name), ['tick']);
    assert.equal(client.received.length, 0, 'no plain message may appear');
    client.source.close();
  });

  it('payload with lone CR stays one event', async () => {
    const payload = 'abc\revent: other\r\ndata: x';
    const client = openEventSource(`${livegate.publicUrl}/sse?channel=inject.b`);
    await client.opened;
    await until(() => client.named.some((n) => n.name === 'subscribed'), 5000, 'subscribed');
    const others = [];
    client.source.addEventListener('other', (m) => others.push(m));

    await publish(livegate.adminUrl, 'inject.b', payload);
    await until(() => client.received.length === 1, 5000, 'the event');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(client.received.length, 1);
    assert.equal(client.received[0].data, payload);
    assert.equal(others.length, 0, 'an injected event: other arrived');
    client.source.close();
  });

  it('heartbeat comments keep idle streams alive', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=idle.a`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(stream.comments.filter((c) => c === 'heartbeat').length >= 2, `comments: ${stream.comments}`);
    stream.close();
  });

  it('stream headers and retry', async () => {
    const response = await fetch(`${livegate.publicUrl}/sse?channel=head.a`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    assert.match(response.headers.get('cache-control'), /no-cache/);
    const reader = response.body.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /^retry: 3000\n\n/);
    await reader.cancel();
  });

  it('bad requests get 4xx before streaming', async () => {
    const cases = [
      ['/sse', 400, /missing channel/],
      ['/sse?channel=bad%20name', 400, /invalid channel name/],
      ['/sse?channel=private.x', 403, /not allowed/],
      ['/sse?channel=a&channel=a', 400, /listed twice/],
      ['/sse?channel=a&max_rate=fast', 400, /max_rate/],
      ['/sse?channel=a&max_rate=-1', 400, /max_rate/],
    ];
    for (const [path, status, pattern] of cases) {
      const response = await fetch(`${livegate.publicUrl}${path}`);
      assert.equal(response.status, status, path);
      assert.match((await response.json()).error, pattern, path);
    }
  });

  it('CORS allowlist', async () => {
    const allowed = await fetch(`${livegate.publicUrl}/sse?channel=cors.a`, {
      headers: { Origin: 'https://allowed.example' },
    });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://allowed.example');
    await allowed.body.cancel();

    const denied = await fetch(`${livegate.publicUrl}/sse?channel=cors.a`, {
      headers: { Origin: 'https://evil.example' },
    });
    assert.equal(denied.status, 403);
    assert.match((await denied.json()).error, /cors_origins/);

    const sameOrigin = await fetch(`${livegate.publicUrl}/sse?channel=cors.a`, {
      headers: { Origin: livegate.publicUrl },
    });
    assert.equal(sameOrigin.status, 200);
    assert.equal(sameOrigin.headers.get('access-control-allow-origin'), null);
    await sameOrigin.body.cancel();
  });
});
