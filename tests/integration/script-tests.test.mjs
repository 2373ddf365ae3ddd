// `livegate test`: the tests: section of a configuration run against its channel
// scripts, with the report, the differences and the exit status a CI job relies on.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { makeTempDir, runLivegate } from '../lib/cli.mjs';

const DOUBLER = `function on_event(event)
  if event.data.v == nil then return nil end
  event.data.v = event.data.v * 2
  return event
end
`;

const AVERAGER = `local sum, count = 0, 0
function on_event(event)
  sum = sum + event.data.v
  count = count + 1
  return nil
end
livegate.every(livegate.config.every, function()
  if count > 0 then
    livegate.emit('avg.' .. livegate.config.name, {avg = sum / count, n = count})
  end
  sum, count = 0, 0
end)
`;

function config(tests) {
  return `channels:
  - match: "a.*"
    lua: doubler.lua
  - match: "samples"
    lua: averager.lua
    lua_config: {every: 1000, name: cpu}
  - match: "*"
tests:
${tests}`;
}

describe('livegate test', () => {
  let temp;

  before(async () => {
    temp = await makeTempDir();
    await writeFile(path.join(temp.dir, 'doubler.lua'), DOUBLER);
    await writeFile(path.join(temp.dir, 'averager.lua'), AVERAGER);
  });

  after(async () => {
    await temp.remove();
  });

  async function runTests(tests, name = 'livegate.yaml') {
    const file = path.join(temp.dir, name);
    await writeFile(file, config(tests));
    // Run from another directory: script paths resolve against the config file.
    return runLivegate(['test', '-c', file], { cwd: '/' });
  }

  it('passes matching tests and exits 0', async () => {
    const result = await runTests(`  - name: doubles and drops
    channel: a.x
    input:
      - {data: {v: 2}, key: k1, time: 1700000000123}
      - {data: {w: 1}}
      - {data: {v: 1.5}}
    expect:
      - {channel: a.x, key: k1, time: 1700000000123, data: {v: 4}}
      - {data: {v: 3.0}}
  - name: timers flush on the test clock
    channel: samples
    start_time: 1700000000000
    input:
      - {data: {v: 10}}
      - {data: {v: 20}}
      - advance: 1s
      - {data: {v: 6}}
      - advance: 999ms
      - advance: 1ms
    expect:
      - {channel: avg.cpu, time: 1700000001000, data: {avg: 15.0, n: 2}}
      - {channel: avg.cpu, time: 1700000002000, data: {avg: 6.0, n: 1}}
`);
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'ok 1 - doubles and drops',
      'ok 2 - timers flush on the test clock',
      '2 passed, 0 failed',
    ]);
  });

  it('reports each difference and exits 1', async () => {
    const result = await runTests(`  - name: right
    channel: a.x
    input: [{data: {v: 1}}]
    expect: [{data: {v: 2}}]
  - name: wrong value, key and count
    channel: a.x
    input:
      - {data: {v: 2}, key: k}
      - {data: {v: 3}}
    expect:
      - {key: other, data: {v: 5}}
  - name: integer is not float
    channel: a.x
    input: [{data: {v: 1}}]
    expect: [{data: {v: 2.0}}]
`);
    assert.equal(result.code, 1, result.output);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines[0], 'ok 1 - right');
    assert.equal(lines[1], 'not ok 2 - wrong value, key and count');
    assert.ok(lines.includes('  # event 1: key differs'), result.stdout);
    assert.ok(lines.includes('  #   expected: other'), result.stdout);
    assert.ok(lines.includes('  # event 1: data differs'), result.stdout);
    assert.ok(lines.includes('  #   expected: {"v":5}'), result.stdout);
    assert.ok(lines.includes('  #   actual:   {"v":4}'), result.stdout);
    assert.ok(lines.includes('  # expected 1 events, got 2'), result.stdout);
    assert.ok(lines.includes('  #   extra: channel a.x, data {"v":6}'), result.stdout);
    assert.ok(lines.includes('not ok 3 - integer is not float'), result.stdout);
    assert.equal(lines.at(-1), '1 passed, 2 failed');
  });

  it('names the line of a malformed test', async () => {
    const result = await runTests(`  - name: typo in expect
    channel: a.x
    input: [{data: {v: 2}}]
    expect: [{dta: {v: 4}}]
  - name: typo in input
    channel: a.x
    input: [{data: {v: 2}, kye: k}]
    expect: []
  - name: bad time
    channel: a.x
    input: [{data: {v: 2}, time: soon}]
    expect: []
  - name: bad advance
    channel: a.x
    input: [{advance: later}]
    expect: []
  - name: no channel
    input: [{data: {v: 2}}]
    expect: []
`, 'malformed.yaml');
    assert.equal(result.code, 1, result.output);
    assert.match(result.stdout, /not ok 1 - typo in expect\n {2}# .*malformed\.yaml:12:15: unknown key 'dta' in an expected event \(use channel, key, type, time, data\)/);
    assert.match(result.stdout, /not ok 2 - typo in input\n {2}# .*malformed\.yaml:15:28: unknown key 'kye' in an input event/);
    assert.match(result.stdout, /not ok 3 - bad time\n {2}# .*malformed\.yaml:19:34: time expects an integer of milliseconds/);
    assert.match(result.stdout, /not ok 4 - bad advance\n {2}# .*malformed\.yaml:\d+:\d+: advance expects a duration such as 60s/);
    assert.match(result.stdout, /not ok 5 - no channel\n {2}# .*the input names no channel: add channel: to the input or to the test/);
    assert.match(result.stdout, /^0 passed, 5 failed$/m);
  });

  it('warns about a missing tests section', async () => {
    const file = path.join(temp.dir, 'no-tests.yaml');
    await writeFile(file, 'channels:\n  - match: "*"\n');
    const result = await runLivegate(['test', '-c', file]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stderr, /no-tests\.yaml has no tests: section; nothing to run/);
    assert.match(result.stdout, /^0 passed, 0 failed$/m);
  });

  it('rejects a script with a syntax error', async () => {
    await writeFile(path.join(temp.dir, 'doubler.lua'), 'function on_event(event)\n  return event +\nend\n');
    try {
      const result = await runTests(`  - name: anything
    channel: a.x
    input: [{data: {v: 1}}]
    expect: [{data: {v: 2}}]
`);
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /doubler\.lua:3: unexpected symbol near 'end'/);
    } finally {
      await writeFile(path.join(temp.dir, 'doubler.lua'), DOUBLER);
    }
  });
});
