/**
 * A raw HTTP/1.x client over `node:net` (or `node:tls`): it sends exact bytes and reads
 * responses strictly, because fetch and `http.request` normalise both what they send
 * and what they accept, and framing bugs hide in exactly what they normalise. Every wait
 * is bounded.
 */
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** One response as it arrived. */
export interface WireResponse {
  /** The status line, such as `HTTP/1.1 200 OK`. */
  readonly statusLine: string;
  /** `1.1` or `1.0`. */
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  /** Header fields in order, names as sent, values without surrounding whitespace. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  /** How the body was delimited. */
  readonly framing: 'none' | 'length' | 'chunked' | 'close';
  /** True when the body ended as its framing says: all Content-Length bytes, the last chunk, or the close of a close-delimited body. */
  readonly complete: boolean;
  /** A violation of the chunked coding's syntax (RFC 9112, section 7.1), if any. */
  readonly chunkError: string | undefined;
  /** The raw bytes of the response. */
  readonly raw: Buffer;
  /** The value of the first field with this name, compared case-insensitively. */
  header(name: string): string | undefined;
  /** The values of every field with this name, in order. */
  headerAll(name: string): string[];
}

/** What reading a response needs to know. */
export interface ReadOptions {
  /** The response answers HEAD: no body, whatever its headers say. */
  head?: boolean;
  /** How long to wait for each part. Default: 2000 ms. */
  ms?: number;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** A client connection that reads responses one at a time. */
export class WireConnection {
  readonly socket: Socket;
  /** The TCP socket under a TLS one, which alone can send a reset. */
  readonly #tcp: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #closed = false;
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket, tcp: Socket) {
    this.socket = socket;
    this.#tcp = tcp;
    socket.on('data', (data: Buffer) => {
      this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, data]) : data;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    // A reset is an outcome the cases look at, not a crash of the suite.
    socket.on('error', () => {});
  }

