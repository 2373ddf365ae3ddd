// Browser test of the dashboard's Explorer view against a real livegate, once per
// transport. An invalid channel name is rejected in the form, and a channel whose
// subscription livegate rejects is reported in the explorer. Neither takes down the
// connection that the other views share.

import assert from 'node:assert/strict';
import { access, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { livegateBuildDir, startLivegate } from '../lib/livegate.mjs';
import { publish } from '../lib/sse.mjs';
import { launchChromium } from './chromium.mjs';

const WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));
const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

const LIVE_TIMEOUT_MS = 10000;
const CHANGE_TIMEOUT_MS = 5000;
const TEST_TIMEOUT_MS = 30000;

const TRANSPORTS = [
  { id: 'sse', query: '', label: 'SSE' },
  { id: 'ws', query: '?transport=ws', label: 'WebSocket' },
];

const STATUS = '[data-testid="status"]';
const CPU_USAGE = '[data-testid="cpu-usage"]';
const EXPLORER_ERROR = '[data-testid="explorer-error"]';
const EXPLORER_CONNECTION = '[data-testid="explorer-connection"]';
const EXPLORER_SUMMARY = '[data-testid="explorer-summary"]';
const EVENT_IDS = '[data-testid="explorer-events"] .event-id';

// The explorer follows channels on a connection of its own, so the header's shared
// connection is idle (no other view is shown) or live, and never failed.
const HEADER_STATES = ['idle', 'live'];

const FORBIDDEN_CHANNEL = 'secret.keys';
const OPEN_CHANNEL = 'demo.explorer';

const buildDir = livegateBuildDir();
let skip = buildDir === null && 'LIVEGATE_BUILD_DIR is not set';
try {
  await access(`${WEB_ROOT}/index.html`);
} catch {
  skip ||= 'web/dist/index.html is missing: build the dashboard with "npm run build" in web/';
}

const CONFIG = `server:
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
    snapshot: last
  - match: "secret.*"
    subscribe: false
  - match: "*"
    history:
      length: 100
    snapshot: last
    publish: true
sinks:
  - type: sse
  - type: websocket
`;

// Waits until the CPU figure's target value differs from the one shown now, which
// shows that the connection of the other views still delivers.
async function waitForCpuChange(page) {
  const before = await page.getAttribute(CPU_USAGE, 'data-value');
  await page.waitForFunction(
    ([selector, previous]) => {
      const value = document.querySelector(selector)?.getAttribute('data-value');
      return value !== undefined && value !== null && value !== previous;
    },
    [CPU_USAGE, before],
    { timeout: CHANGE_TIMEOUT_MS },
  );
}

async function follow(page, channel) {
  await page.fill('#explorer-channel', channel);
  await page.press('#explorer-channel', 'Enter');
}

for (const transport of TRANSPORTS) {
  describe(`explorer over ${transport.label}`, { skip }, () => {
    let livegate = null;
    let browser = null;
    let page = null;
    const pageErrors = [];

    before(async () => {
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      livegate = await startLivegate({ config: CONFIG, buildDir });
      browser = await launchChromium();
      page = browser.page;
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${livegate.publicUrl}/${transport.query}#/monitoring`);
      await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === 'live', STATUS, { timeout: LIVE_TIMEOUT_MS });
    });

    after(async () => {
      await browser?.close();
      await livegate?.stop();
    });

    it('invalid name is rejected in the form', { timeout: TEST_TIMEOUT_MS }, async () => {
      await page.click('a[href="#/explorer"]');
      await follow(page, 'bad name');

      assert.match(await page.textContent(EXPLORER_ERROR), /invalid channel name/);
      assert.equal(await page.getAttribute('#explorer-channel', 'aria-invalid'), 'true');
      assert.equal(await page.$(EXPLORER_SUMMARY), null);
      assert.ok(HEADER_STATES.includes(await page.textContent(STATUS)), 'header status');
    });

    it('refused channel leaves the page live', { timeout: TEST_TIMEOUT_MS }, async () => {
      await follow(page, FORBIDDEN_CHANNEL);
      assert.equal(await page.$(EXPLORER_ERROR), null);

      if (transport.id === 'sse') {
        await page.waitForFunction(
          (selector) => document.querySelector(selector)?.dataset.state === 'failed' && /HTTP 403/.test(document.querySelector(selector).textContent),
          EXPLORER_CONNECTION,
          { timeout: LIVE_TIMEOUT_MS },
        );
      } else {
        await page.waitForFunction(
          (selector) => /last notice: error \(.+\)/.test(document.querySelector(selector)?.textContent ?? ''),
          EXPLORER_SUMMARY,
          { timeout: LIVE_TIMEOUT_MS },
        );
      }
      await page.screenshot({ path: `${ARTIFACTS_DIR}explorer-${transport.id}-refused.png`, fullPage: true });

      assert.ok(HEADER_STATES.includes(await page.textContent(STATUS)), 'header status');
      await page.click('a[href="#/monitoring"]');
      await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === 'live', STATUS, { timeout: LIVE_TIMEOUT_MS });
      await page.waitForSelector(CPU_USAGE, { timeout: LIVE_TIMEOUT_MS });
      await waitForCpuChange(page);
      assert.equal(await page.textContent(STATUS), 'live');
    });

    it('open channel shows published events', { timeout: TEST_TIMEOUT_MS }, async () => {
      await page.click('a[href="#/explorer"]');
      await follow(page, OPEN_CHANNEL);
      await page.waitForFunction((selector) => document.querySelector(selector)?.textContent.startsWith('subscribed'), EXPLORER_SUMMARY, { timeout: LIVE_TIMEOUT_MS });

      const ids = [];
      for (let sequence = 0; sequence < 3; sequence += 1)
        ids.push((await publish(livegate.adminUrl, OPEN_CHANNEL, { sequence })).id);
      await page.waitForFunction(([selector, count]) => document.querySelectorAll(selector).length === count, [EVENT_IDS, ids.length], { timeout: CHANGE_TIMEOUT_MS });

      const shown = await page.$$eval(EVENT_IDS, (nodes) => nodes.map((node) => node.textContent));
      assert.deepEqual(shown.reverse(), ids);
      assert.equal(await page.getAttribute(EXPLORER_CONNECTION, 'data-state'), 'live');
      await page.screenshot({ path: `${ARTIFACTS_DIR}explorer-${transport.id}-events.png`, fullPage: true });
    });

    it('page raised no errors', () => {
      assert.deepEqual(pageErrors, []);
    });
  });
}
