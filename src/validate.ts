/**
 * `validator(app)`: an application that sits between any server and any application
 * (or on either side of middleware) and checks that both obey the TSGI contract of
 * `spec/tsgi.md`, citing the requirement each violation breaks. It is TSGI's
 * `wsgiref.validate` and `Rack::Lint`.
 *
 * What it checks, in plain words (the requirement IDs are in parentheses):
 *
 * The server, when it calls the application:
 * - it calls it with two arguments and `this` undefined (server.invoke.args), with a new
 *   environ each time (server.invoke.fresh-environ), and a `startResponse` function
 *   (start.signature); overlapping calls only when `tsgi.multithread` is true
 *   (concurrency.multithread);
 * - the environ is a plain object of data properties (env.plain-object); keys without a
 *   dot are CGI variables holding strings (env.cgi.strings, ext.dotted) made of bytes
 *   (str.environ); `tsgi.*` keys are only those the spec defines (ext.reserved); other
 *   keys are lowercase and dotted (ext.prefix); no pseudo-headers (env.http.pseudo);
 * - `REQUEST_METHOD` is a token (env.request-method); `SCRIPT_NAME` is empty or starts
 *   with `/`, is never `/`, and ends with `/` only when `PATH_INFO` is empty (env.script-name,
 *   env.script-name.not-slash, env.script-name.trailing-slash); `PATH_INFO` is empty,
 *   starts with `/`, or is `*` for `OPTIONS` (env.path-info), and the two are never
 *   both empty (env.path.split); `QUERY_STRING` is present (env.query-string);
 * - `CONTENT_LENGTH` is digits, and absent with `Transfer-Encoding` (env.content-length);
 *   no `HTTP_CONTENT_TYPE` or `HTTP_CONTENT_LENGTH` (env.no-http-content); `HTTP_*` names
 *   are upper-cased with `_` (env.http, env.http.name-charset) and their values trimmed
 *   (env.http.value);
 * - `SERVER_NAME` is non-empty, IPv6 in brackets (env.server-name); `SERVER_PORT` is
 *   digits (env.server-port); `SERVER_PROTOCOL` is HTTP/1.x, HTTP/2 or HTTP/3
 *   (env.server-protocol); `REMOTE_ADDR` is an IP address in plain form
 *   (env.remote-addr); `REMOTE_PORT` is digits (env.remote-port); `REQUEST_URI` is
 *   present (env.request-uri); no `''` placeholders (env.cgi.absent) and no copy of the
 *   process environment (env.no-process-env);
 * - the `tsgi.*` keys: all present (env.tsgi.required), `tsgi.version` is `[1, 0]`
 *   (env.tsgi.version), `tsgi.url_scheme` is http or https (env.tsgi.url-scheme), the
 *   flags are booleans (env.tsgi.flags) and `tsgi.input_terminated` is true
 *   (env.tsgi.input-terminated), `tsgi.signal` is an `AbortSignal` (env.tsgi.signal),
 *   `tsgi.input` and `tsgi.errors` are streams with their methods (env.tsgi.input,
 *   input.methods, env.tsgi.errors, errors.methods), `tsgi.file_wrapper` is a function
 *   (file.signature).
 *
 * The application, as it calls `startResponse` and `write`:
 * - the status is a byte string of three digits, a space and a reason (status.format,
 *   str.response), 200 to 599 (status.range), with a reason phrase (status.reason);
 * - the headers are an array of string pairs (header.list) with token names
 *   (header.name) and byte-string values without control characters except HTAB
 *   (header.value, str.response), not padded with spaces (header.value.whitespace); no
 *   `Status` (header.no-status), no hop-by-hop header (hop.response), no
 *   `Transfer-Encoding` (framing.no-transfer-coding); one `Content-Length` of digits
 *   (framing.content-length.syntax), none with 204 (framing.content-length.204);
 * - `startResponse` once, again only with `excInfo` (start.once); `excInfo` is the
 *   caught value (exc.value), with an error status (exc.only-on-error), and the error
 *   `startResponse` throws back is not caught (exc.no-catch); the headers array is left
 *   alone afterwards (header.app-no-mutate); a response that produces body bytes has
 *   `Content-Type` (header.content-type);
 * - `write` takes one `Uint8Array` (write.args), only before the application returns
 *   (write.before-return), and its data is not modified afterwards (body.chunk.owned).
 *
 * The server, as it answers those calls: `startResponse` returns `write`
 * (start.signature), throws `excInfo` back once the headers are sent (exc.rethrow) and
 * not before (exc.replace), and leaves the headers array alone (header.server-no-mutate);
 * `write` returns a Promise (write.promise).
 *
 * The application is a function (app.callable). The body it returns: a body, not bytes,
 * a string or nothing (app.return, app.return.not-bytes, write.return-body), iterable
 * (body.iterable), with a `close` that is a function if any (body.close.function);
 * `Uint8Array` chunks (body.chunk.type) left alone once produced (body.chunk.owned);
 * `startResponse` called before the first data or the end (app.start-before-body); no
 * body for 204 or 304 (body.no-content); and exactly `Content-Length` bytes from body
 * and `write` together (framing.content-length.match).
 *
 * How the server consumes the body: the right iteration method, once
 * (body.iterate.protocol); one `next()` at a time (body.iterate.one-at-a-time); none
 * after the client left (disconnect.stop) or after `close()` (close.no-iterate-after);
 * for HEAD, no more after the first chunk (head.stop-early); no other property
 * (server.body.protocol-only); `return()` when it stops early (body.iterate.return);
 * `close()` exactly once (close.once; a body garbage-collected without it is reported
 * too), after it is done with the iterator (close.after-iteration), even when
 * `startResponse` was not called (server.invoke.start-not-assumed); chunks left
 * unmodified (body.chunk.server-no-mutate); an `Error` as the abort reason
 * (disconnect.reason).
 *
 * The streams: the application passes sizes as integers (input.args), uses no other
 * member and never closes them (streams.members), and writes only strings
 * (errors.text) ending lines with `\n` (errors.newline). The server's input stream
 * resolves in order (input.order) with `Uint8Array`s (input.bytes), honours `read`,
 * `read()`, `read(0)`, `readLine`, `readLines` and iteration (input.read, input.read.all,
 * input.read.zero, input.readline, input.readlines, input.iterate), resolves empty after
 * the end (input.end), gives no more than `CONTENT_LENGTH` (input.no-hang) and does not
 * end before it (input.truncated). Its error stream takes any string (errors.write,
 * errors.write-lines) and `flush()` returns a Promise (errors.flush).
 *
 * The file wrapper: the file has `read` (file.readable), the wrapper reads nothing before
 * the application returned (file.lazy), its body yields what successive reads gave
 * (file.iterate) and closes the file (file.close), and the server stops reading it at the
 * application's Content-Length (file.length).
 *
 * Middleware between two validators: it does not iterate the wrapped body before it
 * returns its own (mw.return-promptly), yields a chunk for each chunk it takes
 * (mw.pace), does not pass the wrapped body's chunks to `write` (mw.write-passthrough),
 * and its `close()` closes the wrapped body (mw.close-inner).
 *
 * Where a failed check goes: MUST and MUST NOT violations throw a `ValidationError`
 * from the call that found them. Environ and return-value checks throw from the
 * validated application's call; `startResponse`, `write`, stream and file-wrapper checks
 * throw into the application code that made the call (a server-side fault found there,
 * such as a read that resolved after the end, rejects that read); body checks throw from
 * the server's `next()`, array read or `close()` (or, for an array handed to the server
 * as it is, from the validated application's call). A violation the application catches
 * is thrown again at the server's next call into the validator, so a conforming server
 * always logs it. SHOULD and SHOULD NOT findings are `TsgiWarning`s, once per rule per
 * validator, or errors with `strict`. `onViolation` sees every finding first.
 *
 * A few costly checks of faults that lie in how a server or application is written, not
 * in one request (the environ's property descriptors, the garbage-collection watch for
 * unclosed bodies, and the comparison of the headers array with a copy), run on a
 * validator's first 256 exchanges, then on one in 256. A `tsgi.signal` that the server
 * creates on first read is read only when a check needs it.
 *
 * @example
 * ```ts
 * import { validator } from 'tsgi/validate';
 * import { serve } from 'tsgi/server';
 *
 * const app = validator((environ, startResponse) => {
 *   startResponse('200 OK', [['Content-Type', 'text/plain']]);
 *   return [new TextEncoder().encode('hello\n')];
 * });
 * const server = await serve(app, { port: 0 });
 * await server.close();
 * ```
 *
 * @module
 */
