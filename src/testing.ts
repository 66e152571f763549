/**
 * The test client: `fetchApp(app, input, init?)` calls a TSGI application in-process
 * with a fetch-style request and resolves to the `Response`, the way `fetch` would over
 * the network. The application is wrapped in `validator()` unless `validate: false`, so
 * every test that calls it also checks the contract. It is built on the fetch transport
 * of `tsgi/fetch`, so what it shows is what a fetch platform would send.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { fetchApp } from 'tsgi/testing';
 *
 * const app = (environ, startResponse) => {
 *   startResponse('200 OK', [['Content-Type', 'text/plain']]);
 *   return [new TextEncoder().encode(`id=${environ.QUERY_STRING}\n`)];
 * };
 * const response = await fetchApp(app, '/users?id=1');
 * assert.equal(response.status, 200);
 * assert.equal(await response.text(), 'id=id=1\n');
 * ```
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import type { TextSink } from './_errors.js';
import { resolveSettings, startExchange, type FetchSettings, type RequestLike } from './_fetch-server.js';
import { TOKEN } from './_http.js';
import type { Application, ErrorStream } from './types.js';
import { validator } from './validate.js';

/**
 * The options of {@link fetchApp}: a `RequestInit`, and what a test may want of the server.
 *
 * @example
 * ```ts
 * const init: FetchAppInit = { method: 'POST', body: 'a=1', remoteAddr: '192.0.2.7', environ: { REMOTE_USER: 'ada' } };
 * ```
 */
export interface FetchAppInit extends RequestInit {
  /** Wrap the application in `validator()`, which throws on every contract violation. Default: true. */
  validate?: boolean;
  /**
   * Reject with the error an application throws (or a validator finds) before its response
   * starts, as the test clients of Werkzeug and Django do, rather than resolve with the
   * server's generic 500 page. After the response started, its body stream fails with the
   * error either way. Default: true.
   */
  rethrow?: boolean;
  /** `REMOTE_ADDR`. Default: `127.0.0.1`, since the caller is in the same process. */
  remoteAddr?: string;
  /** Keys added to the environ: extension keys, or CGI variables such as `REMOTE_USER`. */
  environ?: Readonly<Record<string, unknown>>;
  /** The path the application is mounted at (`SCRIPT_NAME`); requests outside it get 404. */
  scriptName?: string;
  /** Where `tsgi.errors` and the server's error log write. Default: `process.stderr`. */
  errors?: TextSink;
}

/** Requests given as a path are resolved against this origin. */
const ORIGIN = 'http://localhost/';
const LOCAL = '127.0.0.1';

/** One validator per application, so that its once-per-rule warnings come once per test run. */
const validated = new WeakMap<Application, Application>();
let defaults: FetchSettings<undefined> | undefined;

/**
 * Calls `app` with a request and resolves to its `Response`. `input` is a path such as
 * `'/users?id=1'` (resolved against `http://localhost/`), an absolute URL, a `URL`, or a
 * `Request`; `init` is a `RequestInit` plus the options of {@link FetchAppInit}.
 *
 * A body of known length (a string, bytes, a `Blob`, `URLSearchParams`) is declared with
 * `Content-Length`, as `fetch` would send it, so the application sees `CONTENT_LENGTH`.
 *
 * The `Response` settles when the application's head is sent; a streaming body is then
 * produced as the test reads it. Read it to the end or cancel it: until then the
 * exchange stays open, and the body's `close()` does not run.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { fetchApp } from 'tsgi/testing';
 *
 * const echo = async (environ, startResponse) => {
 *   const body = await environ['tsgi.input'].read();
 *   startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
 *   return [body];
 * };
 * const response = await fetchApp(echo, '/echo', { method: 'POST', body: 'ping', remoteAddr: '192.0.2.7' });
 * assert.equal(await response.text(), 'ping');
 *
 * const broken = () => {
 *   throw new Error('boom');
 * };
 * await assert.rejects(fetchApp(broken, '/'), /boom/);
 * assert.equal((await fetchApp(broken, '/', { rethrow: false, errors: { write: () => true } })).status, 500);
 * ```
 */
