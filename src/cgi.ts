/**
 * `runCgi(app)`: runs a TSGI application as a CGI/1.1 script (RFC 3875), as
 * `wsgiref.handlers.CGIHandler` runs a WSGI one. The web server starts the script once per
 * request; the request comes in through environment variables and standard input, and
 * the response goes out on standard output: a `Status:` line, the headers, a blank line,
 * the body. The gateway core does the rest, as for every TSGI server.
 *
 * @example
 * ```ts
 * // cgi-bin/app.ts, started by the web server through an executable wrapper such as
 * //   #!/bin/sh
 * //   exec node --import tsx /srv/app/cgi-bin/app.ts
 * import { runCgi } from 'tsgi/cgi';
 *
 * const outcome = await runCgi((environ, startResponse) => {
 *   startResponse('200 OK', [['Content-Type', 'text/plain']]);
 *   return [new TextEncoder().encode(`Hello, ${environ.REMOTE_ADDR}\n`)];
 * });
 * process.exitCode = outcome.completed ? 0 : 1;
 * ```
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { limitBody, type BodySource } from './_body-source.js';
import { createErrorStream, type TextSink } from './_errors.js';
import { DIGITS } from './_http.js';
import { createInputStream } from './_input.js';
import { runExchange, type OutgoingHead, type Outcome, type Transport } from './handler.js';
import { TSGI_VERSION } from './_keys.js';
import type { Application, Environ, ErrorStream } from './types.js';
import { guessScheme } from './util.js';

export type { Outcome } from './handler.js';

/**
 * Where a CGI script writes its response: `process.stdout`, or any Node `Writable`.
 *
 * @example
 * ```ts
 * import { PassThrough } from 'node:stream';
 * const stdout: CgiOutput = new PassThrough();
 * ```
 */
export interface CgiOutput {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  on(event: 'drain' | 'error' | 'close', listener: (error?: Error) => void): unknown;
  off(event: 'drain' | 'error' | 'close', listener: (error?: Error) => void): unknown;
}

/**
 * The request and the streams of a CGI script; each defaults to the process's own.
 *
 * @example
 * ```ts
 * const options: CgiOptions = {
 *   env: { REQUEST_METHOD: 'GET', SCRIPT_NAME: '/cgi-bin/app', PATH_INFO: '/', QUERY_STRING: '', SERVER_NAME: 'localhost', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1' },
 *   stdin: [],
 * };
 * ```
 */
export interface CgiOptions {
  /**
   * The CGI variables, as Node's `process.env` holds them: text decoded from UTF-8, which
   * `runCgi` turns back into byte strings. Default: `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** The request body; only `CONTENT_LENGTH` bytes of it are read. Default: `process.stdin`. */
  stdin?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Where the response goes. Default: `process.stdout`. */
  stdout?: CgiOutput;
  /** Where `tsgi.errors` writes. Default: `process.stderr`. */
  stderr?: TextSink;
}

/**
 * The variables of RFC 3875 (section 4.1) and those that web servers commonly add for the
 * request, besides `HTTP_*`, and `SSL_*` for a request over TLS. Everything else in the
 * environment (PATH, HOME, SSL_CERT_FILE, the variables of a server that copies its own
 * environment) is the process's, not the request's (`env.no-process-env`).
 */
const REQUEST_VARIABLES: ReadonlySet<string> = new Set([
  'AUTH_TYPE',
  'CONTENT_LENGTH',
  'CONTENT_TYPE',
  'GATEWAY_INTERFACE',
  'PATH_INFO',
  'PATH_TRANSLATED',
  'QUERY_STRING',
  'REMOTE_ADDR',
  'REMOTE_HOST',
  'REMOTE_IDENT',
  'REMOTE_USER',
  'REQUEST_METHOD',
  'SCRIPT_NAME',
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_PROTOCOL',
  'SERVER_SOFTWARE',
  'REMOTE_PORT',
  'REQUEST_URI',
  'REQUEST_SCHEME',
  'HTTPS',
  'SERVER_ADDR',
]);
/** Present even when empty (`env.script-name`, `env.path-info`, `env.query-string`). */
const ALWAYS = ['SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING'] as const;
const HEADER_VARIABLE = /^HTTP_[A-Z0-9_]+$/;
const TLS_VARIABLE = /^SSL_[A-Z0-9_]+$/;
/** OpenSSL's own configuration, found in many process environments: not the connection's (mod_ssl's SSL_*). */
const OPENSSL_CONFIG = new Set(['SSL_CERT_FILE', 'SSL_CERT_DIR']);
const ASCII = /^[\x00-\x7f]*$/;
const NO_BODY: Uint8Array[] = [];

