// Integration tests of permessage-deflate on the WebSocket sink: negotiation, compressed
// event frames that any RFC 7692 reader inflates, and compressed client commands.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';

import WebSocket from 'ws';

import { startLivegate } from '../lib/livegate.mjs';
import { publish } from '../lib/sse.mjs';

const config = (deflate) => `server:
  listen: 127.0.0.1:0
  admin:
    listen: 127.0.0.1:0
channels:
  - match: "*"
    publish: true
    snapshot: none
sinks:
  - type: websocket
    deflate: ${deflate}
    deflate_threshold: 100
`;

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

// A raw client: handshake with the given extension offer, then collect whole frames.
async function connect(url, extensions) {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  const key = crypto.randomBytes(16).toString('base64');
  const state = { socket, buffer: Buffer.alloc(0), frames: [], head: null, waiters: [] };
  socket.on('data', (chunk) => {
    state.buffer = Buffer.concat([state.buffer, chunk]);
    if (state.head === null) {
      const end = state.buffer.indexOf('\r\n\r\n');
      if (end < 0)
        return;
      state.head = state.buffer.subarray(0, end).toString('latin1');
      state.buffer = state.buffer.subarray(end + 4);
    }
    parseFrames(state);
    for (const waiter of state.waiters.splice(0))
      waiter();
  });
  socket.write(`GET /ws HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n` +
    (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') + '\r\n');
  await waitFor(state, () => state.head !== null);
  return state;
}

function parseFrames(state) {
  for (;;) {
    const b = state.buffer;
    if (b.length < 2)
      return;
    let len = b[1] & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (b.length < 4)
        return;
      len = b.readUInt16BE(2);
      offset = 4;
    } else if (len === 127) {
      if (b.length < 10)
        return;
      len = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + len)
      return;
    state.frames.push({ rsv1: (b[0] & 0x40) !== 0, opcode: b[0] & 0x0f, payload: b.subarray(offset, offset + len) });
    state.buffer = b.subarray(offset + len);
  }
}

function waitFor(state, predicate, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for frames')), timeoutMs);
    const check = () => {
      if (predicate()) {
        clearTimeout(timer);
        resolve();
      } else {
        state.waiters.push(check);
      }
    };
    check();
  });
}

