/**
 * The fetch transport: builds the environ from a fetch `Request` as the spec's environ
 * section says, runs the exchange through the gateway core, and carries the response out
 * as a `Response` whose body is a `ReadableStream` that pulls. `toFetchHandler()` and
 * `fetchApp()` are thin layers over it. Protocol decisions live in `handler.ts`.
 */
import { type BodySource, limitBody, streamSource } from './_body-source.js';
import { createErrorStream, type TextSink } from './_errors.js';
import { DIGITS } from './_http.js';
import { createInputStream } from './_input.js';
import { decodePath, splitTarget } from './_node.js';
import { runExchange, type OutgoingHead, type Outcome, type Transport } from './handler.js';
import type { Application, Environ, ErrorStream, HeaderList } from './types.js';

/**
 * A value fixed for every request, or a function of the request and the platform's second
 * handler argument (Deno's `info`, Bun's `server`) that may return `undefined` for "not known".
 *
 * @example
 * ```ts
 * const fixed: PerRequest<string, unknown> = '192.0.2.1';
 * const fromDeno: PerRequest<string, Deno.ServeHandlerInfo> = (_request, info) => info.remoteAddr.hostname;
 * ```
 */
export type PerRequest<T, C> = T | ((request: Request, context: C) => T | undefined);

/**
 * Options of `toFetchHandler()`; `C` is the second argument the platform passes to its handler.
 *
 * @example
 * ```ts
 * const options: FetchHandlerOptions<{ ip: string }> = {
 *   remoteAddr: (_request, context) => context.ip,
 *   scriptName: '/api',
 *   environ: { 'myapp.config': { debug: false } },
 * };
 * ```
 */
export interface FetchHandlerOptions<C = unknown> {
  /**
   * `REMOTE_ADDR`, the client's address, which a fetch `Request` does not carry. Default:
   * `0.0.0.0`, the unspecified address, so that no rule written for loopback or for a real
   * client matches it.
   */
  remoteAddr?: PerRequest<string, C>;
  /** `REMOTE_PORT`, the client's port, when the platform knows it. Default: absent. */
  remotePort?: PerRequest<number | string, C>;
  /** `SERVER_NAME` to announce. Default: the host name of the request URL. */
  serverName?: string;
  /** `SERVER_PORT` to announce. Default: the port of the request URL, or the scheme's default. */
  serverPort?: number | string;
  /** `SERVER_PROTOCOL`: a `Request` does not say which protocol carried it. Default: `HTTP/1.1`. */
  serverProtocol?: PerRequest<string, C>;
  /**
   * The decoded path the application is mounted at, such as `/app`: it becomes
   * `SCRIPT_NAME`, and requests outside it get 404 without reaching the application.
   * Default: the root.
   */
  scriptName?: string;
  /** Keys added to every environ, for configuration (`env.inject`): dotted extension keys, or CGI variables such as `REMOTE_USER`. */
  environ?: Readonly<Record<string, unknown>>;
  /** Where `tsgi.errors`, and the gateway's own error log, write. Default: `process.stderr`. */
  errors?: TextSink;
  /** `tsgi.multiprocess`: true when other processes or workers serve the same application. Default: false. */
  multiprocess?: boolean;
  /** Longest request target (path and query) accepted; longer ones get 414 (`request.target-length`). Default: 8192. */
  maxTargetLength?: number;
}

/** Options resolved once per handler, not per request. */
export interface FetchSettings<C> {
  readonly remoteAddr: PerRequest<string, C>;
  readonly remotePort: PerRequest<number | string, C> | undefined;
  readonly serverName: string | undefined;
  readonly serverPort: string | undefined;
  readonly serverProtocol: PerRequest<string, C>;
  readonly scriptName: string;
  readonly environ: Readonly<Record<string, unknown>> | undefined;
  readonly errors: ErrorStream;
  readonly multiprocess: boolean;
  readonly maxTargetLength: number;
}