/**
 * Runs `app` for the one request of a CGI invocation, and resolves with the outcome once
 * the response has been written and flushed. The environ holds the request's CGI
 * variables only, as byte strings; `tsgi.run_once` is true, `tsgi.multiprocess` true and
 * `tsgi.multithread` false. `tsgi.input` reads `CONTENT_LENGTH` bytes of stdin, never
 * more. The response is a `Status:` line and the headers, then the body, on stdout; no
 * `Date`, which the web server adds (`header.date`). Application errors go to stderr,
 * which web servers put in their error log. `tsgi.signal` aborts when stdout fails (the
 * web server closed the pipe).
 *
 * It neither ends stdout nor exits the process: the script does, and can set its exit
 * status from `outcome.completed`, since an application error after the headers can only
 * show as a truncated body, and only when the response declared its `Content-Length`.
 *
 * @example
 * ```ts
 * import { PassThrough } from 'node:stream';
 * import { runCgi } from 'tsgi/cgi';
 *
 * const stdout = new PassThrough();
 * const outcome = await runCgi(
 *   async (environ, startResponse) => {
 *     const body = await environ['tsgi.input'].read();
 *     startResponse('201 Created', [['Content-Type', 'text/plain']]);
 *     return [body];
 *   },
 *   {
 *     env: { REQUEST_METHOD: 'POST', SCRIPT_NAME: '/cgi-bin/app', PATH_INFO: '/notes', QUERY_STRING: '', CONTENT_LENGTH: '5', SERVER_NAME: 'example.com', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '192.0.2.1' },
 *     stdin: [new TextEncoder().encode('hello, and more than CONTENT_LENGTH')],
 *     stdout,
 *   },
 * );
 * stdout.read().toString(); // 'Status: 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello'
 * outcome.completed;        // true
 * ```
 */
export async function runCgi(app: Application, options: CgiOptions = {}): Promise<Outcome> {
  const env = options.env ?? process.env;
  const errors = createErrorStream(options.stderr ?? process.stderr);
  const transport = new CgiTransport(options.stdout ?? process.stdout, errors);
  const environ = cgiEnviron(env, env === process.env ? rawProcessEnvironment : noRawEnvironment);
  const length = environ.CONTENT_LENGTH === undefined ? 0 : Number(environ.CONTENT_LENGTH);
  // stdin is touched only for a body: an idle stdin must not keep the script alive.
  const body: BodySource | undefined = length > 0 ? limitBody(options.stdin ?? process.stdin, length) : undefined;
  Object.assign(environ, {
    'tsgi.version': TSGI_VERSION,
    'tsgi.url_scheme': guessScheme(environ),
    'tsgi.input': createInputStream(body ?? NO_BODY),
    'tsgi.errors': errors,
    'tsgi.multithread': false,
    'tsgi.multiprocess': true,
    'tsgi.run_once': true,
    'tsgi.input_terminated': true,
    'tsgi.signal': transport.signal,
  });
  transport.method = environ.REQUEST_METHOD;
  transport.target = environ.REQUEST_URI ?? environ.SCRIPT_NAME + environ.PATH_INFO;
  try {
    return await runExchange(app, environ, transport);
  } finally {
    // The rest of stdin is nobody's (RFC 3875 lets the server send more than the body).
    await body?.release().catch(() => {});
    await transport.finished();
  }
}

/**
 * The environ's CGI variables: the request's variables of `env` as byte strings, empty
 * ones left out (RFC 3875 makes a zero-length value the same as an unset one, and some
 * servers set the variables of absent headers to ''), and the required ones filled in
 * when the script was started by hand rather than by a web server.
 */
function cgiEnviron(env: Readonly<Record<string, string | undefined>>, raw: (name: string) => Buffer | undefined): Environ {
  const environ: Record<string, string> = {};
  const tls = guessScheme(env) === 'https';
  for (const name of Object.keys(env)) {
    if (!REQUEST_VARIABLES.has(name) && !HEADER_VARIABLE.test(name) && !(tls && TLS_VARIABLE.test(name) && !OPENSSL_CONFIG.has(name))) continue;
    const value = env[name];
    if (value === undefined || value === '') continue;
    environ[name] = byteString(value, name, raw);
  }
  for (const name of ALWAYS) environ[name] ??= '';
  // The server has removed any transfer coding and declared the length (RFC 3875, 4.1.2).
  delete environ.HTTP_TRANSFER_ENCODING;
  delete environ.HTTP_CONTENT_TYPE;
  delete environ.HTTP_CONTENT_LENGTH;
  if (environ.CONTENT_LENGTH !== undefined && !DIGITS.test(environ.CONTENT_LENGTH)) delete environ.CONTENT_LENGTH;
  if (environ.SCRIPT_NAME === '/') {
    environ.SCRIPT_NAME = ''; // env.script-name.not-slash: the root's slash belongs to PATH_INFO
    environ.PATH_INFO = `/${(environ.PATH_INFO ?? '').replace(/^\//, '')}`;
  }
  if (environ.SCRIPT_NAME === '' && environ.PATH_INFO === '') environ.PATH_INFO = '/';
  environ.REQUEST_METHOD ??= 'GET';
  environ.SERVER_PROTOCOL ??= 'HTTP/1.0';
  environ.SERVER_NAME ??= 'localhost';
  environ.SERVER_PORT ??= guessScheme(environ) === 'https' ? '443' : '80';
  environ.REMOTE_ADDR ??= '127.0.0.1';
  return environ as unknown as Environ;
}

