// Integration tests of the sysmetrics source: host metrics over SSE at the configured
// interval with plausible values, and a missing /proc file logged once with health degraded.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startLivegate } from '../lib/livegate.mjs';
import { openSse } from '../lib/sse.mjs';

const SLOW = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;
const INTERVAL_MS = 200;

function config(extra = '') {
  return `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
sources:
  - name: host
    type: sysmetrics
    interval: ${INTERVAL_MS}ms
${extra}
channels:
  - match: "system.*"
    history: {length: 100}
    snapshot: last
sinks:
  - type: sse
`;
}

describe('sysmetrics on this host', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({ config: config() });
  });

  after(async () => {
    const { code } = await livegate.stop();
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  it('events arrive every interval', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=system.cpu&channel=system.memory`);
    await stream.waitFor(() => stream.messages().filter((m) => m.channel === 'system.cpu').length >= 8,
      5000 * SLOW, 'eight cpu samples');
    stream.close();

    // Skip the snapshot: the live samples follow the timer.
    const cpu = stream.messages().filter((m) => m.channel === 'system.cpu').slice(1);
    const gaps = cpu.slice(1).map((m, i) => m.time - cpu[i].time);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(Math.abs(mean - INTERVAL_MS) < 40 * SLOW, `mean interval ${mean} ms: ${gaps}`);
    assert.ok(stream.messages().some((m) => m.channel === 'system.memory'));
  });

  it('cpu values are plausible', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=system.cpu`);
    await stream.waitFor(() => stream.messages().length >= 2, 5000 * SLOW, 'two samples');
    stream.close();

    const { data } = stream.messages().at(-1);
    for (const field of ['usage_percent', 'user_percent', 'system_percent', 'iowait_percent', 'steal_percent']) {
      assert.equal(typeof data[field], 'number', field);
      assert.ok(data[field] >= 0, `${field} = ${data[field]}`);
      assert.ok(data[field] <= 100, `${field} = ${data[field]}`);
    }
    assert.equal(data.core_count, os.cpus().length);
    assert.equal(data.cores.length, os.cpus().length);
    assert.ok(data.cores.every((v) => v >= 0 && v <= 100));
  });

  it('memory and load are plausible', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=system.memory&channel=system.load`);
    await stream.waitFor(() => new Set(stream.messages().map((m) => m.channel)).size === 2, 5000 * SLOW,
      'memory and load');
    stream.close();

    const memory = stream.messages().find((m) => m.channel === 'system.memory').data;
    assert.equal(memory.total_bytes, os.totalmem());
    assert.ok(memory.used_bytes > 0);
    assert.ok(memory.used_bytes < memory.total_bytes);
    assert.ok(Math.abs(memory.used_bytes + memory.available_bytes - memory.total_bytes) <= 4096);
    assert.ok(memory.used_percent > 0);
    assert.ok(memory.used_percent < 100);

    const load = stream.messages().find((m) => m.channel === 'system.load').data;
    assert.ok(Math.abs(load.load1 - os.loadavg()[0]) < 2, `load1 ${load.load1} vs ${os.loadavg()[0]}`);
    assert.ok(load.processes > 0);
  });

  it('network and disk rates are plausible', async () => {
    const stream = await openSse(`${livegate.publicUrl}/sse?channel=system.network&channel=system.disk`);
    await stream.waitFor(() => new Set(stream.messages().map((m) => m.channel)).size === 2, 5000 * SLOW,
      'network and disk');
    stream.close();

    const network = stream.messages().find((m) => m.channel === 'system.network').data;
    const names = network.interfaces.map((i) => i.name);
    assert.ok(!names.includes('lo'), 'lo is excluded by default');
    for (const iface of network.interfaces) {
      assert.ok(iface.rx_bytes_per_s >= 0, JSON.stringify(iface));
      assert.ok(iface.tx_bytes_per_s >= 0, JSON.stringify(iface));
      assert.ok(iface.rx_bytes_total >= 0);
    }
    const disk = stream.messages().find((m) => m.channel === 'system.disk').data;
    assert.ok(Array.isArray(disk.devices));
    for (const device of disk.devices) {
      assert.doesNotMatch(device.name, /^(loop|ram|zram)/);
      assert.ok(device.busy_percent >= 0, JSON.stringify(device));
      assert.ok(device.busy_percent <= 100, JSON.stringify(device));
    }
  });

  it('health names the source', async () => {
    const health = await (await fetch(`${livegate.adminUrl}/health`)).json();
    assert.deepEqual(health.sources, [{ name: 'host', type: 'sysmetrics', status: 'ok' }]);
  });
});

// Files under /proc report a size of 0, so they are copied by reading them.
async function copyProcFile(name, procRoot) {
  await writeFile(path.join(procRoot, name), await readFile(path.join('/proc', name)));
}

describe('sysmetrics with a missing file', () => {
  let livegate;
  let procRoot;

  before(async () => {
    procRoot = await mkdtemp(path.join(os.tmpdir(), 'livegate-proc-'));
    await mkdir(path.join(procRoot, 'net'));
    for (const file of ['stat', 'loadavg', 'diskstats', 'net/dev'])
      await copyProcFile(file, procRoot);
    livegate = await startLivegate({ config: config(`    proc_root: ${procRoot}`) });
  });

  after(async () => {
    await livegate.stop();
    await rm(procRoot, { recursive: true, force: true });
  });

  it('logs once and reports degraded', async () => {
    // Several ticks pass; the warning must appear once.
    await new Promise((resolve) => setTimeout(resolve, 6 * INTERVAL_MS * SLOW));
    const warnings = livegate.log().split('\n').filter((l) => /\] cannot read \S+meminfo/.test(l));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /\[warn\] \[source:sysmetrics:host\]/);
    assert.match(warnings[0], /No such file or directory/);

    const response = await fetch(`${livegate.adminUrl}/health`);
    assert.equal(response.status, 503);
    const health = await response.json();
    assert.deepEqual(health.failing, ['host']);
    assert.match(health.sources[0].reason, /meminfo/);
  });

  it('recovers when the file returns', async () => {
    await copyProcFile('meminfo', procRoot);
    const deadline = Date.now() + 3000 * SLOW;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await fetch(`${livegate.adminUrl}/health`)).status;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 200);

    const stream = await openSse(`${livegate.publicUrl}/sse?channel=system.memory`);
    await stream.waitFor(() => stream.messages().length >= 1, 3000 * SLOW, 'a memory sample');
    assert.equal(stream.messages()[0].data.total_bytes, os.totalmem());
    stream.close();
  });
});
