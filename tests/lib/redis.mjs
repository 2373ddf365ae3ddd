// A real redis-server for tests, started on a free loopback port and stopped by its
// pid, and a small RESP2 client to send it commands (PUBLISH, SET, PUBSUB NUMSUB).

import { spawn } from 'node:child_process';
import net from 'node:net';

export const REDIS_START_TIMEOUT_MS = 10000;

// Servers still running, killed when the test process exits.
const running = new Set();
process.on('exit', () => {
  for (const child of running)
    child.kill('SIGKILL');
});

// Returns a TCP port that was free on 127.0.0.1 a moment ago.
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts `redis-server` on 127.0.0.1:PORT (a free one by default), without
// persistence, and resolves once it replies to PING. Returns { port, address, pid, stop() }.
export async function startRedis({ port = null } = {}) {
  const chosen = port ?? await freePort();
  const child = spawn('redis-server', ['--save', '', '--appendonly', 'no', '--port', String(chosen),
    '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text) => { output += text; });
  child.stderr.on('data', (text) => { output += text; });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    running.delete(child);
    resolve({ code, signal });
  }));

  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`redis-server exited with ${child.exitCode} before answering; output:\n${output}`);
    try {
      const client = await RedisClient.connect(chosen);
      await client.command('PING');
      client.close();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${chosen} did not answer within ${REDIS_START_TIMEOUT_MS} ms: ${error.message}; output:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  return {
    port: chosen,
    address: `127.0.0.1:${chosen}`,
    pid: child.pid,
    // Sends SIGTERM to the server's pid and resolves once it has exited.
    async stop() {
      if (child.exitCode === null && child.signalCode === null)
        process.kill(child.pid, 'SIGTERM');
      return exited;
    },
  };
}

// A RESP2 client: one command at a time in flight per call, replies matched in order.
export class RedisClient {
  #socket;
  #buffer = Buffer.alloc(0);
  #waiting = [];

  constructor(socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#drain();
    });
    socket.on('close', () => {
      for (const { reject } of this.#waiting.splice(0))
        reject(new Error('connection to redis-server closed'));
    });
  }

  static connect(port) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RedisClient(socket)));
      socket.once('error', reject);
    });
  }

  // Sends ARGS as one command and resolves with the decoded reply (errors reject).
  command(...args) {
    const parts = [`*${args.length}\r\n`];
    for (const arg of args) {
      const text = String(arg);
      parts.push(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#socket.write(parts.join(''));
    });
  }

  close() {
    this.#socket.destroy();
  }

  #drain() {
    for (;;) {
      const parsed = parseReply(this.#buffer, 0);
      if (parsed === null)
        return;
      this.#buffer = this.#buffer.subarray(parsed.end);
      const waiter = this.#waiting.shift();
      if (waiter === undefined)
        continue;
      if (parsed.value instanceof Error)
        waiter.reject(parsed.value);
      else
        waiter.resolve(parsed.value);
    }
  }
}

// Decodes one RESP2 value at OFFSET of BUFFER: { value, end }, or null when incomplete.
function parseReply(buffer, offset) {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0)
    return null;
  const kind = String.fromCharCode(buffer[offset]);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;

  if (kind === '+')
    return { value: line, end: next };
  if (kind === '-')
    return { value: new Error(line), end: next };
  if (kind === ':')
    return { value: Number(line), end: next };
  if (kind === '$') {
    const length = Number(line);
    if (length < 0)
      return { value: null, end: next };
    if (buffer.length < next + length + 2)
      return null;
    return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
  }
  if (kind === '*') {
    const count = Number(line);
    const items = [];
    let end = next;
    for (let i = 0; i < count; i++) {
      const item = parseReply(buffer, end);
      if (item === null)
        return null;
      items.push(item.value);
      end = item.end;
    }
    return { value: count < 0 ? null : items, end };
  }
  throw new Error(`unexpected RESP type byte ${JSON.stringify(kind)}`);
}
