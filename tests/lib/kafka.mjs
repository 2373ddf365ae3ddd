// A real Apache Kafka broker for tests (tests/kafka/broker.sh: KRaft, one node, on
// loopback), and producing records with kcat.

import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BROKER_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../kafka/broker.sh');
export const KAFKA_START_TIMEOUT_MS = 120000;

// Brokers still running, killed when the test process exits.
const running = new Set();
process.on('exit', () => {
  for (const dir of running) {
    try {
      process.kill(Number(readFileSync(path.join(dir, 'broker.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

function canBind(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// Returns a port P such that P and P + 1 (the controller) were free a moment ago.
async function freePortPair() {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (await canBind(port) && await canBind(port + 1))
      return port;
  }
  throw new Error('no two free neighbouring ports found on 127.0.0.1');
}

function runScript(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(BROKER_SCRIPT, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${BROKER_SCRIPT} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else
        resolve();
    });
  });
}

// Starts a broker in a new directory. Returns { port, brokers, stop(), start(), remove() }:
// stop() and start() stop it and start it again on the same port with the same data.
export async function startKafka() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'livegate-kafka-'));
  const port = await freePortPair();
  const broker = {
    port,
    brokers: `127.0.0.1:${port}`,
    async start() {
      running.add(dir);
      await runScript(['start', dir, String(port)], KAFKA_START_TIMEOUT_MS);
    },
    async stop() {
      await runScript(['stop', dir], 60000);
      running.delete(dir);
    },
    async remove() {
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

// Produces LINES (strings "KEY:VALUE", or "VALUE" with keyed false) to TOPIC with kcat,
// to PARTITION or by key, with extra librdkafka PROPERTIES ("name=value"), waiting for
// every acknowledgement.
export function produce(brokers, topic, lines, { keyed = true, headers = [], partition = null, properties = [] } = {}) {
  const args = ['-b', brokers, '-t', topic, '-P', '-X', 'acks=all'];
  for (const property of properties)
    args.push('-X', property);
  if (partition !== null)
    args.push('-p', String(partition));
  if (keyed)
    args.push('-K', ':');
  for (const header of headers)
    args.push('-H', header);
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => { stderr += text; });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0)
        resolve();
      else
        reject(new Error(`kcat exited with ${code}: ${stderr}`));
    });
    child.stdin.end(lines.map((line) => `${line}\n`).join(''));
  });
}
