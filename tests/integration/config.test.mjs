// Integration tests of configuration checking and the command line against the real
// binary: -t, error positions and reasons, ${VAR} expansion, YAML merge keys, --help,
// the embedded default config, and the SIGHUP, SIGTERM and SIGINT handlers.

import assert from 'node:assert/strict';
import { readFile, rename, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startLivegate } from '../lib/livegate.mjs';
import { openSse, publish } from '../lib/sse.mjs';
import {
  canBind,
  checkConfig,
  environment,
  freePort,
  holdPort,
  livegatePaths,
  makeTempDir,
  runLivegate,
  scaled,
  spawnLivegate,
  writeTempFile,
} from '../lib/cli.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const BOUND_LINE = /listener bound to/;

// A minimal valid configuration: both listeners on free loopback ports.
const LISTENERS = `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
`;

// Asserts that RESULT is a rejected configuration: exit code 1, nothing on stdout,
// and a single line "livegate: FILE:LINE:COLUMN: reason" on stderr whose reason
// contains every entry of PARTS.
function assertConfigError(result, line, column, parts) {
  const prefix = `livegate: ${result.path}:${line}:${column}: `;

  assert.equal(result.code, 1, `exit code; output:\n${result.output}`);
  assert.equal(result.stdout, '');
  assert.ok(result.stderr.startsWith(prefix), `expected stderr to start with "${prefix}", got:\n${result.stderr}`);
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, `expected one line, got:\n${result.stderr}`);
  for (const part of parts)
    assert.ok(result.stderr.includes(part), `expected "${part}" in:\n${result.stderr}`);
}

function assertValid(result) {
  assert.equal(result.code, 0, `exit code; output:\n${result.output}`);
  assert.equal(result.stdout, `livegate: configuration ${result.path} is valid\n`);
  assert.equal(result.stderr, '');
}

async function fetchWithTimeout(url, options = {}, timeoutMs = scaled(3000)) {
  return fetch(url, { ...options, signal: AbortSignal.timeout(timeoutMs) });
}

// Resolves with the value of PROMISE, or with 'timeout' when TIMEOUTMS passes first.
async function orTimeout(promise, timeoutMs) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Resolves with the entry of GET /api/channels named NAME.
async function channelInfo(adminUrl, name) {
  const response = await fetchWithTimeout(`${adminUrl}/api/channels`);
  assert.equal(response.status, 200);
  const { channels } = await response.json();
  const channel = channels.find((entry) => entry.name === name);
  assert.ok(channel !== undefined, `channel ${name} not listed in ${JSON.stringify(channels)}`);
  return channel;
}

// Writes CONFIG and starts livegate with it and ENV. Resolves with { handle, file }.
async function spawnLivegateWith(config, env) {
  const file = await writeTempFile(config);
  const { modules } = livegatePaths();
  const handle = spawnLivegate(['-c', file.path, '--plugin-dir', modules], { env, cwd: file.dir });
  return { handle, file };
}

async function stopRun({ handle, file }) {
  const status = await handle.stop();
  await file.remove();
  assert.equal(status.killed, false, `livegate did not stop on SIGTERM; output:\n${handle.output()}`);
  assert.equal(status.code, 0, `livegate exited with ${status.code}; output:\n${handle.output()}`);
}

// Parses the option lines of a --help section ("  name   type  ...", nested
// options indented two more spaces) into paths such as "admin.token".
function helpOptions(section) {
  const names = [];
  const parents = [];
  const line = /^( {2,})(\w+)\s+(string|integer|duration|size|enum|bool|number|list|table|any|tables)\b/gm;
  for (const [, indent, name] of section.matchAll(line)) {
    const depth = indent.length / 2 - 1;
    parents.length = depth;
    names.push([...parents, name].join('.'));
    parents.push(name);
  }
  return names;
}

// Returns the text of HELP from the line matching START up to the next line matching END.
function helpSection(help, start, end) {
  const from = help.search(start);
  assert.notEqual(from, -1, `no section ${start} in --help:\n${help}`);
  const rest = help.slice(from);
  const to = rest.slice(1).search(end);
  return to === -1 ? rest : rest.slice(0, to + 1);
}

// Returns the option names that livegate lists when CONFIG has an unknown key.
async function validOptions(config) {
  const result = await checkConfig(config);
  const match = /valid options are: (.*)$/m.exec(result.stderr);
  assert.ok(match !== null, `no list of valid options in:\n${result.output}`);
  return match[1].split(', ');
}

