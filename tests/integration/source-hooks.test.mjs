// The hooks the core gives source plugins, through a probe source built by
// `make check` (tests/plugins/probe_source.c): a channel's first and last local
// subscriber (watch), gap notices a source sends to subscribers, and events
// published through the admin API (published).

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { livegateBuildDir, startLivegate } from '../lib/livegate.mjs';
import { openSse, publish } from '../lib/sse.mjs';

const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;
const WAIT_MS = 5000 * SLOW;

// Waits until CHECK() is true, polling every 20 ms.
async function until(check, what) {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('source hooks', () => {
  let pluginDir;
  let livegate;

  before(async () => {
    // A plugin directory with the real modules and the probe.
    const buildDir = livegateBuildDir();
    pluginDir = await mkdtemp(path.join(os.tmpdir(), 'livegate-probe-'));
    for (const name of await readdir(path.join(buildDir, 'modules')))
      await symlink(path.join(buildDir, 'modules', name), path.join(pluginDir, name));
    await symlink(path.join(buildDir, 'tests', 'plugins', '.libs', 'probe_source.so'),
      path.join(pluginDir, 'probe_source.so'));

    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
sources:
  - name: probe
    type: probe_source
channels:
  - match: "split.*"
    lua: split.lua
    publish: true
  - match: "*"
    publish: true
    history: {length: 10}
sinks:
  - type: sse
  - type: websocket
`,
      pluginDir,
      files: {
        'split.lua': "function on_event(e)\n  livegate.emit('side.' .. e.channel, {n = 1})\n  return {{data = 1}, {data = 2}}\nend\n",
      },
    });
  });

  after(async () => {
    const { code } = await livegate.stop();
    await rm(pluginDir, { recursive: true, force: true });
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('watch follows first and last subscriber', async () => {
    const first = await openSse(`${livegate.publicUrl}/sse?channel=watched.a`);
    await first.waitFor(() => first.named('subscribed').length === 1, WAIT_MS, 'subscribed');
    await until(() => /watch watched\.a 1 \(watched: 1\)/.test(livegate.log()), 'watch 1');

    // A second subscriber, over WebSocket, is not a first one.
    const ws = new WebSocket(`${livegate.publicUrl.replace(/^http/, 'ws')}/ws`, 'livegate.v1');
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'watched.a' }));
    await new Promise((resolve) => ws.once('message', resolve));
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 200 * SLOW));
    assert.equal(livegate.log().match(/watch watched\.a 1/g).length, 1);
    assert.doesNotMatch(livegate.log(), /watch watched\.a 0/);

    ws.terminate();
    await until(() => /watch watched\.a 0 \(watched: 0\)/.test(livegate.log()), 'watch 0');
  });

  it('source gap reaches subscribers', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=probe.x`);
    await stream.waitFor(() => stream.named('gap').length === 1, WAIT_MS, 'a gap notice');
    stream.close();
    assert.deepEqual(stream.named('gap'), [{ channel: 'probe.x', reason: 'probe: upstream restarted' }]);
    await until(() => /\[source:probe_source:probe\] events of channel 'probe\.x' may be lost: probe: upstream restarted/
      .test(livegate.log()), 'the gap log line');
  });

  it('published sees admin events only', async () => {
    const plain = await publish(livegate.adminUrl, 'pub.a', { n: 1 });
    await until(() => livegate.log().includes(`published pub.a ${plain.id}`), 'published pub.a');

    // A split gives two events in the channel; the emitted one goes to another channel.
    const split = await publish(livegate.adminUrl, 'split.a', { n: 1 });
    assert.equal(split.count, 2);
    await until(() => livegate.log().includes(`published split.a ${split.id}`), 'published split.a');
    const lines = livegate.log().split('\n').filter((line) => / published /.test(line));
    assert.equal(lines.filter((line) => line.includes('published split.a ')).length, 2);
    assert.ok(!lines.some((line) => line.includes('published side.')), lines.join('\n'));
  });
});
