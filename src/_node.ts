/**
 * The node:http transport: builds the environ from an `IncomingMessage` exactly as the
 * spec's environ section says, and carries the core's response to a `ServerResponse`.
 * Protocol decisions live in `handler.ts`; this module only translates.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createErrorStream, type TextSink } from './_errors.js';
import { createInputStream } from './_input.js';
import { execute } from './_exchange.js';
import type { AbortState, OutgoingHead, Outcome, Transport } from './handler.js';
import { abortWith, defineLazySignal, type LazyAbort } from './_signal.js';
import { withHeader } from './_http.js';
import { FileWrapper } from './util.js';
import { TSGI_VERSION } from './_keys.js';
import type { Application, Environ, ErrorStream, HeaderList } from './types.js';

// One 'close' listener for every response, instead of two closures per request.
const EXCHANGE = Symbol('tsgi.exchange');
function onResponseClose(this: ServerResponse & { [EXCHANGE]?: NodeExchange }): void {
  this[EXCHANGE]?.closed(this);
}

/** Options of the node:http transport; `serve()` and `toNodeListener()` take them. */
export interface NodeTransportOptions {
  /**
   * `SERVER_NAME` to announce. Default: the address the connection arrived on
   * (`env.server-name`).
   */
  serverName?: string;
  /** `SERVER_PORT` to announce. Default: the port the connection arrived on. */
  serverPort?: number | string;
  /**
   * The decoded path the application is mounted at, such as `/app`: it becomes
   * `SCRIPT_NAME`, and requests outside it get 404 without reaching the application.
   * Default: the root.
   */
  scriptName?: string;
  /** Keys added to every environ, for configuration (`env.inject`). Dotted keys only. */
  environ?: Readonly<Record<string, unknown>>;
  /** Where `tsgi.errors` writes. Default: `process.stderr`. */
  errors?: TextSink;
  /** Where the access log goes, one Common Log Format line per request. Default: `process.stderr`. */
  log?: TextSink;
  /** No access log. Default: false. */
  quiet?: boolean;
  /** `tsgi.multiprocess`: true when other processes serve the same application (a cluster). */
  multiprocess?: boolean;
  /** The `Server` header sent when the application sends none; `false` sends none. Default: `tsgi`. */
  serverHeader?: string | false;
  /**
   * How many unread request-body bytes the server reads and discards after a response to
   * keep the connection open (`input.unread`); past this, or after `drainTimeout`
   * milliseconds, it closes the connection instead. Default: 1 MiB, 2000 ms.
   */
  maxDrain?: number;
  drainTimeout?: number;
  /**
   * How long, in milliseconds, a response may wait for a client that reads none of it
   * before the server gives up on the client: the connection closes and `tsgi.signal`
   * aborts (`disconnect.signal`). Only a full send buffer starts the clock, so a slow
   * application is never cut off by it. Default: 60000.
   */
  writeTimeout?: number;
  /** Longest request target accepted; longer ones get 414 (`request.target-length`). Default: 8192. */
  maxTargetLength?: number;
  /**
   * Largest header section accepted, in bytes, not counting the request line (which
   * `maxTargetLength` bounds); larger ones get 431 (`request.header-size`). Default for
   * `serve()`: 16384. Default for `toNodeListener()`: no limit of its own, only the
   * node:http server's `maxHeaderSize`, which counts the request line too.
   */
  maxHeaderSize?: number;
}

/** A node:http request listener that runs a TSGI application. */
export interface NodeListener {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Resolves when none of the listener's exchanges is running, for a graceful shutdown. */
  idle(): Promise<void>;
}

/**
 * For `serve()`: tells a listener that the server is about to cut its running exchanges
 * off, so that their `tsgi.signal` says so instead of blaming the client.
 */
export const CUT_OFF = Symbol('tsgi.cut-off');

/** What `createNodeListener()` returns: a {@link NodeListener}, and its hook for `serve()`. */
export type GatewayListener = NodeListener & { [CUT_OFF](): void };

const HEADER_NAME = /^[A-Za-z0-9-]+$/;
const DEFAULT_MAX_DRAIN = 1024 * 1024;
const DEFAULT_DRAIN_TIMEOUT = 2000;
const DEFAULT_WRITE_TIMEOUT = 60_000;
export const DEFAULT_MAX_TARGET = 8192;
/** Writes accepted at once before the transport lets the event loop run. */
const WRITES_PER_TURN = 16;