import { isUint8Array } from './_http.js';
import { wrapBody } from './_validate-body.js';
import { checkEnviron } from './_validate-environ.js';
import { Exchange, across } from './_validate-exchange.js';
import { Reporter, said, type ValidationError } from './_validate-report.js';
import { exchangeOf, wrapStreams } from './_validate-streams.js';
import type { Application, Environ, ResponseBody, StartResponse } from './types.js';

export { ValidationError } from './_validate-report.js';
export type { Side, ValidationErrorInit } from './_validate-report.js';

/** Options of {@link validator}. */
export interface ValidatorOptions {
  /** Throw SHOULD-level findings as `ValidationError`s instead of emitting warnings. Default `false`. */
  strict?: boolean | undefined;
  /**
   * Called with every finding, MUST and SHOULD alike, as soon as it is found and before it
   * is thrown or emitted: a test client can collect them even when a server swallows the
   * error. Exceptions it throws propagate.
   */
  onViolation?: ((error: ValidationError) => void) | undefined;
}

const APP = 'application';
const SERVER = 'server';

/**
 * Wraps `app` in checks of both sides of the TSGI contract. The result is an
 * application: hand it to any server, or wrap middleware in two of them (one outside,
 * one around the application it calls) to check the middleware's both sides.
 *
 * MUST-level violations throw {@link ValidationError}; SHOULD-level findings go to
 * `process.emitWarning` with type `'TsgiWarning'` and the requirement ID as `code`.
 *
 * @example
 * ```ts
 * import { validator, ValidationError } from 'tsgi/validate';
 *
 * const app = validator((environ, startResponse) => {
 *   startResponse('200', []); // no reason phrase: breaks status.format
 *   return [];
 * }, { onViolation: (error) => console.log(error.requirement, error.side) });
 * ```
 */
