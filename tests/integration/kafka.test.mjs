// The kafka source against a real Apache Kafka broker (KRaft, one node, on loopback):
// delivery over SSE and WebSocket in partition order, 100,000 records exactly once,
// routing, warm start, resume, and a broker outage longer than the session timeout.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { checkConfig } from '../lib/cli.mjs';
import { produce, startKafka } from '../lib/kafka.mjs';
import { RedisClient, startRedis } from '../lib/redis.mjs';
import { startLivegate } from '../lib/livegate.mjs';
import { openSse } from '../lib/sse.mjs';

const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;
const WAIT_MS = 20000 * SLOW;

async function until(check, what, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function metric(text, name, labels) {
  const line = text.split('\n').find((l) => l.startsWith(`livegate_${name}{${labels}}`));
  return line === undefined ? null : Number(line.split(' ').pop());
}

// Checks that the values of N for each key only grow, one by one from FIRST.
function assertOrderedPerKey(messages, first = 0) {
  const next = new Map();
  for (const message of messages) {
    const expected = next.get(message.key) ?? first;
    assert.equal(message.data.n, expected, `key ${message.key}: ${JSON.stringify(messages.slice(0, 5))}`);
    next.set(message.key, expected + 1);
  }
}

describe('kafka source', () => {
  let kafka;
  let livegate;

  const health = async () => {
    const response = await fetch(`${livegate.adminUrl}/health`);
    return { status: response.status, body: await response.json() };
  };
  const channelInfo = async (name) => (await fetch(`${livegate.adminUrl}/api/channels/${name}`)).json();

  before(async () => {
    kafka = await startKafka();

    // Twenty records in partition 0 of "warm" before livegate starts.
    const warm = [];
    for (let n = 0; n < 20; n++)
      warm.push(`w:{"n":${n}}`);
    await produce(kafka.brokers, 'warm', warm, { partition: 0 });

    // Ten records of "timed" before startTime and ten after it.
    const early = [];
    const late = [];
    for (let n = 0; n < 10; n++) {
      early.push(`t:{"n":${n}}`);
      late.push(`t:{"n":${n + 10}}`);
    }
    await produce(kafka.brokers, 'timed', early, { partition: 0 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const startTime = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await produce(kafka.brokers, 'timed', late, { partition: 0 });

    const source = (name, extra) => `  - name: ${name}
    type: kafka
    brokers: ${kafka.brokers}
    stats_interval: 500ms
${extra}`;
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
  limits:
    client_queue: 64MiB
sources:
${source('orders', '    topics: [orders]\n    channel: orders\n    start: earliest\n')}
${source('bulk', '    topics: [bulk]\n    channel: bulk\n    start: earliest\n')}
${source('routed', '    topics: [routed]\n    channel: "routed.{key}"\n    channel_field: channel\n    type_header: type\n    start: earliest\n')}
${source('warm', '    topics: [warm]\n    channel: warm\n    start: last\n    start_last: 5\n')}
${source('timed', `    topics: [timed]\n    channel: timed\n    start: time\n    start_time: "${new Date(startTime).toISOString()}"\n`)}
${source('outage', '    topics: [outage]\n    channel: outage\n    start: earliest\n    properties:\n      session.timeout.ms: "6000"\n      reconnect.backoff.max.ms: "1000"\n')}
channels:
  - match: "*"
    history: {length: 2000}
    overflow: disconnect
sinks:
  - type: sse
  - type: websocket
`,
    });
  });

  after(async () => {
    const result = livegate !== undefined ? await livegate.stop() : { code: 0 };
    if (kafka !== undefined)
      await kafka.remove();
    assert.equal(result.code, 0, `livegate exited with ${result.code}; output:\n${livegate?.log()}`);
  });

  // First in this suite, while the start-up lines are among the log lines kept.
  it('start-up log names the topic', async () => {
    const line = /\[source:kafka:orders\] reading topic orders from 127\.0\.0\.1:\d+, starting at earliest/;
    // The lines after the listeners' may still be in the pipe.
    const deadline = Date.now() + 5000 * SLOW;
    while (!line.test(livegate.log()) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(livegate.log(), line);
  });

  it('records reach SSE and WebSocket in partition order', async () => {
    const sse = await openSse(`${livegate.publicUrl}/sse?channel=orders`);
    await sse.waitFor(() => sse.named('subscribed').length === 1, WAIT_MS, 'subscribed');
    const ws = new WebSocket(`${livegate.publicUrl.replace('http', 'ws')}/ws`);
    const wsEvents = [];
    let wsSubscribed = false;
    ws.on('message', (raw) => {
      const message = JSON.parse(raw.toString());
      if (message.type === 'subscribed')
        wsSubscribed = true;
      else if (message.channel === 'orders' && message.data !== undefined)
        wsEvents.push(message);
    });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'orders' }));
    await until(() => wsSubscribed, 'the WebSocket subscription');

    // Ten keys spread over the partitions, thirty records each.
    const lines = [];
    for (let n = 0; n < 30; n++) {
      for (let k = 0; k < 10; k++)
        lines.push(`K${k}:{"n":${n}}`);
    }
    await produce(kafka.brokers, 'orders', lines);

    await sse.waitFor(() => sse.messages().length >= 300, WAIT_MS, '300 records over SSE');
    await until(() => wsEvents.length >= 300, '300 records over WebSocket');
    assert.equal(sse.messages().length, 300);
    assert.equal(wsEvents.length, 300);
    assertOrderedPerKey(sse.messages());
    assertOrderedPerKey(wsEvents);
    sse.close();
    ws.close();
  });

  it('100,000 records arrive exactly once', async () => {
    const total = 100000;
    const sse = await openSse(`${livegate.publicUrl}/sse?channel=bulk`, { timeoutMs: WAIT_MS });
    await sse.waitFor(() => sse.named('subscribed').length === 1, WAIT_MS, 'subscribed');

    const lines = [];
    for (let n = 0; n < total; n++)
      lines.push(`b${n % 7}:{"n":${n}}`);
    await produce(kafka.brokers, 'bulk', lines);

    await sse.waitFor(() => sse.events.length >= total + 1, 120000 * SLOW, `${total} records`);
    const seen = new Uint8Array(total);
    let duplicates = 0;
    for (const message of sse.messages()) {
      if (seen[message.data.n] === 1)
        duplicates++;
      seen[message.data.n] = 1;
    }
    assert.equal(duplicates, 0);
    assert.equal(seen.reduce((sum, v) => sum + v, 0), total);
    assert.equal(sse.messages().length, total);
    sse.close();
  });

  it('a field or the key template picks the channel, a header the type', async () => {
    const sse = await openSse(`${livegate.publicUrl}/sse?channel=routed.X&channel=special`);
    await sse.waitFor(() => sse.named('subscribed').length === 2, WAIT_MS, 'subscribed');
    await produce(kafka.brokers, 'routed', ['X:{"n":1}', 'X:{"n":2,"channel":"special"}'],
      { headers: ['type=trade'] });

    await sse.waitFor(() => sse.messages().length === 2, WAIT_MS, 'two routed records');
    const byChannel = Object.fromEntries(sse.messages().map((m) => [m.channel, m]));
    assert.deepEqual(byChannel['routed.X'].data, { n: 1 });
    assert.deepEqual(byChannel.special.data, { n: 2, channel: 'special' });
    assert.equal(byChannel.special.sseEvent, 'trade');
    assert.equal(byChannel['routed.X'].key, 'X');
    sse.close();
  });

  it('start last reads back the last records of each partition', async () => {
    await until(async () => (await channelInfo('warm')).history === 5, 'five warm records');
    const info = await channelInfo('warm');
    assert.equal(info.events_in, 5);

    const sse = await openSse(`${livegate.publicUrl}/sse?channel=warm`);
    await sse.waitFor(() => sse.messages().length === 1, WAIT_MS, 'the snapshot');
    assert.deepEqual(sse.messages()[0].data, { n: 19 });
    sse.close();
  });

  it('start time reads from the first record at or after it', async () => {
    await until(async () => (await channelInfo('timed')).history === 10, 'ten timed records');
    const sse = await openSse(`${livegate.publicUrl}/sse?channel=timed`);
    await sse.waitFor(() => sse.messages().length === 1, WAIT_MS, 'the snapshot');
    assert.deepEqual(sse.messages()[0].data, { n: 19 });
    assert.equal((await channelInfo('timed')).events_in, 10);
    sse.close();
  });

  it('resume after 1,000 records delivers exactly those', async () => {
    const first = await openSse(`${livegate.publicUrl}/sse?channel=orders`);
    await first.waitFor(() => first.messages().length >= 1, WAIT_MS, 'the snapshot');
    const lastId = first.events.filter((e) => e.id !== undefined && e.id !== '').pop().id;
    first.close();

    const lines = [];
    for (let n = 0; n < 100; n++) {
      for (let k = 0; k < 10; k++)
        lines.push(`R${k}:{"n":${n}}`);
    }
    await produce(kafka.brokers, 'orders', lines);
    await until(async () => (await channelInfo('orders')).events_in >= 1300, 'the 1,000 records in the channel');

    const resumed = await openSse(`${livegate.publicUrl}/sse?channel=orders`, { headers: { 'Last-Event-ID': lastId } });
    await resumed.waitFor(() => resumed.messages().length >= 1000, WAIT_MS, 'the missed records');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(resumed.named('reset').length, 0);
    assert.equal(resumed.messages().length, 1000);
    assertOrderedPerKey(resumed.messages());
    assert.ok(resumed.messages().every((m) => m.key.startsWith('R')));
    resumed.close();
  });

  it('a broker outage longer than the session timeout loses nothing', async () => {
    const sse = await openSse(`${livegate.publicUrl}/sse?channel=outage`, { timeoutMs: WAIT_MS });
    await sse.waitFor(() => sse.named('subscribed').length === 1, WAIT_MS, 'subscribed');
    const before = [];
    for (let n = 0; n < 50; n++)
      before.push(`O${n % 5}:{"n":${Math.floor(n / 5)}}`);
    await produce(kafka.brokers, 'outage', before);
    await sse.waitFor(() => sse.messages().length === 50, WAIT_MS, 'the first 50');

    await kafka.stop();
    await until(async () => (await health()).status === 503, 'degraded health');
    const { body } = await health();
    assert.ok(body.failing.includes('outage'), JSON.stringify(body));
    assert.match(body.sources.find((s) => s.name === 'outage').reason, /broker/i);

    // Longer than session.timeout.ms (6 s).
    await new Promise((resolve) => setTimeout(resolve, 8000));
    await kafka.start();

    const after = [];
    for (let n = 50; n < 100; n++)
      after.push(`O${n % 5}:{"n":${Math.floor(n / 5)}}`);
    await produce(kafka.brokers, 'outage', after);
    await sse.waitFor(() => sse.messages().length >= 100, WAIT_MS, 'the next 50');
    const outageStatus = async () => (await health()).body.sources.find((s) => s.name === 'outage').status;
    await until(async () => await outageStatus() === 'ok', 'the source healthy again').catch(async (error) => {
      throw new Error(`${error.message}: ${JSON.stringify((await health()).body)}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(sse.messages().length, 100);
    assertOrderedPerKey(sse.messages());

    const lag = metric(await (await fetch(`${livegate.adminUrl}/metrics`)).text(), 'kafka_consumer_lag',
      'source="outage",topic="outage",partition="0"');
    assert.equal(lag, 0);
    sse.close();
  });
});

describe('publishing through kafka with redis notifications', () => {
  let kafka;
  let redis;
  let client;
  let nodeA;
  let nodeB;

  // Returns counter NAME of SOURCE on the node with admin URL ADMIN, 0 when not counted yet.
  const counter = async (admin, name, source) =>
    metric(await (await fetch(`${admin}/metrics`)).text(), name, `source="${source}"`) ?? 0;
  const channelInfo = async (admin, name) => (await fetch(`${admin}/api/channels/${name}`)).json();
  const post = (data) => fetch(`${nodeA.adminUrl}/api/channels/dual.x/events?key=k1&type=order`,
    { method: 'POST', body: JSON.stringify(data) });

  const nodeConfig = (redisSource) => `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
sources:
  - name: events
    type: kafka
    brokers: ${kafka.brokers}
    topics: [dual]
    channel: dual.unrouted
    type_header: type
    start: earliest
    produce_timeout: ${4000 * SLOW}ms
    stats_interval: 500ms
    properties:
      reconnect.backoff.max.ms: "1000"
  - name: bus
    type: redis
    address: ${redis.address}
${redisSource}
channels:
  - match: "dual.*"
    publish: true
    publish_via: events
    history: {length: 100}
sinks:
  - type: sse
`;

  before(async () => {
    kafka = await startKafka();
    redis = await startRedis();
    client = await RedisClient.connect(redis.port);
    nodeA = await startLivegate({
      config: nodeConfig(`    notify:
      - match: "dual.*"
        redis_channel: "livegate.{channel}"`),
    });
    nodeB = await startLivegate({
      config: nodeConfig(`    subscriptions:
      - redis_pattern: "livegate.dual.*"
        channel: "dual.{1}"
        fetch:
          from: http
          url: "${nodeA.adminUrl}/api/channels/{channel}/events/{id}"
          extract: data
          attempts: 50
          retry_delay: 100ms`),
    });
  });

  after(async () => {
    const results = [await nodeA?.stop(), await nodeB?.stop()];
    client?.close();
    await redis?.stop();
    await kafka?.remove();
    for (const [i, result] of results.entries())
      assert.equal(result?.code, 0, `node ${'AB'[i]} exited with ${result?.code}`);
  });

  it('201 comes after the broker acknowledges; node B delivers once', async () => {
    const onA = await openSse(`${nodeA.publicUrl}/sse?channel=dual.x`);
    const onB = await openSse(`${nodeB.publicUrl}/sse?channel=dual.x`);
    await onB.waitFor(() => onB.named('subscribed').length === 1, WAIT_MS, 'subscribed on B');
    await until(async () => (await client.command('PUBSUB', 'NUMSUB', 'livegate.dual.x'))[1] === 1,
      'node B to SUBSCRIBE livegate.dual.x');

    const response = await post({ qty: 1 });
    assert.equal(response.status, 201);
    const body = await response.json();
    assert.match(body.origin, /^kafka:dual:\d+:\d+$/);
    assert.equal(body.via, 'events');

    await onA.waitFor(() => onA.messages().length === 1, WAIT_MS, 'the event on A');
    await onB.waitFor(() => onB.messages().length === 1, WAIT_MS, 'the event on B');
    await until(async () => (await channelInfo(nodeB.adminUrl, 'dual.x')).duplicates === 1,
      'the second copy on B to be dropped');
    assert.equal(onB.messages().length, 1);
    assert.deepEqual(onB.messages()[0].data, { qty: 1 });
    assert.equal(onB.messages()[0].sseEvent, 'order');
    assert.equal(onB.messages()[0].key, 'k1');
    assert.deepEqual(onA.messages()[0].data, { qty: 1 });
    await until(async () => await counter(nodeA.adminUrl, 'redis_notifications_total', 'bus') === 1,
      'one notification');
    onA.close();
    onB.close();
  });

  it('503 while the broker is down, and nothing goes to Redis', async () => {
    const notified = await counter(nodeA.adminUrl, 'redis_notifications_total', 'bus');
    await kafka.stop();

    const refused = await post({ qty: 2 });
    assert.equal(refused.status, 503);
    assert.match((await refused.json()).error, /source 'events' could not write the event upstream: .*it is not confirmed and no other source was notified/);
    assert.equal(await counter(nodeA.adminUrl, 'redis_notifications_total', 'bus'), notified);

    await kafka.start();
    let accepted;
    await until(async () => {
      accepted = await post({ qty: 3 });
      return accepted.status === 201;
    }, 'a 201 once the broker is back');
    await until(async () => await counter(nodeA.adminUrl, 'redis_notifications_total', 'bus') === notified + 1,
      'one notification for the accepted event');

    const onB = await openSse(`${nodeB.publicUrl}/sse?channel=dual.x`);
    await onB.waitFor(() => onB.messages().some((m) => m.data.qty === 3), WAIT_MS, 'the event on B');
    assert.ok(onB.messages().every((m) => m.data.qty !== 2));
    onB.close();
  });
});

describe('kafka configuration', () => {
  const source = (extra) => `sources:\n  - name: k\n    type: kafka\n    brokers: 127.0.0.1:9\n${extra}`;
  const cases = [
    ['empty topics', '    topics: []\n    channel: a\n', /topics is empty/],
    ['bad topic name', '    topics: ["a b"]\n    channel: a\n', /invalid topic "a b": use letters, digits/],
    ['no channel', '    topics: [t]\n', /neither channel nor channel_field is set/],
    ['unknown placeholder', '    topics: [t]\n    channel: "a.{offset}"\n', /unknown placeholder \{offset\}/],
    ['{key} without keys', '    topics: [t]\n    channel: "a.{key}"\n    use_key: false\n', /uses \{key\}, but use_key is false/],
    ['last without count', '    topics: [t]\n    channel: a\n    start: last\n', /start_last is not set/],
    ['time without start_time', '    topics: [t]\n    channel: a\n    start: time\n', /start_time is not set/],
    ['bad start_time', '    topics: [t]\n    channel: a\n    start: time\n    start_time: yesterday\n', /invalid start_time "yesterday": write an RFC 3339 time/],
    ['unknown property', '    topics: [t]\n    channel: a\n    properties:\n      no.such.property: "1"\n',
      /:8:7: librdkafka property 'no.such.property': No such configuration property/],
    ['brokers in properties', '    topics: [t]\n    channel: a\n    properties:\n      bootstrap.servers: x:1\n',
      /set the brokers with the brokers option/],
    ['properties not a mapping', '    topics: [t]\n    channel: a\n    properties: [1]\n', /properties must be a mapping/],
  ];
  for (const [name, extra, message] of cases) {
    it(`${name} is refused`, async () => {
      const result = await checkConfig(source(extra));
      assert.notEqual(result.code, 0, result.output);
      assert.match(result.stderr, message);
    });
  }

  const viaCases = [
    ['publish_via to an unknown source', 'nope', 'true', /publish_via names 'nope', but no source has that name/],
    ['publish_via to a source that cannot produce', 'host', 'true', /source 'host' of type sysmetrics, which cannot write events upstream/],
    ['publish_via without publish', 'k', 'false', /publish_via is set, but publish is false/],
  ];
  for (const [name, via, publish, message] of viaCases) {
    it(`${name} is refused`, async () => {
      const result = await checkConfig(`${source('    topics: [t]\n    channel: a\n')}  - name: host\n    type: sysmetrics\nchannels:\n  - match: "a.*"\n    publish: ${publish}\n    publish_via: ${via}\n`);
      assert.notEqual(result.code, 0, result.output);
      assert.match(result.stderr, message);
    });
  }

  it('a rejected secret property is not shown', async () => {
    const result = await checkConfig(source('    topics: [t]\n    channel: a\n    properties:\n      sasl.oauthbearer.client.secret: "s3cr3t-value"\n'));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /property 'sasl.oauthbearer.client.secret': /);
    assert.doesNotMatch(result.stderr, /s3cr3t-value/);
  });

  it('empty brokers are refused', async () => {
    const result = await checkConfig('sources:\n  - name: k\n    type: kafka\n    brokers: " "\n    topics: [t]\n    channel: a\n');
    assert.notEqual(result.code, 0, result.output);
    assert.match(result.stderr, /livegate\.yaml:2:5: source 'k' \(kafka\): brokers is empty: set it to/);
  });

  it('secret property keeps librdkafka reason', async () => {
    const result = await checkConfig(source('    topics: [t]\n    channel: a\n    properties:\n      sasl.jaas.config: "s3cr3t-value"\n'));
    assert.notEqual(result.code, 0, result.output);
    assert.match(result.stderr, /:8:7: librdkafka property 'sasl.jaas.config': Java JAAS configuration is not supported/);
    assert.doesNotMatch(result.stderr, /s3cr3t-value/);
  });

  it('a valid source passes -t', async () => {
    const result = await checkConfig(source('    topics: [t, u]\n    channel: "a.{topic}.{key}"\n    start: last\n    start_last: 100\n    properties:\n      fetch.max.bytes: "1048576"\n'));
    assert.equal(result.code, 0, result.output);
  });
});
