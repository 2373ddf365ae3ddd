// Frame times of the dashboard's markets view in headless Chromium while 50 symbols
// update 20 times per second each (the demo feed through the admin API), over WebSocket.
// Prints p50, p95 and max frame time from requestAnimationFrame timestamps and the
// events the feed published. Not part of the tests.
//
// Usage (after scripts/build.sh and npm run build in web/, with tests/ npm ci done):
//   node bench/frame-times.mjs [--seconds 20] [--symbols 50] [--rate 20]

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { launchChromium } from '../tests/browser/chromium.mjs';
import { startLivegate } from '../tests/lib/livegate.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    symbols: { type: 'string', default: '50' },
    rate: { type: 'string', default: '20' },
  },
});
const seconds = Number(args.seconds);
const WARMUP_MS = 3000;
const top = fileURLToPath(new URL('..', import.meta.url));

const livegate = await startLivegate({
  buildDir: `${top}build`,
  config: `server:
  listen: 127.0.0.1:0
  web_root: ${JSON.stringify(`${top}web/dist`)}
  admin:
    listen: 127.0.0.1:0
sources:
  - name: host
    type: sysmetrics
channels:
  - match: "system.*"
    history: {length: 300}
  - match: "*"
    history: {length: 1000}
    snapshot: keyed
    publish: true
sinks:
  - type: sse
  - type: websocket
`,
});

const feedOutput = [];
const feed = spawn(process.execPath, [`${top}web/demo/feed.mjs`, '--admin', livegate.adminUrl, '--symbols', args.symbols, '--rate', args.rate, '--duration', String(seconds + WARMUP_MS / 1000 + 5)], { stdio: ['ignore', 'pipe', 'inherit'] });
feed.stdout.setEncoding('utf8');
feed.stdout.on('data', (text) => feedOutput.push(text));

const browser = await launchChromium();
try {
  await browser.page.goto(`${livegate.publicUrl}/?transport=ws#/markets`);
  await browser.page.waitForSelector('[data-testid="watchlist"]', { timeout: 15000 });
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));

  const frames = await browser.page.evaluate((durationMs) => new Promise((resolve) => {
    const deltas = [];
    let last = performance.now();
    const end = last + durationMs;
    requestAnimationFrame(function frame(time) {
      deltas.push(time - last);
      last = time;
      if (time < end)
        requestAnimationFrame(frame);
      else
        resolve(deltas);
    });
  }), seconds * 1000);

  frames.sort((a, b) => a - b);
  const percentile = (p) => frames[Math.min(frames.length - 1, Math.floor((p / 100) * frames.length))].toFixed(1);
  console.log(`frames: ${frames.length} in ${seconds} s; p50 ${percentile(50)} ms, p95 ${percentile(95)} ms, max ${frames.at(-1).toFixed(1)} ms`);
} finally {
  await browser.close();
  feed.kill('SIGTERM');
  await new Promise((resolve) => feed.once('close', resolve));
  await livegate.stop();
  console.log(feedOutput.join('').trim().split('\n').at(-1));
}