export function validator(app: Application, options: ValidatorOptions = {}): Application {
  const r = new Reporter(options);
  if (typeof app !== 'function') r.fail('app.callable', APP, 'the application must be a function', app);
  let running = 0;
  let serial = 0;

  return function validated(this: unknown, environ: Environ, startResponse: StartResponse) {
    if (this !== undefined || arguments.length !== 2) {
      r.fail('server.invoke.args', SERVER, 'the application must be called with two arguments and this undefined', [this, arguments.length], 'call app(environ, startResponse)');
    }
    const thorough = r.thorough();
    const signal = checkEnviron(r, environ, thorough);
    // This validator's own stand-in in the environ: a reused environ. Another validator's: one further out.
    const found = exchangeOf(environ);
    if (found?.r === r && found.environ === environ) {
      r.fail('server.invoke.fresh-environ', SERVER, 'each call must get a new environ object', said(`the environ of an earlier ${found.where}`));
    }
    if (typeof startResponse !== 'function') r.fail('start.signature', SERVER, 'startResponse must be a function', startResponse);
    const multithread = environ['tsgi.multithread'];
    if (running > 0 && (!multithread || serial > 0)) {
      r.fail('concurrency.multithread', SERVER, 'calls may overlap only when tsgi.multithread is true', running, 'set tsgi.multithread to true');
    }
    const ex = new Exchange(r, environ, startResponse, signal, found?.r === r ? undefined : found, thorough);
    // A lazily created signal is read only when needed; a thorough exchange checks it now.
    if (thorough) void ex.signal;
    wrapStreams(ex, environ);
    running++;
    if (!multithread) serial++;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      running--;
      if (!multithread) serial--;
      ex.returned = true;
    };
    return across(ex, () => app(environ, ex.startResponse), finish, (body) => accept(ex, body)) as ReturnType<Application>;
  };
}

/** Checks what the application returned, and wraps it. */
function accept(ex: Exchange, body: unknown): ResponseBody {
  try {
    checkReturn(ex, body);
    if (ex.rethrown) ex.fail('exc.no-catch', APP, 'the error startResponse threw back must propagate', body, 'do not catch it');
    ex.flush();
  } catch (error) {
    // The server never sees this body, so the validator is the server that closes it.
    const close = (body as { close?: unknown } | null | undefined)?.close;
    if (typeof close === 'function') {
      try {
        void Promise.resolve(close.call(body)).catch(() => {});
      } catch {
        // The violation is what the server needs to see.
      }
    }
    throw error;
  }
  return wrapBody(ex, body as ResponseBody);
}

function checkReturn(ex: Exchange, body: unknown): asserts body is ResponseBody {
  if (body === undefined || body === null) {
    if (ex.usedWrite) ex.fail('write.return-body', APP, 'an application that used write() must still return a body', body, 'return []');
    ex.fail('app.return.not-bytes', APP, 'the application must return a body', body, 'return an array of Uint8Array chunks, such as [bytes]');
  }
  if (typeof body === 'string' || isUint8Array(body) || ArrayBuffer.isView(body)) {
    ex.fail('app.return.not-bytes', APP, 'the body must be an iterable of chunks, not bytes or a string', body, 'return [bytes]');
  }
  if (typeof body !== 'object' && typeof body !== 'function') {
    ex.fail('app.return', APP, 'the application must return a body or a Promise of one', body);
  }
  const methods = body as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
  if (typeof methods[Symbol.asyncIterator] !== 'function' && typeof methods[Symbol.iterator] !== 'function') {
    ex.fail('body.iterable', APP, 'the body must be iterable or async iterable', body, typeof body === 'function' ? 'call the generator function' : undefined);
  }
  const close = (body as { close?: unknown }).close;
  if (close !== undefined && typeof close !== 'function') ex.fail('body.close.function', APP, "the body's close must be a function", close);
}
