// A raw WebSocket (RFC 6455) client over node:net for conformance tests. It builds
// client frames byte by byte (any opcode, RSV bits, mask and announced length) and
// parses the server's frames with their header fields. It also does the opening
// handshake itself, so a test controls and reads every byte on the wire.

import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

export const OPCODE = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
};

// The RSV bits as they sit in the first header byte.
export const RSV1 = 0x40;
export const RSV2 = 0x20;
export const RSV3 = 0x10;

// RFC 6455 section 1.3: the server hashes the client's key with this GUID.
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// Returns the Sec-WebSocket-Accept value that a server must send for KEY.
export function acceptKey(key) {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

// Returns a fresh Sec-WebSocket-Key: 16 random bytes in base64.
export function randomKey() {
  return randomBytes(16).toString('base64');
}

// Returns the length encoding that RFC 6455 prescribes for a payload of LENGTH bytes
// (a number or a bigint): 7-bit up to 125, 16-bit up to 65535, 64-bit above.
export function shortestLengthEncoding(length) {
  const value = BigInt(length);
  if (value < 126n)
    return 7;
  if (value <= 0xffffn)
    return 16;
  return 64;
}

// Encodes one client frame.
//   opcode: 0 to 15, reserved ones included.
//   payload: Buffer or string (UTF-8), default empty.
//   fin: the FIN bit, default true.
//   rsv: RSV1 | RSV2 | RSV3 bits to set, default none.
//   masked: whether to set the MASK bit and mask the payload, default true.
//   length: the payload length to announce in the header (a number or a bigint),
//     default the real one. Only the header changes: the payload is sent as given.
//   encoding: 7, 16 or 64 to force the length encoding, default the shortest.
export function encodeFrame({
  opcode,
  payload = Buffer.alloc(0),
  fin = true,
  rsv = 0,
  masked = true,
  length,
  encoding,
}) {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const announced = BigInt(length ?? data.length);
  const lengthEncoding = encoding ?? shortestLengthEncoding(announced);

  let header;
  if (lengthEncoding === 7) {
    header = Buffer.from([0, Number(announced)]);
  } else if (lengthEncoding === 16) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(Number(announced), 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(announced, 2);
  }
  header[0] = (fin ? 0x80 : 0) | rsv | opcode;
  if (!masked)
    return Buffer.concat([header, data]);

  header[1] |= 0x80;
  const mask = randomBytes(4);
  const body = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++)
    body[i] = data[i] ^ mask[i % 4];
  return Buffer.concat([header, mask, body]);
}

// Encodes a close frame payload: the code as two bytes, then REASON (Buffer or
// string). A code of null gives an empty payload.
export function closePayload(code, reason = Buffer.alloc(0)) {
  if (code === null)
    return Buffer.alloc(0);
  const reasonBytes = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : reason;
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, reasonBytes]);
}

// Returns the status code of a close frame, or null when its payload is empty.
export function closeCode(frame) {
  return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null;
}

// Parses server frames from a byte stream. Each frame is { fin, rsv, opcode, masked,
// encoding (7, 16 or 64: the length encoding the server chose), payload }.
class FrameParser {
  #buffer = Buffer.alloc(0);

  // Appends CHUNK and returns the frames it completed.
  push(chunk) {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const frames = [];
    for (;;) {
      const frame = this.#parseOne();
      if (frame === null)
        return frames;
      frames.push(frame);
    }
  }

  #parseOne() {
    const buffer = this.#buffer;
    if (buffer.length < 2)
      return null;

    const masked = (buffer[1] & 0x80) !== 0;
    const shortLength = buffer[1] & 0x7f;
    let offset = 2;
    let length = shortLength;
    let encoding = 7;
    if (shortLength === 126) {
      if (buffer.length < 4)
        return null;
      length = buffer.readUInt16BE(2);
      offset = 4;
      encoding = 16;
    } else if (shortLength === 127) {
      if (buffer.length < 10)
        return null;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
      encoding = 64;
    }

    const maskOffset = offset;
    if (masked)
      offset += 4;
    if (buffer.length < offset + length)
      return null;

    let payload = Buffer.from(buffer.subarray(offset, offset + length));
    if (masked) {
      const mask = buffer.subarray(maskOffset, maskOffset + 4);
      payload = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
    }
    this.#buffer = buffer.subarray(offset + length);
    return {
      fin: (buffer[0] & 0x80) !== 0,
      rsv: buffer[0] & 0x70,
      opcode: buffer[0] & 0x0f,
      masked,
      encoding,
      payload,
    };
  }
}

// Splits a raw HTTP response head into { status, headers } with lower-case header
// names. Repeated headers are joined with ", ".
function parseResponseHead(head) {
  const [statusLine, ...lines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (match === null)
    throw new Error(`invalid HTTP status line: ${JSON.stringify(statusLine)}`);

  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(match[1]), headers };
}

