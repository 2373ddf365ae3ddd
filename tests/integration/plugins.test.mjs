// Checks that livegate -t rejects broken plugin modules with the plugin file and the reason.
// The modules are built by `make check` under tests/plugins/.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';

import { livegateBuildDir } from '../lib/livegate.mjs';

async function check(type) {
  const buildDir = livegateBuildDir();
  const moduleDir = path.join(buildDir, 'tests', 'plugins', '.libs');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'livegate-plugins-'));
  const config = path.join(dir, 'livegate.yaml');
  await writeFile(config, `sources:\n  - name: broken\n    type: ${type}\n`);
  try {
    return await new Promise((resolve) => {
      execFile(path.join(buildDir, 'livegate'), ['-t', '-c', config, '--plugin-dir', moduleDir], (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : error.code, stderr });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

it('plugin with another ABI is rejected', async () => {
  const { code, stderr } = await check('bad_abi');
  assert.equal(code, 1);
  assert.match(stderr, /livegate\.yaml:3:11: source 'broken': plugin .*bad_abi\.so was built for plugin ABI version 4/);
});

it('plugin without descriptor is rejected', async () => {
  const { code, stderr } = await check('no_symbol');
  assert.equal(code, 1);
  assert.match(stderr, /no_symbol\.so does not export the symbol 'livegate_plugin'/);
});

it('plugin with unresolved symbol is rejected', async () => {
  const { code, stderr } = await check('unresolved');
  assert.equal(code, 1);
  assert.match(stderr, /cannot load plugin .*unresolved\.so: .*lg_test_function_that_does_not_exist/);
});

it('plugin with another name is rejected', async () => {
  const { code, stderr } = await check('misnamed');
  assert.equal(code, 1);
  assert.match(stderr, /misnamed\.so calls itself 'another_name', not 'misnamed'/);
});