/** The default `REMOTE_ADDR` of `toFetchHandler()`: see {@link FetchHandlerOptions.remoteAddr}. */
export const UNKNOWN_ADDRESS = '0.0.0.0';

export function resolveSettings<C>(options: FetchHandlerOptions<C>, defaultAddress = UNKNOWN_ADDRESS): FetchSettings<C> {
  const scriptName = options.scriptName && options.scriptName !== '/' ? options.scriptName.replace(/\/+$/, '') : '';
  return {
    remoteAddr: options.remoteAddr ?? defaultAddress,
    remotePort: options.remotePort,
    serverName: options.serverName,
    serverPort: options.serverPort === undefined ? undefined : String(options.serverPort),
    serverProtocol: options.serverProtocol ?? 'HTTP/1.1',
    scriptName,
    environ: options.environ,
    errors: createErrorStream(options.errors ?? process.stderr),
    multiprocess: options.multiprocess ?? false,
    maxTargetLength: options.maxTargetLength ?? 8192,
  };
}

/**
 * What the transport reads of a request: a fetch `Request` has it all. The test client
 * passes a plain object for a request without a body, which saves the `Request` and its
 * `AbortSignal`, the largest costs of a small in-process call.
 */
export interface RequestLike {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  readonly signal?: AbortSignal | null | undefined;
}

/** One request in flight, as the callers of {@link startExchange} see it. */
export interface Started {
  /**
   * Settles with the `Response` once the head is sent (for a body that is complete at once
   * and has a `close()`, once that has settled too), or rejects if the client left first.
   */
  readonly response: Promise<Response>;
  /** Settles when the exchange is over and the body closed; undefined when the application was never called. */
  readonly done: Promise<Outcome | undefined>;
  /** Whether the whole response has been handed over already. */
  readonly ended: boolean;
}

const HEADER_NAME = /^[A-Za-z0-9-]+$/;
/** Statuses whose `Response` must have a null body (fetch's "null body status"; 101 and 103 never reach here). */
const NULL_BODY = new Set([204, 205, 304]);
const NO_BODY: Uint8Array[] = [];
const OPEN = 0;
const ENDED = 1;
const GONE = 2;

/**
 * The header lists of the `Response`s this transport created, so that `fromFetchHandler`
 * can send a round-tripped response with its header order, case and repeated fields
 * intact (`header.order`), which a `Headers` object loses. Objects the server created
 * itself may be recognised (`server.body.protocol-only`).
 */
const SENT = new WeakMap<Response, HeaderList>();

/**
 * The header list the application gave for `response`, when `response` came from this
 * transport and its headers have not been changed since; otherwise undefined.
 */
export function sentHeaders(response: Response): HeaderList | undefined {
  const list = SENT.get(response);
  if (!list) return undefined;
  const expected = [...toHeaders(list)];
  const actual = [...response.headers];
  if (expected.length !== actual.length) return undefined;
  for (let i = 0; i < expected.length; i++) {
    if (expected[i]![0] !== actual[i]![0] || expected[i]![1] !== actual[i]![1]) return undefined;
  }
  return list;
}

/**
 * Starts one exchange: builds the environ from `request`, calls `app` through the core,
 * and returns its {@link Started} view. A request the application must not see (outside
 * `scriptName`, or with ambiguous framing) is answered here. `coreErrors` is where the
 * core logs application errors; by default the same stream as `tsgi.errors`. `url` is
 * `request.url` parsed, for a caller that has it already.
 */
