// Integration tests of the redis source against a real redis-server on a loopback
// port: messages over SSE and WebSocket, lazy subscriptions with linger, an outage
// with health, gap notices and restored subscriptions, id-only fetches from Redis
// and HTTP, and two livegate nodes sharing one Redis.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { checkConfig } from '../lib/cli.mjs';
import { startLivegate } from '../lib/livegate.mjs';
import { RedisClient, startRedis } from '../lib/redis.mjs';
import { openSse, publish } from '../lib/sse.mjs';

const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;
const WAIT_MS = 5000 * SLOW;
const LINGER_MS = 1000;

// Waits until CHECK() (maybe async) is true, polling every 20 ms.
async function until(check, what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (await check())
      return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Returns the value of counter NAME of source SOURCE from /metrics.
async function counter(adminUrl, name, source = 'bus') {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const match = new RegExp(`^livegate_${name}\\{source="${source}"\\} (\\d+)$`, 'm').exec(text);
  assert.ok(match !== null, `counter ${name} missing from /metrics:\n${text}`);
  return Number(match[1]);
}

// Returns how often Redis ran COMMAND (lowercase), from INFO commandstats.
async function commandCalls(redis, command) {
  const info = await redis.command('INFO', 'commandstats');
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return match === null ? 0 : Number(match[1]);
}

async function subscriberCount(redis, channel) {
  const [, count] = await redis.command('PUBSUB', 'NUMSUB', channel);
  return count;
}

function sourceConfig(redisAddress, httpPort) {
  return `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
sources:
  - name: bus
    type: redis
    address: redis://${redisAddress}/0
    connect_timeout: 1s
    command_timeout: 1s
    linger: ${LINGER_MS}ms
    reconnect_delay: 50ms
    reconnect_max_delay: 500ms
    subscriptions:
      - redis_pattern: "prices.*"
        channel: "prices.{1}"
      - redis_channel: lazy
      - redis_channel: alerts
        eager: true
      - redis_pattern: "ticks.*"
        eager: true
      - redis_pattern: "orders.*"
        channel: "orders.{1}"
        fetch: {from: redis, key: "order:{1}:{id}", attempts: 2, retry_delay: 50ms}
      - redis_pattern: "api.*"
        channel: "api.{1}"
        fetch:
          from: http
          url: "http://app:s3cret-pw@127.0.0.1:${httpPort}/items/{id}?token=s3cret-token"
          attempts: 2
          retry_delay: 50ms
          timeout: 1s
channels:
  - match: "*"
    history: {length: 100}
    publish: true
sinks:
  - type: sse
  - type: websocket
`;
}

// An HTTP API on loopback: /items/good returns an item, any other path fails with 500.
// The query string is ignored.
async function startItemApi() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const pathname = req.url.split('?')[0];
    requests.push(pathname);
    if (pathname === '/items/good') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"item":"good","n":7}');
      return;
    }
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end('broken');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, requests, port: server.address().port };
}