// Formats a request head from a request line and a header object. A header whose
// value is undefined is left out.
function formatRequest(requestLine, headers) {
  const lines = [requestLine];
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

// Returns the headers of a valid handshake to PORT, overridden by EXTRA.
export function handshakeHeaders(port, extra = {}) {
  return {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomKey(),
    'Sec-WebSocket-Version': '13',
    ...extra,
  };
}

// Sends one raw HTTP request to 127.0.0.1:PORT and resolves with { status, headers,
// body } once the body announced by Content-Length has arrived or the server has
// closed the connection. Rejects after TIMEOUTMS.
export function rawHttpRequest(port, { method = 'GET', path = '/ws', version = '1.1', headers }, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;

    const finish = (error, result) => {
      if (settled)
        return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined)
        reject(error);
      else
        resolve(result);
    };
    const tryParse = (complete) => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) {
        if (complete)
          finish(new Error(`connection closed before a complete response head: ${JSON.stringify(received.toString('latin1'))}`));
        return;
      }
      const { status, headers: responseHeaders } = parseResponseHead(received.subarray(0, end).toString('latin1'));
      const body = received.subarray(end + 4);
      const expected = responseHeaders['content-length'];
      if (expected !== undefined && body.length >= Number(expected))
        finish(undefined, { status, headers: responseHeaders, body: body.subarray(0, Number(expected)).toString('utf8') });
      else if (complete || status === 101)
        finish(undefined, { status, headers: responseHeaders, body: body.toString('utf8') });
    };

    const timer = setTimeout(() => {
      finish(new Error(`no complete HTTP response within ${timeoutMs} ms; received ${JSON.stringify(received.toString('latin1'))}`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(formatRequest(`${method} ${path} HTTP/${version}`, headers)));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('error', (error) => finish(error));
  });
}

// Opens a WebSocket connection to 127.0.0.1:PORT at PATH with the headers of
// handshakeHeaders(port, headers). Resolves with a WsRawConnection once the 101
// response head has arrived, and rejects on any other status or after TIMEOUTMS.
export function openWebSocket(port, { path = '/echo', headers = {} } = {}, timeoutMs = 5000) {
  const requestHeaders = handshakeHeaders(port, headers);
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);

    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no handshake response within ${timeoutMs} ms; received ${JSON.stringify(received.toString('latin1'))}`));
    }, timeoutMs);
    const onData = (chunk) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0)
        return;

      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      const response = parseResponseHead(received.subarray(0, end).toString('latin1'));
      if (response.status !== 101) {
        socket.destroy();
        reject(new Error(`handshake failed with status ${response.status}: ${received.subarray(end + 4).toString('utf8')}`));
        return;
      }
      resolve(new WsRawConnection(socket, requestHeaders, response, received.subarray(end + 4)));
    };
    const onError = (error) => {
      clearTimeout(timer);
      reject(error);
    };

    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(formatRequest(`GET ${path} HTTP/1.1`, requestHeaders)));
    socket.on('data', onData);
    socket.on('error', onError);
  });
}

// An open connection: send raw bytes or frames, and read the server's frames in order.
export class WsRawConnection {
  #socket;
  #destroyedByClient = false;
  #parser = new FrameParser();
  #waiters = new Set();
  #nextIndex = 0;

  constructor(socket, requestHeaders, response, rest) {
    this.#socket = socket;
    this.requestHeaders = requestHeaders;
    this.status = response.status;
    this.headers = response.headers;
    // Every frame the server sent, in order.
    this.frames = [];
    // Set once the server's side of the TCP connection has ended: 'end' for a FIN,
    // 'reset' for an error such as ECONNRESET.
    this.closedBy = null;

    socket.on('data', (chunk) => this.#receive(chunk));
    socket.on('end', () => this.#markClosed('end'));
    socket.on('error', () => this.#markClosed('reset'));
    socket.on('close', () => {
      if (!this.#destroyedByClient)
        this.#markClosed('end');
    });
    if (rest.length > 0)
      this.#receive(rest);
  }

  // Writes raw BYTES in one write call.
  send(bytes) {
    if (!this.#socket.destroyed)
      this.#socket.write(bytes);
  }

  // Encodes a frame with encodeFrame(options) and sends it.
  sendFrame(options) {
    this.send(encodeFrame(options));
  }

  // Writes BYTES in pieces of CHUNKBYTES and waits DELAYMS after each write, so that
  // each piece usually leaves as its own TCP segment (Nagle's algorithm is off).
  async sendInPieces(bytes, chunkBytes = 1, delayMs = 2) {
    for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
      this.send(bytes.subarray(offset, offset + chunkBytes));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  // Resolves with the next frame not yet returned, or with null when the server has
  // closed the connection and sent no further frame. Rejects after TIMEOUTMS.
  nextFrame(timeoutMs = 5000) {
    return this.#waitUntil(() => this.#nextIndex < this.frames.length || this.closedBy !== null, timeoutMs, 'a frame')
      .then(() => (this.#nextIndex < this.frames.length ? this.frames[this.#nextIndex++] : null));
  }

  // Resolves with how the server ended the TCP connection ('end' or 'reset') once it
  // has, and rejects after TIMEOUTMS.
  waitForTcpClose(timeoutMs = 5000) {
    return this.#waitUntil(() => this.closedBy !== null, timeoutMs, 'the server to close the TCP connection')
      .then(() => this.closedBy);
  }

  // Frames received but not yet returned by nextFrame.
  unreadFrames() {
    return this.frames.slice(this.#nextIndex);
  }

  // Closes the client's side at once. closedBy stays as it was.
  destroy() {
    this.#destroyedByClient = true;
    this.#socket.destroy();
  }

  #receive(chunk) {
    this.frames.push(...this.#parser.push(chunk));
    this.#notify();
  }

  #markClosed(how) {
    if (this.closedBy === null)
      this.closedBy = how;
    this.#notify();
  }

  #notify() {
    for (const waiter of [...this.#waiters])
      waiter();
  }

  #waitUntil(predicate, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate())
          return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        const opcodes = this.frames.map((frame) => frame.opcode);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (opcodes of the frames so far: [${opcodes}])`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }
}