describe('configuration check', () => {
  it('valid config passes -t', async () => {
    const result = await checkConfig(`${LISTENERS}sources:
  - name: host
    type: sysmetrics
    interval: 1s
channels:
  - match: "system.*"
    history:
      length: 10
      max_age: 1m
    snapshot: last
  - match: "*"
    snapshot: keyed
    overflow: drop
    publish: true
sinks:
  - type: sse
`);

    assertValid(result);
  });

  it('-t binds no port', async () => {
    const occupied = await holdPort();
    const config = `server:
  listen: 127.0.0.1:${occupied.port}
  admin:
    listen: 127.0.0.1:${occupied.port}
`;
    const file = await writeTempFile(config);
    const { modules } = livegatePaths();
    try {
      const check = await runLivegate(['-t', '-c', file.path, '--plugin-dir', modules]);
      assert.equal(check.code, 0, `-t output:\n${check.output}`);
      assert.equal(check.stdout, `livegate: configuration ${file.path} is valid\n`);

      // A real start needs the port, so it must fail by itself and name the address.
      const run = await runLivegate(['-c', file.path, '--plugin-dir', modules]);
      assert.notEqual(run.code, 0, `start output:\n${run.output}`);
      assert.equal(run.signal, null);
      assert.match(run.stderr, new RegExp(`127\\.0\\.0\\.1:${occupied.port}\\b`));
      assert.doesNotMatch(run.output, BOUND_LINE);
    } finally {
      await occupied.close();
      await file.remove();
    }
  });

  it('x- keys hold anchors for reuse', async () => {
    const result = await checkConfig(`x-history: &history
  length: 7
channels:
  - match: "*"
    history: *history
`);

    assertValid(result);
  });

  it('token with a space is rejected', async () => {
    const result = await checkConfig('server:\n  admin:\n    token: "two words"\n');

    assertConfigError(result, 3, 12, ['server.admin.token contains a space']);
    assert.doesNotMatch(result.stderr, /two words/);
  });

  it('missing web_root is rejected', async () => {
    const result = await checkConfig('server:\n  web_root: /nonexistent/livegate-web\n');

    assertConfigError(result, 2, 13, ['server.web_root', '/nonexistent/livegate-web', 'No such file or directory']);
  });

  it('web_root that is a file is rejected', async () => {
    const result = await checkConfig('server:\n  web_root: /etc/passwd\n');

    assertConfigError(result, 2, 13, ['/etc/passwd is not a directory']);
  });

  it('bad sysmetrics channel_prefix is rejected', async () => {
    const result = await checkConfig('sources:\n  - name: host\n    type: sysmetrics\n    channel_prefix: "bad prefix"\n');

    assertConfigError(result, 2, 5, ["invalid channel_prefix 'bad prefix'"]);
  });

  it('second instance on the same port fails', async () => {
    const port = await freePort();
    const config = `server:\n  listen: 127.0.0.1:${port}\n  admin:\n    listen: 127.0.0.1:0\nsinks:\n  - type: sse\n`;
    const file = await writeTempFile(config);
    const { modules } = livegatePaths();
    const first = spawnLivegate(['-c', file.path, '--plugin-dir', modules]);
    try {
      await first.waitForListeners(['public', 'admin'], scaled(5000));
      const second = await runLivegate(['-c', file.path, '--plugin-dir', modules]);
      assert.equal(second.code, 1, second.output);
      assert.match(second.stderr, new RegExp(`server\\.listen: cannot listen on 127\\.0\\.0\\.1:${port}: bind\\(\\) failed: Address already in use \\(another process has the port: .*LIVEGATE_LISTEN`));
      assert.doesNotMatch(second.output, BOUND_LINE);
    } finally {
      const status = await first.stop();
      await file.remove();
      assert.equal(status.code, 0, first.output());
    }
  });

  // A start must check everything before it binds. The schema error below comes after
  // the listeners in the file, and the plugin error appears only once the plugin is loaded.
  for (const [name, tail, line, column, reason] of [
    ['invalid option', 'channels:\n  - match: "*"\n    snapshot: sometimes\n', 7, 15, "option 'snapshot' expects one of"],
    ['invalid plugin option', 'sources:\n  - name: host\n    type: sysmetrics\n    interval: 10ms\n', 8, 15, "option 'interval' must be between"],
  ]) {
    it(`start with ${name} binds nothing`, async () => {
      const port = await freePort();
      const config = `server:\n  listen: 127.0.0.1:${port}\n  admin:\n    listen: 127.0.0.1:0\n${tail}`;
      const file = await writeTempFile(config);
      const { modules } = livegatePaths();
      try {
        const run = await runLivegate(['-c', file.path, '--plugin-dir', modules]);

        assert.equal(run.code, 1, `output:\n${run.output}`);
        assert.match(run.stderr, new RegExp(`^livegate: ${file.path}:${line}:${column}: `));
        assert.ok(run.stderr.includes(reason), run.stderr);
        assert.doesNotMatch(run.output, BOUND_LINE);
        assert.equal(await canBind(port), true, `port ${port} is not free after the failed start`);
      } finally {
        await file.remove();
      }
    });
  }

  it('YAML syntax error', async () => {
    const result = await checkConfig('server:\n  listen: [127.0.0.1:0\n  workers: 1\n');

    assertConfigError(result, 3, 10, ['invalid YAML', "did not find expected ',' or ']'", 'line 2, column 11']);
  });

  it('tab indentation is a syntax error', async () => {
    const result = await checkConfig('server:\n\tlisten: 127.0.0.1:0\n');

    assertConfigError(result, 2, 1, ['invalid YAML', 'cannot start any token']);
  });

  it('empty file is rejected', async () => {
    const result = await checkConfig('');

    assertConfigError(result, 1, 1, ['no YAML document found', 'mapping']);
  });

  it('top-level list is rejected', async () => {
    const result = await checkConfig('- server\n- channels\n');

    assertConfigError(result, 1, 1, ['top level must be a mapping', 'list']);
  });

  it('unknown key lists valid keys', async () => {
    const result = await checkConfig('server:\n  listen: 127.0.0.1:0\n  wrokers: 2\n');

    assertConfigError(result, 3, 3, [
      "unknown option 'wrokers'",
      'valid options are: listen, workers, web_root, plugin_dir, shutdown_timeout, admin, log, limits',
    ]);
  });

  it('unknown top-level key lists sections', async () => {
    const result = await checkConfig(`${LISTENERS}channel:\n  - match: "*"\n`);

    assertConfigError(result, 5, 1, ["unknown option 'channel'", 'server, channels, tests, sources, sinks']);
  });

  it('duplicate key names both lines', async () => {
    const result = await checkConfig('server:\n  listen: 127.0.0.1:0\n  workers: 1\n  workers: 2\n');

    assertConfigError(result, 4, 3, ["duplicate key 'workers'", 'line 3']);
  });

  it('string where a list is expected', async () => {
    const result = await checkConfig('channels: "abc"\n');

    assertConfigError(result, 1, 11, ["option 'channels' expects a list", "'abc'"]);
  });

  it('string for sources list', async () => {
    const result = await checkConfig('sources: sysmetrics\n');

    assertConfigError(result, 1, 10, ["'sources' expects a list", 'got a string']);
  });

  it('non-integer workers', async () => {
    const result = await checkConfig('server:\n  workers: abc\n');

    assertConfigError(result, 2, 12, ["option 'workers' expects an integer", "got 'abc'"]);
  });

  it('yes is not a bool', async () => {
    const result = await checkConfig('channels:\n  - match: "*"\n    publish: yes\n');

    assertConfigError(result, 3, 14, ['channels[0]', "option 'publish' expects true or false", "got 'yes'"]);
  });

  it('duration without unit', async () => {
    const result = await checkConfig('server:\n  shutdown_timeout: 5\n');

    assertConfigError(result, 2, 21, ["option 'shutdown_timeout' expects a duration", "got '5'", 'add a unit']);
  });

  it('size with bad unit', async () => {
    const result = await checkConfig('server:\n  limits:\n    client_queue: 10XB\n');

    assertConfigError(result, 3, 19, ['server.limits', "option 'client_queue' expects a size", 'KiB', "got '10XB'"]);
  });

  it('bad enum lists the choices', async () => {
    const result = await checkConfig('channels:\n  - match: "*"\n    snapshot: sometimes\n');

    assertConfigError(result, 3, 15, ["option 'snapshot' expects one of: none, last, keyed", "got 'sometimes'"]);
  });

  it('workers out of bounds', async () => {
    const result = await checkConfig('server:\n  workers: 1000\n');

    assertConfigError(result, 2, 12, ["option 'workers' must be between 0 and 64", "got '1000'"]);
  });

  it('channel rule without match', async () => {
    const result = await checkConfig('channels:\n  - snapshot: last\n    publish: true\n');

    assertConfigError(result, 2, 5, ['channels[0]', "missing required option 'match'"]);
  });

  it('source without name', async () => {
    const result = await checkConfig('sources:\n  - type: sysmetrics\n    interval: 1s\n');

    assertConfigError(result, 2, 5, ['sources[0]', "missing required option 'name'"]);
  });

  it('source without type', async () => {
    const result = await checkConfig('sources:\n  - name: host\n    interval: 1s\n');

    assertConfigError(result, 2, 5, ['sources[0]', "missing required option 'type'"]);
  });

  it('unknown plugin type', async () => {
    const { modules } = livegatePaths();
    const result = await checkConfig('sources:\n  - name: host\n    type: nosuch\n');

    assertConfigError(result, 3, 11, [
      "source 'host'",
      "plugin 'nosuch' not found",
      path.join(modules, 'nosuch.so'),
      '--plugin-dir',
    ]);
  });

  it('unknown plugin option', async () => {
    const result = await checkConfig('sources: [{name: host, type: sysmetrics, intervall: 1s}]\n');

    assertConfigError(result, 1, 42, [
      "source 'host' (sysmetrics)",
      "unknown option 'intervall'",
      'valid options are: interval, proc_root',
    ]);
  });

  it('plugin option below its bound', async () => {
    const result = await checkConfig('sources:\n  - name: host\n    type: sysmetrics\n    interval: 10ms\n');

    assertConfigError(result, 4, 15, [
      "source 'host' (sysmetrics)",
      "option 'interval' must be between 100ms and 1h",
      "got '10ms'",
    ]);
  });

  it('duplicate source names', async () => {
    const result = await checkConfig(`sources:
  - name: host
    type: sysmetrics
  - name: host
    type: sysmetrics
    interval: 2s
`);

    assertConfigError(result, 4, 11, ['sources[1]', "name 'host' is already used by sources[0] at line 2"]);
  });

  it('public admin without token is refused', async () => {
    const result = await checkConfig('server:\n  admin:\n    listen: 0.0.0.0:0\n');

    assertConfigError(result, 3, 13, ["'0.0.0.0:0'", 'not a loopback address', 'token is empty', 'set a token']);
  });

  it('public admin with token is accepted', async () => {
    const result = await checkConfig('server:\n  admin:\n    listen: 0.0.0.0:0\n    token: s3cret-token\n');

    assertValid(result);
  });

  it('undefined variable is named', async () => {
    const env = environment({}, ['LG_TEST_UNDEFINED']);
    const result = await checkConfig('server:\n  listen: ${LG_TEST_UNDEFINED}\n', { env });

    assertConfigError(result, 2, 11, ["environment variable 'LG_TEST_UNDEFINED' is not set", '${LG_TEST_UNDEFINED:-default}']);
  });

  it('unterminated variable reference', async () => {
    const result = await checkConfig('server:\n  listen: ${LG_TEST_LISTEN\n');

    assertConfigError(result, 2, 11, ["unterminated reference '${LG_TEST_LISTEN'", "closing '}'"]);
  });

  it('-t starts plugins with their options', async () => {
    const result = await checkConfig(`sources:
  - name: host
    type: sysmetrics
    proc_root: /nonexistent-proc
`);

    assertConfigError(result, 2, 5, ["source 'host' (sysmetrics)", 'invalid proc_root', '/nonexistent-proc', 'No such file or directory']);
  });

  it('source of sink type is rejected', async () => {
    const { modules } = livegatePaths();
    const result = await checkConfig('sources:\n  - name: out\n    type: sse\n');

    assertConfigError(result, 3, 11, ["source 'out'", path.join(modules, 'sse.so'), 'is a sink', 'configured as a source']);
  });

  it('plugin type with a path is rejected', async () => {
    const result = await checkConfig('sources:\n  - name: host\n    type: ../modules/sysmetrics\n');

    assertConfigError(result, 3, 11, ["invalid type '../modules/sysmetrics'", 'a-z, 0-9 and _']);
  });

  it('second YAML document is rejected', async () => {
    const result = await checkConfig('server:\n  workers: 1\n---\nserver:\n  workers: 2\n');

    assertConfigError(result, 3, 1, ['more than one YAML document']);
  });

  it('undefined alias is rejected', async () => {
    const result = await checkConfig('server:\n  listen: *address\n');

    assertConfigError(result, 2, 11, ['invalid YAML', 'undefined alias']);
  });

  it('alias of itself is rejected', async () => {
    const result = await checkConfig('server: &server\n  admin: *server\n');

    assertConfigError(result, 1, 9, ['alias of itself']);
  });

  it('alias expansion is bounded', async () => {
    // Eight levels of ten aliases each would expand to 10^8 nodes.
    const lines = ['x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]'];
    for (let level = 1; level < 8; level++)
      lines.push(`x${level}: &a${level} [${Array(10).fill(`*a${level - 1}`).join(', ')}]`);
    const result = await checkConfig(`${lines.join('\n')}\n`);

    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, new RegExp(`^livegate: ${result.path}:\\d+:\\d+: too many nodes after expanding aliases`));
  });

  it('negative max_rate points at the value', async () => {
    const result = await checkConfig('channels:\n  - match: "*"\n    max_rate: -1\n');

    assertConfigError(result, 3, 15, ["option 'max_rate'", "'-1'"]);
  });

  it('-t rejects an unopenable log file', async () => {
    const result = await checkConfig(`${LISTENERS}  log:
    file: /nonexistent-dir/livegate.log
`);

    assertConfigError(result, 6, 11, ['/nonexistent-dir/livegate.log']);
  });

  it('start with unopenable log file binds nothing', async () => {
    const file = await writeTempFile(`${LISTENERS}  log:
    file: /nonexistent-dir/livegate.log
`);
    const { modules } = livegatePaths();
    try {
      const run = await runLivegate(['-c', file.path, '--plugin-dir', modules]);

      assert.equal(run.code, 1, run.output);
      assert.match(run.stderr, /^livegate: .*:6:11: cannot write log file \/nonexistent-dir\/livegate\.log: No such file or directory/);
      assert.ok(run.stderr.includes('server.log.file'), run.stderr);
      assert.doesNotMatch(run.output, BOUND_LINE);
    } finally {
      await file.remove();
    }
  });

  it('missing file is named', async () => {
    const dir = await makeTempDir();
    const missing = path.join(dir.dir, 'missing.yaml');
    const { modules } = livegatePaths();
    try {
      const result = await runLivegate(['-t', '-c', missing, '--plugin-dir', modules]);

      assert.equal(result.code, 1, result.output);
      assert.equal(result.stdout, '');
      assert.ok(result.stderr.startsWith('livegate: '), result.stderr);
      assert.ok(result.stderr.includes(missing), result.stderr);
      assert.ok(result.stderr.includes('No such file or directory'), result.stderr);
    } finally {
      await dir.remove();
    }
  });
});

