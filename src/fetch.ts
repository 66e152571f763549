/**
 * Interop with the fetch convention, `(request: Request) => Response`, both ways:
 * `toFetchHandler(app)` runs a TSGI application wherever a fetch handler runs (Deno,
 * Bun, workers, any fetch-style server), and `fromFetchHandler(handler)` mounts any fetch
 * handler as a TSGI application, on any TSGI server and inside the validator.
 *
 * Both go through the gateway core, so the spec's guarantees hold on the fetch side too:
 * bodies are pulled (a slow reader slows the application down), the request's signal is
 * the disconnect signal, repeated `Set-Cookie` headers stay separate, HEAD sends no body,
 * and `close()` runs on every path. Neither replaces or patches the global `Request`,
 * `Response` or `Headers`.
 *
 * @example
 * ```ts
 * import { fromFetchHandler, toFetchHandler } from 'tsgi/fetch';
 *
 * const handler = toFetchHandler((environ, startResponse) => {
 *   startResponse('200 OK', [['Content-Type', 'text/plain']]);
 *   return [new TextEncoder().encode(`Hello from ${environ.PATH_INFO}\n`)];
 * });
 * const response = await handler(new Request('http://localhost/hi'));
 * await response.text(); // 'Hello from /hi\n'
 *
 * const app = fromFetchHandler((request) => new Response(`You asked for ${new URL(request.url).pathname}\n`));
 * ```
 *
 * @module
 */
import { STATUS_CODES } from 'node:http';
import { HOP_BY_HOP, show } from './_http.js';
import { resolveSettings, startExchange, type FetchHandlerOptions } from './_fetch-server.js';
import { sentHeaders } from './_fetch-transport.js';
import type { Application, Environ, HeaderList, InputStream, ResponseBody, StartResponse } from './types.js';
import { requestUri } from './util.js';

export type { FetchHandlerOptions, PerRequest } from './_fetch-server.js';

