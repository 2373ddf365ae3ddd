// Integration tests of the script library in lua/: its own tests (lua/tests.yaml
// under `livegate test`), the rejection of the configurations in lua/tests/bad-*.yaml,
// the example gateway conf/examples/lua.yaml, and candles, throttle and prometheus in
// a real gateway on the real clock, and two script behaviours the library relies on.

import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { livegatePaths, makeTempDir, runLivegate, scaled } from '../lib/cli.mjs';
import { startLivegate } from '../lib/livegate.mjs';
import { openSse } from '../lib/sse.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LUA_DIR = path.join(REPO_ROOT, 'lua');
const BAD_CONFIG_DIR = path.join(LUA_DIR, 'tests');
const EXAMPLE = path.join(REPO_ROOT, 'conf', 'examples', 'lua.yaml');

const RESULT_LINE = /^(ok|not ok) (\d+) - (.*)$/;

// Each configuration in lua/tests/ and the reason livegate -t must give for it.
const BAD_CONFIGS = {
  'bad-config-list.yaml': 'invalid lua_config: expected a mapping of options (fields, rename, require), got a list',
  'bad-select-fields.yaml': 'invalid lua_config.fields: expected a non-empty list of field names, got "name"',
  'bad-select-rename.yaml': 'invalid lua_config.rename: "a" and "b" both become "x"',
  'bad-select-unknown.yaml': 'unknown lua_config.field: the options of this script are fields, rename, require',
  'bad-throttle-interval.yaml': 'invalid lua_config.interval: expected milliseconds or a duration',
  'bad-throttle-short.yaml': 'invalid lua_config.interval: expected at least 10 ms, got "5ms"',
  'bad-throttle-every.yaml': 'invalid lua_config.every: expected a whole number of at least 1, got 0',
  'bad-throttle-nothing.yaml': 'invalid lua_config: set every (keep one event in N) or interval',
  'bad-throttle-pass.yaml': 'invalid lua_config.pass: it only applies together with lua_config.output',
  'bad-threshold-field.yaml': 'missing lua_config.field: set it to the name of the numeric field to watch',
  'bad-threshold-high.yaml': 'invalid lua_config.high: expected a number, got "90"',
  'bad-threshold-low.yaml': 'invalid lua_config.low: expected a number below lua_config.high (70), got 90',
  'bad-threshold-output.yaml': 'invalid lua_config.output: unknown placeholder {host} in "alerts.{host}"',
  'bad-moving-average-window.yaml': 'invalid lua_config.window: expected a whole number of samples from 1 to 10000, got 0',
  'bad-moving-average-names.yaml': 'invalid lua_config: average_field and rate_field are both false',
  'bad-candles-interval.yaml': 'invalid lua_config.interval: expected a whole number of milliseconds, got "1.5ms"',
  'bad-candles-pass.yaml': 'invalid lua_config.pass: expected true or false, got "no"',
  'bad-candles-output.yaml': 'invalid lua_config.output: expected letters, digits and . _ : - @ / around the placeholders',
  'bad-prometheus-include.yaml': 'invalid lua_config.include: expected a non-empty list of metric name prefixes, got "node_"',
};

// Runs `livegate test -c FILE` and asserts that it exits 0 with every test ok and a
// matching summary. Returns the names of the tests.
async function assertAllTestsPass(file) {
  const result = await runLivegate(['test', '-c', file]);
  const lines = result.stdout.trimEnd().split('\n');
  const results = lines.map((line) => RESULT_LINE.exec(line)).filter((match) => match !== null);

  assert.equal(result.code, 0, `livegate test exit code; output:\n${result.output}`);
  assert.ok(results.length > 0, `no test results in:\n${result.stdout}`);
  assert.deepEqual(results.filter(([, status]) => status !== 'ok').map(([line]) => line), []);
  assert.deepEqual(results.map(([, , number]) => Number(number)), results.map((_, i) => i + 1));
  assert.equal(lines.at(-1), `${results.length} passed, 0 failed`);
  return results.map(([, , , name]) => name);
}

// Writes SCRIPT (Lua) and CONFIG (YAML, which names the script script.lua) into a new
// temporary directory, runs `livegate test` on it and returns the result.
async function runScriptTest(script, config) {
  const dir = await makeTempDir();
  try {
    await writeFile(path.join(dir.dir, 'script.lua'), script);
    await writeFile(path.join(dir.dir, 'livegate.yaml'), config);
    return await runLivegate(['test', '-c', path.join(dir.dir, 'livegate.yaml')]);
  } finally {
    await dir.remove();
  }
}

