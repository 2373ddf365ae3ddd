// Kafka to SSE: how fast records produced into a topic reach an SSE client through
// livegate, beside how fast librdkafka's own consumer (kcat) reads the same records.
//
// Usage (from the repository root, after scripts/build.sh and scripts/setup.sh --test):
//
//   LIVEGATE_BUILD_DIR=$PWD/build node bench/kafka-sse.mjs [RECORDS] [BYTES]
//
// It starts a local broker (tests/kafka/broker.sh) and livegate on loopback, produces
// RECORDS (default 200000) records of about BYTES (default 100) bytes with kcat as fast
// as it can, and prints one table. Latency is the SSE client's receive time minus the
// record's CreateTime (set by the producer), both from this machine's clock, once
// behind the burst and once for 5,000 records produced at 1,000 per second.

import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

import { produce, startKafka } from '../tests/lib/kafka.mjs';
import { startLivegate } from '../tests/lib/livegate.mjs';
import { openSse } from '../tests/lib/sse.mjs';

const RECORDS = Number(process.argv[2] ?? 200000);
// Large batches, so that the producer is not what limits the burst.
const FAST_PRODUCER = ['linger.ms=50', 'batch.num.messages=10000', 'queue.buffering.max.messages=2000000'];
const BYTES = Number(process.argv[3] ?? 100);

const NOTICES = ['subscribed', 'reset', 'gap', 'subscribe_error'];

function isRecord(event) {
  return !NOTICES.includes(event.event);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

// Returns the seconds kcat takes to read COUNT records of TOPIC from the beginning.
function kcatConsumeSeconds(brokers, topic, count) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-c', String(count), '-q', '-e'],
      { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0)
        resolve((performance.now() - started) / 1000);
      else
        reject(new Error(`kcat exited with ${code}`));
    });
  });
}

