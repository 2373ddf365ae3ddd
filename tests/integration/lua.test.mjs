// Integration tests of channel scripts through the real binary: passing, splitting,
// dropping and emitting events, exact JSON, failures and their isolation, limits,
// automatic disabling, timers and reload with connected clients.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startLivegate } from '../lib/livegate.mjs';
import { openSse, publish } from '../lib/sse.mjs';

const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;

const SCRIPTS = {
  'pass.lua': `function on_event(event)
  local _ = event.data
  return event
end
`,
  'shape.lua': `local seen = 0
function on_event(event)
  seen = seen + 1
  if event.key == 'drop' then return nil end
  if event.key == 'split' then
    return { {data = {part = 1}}, {data = {part = 2}, key = 'second'} }
  end
  if event.key == 'emit' then
    livegate.emit('derived.' .. event.channel, {seen = seen, from = event.id}, {key = 'k'})
  end
  event.data.seen = seen
  return event
end
`,
  'faulty.lua': `function on_event(event)
  if event.key == 'nil-join' then return event.data.name .. '!' end
  if event.key == 'global' then return undefined_global.field end
  if event.key == 'loop' then while true do end end
  if event.key == 'memory' then local s = 'x' for i = 1, 40 do s = s .. s end end
  return event
end
`,
  'always-fails.lua': `function on_event(event)
  error('broken on purpose')
end
`,
  'ticker.lua': `local count = 0
function on_event(event)
  count = count + 1
  return nil
end
livegate.every(livegate.config.interval, function()
  if count > 0 then livegate.emit('ticks.total', {count = count}) end
  count = 0
end)
`,
};

function config(dir, extra = '') {
  return `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
  lua:
    instruction_budget: 200000
    memory_limit: 8MiB
    disable_after: 5
channels:
  - match: "pass.*"
    lua: ${path.join(dir, 'pass.lua')}
    publish: true
  - match: "shape.*"
    lua: ${path.join(dir, 'shape.lua')}
    publish: true
    history: {length: 100}
  - match: "drop.*"
    lua: ${path.join(dir, 'faulty.lua')}
    on_error: drop
    publish: true
    history: {length: 100}
  - match: "keep.*"
    lua: ${path.join(dir, 'faulty.lua')}
    on_error: pass
    publish: true
    history: {length: 100}
  - match: "broken.*"
    lua: ${path.join(dir, 'always-fails.lua')}
    publish: true
  - match: "trades.*"
    lua: ${path.join(dir, 'ticker.lua')}
    lua_config: {interval: 300}
    publish: true
  - match: "*"
    publish: true
    history: {length: 100}
${extra}sinks:
  - type: sse
`;
}

