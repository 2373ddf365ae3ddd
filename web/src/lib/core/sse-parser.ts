// Incremental parser for the text/event-stream format (WHATWG HTML, "Server-sent events").

/** One dispatched server-sent event. `type` is "message" when the stream named none. */
export interface ServerSentEvent {
  readonly type: string;
  readonly data: string;
  /** The last event id of the stream so far (the id: field persists between events). */
  readonly lastEventId: string;
  /** Whether this event carried its own id: line. */
  readonly hasId: boolean;
}

export interface ParserHandlers {
  event(event: ServerSentEvent): void;
  /** A comment line such as livegate's ": heartbeat". */
  comment(text: string): void;
  /** A retry: field with a valid number of milliseconds. */
  retry?(delayMs: number): void;
}

/**
 * Splits decoded text into lines (LF, CR or CRLF) and fields, and dispatches an event
 * at each blank line that follows data. push() takes chunks of any size, also chunks
 * that end inside a line or between a CR and its LF.
 */
export class SSEParser {
  #handlers: ParserHandlers;
  #buffer = '';
  #skipLeadingLF = false;
  #type = '';
  #data: string[] = [];
  #lastEventId = '';
  #hasId = false;

  constructor(handlers: ParserHandlers) {
    this.#handlers = handlers;
  }

  push(text: string): void {
    let chunk = text;
    if (this.#skipLeadingLF && chunk.startsWith('\n'))
      chunk = chunk.slice(1);
    this.#skipLeadingLF = false;
    this.#buffer += chunk;

    let start = 0;
    // Each search result is kept until the scan passes it, so a chunk without CR
    // (livegate sends LF only) is searched for CR once, not once per line.
    let cr = -2;
    let lf = -2;
    for (;;) {
      if (cr !== -1 && cr < start)
        cr = this.#buffer.indexOf('\r', start);
      if (lf !== -1 && lf < start)
        lf = this.#buffer.indexOf('\n', start);
      if (cr < 0 && lf < 0)
        break;
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      const line = this.#buffer.slice(start, end);
      if (this.#buffer[end] === '\n')
        start = end + 1;
      else if (end + 1 < this.#buffer.length)
        start = this.#buffer[end + 1] === '\n' ? end + 2 : end + 1;
      else {
        // A CR at the end of the chunk: its LF, if any, starts the next chunk.
        start = end + 1;
        this.#skipLeadingLF = true;
      }
      this.#processLine(line);
    }
    this.#buffer = this.#buffer.slice(start);
  }

  #processLine(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.startsWith(':')) {
      this.#handlers.comment(line.slice(1).trimStart());
      return;
    }

    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' '))
      value = value.slice(1);

    switch (field) {
      case 'event':
        this.#type = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.#lastEventId = value;
          this.#hasId = true;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value))
          this.#handlers.retry?.(Number(value));
        break;
      default:
        break;
    }
  }

  #dispatch(): void {
    const type = this.#type === '' ? 'message' : this.#type;
    const hasData = this.#data.length > 0;
    const data = this.#data.join('\n');
    const hasId = this.#hasId;
    this.#type = '';
    this.#data = [];
    this.#hasId = false;
    if (!hasData)
      return;
    this.#handlers.event({ type, data, lastEventId: this.#lastEventId, hasId });
  }
}
