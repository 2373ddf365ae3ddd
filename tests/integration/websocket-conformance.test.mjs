// RFC 6455 conformance tests of the WebSocket sink with raw frames, grouped like the
// Autobahn test suite: framing, pings, reserved bits and opcodes, fragmentation,
// UTF-8, closing, limits and the opening handshake. Each case sends bytes to the echo
// endpoint of a real livegate and checks the exact frames it sends back, and that the
// server closes the TCP connection itself after every close frame it sends.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';

import { scaled, TIME_SCALE } from '../lib/cli.mjs';
import { startLivegate } from '../lib/livegate.mjs';
import {
  acceptKey,
  closeCode,
  closePayload,
  encodeFrame,
  handshakeHeaders,
  OPCODE,
  openWebSocket,
  rawHttpRequest,
  RSV1,
  RSV2,
  RSV3,
} from '../lib/wsraw.mjs';

const MAX_FRAME_BYTES = 64 * 1024;
const MAX_MESSAGE_BYTES = 128 * 1024;

// An echo or a close frame on loopback takes milliseconds. These bounds leave room for
// a loaded machine without letting a missing frame stall the suite.
const FRAME_TIMEOUT_MS = scaled(2000);
const TCP_CLOSE_TIMEOUT_MS = scaled(3000);

// Server pings are off because a ping could arrive between the frames a case expects.
const CONFIG = `server:
  listen: 127.0.0.1:0
  workers: 2
  admin:
    listen: 127.0.0.1:0
sinks:
  - type: websocket
    echo_path: /echo
    ping_interval: 0
    max_frame_size: ${MAX_FRAME_BYTES}
    max_message_size: ${MAX_MESSAGE_BYTES}
    allowed_origins: ["https://allowed.example"]
`;

const RFC_EXAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_EXAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

// Returns LENGTH bytes of printable ASCII for text frames.
function textPayload(length) {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++)
    bytes[i] = 0x20 + (i % 95);
  return bytes;
}

// Returns LENGTH bytes that cycle through every byte value, for binary frames.
function binaryPayload(length) {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++)
    bytes[i] = (i * 7) % 256;
  return bytes;
}

async function rssBytes(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(match[1]) * 1024;
}

// Reads the next frame and checks that it is a whole, unmasked frame with OPCODE and
// exactly PAYLOAD.
async function expectFrame(conn, opcode, payload) {
  const frame = await conn.nextFrame(FRAME_TIMEOUT_MS);
  assert.notEqual(frame, null, `the server closed the connection instead of sending opcode ${opcode}`);
  assert.equal(frame.opcode, opcode, `frame opcode is ${frame.opcode}, expected ${opcode}`);
  assert.equal(frame.fin, true, 'frame has FIN unset');
  assert.equal(frame.rsv, 0, 'frame has RSV bits set');
  assert.equal(frame.masked, false, 'server frame is masked');
  assert.equal(frame.payload.length, payload.length, 'payload length differs');
  assert.ok(frame.payload.equals(payload), 'payload bytes differ');
  return frame;
}

// Reads the next frame and checks that it is a close frame with CODE (null for an
// empty payload), that no frame follows it, and that the server closes the TCP
// connection with a FIN.
async function expectClose(conn, code) {
  const frame = await conn.nextFrame(FRAME_TIMEOUT_MS);
  assert.notEqual(frame, null, `the server closed the TCP connection without a close frame (expected ${code})`);
  assert.equal(frame.opcode, OPCODE.close, `frame opcode is ${frame.opcode}, expected a close frame with ${code}`);
  assert.equal(frame.masked, false, 'server close frame is masked');
  assert.equal(closeCode(frame), code, `close code is ${closeCode(frame)}, expected ${code}`);

  const closedBy = await conn.waitForTcpClose(TCP_CLOSE_TIMEOUT_MS);
  assert.equal(closedBy, 'end', 'the server reset the TCP connection instead of closing it');
  assert.deepEqual(conn.unreadFrames().map((extra) => extra.opcode), [], 'frames arrived after the close frame');
  return frame;
}

