// Checks that the configuration reference in docs/ matches the option tables of the binary.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { it } from 'node:test';

import { livegateBuildDir } from '../lib/livegate.mjs';

const DOC = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

it('configuration reference is up to date', async () => {
  const buildDir = livegateBuildDir();
  const { stdout } = await promisify(execFile)(path.join(buildDir, 'livegate'),
    ['--options-markdown', '--plugin-dir', path.join(buildDir, 'modules')]);
  const committed = await readFile(DOC, 'utf8');
  assert.equal(committed, stdout,
    'docs/configuration.md differs from the option tables: regenerate it with build/livegate --options-markdown --plugin-dir build/modules > docs/configuration.md');
});
