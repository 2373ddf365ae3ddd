// Browser test of the dashboard (web/dist), once per transport (Server-Sent Events and
// WebSocket), against a real livegate. Headless Chromium checks that the page goes
// live with changing host metrics and that a channel with history loses and repeats
// nothing across an offline spell. While livegate is stopped the page must show a
// retry countdown and keep its last values, and it must go live again when livegate
// comes back on the same ports.

import assert from 'node:assert/strict';
import { access, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { livegateBuildDir, startLivegate } from '../lib/livegate.mjs';
import { launchChromium } from './chromium.mjs';

const WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));
const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

const LIVE_TIMEOUT_MS = 10000;
const CHANGE_TIMEOUT_MS = 5000;
const LEAVE_LIVE_TIMEOUT_MS = 5000;
const TEST_TIMEOUT_MS = 30000;

// Events published to the history channel before, during and after the offline spell.
const EVENTS_PER_PHASE = 10;
const HISTORY_CHANNEL = 'demo.counter';

const TRANSPORTS = [
  { id: 'sse', query: '', label: 'SSE' },
  { id: 'ws', query: '?transport=ws', label: 'WebSocket' },
];

const STATUS = '[data-testid="status"]';
const RETRY = '[data-testid="retry"]';
const CPU_USAGE = '[data-testid="cpu-usage"]';
const MEMORY_USED = '[data-testid="memory-used"]';
const EVENT_IDS = '[data-testid="explorer-events"] .event-id';
const EXPLORER_CONNECTION = '[data-testid="explorer-connection"]';

// What the page shows for a byte count, such as "512 B" or "3.21 GiB".
const BYTES_TEXT = /^\d+(\.\d+)? (B|KiB|MiB|GiB|TiB|PiB)$/;

const buildDir = livegateBuildDir();
let skip = buildDir === null && 'LIVEGATE_BUILD_DIR is not set';
try {
  await access(`${WEB_ROOT}/index.html`);
} catch {
  skip ||= 'web/dist/index.html is missing: build the dashboard with "npm run build" in web/';
}

// Metrics every 200 ms, so values change several times within the timeouts above.
// `ports` fixes the listeners' ports, for a restart on the same ports.
function config(ports = { public: 0, admin: 0 }) {
  return `server:
  listen: 127.0.0.1:${ports.public}
  web_root: ${JSON.stringify(WEB_ROOT)}
  admin:
    listen: 127.0.0.1:${ports.admin}
sources:
  - name: host
    type: sysmetrics
    interval: 200ms
channels:
  - match: "system.*"
    history:
      length: 100
    snapshot: last
  - match: "*"
    history:
      length: 100
    snapshot: last
    publish: true
sinks:
  - type: sse
  - type: websocket
`;
}

// The Explorer follows its channel on a connection of its own, shown in the view.
function waitForExplorerState(page, state, timeout) {
  return page.waitForFunction(
    ([selector, expected]) => document.querySelector(selector)?.dataset.state === expected,
    [EXPLORER_CONNECTION, state],
    { timeout },
  );
}

function waitForStatus(page, status, timeout) {
  return page.waitForFunction(
    ([selector, expected]) => document.querySelector(selector)?.textContent === expected,
    [STATUS, status],
    { timeout },
  );
}

// Waits until the CPU figure's target value (data-value, not the eased text) differs from `previous`.
async function waitForCpuChange(page, previous) {
  await page.waitForFunction(
    ([selector, before]) => {
      const value = document.querySelector(selector)?.getAttribute('data-value');
      return value !== undefined && value !== null && value !== before && Number.isFinite(Number(value));
    },
    [CPU_USAGE, previous],
    { timeout: CHANGE_TIMEOUT_MS },
  );
  return page.getAttribute(CPU_USAGE, 'data-value');
}

// Publishes one event through the admin API and returns its id.
async function publish(livegate, sequence) {
  const response = await fetch(`${livegate.adminUrl}/api/channels/${HISTORY_CHANNEL}/events`, {
    method: 'POST',
    body: JSON.stringify({ sequence }),
  });
  assert.equal(response.status, 201, `publishing to ${HISTORY_CHANNEL} returned ${response.status}`);
  return (await response.json()).id;
}