export function startExchange<C>(
  app: Application,
  request: RequestLike,
  settings: FetchSettings<C>,
  context: C,
  coreErrors: ErrorStream = settings.errors,
  url: URL = new URL(request.url),
): Started {
  // A Request's URL has no fragment; a URL given to the test client may. The serialiser
  // percent-encodes any other '#', so the first one starts the fragment.
  const hash = url.href.indexOf('#');
  const href = hash < 0 ? url.href : url.href.slice(0, hash);
  const scheme = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined;
  if (!scheme) throw new TypeError(`a TSGI application answers http: and https: requests; got a ${url.protocol} URL`);
  // The serialised URL of an http(s) request always has a path after its authority.
  const target = href.slice(href.indexOf('/', url.protocol.length + 2));
  const { path: rawPath, query } = splitTarget(target);
  const path = decodePath(rawPath);
  const scriptName = settings.scriptName;
  if (scriptName && path !== scriptName && !path.startsWith(`${scriptName}/`)) return answer(404, 'Not Found');
  // What a platform's parser should have refused already; cheap to make sure of here.
  if (target.length > settings.maxTargetLength) return answer(414, 'URI Too Long'); // request.target-length
  const headers = request.headers;
  if (headers.get('host')?.includes(',')) return answer(400, 'Bad Request', true); // request.host: two Host fields, joined
  const coding = headers.get('transfer-encoding');
  if (coding !== null && coding.toLowerCase() !== 'chunked') return answer(501, 'Not Implemented', true); // request.coding
  const declared = headers.get('content-length');
  if (declared !== null && (!DIGITS.test(declared) || coding !== null)) return answer(400, 'Bad Request', true); // request.framing

  const exchange = new FetchExchange(request, target, coreErrors);
  const environ = {
    REQUEST_METHOD: request.method,
    SCRIPT_NAME: scriptName,
    PATH_INFO: path.slice(scriptName.length),
    QUERY_STRING: query,
    REQUEST_URI: target,
    SERVER_NAME: settings.serverName ?? url.hostname,
    SERVER_PORT: settings.serverPort ?? (url.port || (scheme === 'https' ? '443' : '80')),
    SERVER_PROTOCOL: perRequest(settings.serverProtocol, request, context) ?? 'HTTP/1.1',
    REMOTE_ADDR: plainAddress(perRequest(settings.remoteAddr, request, context) ?? UNKNOWN_ADDRESS),
    // The URL is the absolute form of the target, so its authority is the host (env.http.host).
    HTTP_HOST: url.host,
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': scheme,
    'tsgi.input': createInputStream(exchange.bodySource(request.body, declared)),
    'tsgi.errors': settings.errors,
    'tsgi.multithread': true,
    'tsgi.multiprocess': settings.multiprocess,
    'tsgi.run_once': false,
    'tsgi.input_terminated': true,
    'tsgi.signal': exchange.signal,
  } satisfies Environ as Environ;
  const port = settings.remotePort === undefined ? undefined : perRequest(settings.remotePort, request, context);
  if (port !== undefined) environ.REMOTE_PORT = String(port);
  addHeaders(environ, headers);
  if (settings.environ) Object.assign(environ, settings.environ);
  exchange.run(app, environ);
  return exchange;
}

/** The value of a {@link PerRequest} option for one request. */
function perRequest<T, C>(option: PerRequest<T, C>, request: RequestLike, context: C): T | undefined {
  // A function is given only to toFetchHandler(), which always has a Request.
  return typeof option === 'function' ? (option as (request: Request, context: C) => T | undefined)(request as Request, context) : option;
}

/** A response the gateway gives itself, without calling the application. */
function answer(code: number, reason: string, close = false): Started {
  const body = `${code} ${reason}\n`;
  const headers = [['Content-Type', 'text/plain'], ['Content-Length', String(body.length)]];
  // After a request whose framing is in doubt, the connection should close (request.close-after-reject):
  // the connection is the platform's, and Connection: close is how a response asks for that.
  if (close) headers.push(['Connection', 'close']);
  const response = new Response(body, { status: code, statusText: reason, headers });
  return { response: Promise.resolve(response), done: Promise.resolve(undefined), ended: true };
}

/**
 * `CONTENT_TYPE`, `CONTENT_LENGTH` and one `HTTP_*` key per request header. A `Headers`
 * object has already lower-cased the names, sorted them, joined repeated fields with
 * `, ` (`env.http.repeated`) and trimmed the values (`env.http.value`); names with `_` or
 * `.` are dropped here (`env.http.name-charset`).
 */