// Sends a masked text frame, compressed when COMPRESS is set.
function sendText(state, text, compress) {
  let payload = Buffer.from(text);
  if (compress) {
    const packed = zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    payload = packed.subarray(0, packed.length - 4);
  }
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
  const header = payload.length < 126
    ? Buffer.from([0x81 | (compress ? 0x40 : 0), 0x80 | payload.length])
    : Buffer.from([0x81 | (compress ? 0x40 : 0), 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  state.socket.write(Buffer.concat([header, mask, masked]));
}

function text(frame) {
  const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  return frame.rsv1 ? zlib.inflateRawSync(Buffer.concat([frame.payload, TAIL]), options).toString() : frame.payload.toString();
}

describe('permessage-deflate on', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({ config: config(true) });
  });

  after(async () => {
    const { code } = await livegate.stop();
    assert.equal(code, 0, livegate.log());
  });

  it('offer is accepted without context takeover', async () => {
    const client = await connect(livegate.publicUrl, 'permessage-deflate; client_max_window_bits');
    assert.match(client.head, /^HTTP\/1\.1 101/);
    assert.match(client.head,
      /\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover/);
    client.socket.destroy();
  });

  it('large events arrive compressed, small ones plain', async () => {
    const client = await connect(livegate.publicUrl, 'permessage-deflate');
    sendText(client, JSON.stringify({ op: 'subscribe', channel: 'z.a' }), false);
    await waitFor(client, () => client.frames.length >= 1);
    const big = { text: 'abc'.repeat(200) };
    await publish(livegate.adminUrl, 'z.a', big);
    await publish(livegate.adminUrl, 'z.a', 1);
    await waitFor(client, () => client.frames.length >= 3);

    const [subscribed, large, small] = client.frames;
    assert.equal(subscribed.rsv1, false);
    assert.equal(JSON.parse(text(subscribed)).type, 'subscribed');
    assert.equal(large.rsv1, true);
    assert.ok(large.payload.length < 200, `compressed frame of ${large.payload.length} bytes`);
    assert.deepEqual(JSON.parse(text(large)).data, big);
    assert.equal(small.rsv1, false);
    assert.equal(JSON.parse(text(small)).data, 1);
    client.socket.destroy();
  });

  it('compressed commands are understood', async () => {
    const client = await connect(livegate.publicUrl, 'permessage-deflate');
    sendText(client, JSON.stringify({ op: 'ping', data: 'x'.repeat(300) }), true);
    await waitFor(client, () => client.frames.length >= 1);
    assert.deepEqual(JSON.parse(text(client.frames[0])), { type: 'pong', data: 'x'.repeat(300) });
    client.socket.destroy();
  });

  it('compressed invalid UTF-8 closes with 1007', async () => {
    const client = await connect(livegate.publicUrl, 'permessage-deflate');
    const packed = zlib.deflateRawSync(Buffer.from([0x22, 0xc3, 0x22]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const payload = packed.subarray(0, packed.length - 4);
    const mask = Buffer.from([1, 2, 3, 4]);
    client.socket.write(Buffer.concat([Buffer.from([0xc1, 0x80 | payload.length]), mask,
      Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]))]));
    await waitFor(client, () => client.frames.some((f) => f.opcode === 8));
    const close = client.frames.find((f) => f.opcode === 8);
    assert.equal(close.payload.readUInt16BE(0), 1007);
    client.socket.destroy();
  });

  // RFC 7692 section 5: an offer with an unknown, repeated or invalid parameter is
  // declined, and the connection opens without the extension.
  it('invalid offers are declined', async () => {
    const offers = [
      'permessage-deflate; client_max_window_bits=7',
      'permessage-deflate; client_max_window_bits=16',
      'permessage-deflate; client_max_window_bits=abc',
      'permessage-deflate; server_max_window_bits=XYZ',
      'permessage-deflate; server_max_window_bits',
      'permessage-deflate; client_max_window_bits; client_max_window_bits',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; client_no_context_takeover=yes',
    ];
    for (const offer of offers) {
      const client = await connect(livegate.publicUrl, offer);
      assert.match(client.head, /^HTTP\/1\.1 101/, offer);
      assert.doesNotMatch(client.head, /Sec-WebSocket-Extensions/, offer);
      client.socket.destroy();
    }
  });

  it('next offer is used after a declined one', async () => {
    const client = await connect(livegate.publicUrl,
      'permessage-deflate; client_max_window_bits=7, permessage-deflate; client_max_window_bits=10');
    assert.match(client.head,
      /\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover(?:\r\n|$)/);
    client.socket.destroy();
  });

  // Accepting server_max_window_bits means echoing it (RFC 7692 section 7.1.2.1).
  it('server window offer is echoed', async () => {
    const raw = await connect(livegate.publicUrl, 'permessage-deflate; server_max_window_bits=15');
    assert.match(raw.head, /\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; (?:[^\r]*; )?server_max_window_bits=15(?:\r\n|$)/);
    raw.socket.destroy();

    const ws = new WebSocket(`${livegate.publicUrl.replace(/^http/, 'ws')}/ws`,
      { perMessageDeflate: { serverMaxWindowBits: 12 } });
    const messages = [];
    let extensions = null;
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    ws.once('upgrade', (response) => {
      extensions = response.headers['sec-websocket-extensions'];
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    assert.match(extensions, /server_max_window_bits=12/);
    ws.send(JSON.stringify({ op: 'ping', data: 'y'.repeat(400) }));
    await new Promise((resolve) => ws.once('message', resolve));
    assert.deepEqual(messages, [{ type: 'pong', data: 'y'.repeat(400) }]);
    ws.terminate();
  });

  it('data after the final block closes with 1007', async () => {
    const client = await connect(livegate.publicUrl, 'permessage-deflate');
    const packed = zlib.deflateRawSync(Buffer.from('{"op":"ping"}'));
    const payload = Buffer.concat([packed, Buffer.from('junk')]);
    const mask = Buffer.from([9, 8, 7, 6]);
    client.socket.write(Buffer.concat([Buffer.from([0xc1, 0x80 | payload.length]), mask,
      Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]))]));
    await waitFor(client, () => client.frames.some((f) => f.opcode === 8));

    assert.deepEqual(client.frames.filter((f) => f.opcode !== 8), [], 'the message was answered');
    const close = client.frames.find((f) => f.opcode === 8);
    assert.equal(close.payload.readUInt16BE(0), 1007);
    assert.match(close.payload.subarray(2).toString(), /after the final deflate block/);
    client.socket.destroy();
  });

  it('final block without junk is understood', async () => {
    const client = await connect(livegate.publicUrl, 'permessage-deflate');
    const packed = zlib.deflateRawSync(Buffer.from('{"op":"ping","data":1}'));
    const mask = Buffer.from([1, 3, 5, 7]);
    client.socket.write(Buffer.concat([Buffer.from([0xc1, 0x80 | packed.length]), mask,
      Buffer.from(packed.map((byte, i) => byte ^ mask[i % 4]))]));
    await waitFor(client, () => client.frames.some((f) => text(f).includes('pong')));
    assert.deepEqual(JSON.parse(text(client.frames.find((f) => text(f).includes('pong')))), { type: 'pong', data: 1 });
    client.socket.destroy();
  });

  it('client without offer gets plain frames', async () => {
    const client = await connect(livegate.publicUrl, null);
    assert.doesNotMatch(client.head, /Sec-WebSocket-Extensions/);
    sendText(client, JSON.stringify({ op: 'subscribe', channel: 'z.b' }), false);
    await waitFor(client, () => client.frames.length >= 1);
    await publish(livegate.adminUrl, 'z.b', { text: 'abc'.repeat(200) });
    await waitFor(client, () => client.frames.length >= 2);
    assert.equal(client.frames[1].rsv1, false);
    client.socket.destroy();
  });
});

describe('permessage-deflate off', () => {
  let livegate;

  before(async () => {
    livegate = await startLivegate({ config: config(false) });
  });

  after(async () => {
    await livegate.stop();
  });

  it('offer is declined', async () => {
    const client = await connect(livegate.publicUrl, 'permessage-deflate');
    assert.match(client.head, /^HTTP\/1\.1 101/);
    assert.doesNotMatch(client.head, /Sec-WebSocket-Extensions/);
    // A compressed frame is then a protocol error.
    sendText(client, JSON.stringify({ op: 'ping' }), true);
    await waitFor(client, () => client.frames.some((f) => f.opcode === 8));
    assert.equal(client.frames.find((f) => f.opcode === 8).payload.readUInt16BE(0), 1002);
    client.socket.destroy();
  });
});
