// Starts a real livegate process for node tests: writes its config to a temporary
// directory, waits for the listeners to be bound, and stops it with SIGTERM.

import { spawn } from 'node:child_process';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const START_TIMEOUT_MS = 10000;
export const STOP_TIMEOUT_MS = 5000;

// Output lines kept per process, for error messages and for handle.log().
const LOG_LINES_KEPT = 200;

// livegate logs "public listener bound to 127.0.0.1:PORT" (and the same for "admin")
// once each listener accepts connections. The host may be an IPv6 literal in brackets.
const BOUND_LINE = /\b(public|admin) listener bound to (\S+):(\d+)\b/;

// Processes still running, killed when the test process exits so that a failed or
// interrupted test never leaves a livegate behind.
const running = new Set();
process.on('exit', () => {
  for (const child of running)
    child.kill('SIGKILL');
});

// Returns the build directory named by LIVEGATE_BUILD_DIR, or null when it is not set.
export function livegateBuildDir() {
  const dir = process.env.LIVEGATE_BUILD_DIR;
  return dir === undefined || dir === '' ? null : path.resolve(dir);
}

// Starts `BUILD_DIR/livegate -c CONFIG --plugin-dir BUILD_DIR/modules` with `config`
// (YAML text) written to a new temporary directory, next to `files` (name to text),
// and waits until every listener named in `listeners` has logged its bound address.
// `pluginDir` replaces BUILD_DIR/modules.
//
// Returns a handle: { process, ports: { public, admin }, publicUrl, adminUrl,
// configPath, log(), stop() }. Rejects when the binary is missing, when livegate
// exits early, or when it does not bind in time. In those cases the process is
// stopped, the temporary directory removed, and the error message ends with
// livegate's output.
export async function startLivegate({
  config,
  buildDir = livegateBuildDir(),
  listeners = ['public', 'admin'],
  startTimeoutMs = START_TIMEOUT_MS,
  files = {},
  pluginDir = null,
}) {
  if (buildDir === null)
    throw new Error('LIVEGATE_BUILD_DIR is not set: set it to a livegate build directory (the one holding livegate and modules/)');

  const binary = path.join(buildDir, 'livegate');
  try {
    await access(binary, constants.X_OK);
  } catch {
    throw new Error(`livegate binary not found or not executable: ${binary} (build it with make in ${buildDir})`);
  }

  const workDir = await mkdtemp(path.join(os.tmpdir(), 'livegate-test-'));
  const configPath = path.join(workDir, 'livegate.yaml');
  await writeFile(configPath, config);
  for (const [name, text] of Object.entries(files))
    await writeFile(path.join(workDir, name), text);

  const child = spawn(binary, ['-c', configPath, '--plugin-dir', pluginDir ?? path.join(buildDir, 'modules')], {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  const handle = new LivegateProcess(child, workDir, configPath);
  try {
    await handle.waitForListeners(listeners, startTimeoutMs);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

class LivegateProcess {
  #child;
  #workDir;
  #lines = [];
  #partial = '';
  #exit;
  #stopped = null;

  constructor(child, workDir, configPath) {
    this.process = child;
    this.configPath = configPath;
    this.ports = {};
    this.hosts = {};
    this.#child = child;
    this.#workDir = workDir;

    // Resolves with { code, signal } once the process has exited and its output has
    // been read to the end ('close' comes after 'exit' and the last 'data'), or when
    // it failed to start.
    this.#exit = new Promise((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => {
        this.#addOutput(`spawn failed: ${error.message}\n`);
        resolve({ code: null, signal: null, error });
      });
    });
    this.#exit.then(() => running.delete(child));

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text) => this.#addOutput(text));
    child.stderr.on('data', (text) => this.#addOutput(text));
  }

  get publicUrl() {
    return this.#listenerUrl('public');
  }

  get adminUrl() {
    return this.#listenerUrl('admin');
  }

  // Returns the last lines livegate wrote to stdout and stderr.
  log() {
    return [...this.#lines, this.#partial].filter((line) => line !== '').join('\n');
  }

  // Resolves once every named listener has logged its port. Rejects when the process
  // exits first or when `timeoutMs` passes.
  waitForListeners(names, timeoutMs) {
    return new Promise((resolve, reject) => {
      const done = () => names.every((name) => this.ports[name] !== undefined);
      const finish = (error) => {
        clearTimeout(timer);
        this.#child.stdout.off('data', check);
        this.#child.stderr.off('data', check);
        if (error === undefined)
          resolve();
        else
          reject(error);
      };
      const check = () => {
        if (done())
          finish();
      };

      const timer = setTimeout(() => {
        const missing = names.filter((name) => this.ports[name] === undefined);
        const what = missing.length === 1 ? `${missing[0]} listener` : `${missing.join(' and ')} listeners`;
        finish(new Error(`livegate did not bind its ${what} within ${timeoutMs} ms; output:\n${this.log()}`));
      }, timeoutMs);
      this.#exit.then(({ code, signal }) => {
        if (!done())
          finish(new Error(`livegate exited (code ${code}, signal ${signal}) before binding its listeners; output:\n${this.log()}`));
      });
      this.#child.stdout.on('data', check);
      this.#child.stderr.on('data', check);
      check();
    });
  }

  // Sends SIGTERM and waits for the exit, then SIGKILL after `timeoutMs`. Removes the
  // temporary directory. Resolves with { code, signal, killed }, where killed is true
  // when SIGKILL was needed. Calling it again returns the same result.
  stop({ timeoutMs = STOP_TIMEOUT_MS } = {}) {
    this.#stopped ??= this.#stop(timeoutMs);
    return this.#stopped;
  }

  async #stop(timeoutMs) {
    let killed = false;
    let timer;

    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      if (await Promise.race([this.#exit, timeout]) === 'timeout') {
        killed = true;
        this.#child.kill('SIGKILL');
      }
    }

    const status = await this.#exit;
    clearTimeout(timer);
    await rm(this.#workDir, { recursive: true, force: true });
    return { code: status.code, signal: status.signal, killed };
  }

  #listenerUrl(name) {
    if (this.ports[name] === undefined)
      return null;
    return `http://${connectableHost(this.hosts[name])}:${this.ports[name]}`;
  }

  #addOutput(text) {
    const pieces = (this.#partial + text).split('\n');
    this.#partial = pieces.pop();
    for (const line of pieces)
      this.#parseLine(line);

    this.#lines.push(...pieces);
    if (this.#lines.length > LOG_LINES_KEPT)
      this.#lines.splice(0, this.#lines.length - LOG_LINES_KEPT);
  }

  #parseLine(line) {
    const match = BOUND_LINE.exec(line);
    if (match === null)
      return;

    const [, name, host, port] = match;
    this.hosts[name] = host;
    this.ports[name] = Number(port);
  }
}

// A listener bound to every address is reached through loopback.
function connectableHost(host) {
  if (host === '0.0.0.0')
    return '127.0.0.1';
  if (host === '[::]')
    return '[::1]';
  return host;
}
