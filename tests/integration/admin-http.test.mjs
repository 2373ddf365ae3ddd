// Integration tests of the admin API and of the HTTP server's limits through the real binary.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startLivegate } from '../lib/livegate.mjs';
import { openSse, publish } from '../lib/sse.mjs';

const TOKEN = 's3cret-token-for-tests';

const config = (webRoot) => `server:
  listen: 127.0.0.1:0
  workers: 2
  web_root: ${JSON.stringify(webRoot)}
  admin:
    listen: 127.0.0.1:0
  limits:
    max_header_size: 2KiB
    max_header_count: 20
    max_request_line: 1KiB
    max_body_size: 4KiB
channels:
  - match: "locked.*"
    publish: false
  - match: "*"
    history: {length: 50}
    publish: true
sinks:
  - type: sse
`;

const TOKEN_CONFIG = `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
    token: ${TOKEN}
    allowed_origins: ["https://ops.example"]
channels:
  - match: "*"
    publish: true
sinks:
  - type: sse
`;

// Sends RAW over a new connection and resolves with everything read until the
// server closes or TIMEOUT_MS passes.
function rawRequest(url, raw, timeoutMs = 3000) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const chunks = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(raw);
  });
}

function statusOf(response) {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
}

describe('admin API and HTTP limits', () => {
  let livegate;
  let webRoot;

  before(async () => {
    webRoot = await mkdtemp(path.join(os.tmpdir(), 'livegate-web-'));
    await mkdir(path.join(webRoot, 'assets'));
    await writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(path.join(webRoot, 'assets', 'index.html'), 'assets');
    livegate = await startLivegate({ config: config(webRoot) });
  });

  after(async () => {
    const { code } = await livegate.stop();
    await rm(webRoot, { recursive: true, force: true });
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('directory redirect stays on this host', async () => {
    for (const target of ['/assets', '//assets']) {
      const response = await rawRequest(livegate.publicUrl, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(response), 301, target);
      assert.match(response, /\r\nLocation: \/assets\/\r\n/, target);
    }
  });

  it('health is ok without sources', async () => {
    const response = await fetch(`${livegate.adminUrl}/health`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok', sources: [], failing: [] });
  });

  it('publish answers 201 with the id', async () => {
    const response = await fetch(`${livegate.adminUrl}/api/channels/orders.1/events?key=k&type=created`, {
      method: 'POST',
      body: '{"qty":5}',
    });
    assert.equal(response.status, 201);
    const body = await response.json();
    assert.equal(body.channel, 'orders.1');
    assert.match(body.id, /^[0-9a-z]+-\d+$/);

    const channel = await (await fetch(`${livegate.adminUrl}/api/channels/orders.1`)).json();
    assert.equal(channel.last_id, body.id);
    assert.equal(channel.events_in, 1);
    assert.equal(channel.rule, '*');
  });

  it('publish errors name the problem', async () => {
    const cases = [
      ['/api/channels/locked.a/events', 'x', 403, /publish: true/],
      ['/api/channels/bad%20name/events', 'x', 400, /invalid channel name/],
      ['/api/channels/ok.a/events', '', 400, /body is empty/],
      ['/api/channels/ok.a/events?type=reset', 'x', 400, /reserved/],
      ['/api/channels/ok.a/events?type=%ff%fe', 'x', 400, /not valid UTF-8/],
      ['/api/channels/ok.a/events?key=%c0%af', 'x', 400, /not valid UTF-8/],
      ['/api/channels/ok.a/nothing', 'x', 404, /events/],
      ['/api/channels/ok.a/events', 'x'.repeat(5000), 413, /.+/],
    ];
    for (const [path, body, status, pattern] of cases) {
      const response = await fetch(`${livegate.adminUrl}${path}`, { method: 'POST', body });
      assert.equal(response.status, status, path);
      assert.match((await response.json()).error, pattern, path);
    }
  });

  it('publish rejects line breaks and bad UTF-8', async () => {
    const cases = [
      ['?type=a%0Ab', '{"x":1}', /invalid type parameter: event type contains a line feed \(LF\) at byte 1/],
      ['?type=a%0Db', '{"x":1}', /invalid type parameter: event type contains a carriage return \(CR\) at byte 1/],
      ['?key=k%0A', '{"x":1}', /invalid key parameter: event key contains a line feed \(LF\) at byte 1/],
      ['?key=%0Dk', '{"x":1}', /invalid key parameter: event key contains a carriage return \(CR\) at byte 0/],
      ['?key=a%00b', '{"x":1}', /encoded NUL byte/],
      ['?type=a%00b', '{"x":1}', /encoded NUL byte/],
      ['', Buffer.from([0x61, 0xff, 0x62]), /request body is not valid UTF-8/],
      ['', Buffer.from('"caf\xe9"', 'latin1'), /request body is not valid UTF-8/],
      ['', Buffer.from([0xed, 0xa0, 0x80]), /request body is not valid UTF-8/],
    ];
    for (const [query, body, pattern] of cases) {
      const response = await fetch(`${livegate.adminUrl}/api/channels/strict.a/events${query}`, { method: 'POST', body });
      assert.equal(response.status, 400, `${query} ${body.toString('hex')}`);
      assert.match((await response.json()).error, pattern, query);
    }

    const channel = await fetch(`${livegate.adminUrl}/api/channels/strict.a`);
    assert.equal(channel.status, 404, 'a rejected publish created the channel');
    const accepted = await fetch(`${livegate.adminUrl}/api/channels/strict.a/events?type=caf%C3%A9`,
      { method: 'POST', body: Buffer.from('"café\t"') });
    assert.equal(accepted.status, 201);
  });

  it('channels list shows counters', async () => {
    await publish(livegate.adminUrl, 'listed.a', { v: 1 });
    await publish(livegate.adminUrl, 'listed.a', { v: 2 });
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=listed.a`);
    await stream.waitFor(() => stream.messages().length === 1, 5000, 'the snapshot');

    const { channels } = await (await fetch(`${livegate.adminUrl}/api/channels`)).json();
    const listed = channels.find((c) => c.name === 'listed.a');
    assert.equal(listed.events_in, 2);
    assert.equal(listed.history, 2);
    assert.equal(listed.subscribers, 1);
    assert.equal(listed.events_out, 1);
    assert.equal(listed.snapshot, 'last');
    assert.equal(listed.overflow, 'conflate');
    stream.close();

    const missing = await fetch(`${livegate.adminUrl}/api/channels/never.seen`);
    assert.equal(missing.status, 404);
  });

  it('stats report workers and connections', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=stats.a`);
    await stream.waitFor(() => stream.named('subscribed').length === 1, 5000, 'subscribed');
    const stats = await (await fetch(`${livegate.adminUrl}/api/stats`)).json();
    assert.equal(stats.workers, 2);
    assert.equal(stats.connections.sse, 1);
    assert.equal(typeof stats.events_in, 'number');
    assert.equal(typeof stats.uptime_ms, 'number');
    assert.equal(stats.listeners.public, livegate.publicUrl.replace('http://', ''));
    assert.match(stats.config.path, /livegate\.yaml$/);
    stream.close();
  });

  it('metrics are Prometheus text', async () => {
    await publish(livegate.adminUrl, 'metrics.a', { v: 1 });
    const response = await fetch(`${livegate.adminUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of ['livegate_connections', 'livegate_events_in_total', 'livegate_events_out_total',
      'livegate_dropped_events_total', 'livegate_queued_bytes', 'livegate_workers'])
      assert.match(text, new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'), name);
    assert.match(text, /^livegate_events_in_total\{channel="metrics.a"\} 1$/m);
    assert.match(text, /^livegate_workers 2$/m);
    assert.match(text, /^livegate_connections\{sink="sse"\} \d+$/m);
    // Every sample line has a name, optional labels and a number.
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#')))
      assert.match(line, /^[a-z_]+(\{[^}]*\})? -?\d+(\.\d+)?$/, line);
  });

  it('oversized header gets 431 and serving goes on', async () => {
    const big = `X-Big: ${'a'.repeat(3000)}\r\n`;
    const response = await rawRequest(livegate.publicUrl, `GET /sse?channel=a HTTP/1.1\r\nHost: x\r\n${big}\r\n`);
    assert.equal(statusOf(response), 431);
    assert.match(response, /"error"/);

    const many = Array.from({ length: 30 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const second = await rawRequest(livegate.publicUrl, `GET / HTTP/1.1\r\nHost: x\r\n${many}\r\n`);
    assert.equal(statusOf(second), 431);

    const ok = await fetch(`${livegate.adminUrl}/health`);
    assert.equal(ok.status, 200);
  });

  it('long request line gets 414', async () => {
    const response = await rawRequest(livegate.publicUrl, `GET /${'a'.repeat(2000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(statusOf(response), 414);
  });

  it('unknown path gets 404 and serving goes on', async () => {
    const response = await fetch(`${livegate.publicUrl}/no/such/path`);
    assert.equal(response.status, 404);
    assert.match((await response.json()).error, /not found/);
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=after.404`);
    assert.equal(stream.status, 200);
    stream.close();
  });

  it('HEAD on /sse gets 405', async () => {
    const response = await fetch(`${livegate.publicUrl}/sse?channel=a`, { method: 'HEAD' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET');
    const stats = await (await fetch(`${livegate.adminUrl}/api/stats`)).json();
    assert.equal(stats.connections.sse, 0);
  });

  it('POST to /sse gets 405', async () => {
    const response = await fetch(`${livegate.publicUrl}/sse?channel=a`, { method: 'POST', body: 'x' });
    assert.equal(response.status, 405);
    assert.match(response.headers.get('allow'), /GET/);
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=after.405`);
    assert.equal(stream.status, 200);
    stream.close();
  });

  it('malformed request gets 400', async () => {
    const response = await rawRequest(livegate.publicUrl, 'NOT HTTP AT ALL\r\n\r\n');
    assert.equal(statusOf(response), 400);
  });

  it('requests from web pages get 403', async () => {
    const response = await fetch(`${livegate.adminUrl}/api/channels/csrf.a/events`, {
      method: 'POST',
      body: 'x',
      headers: { Origin: 'https://evil.example' },
    });
    assert.equal(response.status, 403);
    assert.match((await response.json()).error, /allowed_origins/);
    const missing = await fetch(`${livegate.adminUrl}/api/channels/csrf.a`);
    assert.equal(missing.status, 404, 'the rejected publish must not create the channel');
  });

  it('foreign Host gets 403 without token', async () => {
    const response = await rawRequest(livegate.adminUrl,
      'GET /api/stats HTTP/1.1\r\nHost: rebound.example:8081\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(response), 403);
    assert.match(response, /not a loopback address/);
    for (const host of ['localhost:1', '127.0.0.1', '[::1]:8081']) {
      const ok = await rawRequest(livegate.adminUrl, `GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(ok), 200, host);
    }
  });

  it('keep-alive serves two requests on one connection', async () => {
    const response = await rawRequest(livegate.adminUrl,
      'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.equal(response.match(/HTTP\/1\.1 200 OK/g).length, 2);
  });
});

describe('admin token', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({ config: TOKEN_CONFIG });
  });

  after(async () => {
    await livegate.stop();
  });

  it('requests without the token get 401', async () => {
    for (const path of ['/health', '/api/stats', '/metrics', '/api/channels']) {
      const response = await fetch(`${livegate.adminUrl}${path}`);
      assert.equal(response.status, 401, path);
      assert.match(response.headers.get('www-authenticate'), /^Bearer/);
    }
    const wrong = await fetch(`${livegate.adminUrl}/health`, { headers: { Authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    const publishTry = await fetch(`${livegate.adminUrl}/api/channels/a/events`, { method: 'POST', body: 'x' });
    assert.equal(publishTry.status, 401);
  });

  it('requests with the token succeed', async () => {
    const headers = { Authorization: `Bearer ${TOKEN}` };
    assert.equal((await fetch(`${livegate.adminUrl}/health`, { headers })).status, 200);
    const answer = await publish(livegate.adminUrl, 'a', 'x', { headers });
    assert.equal(answer.channel, 'a');
  });

  it('scheme is case-insensitive and Host is free', async () => {
    const response = await rawRequest(livegate.adminUrl,
      `GET /health HTTP/1.1\r\nHost: gateway.example\r\nAuthorization: bearer ${TOKEN}\r\nConnection: close\r\n\r\n`);
    assert.equal(statusOf(response), 200);
  });

  it('allowed origin may call the API', async () => {
    const headers = { Authorization: `Bearer ${TOKEN}`, Origin: 'https://ops.example' };
    assert.equal((await fetch(`${livegate.adminUrl}/health`, { headers })).status, 200);
    const other = await fetch(`${livegate.adminUrl}/health`, { headers: { ...headers, Origin: 'https://x.example' } });
    assert.equal(other.status, 403);
  });

  it('the token never appears in the log', async () => {
    assert.doesNotMatch(livegate.log(), new RegExp(TOKEN));
  });
});