function addHeaders(environ: Environ, headers: Headers): void {
  const keys = environ as unknown as Record<string, string | undefined>;
  for (const [name, value] of headers) {
    if (name === 'host' || !HEADER_NAME.test(name)) continue;
    if (name === 'content-type') keys.CONTENT_TYPE = value;
    else if (name === 'content-length') keys.CONTENT_LENGTH = value; // digits: startExchange refused anything else
    else {
      const key = `HTTP_${name.toUpperCase().replaceAll('-', '_')}`;
      // Only set-cookie comes out of a Headers object more than once.
      const earlier = keys[key];
      keys[key] = earlier === undefined ? value : `${earlier}, ${value}`;
    }
  }
}

/** A `Headers` object with the pairs of `list`, repeated names appended, not merged. */
function toHeaders(list: HeaderList): Headers {
  const headers = new Headers();
  for (const [name, value] of list) headers.append(name, value);
  return headers;
}

/** An IPv4-mapped IPv6 address in its IPv4 form, and no brackets (`env.remote-addr`). */
function plainAddress(address: string): string {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return bare.startsWith('::ffff:') && bare.includes('.') ? bare.slice(7) : bare;
}

/**
 * One exchange over fetch. Its states: OPEN while the response is being produced, ENDED
 * once all of it has been handed to the stream, GONE when the client left (the request's
 * signal aborted, or the response stream was cancelled) or the core aborted the message.
 */
class FetchExchange implements Transport, Started {
  readonly method: string;
  readonly target: string;
  readonly errors: ErrorStream;
  readonly signal: AbortSignal;
  readonly response: Promise<Response>;
  done: Promise<Outcome | undefined> = Promise.resolve(undefined);
  readonly #controller = new AbortController();
  readonly #request: RequestLike;
  #resolve!: (response: Response) => void;
  #reject!: (reason: unknown) => void;
  #state = OPEN;
  #head: OutgoingHead | undefined;
  #responded = false;
  #stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  // Settles a write that waits for the stream to ask for more (body.transmit.backpressure).
  #ready: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #fail: ((reason: unknown) => void) | undefined;
  #source: ReturnType<typeof streamSource> | undefined;
  // What the Response promise rejects with when the client left before the head: the
  // platform's own abort reason, as fetch() rejects with the signal's reason.
  #rejection: unknown;
  #listening = false;
  // True while runExchange() runs synchronously; the end it sends then needs no waiting.
  #starting = false;
  #endLater: { chunk: Uint8Array | undefined } | undefined;
  #cancelled = false;

  constructor(request: RequestLike, target: string, errors: ErrorStream) {
    this.#request = request;
    this.method = request.method;
    this.target = target;
    this.errors = errors;
    this.signal = this.#controller.signal;
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody may be waiting for the response yet when it is rejected.
    this.response.catch(() => {});
  }

  get ended(): boolean {
    return this.#state === ENDED;
  }

  /** The source of `tsgi.input`: the request body, cut to its declared length. */
  bodySource(body: ReadableStream<Uint8Array> | null, declared: string | null): BodySource | Uint8Array[] {
    let source: BodySource | Uint8Array[] = NO_BODY;
    if (body) source = this.#source = streamSource(body);
    return declared === null ? source : limitBody(source, Number(declared));
  }

