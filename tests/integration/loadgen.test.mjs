// The load generator of bench/ (bench/loadgen) on a tiny run against the real
// binary: it must build, connect its subscribers, count every event and report
// sane latency and memory numbers, over SSE and over WebSocket.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { scaled } from '../lib/cli.mjs';
import { livegateBuildDir, startLivegate } from '../lib/livegate.mjs';

const SUBSCRIBERS = 20;
const EVENTS = 200;

// The generator bounds its own run with --duration and --drain; this only
// catches a generator that hangs anyway.
const RUN_TIMEOUT_MS = scaled(30000);

const CONFIG = `server:
  listen: 127.0.0.1:0
  workers: 2
  admin:
    listen: 127.0.0.1:0
channels:
  - match: "bench.*"
    history:
      length: 100
    snapshot: none
    publish: true
sinks:
  - type: sse
  - type: websocket
`;

// Runs bench/loadgen with ARGS and resolves with its exit code and its result
// line parsed into numbers (and the transport as a string).
function runLoadgen(args) {
  const binary = path.join(livegateBuildDir(), 'bench', 'loadgen');
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: RUN_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`loadgen failed to run: ${error.message}\n${stderr}`));
        return;
      }
      const line = stdout.split('\n').find((text) => text.startsWith('loadgen: '));
      if (line === undefined) {
        reject(new Error(`loadgen printed no result line; stdout:\n${stdout}\nstderr:\n${stderr}`));
        return;
      }
      const result = {};
      for (const pair of line.slice('loadgen: '.length).split(' ')) {
        const [key, value] = pair.split('=');
        result[key] = key === 'transport' ? value : Number(value);
      }
      resolve({ code: error === null ? 0 : error.code, result, stderr });
    });
  });
}

function commonArgs(livegate) {
  return [
    '--publish-url', `${livegate.adminUrl}/api/channels/{channel}/events`,
    '--subscribers', String(SUBSCRIBERS),
    '--events', String(EVENTS),
    '--publishers', '2',
    '--duration', String(scaled(10)),
    '--drain', '2',
    '--settle', '0.2',
    '--server-pid', String(livegate.process.pid),
  ];
}

function assertSaneRun({ code, result, stderr }, transport) {
  assert.equal(code, 0, `loadgen exited with ${code}; stderr:\n${stderr}`);
  assert.equal(result.transport, transport);
  assert.equal(result.connected, SUBSCRIBERS);
  assert.equal(result.disconnected, 0);
  assert.equal(result.published, EVENTS);
  assert.equal(result.publish_errors, 0);
  assert.equal(result.expected, SUBSCRIBERS * EVENTS);
  assert.equal(result.delivered, SUBSCRIBERS * EVENTS);
  assert.equal(result.lost, 0);
  assert.ok(result.events_per_s > 0, `events_per_s is ${result.events_per_s}`);
  assert.ok(result.p50_us <= result.p99_us, `p50 ${result.p50_us} us is above p99 ${result.p99_us} us`);
  assert.ok(result.p99_us <= result.p999_us, `p99 ${result.p99_us} us is above p99.9 ${result.p999_us} us`);
  assert.ok(result.p999_us <= result.max_us, `p99.9 ${result.p999_us} us is above the max ${result.max_us} us`);
  assert.ok(result.max_us < scaled(5000000), `max latency ${result.max_us} us is over 5 s`);
  assert.ok(result.rss_start_kib > 0, `rss_start_kib is ${result.rss_start_kib}`);
  assert.ok(result.rss_peak_kib >= result.rss_start_kib, 'peak RSS is below the RSS at the start');
}

describe('load generator', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({ config: CONFIG });
  });

  after(async () => {
    await livegate.stop();
  });

  it('delivers every event over SSE', async () => {
    const run = await runLoadgen([
      ...commonArgs(livegate),
      '--transport', 'sse',
      '--channel-prefix', 'bench.sse.',
      '--subscribe-url', `${livegate.publicUrl}/sse?channel={channel}`,
      '--ready-text', 'event: subscribed',
    ]);
    assertSaneRun(run, 'sse');
  });

  it('delivers every event over WebSocket', async () => {
    const run = await runLoadgen([
      ...commonArgs(livegate),
      '--transport', 'ws',
      '--channel-prefix', 'bench.ws.',
      '--subscribe-url', `${livegate.publicUrl.replace('http:', 'ws:')}/ws`,
      '--ws-subscribe-message', '{"op":"subscribe","channel":"{channel}"}',
      '--ready-text', '"type":"subscribed"',
    ]);
    assertSaneRun(run, 'ws');
  });

  it('rejects a URL off loopback', async () => {
    const run = await runLoadgen([
      ...commonArgs(livegate),
      '--subscribe-url', 'http://192.0.2.1:8080/sse?channel={channel}',
    ]).catch((error) => error);
    assert.ok(run instanceof Error, 'loadgen printed a result for a non-loopback URL');
    assert.match(run.message, /not a loopback address/);
  });
});