for (const transport of TRANSPORTS) {
  describe(`dashboard over ${transport.label}`, { skip }, () => {
    let livegate = null;
    let browser = null;
    let page = null;
    const pageErrors = [];
    const published = [];

    const text = (selector) => page.textContent(selector);

    before(async () => {
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      livegate = await startLivegate({ config: config(), buildDir });
      browser = await launchChromium();
      page = browser.page;
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${livegate.publicUrl}/${transport.query}#/monitoring`);
    });

    after(async () => {
      await browser?.close();
      await livegate?.stop();
    });

    it('status becomes live', { timeout: TEST_TIMEOUT_MS }, async () => {
      await waitForStatus(page, 'live', LIVE_TIMEOUT_MS);

      assert.equal(await text('[data-testid="transport"]'), transport.label);
    });

    it('cpu usage is a changing number', { timeout: TEST_TIMEOUT_MS }, async () => {
      const first = await waitForCpuChange(page, null);
      const second = await waitForCpuChange(page, first);

      assert.ok(Number(second) >= 0, `cpu usage ${second} is below 0`);
      assert.ok(Number(second) <= 100, `cpu usage ${second} is above 100`);
      assert.match(await text(CPU_USAGE), /^\d+\.\d$/);
    });

    it('memory used is shown', async () => {
      assert.match(await text(MEMORY_USED), BYTES_TEXT);
      await page.screenshot({ path: `${ARTIFACTS_DIR}dashboard-${transport.id}-live.png`, fullPage: true });
    });

    it('explorer shows published events', { timeout: TEST_TIMEOUT_MS }, async () => {
      await page.click('a[href="#/explorer"]');
      await page.fill('#explorer-channel', HISTORY_CHANNEL);
      await page.click('button[type="submit"]');
      await page.waitForFunction((selector) => document.querySelector(selector)?.textContent.startsWith('subscribed'), '[data-testid="explorer-summary"]', { timeout: LIVE_TIMEOUT_MS });

      for (let sequence = 0; sequence < EVENTS_PER_PHASE; sequence += 1)
        published.push(await publish(livegate, sequence));
      await page.waitForFunction(([selector, count]) => document.querySelectorAll(selector).length === count, [EVENT_IDS, published.length], { timeout: CHANGE_TIMEOUT_MS });
    });

    it('offline resume loses and repeats nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
      await browser.context.setOffline(true);
      await waitForExplorerState(page, 'offline', LEAVE_LIVE_TIMEOUT_MS);
      for (let sequence = 0; sequence < EVENTS_PER_PHASE; sequence += 1)
        published.push(await publish(livegate, EVENTS_PER_PHASE + sequence));

      await browser.context.setOffline(false);
      await waitForExplorerState(page, 'live', LIVE_TIMEOUT_MS);
      for (let sequence = 0; sequence < EVENTS_PER_PHASE; sequence += 1)
        published.push(await publish(livegate, 2 * EVENTS_PER_PHASE + sequence));
      await page.waitForFunction(([selector, count]) => document.querySelectorAll(selector).length >= count, [EVENT_IDS, published.length], { timeout: CHANGE_TIMEOUT_MS });
      const shown = await page.$$eval(EVENT_IDS, (nodes) => nodes.map((node) => node.textContent));

      assert.deepEqual([...shown].reverse(), published);
    });

    it('stopped livegate shows a retry countdown', { timeout: TEST_TIMEOUT_MS }, async () => {
      await page.click('a[href="#/monitoring"]');
      await waitForCpuChange(page, await page.getAttribute(CPU_USAGE, 'data-value'));
      const ports = { ...livegate.ports };
      const stopped = await livegate.stop();
      livegate = null;
      assert.equal(stopped.code, 0, `livegate exited with code ${stopped.code} (signal ${stopped.signal}) on SIGTERM`);

      await page.waitForFunction(
        ([status, retry]) => document.querySelector(status)?.textContent === 'reconnecting' && /^retry in \d+ s/.test(document.querySelector(retry)?.textContent ?? ''),
        [STATUS, RETRY],
        { timeout: LEAVE_LIVE_TIMEOUT_MS },
      );
      await page.screenshot({ path: `${ARTIFACTS_DIR}dashboard-${transport.id}-stopped.png`, fullPage: true });
      assert.equal(await page.getAttribute('[data-testid="card-cpu"]', 'data-fresh'), 'false');

      // The values received before the stop stay on screen.
      assert.match(await text(CPU_USAGE), /^\d+\.\d$/);
      assert.match(await text(MEMORY_USED), BYTES_TEXT);

      livegate = await startLivegate({ config: config(ports), buildDir });
    });

    it('restarted livegate brings live data back', { timeout: TEST_TIMEOUT_MS }, async () => {
      await waitForStatus(page, 'live', 2 * LIVE_TIMEOUT_MS);
      const first = await page.getAttribute(CPU_USAGE, 'data-value');
      await waitForCpuChange(page, first);
      await page.screenshot({ path: `${ARTIFACTS_DIR}dashboard-${transport.id}-restarted.png`, fullPage: true });

      assert.equal(await page.getAttribute('[data-testid="card-cpu"]', 'data-fresh'), 'true');
    });

    it('page raised no errors', () => {
      assert.deepEqual(pageErrors, []);
    });
  });
}
