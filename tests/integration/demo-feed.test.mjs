// Integration tests of the demo market feed (web/demo/feed.mjs) against a real
// livegate: a feed that cannot publish must stop at once with a reason and a hint.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { freePort, scaled } from '../lib/cli.mjs';
import { startLivegate } from '../lib/livegate.mjs';

const FEED = fileURLToPath(new URL('../../web/demo/feed.mjs', import.meta.url));
const TOKEN = 'feed-test-token';

// Runs the feed with ARGS and ENV and resolves with { code, stdout, stderr }.
function runFeed(args, env) {
  return new Promise((resolve) => {
    const environment = { ...process.env, ...env };
    delete environment.LIVEGATE_ADMIN_LISTEN;
    if (env.LIVEGATE_ADMIN_TOKEN === undefined)
      delete environment.LIVEGATE_ADMIN_TOKEN;
    execFile(process.execPath, [FEED, ...args], { env: environment, timeout: scaled(10000) }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

describe('demo feed', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
    token: ${TOKEN}
channels:
  - match: "*"
    publish: true
sinks:
  - type: sse
`,
    });
  });

  after(async () => {
    await livegate?.stop();
  });

  it('publishes with the token', async () => {
    const result = await runFeed(['--admin', livegate.adminUrl, '--symbols', '2', '--duration', '1'],
      { LIVEGATE_ADMIN_TOKEN: TOKEN });

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /feed: stopped after [1-9]\d* events \(0 failed/);
  });

  it('without token exits 1', async () => {
    const result = await runFeed(['--admin', livegate.adminUrl, '--duration', '30'], {});

    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /HTTP 401: missing or invalid bearer token/);
    assert.match(result.stderr, /set LIVEGATE_ADMIN_TOKEN/);
  });

  it('unreachable gateway exits 1', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await runFeed(['--admin', closed, '--duration', '30'], {});

    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /ECONNREFUSED/);
    assert.match(result.stderr, new RegExp(`check that livegate is running with its admin API at ${closed}`));
  });
});