describe('environment variables', () => {
  it('default used when variable is unset', async () => {
    const port = await freePort();
    const run = await spawnLivegateWith(`server:
  listen: \${LG_TEST_UNSET:-127.0.0.1:${port}}
  admin:
    listen: 127.0.0.1:0
`, environment({}, ['LG_TEST_UNSET']));
    try {
      await run.handle.waitForListeners(['public'], scaled(5000));

      assert.equal(run.handle.ports.public, port);
    } finally {
      await stopRun(run);
    }
  });

  it('default used when variable is empty', async () => {
    const port = await freePort();
    const run = await spawnLivegateWith(`server:
  listen: \${LG_TEST_EMPTY:-127.0.0.1:${port}}
  admin:
    listen: 127.0.0.1:0
`, environment({ LG_TEST_EMPTY: '' }));
    try {
      await run.handle.waitForListeners(['public'], scaled(5000));

      assert.equal(run.handle.ports.public, port);
    } finally {
      await stopRun(run);
    }
  });

  it('variable expanded from environment', async () => {
    const port = await freePort();
    const run = await spawnLivegateWith(`server:
  listen: \${LG_TEST_LISTEN}
  admin:
    listen: \${LG_TEST_ADMIN_LISTEN:-127.0.0.1:1}
`, environment({ LG_TEST_LISTEN: `127.0.0.1:${port}`, LG_TEST_ADMIN_LISTEN: '127.0.0.1:0' }));
    try {
      await run.handle.waitForListeners(['public', 'admin'], scaled(5000));

      assert.equal(run.handle.hosts.public, '127.0.0.1');
      assert.equal(run.handle.ports.public, port);
      assert.notEqual(run.handle.ports.admin, 1);
      const health = await fetchWithTimeout(`${run.handle.adminUrl}/health`);
      assert.equal(health.status, 200);
    } finally {
      await stopRun(run);
    }
  });

  it('expanded value stays one scalar', async () => {
    // Expansion happens after parsing, so YAML syntax in a variable stays text.
    const env = environment({ LG_TEST_WORKERS: '[1, 2]' });
    const result = await checkConfig('server:\n  workers: ${LG_TEST_WORKERS}\n', { env });

    assertConfigError(result, 2, 12, ["option 'workers' expects an integer", "got '[1, 2]'"]);
  });

  it('typed option from environment', async () => {
    const env = environment({ LG_TEST_WORKERS: '3' });

    assertValid(await checkConfig('server:\n  workers: ${LG_TEST_WORKERS}\n', { env }));
  });

  it('expanded value not re-expanded', async () => {
    // The value "${LG_TEST_INNER}" names a variable that is not set, so expanding it again would fail.
    const env = environment({ LG_TEST_OUTER: '${LG_TEST_INNER}' }, ['LG_TEST_INNER']);

    assertValid(await checkConfig('server:\n  admin:\n    token: ${LG_TEST_OUTER}\n', { env }));
  });

  it('$$ escapes a reference', async () => {
    const env = environment({}, ['LG_TEST_UNDEFINED']);

    assertValid(await checkConfig('server:\n  admin:\n    token: "$${LG_TEST_UNDEFINED}"\n', { env }));
  });

  it('comments are not expanded', async () => {
    const env = environment({}, ['LG_TEST_UNDEFINED']);

    assertValid(await checkConfig('# ${LG_TEST_UNDEFINED}\nserver:\n  workers: 1 # ${LG_TEST_UNDEFINED}\n', { env }));
  });
});

