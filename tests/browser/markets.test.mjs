// Browser test of the dashboard's Markets view and of the Monitoring view's livegate
// card, against a real livegate fed by the demo market feed (web/demo/feed.mjs).
// Headless Chromium checks that the watchlist shows every symbol with changing prices
// and that a changed price flashes with an up or down arrow (not colour alone). The
// selected symbol's price and candle charts must draw on their canvases, and stopping
// the feed must leave the last prices on screen. The livegate card reads livegate.stats,
// which livegate publishes itself (server.stats).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { freePort } from '../lib/cli.mjs';
import { livegateBuildDir, startLivegate } from '../lib/livegate.mjs';
import { openSse, publish } from '../lib/sse.mjs';
import { launchChromium } from './chromium.mjs';

const WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));
const FEED = fileURLToPath(new URL('../../web/demo/feed.mjs', import.meta.url));
const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

const LIVE_TIMEOUT_MS = 10000;
const CHANGE_TIMEOUT_MS = 10000;
const CHART_TIMEOUT_MS = 15000;
const FEED_STOP_TIMEOUT_MS = 5000;
const TEST_TIMEOUT_MS = 40000;
// How long the prices must stay on screen after the feed stopped.
const STOPPED_WATCH_MS = 2000;

// The feed's first symbols (web/demo/feed.mjs), at 5 updates per second each.
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG'];
const FEED_RATE = 5;

const STATUS = '[data-testid="status"]';
const ROWS = '[data-testid="watchlist"] tbody tr';
const ARROWS = { up: '▲', down: '▼' };

// Colours of the chart series (web/src/lib/components/charts.ts) as RGB.
const PRICE_LINE = [0x5a, 0xa9, 0xff];
const CANDLE_UP = [0x3e, 0xcf, 0x8e];
const CANDLE_DOWN = [0xff, 0x6b, 0x6b];
// Opaque pixels of a series colour that a chart with data draws, at the least.
const MIN_SERIES_PIXELS = 20;

const PRICE_FORMAT = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const buildDir = livegateBuildDir();
let skip = buildDir === null && 'LIVEGATE_BUILD_DIR is not set';
try {
  await access(`${WEB_ROOT}/index.html`);
} catch {
  skip ||= 'web/dist/index.html is missing: build the dashboard with "npm run build" in web/';
}

// The channels and sources of conf/livegate.yaml, with livegate's figures every second.
function config(adminPort) {
  return `server:
  listen: 127.0.0.1:0
  web_root: ${JSON.stringify(WEB_ROOT)}
  admin:
    listen: 127.0.0.1:${adminPort}
  stats:
    interval: 1s
sources:
  - name: host
    type: sysmetrics
    interval: 1s
channels:
  - match: "system.*"
    history:
      length: 300
      max_age: 5m
    snapshot: last
    overflow: conflate
  - match: "*"
    history:
      length: 1000
      max_age: 10m
    snapshot: keyed
    overflow: conflate
    publish: true
sinks:
  - type: sse
  - type: websocket
`;
}

// Runs the demo feed against `adminUrl` and returns { stop(), output() }. stop() sends
// SIGTERM and resolves with { code, signal } once the feed has exited.
function startFeed(adminUrl) {
  const child = spawn(process.execPath, [FEED, '--admin', adminUrl, '--symbols', String(SYMBOLS.length), '--rate', String(FEED_RATE)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text) => { output += text; });
  child.stderr.on('data', (text) => { output += text; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  process.on('exit', () => child.kill('SIGKILL'));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null)
      child.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), FEED_STOP_TIMEOUT_MS);
    });
    const status = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (status === null) {
      child.kill('SIGKILL');
      throw new Error(`the demo feed did not exit within ${FEED_STOP_TIMEOUT_MS} ms of SIGTERM; output:\n${output}`);
    }
    return status;
  };
  return { stop, output: () => output };
}

