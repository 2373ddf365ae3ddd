// server.stats: livegate's own figures published into a channel for dashboards,
// without what only the admin API shows.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startLivegate } from '../lib/livegate.mjs';
import { openSse } from '../lib/sse.mjs';

const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;

function config(stats) {
  return `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
${stats}
sources:
  - name: host
    type: sysmetrics
channels:
  - match: "counted"
    lua: broken.lua
    publish: true
  - match: "*"
    publish: true
sinks:
  - type: sse
`;
}

describe('stats channel', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({
      config: config('  stats:\n    channel: gateway.figures\n    interval: 200ms'),
      files: { 'broken.lua': 'function on_event(e)\n  error("secret detail of the script")\nend\n' },
    });
  });

  after(async () => {
    const { code } = await livegate.stop();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('figures arrive at the configured interval', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=gateway.figures`);
    await stream.waitFor(() => stream.messages().length >= 3, 5000 * SLOW, 'three publications');
    const [first, , third] = stream.messages();
    assert.ok(third.time - first.time >= 300, `${first.time} .. ${third.time}`);

    const figures = third.data;
    assert.equal(figures.connections.sse, 1);
    assert.equal(typeof figures.events_in, 'number');
    assert.equal(typeof figures.uptime_ms, 'number');
    assert.deepEqual(figures.sources.map((s) => [s.name, s.type, s.status]), [['host', 'sysmetrics', 'ok']]);
    stream.close();
  });

  it('operator details stay out of the channel', async () => {
    await fetch(`${livegate.adminUrl}/api/channels/counted/events`, { method: 'POST', body: '{"n":1}' });
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=gateway.figures`);
    await stream.waitFor(() => stream.messages().some((m) => m.data.scripts?.[0]?.errors === 1), 5000 * SLOW,
      'the script error counted');
    const figures = stream.messages().at(-1).data;
    assert.equal(figures.config, undefined);
    assert.equal(figures.listeners, undefined);
    assert.equal(figures.scripts[0].path, undefined);
    assert.equal(figures.scripts[0].last_error, undefined);
    assert.equal(figures.scripts[0].match, 'counted');
    assert.doesNotMatch(JSON.stringify(figures), /secret detail|livegate\.yaml/);
    stream.close();
  });
});

describe('stats channel turned off', () => {
  it('interval 0 publishes nothing', async () => {
    const livegate = await startLivegate({
      config: config('  stats:\n    interval: 0s'),
      files: { 'broken.lua': 'function on_event(e) return e end\n' },
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const response = await fetch(`${livegate.adminUrl}/api/channels/livegate.stats`);
      assert.equal(response.status, 404);
    } finally {
      const { code } = await livegate.stop();
      assert.equal(code, 0);
    }
  });
});
