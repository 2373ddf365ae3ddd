// The http_poll source against an HTTP server started here on loopback: change
// detection, conditional requests that get 304, bad responses that must
// never reach subscribers, backoff and health, and array splitting.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { checkConfig } from '../lib/cli.mjs';
import { startLivegate } from '../lib/livegate.mjs';
import { openSse } from '../lib/sse.mjs';

const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;
const WAIT_MS = 8000 * SLOW;

async function until(check, what) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const PROMETHEUS_LUA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../lua/prometheus.lua');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The upstream API: each path's behaviour is set by the tests.
class Upstream {
  constructor() {
    this.requests = {};
    this.plain = { v: 1 };
    this.conditional = { v: 1 };
    this.list = [{ sym: 'A', p: 1 }, { sym: 'B', p: 2 }, { p: 3 }];
    this.faulty = 'good';
    this.scrape = '# TYPE node_load1 gauge\nnode_load1 0.5\nnode_load5{cpu="all"} 0.25\n';
    this.hanging = [];
    this.server = http.createServer((req, res) => this.#handle(req, res));
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.url = `http://127.0.0.1:${this.server.address().port}`;
      resolve();
    }));
  }

  close() {
    for (const res of this.hanging)
      res.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }

  count(path) {
    return (this.requests[path] ?? []).length;
  }

  #handle(req, res) {
    const path = req.url.split('?')[0];
    (this.requests[path] ??= []).push({ headers: req.headers, at: Date.now() });

    if (path === '/plain')
      return this.#json(res, this.plain);
    if (path === '/conditional')
      return this.#conditional(req, res);
    if (path === '/list')
      return this.#json(res, { data: { items: this.list } });
    if (path === '/scrape') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      return res.end(this.scrape);
    }
    if (path === '/faulty')
      return this.#faulty(res);
    res.writeHead(404).end();
  }

  #json(res, value, headers = {}) {
    res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  }

  #conditional(req, res) {
    const body = JSON.stringify(this.conditional);
    const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 12)}"`;
    const lastModified = 'Wed, 02 Dec 2026 10:00:00 GMT';
    if (req.headers['if-none-match'] === etag) {
      // As some APIs do: 304 with an empty body and a JSON content type.
      res.writeHead(304, { ETag: etag, 'Content-Type': 'application/json' });
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': 'application/json', ETag: etag, 'Last-Modified': lastModified });
    res.end(body);
  }

  #faulty(res) {
    switch (this.faulty) {
      case 'good':
        return this.#json(res, { status: 'good' });
      case 'html':
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      case '500':
        res.writeHead(500, { 'Content-Type': 'application/json' });
        return res.end('{"error":"internal"}');
      case 'big':
        return this.#json(res, { pad: 'x'.repeat(4096) });
      case 'hang':
        this.hanging.push(res);
        return undefined;
      default:
        throw new Error(`unknown mode ${this.faulty}`);
    }
  }
}

