// Browser test of dashboard v0: a real livegate serves the page and host metrics,
// and headless Chromium checks that the page goes live, updates, and keeps its last
// values when livegate stops.

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

// CPU usage updates watched for layout shifts.
const CHANGES_WATCHED = 5;

// Metrics every 200 ms, so values change several times within the timeouts above.
// JSON.stringify quotes the path as a YAML double-quoted scalar.
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
    history:
      length: 100
    snapshot: last
sinks:
  - type: sse
`;

const STATUS = '[data-testid="status"]';
const CPU_USAGE = '[data-testid="cpu-usage"]';
const MEMORY_USED = '[data-testid="memory-used"]';
const UPDATED = '[data-testid="updated"]';

// What the page shows for a byte count, such as "512 B" or "3.21 GiB".
const BYTES_TEXT = /^\d+(\.\d+)? (B|KiB|MiB|GiB|TiB|PiB)$/;

const buildDir = livegateBuildDir();

describe('dashboard v0', { skip: buildDir === null && 'LIVEGATE_BUILD_DIR is not set' }, () => {
  let livegate = null;
  let browser = null;
  let page = null;
  const pageErrors = [];
  const ignoredFrames = [];

  const text = (selector) => page.textContent(selector);

  before(async () => {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    livegate = await startLivegate({ config: CONFIG, buildDir });
    browser = await launchChromium();
    page = browser.page;

    page.on('pageerror', (error) => pageErrors.push(error.message));
    // The page warns with this prefix when it drops a frame it cannot parse.
    page.on('console', (message) => {
      if (message.text().startsWith('livegate: ignored'))
        ignoredFrames.push(message.text());
    });
    await page.goto(`${livegate.publicUrl}/`);
  });

  after(async () => {
    await browser?.close();
    await livegate?.stop();
  });

  it('status becomes live', { timeout: TEST_TIMEOUT_MS }, async () => {
    await page.waitForFunction(
      (selector) => document.querySelector(selector)?.textContent === 'live',
      STATUS,
      { timeout: LIVE_TIMEOUT_MS },
    );

    assert.equal(await page.getAttribute('#cards', 'data-fresh'), 'true');
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
    await page.screenshot({ path: `${ARTIFACTS_DIR}dashboard-live.png`, fullPage: true });
  });

  it('status leaves live when livegate stops', { timeout: TEST_TIMEOUT_MS }, async () => {
    const stopped = await livegate.stop();

    assert.equal(stopped.killed, false, 'livegate did not exit within the SIGTERM timeout');
    assert.equal(stopped.code, 0, `livegate exited with code ${stopped.code} (signal ${stopped.signal}) on SIGTERM`);

    await page.waitForFunction(
      (selector) => document.querySelector(selector)?.textContent !== 'live',
      STATUS,
      { timeout: LEAVE_LIVE_TIMEOUT_MS },
    );
    await page.screenshot({ path: `${ARTIFACTS_DIR}dashboard-stopped.png`, fullPage: true });

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
