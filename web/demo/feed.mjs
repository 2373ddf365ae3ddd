#!/usr/bin/env node
// Demo market feed: publishes a random-walk market (prices.SYMBOL and trades.SYMBOL
// for a few dozen symbols, and the list of symbols in markets.symbols) through
// livegate's admin API, so that the dashboard's markets view can be tried on one machine.
//
// Usage: node web/demo/feed.mjs [--admin URL] [--symbols N] [--rate PER_SECOND] [--duration SECONDS]
// The admin URL defaults to http://$LIVEGATE_ADMIN_LISTEN (127.0.0.1:8081), and
// LIVEGATE_ADMIN_TOKEN, when set, is sent as the bearer token.

import { parseArgs } from 'node:util';

const SYMBOLS = [
  'AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'META', 'TSLA', 'AVGO', 'ORCL', 'AMD',
  'NFLX', 'ADBE', 'CRM', 'INTC', 'CSCO', 'QCOM', 'TXN', 'IBM', 'UBER', 'SHOP',
  'PYPL', 'SQ', 'SNOW', 'PLTR', 'ABNB', 'COIN', 'ARM', 'MU', 'PANW', 'NOW',
  'INTU', 'AMAT', 'LRCX', 'KLAC', 'MRVL', 'ADI', 'NXPI', 'ON', 'MCHP', 'SNPS',
  'CDNS', 'FTNT', 'ZS', 'CRWD', 'DDOG', 'NET', 'MDB', 'TEAM', 'WDAY', 'HUBS',
];

// Maximum of requests in flight. A tick that finds this many is skipped and counted,
// so a slow gateway slows the feed down instead of piling up requests.
const MAX_IN_FLIGHT = 64;
const SYMBOLS_REPUBLISH_MS = 30000;
const REPORT_INTERVAL_MS = 5000;

