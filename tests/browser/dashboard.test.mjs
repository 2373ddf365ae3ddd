// Browser test of dashboard v0, once per transport (Server-Sent Events and WebSocket).
// A real livegate serves the page and host metrics. Headless Chromium checks that the
// page goes live and updates, that it resumes after going offline without losing or
// repeating events, and that it keeps its last values when livegate stops. One more
// suite checks that a WebSocket close with 1008 stops the retries.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { livegateBuildDir, startLivegate } from '../lib/livegate.mjs';
import { launchChromium } from './chromium.mjs';

const WEB_ROOT = fileURLToPath(new URL('../../web/dashboard-v0', import.meta.url));
const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

const LIVE_TIMEOUT_MS = 10000;
const CHANGE_TIMEOUT_MS = 5000;
const LEAVE_LIVE_TIMEOUT_MS = 5000;
const TEST_TIMEOUT_MS = 30000;

// How long the page stays offline in the resume test: several metric intervals, so the
// server has events to replay.
const OFFLINE_MS = 1000;

// How long the page is watched for a new connection after a close with 1008. The first
// retry after a close would come within backoffBaseMs (1 s).
const NO_RETRY_WATCH_MS = 2500;

// CPU usage updates watched for layout shifts.
const CHANGES_WATCHED = 5;

const CHANNELS = ['system.cpu', 'system.memory', 'system.load', 'system.network', 'system.disk'];

// Invalid messages a WebSocket connection may send before livegate closes it with 1008,
// in the suite that provokes that close.
const MAX_ERRORS = 2;

// Metrics every 200 ms, so values change several times within the timeouts above.
// JSON.stringify quotes the path as a YAML double-quoted scalar.
function config({ websocketOptions = '' } = {}) {
  return `server:
  listen: 127.0.0.1:0
  web_root: ${JSON.stringify(WEB_ROOT)}
  admin:
    listen: 127.0.0.1:0
sources:
  - name: host
    type: sysmetrics
    interval: 200ms
channels:
  - match: "system.*"
    history:
      length: 100
    snapshot: last
sinks:
  - type: sse
  - type: websocket${websocketOptions}
`;
}

// `query` selects the transport in the page URL, `sink` is its name in livegate's
// /api/stats, and `label` is what the page shows in the header.
const TRANSPORTS = [
  { id: 'sse', query: '', sink: 'sse', label: 'SSE' },
  { id: 'ws', query: '?transport=ws', sink: 'websocket', label: 'WebSocket' },
];

const STATUS = '[data-testid="status"]';
const TRANSPORT = '[data-testid="transport"]';
const CPU_USAGE = '[data-testid="cpu-usage"]';
const MEMORY_USED = '[data-testid="memory-used"]';
const UPDATED = '[data-testid="updated"]';

// What the page shows for a byte count, such as "512 B" or "3.21 GiB".
const BYTES_TEXT = /^\d+(\.\d+)? (B|KiB|MiB|GiB|TiB|PiB)$/;

const buildDir = livegateBuildDir();
const skip = buildDir === null && 'LIVEGATE_BUILD_DIR is not set';