/**
 * A variable's value as a byte string. Node decodes the environment as UTF-8, so encoding
 * it again gives the octets back, except where they were not UTF-8 (a server passes
 * `PATH_INFO` as the client's percent-decoded octets): those became U+FFFD, and the
 * octets are then taken from the raw environment when the process has one to read.
 */
function byteString(value: string, name: string, raw: (name: string) => Buffer | undefined): string {
  if (ASCII.test(value)) return value;
  if (value.includes('\ufffd')) {
    const octets = raw(name);
    if (octets && octets.toString('utf8') === value) return octets.toString('latin1');
  }
  return Buffer.from(value, 'utf8').toString('latin1');
}

let rawEnvironment: Map<string, Buffer> | undefined;

/** The environment the process started with, as octets (Linux's /proc/self/environ). */
function rawProcessEnvironment(name: string): Buffer | undefined {
  if (!rawEnvironment) {
    rawEnvironment = new Map();
    let data: Buffer;
    try {
      data = readFileSync('/proc/self/environ');
    } catch {
      return undefined; // not Linux: the re-encoded value is the best there is
    }
    for (let start = 0; start < data.length; ) {
      let end = data.indexOf(0, start);
      if (end < 0) end = data.length;
      const equals = data.indexOf(0x3d, start);
      if (equals > start && equals < end) rawEnvironment.set(data.toString('latin1', start, equals), data.subarray(equals + 1, end));
      start = end + 1;
    }
  }
  return rawEnvironment.get(name);
}

function noRawEnvironment(): undefined {
  return undefined;
}

/** The CGI transport: the head as a `Status:` line and header lines, then the body, on stdout. */
class CgiTransport implements Transport {
  method = 'GET';
  target = '';
  readonly errors: ErrorStream;
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #out: CgiOutput;
  #listening = true;

  constructor(out: CgiOutput, errors: ErrorStream) {
    this.#out = out;
    this.errors = errors;
    this.signal = this.#controller.signal;
    out.on('error', this.#gone);
    out.on('close', this.#gone);
  }

  /** stdout failed or closed under us: the web server, and so the client, has gone (`disconnect.signal`). */
  readonly #gone = (error?: Error): void => {
    // Once the whole response is written, a closing stdout is no disconnect (disconnect.no-false-abort).
    if (!this.#listening) return;
    const reason = new Error('standard output closed before the response was complete', { cause: error });
    this.#controller.abort(reason);
  };

  sendHead(head: OutgoingHead): void {
    // RFC 3875, section 6.3.3: the status as a header; the server writes the status line.
    let text = `Status: ${head.code} ${head.reason}\r\n`;
    for (const [name, value] of head.headers) text += `${name}: ${value}\r\n`;
    this.#out.write(Buffer.from(`${text}\r\n`, 'latin1'));
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    if (this.#out.write(chunk)) return undefined;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.#out.off('drain', done);
        this.signal.removeEventListener('abort', done);
        if (this.signal.aborted) reject(this.signal.reason);
        else resolve();
      };
      this.#out.on('drain', done);
      this.signal.addEventListener('abort', done);
    });
  }

  end(last?: Uint8Array): void {
    if (this.signal.aborted) return;
    if (last) this.#out.write(last);
    this.#listening = false;
  }

  abort(): void {
    // Nothing more is written. A web server can tell a truncated body only by its
    // Content-Length; runCgi's outcome tells the script the rest.
  }

  /** Resolves once everything written has been flushed (or could not be). */
  finished(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.signal.aborted) return resolve();
      this.#out.write(new Uint8Array(0), () => resolve());
    }).finally(() => {
      this.#listening = false;
      this.#out.off('error', this.#gone);
      this.#out.off('close', this.#gone);
    });
  }
}