describe('YAML merge keys', () => {
  const MERGE_CONFIG = `${LISTENERS}channels:
  - &defaults
    match: "base.*"
    history:
      length: 3
    snapshot: keyed
    overflow: drop
    publish: true
  - <<: *defaults
    match: "derived.*"
    snapshot: none
  - match: "*"
    history:
      length: 50
    publish: true
`;

  it('merge config passes -t', async () => {
    assertValid(await checkConfig(MERGE_CONFIG));
  });

  it('merged rule keeps anchor values', async () => {
    const livegate = await startLivegate({ config: MERGE_CONFIG, startTimeoutMs: scaled(10000) });
    try {
      for (let n = 1; n <= 5; n++) {
        await publish(livegate.adminUrl, 'base.a', { n }, { key: `k${n % 2}` });
        await publish(livegate.adminUrl, 'derived.a', { n }, { key: `k${n % 2}` });
        await publish(livegate.adminUrl, 'other.a', { n });
      }

      const base = await channelInfo(livegate.adminUrl, 'base.a');
      const derived = await channelInfo(livegate.adminUrl, 'derived.a');
      const other = await channelInfo(livegate.adminUrl, 'other.a');

      assert.equal(base.rule, 'base.*');
      assert.equal(base.snapshot, 'keyed');
      assert.equal(base.overflow, 'drop');
      assert.equal(base.history, 3);
      assert.equal(base.snapshot_keys, 2);

      // The local match and snapshot win. History, overflow and publish come from the anchor.
      assert.equal(derived.rule, 'derived.*');
      assert.equal(derived.snapshot, 'none');
      assert.equal(derived.overflow, 'drop');
      assert.equal(derived.history, 3);
      assert.equal(derived.snapshot_keys, 0);
      assert.equal(derived.events_in, 5);

      // A rule outside the anchor keeps the defaults.
      assert.equal(other.rule, '*');
      assert.equal(other.snapshot, 'last');
      assert.equal(other.overflow, 'conflate');
      assert.equal(other.history, 5);
    } finally {
      const { code, killed } = await livegate.stop();
      assert.equal(killed, false);
      assert.equal(code, 0, livegate.log());
    }
  });

  it('merge list prefers first mapping', async () => {
    const livegate = await startLivegate({
      config: `${LISTENERS}channels:
  - &keyed
    match: "a.*"
    snapshot: keyed
    publish: true
  - &dropping
    match: "b.*"
    snapshot: none
    overflow: drop
    history:
      length: 2
  - <<: [*keyed, *dropping]
    match: "c.*"
`,
      startTimeoutMs: scaled(10000),
    });
    try {
      for (let n = 1; n <= 4; n++)
        await publish(livegate.adminUrl, 'c.x', { n });

      const merged = await channelInfo(livegate.adminUrl, 'c.x');
      assert.equal(merged.rule, 'c.*');
      assert.equal(merged.snapshot, 'keyed');
      assert.equal(merged.overflow, 'drop');
      assert.equal(merged.history, 2);
    } finally {
      const { code, killed } = await livegate.stop();
      assert.equal(killed, false);
      assert.equal(code, 0, livegate.log());
    }
  });

  it('quoted << is an ordinary key', async () => {
    const result = await checkConfig(`${LISTENERS}channels:
  - &rule
    match: "a.*"
  - "<<": *rule
    match: "b.*"
`);

    assertConfigError(result, 8, 5, ["unknown option '<<'"]);
  });

  it('merge of a scalar is rejected', async () => {
    const result = await checkConfig(`${LISTENERS}channels:
  - <<: plain
    match: "*"
`);

    assertConfigError(result, 6, 5, ["merge key '<<' expects a mapping or a list of mappings"]);
  });
});

