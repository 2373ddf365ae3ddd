// Runs the livegate binary for command-line and configuration tests: one-shot runs
// such as `-t` and `--help` with their exit status and output, long-running processes
// started with any arguments and environment, and TCP ports held or probed on loopback.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { livegateBuildDir } from './livegate.mjs';

// AddressSanitizer builds (LIVEGATE_SANITIZERS=1) are slower, so every wait is multiplied by 3.
export const TIME_SCALE = process.env.LIVEGATE_SANITIZERS === '1' ? 3 : 1;

// Returns MS scaled for the build under test.
export function scaled(ms) {
  return ms * TIME_SCALE;
}

// One-shot runs (-t, --help, a start that fails) end well within this.
const RUN_TIMEOUT_MS = scaled(10000);

// Processes still running, killed when the test process exits.
const running = new Set();
process.on('exit', () => {
  for (const child of running)
    child.kill('SIGKILL');
});

const BOUND_LINE = /\b(public|admin) listener bound to (\S+):(\d+)\b/;

// Returns { binary, modules }: the livegate binary and its plugin directory in the
// build directory named by LIVEGATE_BUILD_DIR. Throws when the variable is not set.
export function livegatePaths() {
  const buildDir = livegateBuildDir();
  if (buildDir === null)
    throw new Error('LIVEGATE_BUILD_DIR is not set: set it to a livegate build directory (the one holding livegate and modules/)');
  return { binary: path.join(buildDir, 'livegate'), modules: path.join(buildDir, 'modules') };
}

// Returns a copy of the environment with the NAMES removed and EXTRA added.
export function environment(extra = {}, names = []) {
  const env = { ...process.env, ...extra };
  for (const name of names)
    delete env[name];
  return env;
}

// Creates an empty temporary directory. Returns { dir, remove() }.
export async function makeTempDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'livegate-cli-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

// Writes TEXT to NAME in a new temporary directory. Returns { dir, path, remove() }.
export async function writeTempFile(text, name = 'livegate.yaml') {
  const { dir, remove } = await makeTempDir();
  const file = path.join(dir, name);
  await writeFile(file, text);
  return { dir, path: file, remove };
}

// Runs livegate with ARGS until it exits. Resolves with { code, signal, stdout,
// stderr, output }, where output is stdout and stderr together. Rejects when it is
// still running after TIMEOUTMS (it is then killed) or cannot be started.
export function runLivegate(args, { env = process.env, cwd, timeoutMs = RUN_TIMEOUT_MS } = {}) {
  const { binary } = livegatePaths();
  const child = spawn(binary, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text) => { stdout += text; });
  child.stderr.on('data', (text) => { stderr += text; });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`livegate ${args.join(' ')} did not exit within ${timeoutMs} ms; output:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`cannot start ${binary}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, output: stdout + stderr });
    });
  });
}

// Writes CONFIG (YAML text) to a temporary file and runs
// `livegate -t -c FILE --plugin-dir MODULES`. Resolves with the result of runLivegate
// plus path, the config file, which is removed again before this returns.
export async function checkConfig(config, { env, name = 'livegate.yaml' } = {}) {
  const { modules } = livegatePaths();
  const file = await writeTempFile(config, name);
  try {
    const result = await runLivegate(['-t', '-c', file.path, '--plugin-dir', modules], { env });
    return { ...result, path: file.path };
  } finally {
    await file.remove();
  }
}

// Starts livegate with ARGS and ENV and returns a handle at once: { process, ports,
// hosts, publicUrl, adminUrl, exited, output(), waitForOutput(), waitForListeners(),
// stop() }. exited resolves with { code, signal } once the process has ended and its
// output has been read.
export function spawnLivegate(args, { env = process.env, cwd } = {}) {
  const { binary } = livegatePaths();
  const child = spawn(binary, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  return new LivegateRun(child);
}

class LivegateRun {
  #text = '';
  #partial = '';
  #waiters = new Set();

  constructor(child) {
    this.process = child;
    this.ports = {};
    this.hosts = {};
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => {
        this.#add(`spawn failed: ${error.message}\n`);
        resolve({ code: null, signal: null, error });
      });
    });
    this.exited.then(() => {
      running.delete(child);
      this.#notify();
    });

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text) => this.#add(text));
    child.stderr.on('data', (text) => this.#add(text));
  }

  get publicUrl() {
    return this.ports.public === undefined ? null : `http://${this.hosts.public}:${this.ports.public}`;
  }

  get adminUrl() {
    return this.ports.admin === undefined ? null : `http://${this.hosts.admin}:${this.ports.admin}`;
  }

  get running() {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  // Returns everything livegate wrote to stdout and stderr so far.
  output() {
    return this.#text;
  }

  // Resolves with the match once PATTERN matches the output. Rejects when the
  // process exits first or TIMEOUTMS passes.
  waitForOutput(pattern, timeoutMs, what = String(pattern)) {
    return new Promise((resolve, reject) => {
      const finish = (error, match) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error === undefined)
          resolve(match);
        else
          reject(error);
      };
      const check = () => {
        const match = pattern.exec(this.#text);
        if (match !== null)
          finish(undefined, match);
        else if (!this.running)
          finish(new Error(`livegate exited (code ${this.process.exitCode}, signal ${this.process.signalCode}) while waiting for ${what}; output:\n${this.#text}`));
      };
      const timer = setTimeout(() => {
        finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; output:\n${this.#text}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  // Resolves once every listener in NAMES ('public', 'admin') has logged its address.
  async waitForListeners(names = ['public', 'admin'], timeoutMs = scaled(5000)) {
    for (const name of names)
      await this.waitForOutput(new RegExp(`\\b${name} listener bound to `), timeoutMs, `the ${name} listener`);
  }

  // Sends SIGTERM unless the process has exited, then SIGKILL after TIMEOUTMS.
  // Resolves with { code, signal, killed }.
  async stop({ timeoutMs = scaled(5000) } = {}) {
    let killed = false;
    let timer;

    if (this.running) {
      this.process.kill('SIGTERM');
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      if (await Promise.race([this.exited, timeout]) === 'timeout') {
        killed = true;
        this.process.kill('SIGKILL');
      }
    }

    const status = await this.exited;
    clearTimeout(timer);
    return { ...status, killed };
  }

  #add(text) {
    this.#text += text;

    // Only whole lines are parsed, so that a port split across reads is not cut short.
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop();
    for (const line of lines) {
      const match = BOUND_LINE.exec(line);
      if (match !== null) {
        this.hosts[match[1]] = connectableHost(match[2]);
        this.ports[match[1]] = Number(match[3]);
      }
    }
    this.#notify();
  }

  #notify() {
    for (const waiter of [...this.#waiters])
      waiter();
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

// Listens on 127.0.0.1 with a port picked by the kernel. Resolves with
// { port, close() }, where close() resolves once the port is released.
export function holdPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const close = () => new Promise((done) => server.close(() => done()));
      resolve({ port: server.address().port, close });
    });
  });
}

// Resolves with a port on 127.0.0.1 that was free a moment ago.
export async function freePort() {
  const listener = await holdPort();
  await listener.close();
  return listener.port;
}

// Resolves with true when a listener can bind 127.0.0.1:PORT now, and releases it.
export function canBind(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