  /** Connects within `ms`; rejects when the server does not accept the connection. */
  static open(host: string, port: number, tls = false, ms = 2000): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const tcp = connectTcp(port, host, tls ? undefined : ready);
      const socket: Socket = tls ? connectTls({ socket: tcp, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) }, ready) : tcp;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to ${host}:${port} within ${ms} ms`));
      }, ms);
      function ready(): void {
        clearTimeout(timer);
        socket.off('error', failed);
        resolve(new WireConnection(socket, tcp));
      }
      function failed(error: Error): void {
        clearTimeout(timer);
        reject(error);
      }
      socket.once('error', failed);
      if (tls) tcp.once('error', failed);
    });
  }

  /** True once the server closed the connection (or it failed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The bytes received and not yet consumed by {@link readResponse}. */
  get pending(): Buffer {
    return this.#buffer;
  }

  send(data: string | Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Ends the sending side and keeps reading (a TCP half-close). */
  halfClose(): void {
    this.socket.end();
  }

  /** Goes away abruptly, with a TCP reset, so that the server learns at once. */
  reset(): void {
    if (this.socket.destroyed) return;
    // Only the TCP socket: destroying a TLS socket first would send close_notify, which a
    // server that allows half-open connections rightly takes for a half-close.
    this.#tcp.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Stops reading from the socket, so the server's writes back up. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Waits until `predicate` holds on the received bytes, the connection closes, or `ms` pass. */
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

  /** Waits for the server to close the connection; false when it is still open after `ms`. */
  waitClosed(ms = 2000): Promise<boolean> {
    return this.waitFor(() => this.#closed, ms);
  }

  /** True when no byte (and no close) arrives within `ms`. */
  async quiet(ms: number): Promise<boolean> {
    const before = this.#buffer.length;
    const changed = await this.waitFor((b) => b.length !== before, ms);
    return !changed && !this.#closed;
  }

  /**
   * Reads one response. A `100 Continue` is a response of its own. Rejects when no
   * complete head arrives within `ms`, or the head is not HTTP.
   */
  async readResponse(options: ReadOptions = {}): Promise<WireResponse> {
    const ms = options.ms ?? 2000;
    const haveHead = await this.waitFor((b) => b.includes(HEAD_END), ms);
    if (!haveHead) {
      const what = this.#buffer.length ? `only ${JSON.stringify(this.#buffer.subarray(0, 200).toString('latin1'))}` : 'nothing';
      throw new Error(`no response head within ${ms} ms (received ${what}${this.#closed ? ', then the connection closed' : ''})`);
    }
    const headEnd = this.#buffer.indexOf(HEAD_END);
    const lines = this.#buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
    const statusLine = lines.shift() ?? '';
    const match = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!match) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const status = Number(match[2]);
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(':');
      return colon < 0 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const all = (name: string) => headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    let offset = headEnd + 4;
    let body: Buffer = Buffer.alloc(0);
    let complete = true;
    let framing: WireResponse['framing'] = 'none';
    let chunkError: string | undefined;
    const bodyless = options.head || (status >= 100 && status < 200) || status === 204 || status === 304;
    if (!bodyless) {
      const length = all('content-length')[0];
      const coding = all('transfer-encoding').join(',').toLowerCase();
      if (coding.split(',').map((s) => s.trim()).includes('chunked')) {
        framing = 'chunked';
        ({ body, offset, complete, chunkError } = await this.#readChunked(offset, ms));
      } else if (length !== undefined) {
        framing = 'length';
        const end = offset + Number(length);
        complete = /^\d+$/.test(length) && (await this.waitFor((b) => b.length >= end, ms));
        body = this.#buffer.subarray(offset, Math.min(end, this.#buffer.length));
        offset = Math.min(end, this.#buffer.length);
      } else {
        framing = 'close';
        complete = await this.waitClosed(ms);
        body = this.#buffer.subarray(offset);
        offset = this.#buffer.length;
      }
    }
    const raw = Buffer.from(this.#buffer.subarray(0, offset));
    this.#buffer = this.#buffer.subarray(offset);
    return {
      statusLine,
      version: match[1] ?? '',
      status,
      reason: match[3] ?? '',
      headers,
      body: Buffer.from(body),
      framing,
      complete,
      chunkError,
      raw,
      header: (name) => all(name)[0],
      headerAll: all,
    };
  }

  /** Reads a chunked body strictly: any deviation from RFC 9112's grammar is reported, not tolerated. */
  async #readChunked(start: number, ms: number): Promise<{ body: Buffer; offset: number; complete: boolean; chunkError: string | undefined }> {
    const parts: Buffer[] = [];
    let offset = start;
    const incomplete = () => ({ body: Buffer.concat(parts), offset: this.#buffer.length, complete: false, chunkError: undefined });
    for (;;) {
      if (!(await this.waitFor((b) => b.indexOf(CRLF, offset) >= 0, ms))) return incomplete();
      const lineEnd = this.#buffer.indexOf(CRLF, offset);
      const line = this.#buffer.subarray(offset, lineEnd).toString('latin1');
      const size = /^([0-9A-Fa-f]+)(?:;.*)?$/.exec(line);
      if (!size) {
        return { body: Buffer.concat(parts), offset: lineEnd + 2, complete: false, chunkError: `bad chunk-size line ${JSON.stringify(line)}` };
      }
      const length = parseInt(size[1] ?? '', 16);
      offset = lineEnd + 2;
      if (length === 0) {
        // The trailer section: field lines, then an empty line.
        for (;;) {
          if (!(await this.waitFor((b) => b.indexOf(CRLF, offset) >= 0, ms))) return incomplete();
          const end = this.#buffer.indexOf(CRLF, offset);
          const empty = end === offset;
          offset = end + 2;
          if (empty) return { body: Buffer.concat(parts), offset, complete: true, chunkError: undefined };
        }
      }
      const end = offset + length;
      if (!(await this.waitFor((b) => b.length >= end + 2, ms))) {
        parts.push(this.#buffer.subarray(offset, Math.min(end, this.#buffer.length)));
        return incomplete();
      }
      parts.push(this.#buffer.subarray(offset, end));
      if (!this.#buffer.subarray(end, end + 2).equals(CRLF)) {
        return { body: Buffer.concat(parts), offset: end, complete: false, chunkError: `chunk data of ${length} bytes not followed by CRLF` };
      }
      offset = end + 2;
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
