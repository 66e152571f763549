// Raw HTTP/1.x over node:net for tests: send exact bytes, read exact responses.
// fetch and http.request normalise what they send and what they accept, so edge
// cases on the wire are tested with these instead. Every wait here is bounded.
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  /** The status line, such as `HTTP/1.1 200 OK`. */
  statusLine: string;
  status: number;
  reason: string;
  /** Header lines in order, names as sent. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** True when the body ended properly (Content-Length reached, last chunk, or close for close-delimited bodies). */
  complete: boolean;
  /** The raw bytes of the response. */
  raw: Buffer;
  /** The value of the first header with this name (case-insensitive). */
  header(name: string): string | undefined;
}

/** A client connection that reads responses one at a time. */
export class WireClient {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #closed = false;
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (data: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, data]);
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => {}); // a reset is an outcome tests look at, not a crash
  }

  static open(port: number, host = '127.0.0.1'): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new WireClient(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The bytes received and not yet consumed by readResponse(). */
  get pending(): Buffer {
    return this.#buffer;
  }

  send(data: string | Uint8Array): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Closes the client's sending side, keeping the receiving side open. */
  halfClose(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Waits until `predicate` holds on the received data, the connection closes, or `ms` pass. */
  async waitFor(predicate: (buffer: Buffer) => boolean, ms = 2000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!predicate(this.#buffer)) {
      if (this.#closed) return predicate(this.#buffer);
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Waits for the server to close the connection; false if it is still open after `ms`. */
  waitClosed(ms = 2000): Promise<boolean> {
    return this.waitFor(() => this.#closed, ms);
  }

  /**
   * Reads one response (skipping nothing: a `100 Continue` is a response of its own).
   * `head: true` reads a response to HEAD, which has no body whatever its headers say.
   * Rejects if no complete head arrives within `ms`.
   */
  async readResponse(options: { head?: boolean; ms?: number } = {}): Promise<RawResponse> {
    const ms = options.ms ?? 2000;
    const haveHead = await this.waitFor((b) => b.includes('\r\n\r\n'), ms);
    if (!haveHead) throw new Error(`no response head within ${ms} ms; received ${JSON.stringify(this.#buffer.toString('latin1'))}`);
    const headEnd = this.#buffer.indexOf('\r\n\r\n');
    const lines = this.#buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
    const statusLine = lines.shift() ?? '';
    const match = /^HTTP\/\d\.\d (\d{3}) ?(.*)$/.exec(statusLine);
    if (!match) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const status = Number(match[1]);
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const header = (name: string) => headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
    let offset = headEnd + 4;
    const bodyless = options.head || status < 200 || status === 204 || status === 304;
    let body: Buffer = Buffer.alloc(0);
    let complete = true;
    if (!bodyless) {
      const length = header('content-length');
      if (header('transfer-encoding')?.toLowerCase() === 'chunked') {
        ({ body, offset, complete } = await this.#readChunked(offset, ms));
      } else if (length !== undefined) {
        const end = offset + Number(length);
        complete = await this.waitFor((b) => b.length >= end, ms);
        body = this.#buffer.subarray(offset, Math.min(end, this.#buffer.length));
        offset = Math.min(end, this.#buffer.length);
      } else {
        complete = await this.waitClosed(ms);
        body = this.#buffer.subarray(offset);
        offset = this.#buffer.length;
      }
    }
    const raw = this.#buffer.subarray(0, offset);
    this.#buffer = this.#buffer.subarray(offset);
    return { statusLine, status, reason: match[2] ?? '', headers, body: Buffer.from(body), complete, raw: Buffer.from(raw), header };
  }

  async #readChunked(start: number, ms: number): Promise<{ body: Buffer; offset: number; complete: boolean }> {
    const parts: Buffer[] = [];
    let offset = start;
    for (;;) {
      const haveSize = await this.waitFor((b) => b.indexOf('\r\n', offset) >= 0, ms);
      if (!haveSize) return { body: Buffer.concat(parts), offset: this.#buffer.length, complete: false };
      const lineEnd = this.#buffer.indexOf('\r\n', offset);
      const size = parseInt(this.#buffer.subarray(offset, lineEnd).toString('latin1'), 16);
      offset = lineEnd + 2;
      if (size === 0) {
        const done = await this.waitFor((b) => b.indexOf('\r\n', offset) >= 0, ms);
        if (!done) return { body: Buffer.concat(parts), offset: this.#buffer.length, complete: false };
        return { body: Buffer.concat(parts), offset: this.#buffer.indexOf('\r\n', offset) + 2, complete: true };
      }
      const end = offset + size;
      const haveData = await this.waitFor((b) => b.length >= end + 2, ms);
      if (!haveData) {
        parts.push(this.#buffer.subarray(offset));
        return { body: Buffer.concat(parts), offset: this.#buffer.length, complete: false };
      }
      parts.push(this.#buffer.subarray(offset, end));
      offset = end + 2;
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Sends `request` on a new connection and reads one response. */
export async function exchange(port: number, request: string | Uint8Array, options: { head?: boolean; ms?: number } = {}): Promise<RawResponse> {
  const client = await WireClient.open(port);
  try {
    client.send(request);
    return await client.readResponse(options);
  } finally {
    client.destroy();
  }
}

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `predicate()` is true, or fails after `ms`. */
export async function until(predicate: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}