// Publishes DATA (a string as it is, anything else as JSON) into CHANNEL through the
// admin API. A script may keep the event out of its channel, so both 201 (published)
// and 202 (dropped by the script) are accepted. Returns the parsed response body.
async function publish(adminUrl, channel, data, { key } = {}) {
  const query = key === undefined ? '' : `?key=${encodeURIComponent(key)}`;
  const response = await fetch(`${adminUrl}/api/channels/${encodeURIComponent(channel)}/events${query}`, {
    method: 'POST',
    body: typeof data === 'string' ? data : JSON.stringify(data),
    signal: AbortSignal.timeout(scaled(3000)),
  });
  const body = await response.json();
  assert.ok(response.status === 201 || response.status === 202,
    `publish to ${channel} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Returns the wall-clock time at which EVENT (from an SseStream) was received.
function receivedAt(event) {
  return performance.timeOrigin + event.receivedAt;
}

describe('lua library tests', () => {
  it('lua/tests.yaml passes', async () => {
    const names = await assertAllTestsPass(path.join(LUA_DIR, 'tests.yaml'));

    // Every script of the library has tests.
    for (const prefix of ['select', 'throttle', 'threshold', 'moving average', 'candle', 'prometheus'])
      assert.ok(names.some((name) => name.startsWith(prefix)), `no test named "${prefix} ..." in ${names}`);
  });

  it('lua/tests.yaml passes -t', async () => {
    const file = path.join(LUA_DIR, 'tests.yaml');
    const { modules } = livegatePaths();
    const result = await runLivegate(['-t', '-c', file, '--plugin-dir', modules]);

    assert.equal(result.code, 0, `output:\n${result.output}`);
    assert.equal(result.stdout, `livegate: configuration ${file} is valid\n`);
  });
});

describe('lua library config errors', () => {
  it('every bad config is listed', async () => {
    const files = (await readdir(BAD_CONFIG_DIR)).filter((name) => /^bad-.*\.yaml$/.test(name)).sort();

    assert.deepEqual(files, Object.keys(BAD_CONFIGS).sort());
  });

  for (const [name, reason] of Object.entries(BAD_CONFIGS)) {
    it(`${name} is rejected`, async () => {
      const file = path.join(BAD_CONFIG_DIR, name);
      const { modules } = livegatePaths();
      const result = await runLivegate(['-t', '-c', file, '--plugin-dir', modules]);
      // The position is that of the rule's lua: key, line 9 in every bad config.
      const prefix = `livegate: ${file}:9:10: channels[0] (match 'test.*'): `;

      assert.equal(result.code, 1, `exit code; output:\n${result.output}`);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, `expected one line, got:\n${result.stderr}`);
      assert.ok(result.stderr.startsWith(prefix), `expected stderr to start with "${prefix}", got:\n${result.stderr}`);
      assert.ok(result.stderr.includes(reason), `expected "${reason}" in:\n${result.stderr}`);
    });
  }
});

describe('lua example gateway', () => {
  it('conf/examples/lua.yaml passes -t', async () => {
    const { modules } = livegatePaths();
    const result = await runLivegate(['-t', '-c', EXAMPLE, '--plugin-dir', modules]);

    assert.equal(result.code, 0, `output:\n${result.output}`);
    assert.equal(result.stdout, `livegate: configuration ${EXAMPLE} is valid\n`);
  });

  it('conf/examples/lua.yaml tests pass', async () => {
    await assertAllTestsPass(EXAMPLE);
  });

  it('conf/examples/lua.yaml publishes livegate.stats', async () => {
    // The example, moved to a temporary directory with loopback port 0 and absolute
    // script paths, must have a rule for the dashboard's livegate.stats channel.
    const example = await readFile(EXAMPLE, 'utf8');
    const config = example
      .replace(/\$\{LIVEGATE_(ADMIN_)?LISTEN:-127\.0\.0\.1:\d+\}/g, '127.0.0.1:0')
      .replace(/^ {2}web_root: .*\n/m, '')
      .replaceAll('../../lua/', `${LUA_DIR}/`);
    const livegate = await startLivegate({ config });
    try {
      const stream = await openSse(`${livegate.publicUrl}/sse?channel=livegate.stats`);
      try {
        await stream.waitFor(() => stream.messages().length >= 1, scaled(5000), 'a livegate.stats event');
      } finally {
        stream.close();
      }
      assert.doesNotMatch(livegate.log(), /cannot publish livegate's figures/);
    } finally {
      await livegate.stop();
    }
  });
});

describe('lua library on the real clock', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
channels:
  - match: "trades.*"
    publish: true
    lua: ${path.join(LUA_DIR, 'candles.lua')}
    lua_config:
      interval: 1s
  - match: "ticks.*"
    publish: true
    lua: ${path.join(LUA_DIR, 'throttle.lua')}
    lua_config:
      interval: 300ms
  - match: "scrapes.*"
    publish: true
    lua: ${path.join(LUA_DIR, 'prometheus.lua')}
    lua_config:
      include: [livegate_]
      output: "metrics.{name}"
  - match: "*"
    history: {length: 100}
sinks:
  - type: sse
`,
    });
  });

  after(async () => {
    const { code } = await livegate.stop();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('candle closes at end of interval', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=candles.trades.T1`);
    try {
      // Start early in a second, so that the trades fall into one candle.
      if (Date.now() % 1000 > 500)
        await sleep(1050 - (Date.now() % 1000));
      const publishedAt = Date.now();
      for (const [price, size] of [[10, 1], [12, 2], [9, 3], [11, 4]])
        await publish(livegate.adminUrl, 'trades.T1', { price, size }, { key: 'T1' });

      await stream.waitFor((events) => events.some((e) => e.event === 'message'), scaled(3000), 'a candle');
      const [event] = stream.events.filter((e) => e.event === 'message');
      const candle = JSON.parse(event.data);

      assert.equal(candle.channel, 'candles.trades.T1');
      assert.equal(candle.key, 'T1');
      assert.deepEqual(
        { ...candle.data, start: undefined, end: undefined },
        { open: 10, high: 12, low: 9, close: 11, volume: 10, trades: 4, start: undefined, end: undefined },
      );
      assert.equal(candle.data.end - candle.data.start, 1000);
      assert.equal(candle.data.start % 1000, 0);
      assert.ok(candle.data.start <= publishedAt, `trades published at ${publishedAt}, candle from ${candle.data.start}`);
      assert.ok(publishedAt < candle.data.end, `trades published at ${publishedAt}, candle to ${candle.data.end}`);
      assert.equal(candle.time, candle.data.end);

      // The timer closes the candle at its end, with no later trade to prompt it.
      const delay = receivedAt(event) - candle.data.end;
      assert.ok(delay >= -5, `candle arrived ${-delay} ms before its end`);
      assert.ok(delay < scaled(500), `candle arrived ${delay} ms after its end`);
    } finally {
      stream.close();
    }
  });

  it('throttle releases newest after interval', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=ticks.A`);
    try {
      for (let n = 1; n <= 5; n++)
        await publish(livegate.adminUrl, 'ticks.A', { n }, { key: 'A' });
      await publish(livegate.adminUrl, 'ticks.A', 'raw text, not JSON', { key: 'B' });
      await publish(livegate.adminUrl, 'ticks.A', 'newest raw text', { key: 'B' });

      const messages = (events) => events.filter((e) => e.event === 'message');
      await stream.waitFor((events) => messages(events).length >= 4, scaled(3000), 'four ticks');
      // Nothing else is held, so nothing more comes.
      await sleep(scaled(700));
      const ticks = messages(stream.events);
      const payloads = ticks.map((e) => JSON.parse(e.data)).map(({ key, data }) => ({ key, data }));

      assert.deepEqual(payloads, [
        { key: 'A', data: { n: 1 } },
        { key: 'B', data: 'raw text, not JSON' },
        { key: 'A', data: { n: 5 } },
        { key: 'B', data: 'newest raw text' },
      ]);
      const wait = receivedAt(ticks[2]) - receivedAt(ticks[0]);
      assert.ok(wait >= 250, `newest tick released ${wait} ms after the first`);
      assert.ok(wait < 300 + scaled(300), `newest tick released ${wait} ms after the first`);
    } finally {
      stream.close();
    }
  });

  it('prometheus parses livegate metrics', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=metrics.livegate_build_info`);
    try {
      const response = await fetch(`${livegate.adminUrl}/metrics`);
      assert.equal(response.status, 200);
      await publish(livegate.adminUrl, 'scrapes.self', await response.text());

      await stream.waitFor((events) => events.some((e) => e.event === 'message'), scaled(3000), 'a sample');
      const sample = JSON.parse(stream.events.find((e) => e.event === 'message').data);

      assert.equal(sample.data.name, 'livegate_build_info');
      assert.equal(sample.data.type, 'gauge');
      assert.equal(typeof sample.data.labels.version, 'string');
      assert.equal(sample.data.value, 1);
      assert.equal(sample.key, `livegate_build_info{version="${sample.data.labels.version}"}`);
    } finally {
      stream.close();
    }
  });
});

// One-minute candles, as conf/examples/lua.yaml makes them, closed by the gateway's
// clock and received over SSE. This waits for the end of a real minute, so the
// sanitizer pass leaves it to the one-second candle test above.
describe('one-minute candles over SSE', { skip: process.env.LIVEGATE_SANITIZERS === '1' }, () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
channels:
  - match: "trades.*"
    history: {length: 1000, max_age: 10m}
    snapshot: keyed
    publish: true
    lua: ${path.join(LUA_DIR, 'candles.lua')}
    lua_config:
      interval: 1m
      output: "candles.{channel}"
    on_error: pass
  - match: "candles.*"
    history: {length: 100}
    snapshot: keyed
sinks:
  - type: sse
`,
    });
  });

  after(async () => {
    const { code } = await livegate.stop();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('candle of a minute arrives at its end', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=candles.trades.AAPL`);
    try {
      // Trades late in a minute could fall into two candles: start after the next minute begins.
      if (Date.now() % 60000 > 55000)
        await sleep(61000 - (Date.now() % 60000));
      const publishedAt = Date.now();
      for (const [price, size] of [[189.5, 100], [190.25, 50], [189.0, 20]])
        await publish(livegate.adminUrl, 'trades.AAPL', { price, size }, { key: 'AAPL' });

      const minuteEnd = publishedAt - (publishedAt % 60000) + 60000;
      await stream.waitFor((events) => events.some((e) => e.event === 'message'), minuteEnd - Date.now() + 3000,
        'the one-minute candle');
      const arrivedAt = Date.now();
      const candle = JSON.parse(stream.events.find((e) => e.event === 'message').data);

      assert.equal(candle.channel, 'candles.trades.AAPL');
      assert.equal(candle.key, 'AAPL');
      assert.deepEqual(candle.data, {
        open: 189.5, high: 190.25, low: 189.0, close: 189.0, volume: 170, trades: 3,
        start: minuteEnd - 60000, end: minuteEnd,
      });
      assert.ok(arrivedAt >= minuteEnd, `the candle arrived ${minuteEnd - arrivedAt} ms before the minute ended`);
      assert.ok(arrivedAt - minuteEnd < 1000, `the candle arrived ${arrivedAt - minuteEnd} ms after the minute ended`);
    } finally {
      stream.close();
    }
  });
});

describe('script behaviours the library relies on', () => {
  // advance: moves the clock one due timer at a time, so a timer started in a
  // callback counts from the callback's time.
  it('advance fires chained timers on time', async () => {
    const result = await runScriptTest(`
local function tick()
  livegate.emit("out", {now = livegate.now()}, {time = livegate.now()})
  livegate.after(1000, tick)
end
function on_event(event)
  livegate.after(1000, tick)
  return event
end
`, `channels:
  - match: "in"
    lua: script.lua
  - match: "*"
tests:
  - name: chained timers
    channel: in
    start_time: 1700000000000
    input:
      - {data: 1}
      - advance: 3s
    expect:
      - {channel: in}
      - {channel: out, data: {now: 1700000001000}}
      - {channel: out, data: {now: 1700000002000}}
      - {channel: out, data: {now: 1700000003000}}
`);

    assert.equal(result.code, 0, `output:\n${result.output}`);
  });

  // An event table kept from an earlier call keeps its own payload.
  it('returned earlier event keeps its payload', async () => {
    const result = await runScriptTest(`
local held
function on_event(event)
  if held == nil then
    held = event
    return nil
  end
  local earlier = held
  held = nil
  return {earlier, event}
end
`, `channels:
  - match: "in"
    lua: script.lua
tests:
  - name: held event payload
    channel: in
    input:
      - {data: {n: 1}}
      - {data: {n: 2}}
    expect:
      - {data: {n: 1}}
      - {data: {n: 2}}
`);

    assert.equal(result.code, 0, `output:\n${result.output}`);
  });
});
