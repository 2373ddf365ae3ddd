// Error classes of the livegate clients; each message says what to do next.

/** Base class of the errors the clients report in the `failed` status. */
export class LivegateError extends Error {
  override name = 'LivegateError';
}

/** The server rejected the connection for a reason that a retry would repeat (WebSocket close 1008, HTTP 401 or 403). */
export class RejectedError extends LivegateError {
  override name = 'RejectedError';
  /** The WebSocket close code or the HTTP status. */
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** The client gave up after `maxRetries` failed attempts in a row. */
export class RetryLimitError extends LivegateError {
  override name = 'RetryLimitError';
  readonly attempts: number;

  constructor(attempts: number, lastReason: string) {
    super(`gave up after ${attempts} failed connection attempts (last: ${lastReason}): call reconnect() or reload the page to try again`);
    this.attempts = attempts;
  }
}