// Returns the price text of each symbol's watchlist row (without the arrow).
function priceTexts(page) {
  return page.$$eval('[data-testid^="price-"]', (cells) => Object.fromEntries(cells.map((cell) => [cell.dataset.testid.slice('price-'.length), cell.firstElementChild?.textContent ?? ''])));
}

// Returns each price cell's direction, arrow text, arrow size and flash class.
function flashStates(page) {
  return page.$$eval('[data-testid^="price-"]', (cells) => cells.map((cell) => {
    const arrow = cell.querySelector('.flash-arrow');
    const box = arrow?.getBoundingClientRect();
    return {
      symbol: cell.dataset.testid.slice('price-'.length),
      direction: cell.dataset.direction,
      arrow: arrow?.textContent ?? null,
      arrowVisible: box !== undefined && box.width > 0 && box.height > 0 && getComputedStyle(arrow).visibility === 'visible',
      flashClass: cell.firstElementChild?.className ?? '',
    };
  }));
}

// Counts the opaque pixels close to one of `colours` on the plot area of the `index`th
// chart of the charts section: its widest canvases, because the narrower ones are
// the axes, whose labels use the series colours too.
function seriesPixels(page, index, colours) {
  return page.evaluate(([chartIndex, rgbs]) => {
    const chart = document.querySelectorAll('.charts .chart')[chartIndex];
    if (chart === undefined)
      return 0;
    const canvases = [...chart.querySelectorAll('canvas')];
    const plotWidth = Math.max(0, ...canvases.map((canvas) => canvas.width));
    let count = 0;
    for (const canvas of canvases) {
      if (canvas.width !== plotWidth || canvas.height === 0)
        continue;
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] < 200)
          continue;
        if (rgbs.some(([r, g, b]) => Math.abs(pixels[i] - r) < 24 && Math.abs(pixels[i + 1] - g) < 24 && Math.abs(pixels[i + 2] - b) < 24))
          count += 1;
      }
    }
    return count;
  }, [index, colours]);
}

async function waitForSeriesPixels(page, index, colours, what) {
  const deadline = Date.now() + CHART_TIMEOUT_MS;
  let count = 0;
  while (Date.now() < deadline) {
    count = await seriesPixels(page, index, colours);
    if (count >= MIN_SERIES_PIXELS)
      return count;
    await page.waitForTimeout(250);
  }
  assert.fail(`the ${what} drew ${count} pixels of its series colour within ${CHART_TIMEOUT_MS} ms, expected at least ${MIN_SERIES_PIXELS}`);
}

// Reads the newest price of every symbol from livegate itself: the keyed snapshot of
// a new SSE subscription.
async function gatewayPrices(publicUrl) {
  const query = SYMBOLS.map((symbol) => `channel=prices.${symbol}`).join('&');
  const stream = await openSse(`${publicUrl}/sse?${query}`);
  try {
    await stream.waitFor(() => stream.messages().length >= SYMBOLS.length, LIVE_TIMEOUT_MS, 'the snapshot of every prices channel');
    return Object.fromEntries(stream.messages().map((message) => [message.key, message.data.price]));
  } finally {
    stream.close();
  }
}