// Produces COUNT records to TOPIC at RATE per second, ten at a time, with no producer
// linger, so latency is measured on an idle path rather than behind a burst.
function producePaced(brokers, topic, count, rate, bytes) {
  const lines = records(count, bytes);
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-b', brokers, '-t', topic, '-P', '-K', ':', '-X', 'linger.ms=0'],
      { stdio: ['pipe', 'ignore', 'inherit'] });
    let next = 0;
    const timer = setInterval(() => {
      child.stdin.write(lines.slice(next, next + 10).map((l) => `${l}\n`).join(''));
      next += 10;
      if (next >= lines.length) {
        clearInterval(timer);
        child.stdin.end();
      }
    }, 10000 / rate);
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited with ${code}`))));
  });
}

function latencies(events) {
  const offset = Date.now() - performance.now();
  return events.map((e) => e.receivedAt + offset - JSON.parse(e.data).time).sort((a, b) => a - b);
}

// Returns { rate, readBack }: the records per second a second livegate reads from the
// start of the topic into its channel, from its kafka_records_total counter (no client
// connected; the time runs from the process start, so it includes start-up and
// partition discovery: a lower bound), and then the records per second an SSE client
// gets when it resumes from offset 0 of every partition while the channel keeps no
// history, so that every record comes from a read-back.
async function consumeIntoChannelRate(brokers, count) {
  const started = performance.now();
  const reader = await startLivegate({
    config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
  stats:
    interval: 0s
  limits:
    client_queue: 1GiB
sources:
  - name: reader
    type: kafka
    brokers: ${brokers}
    topics: [bench]
    channel: bench
    start: earliest
    max_read_back: 10000000
    read_back_timeout: 300s
channels:
  - match: "*"
    history: {length: 0}
sinks:
  - type: sse
`,
  });
  try {
    let rate;
    for (;;) {
      const text = await (await fetch(`${reader.adminUrl}/metrics`)).text();
      const match = /^livegate_kafka_records_total\{source="reader"\} (\d+)$/m.exec(text);
      const done = match === null ? 0 : Number(match[1]);
      if (done >= count) {
        rate = done / ((performance.now() - started) / 1000);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const from = 'kafka:bench:0:0,kafka:bench:1:0,kafka:bench:2:0';
    const resumeStarted = performance.now();
    const stream = await openSse(`${reader.publicUrl}/sse?channel=bench`, { headers: { 'Last-Event-ID': from }, timeoutMs: 300000 });
    // The subscribed notice, then the records (counted without filtering, which would
    // make every check walk all the events).
    await stream.waitFor((events) => events.length >= count - 3 + 1, 300000, 'the records read back');
    const seconds = (performance.now() - resumeStarted) / 1000;
    const resets = stream.named('reset').length;
    stream.close();
    if (resets > 0)
      throw new Error('the resume got a reset instead of a read-back');
    return { rate, readBack: (count - 3) / seconds, readBackCount: count - 3, readBackSeconds: seconds };
  } finally {
    await reader.stop();
  }
}

function records(count, bytes) {
  const pad = 'x'.repeat(Math.max(0, bytes - 24));
  const lines = [];
  for (let n = 0; n < count; n++)
    lines.push(`k${n % 50}:{"n":${n},"pad":"${pad}"}`);
  return lines;
}

async function main() {
  const kafka = await startKafka();
  let livegate;
  try {
    livegate = await startLivegate({
      config: `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
  limits:
    client_queue: 256MiB
sources:
  - name: bench
    type: kafka
    brokers: ${kafka.brokers}
    topics: [bench]
    channel: bench
    start: latest
channels:
  - match: "*"
    history: {length: 0}
    overflow: disconnect
sinks:
  - type: sse
`,
    });
    // The topic exists before the client connects, so livegate reads it from its end.
    await produce(kafka.brokers, 'bench', ['warm:{"n":-1}']);
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const stream = await openSse(`${livegate.publicUrl}/sse?channel=bench`, { timeoutMs: 60000 });
    await stream.waitFor(() => stream.named('subscribed').length === 1, 10000, 'subscribed');
    const before = stream.events.length;

    const produceStarted = performance.now();
    await produce(kafka.brokers, 'bench', records(RECORDS, BYTES), { properties: FAST_PRODUCER });
    const produceSeconds = (performance.now() - produceStarted) / 1000;
    await stream.waitFor(() => stream.events.length - before >= RECORDS, 600000, `${RECORDS} records`);

    const received = stream.events.slice(before).filter(isRecord);
    const firstAt = received[0].receivedAt;
    const lastAt = received[received.length - 1].receivedAt;
    const burst = latencies(received);

    // A second phase at 1,000 records per second.
    const paced = 5000;
    const pacedBefore = stream.events.length;
    await producePaced(kafka.brokers, 'bench', paced, 1000, BYTES);
    await stream.waitFor(() => stream.events.length - pacedBefore >= paced, 120000, `${paced} paced records`);
    const steady = latencies(stream.events.slice(pacedBefore).filter(isRecord));
    stream.close();

    const kcatSeconds = await kcatConsumeSeconds(kafka.brokers, 'bench', RECORDS);
    const reader = await consumeIntoChannelRate(kafka.brokers, RECORDS + paced + 1);
    const channelRate = reader.rate;
    const livegateRate = RECORDS / ((lastAt - firstAt) / 1000);
    const kcatRate = RECORDS / kcatSeconds;

    console.log(`records: ${RECORDS} of about ${BYTES} bytes`);
    console.log(`kcat produce:               ${(RECORDS / produceSeconds).toFixed(0)} records/s`);
    console.log(`kcat consume (librdkafka):  ${kcatRate.toFixed(0)} records/s`);
    console.log(`livegate Kafka to channel:  ${channelRate.toFixed(0)} records/s (${(channelRate / kcatRate).toFixed(2)} of kcat; no client)`);
    console.log(`livegate Kafka to SSE:      ${livegateRate.toFixed(0)} records/s (one client, while the burst was produced)`);
    console.log(`resume read back from Kafka: ${reader.readBackCount} records in ${reader.readBackSeconds.toFixed(2)} s, ${reader.readBack.toFixed(0)} records/s to one SSE client`);
    console.log(`latency behind the burst:   p50 ${percentile(burst, 0.5)} ms, p99 ${percentile(burst, 0.99)} ms, max ${burst[burst.length - 1]} ms`);
    console.log(`latency at 1,000/s:         p50 ${percentile(steady, 0.5)} ms, p99 ${percentile(steady, 0.99)} ms, p99.9 ${percentile(steady, 0.999)} ms`);
  } finally {
    await livegate?.stop();
    await kafka.remove();
  }
}

await main();