  run(app: Application, environ: Environ): void {
    const signal = this.#request.signal;
    if (!signal) {
      // A request nobody can abort.
    } else if (signal.aborted) this.handleEvent();
    else {
      signal.addEventListener('abort', this, { once: true });
      this.#listening = true;
    }
    this.#starting = true;
    this.done = runExchange(app, environ, this).then((outcome) => {
      this.#stopListening();
      const last = this.#endLater;
      if (last) this.#finishBody(last.chunk);
      if (!this.#responded) this.#reject(this.#rejection ?? new Error('the exchange ended without a response'));
      return outcome;
    });
    this.#starting = false;
  }

  /** The request's signal aborted: the client went away (`disconnect.signal`). */
  handleEvent(): void {
    const reason = this.#request.signal?.reason;
    this.#rejection = reason;
    this.#disconnect(new Error('the client went away before the response was complete (request.signal aborted)', { cause: reason }));
  }

  sendHead(head: OutgoingHead): void {
    if (this.#responded) return;
    this.#head = head;
    if (head.bodyless || NULL_BODY.has(head.code)) this.#respond(null);
    // Otherwise the core writes or ends in the same synchronous step, and the Response is
    // made then: with its body as bytes when the whole body is known (the common case, and
    // the cheap one), as a pulling stream otherwise.
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#state !== OPEN) return Promise.reject(this.signal.reason ?? new Error('the response was aborted'));
    if (!this.#responded) this.#respond(this.#newStream());
    const stream = this.#stream;
    if (!stream) return undefined; // a null-body status (205): nothing can be sent
    stream.enqueue(chunk);
    if ((stream.desiredSize ?? 0) > 0) return undefined;
    return (this.#ready ??= new Promise((resolve, reject) => {
      this.#wake = resolve;
      this.#fail = reject;
    }));
  }

  end(last?: Uint8Array): void {
    if (this.#state !== OPEN) return;
    this.#state = ENDED;
    // The whole response is handed over: nothing after this is a disconnect (disconnect.no-false-abort).
    this.#stopListening();
    // The core may end the message before it calls the body's close() (an array body), and
    // a platform takes the end of the stream for the end of the exchange: a graceful
    // shutdown would not wait for a close() still running (close.await). So the stream
    // ends once the exchange is over, unless this is the core's synchronous path, which
    // it takes only for a body without close().
    if (this.#starting) this.#finishBody(last);
    else this.#endLater = { chunk: last };
  }

  #finishBody(last: Uint8Array | undefined): void {
    if (!this.#responded) return this.#respond(last ?? null);
    const stream = this.#stream;
    // A reader may cancel the stream while the end waits for close().
    if (!stream || this.#cancelled) return;
    if (last) stream.enqueue(last);
    stream.close();
  }

  abort(reason: unknown): void {
    if (this.#state === ENDED) return;
    this.#state = GONE;
    this.#stopListening();
    if (this.#responded) {
      // error.after-headers: the consumer sees the body fail, never a complete message.
      this.#stream?.error(reason);
    } else if (this.#head && !this.signal.aborted) {
      this.#respond(this.#newStream());
      this.#stream?.error(reason);
    } else {
      this.#reject(this.#rejection ?? reason);
    }
    this.#settleReady(reason);
  }

  #respond(body: ReadableStream<Uint8Array> | Uint8Array | null): void {
    const head = this.#head as OutgoingHead;
    try {
      const response = new Response(body, { status: head.code, statusText: head.reason, headers: toHeaders(head.headers) });
      SENT.set(response, head.headers);
      this.#responded = true;
      this.#resolve(response);
    } catch (error) {
      // Not expected: the core checked the head with the same grammar fetch uses.
      this.#responded = true;
      this.#reject(error);
      this.#disconnect(error);
    }
  }

  #newStream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#stream = controller;
        },
        pull: () => this.#settleReady(),
        cancel: (reason) => {
          this.#cancelled = true;
          this.#disconnect(new Error('the response body was cancelled before it was complete', { cause: reason }));
        },
      },
      // Nothing is produced before the consumer asks for it: a slow reader slows the body down.
      { highWaterMark: 0 },
    );
  }

  /** Lets a waiting write go on (the stream asked for more), or fail. */
  #settleReady(reason?: unknown): void {
    const wake = this.#wake;
    const fail = this.#fail;
    this.#ready = this.#wake = this.#fail = undefined;
    if (reason === undefined) wake?.();
    else fail?.(reason);
  }

  #disconnect(reason: unknown): void {
    if (this.#state !== OPEN) return;
    this.#state = GONE;
    this.#stopListening();
    this.#controller.abort(reason);
    this.#source?.cancel(reason);
    this.#settleReady(reason);
  }

  #stopListening(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#request.signal?.removeEventListener('abort', this);
  }
}