async function openWebSocket(publicUrl) {
  const ws = new WebSocket(`${publicUrl.replace(/^http/, 'ws')}/ws`, 'livegate.v1');
  const messages = [];
  ws.on('message', (text) => messages.push(JSON.parse(text)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, messages };
}

describe('redis source', () => {
  let redis;
  let client;
  let api;
  let livegate;

  before(async () => {
    redis = await startRedis();
    client = await RedisClient.connect(redis.port);
    api = await startItemApi();
    livegate = await startLivegate({ config: sourceConfig(redis.address, api.port) });
  });

  after(async () => {
    const { code } = await livegate.stop();
    client?.close();
    await redis?.stop();
    api?.server.close();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('publish reaches SSE and WebSocket', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=prices.AAPL`);
    const { ws, messages } = await openWebSocket(livegate.publicUrl);
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'prices.AAPL' }));
    await until(() => messages.some((m) => m.type === 'subscribed'), 'the WebSocket subscription');
    await until(async () => await subscriberCount(client, 'prices.AAPL') === 1, 'SUBSCRIBE prices.AAPL');

    assert.equal(await client.command('PUBLISH', 'prices.AAPL', '{"price":189.5}'), 1);
    await stream.waitFor(() => stream.messages().length === 1, WAIT_MS, 'the SSE event');
    await until(() => messages.some((m) => m.type === 'event'), 'the WebSocket event');
    stream.close();
    ws.terminate();

    assert.deepEqual(stream.messages()[0].data, { price: 189.5 });
    assert.equal(stream.messages()[0].channel, 'prices.AAPL');
    const event = messages.find((m) => m.type === 'event');
    assert.deepEqual(event.data, { price: 189.5 });
    assert.equal(event.channel, 'prices.AAPL');
  });

  it('subscribes lazily and releases after linger', async () => {
    assert.equal(await subscriberCount(client, 'lazy'), 0);
    assert.ok(!(await client.command('PUBSUB', 'CHANNELS')).includes('lazy'));

    const first = await openSse(`${livegate.publicUrl}/sse?channel=lazy`);
    await until(async () => await subscriberCount(client, 'lazy') === 1, 'SUBSCRIBE lazy');
    // A second local subscriber shares the one Redis subscription.
    const second = await openSse(`${livegate.publicUrl}/sse?channel=lazy`);
    await second.waitFor(() => second.named('subscribed').length === 1, WAIT_MS, 'subscribed');
    assert.equal(await subscriberCount(client, 'lazy'), 1);
    const channels = await client.command('PUBSUB', 'CHANNELS', 'lazy*');
    assert.deepEqual(channels, ['lazy']);

    first.close();
    second.close();
    await until(async () => await subscriberCount(client, 'lazy') === 0, 'UNSUBSCRIBE lazy after the linger');
  });

  it('eager rules fill history without subscribers', async () => {
    await until(async () => await subscriberCount(client, 'alerts') === 1, 'SUBSCRIBE alerts at start');
    await until(async () => await client.command('PUBSUB', 'NUMPAT') === 1, 'PSUBSCRIBE ticks.* at start');

    assert.equal(await client.command('PUBLISH', 'alerts', '{"level":"high"}'), 1);
    assert.equal(await client.command('PUBLISH', 'ticks.A', '{"t":1}'), 1);
    for (const name of ['alerts', 'ticks.A']) {
      await until(async () => {
        const response = await fetch(`${livegate.adminUrl}/api/channels/${name}`);
        return response.status === 200 && (await response.json()).events_in === 1;
      }, `an event in the history of ${name}`);
    }
  });

  it('keeps subscription over a quick reload', async () => {
    const first = await openSse(`${livegate.publicUrl}/sse?channel=prices.RELOAD`);
    await until(async () => await subscriberCount(client, 'prices.RELOAD') === 1, 'SUBSCRIBE prices.RELOAD');
    const subscribes = await commandCalls(client, 'subscribe');
    const unsubscribes = await commandCalls(client, 'unsubscribe');

    first.close();
    const second = await openSse(`${livegate.publicUrl}/sse?channel=prices.RELOAD`);
    await second.waitFor(() => second.named('subscribed').length === 1, WAIT_MS, 'subscribed');
    // Nothing to poll for: wait out the linger, then check that no UNSUBSCRIBE came.
    await new Promise((resolve) => setTimeout(resolve, LINGER_MS * 1.5));
    assert.equal(await subscriberCount(client, 'prices.RELOAD'), 1);
    assert.equal(await commandCalls(client, 'unsubscribe'), unsubscribes);
    assert.equal(await commandCalls(client, 'subscribe'), subscribes);

    second.close();
    await until(async () => await subscriberCount(client, 'prices.RELOAD') === 0, 'UNSUBSCRIBE prices.RELOAD');
    assert.equal(await commandCalls(client, 'unsubscribe'), unsubscribes + 1);
  });

  it('fetches the payload of an id-only notification from Redis', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=orders.X`);
    await until(async () => await subscriberCount(client, 'orders.X') === 1, 'SUBSCRIBE orders.X');
    const failuresBefore = await counter(livegate.adminUrl, 'redis_fetch_failures_total');

    await client.command('PUBLISH', 'orders.X', '{"id":"missing"}');
    await until(async () => await counter(livegate.adminUrl, 'redis_fetch_failures_total') === failuresBefore + 1,
      'the failed fetch to be counted');
    await client.command('SET', 'order:X:42', '{"symbol":"X","size":100}');
    await client.command('PUBLISH', 'orders.X', '{"id":"42","type":"order"}');
    await stream.waitFor(() => stream.messages().length >= 1, WAIT_MS, 'the fetched order');
    stream.close();

    assert.equal(stream.messages().length, 1);
    assert.deepEqual(stream.messages()[0].data, { symbol: 'X', size: 100 });
    assert.equal(stream.messages()[0].sseEvent, 'order');
    assert.match(livegate.log(), /fetching id missing for channel 'orders\.X' failed after 2 attempts: key 'order:X:missing' not found/);
  });

  it('repeated id fetches each update', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=orders.Y`);
    await until(async () => await subscriberCount(client, 'orders.Y') === 1, 'SUBSCRIBE orders.Y');

    // Order 7 changes twice: each notification names the same key, and each
    // must publish what the key holds at that time.
    await client.command('SET', 'order:Y:7', '{"size":1}');
    await client.command('PUBLISH', 'orders.Y', '{"id":"7"}');
    await stream.waitFor(() => stream.messages().length >= 1, WAIT_MS, 'the first version');
    await client.command('SET', 'order:Y:7', '{"size":2}');
    await client.command('PUBLISH', 'orders.Y', '{"id":"7"}');
    await stream.waitFor(() => stream.messages().length >= 2, WAIT_MS, 'the second version');
    stream.close();

    assert.deepEqual(stream.messages().map((m) => m.data), [{ size: 1 }, { size: 2 }]);
    const channel = await (await fetch(`${livegate.adminUrl}/api/channels/orders.Y`)).json();
    assert.equal(channel.duplicates, 0);
  });

  it('fetches over HTTP and counts a failing API', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=api.items`);
    await until(async () => await subscriberCount(client, 'api.items') === 1, 'SUBSCRIBE api.items');
    const failuresBefore = await counter(livegate.adminUrl, 'redis_fetch_failures_total');

    await client.command('PUBLISH', 'api.items', '{"id":"bad"}');
    await until(async () => await counter(livegate.adminUrl, 'redis_fetch_failures_total') === failuresBefore + 1,
      'the failed HTTP fetch to be counted');
    assert.equal(api.requests.filter((url) => url === '/items/bad').length, 2);
    await client.command('PUBLISH', 'api.items', '{"id":"good"}');
    await stream.waitFor(() => stream.messages().length >= 1, WAIT_MS, 'the fetched item');
    stream.close();

    assert.equal(stream.messages().length, 1);
    assert.deepEqual(stream.messages()[0].data, { item: 'good', n: 7 });
    const stats = await (await fetch(`${livegate.adminUrl}/api/stats`)).json();
    assert.equal(stats.sources[0].counters.redis_fetch_failures_total, failuresBefore + 1);
    assert.match(livegate.log(), /fetching id bad for channel 'api\.items' failed after 2 attempts: GET http:\/\/127\.0\.0\.1:\d+\/items\/bad returned HTTP 500/);
    assert.doesNotMatch(livegate.log(), /s3cret/);
  });

  it('survives a Redis restart', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=prices.MSFT`);
    await until(async () => await subscriberCount(client, 'prices.MSFT') === 1, 'SUBSCRIBE prices.MSFT');
    client.close();
    client = null;

    await redis.stop();
    await until(async () => (await fetch(`${livegate.adminUrl}/health`)).status === 503, 'health to degrade');
    const degraded = await (await fetch(`${livegate.adminUrl}/health`)).json();
    assert.equal(degraded.status, 'degraded');
    assert.deepEqual(degraded.failing, ['bus']);
    assert.match(degraded.sources[0].reason, /not connected to Redis at 127\.0\.0\.1:\d+ db 0/);

    redis = await startRedis({ port: redis.port });
    client = await RedisClient.connect(redis.port);
    await until(async () => (await fetch(`${livegate.adminUrl}/health`)).status === 200, 'health to recover');
    await until(async () => await subscriberCount(client, 'prices.MSFT') === 1, 'SUBSCRIBE prices.MSFT again');
    await stream.waitFor(() => stream.named('gap').length === 1, WAIT_MS, 'the gap notice');

    await client.command('PUBLISH', 'prices.MSFT', '{"price":420}');
    await stream.waitFor(() => stream.messages().length === 1, WAIT_MS, 'an event after the restart');
    stream.close();
    assert.equal(stream.named('gap')[0].channel, 'prices.MSFT');
    assert.deepEqual(stream.messages()[0].data, { price: 420 });
    assert.ok(await counter(livegate.adminUrl, 'redis_reconnects_total') >= 1);
  });
});

describe('redis between two nodes', () => {
  let redis;
  let client;
  let nodeA;
  let nodeB;

  function nodeConfig(source) {
    return `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
sources:
  - name: bus
    type: redis
    address: ${redis.address}
${source}
channels:
  - match: "*"
    history: {length: 100}
    publish: true
sinks:
  - type: sse
`;
  }

  before(async () => {
    redis = await startRedis();
    client = await RedisClient.connect(redis.port);
    nodeA = await startLivegate({
      config: nodeConfig(`    notify:
      - match: "news.*"
        redis_channel: "livegate.{channel}"`),
    });
    nodeB = await startLivegate({
      config: nodeConfig(`    subscriptions:
      - redis_pattern: "livegate.news.*"
        channel: "news.{1}"
        fetch:
          from: http
          url: "${nodeA.adminUrl}/api/channels/{channel}/events/{id}"
          extract: data`),
    });
  });

  after(async () => {
    const results = [await nodeA?.stop(), await nodeB?.stop()];
    client?.close();
    await redis?.stop();
    for (const [i, result] of results.entries())
      assert.equal(result?.code, 0, `node ${'AB'[i]} exited with ${result?.code}`);
  });

  it('event published on A reaches SSE on B', async () => {
    const stream = await openSse(`${nodeB.publicUrl}/sse?channel=news.world`);
    await until(async () => (await client.command('PUBSUB', 'NUMSUB', 'livegate.news.world'))[1] === 1,
      'node B to SUBSCRIBE livegate.news.world');

    await publish(nodeA.adminUrl, 'news.world', { headline: 'hello', n: 1 }, { type: 'story', key: 'world-1' });
    await stream.waitFor(() => stream.messages().length === 1, WAIT_MS, 'the event on node B');
    stream.close();

    const [event] = stream.messages();
    assert.deepEqual(event.data, { headline: 'hello', n: 1 });
    assert.equal(event.channel, 'news.world');
    assert.equal(event.sseEvent, 'story');
    assert.equal(event.key, 'world-1');
    assert.equal(await counter(nodeA.adminUrl, 'redis_notifications_total'), 1);
    assert.equal(await counter(nodeB.adminUrl, 'redis_fetches_total'), 1);
  });
});

describe('redis config checks', () => {
  const head = 'sources:\n  - name: bus\n    type: redis\n';

  it('invalid address hides password', async () => {
    const result = await checkConfig(`${head}    address: "redis://:hunter2@127.0.0.1:0"\n    subscriptions: [{redis_channel: a}]\n`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid address "redis:\/\/:\*\*\*@127\.0\.0\.1:0": invalid port "0": use a number from 1 to 65535/);
    assert.doesNotMatch(result.output, /hunter2/);
  });

  it('rule with channel and pattern', async () => {
    const result = await checkConfig(`${head}    subscriptions: [{redis_channel: a, redis_pattern: "b.*"}]\n`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /subscriptions entry 1: set exactly one of redis_channel .* and redis_pattern/);
  });

  it('template names a missing wildcard', async () => {
    const result = await checkConfig(`${head}    subscriptions: [{redis_pattern: "b.*", channel: "b.{2}"}]\n`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /placeholder \{2\} in template "b\.\{2\}" refers to a wildcard the pattern lacks/);
  });

  it('fetch without key', async () => {
    const result = await checkConfig(`${head}    subscriptions: [{redis_channel: a, fetch: {from: redis}}]\n`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /fetch\.key is missing: set it to a key template/);
  });

  it('example config is valid', async () => {
    const { readFile } = await import('node:fs/promises');
    const example = await readFile(new URL('../../conf/examples/redis.yaml', import.meta.url), 'utf8');
    const result = await checkConfig(example);
    assert.equal(result.code, 0, result.output);
  });
});