function metric(text, name, source) {
  const line = text.split('\n').find((l) => l.startsWith(`livegate_${name}{source="${source}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('http_poll source', () => {
  const upstream = new Upstream();
  let livegate;

  const metrics = async () => (await fetch(`${livegate.adminUrl}/metrics`)).text();
  const health = async () => {
    const response = await fetch(`${livegate.adminUrl}/health`);
    return { status: response.status, body: await response.json() };
  };

  before(async () => {
    await upstream.listen();
    const poll = (name, path, extra) => `  - name: ${name}
    type: http_poll
    url: ${upstream.url}${path}?token=hidden-query-value
    interval: 150ms
${extra}`;
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
sources:
${poll('plain', '/plain', '    channel: poll.plain\n')}
${poll('conditional', '/conditional', '    channel: poll.conditional\n')}
${poll('list', '/list', '    channel: "quotes.{key}"\n    array: data.items\n    key: sym\n    event_type: quote\n')}
${poll('faulty', '/faulty', `    channel: poll.faulty
    max_body: 1KiB
    timeout: ${500 * SLOW}ms
    backoff_max: 600ms
    headers: ["Authorization: Bearer header-secret-value"]
`)}
${poll('scrape', '/scrape', '    channel: scrape.node\n    format: text\n')}
channels:
  - match: "scrape.*"
    lua: ${PROMETHEUS_LUA}
    lua_config: {output: "metrics.{name}"}
  - match: "*"
    publish: true
sinks:
  - type: sse
`,
    });
  });

  after(async () => {
    const { code } = await livegate.stop();
    await upstream.close();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
    assert.doesNotMatch(livegate.log(), /hidden-query-value|header-secret-value/, 'a secret reached the log');
  });

  it('changing JSON is delivered and unchanged JSON is not', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=poll.plain`);
    await stream.waitFor(() => stream.messages().some((m) => m.data.v === 1), WAIT_MS, 'v 1');

    // Several more polls of the same body publish nothing.
    const seen = upstream.count('/plain');
    await until(() => upstream.count('/plain') >= seen + 4, 'four more polls');
    assert.equal(stream.messages().length, 1, JSON.stringify(stream.messages()));

    upstream.plain = { v: 2 };
    await stream.waitFor(() => stream.messages().some((m) => m.data.v === 2), WAIT_MS, 'v 2');
    const seenAfter = upstream.count('/plain');
    await until(() => upstream.count('/plain') >= seenAfter + 3, 'three more polls');
    assert.deepEqual(stream.messages().map((m) => m.data.v), [1, 2]);
    assert.ok(metric(await metrics(), 'http_poll_unchanged_total', 'plain') >= 4);
    stream.close();
  });

  it('304 with an empty body keeps validators and logs nothing', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=poll.conditional`);
    await stream.waitFor(() => stream.messages().length === 1, WAIT_MS, 'the first body');

    const start = upstream.count('/conditional');
    await until(() => upstream.count('/conditional') >= start + 5, 'five conditional polls');

    // Every poll after the first sent both validators, the same ones throughout.
    const later = upstream.requests['/conditional'].slice(1);
    const etags = new Set(later.map((r) => r.headers['if-none-match']));
    assert.equal(etags.size, 1, [...etags].join(', '));
    assert.match([...etags][0], /^"[0-9a-f]{12}"$/);
    for (const request of later)
      assert.equal(request.headers['if-modified-since'], 'Wed, 02 Dec 2026 10:00:00 GMT');

    const text = await metrics();
    assert.ok(metric(text, 'http_poll_not_modified_total', 'conditional') >= 4, text);
    assert.equal(metric(text, 'http_poll_errors_total', 'conditional'), 0);
    assert.doesNotMatch(livegate.log(), /\/conditional.*(failed|error)/);
    assert.equal(stream.messages().length, 1);

    // A new body gets a new ETag, a 200 and one event.
    upstream.conditional = { v: 2 };
    await stream.waitFor(() => stream.messages().some((m) => m.data.v === 2), WAIT_MS, 'the second body');
    assert.equal(stream.messages().length, 2);
    stream.close();
  });

  it('bad answers are counted, backed off, and never replace good data', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=poll.faulty`);
    await stream.waitFor(() => stream.messages().length === 1, WAIT_MS, 'the good body');
    assert.equal((await health()).status, 200);

    const cases = [
      ['html', 'http_poll_parse_errors_total', /HTTP 200 with Content-Type text\/html: the body is not JSON/],
      ['500', 'http_poll_status_errors_total', /HTTP 500; nothing was published/],
      ['big', 'http_poll_oversized_total', /larger than 1024 bytes/],
      ['hang', 'http_poll_timeouts_total', /[Tt]imeout|timed out/],
    ];
    for (const [mode, counter, message] of cases) {
      const before = metric(await metrics(), counter, 'faulty');
      upstream.faulty = mode;
      await until(async () => metric(await metrics(), counter, 'faulty') > before, `a counted ${mode} error`);

      const lines = livegate.log().split('\n').filter((l) => l.includes('poll of http://127.0.0.1'));
      assert.ok(lines.some((l) => message.test(l) && l.includes('/faulty')), `${mode}: ${lines.slice(-3).join('\n')}`);

      const { status, body } = await health();
      assert.equal(status, 503, mode);
      assert.deepEqual(body.failing, ['faulty'], JSON.stringify(body));
      const source = body.sources.find((s) => s.name === 'faulty');
      assert.equal(source.status, 'degraded');
      assert.match(source.reason, /^poll of http:\/\/127\.0\.0\.1:\d+\/faulty failed: /);

      // Nothing new reached the subscriber, and a newcomer still gets the good data.
      assert.equal(stream.messages().length, 1, mode);
      const late = await openSse(`${livegate.publicUrl}/sse?channel=poll.faulty`);
      await late.waitFor(() => late.messages().length === 1, WAIT_MS, 'the snapshot');
      assert.deepEqual(late.messages()[0].data, { status: 'good' });
      late.close();
    }

    // After N failures in a row the wait is between interval and min(backoff_max, interval * 2^N).
    const lines = livegate.log().split('\n').filter((l) => l.includes('/faulty'));
    const waits = lines.map((l) => /next poll of \S+ in (\d+) ms \(failed polls in a row: (\d+)\)/.exec(l))
      .filter((m) => m !== null).map((m) => [Number(m[2]), Number(m[1])]);
    assert.ok(waits.length >= 3, lines.join('\n'));
    assert.ok(waits.some(([n]) => n >= 3), JSON.stringify(waits));
    for (const [n, wait] of waits) {
      assert.ok(wait >= 150, JSON.stringify(waits));
      assert.ok(wait <= Math.min(600, 150 * 2 ** n), JSON.stringify(waits));
    }

    upstream.faulty = 'good';
    await until(async () => (await health()).status === 200, 'health ok again');
    assert.match(livegate.log(), /\/faulty answers again \(failed polls in a row: \d+\)/);
    assert.equal(stream.messages().length, 1, 'the same good body is not published twice');
    stream.close();
  });

  it('text bodies reach a channel script; an empty one is an error', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=metrics.node_load1&channel=metrics.node_load5`);
    await stream.waitFor(() => stream.messages().length === 2, WAIT_MS, 'two samples');
    const byName = Object.fromEntries(stream.messages().map((m) => [m.data.name, m.data]));
    assert.equal(byName.node_load1.value, 0.5);
    assert.equal(byName.node_load1.type, 'gauge');
    assert.deepEqual(byName.node_load5.labels, { cpu: 'all' });

    const before = metric(await metrics(), 'http_poll_parse_errors_total', 'scrape');
    upstream.scrape = '';
    await until(async () => metric(await metrics(), 'http_poll_parse_errors_total', 'scrape') > before, 'an empty body error');
    assert.match(livegate.log(), /poll of \S+\/scrape failed \(\d+ in a row\): HTTP 200 with Content-Type text\/plain; version=0\.0\.4: the body is empty/);

    upstream.scrape = 'node_load1 0.75\n';
    await stream.waitFor(() => stream.messages().some((m) => m.data.value === 0.75), WAIT_MS, 'the new sample');
    stream.close();
  });

  it('array elements become keyed events in their channels', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=quotes.A&channel=quotes.B`);
    await stream.waitFor(() => stream.messages().length === 2, WAIT_MS, 'two quotes');
    const byKey = Object.fromEntries(stream.messages().map((m) => [m.key, m]));
    assert.deepEqual(byKey.A.data, { sym: 'A', p: 1 });
    assert.equal(byKey.A.channel, 'quotes.A');
    assert.equal(byKey.A.sseEvent, 'quote');
    assert.deepEqual(byKey.B.data, { sym: 'B', p: 2 });

    // The element without a key is left out and counted.
    assert.ok(metric(await metrics(), 'http_poll_skipped_elements_total', 'list') >= 1);
    assert.match(livegate.log(), /array elements left out, the first: element 2 has no key field \(key: sym\)/);

    // Only the element that changed is published again.
    upstream.list = [{ sym: 'A', p: 1 }, { sym: 'B', p: 5 }];
    await stream.waitFor(() => stream.messages().length === 3, WAIT_MS, 'the changed quote');
    const last = stream.messages()[2];
    assert.equal(last.key, 'B');
    assert.deepEqual(last.data, { sym: 'B', p: 5 });
    await sleep(500);
    assert.equal(stream.messages().length, 3);
    stream.close();
  });
});

describe('http_poll configuration', () => {
  const source = (extra) => `sources:\n  - name: api\n    type: http_poll\n${extra}`;
  const cases = [
    ['ftp URL', '    url: ftp://127.0.0.1/x\n    channel: a\n', /invalid url: the URL's scheme is "ftp": only http and https/],
    ['URL without host', '    url: "http://"\n    channel: a\n', /invalid url: /],
    ['header without a name', '    url: http://127.0.0.1/x\n    channel: a\n    headers: ["no colon here"]\n',
      /headers entry 1 has no name before a ':'/],
    ['{key} without key', '    url: http://127.0.0.1/x\n    channel: "q.{key}"\n', /uses \{key\}, but key is not set/],
    ['body with GET', '    url: http://127.0.0.1/x\n    channel: a\n    body: "{}"\n', /body is set, but method is GET/],
    ['short backoff_max', '    url: http://127.0.0.1/x\n    channel: a\n    interval: 10m\n',
      /backoff_max \(300000 ms\) is shorter than interval \(600000 ms\)/],
    ['array with text', '    url: http://127.0.0.1/x\n    channel: a\n    format: text\n    array: items\n',
      /array and key need format: json/],
    ['missing url', '    channel: a\n', /url/],
    ['unreadable ca_file', '    url: https://127.0.0.1/x\n    channel: a\n    ca_file: /nonexistent/ca.pem\n',
      /invalid ca_file "\/nonexistent\/ca.pem": No such file or directory/],
  ];
  for (const [name, extra, message] of cases) {
    it(`${name} is refused`, async () => {
      const result = await checkConfig(source(extra));
      assert.notEqual(result.code, 0, result.output);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /source 'api'/);
    });
  }

  it('a secret header value never appears in errors', async () => {
    const result = await checkConfig(source('    url: http://127.0.0.1/x\n    channel: a\n    headers: "Bad Name: s3cr3t-value"\n'));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /headers entry 1 has a space in its name/);
    assert.doesNotMatch(result.stderr, /s3cr3t-value/);
  });

  it('a valid target passes -t', async () => {
    const result = await checkConfig(source('    url: https://127.0.0.1:9/x\n    channel: "q.{key}"\n    array: .\n    key: id\n'));
    assert.equal(result.code, 0, result.output);
  });
});

describe('http_poll reload', () => {
  let livegate;
  let original;
  const reload = async () => {
    const response = await fetch(`${livegate.adminUrl}/api/reload`, { method: 'POST' });
    return { status: response.status, body: await response.json() };
  };

  before(async () => {
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
sources:
  - name: api
    type: http_poll
    url: http://127.0.0.1:9/x
    interval: 10s
    channel: a
channels:
  - match: "*"
sinks:
  - type: sse
`,
    });
    original = readFileSync(livegate.configPath, 'utf8');
  });

  after(async () => {
    const { code } = await livegate.stop();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('invalid source fails the reload', async () => {
    writeFileSync(livegate.configPath, original.replace('url: http://127.0.0.1:9/x', 'url: ftp://127.0.0.1:9/x'));
    const { status, body } = await reload();
    assert.equal(status, 400);
    assert.match(body.error, /livegate\.yaml:6:5: source 'api' \(http_poll\): invalid url: the URL's scheme is "ftp"/);
    writeFileSync(livegate.configPath, original);
  });

  it('warning stays until a restart', async () => {
    writeFileSync(livegate.configPath, original.replace('interval: 10s', 'interval: 20s'));
    const first = await reload();
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.warnings, ['sources changed: restart to apply it']);

    // The running source still polls every 10 s, so the next reload says so too.
    const second = await reload();
    assert.equal(second.status, 200);
    assert.deepEqual(second.body.warnings, ['sources changed: restart to apply it']);

    writeFileSync(livegate.configPath, original);
    const restored = await reload();
    assert.deepEqual(restored.body.warnings, []);
  });
});

