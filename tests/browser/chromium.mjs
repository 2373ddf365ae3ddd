// Launches Debian's Chromium through playwright-core for browser tests, with a fresh
// profile and the background services off (this machine has no outside network).

import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const LAUNCH_TIMEOUT_MS = 30000;

// Without these flags Chromium keeps trying to reach update, sync and QUIC services,
// and those connections fail here. --no-sandbox is needed when the tests run as root.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Starts headless Chromium with a new profile directory (passed as --user-data-dir by
// playwright-core) and returns { context, page, close() }. close() shuts the browser
// down and removes the profile; it is safe to call more than once. On failure nothing
// is left running and the profile directory is removed.
export async function launchChromium({ viewport = { width: 1400, height: 900 } } = {}) {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium"`);
  }

  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'livegate-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      timeout: LAUNCH_TIMEOUT_MS,
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }

  // A persistent context opens with one blank page already.
  const page = context.pages()[0] ?? await context.newPage();
  let closed = null;
  const close = () => {
    closed ??= context.close().finally(() => rm(userDataDir, { recursive: true, force: true }));
    return closed;
  };
  return { context, page, close };
}
