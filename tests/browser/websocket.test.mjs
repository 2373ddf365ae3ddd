// Browser test of the WebSocket sink: a page that livegate serves opens a WebSocket
// in headless Chromium, subscribes, receives the snapshot and live events, resumes
// after the test closes and reopens the socket, and receives close code 1001 when
// livegate stops.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { livegateBuildDir, startLivegate } from '../lib/livegate.mjs';
import { publish } from '../lib/sse.mjs';
import { launchChromium } from './chromium.mjs';

const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

const WAIT_MS = 5000;
const TEST_TIMEOUT_MS = 30000;

const CHANNEL = 'browser.prices';

// The page keeps every message in window.received and every close event in
// window.closes, and lists them on screen for the screenshots. openSocket(command)
// connects and sends COMMAND, or a subscribe to the channel that resumes from the
// last event id when COMMAND is a channel name. closeSocket() closes with 1000.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>livegate WebSocket test</title>
<style>
  body { font: 14px/1.4 monospace; margin: 1.5em; }
  #status { font-weight: bold; }
  li { white-space: pre; }
</style>
</head>
<body>
<h1>livegate WebSocket test</h1>
<p>socket: <span id="status">not opened</span>, last event id: <span id="last-id">none</span></p>
<ol id="log"></ol>
<script>
  window.received = [];
  window.closes = [];
  window.lastEventId = null;
  let socket = null;

  function show(text) {
    const item = document.createElement('li');
    item.textContent = text;
    document.getElementById('log').append(item);
  }

  function setStatus(text) {
    document.getElementById('status').textContent = text;
  }

  window.openSocket = (command) => new Promise((resolve, reject) => {
    const subscribe = typeof command === 'string'
      ? { op: 'subscribe', channel: command, last_event_id: window.lastEventId }
      : command;
    socket = new WebSocket('ws://' + location.host + '/ws', 'livegate.v1');
    socket.onopen = () => {
      setStatus('open (' + socket.protocol + ')');
      socket.send(JSON.stringify(subscribe));
      show('sent ' + JSON.stringify(subscribe));
      resolve(socket.protocol);
    };
    socket.onerror = () => reject(new Error('WebSocket error before open'));
    socket.onmessage = (message) => {
      const parsed = JSON.parse(message.data);
      window.received.push(parsed);
      if (parsed.type === 'event') {
        window.lastEventId = parsed.id;
        document.getElementById('last-id').textContent = parsed.id;
      }
      show('received ' + message.data);
    };
    socket.onclose = (event) => {
      window.closes.push({ code: event.code, reason: event.reason, wasClean: event.wasClean });
      setStatus('closed (' + event.code + ' ' + event.reason + ')');
      show('closed with ' + event.code + ' ' + event.reason);
    };
  });

  window.closeSocket = () => new Promise((resolve) => {
    socket.addEventListener('close', resolve, { once: true });
    socket.close(1000, 'test closes');
  });
</script>
</body>
</html>
`;

const CONFIG_TEMPLATE = `server:
  listen: 127.0.0.1:0
  web_root: WEB_ROOT
  admin:
    listen: 127.0.0.1:0
channels:
  - match: "browser.*"
    history:
      length: 100
    snapshot: last
    publish: true
sinks:
  - type: websocket