describe('http_poll over https', () => {
  let dir;
  let server;
  let livegate;

  before(async () => {
    // A self-signed certificate for 127.0.0.1, made for this run.
    dir = mkdtempSync(path.join(os.tmpdir(), 'livegate-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
    { stdio: 'ignore' });
    server = https.createServer({
      key: readFileSync(path.join(dir, 'key.pem')),
      cert: readFileSync(path.join(dir, 'cert.pem')),
    }, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"secure":true}');
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${server.address().port}/api`;

    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
sources:
  - name: trusted
    type: http_poll
    url: ${url}
    ca_file: ${path.join(dir, 'cert.pem')}
    channel: tls.trusted
    interval: 200ms
  - name: untrusted
    type: http_poll
    url: ${url}
    channel: tls.untrusted
    interval: 200ms
channels:
  - match: "*"
sinks:
  - type: sse
`,
    });
  });

  after(async () => {
    const { code } = await livegate.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('ca_file verifies a private certificate', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=tls.trusted`);
    await stream.waitFor(() => stream.messages().length === 1, WAIT_MS, 'the https body');
    assert.deepEqual(stream.messages()[0].data, { secure: true });
    stream.close();
  });

  it('an unverified certificate is a connect error', async () => {
    await until(async () => {
      const text = await (await fetch(`${livegate.adminUrl}/metrics`)).text();
      return metric(text, 'http_poll_connect_errors_total', 'untrusted') > 0;
    }, 'a counted certificate error');
    const body = await (await fetch(`${livegate.adminUrl}/health`)).json();
    assert.deepEqual(body.failing, ['untrusted']);
    assert.match(body.sources.find((s) => s.name === 'untrusted').reason, /certificate/i);
  });
});