/**
 * A fetch-style handler: what Deno.serve, Bun.serve and workers call for each request.
 *
 * @example
 * ```ts
 * const handler: FetchHandler = (request) => new Response(`${request.method} ${new URL(request.url).pathname}\n`);
 * ```
 */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * Runs a TSGI application as a fetch handler. The environ is built from the `Request`:
 * `PATH_INFO` is the percent-decoded path as a byte string, `QUERY_STRING` and
 * `REQUEST_URI` are as the URL has them, `HTTP_HOST`, `SERVER_NAME`, `SERVER_PORT` and
 * `tsgi.url_scheme` come from the URL, `CONTENT_LENGTH` is there only when the request
 * declared it, and `tsgi.signal` aborts when `request.signal` does or the response body is
 * cancelled. The `Response` settles when the application's head is sent (so an error
 * before it still becomes a 500); its body is a `ReadableStream` that asks the application
 * for a chunk only when its reader wants one. `REMOTE_ADDR` is not in a `Request`: pass
 * `remoteAddr` (default `0.0.0.0`).
 *
 * A `Headers` object keeps neither the order of the request's header fields nor their
 * names' case, and joins repeated fields with `, `; the environ's `HTTP_*` keys need
 * neither, and join the same way. What it cannot recover is a field the platform dropped
 * or merged before the handler ran.
 *
 * The returned handler takes the platform's second argument (`context`) only to give it
 * to a `remoteAddr` function. It rejects, as `fetch` does, with the request signal's
 * reason when the client leaves before the head is sent.
 *
 * @example
 * ```ts
 * import { toFetchHandler } from 'tsgi/fetch';
 *
 * const handler = toFetchHandler((environ, startResponse) => {
 *   startResponse('200 OK', [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
 *   return [new TextEncoder().encode(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}\n`)];
 * }, { remoteAddr: '192.0.2.1' });
 * const response = await handler(new Request('http://localhost/caf%C3%A9', { method: 'POST' }));
 * response.headers.getSetCookie(); // ['a=1', 'b=2']
 * await response.text();           // 'POST /cafÃ©\n': the path's bytes, as latin-1 code units
 * // Deno: Deno.serve(toFetchHandler(app, { remoteAddr: (_request, info: Deno.ServeHandlerInfo) => info.remoteAddr.hostname }));
 * ```
 */
export function toFetchHandler<C = unknown>(
  app: Application,
  options: FetchHandlerOptions<C> = {},
): (request: Request, context?: C) => Promise<Response> {
  if (typeof app !== 'function') throw new TypeError(`toFetchHandler: the application must be a function; got ${show(app)}`);
  const settings = resolveSettings(options);
  return (request, context) => {
    try {
      return startExchange(app, request, settings, context as C).response;
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * Mounts a fetch-style handler as a TSGI application. The `Request` gets the URL that the
 * spec's URL reconstruction gives, the method, the request headers (`HTTP_*`,
 * `CONTENT_TYPE`, `CONTENT_LENGTH`), a body streamed from `tsgi.input` as the handler
 * reads it (none for GET and HEAD), and a `signal` that follows `tsgi.signal`. The
 * `Response` goes to `startResponse` with its status and `statusText` (the standard
 * reason phrase when that is empty), each `Set-Cookie` as a header of its own, and
 * without hop-by-hop headers; its body is streamed out, and cancelled if the server stops
 * early (HEAD, a disconnect, an error).
 *
 * A `Response` that `toFetchHandler` made, headers unchanged, keeps the header list its
 * application gave, in order and with its case and repeated fields; any other `Response`
 * has the lower-case names, in alphabetical order, that its `Headers` object holds.
 * A request the fetch API cannot express gets an answer here: 400 for a host that makes
 * no valid URL, 501 for the methods fetch forbids (`CONNECT`, `TRACE`, `TRACK`).
 *
 * @example
 * ```ts
 * import { fromFetchHandler } from 'tsgi/fetch';
 * import { serve } from 'tsgi/server';
 *
 * const app = fromFetchHandler(async (request) => {
 *   const name = await request.text();
 *   return Response.json({ hello: name }, { headers: { 'Set-Cookie': 'seen=1' } });
 * });
 * const server = await serve(app, { port: 0, quiet: true });
 * const response = await fetch(server.url, { method: 'POST', body: 'Ada' });
 * await response.json(); // { hello: 'Ada' }
 * await server.close();
 * ```
 */
export function fromFetchHandler(handler: FetchHandler): Application {
  if (typeof handler !== 'function') throw new TypeError(`fromFetchHandler: the handler must be a function; got ${show(handler)}`);
  return async (environ, startResponse) => {
    const request = toRequest(environ);
    if (Array.isArray(request)) return refuse(startResponse, request);
    return respond(await handler(request), environ, startResponse);
  };
}

const NO_BODY_METHODS = new Set(['GET', 'HEAD']);
const CLASS_REASONS = ['', '', 'Success', 'Redirection', 'Client Error', 'Server Error'];

/** The `Request` for an environ, or the status with which to refuse one fetch cannot express. */
function toRequest(environ: Environ): Request | [number, string] {
  let url: URL;
  try {
    url = new URL(requestUri(environ));
  } catch {
    return [400, 'Bad Request']; // a Host that makes no URL
  }
  const headers = new Headers();
  const keys = environ as unknown as Record<string, unknown>;
  for (const key of Object.keys(keys)) {
    if (key.startsWith('HTTP_')) headers.append(key.slice(5).toLowerCase().replaceAll('_', '-'), keys[key] as string);
  }
  if (environ.CONTENT_TYPE !== undefined) headers.set('content-type', environ.CONTENT_TYPE);
  if (environ.CONTENT_LENGTH !== undefined) headers.set('content-length', environ.CONTENT_LENGTH);
  const method = environ.REQUEST_METHOD;
  const init: RequestInit = { method, headers, signal: environ['tsgi.signal'] };
  // Any other request may have a body: framing says so over HTTP/1.1, but not over HTTP/2,
  // nor for an environ made from a Request, and tsgi.input ends by itself anyway.
  if (!NO_BODY_METHODS.has(method.toUpperCase()) && environ.CONTENT_LENGTH !== '0') {
    init.body = bodyStream(environ['tsgi.input']);
    init.duplex = 'half';
  }
  try {
    return new Request(url, init);
  } catch (error) {
    if (/^(?:CONNECT|TRACE|TRACK)$/i.test(method)) return [501, 'Not Implemented'];
    throw error;
  }
}

/**
 * `tsgi.input` as a request body stream. Nothing is read before the handler reads (so a
 * server's `100 Continue` waits for it too), and cancelling leaves the rest of the body
 * to the server, which discards it (`input.unread`).
 */
function bodyStream(input: InputStream): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const step = await (chunks ??= input[Symbol.asyncIterator]()).next();
        if (step.done) controller.close();
        else controller.enqueue(step.value);
      },
      async cancel() {
        await chunks?.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

function refuse(startResponse: StartResponse, [code, reason]: [number, string]): ResponseBody {
  const body = new TextEncoder().encode(`${code} ${reason}\n`);
  startResponse(`${code} ${reason}`, [
    ['Content-Type', 'text/plain'],
    ['Content-Length', String(body.length)],
  ]);
  return [body];
}

/** Starts the TSGI response for a fetch `Response`, and returns its body. */
function respond(response: Response, environ: Environ, startResponse: StartResponse): ResponseBody {
  // Not instanceof: a Response from another fetch implementation (such as the undici package) is one too.
  if (typeof response?.status !== 'number' || typeof response.headers?.get !== 'function' || !('body' in response)) {
    throw new TypeError(`fromFetchHandler: the handler must return a Response; got ${show(response)}`);
  }
  const code = response.status;
  if (code === 0) throw new TypeError('fromFetchHandler: the handler returned a network error (Response.error())');
  const sent = sentHeaders(response);
  const reason = sent || response.statusText ? response.statusText : (STATUS_CODES[code] ?? CLASS_REASONS[Math.floor(code / 100)]);
  const body = response.body;
  try {
    startResponse(`${code} ${reason}`, sent ?? headerList(response.headers));
  } catch (error) {
    body?.cancel().catch(() => {});
    throw error;
  }
  return body ? new StreamBody(body, environ['tsgi.signal']) : [];
}

/**
 * The header list of a `Headers` object: each `Set-Cookie` as a pair of its own, and no
 * hop-by-hop header (`hop.response`) or `Status` (`header.no-status`), which a TSGI
 * application must not send and a fetch handler may.
 */
function headerList(headers: Headers): HeaderList {
  const list: Array<[string, string]> = [];
  let cookies = false;
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name) || name === 'status') continue;
    if (name !== 'set-cookie') list.push([name, value]);
    else if (!cookies) {
      // Runtimes without getSetCookie() yield each cookie from the iterator already.
      cookies = typeof headers.getSetCookie === 'function';
      if (cookies) for (const cookie of headers.getSetCookie()) list.push(['set-cookie', cookie]);
      else list.push([name, value]);
    }
  }
  return list;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * A fetch response body as a TSGI body: its own iterator, reading one chunk per `next()`.
 * Stopping early, `close()`, or `tsgi.signal` aborting cancels the stream, so the handler's
 * producer learns that nobody is reading (a HEAD request, a disconnect, an error).
 */
class StreamBody implements AsyncIterableIterator<Uint8Array> {
  readonly #stream: ReadableStream<Uint8Array>;
  readonly #signal: AbortSignal;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #finished = false;

  constructor(stream: ReadableStream<Uint8Array>, signal: AbortSignal) {
    this.#stream = stream;
    this.#signal = signal;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#finished) return DONE;
    if (!this.#reader) {
      this.#reader = this.#stream.getReader();
      // A read waiting for a producer that never comes would keep the server waiting too.
      this.#signal.addEventListener('abort', this, { once: true });
      if (this.#signal.aborted) this.handleEvent();
    }
    try {
      const step = await this.#reader.read();
      if (!step.done) return step;
    } catch (error) {
      this.#finish();
      throw error;
    }
    this.#finish();
    return DONE;
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    await this.close();
    return DONE;
  }

  /** Cancels the stream if it was not read to its end. */
  close(): Promise<void> {
    if (this.#finished) return Promise.resolve();
    const reader = this.#reader;
    this.#finish();
    return (reader ? reader.cancel() : this.#stream.cancel()).catch(() => {});
  }

  /** `tsgi.signal` aborted: the client is gone. */
  handleEvent(): void {
    void this.close();
  }

  #finish(): void {
    this.#finished = true;
    if (this.#reader) this.#signal.removeEventListener('abort', this);
  }
}