/** Creates the listener that runs `app` for each request of a node:http server. */
export function createNodeListener(app: Application, options: NodeTransportOptions = {}): GatewayListener {
  const gateway = new Gateway(app, options);
  const listener = (req: IncomingMessage, res: ServerResponse): void => gateway.handle(req, res);
  return Object.assign(listener, { idle: () => gateway.idle(), [CUT_OFF]: () => gateway.cutOff() });
}

/** What every exchange of one listener shares: the application, the options, and the count of exchanges running. */
class Gateway {
  readonly app: Application;
  readonly options: NodeTransportOptions;
  readonly errors: ErrorStream;
  readonly log: TextSink | undefined;
  readonly scriptName: string;
  readonly maxTarget: number;
  readonly maxHeaderSize: number;
  /** The Server header sent when the application sends none, or undefined for none. */
  readonly serverHeader: readonly [string, string] | undefined;
  #running = 0;
  #waiters: Array<() => void> = [];
  /** Why responses that close early were cut short: the client, unless the server is shutting down. */
  closeReason = 'the client went away before the response was complete';

  constructor(app: Application, options: NodeTransportOptions) {
    this.app = app;
    this.options = options;
    this.errors = createErrorStream(options.errors ?? process.stderr);
    this.log = options.quiet ? undefined : (options.log ?? process.stderr);
    this.scriptName = options.scriptName && options.scriptName !== '/' ? options.scriptName.replace(/\/+$/, '') : '';
    this.maxTarget = options.maxTargetLength ?? DEFAULT_MAX_TARGET;
    this.maxHeaderSize = options.maxHeaderSize ?? Infinity;
    const server = options.serverHeader ?? 'tsgi';
    this.serverHeader = server === false ? undefined : ['Server', server];
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const refusal = refuse(req, this.maxTarget, this.maxHeaderSize);
    if (refusal) return this.answer(req, res, refusal[0], refusal[1], true);
    const target = splitTarget(req.url ?? '/');
    const path = decodePath(target.path);
    const scriptName = this.scriptName;
    if (scriptName && path !== scriptName && !path.startsWith(`${scriptName}/`)) {
      return this.answer(req, res, 404, 'Not Found', false);
    }
    this.#running++;
    const exchange = new NodeExchange(this, req, res);
    const environ = exchange.environ(target, path);
    // Most exchanges finish without waiting; they then cost no Promise.
    const outcome = execute(this.app, environ, exchange);
    if (outcome instanceof Promise) {
      // Only an exchange still running can be cut short by the client: watch for that
      // now, before any 'close' event can have been emitted (Node emits it on a later tick).
      exchange.watch();
      void outcome.then((settled) => exchange.finished(environ, settled));
    } else exchange.finished(environ, outcome);
  }