describe('markets view and livegate card with the demo feed', { skip }, () => {
  let livegate = null;
  let feed = null;
  let browser = null;
  let page = null;
  const pageErrors = [];

  before(async () => {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    const adminPort = await freePort();
    livegate = await startLivegate({ config: config(adminPort), buildDir });
    feed = startFeed(livegate.adminUrl);
    browser = await launchChromium();
    page = browser.page;
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${livegate.publicUrl}/#/markets`);
  });

  after(async () => {
    await feed?.stop().catch(() => {});
    await browser?.close();
    await livegate?.stop();
  });

  it('watchlist lists the feed symbols', { timeout: TEST_TIMEOUT_MS }, async () => {
    await page.waitForFunction(([selector, count]) => document.querySelectorAll(selector).length === count, [ROWS, SYMBOLS.length], { timeout: LIVE_TIMEOUT_MS });

    const symbols = await page.$$eval(ROWS, (rows) => rows.map((row) => row.dataset.symbol));
    assert.deepEqual(symbols, SYMBOLS);
    assert.equal(await page.textContent(STATUS), 'live');
  });

  it('every price is shown and changes', { timeout: TEST_TIMEOUT_MS }, async () => {
    await page.waitForFunction((count) => document.querySelectorAll('[data-testid^="price-"]').length === count, SYMBOLS.length, { timeout: LIVE_TIMEOUT_MS });
    const first = await priceTexts(page);
    for (const symbol of SYMBOLS)
      assert.match(first[symbol], /^\d{1,3}(,\d{3})*\.\d{2}$/, `price of ${symbol}`);

    await page.waitForFunction(
      (before) => Object.entries(before).every(([symbol, text]) => {
        const shown = document.querySelector(`[data-testid="price-${symbol}"]`)?.firstElementChild?.textContent;
        return shown !== undefined && shown !== text;
      }),
      first,
      { timeout: CHANGE_TIMEOUT_MS },
    );
  });

  it('changed prices flash with an arrow', { timeout: TEST_TIMEOUT_MS }, async () => {
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid^="price-"]')].every((cell) => cell.dataset.direction !== 'flat'), null, { timeout: CHANGE_TIMEOUT_MS });
    await page.screenshot({ path: `${ARTIFACTS_DIR}markets-live.png`, fullPage: true });

    for (const state of await flashStates(page)) {
      assert.ok(state.direction === 'up' || state.direction === 'down', `${state.symbol} direction ${state.direction}`);
      assert.equal(state.arrow, ARROWS[state.direction], `${state.symbol} arrow for ${state.direction}`);
      assert.ok(state.arrowVisible, `${state.symbol} arrow is not visible`);
      assert.match(state.flashClass, new RegExp(`\\bflash-${state.direction}\\b`), `${state.symbol} flash class`);
    }
  });

  it('selected symbol shows price and candle charts', { timeout: TEST_TIMEOUT_MS }, async () => {
    const symbol = SYMBOLS[2];
    await page.click(`tr[data-symbol="${symbol}"] button`);

    await page.waitForSelector(`section[aria-label="${symbol} charts"]`, { timeout: LIVE_TIMEOUT_MS });
    assert.equal(await page.getAttribute(`tr[data-symbol="${symbol}"]`, 'aria-selected'), 'true');
    assert.equal(await page.getAttribute(`tr[data-symbol="${SYMBOLS[0]}"]`, 'aria-selected'), 'false');
    await waitForSeriesPixels(page, 0, [PRICE_LINE], `price chart of ${symbol}`);
    await waitForSeriesPixels(page, 1, [CANDLE_UP, CANDLE_DOWN], `candle chart of ${symbol}`);
    await page.screenshot({ path: `${ARTIFACTS_DIR}markets-charts.png`, fullPage: true });
  });

  it('stopped feed leaves the last prices', { timeout: TEST_TIMEOUT_MS }, async () => {
    const stopped = await feed.stop();
    assert.equal(stopped.code, 0, `the feed exited with code ${stopped.code} (signal ${stopped.signal}); output:\n${feed.output()}`);
    const last = await gatewayPrices(livegate.publicUrl);
    const expected = Object.fromEntries(SYMBOLS.map((symbol) => [symbol, PRICE_FORMAT.format(last[symbol])]));

    await page.waitForFunction(
      (prices) => Object.entries(prices).every(([symbol, text]) => document.querySelector(`[data-testid="price-${symbol}"]`)?.firstElementChild?.textContent === text),
      expected,
      { timeout: LIVE_TIMEOUT_MS },
    );
    await page.waitForTimeout(STOPPED_WATCH_MS);

    assert.deepEqual(await priceTexts(page), expected);
    assert.equal(await page.textContent(STATUS), 'live');
    assert.equal(await page.$('[data-testid="watchlist-stale"]'), null, 'a quiet market is not stale');
    await page.screenshot({ path: `${ARTIFACTS_DIR}markets-stopped.png`, fullPage: true });
  });

  it('rise and fall show up and down arrows', { timeout: TEST_TIMEOUT_MS }, async () => {
    const symbol = SYMBOLS[0];
    const last = (await gatewayPrices(livegate.publicUrl))[symbol];
    const cell = `[data-testid="price-${symbol}"]`;

    for (const [direction, price] of [['up', last + 1], ['down', last - 1]]) {
      await publish(livegate.adminUrl, `prices.${symbol}`, { symbol, price, open: last }, { key: symbol });
      const text = PRICE_FORMAT.format(price);
      await page.waitForFunction(
        ([selector, shown, expected]) => {
          const element = document.querySelector(selector);
          return element?.firstElementChild?.textContent === shown && element.dataset.direction === expected;
        },
        [cell, text, direction],
        { timeout: CHANGE_TIMEOUT_MS },
      );

      const state = (await flashStates(page)).find((item) => item.symbol === symbol);
      assert.equal(state.arrow, ARROWS[direction], `arrow after a ${direction} move`);
      assert.match(state.flashClass, new RegExp(`\\bflash-${direction}\\b`), `flash class after a ${direction} move`);
    }
  });

  it('livegate card shows its own figures', { timeout: TEST_TIMEOUT_MS }, async () => {
    await page.click('a[href="#/monitoring"]');
    const card = '[data-testid="card-gateway"]';
    await page.waitForSelector('[data-testid="gateway-connections"]', { timeout: LIVE_TIMEOUT_MS });
    // Two stats samples give the first rates.
    await page.waitForFunction(
      (selector) => [...document.querySelectorAll(`${selector} dd`)].slice(0, 2).every((dd) => /^\d+\.\d$/.test(dd.textContent)),
      card,
      { timeout: LIVE_TIMEOUT_MS },
    );

    const connections = Number(await page.getAttribute('[data-testid="gateway-connections"]', 'data-value'));
    assert.ok(connections >= 1, `connections ${connections}, expected at least the page's own`);
    const figures = await page.$$eval(`${card} .stats div`, (items) => Object.fromEntries(items.map((item) => [item.querySelector('dt').textContent, item.querySelector('dd').textContent])));
    assert.ok(Number(figures['events in/s']) > 0, `events in/s ${figures['events in/s']}`);
    assert.ok(Number(figures['events out/s']) > 0, `events out/s ${figures['events out/s']}`);
    assert.match(figures.dropped, /^\d[\d,]*$/);
    assert.equal(figures['Lua errors'], '0');
    const sources = await page.$$eval(`${card} .sources li`, (items) => items.map((item) => item.textContent.trim()));
    assert.deepEqual(sources, ['● host ok']);
    assert.equal(await page.getAttribute(card, 'data-fresh'), 'true');
    await page.screenshot({ path: `${ARTIFACTS_DIR}monitoring-gateway.png`, fullPage: true });
  });

  it('stopped livegate marks the prices last known', { timeout: TEST_TIMEOUT_MS }, async () => {
    await page.click('a[href="#/markets"]');
    // The view subscribes again after the switch, so wait until every row shows its price.
    await page.waitForFunction(
      (count) => {
        const cells = [...document.querySelectorAll('[data-testid^="price-"]')];
        return cells.length === count && cells.every((cell) => (cell.firstElementChild?.textContent ?? '') !== '');
      },
      SYMBOLS.length,
      { timeout: LIVE_TIMEOUT_MS },
    );
    const before = await priceTexts(page);
    assert.equal(Object.keys(before).length, SYMBOLS.length);

    const { code } = await livegate.stop();
    assert.equal(code, 0);
    await page.waitForSelector('[data-testid="watchlist-stale"]', { timeout: LIVE_TIMEOUT_MS });
    assert.equal(await page.getAttribute('[data-testid="watchlist"]', 'data-fresh'), 'false');
    assert.deepEqual(await priceTexts(page), before);
    await page.screenshot({ path: `${ARTIFACTS_DIR}markets-offline.png`, fullPage: true });
  });

  it('page raised no errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