async function metric(adminUrl, pattern) {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

async function publishRaw(adminUrl, channel, body, key) {
  const query = key !== undefined ? `?key=${encodeURIComponent(key)}` : '';
  const response = await fetch(`${adminUrl}/api/channels/${channel}/events${query}`, { method: 'POST', body });
  return { status: response.status, body: await response.json() };
}

describe('channel scripts', () => {
  let dir;
  let livegate;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'livegate-lua-'));
    for (const [name, text] of Object.entries(SCRIPTS))
      await writeFile(path.join(dir, name), text);
    livegate = await startLivegate({ config: config(dir) });
  });

  after(async () => {
    const { code } = await livegate.stop();
    await rm(dir, { recursive: true, force: true });
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('pass-through keeps JSON exact', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=pass.json`);
    await stream.waitFor(() => stream.named('subscribed').length === 1, 5000, 'subscribed');
    const text = '{"t":1796416246572,"big":9007199254740993,"f":1.0,"z":0.1,"n":null,"e":[],"o":{},' +
      '"a":[1,[2,{}]],"s":"\\u00e9","k2":"x","k1":"y","neg":-0.5e-3}';
    await publishRaw(livegate.adminUrl, 'pass.json', text);
    await stream.waitFor(() => stream.messages().length === 1, 5000, 'the event');
    stream.close();

    // The envelope's data member is the payload text itself, byte for byte but
    // for the escape and the exponent, which JSON writes in one canonical way.
    const frame = stream.events.find((e) => e.event === 'message').data;
    const data = frame.slice(frame.indexOf('"data":') + 7, -1);
    assert.equal(data, '{"t":1796416246572,"big":9007199254740993,"f":1.0,"z":0.1,"n":null,"e":[],"o":{},' +
      '"a":[1,[2,{}]],"s":"é","k2":"x","k1":"y","neg":-0.0005}');
  });

  it('split, drop and emit', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=shape.a&channel=derived.shape.a`);
    await stream.waitFor(() => stream.named('subscribed').length === 2, 5000, 'subscribed');

    const plain = await publishRaw(livegate.adminUrl, 'shape.a', '{"v":1}', 'plain');
    const dropped = await publishRaw(livegate.adminUrl, 'shape.a', '{"v":2}', 'drop');
    const split = await publishRaw(livegate.adminUrl, 'shape.a', '{"v":3}', 'split');
    const emitting = await publishRaw(livegate.adminUrl, 'shape.a', '{"v":4}', 'emit');
    assert.equal(plain.status, 201);
    assert.equal(plain.body.count, 1);
    assert.deepEqual(dropped, { status: 202, body: { channel: 'shape.a', dropped: true } });
    assert.equal(split.status, 201);
    assert.equal(split.body.count, 2);

    await stream.waitFor(() => stream.messages().length === 5, 5000, 'five events');
    stream.close();
    const messages = stream.messages();
    assert.deepEqual(messages.map((m) => [m.channel, m.key, m.data]), [
      ['shape.a', 'plain', { v: 1, seen: 1 }],
      ['shape.a', null, { part: 1 }],
      ['shape.a', 'second', { part: 2 }],
      ['shape.a', 'emit', { v: 4, seen: 4 }],
      ['derived.shape.a', 'k', { seen: 4, from: emitting.body.id }],
    ]);
    // Ids stay in order across the split and the derived event.
    const seqs = messages.map((m) => Number(m.id.split('-')[1]));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  });

  for (const [key, pattern] of [
    ['nil-join', /faulty\.lua:2: attempt to concatenate a nil value/],
    ['global', /faulty\.lua:3: attempt to index a nil value \(global 'undefined_global'\)/],
    ['loop', /faulty\.lua:4: instruction budget of 200000 exceeded/],
    ['memory', /faulty\.lua: not enough memory \(memory limit of 8388608 bytes reached\)/],
  ]) {
    it(`${key} failure follows on_error`, async () => {
      const errorsBefore = await metric(livegate.adminUrl, /^livegate_channel_script_errors_total\{channel="drop\.x"\}/);
      const dropped = await publishRaw(livegate.adminUrl, 'drop.x', '{"v":1}', key);
      const kept = await publishRaw(livegate.adminUrl, 'keep.x', '{"v":1}', key);

      assert.equal(dropped.status, 202, 'on_error: drop drops the event');
      assert.equal(kept.status, 201, 'on_error: pass keeps the event');
      const channel = await (await fetch(`${livegate.adminUrl}/api/channels/keep.x`)).json();
      assert.equal(channel.last_id, kept.body.id);

      const lines = livegate.log().split('\n').filter((l) => pattern.test(l));
      assert.ok(lines.length >= 1, `no log line matches ${pattern}:\n${livegate.log()}`);
      assert.match(lines[0], /\[warn\] \[hub\] channel '(drop|keep)\.x' event [0-9a-z]+-\d+: /);
      const errorsAfter = await metric(livegate.adminUrl, /^livegate_channel_script_errors_total\{channel="drop\.x"\}/);
      assert.equal(errorsAfter, errorsBefore + 1);
      assert.equal((await fetch(`${livegate.adminUrl}/health`)).status, 200);
    });
  }

  it('repeated errors are logged in bursts', async () => {
    for (let i = 0; i < 30; i++)
      await publishRaw(livegate.adminUrl, 'drop.burst', '{"v":1}', 'nil-join');
    const lines = livegate.log().split('\n').filter((l) => l.includes("channel 'drop.burst'"));
    assert.ok(lines.length <= 5, `${lines.length} lines for 30 identical errors`);
  });

  it('other channels keep their latency', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=fast.a`);
    await stream.waitFor(() => stream.named('subscribed').length === 1, 5000, 'subscribed');
    const delays = [];
    for (let i = 0; i < 10; i++) {
      // An endless loop and a memory bomb run between the fast events.
      await publishRaw(livegate.adminUrl, 'drop.y', '{"v":1}', i % 2 ? 'loop' : 'memory');
      const sent = performance.now();
      await publish(livegate.adminUrl, 'fast.a', { i });
      await stream.waitFor(() => stream.messages().length === i + 1, 5000 * SLOW, 'the fast event');
      delays.push(performance.now() - sent);
    }
    stream.close();
    delays.sort((a, b) => a - b);
    assert.ok(delays.at(-1) < 200 * SLOW, `slowest fast event took ${delays.at(-1).toFixed(1)} ms`);
  });

  it('failing script is disabled', async () => {
    for (let i = 0; i < 5; i++)
      assert.equal((await publishRaw(livegate.adminUrl, 'broken.a', '{"v":1}')).status, 202);
    const health = await fetch(`${livegate.adminUrl}/health`);
    assert.equal(health.status, 503);
    const body = await health.json();
    assert.ok(body.failing.some((name) => /^script:.*always-fails\.lua$/.test(name)), JSON.stringify(body));

    const stats = await (await fetch(`${livegate.adminUrl}/api/stats`)).json();
    const script = stats.scripts.find((s) => s.path.endsWith('always-fails.lua'));
    assert.equal(script.disabled, true);
    assert.equal(script.errors, 5);
    assert.match(script.last_error, /broken on purpose/);
    assert.match(livegate.log(), /disabled after 5 failed calls in a row/);
    assert.equal(await metric(livegate.adminUrl, /^livegate_script_disabled\{script=".*always-fails\.lua"\}/), 1);

    // Disabled: events follow on_error (drop) without calling the script.
    assert.equal((await publishRaw(livegate.adminUrl, 'broken.a', '{"v":1}')).status, 202);
    assert.equal((await (await fetch(`${livegate.adminUrl}/api/stats`)).json())
      .scripts.find((s) => s.path.endsWith('always-fails.lua')).calls, 5);
  });

  it('timer publishes derived channel', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=ticks.total`);
    await stream.waitFor(() => stream.named('subscribed').length === 1, 5000, 'subscribed');
    // The script counts trades and drops them: each publish is answered 202.
    for (let i = 0; i < 7; i++)
      assert.equal((await publishRaw(livegate.adminUrl, 'trades.x', JSON.stringify({ price: i }))).status, 202);
    await stream.waitFor(() => stream.messages().reduce((sum, m) => sum + m.data.count, 0) === 7,
      3000 * SLOW, 'the counts of seven trades');
    stream.close();
  });
});