  /**
   * Answers a request the application never sees, closing the connection when framing is
   * in doubt, and logs it as any other.
   */
  answer(req: IncomingMessage, res: ServerResponse, code: number, reason: string, close: boolean): void {
    const body = `${code} ${reason}\n`;
    const head = req.method === 'HEAD';
    if (close) res.shouldKeepAlive = false;
    res.writeHead(code, reason, { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) });
    res.end(head ? undefined : body);
    if (close) req.resume();
    this.log?.write(accessLine(req, connectionOf(req.socket).remoteAddr, code, head ? 0 : body.length));
  }

  /** One exchange is over. */
  done(): void {
    if (--this.#running > 0 || this.#waiters.length === 0) return;
    const ready = this.#waiters;
    this.#waiters = [];
    for (const resolve of ready) resolve();
  }

  cutOff(): void {
    this.closeReason = 'the server shut down before the response was complete';
  }

  idle(): Promise<void> {
    return this.#running === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

/** The status a request gets without reaching the application, when it must not (`request.*`). */
function refuse(req: IncomingMessage, maxTarget: number, maxHeaderSize: number): [number, string] | undefined {
  const url = req.url ?? '';
  if (url.length > maxTarget) return [414, 'URI Too Long'];
  if (req.httpVersionMajor !== 1) return [505, 'HTTP Version Not Supported'];
  if (url === '*' && req.method !== 'OPTIONS') return [400, 'Bad Request']; // request.malformed
  // request.framing: HTTP/1.0 has no transfer codings, so a body framed by one cannot be trusted.
  if (req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined) return [400, 'Bad Request'];
  let hosts = 0;
  // The header section as sent, give or take optional whitespace: "name: value" and CRLF.
  let size = 2;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    size += name.length + (raw[i + 1] as string).length + 4;
    // Compared without lower-casing the common spellings: that would allocate per request.
    if (name === 'Host' || name === 'host' || (name.length === 4 && name.toLowerCase() === 'host')) hosts++;
  }
  if (size > maxHeaderSize) return [431, 'Request Header Fields Too Large']; // request.header-size
  if (hosts > 1) return [400, 'Bad Request']; // request.host: exactly one Host
  const coding = req.headers['transfer-encoding'];
  if (coding !== undefined && coding.toLowerCase() !== 'chunked') return [501, 'Not Implemented']; // request.coding
  // expect.unknown: Node answers 417 itself unless the list names 100-continue; then any
  // other member is for us to refuse. HTTP/1.0 ignores Expect (expect.http10).
  const expect = req.headers.expect;
  if (expect !== undefined && req.httpVersionMinor === 1 && !onlyContinue(expect)) return [417, 'Expectation Failed'];
  return undefined;
}

/** Whether an `Expect` value holds `100-continue` and no other expectation. */
function onlyContinue(value: string): boolean {
  let found = false;
  for (const member of value.split(',')) {
    const expectation = member.trim().toLowerCase();
    if (expectation === '100-continue') found = true;
    else if (expectation !== '') return false;
  }
  return found;
}

function hasServer(headers: HeaderList): boolean {
  for (let i = 0; i < headers.length; i++) {
    const name = (headers[i] as readonly [string, string])[0];
    if (name.length === 6 && name.toLowerCase() === 'server') return true;
  }
  return false;
}

interface Target {
  /** The path, still percent-encoded: `*`, or starting with `/`. */
  path: string;
  query: string;
  /** The authority of an absolute-form target. */
  authority: string | undefined;
}

/** Splits a request target into path and query (`env.path.split`, `env.query-string`). */
export function splitTarget(url: string): Target {
  let rest = url;
  let authority: string | undefined;
  if (url[0] !== '/' && url !== '*') {
    const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(url);
    if (absolute) {
      authority = absolute[1];
      rest = url.slice(absolute[0].length);
      if (rest[0] !== '/') rest = `/${rest}`;
    }
  }
  const question = rest.indexOf('?');
  return question < 0
    ? { path: rest, query: '', authority }
    : { path: rest.slice(0, question), query: rest.slice(question + 1), authority };
}

/**
 * Percent-decodes a path into a byte string (`env.path-info.decoded`): `%XX` becomes the
 * code unit of that octet; a `%` without two hex digits stays as it is
 * (`env.path-info.bad-escape`).
 */
export function decodePath(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** An IPv4-mapped IPv6 address in its IPv4 form (`env.remote-addr`). */
function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * One request and its response. It is its own abort state (the core's `signal`, from which
 * `tsgi.signal` is made when read): one object per request instead of two.
 */
class NodeExchange implements Transport, LazyAbort {
  aborted = false;
  reason: unknown = undefined;
  controller: AbortController | undefined = undefined;
  readonly method: string;
  readonly target: string;
  readonly errors: ErrorStream;
  readonly signal: AbortState = this;
  readonly #gateway: Gateway;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #expectPending: boolean;
  #done = false;
  #writesWithoutYield = 0;

  constructor(gateway: Gateway, req: IncomingMessage, res: ServerResponse) {
    this.#gateway = gateway;
    this.#req = req;
    this.#res = res;
    this.method = req.method ?? 'GET';
    this.target = req.url ?? '/';
    this.errors = gateway.errors;
    // refuse() let through only Expect: 100-continue, and HTTP/1.0 ignores it (expect.http10).
    this.#expectPending = req.headers.expect !== undefined && req.httpVersionMinor === 1;
  }

  /** Aborts the exchange if the response closes before it is complete. */
  watch(): void {
    const res = this.#res;
    (res as ServerResponse & { [EXCHANGE]?: NodeExchange })[EXCHANGE] = this;
    res.on('close', onResponseClose);
  }

  /** The response closed: a disconnect, unless it was complete (disconnect.no-false-abort). */
  closed(res: ServerResponse): void {
    if (!res.writableFinished && !this.#done) abortWith(this, new Error(this.#gateway.closeReason));
  }

  environ(target: Target, path: string): Environ {
    const req = this.#req;
    const scriptName = this.#gateway.scriptName;
    const options = this.#gateway.options;
    const connection = connectionOf(req.socket);
    const environ = {
      REQUEST_METHOD: this.method,
      SCRIPT_NAME: scriptName,
      PATH_INFO: path.slice(scriptName.length),
      QUERY_STRING: target.query,
      REQUEST_URI: this.target,
      SERVER_NAME: options.serverName ?? connection.serverName,
      SERVER_PORT: options.serverPort === undefined ? connection.serverPort : String(options.serverPort),
      SERVER_PROTOCOL: req.httpVersion === '1.1' ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`,
      SERVER_SOFTWARE: 'tsgi',
      REMOTE_ADDR: connection.remoteAddr,
      'tsgi.version': TSGI_VERSION,
      'tsgi.url_scheme': connection.scheme,
      'tsgi.input': createInputStream(req, this.#expectPending ? { onFirstRead: () => this.#continue() } : undefined),
      'tsgi.errors': this.errors,
      'tsgi.multithread': true,
      'tsgi.multiprocess': options.multiprocess ?? false,
      'tsgi.run_once': false,
      'tsgi.input_terminated': true,
      'tsgi.file_wrapper': FileWrapper,
      // In the literal, a property added later costs every request a shape change. Last,
      // because deleting the last property is the one delete that keeps the object fast.
      REMOTE_PORT: connection.remotePort as string,
    } satisfies Omit<Environ, 'tsgi.signal'> as unknown as Environ;
    if (connection.remotePort === undefined) delete environ.REMOTE_PORT; // a unix socket has none
    defineLazySignal(environ, this);
    addHeaders(environ, req.rawHeaders);
    if (target.authority !== undefined) environ.HTTP_HOST = target.authority; // env.http.host
    if (options.environ) Object.assign(environ, options.environ);
    return environ;
  }

  /** Sends `100 Continue` on the first read, if the client is waiting for it (expect.continue). */
  #continue(): void {
    if (this.#expectPending && !this.#res.headersSent) this.#res.writeContinue();
    this.#expectPending = false;
  }

  sendHead(head: OutgoingHead): void {
    const res = this.#res;
    // Node takes the [name, value] pairs as they are; only a missing Server header makes a copy.
    let headers = head.headers;
    const server = this.#gateway.serverHeader;
    if (server !== undefined && !hasServer(headers)) headers = withHeader(headers, server);
    // expect.unread: the client may still be waiting to send a body nobody will read.
    if (this.#expectPending && !this.#req.complete) res.shouldKeepAlive = false;
    // framing.http10: Node would chunk a response to an HTTP/1.0 request that sent
    // `TE: chunked`, which RFC 9112 forbids; without a length, such a response ends with the connection.
    if (this.#req.httpVersionMinor === 0) res.useChunkedEncodingByDefault = false;
    res.writeHead(head.code, head.reason, headers as [string, string][]);
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    const res = this.#res;
    if (res.destroyed) return Promise.reject(this.reason ?? new Error('the connection closed'));
    if (res.write(chunk)) {
      // A body that is always ready on a socket that always drains would never give the
      // event loop a turn: other connections, timers and disconnects would wait forever.
      if (++this.#writesWithoutYield < WRITES_PER_TURN) return undefined;
      this.#writesWithoutYield = 0;
      return new Promise((resolve) => setImmediate(resolve));
    }
    this.#writesWithoutYield = 0;
    const timeout = this.#gateway.options.writeTimeout ?? DEFAULT_WRITE_TIMEOUT;
    return new Promise((resolve, reject) => {
      // A client that reads nothing would hold the exchange, and its body, for ever.
      const timer = setTimeout(() => {
        abortWith(this, new Error(`the client read none of the response for ${timeout} ms`));
        res.destroy();
      }, timeout);
      timer.unref();
      const done = (error?: unknown) => {
        clearTimeout(timer);
        res.off('drain', onDrain);
        res.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.reason ?? new Error('the connection closed'));
      res.on('drain', onDrain);
      res.on('close', onClose);
      // The response may have closed between the write and these listeners.
      if (res.destroyed) onClose();
    });
  }

  end(last?: Uint8Array): void {
    this.#res.end(last);
  }

  abort(): void {
    const socket = this.#res.socket;
    if (!socket || socket.destroyed) {
      this.#res.destroy();
      return;
    }
    // Send what was already written (Node corks the first write until the next tick),
    // then close without completing the message: no last chunk, or fewer bytes than
    // Content-Length, so the client sees it truncated (error.after-headers).
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** The exchange is over: logs it, and reads and discards a bounded rest of an unread body (`input.unread`). */
  finished(environ: Environ, outcome: Outcome): void {
    this.#done = true;
    const req = this.#req;
    const gateway = this.#gateway;
    if (gateway.log) gateway.log.write(accessLine(req, environ.REMOTE_ADDR, outcome.status, outcome.bytes));
    gateway.done();
    const socket = req.socket;
    // Not res.destroyed: a response is destroyed as soon as it has finished.
    if (req.complete || !socket || socket.destroyed) return;
    // An exchange that finished synchronously runs before the parser has seen the end of
    // its request, even when there is no body; only a body can be left unread.
    const length = req.headers['content-length'];
    if ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined) return;
    const limit = this.#gateway.options.maxDrain ?? DEFAULT_MAX_DRAIN;
    const declared = Number(length ?? Number.NaN);
    if (this.#expectPending || declared > limit) {
      socket.destroySoon();
      return;
    }
    let drained = 0;
    const timer = setTimeout(() => socket.destroy(), this.#gateway.options.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT);
    timer.unref();
    req.on('data', (chunk: Uint8Array) => {
      drained += chunk.length;
      if (drained > limit) socket.destroy();
    });
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
    req.resume();
  }
}

/** What the environ says of a connection, the same for each of its requests. */
interface Connection {
  readonly serverName: string;
  readonly serverPort: string;
  readonly remoteAddr: string;
  readonly remotePort: string | undefined;
  readonly scheme: 'http' | 'https';
}

const CONNECTION = Symbol('tsgi.connection');

/** The environ's view of `socket`, worked out for its first request and kept on it for the rest. */
function connectionOf(socket: Socket & { encrypted?: boolean; [CONNECTION]?: Connection }): Connection {
  let connection = socket[CONNECTION];
  if (connection === undefined) {
    const local = plainAddress(socket.localAddress) || 'localhost';
    connection = socket[CONNECTION] = {
      serverName: local.includes(':') ? `[${local}]` : local, // env.server-name
      serverPort: String(socket.localPort ?? ''),
      remoteAddr: plainAddress(socket.remoteAddress),
      remotePort: socket.remotePort === undefined ? undefined : String(socket.remotePort),
      scheme: socket.encrypted ? 'https' : 'http',
    };
  }
  return connection;
}

/**
 * Adds `CONTENT_TYPE`, `CONTENT_LENGTH` and one `HTTP_*` key per request header
 * (`env.http`, `env.http.name-charset`, `env.http.repeated`, `env.http.value`).
 */
function addHeaders(environ: Environ, raw: readonly string[]): void {
  const keys = environ as unknown as Record<string, string | undefined>;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const key = environKey(name);
    if (key === undefined) continue;
    const value = trimField(raw[i + 1] as string);
    if (key === 'HTTP_TRANSFER_ENCODING') chunked = true;
    const earlier = keys[key];
    if (earlier === undefined) keys[key] = value;
    else if (key !== 'CONTENT_LENGTH') keys[key] = `${earlier}${key === 'HTTP_COOKIE' ? '; ' : ', '}${value}`;
  }
  if (chunked) delete keys.CONTENT_LENGTH; // env.content-length: no length when a coding applies
}

// Header names repeat from request to request; building their keys does not need to.
const KEYS = new Map<string, string | undefined>();
const MAX_CACHED_KEYS = 1000;

/** The environ key of a request header, or undefined for a name that is dropped. */
function environKey(name: string): string | undefined {
  let key = KEYS.get(name);
  if (key !== undefined || KEYS.has(name)) return key;
  if (HEADER_NAME.test(name)) {
    const upper = name.toUpperCase().replaceAll('-', '_');
    key = upper === 'CONTENT_TYPE' || upper === 'CONTENT_LENGTH' ? upper : `HTTP_${upper}`;
  }
  // Bounded, so a client sending endless distinct names cannot grow it.
  if (KEYS.size < MAX_CACHED_KEYS) KEYS.set(name, key);
  return key;
}

function trimField(value: string): string {
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first === 32 || first === 9 || last === 32 || last === 9 ? value.replace(/^[ \t]+|[ \t]+$/g, '') : value;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** One Common Log Format line; `status` is undefined when no response went out. */
function accessLine(req: IncomingMessage, remoteAddr: string, status: number | undefined, bytes: number): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  return `${remoteAddr || '-'} - - [${date}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status ?? '-'} ${bytes > 0 ? bytes : '-'}\n`;
}