// Returns the sequence number of a livegate event id ("EPOCH-SEQ"). livegate numbers
// the events of all channels in one sequence, one apart.
function sequenceOf(id) {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

function waitForStatus(page, status, timeout) {
  return page.waitForFunction(
    ([selector, expected]) => document.querySelector(selector)?.textContent === expected,
    [STATUS, status],
    { timeout },
  );
}

// Polls `condition` until it returns true, and fails naming `description` after `timeoutMs`.
async function waitUntil(condition, timeoutMs, description) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function fetchStats(livegate) {
  const response = await fetch(`${livegate.adminUrl}/api/stats`);
  assert.equal(response.status, 200, `GET /api/stats returned ${response.status}`);
  return response.json();
}

// Records the response headers of every WebSocket handshake of the page, with
// lower-case names. Playwright's WebSocket objects do not show them.
async function recordHandshakes(browser) {
  const handshakes = [];
  const session = await browser.context.newCDPSession(browser.page);
  session.on('Network.webSocketHandshakeResponseReceived', ({ response }) => {
    const headers = Object.entries(response.headers).map(([name, value]) => [name.toLowerCase(), value]);
    handshakes.push({ status: response.status, headers: Object.fromEntries(headers) });
  });
  await session.send('Network.enable');
  return handshakes;
}

// Records every WebSocket the page opens, with the JSON messages it sent and received.
function recordWebSockets(page) {
  const sockets = [];
  page.on('websocket', (socket) => {
    const record = { url: socket.url(), sent: [], received: [] };
    socket.on('framesent', (frame) => record.sent.push(JSON.parse(frame.payload)));
    socket.on('framereceived', (frame) => record.received.push(JSON.parse(frame.payload)));
    sockets.push(record);
  });
  return sockets;
}

for (const transport of TRANSPORTS) {
  describe(`dashboard v0 over ${transport.label}`, { skip }, () => {
    let livegate = null;
    let browser = null;
    let page = null;
    const pageErrors = [];
    const ignoredFrames = [];
    const streamRequests = [];
    let sockets = [];
    let handshakes = [];

    const text = (selector) => page.textContent(selector);

    before(async () => {
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      livegate = await startLivegate({ config: config(), buildDir });
      browser = await launchChromium();
      page = browser.page;

      page.on('pageerror', (error) => pageErrors.push(error.message));
      // The page warns with this prefix when it drops a frame it cannot parse.
      page.on('console', (message) => {
        if (message.text().startsWith('livegate: ignored'))
          ignoredFrames.push(message.text());
      });
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/sse')
          streamRequests.push(request.url());
      });
      sockets = recordWebSockets(page);
      handshakes = await recordHandshakes(browser);
      await page.goto(`${livegate.publicUrl}/${transport.query}`);
    });

    after(async () => {
      await browser?.close();
      await livegate?.stop();
    });

    it('status becomes live', { timeout: TEST_TIMEOUT_MS }, async () => {
      await waitForStatus(page, 'live', LIVE_TIMEOUT_MS);

      assert.equal(await page.getAttribute('#cards', 'data-fresh'), 'true');
    });

    it('header names the transport', async () => {
      assert.equal(await text(TRANSPORT), transport.label);
    });

    it('page streams over its transport only', async () => {
      const { connections } = await fetchStats(livegate);

      for (const { sink } of TRANSPORTS) {
        const expected = sink === transport.sink ? 1 : 0;
        assert.equal(connections[sink], expected, `${connections[sink]} ${sink} connections, expected ${expected}`);
      }
    });

    it('cpu usage is a changing number', { timeout: TEST_TIMEOUT_MS }, async () => {
      await page.waitForFunction(
        (selector) => Number.isFinite(Number.parseFloat(document.querySelector(selector)?.textContent)),
        CPU_USAGE,
        { timeout: CHANGE_TIMEOUT_MS },
      );
      const first = await text(CPU_USAGE);

      await page.waitForFunction(
        ([selector, previous]) => {
          const current = document.querySelector(selector)?.textContent;
          return current !== previous && Number.isFinite(Number.parseFloat(current));
        },
        [CPU_USAGE, first],
        { timeout: CHANGE_TIMEOUT_MS },
      );
      const usage = Number(await text(CPU_USAGE));

      assert.ok(usage >= 0, `cpu usage ${usage} is below 0`);
      assert.ok(usage <= 100, `cpu usage ${usage} is above 100`);
    });

    it('numbers change without layout shift', { timeout: TEST_TIMEOUT_MS }, async () => {
      await page.evaluate(() => {
        window.layoutShifts = [];
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) {
            const nodes = entry.sources.map((source) => source.node?.id || source.node?.nodeName);
            window.layoutShifts.push(`${entry.value.toFixed(5)} (${nodes.join(', ')})`);
          }
        }).observe({ type: 'layout-shift' });
      });

      for (let change = 0; change < CHANGES_WATCHED; change += 1) {
        const previous = await text(CPU_USAGE);
        await page.waitForFunction(
          ([selector, before]) => document.querySelector(selector)?.textContent !== before,
          [CPU_USAGE, previous],
          { timeout: CHANGE_TIMEOUT_MS },
        );
      }
      const shifts = await page.evaluate(() => window.layoutShifts);

      assert.deepEqual(shifts, []);
    });

    it('memory used is shown', async () => {
      const used = await text(MEMORY_USED);

      assert.match(used, BYTES_TEXT);
    });

    it('page saves a screenshot while live', async () => {
      await page.screenshot({ path: `${ARTIFACTS_DIR}dashboard-${transport.id}-live.png`, fullPage: true });
    });

    it('status goes offline and back to live', { timeout: TEST_TIMEOUT_MS }, async () => {
      const requestsBefore = streamRequests.length;
      const socketsBefore = sockets.length;

      await browser.context.setOffline(true);
      await waitForStatus(page, 'offline', LEAVE_LIVE_TIMEOUT_MS);
      assert.equal(await page.getAttribute('#cards', 'data-fresh'), 'false');

      await new Promise((resolve) => setTimeout(resolve, OFFLINE_MS));
      await browser.context.setOffline(false);
      await waitForStatus(page, 'live', LIVE_TIMEOUT_MS);

      assert.equal(await page.getAttribute('#cards', 'data-fresh'), 'true');
      if (transport.id === 'sse')
        assert.equal(streamRequests.length, requestsBefore + 1, `requests: ${streamRequests.slice(requestsBefore).join(', ')}`);
      else
        assert.equal(sockets.length, socketsBefore + 1, `sockets: ${sockets.slice(socketsBefore).map((s) => s.url).join(', ')}`);
    });

    if (transport.id === 'sse') {
      it('sse reconnect sends last event id', () => {
        const [first, resumed] = streamRequests.map((url) => new URL(url).searchParams);

        assert.equal(first.get('last_event_id'), null);
        assert.match(resumed.get('last_event_id') ?? '', /^[0-9a-z]+-\d+$/);
        assert.deepEqual(resumed.getAll('channel'), CHANNELS);
      });
    }

    if (transport.id === 'ws') {
      it('websocket subscribes with livegate.v1', () => {
        const [first] = sockets;

        assert.equal(new URL(first.url).pathname, '/ws');
        assert.equal(handshakes[0]?.status, 101);
        assert.equal(handshakes[0].headers['sec-websocket-protocol'], 'livegate.v1');
        assert.deepEqual(first.sent[0], { op: 'subscribe', channels: CHANNELS });
        assert.deepEqual(first.received.slice(0, CHANNELS.length).map((m) => m.type), CHANNELS.map(() => 'subscribed'));
      });

      it('websocket resume loses and repeats nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
        const [first, resumed] = sockets;
        await waitUntil(() => resumed.received.some((m) => m.type === 'event'), CHANGE_TIMEOUT_MS, 'an event after the resume');
        const firstEvents = first.received.filter((m) => m.type === 'event');
        const resumeId = resumed.sent[0].last_event_id;
        const resumedEvents = resumed.received.filter((m) => m.type === 'event');
        const subscribed = resumed.received.filter((m) => m.type === 'subscribed');

        assert.equal(resumed.sent.length, 1);
        assert.match(resumeId ?? '', /^[0-9a-z]+-\d+$/, 'the resumed subscribe has no last_event_id');
        assert.deepEqual(resumed.sent[0], { op: 'subscribe', channels: CHANNELS, last_event_id: resumeId });
        assert.ok(firstEvents.some((m) => m.id === resumeId), `resume id ${resumeId} was never received`);
        assert.deepEqual(subscribed.map((m) => m.channel).sort(), [...CHANNELS].sort());
        assert.ok(subscribed.every((m) => m.recovered === true), `not recovered: ${JSON.stringify(subscribed)}`);
        assert.deepEqual(resumed.received.filter((m) => m.type === 'reset'), []);
        assert.equal(sequenceOf(resumedEvents[0].id), sequenceOf(resumeId) + 1, `first event after ${resumeId} is ${resumedEvents[0].id}`);
        const gaps = resumedEvents.slice(1).filter((m, i) => sequenceOf(m.id) !== sequenceOf(resumedEvents[i].id) + 1);
        assert.deepEqual(gaps.map((m) => m.id), []);
      });
    }

    it('status leaves live when livegate stops', { timeout: TEST_TIMEOUT_MS }, async () => {
      const stopped = await livegate.stop();

      assert.equal(stopped.killed, false, 'livegate did not exit within the SIGTERM timeout');
      assert.equal(stopped.code, 0, `livegate exited with code ${stopped.code} (signal ${stopped.signal}) on SIGTERM`);

      await page.waitForFunction(
        (selector) => document.querySelector(selector)?.textContent !== 'live',
        STATUS,
        { timeout: LEAVE_LIVE_TIMEOUT_MS },
      );
      await page.screenshot({ path: `${ARTIFACTS_DIR}dashboard-${transport.id}-stopped.png`, fullPage: true });

      assert.ok(['reconnecting', 'stalled'].includes(await text(STATUS)), `unexpected status "${await text(STATUS)}"`);
      assert.equal(await page.getAttribute('#cards', 'data-fresh'), 'false');
    });

    it('last values stay after livegate stops', async () => {
      const usage = Number.parseFloat(await text(CPU_USAGE));
      const used = await text(MEMORY_USED);
      const updated = await text(UPDATED);

      assert.ok(Number.isFinite(usage), `cpu usage is "${await text(CPU_USAGE)}", not a number`);
      assert.match(used, BYTES_TEXT);
      assert.match(updated, /^updated \d+ (s|min|h) ago$/);
    });

    it('page raised no errors', () => {
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(ignoredFrames, []);
    });
  });
}