// Ends a connection with a client close 1000 and checks the server's echo of it.
async function closeCleanly(conn) {
  conn.sendFrame({ opcode: OPCODE.close, payload: closePayload(1000) });
  await expectClose(conn, 1000);
}

describe('WebSocket conformance', () => {
  let livegate;
  let port;
  const connections = [];

  // Opens a connection with openWebSocket OPTIONS, to the echo endpoint unless
  // options.path is set. after() destroys it.
  async function connect(options = {}) {
    const conn = await openWebSocket(port, { path: '/echo', ...options }, FRAME_TIMEOUT_MS);
    connections.push(conn);
    return conn;
  }

  before(async () => {
    livegate = await startLivegate({ config: CONFIG });
    port = livegate.ports.public;
  });

  after(async () => {
    for (const conn of connections)
      conn.destroy();
    const { code, killed } = await livegate.stop();
    assert.equal(killed, false, 'livegate did not stop on SIGTERM');
    assert.equal(code, 0, `livegate exited with ${code}; output:\n${livegate.log()}`);
  });

  describe('framing', () => {
    for (const [kind, opcode, makePayload] of [
      ['text', OPCODE.text, textPayload],
      ['binary', OPCODE.binary, binaryPayload],
    ]) {
      // RFC 6455 section 5.2: a length up to 125 fits in 7 bits, up to 65535 takes the
      // 16-bit form, and above that the 64-bit form. Senders use the shortest.
      for (const [length, encoding] of [[0, 7], [125, 7], [126, 16], [127, 16], [65535, 16], [65536, 64]]) {
        it(`${kind} echo of ${length} bytes`, async () => {
          const conn = await connect();
          const payload = makePayload(length);
          const sent = encodeFrame({ opcode, payload });
          // Client header: 2 bytes, the extended length, then a 4-byte mask.
          const headerBytes = { 7: 6, 16: 8, 64: 14 }[encoding];
          assert.equal(sent.length, headerBytes + length, `the client frame does not use the ${encoding}-bit encoding`);

          conn.send(sent);
          const frame = await expectFrame(conn, opcode, payload);
          assert.equal(frame.encoding, encoding, `server used the ${frame.encoding}-bit length encoding`);
          await closeCleanly(conn);
        });
      }
    }

    it('frame sent byte by byte', async () => {
      const conn = await connect();
      const payload = Buffer.from('sent one byte per TCP segment');

      await conn.sendInPieces(encodeFrame({ opcode: OPCODE.text, payload }), 1);
      await expectFrame(conn, OPCODE.text, payload);
      await closeCleanly(conn);
    });

    it('16-bit length sent byte by byte', async () => {
      const conn = await connect();
      const payload = binaryPayload(300);

      await conn.sendInPieces(encodeFrame({ opcode: OPCODE.binary, payload }), 1, 1);
      await expectFrame(conn, OPCODE.binary, payload);
      await closeCleanly(conn);
    });
  });

  describe('pings and pongs', () => {
    it('ping with empty payload', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.ping });
      await expectFrame(conn, OPCODE.pong, Buffer.alloc(0));
      await closeCleanly(conn);
    });

    it('ping with 125 bytes', async () => {
      const conn = await connect();
      const payload = binaryPayload(125);

      conn.sendFrame({ opcode: OPCODE.ping, payload });
      await expectFrame(conn, OPCODE.pong, payload);
      await closeCleanly(conn);
    });

    it('ping with 126 bytes closes 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.ping, payload: binaryPayload(126) });
      await expectClose(conn, 1002);
    });

    it('unsolicited pong ignored', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.pong, payload: 'unsolicited' });
      conn.sendFrame({ opcode: OPCODE.close, payload: closePayload(1000) });
      await expectClose(conn, 1000);
    });

    it('ping inside fragmented message', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.text, payload: 'fragmented ', fin: false });
      conn.sendFrame({ opcode: OPCODE.ping, payload: 'between fragments' });
      // The pong must come before the message is complete.
      await expectFrame(conn, OPCODE.pong, Buffer.from('between fragments'));

      conn.sendFrame({ opcode: OPCODE.continuation, payload: 'message' });
      await expectFrame(conn, OPCODE.text, Buffer.from('fragmented message'));
      await closeCleanly(conn);
    });
  });

  describe('reserved bits', () => {
    for (const [name, rsv] of [['RSV1', RSV1], ['RSV2', RSV2], ['RSV3', RSV3]]) {
      it(`${name} on text closes 1002`, async () => {
        const conn = await connect();

        conn.sendFrame({ opcode: OPCODE.text, payload: 'reserved bit', rsv });
        await expectClose(conn, 1002);
      });
    }

    it('RSV bits on ping close 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.ping, payload: 'reserved bits', rsv: RSV1 | RSV2 | RSV3 });
      await expectClose(conn, 1002);
    });
  });

  describe('reserved opcodes', () => {
    for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
      it(`opcode ${opcode} closes 1002`, async () => {
        const conn = await connect();

        conn.sendFrame({ opcode, payload: 'reserved opcode' });
        await expectClose(conn, 1002);
      });
    }

    it('empty reserved-opcode frame closes 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: 3 });
      await expectClose(conn, 1002);
    });
  });

  describe('fragmentation', () => {
    it('text in two fragments', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.text, payload: 'first half, ', fin: false });
      conn.sendFrame({ opcode: OPCODE.continuation, payload: 'second half' });
      await expectFrame(conn, OPCODE.text, Buffer.from('first half, second half'));
      await closeCleanly(conn);
    });

    it('text in many fragments', async () => {
      const conn = await connect();
      const pieces = ['a', '', 'bc', 'def', '', 'ghij', 'k', 'lmnop', 'q', 'rstuvwxyz'];

      pieces.forEach((piece, i) => {
        conn.sendFrame({
          opcode: i === 0 ? OPCODE.text : OPCODE.continuation,
          payload: piece,
          fin: i === pieces.length - 1,
        });
      });
      await expectFrame(conn, OPCODE.text, Buffer.from(pieces.join('')));
      await closeCleanly(conn);
    });

    it('binary in fragments', async () => {
      const conn = await connect();
      const payload = binaryPayload(1000);

      for (let offset = 0; offset < payload.length; offset += 300) {
        conn.sendFrame({
          opcode: offset === 0 ? OPCODE.binary : OPCODE.continuation,
          payload: payload.subarray(offset, offset + 300),
          fin: offset + 300 >= payload.length,
        });
      }
      await expectFrame(conn, OPCODE.binary, payload);
      await closeCleanly(conn);
    });

    it('pings between fragments', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.text, payload: 'one ', fin: false });
      conn.sendFrame({ opcode: OPCODE.ping, payload: 'ping 1' });
      conn.sendFrame({ opcode: OPCODE.continuation, payload: 'two ', fin: false });
      conn.sendFrame({ opcode: OPCODE.ping, payload: 'ping 2' });
      conn.sendFrame({ opcode: OPCODE.continuation, payload: 'three' });
      await expectFrame(conn, OPCODE.pong, Buffer.from('ping 1'));
      await expectFrame(conn, OPCODE.pong, Buffer.from('ping 2'));
      await expectFrame(conn, OPCODE.text, Buffer.from('one two three'));
      await closeCleanly(conn);
    });

    it('continuation without start closes 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.continuation, payload: 'no message open' });
      await expectClose(conn, 1002);
    });

    it('continuation after complete message closes 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.text, payload: 'complete' });
      await expectFrame(conn, OPCODE.text, Buffer.from('complete'));

      conn.sendFrame({ opcode: OPCODE.continuation, payload: 'no message open' });
      await expectClose(conn, 1002);
    });

    it('text inside open message closes 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.text, payload: 'open ', fin: false });
      conn.sendFrame({ opcode: OPCODE.text, payload: 'new message' });
      await expectClose(conn, 1002);
    });

    it('fragmented ping closes 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.ping, payload: 'fragmented ', fin: false });
      conn.sendFrame({ opcode: OPCODE.continuation, payload: 'ping' });
      await expectClose(conn, 1002);
    });

    it('unmasked client frame closes 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.text, payload: 'not masked', masked: false });
      await expectClose(conn, 1002);
    });
  });

  describe('UTF-8', () => {
    for (const [name, text] of [
      ['2-byte characters', 'café ñandú'],
      ['3-byte characters', '€ 日本語'],
      ['4-byte characters', '𝄞 😀 𐍈'],
      ['mixed-width characters', 'a é € 𝄞 z'],
    ]) {
      it(`text with ${name}`, async () => {
        const conn = await connect();
        const payload = Buffer.from(text, 'utf8');

        conn.sendFrame({ opcode: OPCODE.text, payload });
        await expectFrame(conn, OPCODE.text, payload);
        await closeCleanly(conn);
      });
    }

    it('character split across fragments', async () => {
      const conn = await connect();
      const euro = Buffer.from('€', 'utf8');

      conn.sendFrame({ opcode: OPCODE.text, payload: Buffer.concat([Buffer.from('price '), euro.subarray(0, 1)]), fin: false });
      conn.sendFrame({ opcode: OPCODE.continuation, payload: euro.subarray(1) });
      await expectFrame(conn, OPCODE.text, Buffer.from('price €', 'utf8'));
      await closeCleanly(conn);
    });

    for (const [name, bytes] of [
      ['lone lead byte', [0xc3]],
      ['lead byte before ASCII', [0xc3, 0x41]],
      ['overlong 2-byte slash', [0xc0, 0xaf]],
      ['overlong 3-byte slash', [0xe0, 0x80, 0xaf]],
      ['encoded UTF-16 surrogate', [0xed, 0xa0, 0x80]],
      ['code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
      ['truncated final sequence', [0x61, 0x62, 0xe2, 0x82]],
    ]) {
      it(`${name} closes 1007`, async () => {
        const conn = await connect();

        conn.sendFrame({ opcode: OPCODE.text, payload: Buffer.from(bytes) });
        await expectClose(conn, 1007);
      });
    }

    it('bytes 0xF5 to 0xFF close 1007', async () => {
      for (let byte = 0xf5; byte <= 0xff; byte++) {
        const conn = await connect();

        conn.sendFrame({ opcode: OPCODE.text, payload: Buffer.from([0x61, byte, 0x80, 0x80, 0x80]) });
        await expectClose(conn, 1007);
      }
    });

    it('truncated final fragment closes 1007', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.text, payload: 'valid start ', fin: false });
      conn.sendFrame({ opcode: OPCODE.continuation, payload: Buffer.from([0x61, 0xf0, 0x9d, 0x84]) });
      await expectClose(conn, 1007);
    });

    it('invalid first fragment closes 1007', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.text, payload: Buffer.from([0x61, 0xed, 0xa0, 0x80]), fin: false });
      await expectClose(conn, 1007);
    });
  });

  describe('closing handshake', () => {
    it('close 1000 with reason', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.close, payload: closePayload(1000, 'client done') });
      const frame = await expectClose(conn, 1000);
      assert.ok(frame.payload.length <= 125, 'close payload is longer than 125 bytes');
    });

    it('close without payload', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.close });
      const frame = await expectClose(conn, null);
      assert.equal(frame.payload.length, 0, 'the server close frame has a payload');
    });

    it('1-byte close payload closes 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.close, payload: Buffer.from([0x03]) });
      await expectClose(conn, 1002);
    });

    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]) {
      it(`close code ${code} rejected`, async () => {
        const conn = await connect();

        conn.sendFrame({ opcode: OPCODE.close, payload: closePayload(code) });
        await expectClose(conn, 1002);
      });
    }

    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]) {
      it(`close code ${code} echoed`, async () => {
        const conn = await connect();

        conn.sendFrame({ opcode: OPCODE.close, payload: closePayload(code) });
        await expectClose(conn, code);
      });
    }

    it('close reason invalid UTF-8', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.close, payload: closePayload(1000, Buffer.from([0x62, 0x79, 0x65, 0xed, 0xa0, 0x80])) });
      await expectClose(conn, 1007);
    });

    it('close reason of 123 bytes', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.close, payload: closePayload(1000, 'r'.repeat(123)) });
      await expectClose(conn, 1000);
    });

    it('close payload of 126 bytes closes 1002', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.close, payload: closePayload(1000, 'r'.repeat(124)) });
      await expectClose(conn, 1002);
    });

    it('data after client close ignored', async () => {
      const conn = await connect();

      conn.send(Buffer.concat([
        encodeFrame({ opcode: OPCODE.close, payload: closePayload(1000) }),
        encodeFrame({ opcode: OPCODE.text, payload: 'after close' }),
        encodeFrame({ opcode: OPCODE.ping, payload: 'after close' }),
      ]));
      await expectClose(conn, 1000);
    });

    it('no frame after server close', async () => {
      const conn = await connect();

      conn.sendFrame({ opcode: OPCODE.close, payload: closePayload(1000) });
      const frame = await conn.nextFrame(FRAME_TIMEOUT_MS);
      assert.equal(frame?.opcode, OPCODE.close, 'the first frame is not a close frame');

      conn.sendFrame({ opcode: OPCODE.ping, payload: 'after close' });
      conn.sendFrame({ opcode: OPCODE.text, payload: 'after close' });
      await conn.waitForTcpClose(TCP_CLOSE_TIMEOUT_MS);
      assert.deepEqual(conn.unreadFrames().map((extra) => extra.opcode), [], 'frames arrived after the close frame');
    });

    it('echo then close in one write', async () => {
      const conn = await connect();

      conn.send(Buffer.concat([
        encodeFrame({ opcode: OPCODE.text, payload: 'before close' }),
        encodeFrame({ opcode: OPCODE.close, payload: closePayload(1000) }),
      ]));
      await expectFrame(conn, OPCODE.text, Buffer.from('before close'));
      await expectClose(conn, 1000);
    });
  });

  describe('limits', () => {
    // 64-bit length 0x00000000FFFFFFF0: a frame of almost 4 GiB.
    const HUGE_LENGTH = 0xfffffff0n;

    it('4 GiB frame header closes 1009', async () => {
      const conn = await connect();
      const pid = livegate.process.pid;
      const rssBefore = await rssBytes(pid);
      const started = performance.now();

      conn.send(encodeFrame({ opcode: OPCODE.binary, payload: Buffer.from('tiny'), length: HUGE_LENGTH }));
      await expectClose(conn, 1009);
      const elapsedMs = performance.now() - started;
      assert.ok(elapsedMs < scaled(1000), `the close took ${elapsedMs.toFixed(0)} ms`);

      // AddressSanitizer keeps freed memory in quarantine, so RSS is not checked under it.
      if (TIME_SCALE === 1) {
        const growth = await rssBytes(pid) - rssBefore;
        assert.ok(growth < 64 * 1024 * 1024, `livegate RSS grew by ${(growth / 1048576).toFixed(1)} MiB`);
      }
    });

    it('other client served during 4 GiB frame', async () => {
      const attacker = await connect();
      const other = await connect();

      attacker.send(encodeFrame({ opcode: OPCODE.binary, payload: Buffer.from('tiny'), length: HUGE_LENGTH }));
      other.sendFrame({ opcode: OPCODE.text, payload: 'still served' });
      await expectFrame(other, OPCODE.text, Buffer.from('still served'));
      await expectClose(attacker, 1009);
      await closeCleanly(other);
    });

    it('length with top bit set closes 1002', async () => {
      const conn = await connect();

      conn.send(encodeFrame({ opcode: OPCODE.binary, payload: Buffer.from('tiny'), length: (1n << 63n) | 4n }));
      await expectClose(conn, 1002);
    });

    it('frame over max_frame_size closes 1009', async () => {
      const conn = await connect();

      // The frame carries only a few of the bytes it announces. So the server must
      // decide at the header, and no unread bytes turn its TCP close into a reset.
      conn.sendFrame({ opcode: OPCODE.binary, payload: binaryPayload(16), length: MAX_FRAME_BYTES + 1 });
      await expectClose(conn, 1009);
    });

    it('whole oversized frames get close frames',
      async () => {
        // Each 8 MiB frame is sent whole, so the client is still writing when the
        // server closes with most of the frame unread.
        for (let attempt = 0; attempt < 5; attempt++) {
          const conn = await connect();

          conn.sendFrame({ opcode: OPCODE.binary, payload: binaryPayload(8 * 1024 * 1024) });
          await expectClose(conn, 1009);
        }
      });

    it('message at max_message_size echoed', async () => {
      const conn = await connect();
      const payload = binaryPayload(MAX_MESSAGE_BYTES);
      const half = MAX_MESSAGE_BYTES / 2;

      conn.sendFrame({ opcode: OPCODE.binary, payload: payload.subarray(0, half), fin: false });
      conn.sendFrame({ opcode: OPCODE.continuation, payload: payload.subarray(half) });
      await expectFrame(conn, OPCODE.binary, payload);
      await closeCleanly(conn);
    });

    it('fragments over max_message_size close 1009', async () => {
      const conn = await connect();
      const fragmentBytes = 60000;

      assert.ok(fragmentBytes <= MAX_FRAME_BYTES, 'each fragment must fit in max_frame_size');
      assert.ok(3 * fragmentBytes > MAX_MESSAGE_BYTES, 'three fragments must exceed max_message_size');
      // The last fragment carries only a few of the bytes it announces, as above.
      conn.sendFrame({ opcode: OPCODE.binary, payload: binaryPayload(fragmentBytes), fin: false });
      conn.sendFrame({ opcode: OPCODE.continuation, payload: binaryPayload(fragmentBytes), fin: false });
      conn.sendFrame({ opcode: OPCODE.continuation, payload: binaryPayload(16), length: fragmentBytes });
      await expectClose(conn, 1009);
    });
  });

  describe('opening handshake', () => {
    it('accept key of RFC example', async () => {
      assert.equal(acceptKey(RFC_EXAMPLE_KEY), RFC_EXAMPLE_ACCEPT, 'the test helper computes a wrong key');

      const conn = await connect({ path: '/ws', headers: { 'Sec-WebSocket-Key': RFC_EXAMPLE_KEY } });
      assert.equal(conn.headers['sec-websocket-accept'], RFC_EXAMPLE_ACCEPT);
      conn.destroy();
    });

    it('101 response headers', async () => {
      const conn = await connect({ path: '/ws' });
      assert.equal(conn.status, 101);
      assert.equal(conn.headers.upgrade?.toLowerCase(), 'websocket');
      assert.match(conn.headers.connection ?? '', /\bupgrade\b/i);
      assert.equal(conn.headers['sec-websocket-accept'], acceptKey(conn.requestHeaders['Sec-WebSocket-Key']));
      conn.destroy();
    });

    it('101 response on echo path', async () => {
      const conn = await connect();
      assert.equal(conn.status, 101);
      assert.equal(conn.headers['sec-websocket-accept'], acceptKey(conn.requestHeaders['Sec-WebSocket-Key']));
      conn.destroy();
    });

    // Each case changes one part of a valid handshake.
    const badHandshakes = [
      { name: 'POST request', method: 'POST', status: 405, headers: {} },
      { name: 'HEAD request', method: 'HEAD', status: 405, headers: {} },
      { name: 'missing Upgrade header', status: 426, headers: { Upgrade: undefined } },
      { name: 'Upgrade other than websocket', status: 426, headers: { Upgrade: 'h2c' } },
      { name: 'Sec-WebSocket-Version 8', status: 426, headers: { 'Sec-WebSocket-Version': '8' } },
      { name: 'missing Sec-WebSocket-Version', status: 426, headers: { 'Sec-WebSocket-Version': undefined } },
      { name: 'HTTP/1.0 request', version: '1.0', status: 400, headers: {} },
      { name: 'Connection without upgrade', status: 400, headers: { Connection: 'keep-alive' } },
      { name: 'missing Connection header', status: 400, headers: { Connection: undefined } },
      { name: 'missing key', status: 400, headers: { 'Sec-WebSocket-Key': undefined } },
      { name: 'key of 15 bytes', status: 400, headers: { 'Sec-WebSocket-Key': Buffer.alloc(15, 1).toString('base64') } },
      { name: 'key of 17 bytes', status: 400, headers: { 'Sec-WebSocket-Key': Buffer.alloc(17, 1).toString('base64') } },
      { name: 'key not base64', status: 400, headers: { 'Sec-WebSocket-Key': '!!!!!!!!!!!!!!!!!!!!!!==' } },
      { name: 'foreign Origin', status: 403, headers: { Origin: 'https://other.example' } },
    ];
    for (const { name, method = 'GET', version = '1.1', status, headers } of badHandshakes) {
      it(`${name} returns ${status}`, async () => {
        const response = await rawHttpRequest(port, { method, version, path: '/ws', headers: handshakeHeaders(port, headers) },
          FRAME_TIMEOUT_MS);

        assert.equal(response.status, status, `body: ${response.body}`);
        assert.match(response.headers['content-type'] ?? '', /^application\/json\b/);
        if (status === 426) {
          assert.equal(response.headers.upgrade, 'websocket');
          assert.equal(response.headers['sec-websocket-version'], '13');
        }
        if (status === 405)
          assert.match(response.headers.allow ?? '', /\bGET\b/);
        // A response to HEAD has no body.
        if (method === 'HEAD')
          return;
        const body = JSON.parse(response.body);
        assert.equal(typeof body.error, 'string', `body: ${response.body}`);
        assert.notEqual(body.error, '', 'the error message is empty');
      });
    }

    it('405 Allow header lists GET only', async () => {
      const response = await rawHttpRequest(port, { method: 'POST', path: '/ws', headers: handshakeHeaders(port) },
        FRAME_TIMEOUT_MS);

      assert.equal(response.status, 405);
      assert.equal(response.headers.allow, 'GET');
    });

    it('Connection token list accepted', async () => {
      const conn = await connect({ path: '/ws', headers: { Connection: 'keep-alive, Upgrade' } });
      assert.equal(conn.status, 101);
      conn.destroy();
    });

    it('Upgrade value case-insensitive', async () => {
      const conn = await connect({ path: '/ws', headers: { Upgrade: 'WebSocket' } });
      assert.equal(conn.status, 101);
      conn.destroy();
    });

    it('same-origin Origin accepted', async () => {
      const conn = await connect({ path: '/ws', headers: { Origin: `http://127.0.0.1:${port}` } });
      assert.equal(conn.status, 101);
      conn.destroy();
    });

    it('allowed Origin accepted', async () => {
      const conn = await connect({ path: '/ws', headers: { Origin: 'https://allowed.example' } });
      assert.equal(conn.status, 101);
      conn.destroy();
    });

    it('offered subprotocol chosen', async () => {
      const conn = await connect({ path: '/ws', headers: { 'Sec-WebSocket-Protocol': 'x, livegate.v1' } });
      assert.equal(conn.headers['sec-websocket-protocol'], 'livegate.v1');
      conn.destroy();
    });

    it('unknown subprotocol not echoed', async () => {
      const conn = await connect({ path: '/ws', headers: { 'Sec-WebSocket-Protocol': 'x' } });
      assert.equal(conn.headers['sec-websocket-protocol'], undefined);
      conn.destroy();
    });
  });
});
