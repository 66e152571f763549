/**
 * The reference server: runs any TSGI application on `node:http` (or `node:https`),
 * correctly and simply. It is what `wsgiref.simple_server` is to WSGI: a single-process
 * server for development, tests and the conformance suite. Production deployments put
 * it behind a reverse proxy or use `toNodeListener()` in a server of their choice.
 *
 * @example
 * ```ts
 * import { serve } from 'tsgi/server';
 * const server = await serve(app, { port: 8000 });
 * console.log(`listening on ${server.url}`);
 * await server.close();
 * ```
 *
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { CUT_OFF, DEFAULT_MAX_TARGET, createNodeListener, type NodeListener, type NodeTransportOptions } from './_node.js';
import { demoApp as demo } from './_demo.js';
import type { Application } from './types.js';

export type { NodeListener, NodeTransportOptions } from './_node.js';

/** The request line beyond its target: a method, two spaces, `HTTP/1.1` and CRLF, with room for long methods. */
const REQUEST_LINE_EXTRA = 64;

/** How long `close()` waits for the exchanges it cut off to clean up, in milliseconds. */
const CLEANUP_TIMEOUT = 2000;

/** Options of {@link serve}. */
export interface ServeOptions extends NodeTransportOptions {
  /** The address to listen on. Default: `127.0.0.1`. */
  hostname?: string;
  /** The port to listen on; `0` picks a free one. Default: `8000`. */
  port?: number;
  /** TLS key and certificate (PEM). With both, the server speaks HTTPS and `tsgi.url_scheme` is `https`. */
  key?: string | Buffer;
  cert?: string | Buffer;
  /** Idle keep-alive connections are closed after this many milliseconds. Default: 5000. */
  keepAliveTimeout?: number;
  /** A client must send the request head within this many milliseconds. Default: 60000, or `requestTimeout` when that is shorter. */
  headersTimeout?: number;
  /** A client must send the whole request within this many milliseconds. Default: 300000. */
  requestTimeout?: number;
  /** How long `close()` waits for running requests before it cuts them off, in milliseconds. Default: 10000. */
  shutdownTimeout?: number;
}

/** A running reference server. */
export interface TsgiServer {
  /** The base URL, such as `http://127.0.0.1:8000/`. */
  readonly url: string;
  readonly hostname: string;
  readonly port: number;
  /** The underlying `http.Server` (or `https.Server`). */
  readonly node: http.Server;
  /**
   * Stops accepting connections, lets running requests finish within `shutdownTimeout`,
   * then closes every connection: the requests still running are cut off, their
   * `tsgi.signal` aborted (saying that the server shut down) and their bodies closed.
   * Resolves once the server is closed and that cleanup is done (or two seconds passed).
   */
  close(): Promise<void>;
}

/**
 * Serves `app` on `hostname:port` and resolves once the server is listening.
 *
 * @example
 * ```ts
 * const server = await serve(demoApp, { port: 0, quiet: true });
 * const response = await fetch(server.url);
 * await server.close();
 * ```
 */
export async function serve(app: Application, options: ServeOptions = {}): Promise<TsgiServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  const maxHeaderSize = options.maxHeaderSize ?? 16_384;
  const listener = createNodeListener(app, { ...options, maxHeaderSize });
  const requestTimeout = options.requestTimeout ?? 300_000;
  // Node refuses a head timeout longer than the request's, so a short requestTimeout alone must work.
  const headersTimeout = options.headersTimeout ?? (requestTimeout > 0 ? Math.min(60_000, requestTimeout) : 60_000);
  const serverOptions: http.ServerOptions = {
    keepAliveTimeout: options.keepAliveTimeout ?? 5000,
    headersTimeout,
    requestTimeout,
    // Node checks these timeouts only this often (30 s by default): keep the check
    // frequent enough for a short timeout to mean what it says.
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(Math.min(headersTimeout || Infinity, requestTimeout || Infinity) / 4))),
    // Node's limit counts the request line as well: room for the longest target allowed,
    // so that an over-long target gets 414 and not 431; the listener holds the header
    // section to maxHeaderSize itself.
    maxHeaderSize: maxHeaderSize + (options.maxTargetLength ?? DEFAULT_MAX_TARGET) + REQUEST_LINE_EXTRA,
    requireHostHeader: true,
  };
  const node =
    options.key !== undefined && options.cert !== undefined
      ? // httpAllowHalfOpen (below) does not reach TLS sockets; this does.
        https.createServer({ ...serverOptions, allowHalfOpen: true, key: options.key, cert: options.cert })
      : http.createServer(serverOptions);
  attach(node, listener);

  await new Promise<void>((resolve, reject) => {
    node.once('error', reject);
    node.listen(options.port ?? 8000, hostname, () => {
      node.off('error', reject);
      resolve();
    });
  });
  const address = node.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const scheme = node instanceof https.Server ? 'https' : 'http';
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${host}:${address.port}/`,
    hostname: address.address,
    port: address.port,
    node,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => node.close(() => resolve()));
        node.closeIdleConnections();
        await idleWithin(listener, options.shutdownTimeout ?? 10_000);
        listener[CUT_OFF]();
        node.closeAllConnections();
        // The exchanges cut off now abort and close their bodies: let that cleanup end too.
        await idleWithin(listener, CLEANUP_TIMEOUT);
        await closed;
      })()),
  };
}

/** Resolves when `listener` has no exchange running, or after `ms` milliseconds. */
async function idleWithin(listener: NodeListener, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([listener.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * A `(req, res)` listener that runs `app`, for any node:http server. Register it for
 * `checkContinue` too, so that `100 Continue` waits until the application reads the
 * body, as the spec requires (otherwise Node sends it before the application runs).
 *
 * @example
 * ```ts
 * const listener = toNodeListener(app);
 * const server = http.createServer(listener).on('checkContinue', listener);
 * // On shutdown: stop accepting, then wait for running exchanges.
 * server.close();
 * await listener.idle();
 * ```
 */
export function toNodeListener(app: Application, options: NodeTransportOptions = {}): NodeListener {
  return createNodeListener(app, options);
}

/** Wires the listener into a server with the settings the spec needs. */
function attach(node: http.Server, listener: (req: http.IncomingMessage, res: http.ServerResponse) => void): void {
  node.on('request', listener);
  node.on('checkContinue', listener); // expect.not-early: 100 Continue on the first read only
  // A client that stops sending still gets its response (disconnect.no-false-abort).
  (node as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // request.connect: TSGI has no tunnels.
  node.on('connect', (_req: http.IncomingMessage, socket: Socket) => {
    socket.end('HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
}

/**
 * The demo application: `npm start` and `tsgi serve` without a module serve it. A
 * browser gets a page with the environ its request became, as a table, and links to a
 * query string, a percent-encoded UTF-8 path, a streamed response and a form read from
 * `tsgi.input` (`/stream`, `POST /echo`); other clients get the environ as text, one
 * `key = value` line per key, after a first line `Hello from tsgi!`.
 */
export const demoApp: Application = demo;