describe('reload', () => {
  let dir;
  let livegate;
  let configPath;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'livegate-reload-'));
    for (const [name, text] of Object.entries(SCRIPTS))
      await writeFile(path.join(dir, name), text);
    livegate = await startLivegate({ config: config(dir) });
    configPath = livegate.configPath;
  });

  after(async () => {
    const { code } = await livegate.stop();
    await rm(dir, { recursive: true, force: true });
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('clients stay through a reload', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=pass.r`);
    await stream.waitFor(() => stream.named('subscribed').length === 1, 5000, 'subscribed');
    await publish(livegate.adminUrl, 'pass.r', { before: true });

    await writeFile(path.join(dir, 'pass.lua'), 'function on_event(e)\n  e.data.reloaded = true\n  return e\nend\n');
    const response = await fetch(`${livegate.adminUrl}/api/reload`, { method: 'POST' });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.version, 2);
    assert.deepEqual(body.warnings, []);

    await publish(livegate.adminUrl, 'pass.r', { after: true });
    await stream.waitFor(() => stream.messages().length === 2, 5000, 'both events');
    assert.deepEqual(stream.messages().map((m) => m.data), [{ before: true }, { after: true, reloaded: true }]);
    assert.equal(stream.ended, false);
    stream.close();

    const stats = await (await fetch(`${livegate.adminUrl}/api/stats`)).json();
    assert.equal(stats.config.version, 2);
  });

  it('failed reload keeps the running config', async () => {
    await writeFile(path.join(dir, 'pass.lua'), 'function on_event(e)\n  return e\n'); // missing end
    const broken = await fetch(`${livegate.adminUrl}/api/reload`, { method: 'POST' });
    assert.equal(broken.status, 400);
    assert.match((await broken.json()).error, /pass\.lua:\d+: .*expected.*near <eof>/);

    // Still the last good script.
    const answer = await publish(livegate.adminUrl, 'pass.r', { again: true });
    const channel = await (await fetch(`${livegate.adminUrl}/api/channels/pass.r`)).json();
    assert.equal(channel.last_id, answer.id);

    const text = (await import('node:fs/promises')).readFile;
    const original = await text(configPath, 'utf8');
    await writeFile(configPath, `${original}bogus: 1\n`);
    const invalid = await fetch(`${livegate.adminUrl}/api/reload`, { method: 'POST' });
    assert.equal(invalid.status, 400);
    assert.match((await invalid.json()).error, /livegate\.yaml:\d+:1: unknown option 'bogus'/);

    // A later reload works again.
    await writeFile(configPath, original);
    await writeFile(path.join(dir, 'pass.lua'), SCRIPTS['pass.lua']);
    const fixed = await fetch(`${livegate.adminUrl}/api/reload`, { method: 'POST' });
    assert.equal(fixed.status, 200);
  });

  it('reload reports restart-only changes', async () => {
    const original = await (await import('node:fs/promises')).readFile(configPath, 'utf8');
    await writeFile(configPath, original.replace('  listen: 127.0.0.1:0\n  admin:', '  listen: 127.0.0.1:1\n  admin:'));
    const response = await fetch(`${livegate.adminUrl}/api/reload`, { method: 'POST' });
    assert.equal(response.status, 200);
    assert.deepEqual((await response.json()).warnings, ['server.listen changed: restart to apply it']);
    await writeFile(configPath, original);
  });

  it('SIGHUP reloads', async () => {
    const before = (await (await fetch(`${livegate.adminUrl}/api/stats`)).json()).config.version;
    livegate.process.kill('SIGHUP');
    const deadline = Date.now() + 5000 * SLOW;
    let version = before;
    while (version === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      version = (await (await fetch(`${livegate.adminUrl}/api/stats`)).json()).config.version;
    }
    assert.equal(version, before + 1);

    // This gateway logs to standard error, so there is no log file to reopen.
    assert.match(livegate.log(), /SIGHUP|reloaded/);
    assert.doesNotMatch(livegate.log(), /log file reopened/);
  });

  it('reload re-enables a disabled script', async () => {
    for (let i = 0; i < 5; i++)
      await publishRaw(livegate.adminUrl, 'broken.b', '{"v":1}');
    assert.equal((await fetch(`${livegate.adminUrl}/health`)).status, 503);
    await fetch(`${livegate.adminUrl}/api/reload`, { method: 'POST' });
    assert.equal((await fetch(`${livegate.adminUrl}/health`)).status, 200);
  });
});

// User and system CPU time of process PID in clock ticks (100 per second on Linux).
async function cpuTicks(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

describe('disabled script timers', () => {
  let dir;
  let livegate;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'livegate-lua-timers-'));
    await writeFile(path.join(dir, 'timer-fails.lua'),
      "function on_event(event) return event end\nlivegate.every(50, function() error('timer broken') end)\n");
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
  lua:
    disable_after: 3
channels:
  - match: "*"
    lua: ${path.join(dir, 'timer-fails.lua')}
    publish: true
sinks:
  - type: sse
`,
    });
  });

  after(async () => {
    const { code } = await livegate.stop();
    await rm(dir, { recursive: true, force: true });
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('stop firing without spinning', async () => {
    const deadline = Date.now() + 5000 * SLOW;
    while ((await fetch(`${livegate.adminUrl}/health`)).status !== 503 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await fetch(`${livegate.adminUrl}/health`)).status, 503, 'the script was not disabled');
    assert.match(livegate.log(), /timer callback failed: .*timer broken/);

    // The overdue timer of the disabled script must not wake the loop again and again.
    const before = await cpuTicks(livegate.process.pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const used = await cpuTicks(livegate.process.pid) - before;
    assert.ok(used < 30 * SLOW, `livegate used ${used} CPU ticks in one idle second`);
  });
});