`;

const buildDir = livegateBuildDir();

describe('websocket in Chromium', { skip: buildDir === null && 'LIVEGATE_BUILD_DIR is not set' }, () => {
  let webRoot = null;
  let livegate = null;
  let browser = null;
  let page = null;
  const pageErrors = [];
  const published = [];

  // Messages the page has received, of TYPE when given.
  async function received(type) {
    const messages = await page.evaluate(() => window.received);
    return type === undefined ? messages : messages.filter((m) => m.type === type);
  }

  // Waits until PREDICATE(ARGUMENT), run in the page, is true.
  function waitForReceived(predicate, argument) {
    return page.waitForFunction(predicate, argument, { timeout: WAIT_MS });
  }

  before(async () => {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    webRoot = await mkdtemp(path.join(os.tmpdir(), 'livegate-ws-page-'));
    await writeFile(path.join(webRoot, 'websocket.html'), PAGE);
    // JSON.stringify quotes the path as a YAML double-quoted scalar.
    livegate = await startLivegate({ config: CONFIG_TEMPLATE.replace('WEB_ROOT', JSON.stringify(webRoot)), buildDir });
    browser = await launchChromium({ viewport: { width: 1400, height: 700 } });
    page = browser.page;
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${livegate.publicUrl}/websocket.html`);
  });

  after(async () => {
    await browser?.close();
    await livegate?.stop();
    if (webRoot !== null)
      await rm(webRoot, { recursive: true, force: true });
  });

  it('page subscribes and gets snapshot', { timeout: TEST_TIMEOUT_MS }, async () => {
    await publish(livegate.adminUrl, CHANNEL, { price: 100 }, { key: 'AAPL' });
    const snapshot = await publish(livegate.adminUrl, CHANNEL, { price: 101 }, { key: 'AAPL' });

    const protocol = await page.evaluate((channel) => window.openSocket(channel), CHANNEL);
    await waitForReceived(() => window.received.some((m) => m.type === 'event'));

    assert.equal(protocol, 'livegate.v1');
    const messages = await received();
    assert.equal(messages.length, 2);
    assert.deepEqual(messages[0], { type: 'subscribed', channel: CHANNEL, recovered: false });
    assert.equal(messages[1].type, 'event');
    assert.equal(messages[1].id, snapshot.id);
    assert.equal(messages[1].key, 'AAPL');
    assert.deepEqual(messages[1].data, { price: 101 });
  });

  it('page receives live events', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (let n = 0; n < 3; n++)
      published.push(await publish(livegate.adminUrl, CHANNEL, { price: 102 + n }, { key: 'AAPL', type: 'tick' }));

    await waitForReceived(() => window.received.filter((m) => m.type === 'event').length === 4);

    const live = (await received('event')).slice(1);
    assert.deepEqual(live.map((m) => m.id), published.map((p) => p.id));
    assert.deepEqual(live.map((m) => m.data.price), [102, 103, 104]);
    assert.deepEqual(live.map((m) => m.event), ['tick', 'tick', 'tick']);
    assert.equal(await page.evaluate(() => window.lastEventId), published.at(-1).id);
  });

  it('page resumes after reopening', { timeout: TEST_TIMEOUT_MS }, async () => {
    await page.evaluate(() => window.closeSocket());
    const [closed] = await page.evaluate(() => window.closes);
    assert.equal(closed.code, 1000);
    assert.equal(closed.wasClean, true);

    const missed = [];
    for (let n = 0; n < 2; n++)
      missed.push(await publish(livegate.adminUrl, CHANNEL, { price: 200 + n }, { key: 'AAPL' }));
    const before = (await received()).length;
    await page.evaluate((channel) => window.openSocket(channel), CHANNEL);
    await waitForReceived((count) => window.received.slice(count).filter((m) => m.type === 'event').length === 2,
      before);
    const live = await publish(livegate.adminUrl, CHANNEL, { price: 300 }, { key: 'AAPL' });
    await waitForReceived((count) => window.received.slice(count).filter((m) => m.type === 'event').length === 3,
      before);

    const messages = (await received()).slice(before);
    assert.deepEqual(messages[0], { type: 'subscribed', channel: CHANNEL, recovered: true });
    assert.deepEqual(messages.filter((m) => m.type === 'reset'), []);
    assert.deepEqual(messages.filter((m) => m.type === 'event').map((m) => m.id), [...missed, live].map((p) => p.id));
    assert.equal(messages.length, 4);
  });

  it('page saves a screenshot while open', async () => {
    await page.screenshot({ path: `${ARTIFACTS_DIR}websocket-open.png`, fullPage: true });
  });

  it('page gets 1001 when livegate stops', { timeout: TEST_TIMEOUT_MS }, async () => {
    const stopped = await livegate.stop();

    assert.equal(stopped.killed, false, 'livegate did not exit within the SIGTERM timeout');
    assert.equal(stopped.code, 0, `livegate exited with code ${stopped.code} (signal ${stopped.signal}) on SIGTERM`);
    await waitForReceived(() => window.closes.length === 2);
    await page.screenshot({ path: `${ARTIFACTS_DIR}websocket-stopped.png`, fullPage: true });

    const closes = await page.evaluate(() => window.closes);
    assert.equal(closes[1].code, 1001);
    assert.equal(closes[1].reason, 'server shutting down');
    assert.equal(closes[1].wasClean, true);
  });

  it('page raised no errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