export async function fetchApp(app: Application, input: string | URL | Request, init?: FetchAppInit): Promise<Response> {
  let settings = (defaults ??= resolveSettings<undefined>({}, LOCAL));
  let checked = app;
  let rethrow = true;
  let request: RequestLike;
  let url: URL | undefined;
  if (init === undefined) {
    if (input instanceof Request) request = input;
    else request = plainRequest((url = resolve(input)), undefined);
    checked = validatedApp(app);
  } else {
    const { validate, rethrow: rethrowing, remoteAddr, environ, scriptName, errors, ...requestInit } = init;
    if (remoteAddr !== undefined || environ !== undefined || scriptName !== undefined || errors !== undefined) {
      settings = resolveSettings<undefined>(definedOnly({ remoteAddr, environ, scriptName, errors }), LOCAL);
    }
    if (validate !== false) checked = validatedApp(app);
    rethrow = rethrowing !== false;
    const body = requestInit.body;
    if (body === undefined || body === null) {
      request = input instanceof Request ? new Request(input, requestInit) : plainRequest((url = resolve(input)), requestInit);
    } else {
      request = withLength(new Request(input instanceof Request ? input : resolve(input), requestInit), body);
    }
  }
  if (!rethrow) return startExchange(checked, request, settings, undefined, settings.errors, url).response;
  const log = new HeldLog(settings.errors);
  let rethrown = false;
  try {
    const exchange = startExchange(checked, request, settings, undefined, log, url);
    const response = await exchange.response;
    // An error before the head became the 500 page, which ends the exchange at once.
    if (response.status === 500 && exchange.ended) {
      const outcome = await exchange.done;
      rethrown = outcome?.error !== undefined && outcome.completed;
      if (rethrown) throw outcome!.error;
    }
    return response;
  } finally {
    log.release(rethrown);
  }
}

function validatedApp(app: Application): Application {
  let checked = validated.get(app);
  if (!checked) validated.set(app, (checked = validator(app)));
  return checked;
}

// Tests call the same few paths again and again, and parsing against a base costs more
// than the rest of the request's setup. The URLs are read, never handed out.
const parsed = new Map<string, URL>();
const MAX_PARSED = 500;

function resolve(input: string | URL): URL {
  if (typeof input !== 'string') return input;
  let url = parsed.get(input);
  if (!url) {
    url = new URL(input, ORIGIN);
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(input, url);
  }
  return url;
}

/** Adds the `Content-Length` that `fetch` would send for a body whose length it knows. */
function withLength(request: Request, body: NonNullable<RequestInit['body']>): Request {
  if (request.headers.has('content-length')) return request;
  let length: number | undefined;
  if (typeof body === 'string') length = Buffer.byteLength(body);
  else if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) length = body.byteLength;
  else if (body instanceof Blob) length = body.size;
  else if (body instanceof URLSearchParams) length = Buffer.byteLength(body.toString());
  if (length !== undefined) request.headers.set('content-length', String(length));
  return request;
}

const NO_HEADERS = new Headers();
/** The methods fetch upper-cases (fetch's "normalize a method"). */
const NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/**
 * A request without a body, as the transport reads it, checked and normalised as the
 * `Request` constructor would: the same method rules, the same `Headers` object.
 */
function plainRequest(url: URL, init: RequestInit | undefined): RequestLike {
  let method = init?.method ?? 'GET';
  if (method !== 'GET') {
    if (!TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
    const upper = method.toUpperCase();
    if (upper === 'CONNECT' || upper === 'TRACE' || upper === 'TRACK') throw new TypeError(`'${method}' HTTP method is unsupported.`);
    if (NORMALIZED.has(upper)) method = upper;
  }
  const headers = init?.headers === undefined ? NO_HEADERS : new Headers(init.headers);
  return { url: url.href, method, headers, body: null, signal: init?.signal };
}

/** The object without its undefined properties (`exactOptionalPropertyTypes`). */
function definedOnly<T extends object>(object: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/**
 * The server's error log while `fetchApp` may still rethrow: the line the core writes for
 * an error just before it sends the 500 page is held back, and dropped when that error
 * is rethrown, since the test receives it already. Everything else is written.
 */
class HeldLog implements ErrorStream {
  readonly #sink: ErrorStream;
  #held: string | undefined;
  #holding = true;

  constructor(sink: ErrorStream) {
    this.#sink = sink;
  }

  write(text: string): void {
    if (!this.#holding) return this.#sink.write(text);
    if (this.#held !== undefined) this.#sink.write(this.#held);
    this.#held = text;
  }

  writeLines(lines: Iterable<string>): void {
    for (const line of lines) this.write(line);
  }

  flush(): Promise<void> {
    return this.#sink.flush();
  }

  release(rethrown: boolean): void {
    this.#holding = false;
    if (this.#held !== undefined && !rethrown) this.#sink.write(this.#held);
    this.#held = undefined;
  }
}