describe('duplicate keys', () => {
  it('top-level duplicate names both lines', async () => {
    const result = await checkConfig('server:\n  workers: 1\nsinks:\n  - type: sse\nserver:\n  workers: 2\n');

    assertConfigError(result, 5, 1, ["duplicate key 'server'", 'line 1']);
  });

  it('nested duplicate names both lines', async () => {
    const result = await checkConfig(`server:
  listen: 127.0.0.1:0
  limits:
    client_queue: 64KiB
    max_connections: 10
    client_queue: 128KiB
`);

    assertConfigError(result, 6, 5, ["duplicate key 'client_queue'", 'line 4']);
  });

  it('duplicate in list item names both lines', async () => {
    const result = await checkConfig(`channels:
  - match: "a.*"
    snapshot: last
    history:
      length: 5
    snapshot: keyed
`);

    assertConfigError(result, 6, 5, ["duplicate key 'snapshot'", 'line 3']);
  });

  it('duplicate beside merge key', async () => {
    const result = await checkConfig(`channels:
  - &rule
    match: "a.*"
  - <<: *rule
    match: "b.*"
    match: "c.*"
`);

    assertConfigError(result, 6, 5, ["duplicate key 'match'", 'line 5']);
  });
});

describe('command line', () => {
  it('--help lists every option', async () => {
    const { modules } = livegatePaths();
    const result = await runLivegate(['--help', '--plugin-dir', modules]);
    assert.equal(result.code, 0, result.output);
    assert.equal(result.stderr, '');
    const help = result.stdout;

    assert.match(help, /^Usage: livegate /);
    for (const flag of ['--config FILE', '--test', '--plugin-dir DIR', '--help', '--version', 'SIGHUP'])
      assert.ok(help.includes(flag), `--help lacks ${flag}`);
    assert.match(help, /SIGHUP reopens the log file and\s+reloads the configuration/);

    const server = helpOptions(helpSection(help, /^Configuration \(YAML\), section server:/m, /^Each item of channels:/m));
    const channels = helpOptions(helpSection(help, /^Each item of channels:/m, /^Each item of tests:/m));
    const sysmetrics = helpOptions(helpSection(help, /^sysmetrics \(source\):/m, /^$/m));
    const sse = helpOptions(helpSection(help, /^sse \(sink\):/m, /^$/m));

    for (const name of ['listen', 'workers', 'web_root', 'plugin_dir', 'shutdown_timeout', 'admin', 'admin.listen',
      'admin.token', 'log', 'log.level', 'log.file', 'log.rate_limit_burst', 'log.rate_limit_window', 'limits',
      'limits.client_queue', 'limits.max_connections'])
      assert.ok(server.includes(name), `server section lacks ${name}: ${server}`);
    for (const name of ['match', 'history', 'history.length', 'history.max_age', 'snapshot', 'snapshot_max_keys',
      'overflow', 'max_rate', 'publish', 'subscribe'])
      assert.ok(channels.includes(name), `channels section lacks ${name}: ${channels}`);
    for (const name of ['interval', 'proc_root', 'channel_prefix', 'metrics'])
      assert.ok(sysmetrics.includes(name), `sysmetrics section lacks ${name}: ${sysmetrics}`);
    for (const name of ['path', 'heartbeat_interval', 'retry', 'cors_origins'])
      assert.ok(sse.includes(name), `sse section lacks ${name}: ${sse}`);

    // Every option the config checker accepts appears in --help, and nothing more.
    const accepted = {
      server: [
        ...await validOptions('server:\n  x: 1\n'),
        ...(await validOptions('server:\n  admin:\n    x: 1\n')).map((name) => `admin.${name}`),
        ...(await validOptions('server:\n  log:\n    x: 1\n')).map((name) => `log.${name}`),
        ...(await validOptions('server:\n  limits:\n    x: 1\n')).map((name) => `limits.${name}`),
        ...(await validOptions('server:\n  lua:\n    x: 1\n')).map((name) => `lua.${name}`),
        ...(await validOptions('server:\n  stats:\n    x: 1\n')).map((name) => `stats.${name}`),
      ],
      channels: [
        ...await validOptions('channels:\n  - match: a\n    x: 1\n'),
        ...(await validOptions('channels:\n  - match: a\n    history:\n      x: 1\n')).map((name) => `history.${name}`),
      ],
      sysmetrics: (await validOptions('sources:\n  - {name: host, type: sysmetrics, x: 1}\n'))
        .filter((name) => name !== 'name' && name !== 'type'),
      sse: (await validOptions('sinks:\n  - {type: sse, x: 1}\n')).filter((name) => name !== 'name' && name !== 'type'),
    };
    assert.deepEqual([...server].sort(), [...accepted.server].sort());
    assert.deepEqual([...channels].sort(), [...accepted.channels].sort());
    assert.deepEqual([...sysmetrics].sort(), [...accepted.sysmetrics].sort());
    assert.deepEqual([...sse].sort(), [...accepted.sse].sort());
  });

  it('--help option order does not matter', async () => {
    const { modules } = livegatePaths();
    const first = await runLivegate(['--help', '--plugin-dir', modules]);
    const second = await runLivegate(['--plugin-dir', modules, '-h']);

    assert.equal(second.code, 0);
    assert.equal(second.stdout, first.stdout);
  });

  it('--version prints the version', async () => {
    const configure = await readFile(path.join(REPO_ROOT, 'configure.ac'), 'utf8');
    const version = /AC_INIT\(\[livegate\], \[([^\]]+)\]/.exec(configure)[1];

    for (const flag of ['--version', '-V']) {
      const result = await runLivegate([flag]);

      assert.equal(result.code, 0, result.output);
      assert.equal(result.stderr, '');
      assert.ok(result.stdout.startsWith(`livegate ${version}`), `${flag} printed: ${result.stdout}`);
      assert.equal(result.stdout.trimEnd().split('\n').length, 1);
    }
  });

  it('unknown option exits 2 with usage', async () => {
    const result = await runLivegate(['--no-such-option']);

    assert.equal(result.code, 2, result.output);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /unrecognized option '--no-such-option'/);
    assert.match(result.stderr, /^Usage: livegate /m);
  });

  it('missing option argument exits 2', async () => {
    const result = await runLivegate(['-t', '-c']);

    assert.equal(result.code, 2, result.output);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /option requires an argument -- 'c'/);
    assert.match(result.stderr, /^Usage: livegate /m);
  });

  it('extra argument exits 2', async () => {
    const result = await runLivegate(['-t', 'livegate.yaml']);

    assert.equal(result.code, 2, result.output);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /unexpected argument 'livegate\.yaml'/);
    assert.match(result.stderr, /^Usage: livegate /m);
  });
});

