/**
 * The fetch transport's entry: builds the environ from a fetch `Request` as the spec's
 * environ section says, refuses what must not reach the application, and starts a
 * {@link FetchExchange}. `toFetchHandler()` and `fetchApp()` are thin layers over it.
 * Protocol decisions live in `handler.ts`.
 */
import { createErrorStream, type TextSink } from './_errors.js';
import { FetchExchange, toHeaders, type RequestLike, type Started } from './_fetch-transport.js';
import { DIGITS } from './_http.js';
import { createInputStream } from './_input.js';
import { decodePath, splitTarget } from './_node.js';
import { defineLazySignal } from './_signal.js';
import { TSGI_VERSION } from './_keys.js';
import type { Application, Environ, ErrorStream } from './types.js';

export type { RequestLike, Started } from './_fetch-transport.js';

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

const HEADER_NAME = /^[A-Za-z0-9-]+$/;

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
    'tsgi.version': TSGI_VERSION,
    'tsgi.url_scheme': scheme,
    'tsgi.input': createInputStream(exchange.bodySource(request.body, declared)),
    'tsgi.errors': settings.errors,
    'tsgi.multithread': true,
    'tsgi.multiprocess': settings.multiprocess,
    'tsgi.run_once': false,
    'tsgi.input_terminated': true,
  } satisfies Omit<Environ, 'tsgi.signal'> as unknown as Environ;
  defineLazySignal(environ, exchange.signal);
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

/** An IPv4-mapped IPv6 address in its IPv4 form, and no brackets (`env.remote-addr`). */
function plainAddress(address: string): string {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return bare.startsWith('::ffff:') && bare.includes('.') ? bare.slice(7) : bare;
}
