// Resume ids built from Kafka positions, against a real broker (KRaft, one node, on
// loopback) and two livegate nodes. A one-partition channel gets the same ids on every
// node, and a client resumes on another node from its memory. A resume deeper than
// history reads Kafka back, except past max_read_back or on a channel with a script,
// which get the reset.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { produce, startKafka } from '../lib/kafka.mjs';
import { startLivegate } from '../lib/livegate.mjs';
import { openSse } from '../lib/sse.mjs';

const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;
const WAIT_MS = 30000 * SLOW;

async function until(check, what, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Records "K{k}:{"n":N}" for N in [from, to) and K0..K{keys-1}, round robin.
function records(prefix, keys, from, to) {
  const lines = [];
  for (let n = from; n < to; n++) {
    for (let k = 0; k < keys; k++)
      lines.push(`${prefix}${k}:{"n":${n}}`);
  }
  return lines;
}

// Checks that each key's N values run one by one from FROM.get(key), or from FIRST.
function assertOrderedPerKey(messages, first, from = new Map()) {
  const next = new Map();
  for (const message of messages) {
    const expected = next.get(message.key) ?? from.get(message.key) ?? first;
    assert.equal(message.data.n, expected, `key ${message.key} after ${JSON.stringify(message.id)}`);
    next.set(message.key, expected + 1);
  }
}

// The N each key continues from after MESSAGES.
function nextPerKey(messages) {
  const next = new Map();
  for (const message of messages)
    next.set(message.key, message.data.n + 1);
  return next;
}

async function openWs(url) {
  const ws = new WebSocket(url.replace('http', 'ws') + '/ws');
  const received = [];
  ws.on('message', (raw) => received.push(JSON.parse(raw.toString())));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return { ws, received };
}

describe('kafka resume ids', () => {
  let kafka;
  const nodes = [];

  const channelInfo = async (node, name) => (await fetch(`${node.adminUrl}/api/channels/${name}`)).json();
  const eventsIn = async (node, name) => {
    const response = await fetch(`${node.adminUrl}/api/channels/${name}`);
    return response.status === 200 ? (await response.json()).events_in : 0;
  };

  before(async () => {
    kafka = await startKafka();
    const source = (name, extra) => `  - name: ${name}
    type: kafka
    brokers: ${kafka.brokers}
    start: earliest
${extra}`;
    const config = `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
  limits:
    client_queue: 64MiB
sources:
${source('single', '    topics: [single]\n    channel: single\n')}
${source('cross', '    topics: [cross]\n    channel: cross\n')}
${source('deep', '    topics: [deep]\n    channel: deep\n    read_back_timeout: 20s\n    max_read_backs: 1\n')}
${source('shallow', '    topics: [shallow]\n    channel: shallow\n    max_read_back: 50\n')}
${source('scripted', '    topics: [scripted]\n    channel: scripted\n')}
channels:
  - match: scripted
    history: {length: 10}
    lua: pass.lua
  - match: deep
    history: {length: 100}
    overflow: disconnect
  - match: shallow
    history: {length: 10}
  - match: "*"
    history: {length: 5000}
    overflow: disconnect
sinks:
  - type: sse
  - type: websocket
`;
    const files = { 'pass.lua': 'function on_event(event) return event end\n' };
    for (let i = 0; i < 2; i++)
      nodes.push(await startLivegate({ config, files }));
  });

  after(async () => {
    const results = [];
    for (const node of nodes)
      results.push(await node.stop());
    if (kafka !== undefined)
      await kafka.remove();
    results.forEach((result, i) => assert.equal(result.code, 0, `node ${i} exited with ${result.code}:\n${nodes[i].log()}`));
  });

  it('one partition gives the same ids on every node', async () => {
    await produce(kafka.brokers, 'single', records('S', 4, 0, 10), { partition: 0 });
    for (const node of nodes)
      await until(async () => (await eventsIn(node, 'single')) === 40, 'forty records on each node');

    const ids = [];
    for (const node of nodes) {
      const sse = await openSse(`${node.publicUrl}/sse?channel=single&last_event_id=kafka:single:0:4`);
      await sse.waitFor(() => sse.messages().length === 35, WAIT_MS, 'offsets 5 to 39');
      ids.push(sse.messages().map((m) => m.sseId));
      assert.deepEqual(sse.messages().map((m) => m.id), ids.at(-1), 'the envelope id is the SSE id');
      sse.close();
    }
    assert.deepEqual(ids[0], ids[1]);
    assert.equal(ids[0][0], 'kafka:single:0:5');
    assert.equal(ids[0].at(-1), 'kafka:single:0:39');
  });

  it('a resume ahead of the node waits for it', async () => {
    const node = nodes[1];
    // Offsets 0 to 39 exist; the client claims to have 45.
    const ahead = await openSse(`${node.publicUrl}/sse?channel=single`, { headers: { 'Last-Event-ID': 'kafka:single:0:45' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(ahead.named('subscribed').length, 0, 'the subscription waits');
    await produce(kafka.brokers, 'single', records('S', 1, 10, 20), { partition: 0 });
    await ahead.waitFor(() => ahead.messages().length >= 4, WAIT_MS, 'offsets 46 to 49');
    assert.equal(ahead.named('reset').length, 0);
    assert.deepEqual(ahead.named('subscribed'), [{ channel: 'single', recovered: true }]);
    assert.deepEqual(ahead.messages().map((m) => m.id), ['kafka:single:0:46', 'kafka:single:0:47', 'kafka:single:0:48', 'kafka:single:0:49']);
    ahead.close();

    // An id the node never reaches gets the reset after server.limits.resume_wait (5 s).
    const started = Date.now();
    const never = await openSse(`${node.publicUrl}/sse?channel=single`, { headers: { 'Last-Event-ID': 'kafka:single:0:999999' }, timeoutMs: WAIT_MS });
    await never.waitFor(() => never.named('reset').length === 1, WAIT_MS, 'the reset');
    assert.deepEqual(never.named('reset'), [{ channel: 'single', reason: 'unknown id' }]);
    assert.ok(Date.now() - started >= 4500, `the reset came after ${Date.now() - started} ms`);
    never.close();
  });

  it('a client resumes on another node from its memory', async () => {
    const [a, b] = nodes;
    await produce(kafka.brokers, 'cross', records('C', 10, 0, 10));
    await until(async () => (await eventsIn(a, 'cross')) === 100, 'the first hundred records on node A');

    // A client that saw the first hundred on node A.
    const seen = await openSse(`${a.publicUrl}/sse?channel=cross`);
    await seen.waitFor(() => seen.messages().length >= 1, WAIT_MS, 'the snapshot');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lastId = seen.messages().at(-1).sseId;
    seen.close();
    assert.match(lastId, /^kafka:cross:\d+:\d+(,kafka:cross:\d+:\d+)*$/);
    const history = await (await fetch(`${a.adminUrl}/api/channels/cross/events/${encodeURIComponent(lastId)}`)).json();
    assert.equal(history.id, lastId, 'the admin API finds the event by its position id');

    await produce(kafka.brokers, 'cross', records('C', 10, 10, 110));
    for (const node of nodes)
      await until(async () => (await eventsIn(node, 'cross')) === 1100, 'all 1,100 records on both nodes');

    const resumed = await openSse(`${b.publicUrl}/sse?channel=cross`, { headers: { 'Last-Event-ID': lastId } });
    await resumed.waitFor(() => resumed.messages().length >= 1000, WAIT_MS, 'the missed records on node B');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(resumed.named('reset').length, 0);
    assert.deepEqual(resumed.named('subscribed'), [{ channel: 'cross', recovered: true }]);
    assert.equal(resumed.messages().length, 1000);
    assertOrderedPerKey(resumed.messages(), 10);
    resumed.close();

    // Any id node B sent resumes exactly on node A, over WebSocket too.
    const middle = resumed.messages()[499];
    const { ws, received } = await openWs(a.publicUrl);
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'cross', last_event_id: middle.sseId }));
    await until(() => received.filter((m) => m.channel === 'cross' && m.data !== undefined).length >= 500, 'the rest on node A');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rest = received.filter((m) => m.channel === 'cross' && m.data !== undefined);
    assert.equal(received.filter((m) => m.type === 'reset').length, 0);
    assert.equal(rest.length, 500);
    assertOrderedPerKey(rest, 10, nextPerKey(resumed.messages().slice(0, 500)));
    ws.close();

    // An id naming one partition: its client has nothing of the others, so every node
    // sends all the other records it holds, whatever order it read them in.
    for (const node of nodes) {
      const partial = await openSse(`${node.publicUrl}/sse?channel=cross`, { headers: { 'Last-Event-ID': 'kafka:cross:0:0' } });
      await partial.waitFor(() => partial.messages().length >= 1099, WAIT_MS, 'all records but offset 0 of partition 0');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(partial.named('reset').length, 0);
      assert.equal(partial.messages().length, 1099);
      partial.close();
    }

    // Two channels in one stream: the id of one does not cover the other's partitions.
    // The same positions listed in another order than node B's own ids can match no
    // event there (an id B also issued would resume by B's sequence instead).
    const logsOnB = (await channelInfo(b, 'cross')).last_id.split(',').map((entry) => entry.replace(/:\d+$/, ''));
    const entries = new Map(lastId.split(',').map((entry) => [entry.replace(/:\d+$/, ''), entry]));
    assert.equal(entries.size, 3, 'the id names all three partitions');
    const otherOrder = [logsOnB[1], logsOnB[0], logsOnB[2]].map((log) => entries.get(log)).join(',');
    const both = await openSse(`${b.publicUrl}/sse?channel=cross&channel=single`, { headers: { 'Last-Event-ID': otherOrder } });
    const crossOf = () => both.messages().filter((m) => m.channel === 'cross');
    await both.waitFor(() => both.named('subscribed').length === 2 && crossOf().length >= 1000, WAIT_MS, 'both channels');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(both.named('reset'), [{ channel: 'single', reason: 'unknown id' }]);
    assert.equal(crossOf().length, 1000);
    assertOrderedPerKey(crossOf(), 10);
    both.close();

    // A stream of several channels keeps one position for all of them, so its frames
    // carry the node's local position, which resumes every channel exactly there.
    const multi = await openSse(`${a.publicUrl}/sse?channel=cross&channel=single`);
    await multi.waitFor(() => multi.messages().length >= 2, WAIT_MS, 'both snapshots');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const local = multi.messages().at(-1);
    multi.close();
    assert.match(local.sseId, /^[0-9a-z]+-\d+$/, 'the SSE id is a local position');
    assert.match(local.id, /^kafka:cross:/, 'the envelope keeps the position id');

    await produce(kafka.brokers, 'cross', records('C', 10, 110, 120));
    await produce(kafka.brokers, 'single', records('S', 1, 20, 25), { partition: 0 });
    await until(async () => (await eventsIn(a, 'cross')) === 1200 && (await eventsIn(a, 'single')) === 55,
      'the new records on node A');
    const again = await openSse(`${a.publicUrl}/sse?channel=cross&channel=single`, { headers: { 'Last-Event-ID': local.sseId } });
    await again.waitFor(() => again.messages().length >= 105, WAIT_MS, 'the new records of both channels');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(again.named('reset').length, 0);
    assert.equal(again.messages().filter((m) => m.channel === 'cross').length, 100);
    assert.equal(again.messages().filter((m) => m.channel === 'single').length, 5);
    again.close();
  });

  it('a resume older than history reads Kafka back', async () => {
    const [a, b] = nodes;
    await produce(kafka.brokers, 'deep', records('D', 5, 0, 10));
    await until(async () => (await eventsIn(a, 'deep')) === 50, 'fifty records');
    const seen = await openSse(`${a.publicUrl}/sse?channel=deep`);
    await seen.waitFor(() => seen.messages().length >= 1, WAIT_MS, 'the snapshot');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lastId = seen.messages().at(-1).sseId;
    seen.close();

    await produce(kafka.brokers, 'deep', records('D', 5, 10, 210));
    for (const node of nodes)
      await until(async () => (await eventsIn(node, 'deep')) === 1050, 'all 1,050 records');
    assert.equal((await channelInfo(a, 'deep')).history, 100);

    for (const node of [a, b]) {
      const resumed = await openSse(`${node.publicUrl}/sse?channel=deep`, { headers: { 'Last-Event-ID': lastId } });
      await resumed.waitFor(() => resumed.messages().length >= 1000, WAIT_MS, 'the 1,000 missed records');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(resumed.named('reset').length, 0);
      assert.deepEqual(resumed.named('subscribed'), [{ channel: 'deep', recovered: true }]);
      assert.equal(resumed.messages().length, 1000);
      assertOrderedPerKey(resumed.messages(), 10);
      resumed.close();
    }
    await until(() => /read back offsets \d+ to \d+ of deep\/\d: \d+ records for channel 'deep'/.test(a.log()),
      'the read-back in the log');
    // One partition at a time (max_read_backs: 1), the others queued.
    assert.match(a.log(), /waits for one of max_read_backs \(1\) to finish/);
  });

  it('records arriving during a read-back follow it', async () => {
    const node = nodes[0];
    // Every key of "deep" is at 210 now; the client has them all.
    const lastId = (await channelInfo(node, 'deep')).last_id;
    await produce(kafka.brokers, 'deep', records('D', 5, 210, 410));
    await until(async () => (await eventsIn(node, 'deep')) === 2050, 'a thousand more records');

    // While the missed thousand are read back, two thousand more arrive and push
    // history (100 events) along, so the read-back needs further rounds.
    const resumed = await openSse(`${node.publicUrl}/sse?channel=deep`, { headers: { 'Last-Event-ID': lastId } });
    await produce(kafka.brokers, 'deep', records('D', 5, 410, 810));
    await resumed.waitFor(() => resumed.messages().length >= 3000, WAIT_MS, 'the missed and the new records');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(resumed.named('reset').length, 0);
    assert.equal(resumed.messages().length, 3000);
    assertOrderedPerKey(resumed.messages(), 210);
    resumed.close();
  });

  it('a resume past max_read_back gets the reset', async () => {
    const node = nodes[0];
    await produce(kafka.brokers, 'shallow', records('H', 1, 0, 5), { partition: 0 });
    await until(async () => (await eventsIn(node, 'shallow')) === 5, 'five records');
    const lastId = 'kafka:shallow:0:4';

    await produce(kafka.brokers, 'shallow', records('H', 1, 5, 105), { partition: 0 });
    await until(async () => (await eventsIn(node, 'shallow')) === 105, 'all 105 records');

    const resumed = await openSse(`${node.publicUrl}/sse?channel=shallow`, { headers: { 'Last-Event-ID': lastId } });
    await resumed.waitFor(() => resumed.messages().length >= 1, WAIT_MS, 'the snapshot after the reset');
    assert.deepEqual(resumed.named('reset'), [{ channel: 'shallow', reason: 'evicted' }]);
    assert.deepEqual(resumed.messages().map((m) => m.data.n), [104]);
    resumed.close();
    await until(() => /more than max_read_back \(50\)/.test(node.log()), 'the warning naming max_read_back');

    // Within reach of history, the same channel resumes without Kafka.
    const near = await openSse(`${node.publicUrl}/sse?channel=shallow`, { headers: { 'Last-Event-ID': 'kafka:shallow:0:100' } });
    await near.waitFor(() => near.messages().length >= 4, WAIT_MS, 'offsets 101 to 104');
    assert.equal(near.named('reset').length, 0);
    assert.deepEqual(near.messages().map((m) => m.data.n), [101, 102, 103, 104]);
    near.close();
  });

  it('a channel with a script gets the reset instead', async () => {
    const node = nodes[0];
    await produce(kafka.brokers, 'scripted', records('P', 1, 0, 30), { partition: 0 });
    await until(async () => (await eventsIn(node, 'scripted')) === 30, 'thirty records');

    // Within history, the script's output resumes like any other.
    const near = await openSse(`${node.publicUrl}/sse?channel=scripted`, { headers: { 'Last-Event-ID': 'kafka:scripted:0:27' } });
    await near.waitFor(() => near.messages().length >= 2, WAIT_MS, 'offsets 28 and 29');
    assert.equal(near.named('reset').length, 0);
    assert.deepEqual(near.messages().map((m) => m.data.n), [28, 29]);
    assert.equal(near.messages()[1].id, 'kafka:scripted:0:29');
    near.close();

    // Older than history: reading back would run the script twice on those records.
    const deep = await openSse(`${node.publicUrl}/sse?channel=scripted`, { headers: { 'Last-Event-ID': 'kafka:scripted:0:3' } });
    await deep.waitFor(() => deep.messages().length >= 1, WAIT_MS, 'the snapshot after the reset');
    assert.deepEqual(deep.named('reset'), [{ channel: 'scripted', reason: 'evicted' }]);
    assert.deepEqual(deep.messages().map((m) => m.data.n), [29]);
    deep.close();
  });
});