// Variables read by conf/livegate.yaml, removed so that the defaults apply.
const DEFAULT_CONFIG_VARIABLES = ['LIVEGATE_LISTEN', 'LIVEGATE_ADMIN_LISTEN', 'LIVEGATE_ADMIN_TOKEN'];

describe('embedded default config', () => {
  it('default config passes -t', async () => {
    const { modules } = livegatePaths();
    const result = await runLivegate(['-t', '--plugin-dir', modules], { env: environment({}, DEFAULT_CONFIG_VARIABLES) });

    assert.equal(result.code, 0, result.output);
    assert.equal(result.stdout, 'livegate: configuration (embedded default) is valid\n');
    assert.equal(result.stderr, '');
  });

  it('conf/livegate.yaml passes -t', async () => {
    const { modules } = livegatePaths();
    const file = path.join(REPO_ROOT, 'conf/livegate.yaml');
    const result = await runLivegate(['-t', '-c', file, '--plugin-dir', modules], {
      env: environment({}, DEFAULT_CONFIG_VARIABLES),
    });

    assert.equal(result.code, 0, result.output);
    assert.equal(result.stdout, `livegate: configuration ${file} is valid\n`);
  });

  it('binary embeds conf/livegate.yaml', async () => {
    const { binary } = livegatePaths();
    const config = await readFile(path.join(REPO_ROOT, 'conf/livegate.yaml'));
    const image = await readFile(binary);

    // The embedded copy is the file's bytes followed by the terminating NUL.
    const embedded = Buffer.concat([config, Buffer.from([0])]);
    assert.notEqual(image.indexOf(embedded), -1, `${binary} does not contain conf/livegate.yaml; rebuild it`);
  });

  it('default config serves health and SSE', async () => {
    const { modules } = livegatePaths();
    const env = environment({ LIVEGATE_LISTEN: '127.0.0.1:0', LIVEGATE_ADMIN_LISTEN: '127.0.0.1:0' },
      ['LIVEGATE_ADMIN_TOKEN']);
    const livegate = spawnLivegate(['--plugin-dir', modules], { env });
    let stream;
    try {
      await livegate.waitForListeners(['public', 'admin'], scaled(5000));
      assert.equal(livegate.hosts.public, '127.0.0.1');
      assert.equal(livegate.hosts.admin, '127.0.0.1');
      await livegate.waitForOutput(/running with \(embedded default\)/, scaled(3000), 'the running line');

      const health = await fetchWithTimeout(`${livegate.adminUrl}/health`);
      assert.equal(health.status, 200);

      stream = await openSse(`${livegate.publicUrl}/sse?channel=system.cpu`, { timeoutMs: scaled(3000) });
      assert.equal(stream.status, 200);
      await stream.waitFor(() => stream.messages().length > 0, scaled(3000), 'a system.cpu event');
      const [event] = stream.messages();
      assert.equal(event.channel, 'system.cpu');
      assert.equal(typeof event.data, 'object');

      // The "*" rule of the default config allows publishing to any channel.
      const published = await publish(livegate.adminUrl, 'any.channel', { n: 1 });
      assert.equal(published.channel, 'any.channel');
    } finally {
      stream?.close();
      const status = await livegate.stop();
      assert.equal(status.killed, false, livegate.output());
      assert.equal(status.code, 0, livegate.output());
    }
  });
});

