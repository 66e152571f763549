/**
 * The gateway core: the server side of the TSGI contract, written once and
 * independent of any socket. It calls the application, runs the `startResponse` state
 * machine, iterates the body, enforces `Content-Length`, handles HEAD, 204 and 304,
 * turns errors into a 500 page or an aborted message, and calls `close()` exactly once
 * on every path. A transport (the node:http server, CGI, the fetch adapter, the test
 * client) only builds the environ and moves bytes: see {@link Transport}.
 *
 * @example
 * ```ts
 * import { runExchange } from 'tsgi/handler';
 * const outcome = await runExchange(app, environ, transport);
 * console.log(outcome.status, outcome.bytes);
 * ```
 *
 * @module
 */
import { execute } from './_exchange.js';
import type { Application, Environ, ErrorStream, HeaderList } from './types.js';

/** The head the core asks a transport to send. */
export interface OutgoingHead {
  /** The status code, 200 to 599. */
  readonly code: number;
  /** The reason phrase exactly as the application gave it (`status.sent-as-is`). */
  readonly reason: string;
  /**
   * The application's headers in order, plus a `Content-Length` the core computed for an
   * array body. Read-only: a transport copies it to add `Date`, `Server` or framing.
   */
  readonly headers: HeaderList;
  /** The body length the headers declare, when they declare one. */
  readonly contentLength: number | undefined;
  /** True for HEAD, 204 and 304: the message has no body on the wire, whatever its headers say. */
  readonly bodyless: boolean;
}

/**
 * What the core needs from a transport. A transport frames the message for its
 * protocol (chunked coding, or closing the connection, when `contentLength` is
 * undefined) and adds the headers that are its business (`Date`, `Server`,
 * `Connection`); everything else is decided by the core.
 */
export interface Transport {
  /** The request method as received, which middleware cannot change. */
  readonly method: string;
  /** The request target as received, for error messages. */
  readonly target: string;
  /** The server's own error stream: where the core logs application errors (`error.logged`). */
  readonly errors: ErrorStream;
  /**
   * Aborted when the response can no longer be delivered. An `AbortSignal` will do; a
   * transport may pass a lighter object and create the environ's `tsgi.signal` lazily.
   */
  readonly signal: AbortState;
  /** Sends the status line and headers. Called at most twice: a second time only to replace a head that failed to go out. */
  sendHead(head: OutgoingHead): void;
  /**
   * Sends body bytes. Returns `undefined` when the transport can take more at once, or a
   * Promise that fulfils when it can, and rejects when the client has gone away.
   */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Completes the message, after an optional last chunk. */
  end(last?: Uint8Array): Promise<void> | void;
  /** Ends the message abnormally, so that the client sees it truncated (`error.after-headers`). */
  abort(reason: unknown): void;
}

/** The part of an `AbortSignal` the core reads: whether, and why, the exchange was abandoned. */
export interface AbortState {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

/** How an exchange ended, for access logs and tests. */
export interface Outcome {
  /** The status code sent, or `undefined` when no head went out. */
  status: number | undefined;
  /** Body bytes handed to the transport. */
  bytes: number;
  /** True when the message was completed normally. */
  completed: boolean;
  /** The application error the core handled, if any. */
  error?: unknown;
  /** True when the client went away before the response was complete. */
  disconnected: boolean;
}

/**
 * Runs one exchange: calls `app` with `environ`, and sends its response through
 * `transport`. Never throws or rejects: every failure is handled as the spec says and
 * reported in the {@link Outcome}. Resolves once the body has been closed.
 */
export async function runExchange(app: Application, environ: Environ, transport: Transport): Promise<Outcome> {
  return execute(app, environ, transport);
}