// livegate closes a WebSocket with 1008 after MAX_ERRORS invalid messages. The test
// sends them through a route that forwards the page's socket to livegate, since the
// page itself only sends valid subscribe messages.
describe('dashboard v0 over WebSocket closed with 1008', { skip }, () => {
  let livegate = null;
  let browser = null;
  let page = null;
  const serverSides = [];
  const warnings = [];
  const pageErrors = [];

  before(async () => {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    livegate = await startLivegate({ config: config({ websocketOptions: `\n    max_errors: ${MAX_ERRORS}` }), buildDir });
    browser = await launchChromium();
    page = browser.page;

    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'warning' && message.text().startsWith('livegate:'))
        warnings.push(message.text());
    });
    await page.routeWebSocket(/\/ws$/, (route) => {
      serverSides.push(route.connectToServer());
    });
    await page.goto(`${livegate.publicUrl}/?transport=ws`);
  });

  after(async () => {
    await browser?.close();
    await livegate?.stop();
  });

  it('status becomes live', { timeout: TEST_TIMEOUT_MS }, async () => {
    await waitForStatus(page, 'live', LIVE_TIMEOUT_MS);

    assert.equal(serverSides.length, 1);
  });

  it('status shows failed after 1008', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [server] = serverSides;
    for (let message = 0; message <= MAX_ERRORS; message += 1)
      server.send('not json');

    await waitForStatus(page, 'failed', LEAVE_LIVE_TIMEOUT_MS);
    await page.screenshot({ path: `${ARTIFACTS_DIR}dashboard-ws-failed.png`, fullPage: true });

    assert.equal(await page.textContent('#retry'), 'reload to retry');
    assert.equal(await page.getAttribute('#cards', 'data-fresh'), 'false');
  });

  it('page logs errors and the close', () => {
    const rejected = warnings.filter((text) => text.startsWith('livegate: the server rejected a request: '));
    const closed = warnings.filter((text) => text.includes('code 1008'));

    assert.equal(rejected.length, MAX_ERRORS, `warnings: ${warnings.join(' | ')}`);
    assert.equal(closed.length, 1, `warnings: ${warnings.join(' | ')}`);
    assert.match(closed[0], /too many invalid messages/);
  });

  it('page does not retry after 1008', { timeout: TEST_TIMEOUT_MS }, async () => {
    await new Promise((resolve) => setTimeout(resolve, NO_RETRY_WATCH_MS));

    assert.equal(serverSides.length, 1);
    assert.equal(await page.textContent(STATUS), 'failed');
  });

  it('page raised no errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