describe('signals', () => {
  it('SIGHUP reopens the log file', async () => {
    const dir = await makeTempDir();
    const logFile = path.join(dir.dir, 'livegate.log');
    const rotated = `${logFile}.1`;
    const run = await spawnLivegateWith(`${LISTENERS}  log:
    file: ${logFile}
`, environment());
    const readLog = (file) => readFile(file, 'utf8').catch(() => '');
    try {
      await until(async () => /admin listener bound to \S+:\d+\n/.test(await readLog(logFile)), scaled(5000),
        'the listeners in the log file');
      const [, adminAddress] = /admin listener bound to (\S+:\d+)\n/.exec(await readLog(logFile));
      assert.doesNotMatch(run.handle.output(), BOUND_LINE, 'log lines went to stderr, not to the log file');

      await rename(logFile, rotated);
      run.handle.process.kill('SIGHUP');
      await until(async () => /log file reopened/.test(await readLog(logFile)), scaled(3000), 'the reopened log file');

      assert.doesNotMatch(await readLog(rotated), /log file reopened/);
      assert.ok(run.handle.running, 'livegate exited on SIGHUP');
      const health = await fetchWithTimeout(`http://${adminAddress}/health`);
      assert.equal(health.status, 200);
    } finally {
      await stopRun(run);
      await dir.remove();
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT']) {
    it(`${signal} stops and ends streams`, async () => {
      const shutdownTimeoutMs = 2000;
      const run = await spawnLivegateWith(`server:
  listen: 127.0.0.1:0
  shutdown_timeout: ${shutdownTimeoutMs}ms
  admin:
    listen: 127.0.0.1:0
sources:
  - name: host
    type: sysmetrics
    interval: 200ms
channels:
  - match: "*"
    publish: true
sinks:
  - type: sse
`, environment());
      const { handle } = run;
      let stream;
      try {
        await handle.waitForListeners(['public', 'admin'], scaled(5000));
        stream = await openSse(`${handle.publicUrl}/sse?channel=system.cpu`, { timeoutMs: scaled(3000) });
        await stream.waitFor(() => stream.messages().length > 0, scaled(3000), 'a system.cpu event');

        const sentAt = performance.now();
        handle.process.kill(signal);
        const limitMs = scaled(shutdownTimeoutMs) + 1000;
        const status = await orTimeout(handle.exited, limitMs);
        assert.notEqual(status, 'timeout', `livegate still running ${limitMs} ms after ${signal}; output:\n${handle.output()}`);
        assert.deepEqual(status, { code: 0, signal: null }, handle.output());
        assert.ok(performance.now() - sentAt < limitMs);
        assert.match(handle.output(), new RegExp(`received ${signal}`));

        const ended = await orTimeout(stream.done.then(() => 'ended'), scaled(2000));
        assert.equal(ended, 'ended', 'the SSE body did not finish after livegate exited');
        assert.equal(stream.ended, true);
        assert.equal(stream.error, undefined, `the SSE body ended with an error: ${stream.error}`);
      } finally {
        stream?.close();
        await stopRun(run);
      }
    });
  }
});

describe('relative paths', () => {
  it('plugin_dir follows config dir', async () => {
    const { binary, modules } = livegatePaths();
    const file = await writeTempFile('sources:\n  - name: host\n    type: sysmetrics\nserver:\n  plugin_dir: plugins\n');
    const cwd = await makeTempDir();
    try {
      await symlink(modules, path.join(file.dir, 'plugins'));
      const result = await runLivegate(['-t', '-c', file.path], { cwd: cwd.dir });

      assert.equal(result.code, 0, `${binary} -t output:\n${result.output}`);
      assert.equal(result.stdout, `livegate: configuration ${file.path} is valid\n`);
    } finally {
      await file.remove();
      await cwd.remove();
    }
  });

  it('log file follows config dir', async () => {
    const { modules } = livegatePaths();
    const file = await writeTempFile(`${LISTENERS}  log:\n    file: relative.log\n`);
    const cwd = await makeTempDir();
    const expected = path.join(file.dir, 'relative.log');
    const actual = path.join(cwd.dir, 'relative.log');
    const handle = spawnLivegate(['-c', file.path, '--plugin-dir', modules], { cwd: cwd.dir });
    const readLog = (log) => readFile(log, 'utf8').catch(() => '');
    try {
      await until(async () => /admin listener bound/.test(await readLog(expected) + await readLog(actual)),
        scaled(5000), 'the listeners in either log file');

      assert.match(await readLog(expected), /admin listener bound/, `the log went to ${actual}`);
    } finally {
      const status = await handle.stop();
      await file.remove();
      await cwd.remove();
      assert.equal(status.code, 0, handle.output());
    }
  });
});