const { values: args } = parseArgs({
  options: {
    admin: { type: 'string', default: `http://${process.env.LIVEGATE_ADMIN_LISTEN || '127.0.0.1:8081'}` },
    symbols: { type: 'string', default: '30' },
    rate: { type: 'string', default: '2' },
    duration: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  console.log(`usage: node web/demo/feed.mjs [--admin URL] [--symbols N] [--rate PER_SECOND] [--duration SECONDS]
  --admin URL        livegate's admin listener (default ${args.admin})
  --symbols N        how many symbols, 1 to ${SYMBOLS.length} (default 30)
  --rate N           price updates per second per symbol (default 2); each update also publishes one trade
  --duration S       stop after S seconds (default 0: run until Ctrl-C)`);
  process.exit(0);
}

const symbolCount = Number(args.symbols);
const rate = Number(args.rate);
const durationS = Number(args.duration);
if (!Number.isInteger(symbolCount) || symbolCount < 1 || symbolCount > SYMBOLS.length)
  fail(`invalid --symbols ${args.symbols}: expected a whole number from 1 to ${SYMBOLS.length}`);
if (!Number.isFinite(rate) || rate <= 0 || rate > 1000)
  fail(`invalid --rate ${args.rate}: expected updates per second, more than 0 and at most 1000`);
if (!Number.isFinite(durationS) || durationS < 0)
  fail(`invalid --duration ${args.duration}: expected seconds, 0 or more`);

const adminUrl = args.admin.replace(/\/+$/, '');
const headers = { 'Content-Type': 'application/json' };
if (process.env.LIVEGATE_ADMIN_TOKEN)
  headers.Authorization = `Bearer ${process.env.LIVEGATE_ADMIN_TOKEN}`;

function fail(message) {
  console.error(`feed: ${message}`);
  process.exit(2);
}

// A geometric random walk per symbol, with its own volatility, around a start price.
function createMarket(symbols) {
  return symbols.map((symbol, index) => {
    const start = 20 + ((index * 7919) % 480) + Math.random() * 10;
    return { symbol, price: start, open: start, volatility: 0.0004 + Math.random() * 0.0012 };
  });
}

// Standard normal sample (Box-Muller).
function gaussian() {
  const u = 1 - Math.random();
  const v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function step(quote) {
  quote.price = Math.max(0.01, quote.price * Math.exp(quote.volatility * gaussian()));
  const spread = Math.max(0.01, quote.price * 0.0002);
  const price = round(quote.price);
  return {
    price: { symbol: quote.symbol, price, open: round(quote.open), bid: round(price - spread / 2), ask: round(price + spread / 2) },
    trade: { symbol: quote.symbol, price, size: 1 + Math.floor(Math.random() ** 3 * 500), side: Math.random() < 0.5 ? 'buy' : 'sell' },
  };
}

function round(value) {
  return Math.round(value * 100) / 100;
}

const counts = { published: 0, failed: 0, skipped: 0 };
let inFlight = 0;
let lastError = '';

async function publish(channel, key, data) {
  if (inFlight >= MAX_IN_FLIGHT) {
    counts.skipped += 1;
    return;
  }
  inFlight += 1;
  const query = key === null ? '' : `?key=${encodeURIComponent(key)}`;
  try {
    const response = await fetch(`${adminUrl}/api/channels/${encodeURIComponent(channel)}/events${query}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(data),
    });
    const body = await response.text();
    if (response.status === 201 || response.status === 202) {
      counts.published += 1;
    } else {
      counts.failed += 1;
      lastError = `POST ${channel} returned HTTP ${response.status}: ${errorMessage(body)}`;
    }
  } catch (error) {
    counts.failed += 1;
    lastError = `POST ${channel} failed: ${error.cause?.message ?? error.message}`;
  } finally {
    inFlight -= 1;
  }
}

// Returns the "error" member of a livegate error body, or the body itself.
function errorMessage(body) {
  try {
    return JSON.parse(body).error ?? body;
  } catch {
    return body;
  }
}

const market = createMarket(SYMBOLS.slice(0, symbolCount));
const publishSymbols = () => publish('markets.symbols', null, { symbols: market.map((quote) => quote.symbol) });

// Ticks are spread evenly over each second, so the gateway receives a steady stream
// and not a burst per period. Each timer callback publishes the ticks that are due by the clock,
// because Node's timers fire at most once per millisecond and late under load.
const TIMER_MS = 5;
const ticksPerMs = (rate * market.length) / 1000;
const startedAt = performance.now();
let ticksDone = 0;
let next = 0;
const tickTimer = setInterval(() => {
  const due = Math.floor((performance.now() - startedAt) * ticksPerMs);
  for (; ticksDone < due; ticksDone += 1) {
    const quote = market[next];
    next = (next + 1) % market.length;
    const { price, trade } = step(quote);
    void publish(`prices.${quote.symbol}`, quote.symbol, price);
    void publish(`trades.${quote.symbol}`, quote.symbol, trade);
  }
}, TIMER_MS);

const symbolsTimer = setInterval(publishSymbols, SYMBOLS_REPUBLISH_MS);
const reportTimer = setInterval(() => {
  const errorText = counts.failed > 0 ? `, last error: ${lastError}` : '';
  console.log(`feed: ${counts.published} published, ${counts.failed} failed, ${counts.skipped} skipped${errorText}`);
}, REPORT_INTERVAL_MS);

function stop() {
  clearInterval(tickTimer);
  clearInterval(symbolsTimer);
  clearInterval(reportTimer);
  console.log(`feed: stopped after ${counts.published} events (${counts.failed} failed, ${counts.skipped} skipped)`);
}

process.once('SIGINT', stop);
process.once('SIGTERM', stop);
if (durationS > 0)
  setTimeout(stop, durationS * 1000).unref();

console.log(`feed: publishing ${market.length} symbols at ${rate} updates per second each to ${adminUrl}`);
// The first publication decides whether the feed can work at all, so a gateway that
// is not there or rejects the feed stops it with exit code 1 instead of counting
// failures forever.
await publishSymbols();
if (counts.failed > 0) {
  const hint = /HTTP 40[13]/.test(lastError)
    ? 'set LIVEGATE_ADMIN_TOKEN to the gateway\'s server.admin.token'
    : `check that livegate is running with its admin API at ${adminUrl}`;
  console.error(`feed: ${lastError}; ${hint}`);
  stop();
  process.exit(1);
}
